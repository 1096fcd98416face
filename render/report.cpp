#include "render/report.h"

#include "model/wording.h"

namespace refctrace::render {

namespace {

// The figures the warning is about: a part's run's, else the input's own.
const model::ModelStats* JudgedStats(const InputReport& input) {
  if (!input.header.IsPart()) return &input.stats;
  return input.run_stats ? &*input.run_stats : nullptr;
}

}  // namespace

bool DriverUnrecorded(const InputReport& input) {
  const model::ModelStats* stats = JudgedStats(input);
  return input.complete && stats && stats->driver_events == 0 && stats->nif_events == 0 &&
         stats->process_events != 0;
}

std::string DriverUnrecordedText(const InputReport& input) {
  const model::ModelStats* stats = JudgedStats(input);
  const uint64_t events = stats ? stats->events : input.stats.events;
  return "no driver event in " + model::Plural(events, "event") +
         (input.header.IsPart() ? " of run " + input.header.run : std::string()) +
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
  t.held_by_nif = input.stats.held_by_nif;
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
    sum.held_by_nif += t.held_by_nif;
    sum.input_errors += t.input_errors;
    sum.events += t.events;
    sum.suppressed += t.suppressed;
    sum.baselined += t.baselined;
    sum.unrecorded_driver += t.unrecorded_driver;
  }
  return sum;
}

}  // namespace refctrace::render
