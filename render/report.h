// What a `check` run found, per input: the data every renderer reads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/finding.h"
#include "model/model.h"
#include "trace/input_error.h"
#include "trace/trace_header.h"

namespace refctrace::render {

struct InputReport {
  std::string path;  // as given on the command line; "-" for stdin
  uint64_t events = 0;
  bool complete = true;  // false when an input error cut it short
  std::optional<trace::InputError> error;
  std::vector<model::Finding> findings;  // reported, in report order
  uint64_t suppressed = 0;               // findings a suppression rule removed
  uint64_t baselined = 0;                // findings removed because the baseline has them
  model::ModelStats stats;
  // What the trace's header says about its run and test case (trace format 1.5). For a part of
  // a run, `events` and the counters in `stats` are the part's own; what a run holds at its
  // end (held, uncertain, live) is on its last part, and `run_stats` there has the whole run's
  // figures.
  trace::TraceHeader header;
  std::optional<model::ModelStats> run_stats;
};

// How one suppression rule fared over the whole run.
struct SuppressionUse {
  std::string file;
  uint64_t line = 0;
  std::string rule;  // as written
  uint64_t matched = 0;
};

// Everything one `check` run reports.
struct RunReport {
  std::vector<InputReport> inputs;           // in argument order
  std::vector<SuppressionUse> suppressions;  // empty when none were loaded
};

struct Totals {
  uint64_t errors = 0;
  uint64_t warnings = 0;
  uint64_t binaries = 0;
  uint64_t leaked_bytes = 0;
  uint64_t held_by_processes = 0;
  uint64_t uncertain_end = 0;  // live binaries a process may have released (model 1.3)
  uint64_t held_by_nif = 0;    // NIF objects the library still referenced at exit (1.6)
  uint64_t input_errors = 0;
  uint64_t events = 0;
  uint64_t suppressed = 0;
  uint64_t baselined = 0;
  uint64_t unrecorded_driver = 0;  // inputs with process events and no driver event
};

// An input read to its end that has process events and not one driver event:
// it passes with no finding, yet says nothing about the driver, whose calls
// were not recorded. A warning about the input, counted with the warnings.
bool DriverUnrecorded(const InputReport& input);
// For a part of a run, the run is judged, once, on its last part.
// The sentence every format uses for it (without the input's name).
std::string DriverUnrecordedText(const InputReport& input);

Totals InputTotals(const InputReport& input);
Totals ComputeTotals(const std::vector<InputReport>& inputs);

}  // namespace refctrace::render
