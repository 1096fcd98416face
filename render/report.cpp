#include "render/report.h"

namespace refctrace::render {

Totals ComputeTotals(const std::vector<InputReport>& inputs) {
  Totals t;
  for (const InputReport& input : inputs) {
    for (const model::Finding& f : input.findings) {
      if (f.severity == model::Severity::kError) ++t.errors;
      if (f.severity == model::Severity::kWarning) ++t.warnings;
    }
    t.binaries += input.stats.binaries;
    t.leaked_bytes += input.stats.leaked_bytes;
    t.held_by_processes += input.stats.held_by_processes;
    t.events += input.events;
    if (input.error) ++t.input_errors;
  }
  return t;
}

}  // namespace refctrace::render
