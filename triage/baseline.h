// A baseline: the findings of an earlier `check --format json` run (or a file
// written by `--write-baseline`, which is the same). With a baseline, `check`
// reports only findings the baseline does not account for, so a team can
// adopt refctrace on a legacy driver and fail only on new bugs. Findings are
// matched per fingerprint with counts: a baseline with one finding of a
// fingerprint absorbs one finding of it per run, and a second one is new.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "model/finding.h"
#include "trace/input_error.h"

namespace refctrace::triage {

class Baseline {
 public:
  // Parses an output-v1 JSON document whose diagnostics carry `fingerprint`
  // of this refctrace's fingerprint version. A JSON syntax error has its
  // line and column; its message keeps the JSON parser's own sentence, which
  // names them too.
  trace::MaybeError Parse(std::string_view json);

  // True when the baseline still has an unmatched finding with this
  // finding's fingerprint; that one is then used up. Call it once per
  // finding, in report order, so the same findings are new on every run.
  bool Absorb(const model::Finding& finding);
  // Findings the baseline holds (not yet absorbed).
  uint64_t size() const { return size_; }

 private:
  std::map<std::string, uint64_t, std::less<>> remaining_;  // fingerprint -> count
  uint64_t size_ = 0;
};

// Errors name `path` as their file.
trace::MaybeError LoadBaseline(const std::string& path, Baseline* into);

}  // namespace refctrace::triage
