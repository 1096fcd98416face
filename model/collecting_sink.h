// A FindingSink that keeps findings and sorts them into report order.
#pragma once

#include <algorithm>
#include <vector>

#include "model/finding.h"

namespace refctrace::model {

class CollectingSink : public FindingSink {
 public:
  void OnFinding(Finding finding) override { findings_.push_back(std::move(finding)); }

  // Report order (output-v1): anchor event, then code name; the id breaks
  // the remaining ties so the order never depends on discovery order.
  std::vector<Finding> TakeSorted() {
    std::stable_sort(findings_.begin(), findings_.end(), [](const Finding& a, const Finding& b) {
      if (a.event != b.event) return a.event < b.event;
      if (a.code != b.code) return CodeName(a.code) < CodeName(b.code);
      return a.bin < b.bin;
    });
    return std::move(findings_);
  }

 private:
  std::vector<Finding> findings_;
};

}  // namespace refctrace::model
