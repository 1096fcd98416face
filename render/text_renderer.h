// Compiler-style text: one diagnostic per finding with the binary's history
// as notes, input errors with a caret, and a one-line summary.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "model/finding.h"
#include "render/report.h"
#include "trace/input_error.h"

namespace refctrace::render {

struct TextStyle {
  bool color = false;
};

// All findings of one input.
void RenderTextFindings(const InputReport& input, const TextStyle& style, std::ostream& out);
// `path:line:column: error: message`, then the offending text and a caret.
void RenderInputError(const std::string& path, const trace::InputError& error,
                      const TextStyle& style, std::ostream& out);
void RenderTextSummary(const Totals& totals, size_t inputs, const TextStyle& style,
                       std::ostream& out);
// One line per input when several are checked: "refctrace: a.ndjson: 1 error, ...".
void RenderTextInputSummary(const InputReport& input, const TextStyle& style, std::ostream& out);
// A run's parts (trace format 1.5), one line per test case: "  CASE: ok (PATH)" or its errors
// and warnings, after a line naming the run.
void RenderTextRunCases(const std::vector<InputReport>& parts, const TextStyle& style,
                        std::ostream& out);
// "refctrace: suppression FILE:LINE "RULE" matched N findings", for rules that matched.
void RenderSuppressionUses(const std::vector<SuppressionUse>& uses, const TextStyle& style,
                           std::ostream& out);
// One history step in words (model::DescribeStep), then where and the count
// after it: "output to <0.85.0> at my_drv.c:97 (event 13, refc 2)".
std::string DescribeStepWithCount(const model::Step& step);

}  // namespace refctrace::render
