// A baseline: the findings of an earlier `check --format json` run (or a file
// written by `--write-baseline`, which is the same). With a baseline, `check`
// reports only findings whose fingerprint the baseline does not have, so a
// team can adopt refctrace on a legacy driver and fail only on new bugs.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "model/finding.h"

namespace refctrace::triage {

struct BaselineError {
  std::string message;  // includes the position when there is one
};

class Baseline {
 public:
  // Parses an output-v1 JSON document whose diagnostics carry `fingerprint`.
  std::optional<BaselineError> Parse(std::string_view json);

  bool Contains(const model::Finding& finding) const;
  size_t size() const { return fingerprints_.size(); }

 private:
  std::set<std::string, std::less<>> fingerprints_;
};

std::optional<BaselineError> LoadBaseline(const std::string& path, Baseline* into);

}  // namespace refctrace::triage
