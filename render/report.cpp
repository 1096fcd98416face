#include "render/report.h"

#include "model/wording.h"

namespace refctrace::render {

bool DriverUnrecorded(const InputReport& input) {
  return input.complete && input.stats.driver_events == 0 && input.stats.nif_events == 0 &&
         input.stats.process_events != 0;
}

std::string DriverUnrecordedText(const InputReport& input) {
  return "no driver event in " + model::Plural(input.stats.events, "event") +
         ": the driver's calls were not recorded (build the driver with -DREFCTRACE and include "
         "refctrace_recorder.h in every file that calls erl_driver's binary functions)";
}

Totals InputTotals(const InputReport& input) {
  Totals t;
  for (const model::Finding& f : input.findings) {
    if (f.severity == model::Severity::kError) ++t.errors;
    if (f.severity == model::Severity::kWarning) ++t.warnings;
  }
  t.binaries = input.stats.binaries;
  t.leaked_bytes = input.stats.leaked_bytes;
  t.held_by_processes = input.stats.held_by_processes;
  t.uncertain_end = input.stats.uncertain_end;
  t.events = input.events;
  t.input_errors = input.error ? 1 : 0;
  t.suppressed = input.suppressed;
  t.baselined = input.baselined;
  t.unrecorded_driver = DriverUnrecorded(input) ? 1 : 0;
  t.warnings += t.unrecorded_driver;
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
    sum.uncertain_end += t.uncertain_end;
    sum.input_errors += t.input_errors;
    sum.events += t.events;
    sum.suppressed += t.suppressed;
    sum.baselined += t.baselined;
    sum.unrecorded_driver += t.unrecorded_driver;
  }
  return sum;
}

}  // namespace refctrace::render
