// A FindingSink that keeps findings and sorts them into report order.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "model/finding.h"

namespace refctrace::model {

class CollectingSink : public FindingSink {
 public:
  // Keeps at most `max_findings` (0: all); the rest are only counted, so a
  // trace with millions of findings cannot exhaust memory.
  explicit CollectingSink(size_t max_findings = 0) : max_findings_(max_findings) {}

  void OnFinding(Finding finding) override {
    if (max_findings_ && findings_.size() >= max_findings_) {
      ++dropped_;
      return;
    }
    findings_.push_back(std::move(finding));
  }
  // Findings not kept because of max_findings.
  uint64_t dropped() const { return dropped_; }

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
  size_t max_findings_ = 0;
  uint64_t dropped_ = 0;
  std::vector<Finding> findings_;
};

}  // namespace refctrace::model
