#include "render/report.h"

namespace refctrace::render {

Totals InputTotals(const InputReport& input) {
  Totals t;
  for (const model::Finding& f : input.findings) {
    if (f.severity == model::Severity::kError) ++t.errors;
    if (f.severity == model::Severity::kWarning) ++t.warnings;
  }
  t.binaries = input.stats.binaries;
  t.leaked_bytes = input.stats.leaked_bytes;
  t.held_by_processes = input.stats.held_by_processes;
  t.events = input.events;
  t.input_errors = input.error ? 1 : 0;
  t.suppressed = input.suppressed;
  t.baselined = input.baselined;
  return t;
}

Totals ComputeTotals(const std::vector<InputReport>& inputs) {
  Totals sum;
  for (const InputReport& input : inputs) {
    const Totals t = InputTotals(input);
    sum.errors += t.errors;
    sum.warnings += t.warnings;
    sum.binaries += t.binaries;
    sum.leaked_bytes += t.leaked_bytes;
    sum.held_by_processes += t.held_by_processes;
    sum.input_errors += t.input_errors;
    sum.events += t.events;
    sum.suppressed += t.suppressed;
    sum.baselined += t.baselined;
  }
  return sum;
}

}  // namespace refctrace::render
