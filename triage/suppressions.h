// Suppression rules, in the spirit of LSan's and Valgrind's: a file of known
// findings that `check` should not report. One rule per line:
//
//   # a comment
//   leak  src=third_party/*            # code, then conditions
//   double-free frame=legacy_pool_*
//   *  src=*/compat.c:*  frame=compat_*
//
// The first word is a diagnostic code or `*`. `src=GLOB` matches the
// anchor event's `src` (for a leak, the alloc that started the binary);
// `frame=GLOB` matches any frame of the anchor's `stack`. All conditions of a
// rule must hold. Globs are fnmatch(3) patterns where `*` also crosses '/'.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/diagnostic_code.h"
#include "model/finding.h"
#include "trace/input_error.h"

namespace refctrace::triage {

struct SuppressionRule {
  std::string file;  // where it was written, for the report
  uint64_t line = 0;
  std::string text;                 // the rule as written, without comment
  std::optional<model::Code> code;  // empty: any code
  std::optional<std::string> src_glob;
  std::optional<std::string> frame_glob;
  uint64_t matched = 0;
};

class Suppressions {
 public:
  // Adds the rules in `content` (read from `file`). On an error (with file,
  // line and column) nothing of that file is added.
  trace::MaybeError Parse(const std::string& file, std::string_view content);

  // The first rule that matches, counting the match; nullptr if none.
  const SuppressionRule* Match(const model::Finding& finding);

  const std::vector<SuppressionRule>& rules() const { return rules_; }
  bool empty() const { return rules_.empty(); }

 private:
  std::vector<SuppressionRule> rules_;
};

// Reads and parses a suppressions file.
trace::MaybeError LoadSuppressions(const std::string& path, Suppressions* into);

}  // namespace refctrace::triage
