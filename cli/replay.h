// Wires one input through reader and model into an InputReport.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "cli/run_parts.h"
#include "model/model.h"
#include "render/report.h"
#include "trace/reader.h"

namespace refctrace::cli {

// Findings kept per input (about 1.6 KiB each, more with long histories);
// past it the replay stops with an error (docs/hardening.md).
inline constexpr size_t kDefaultMaxFindings = 100'000;

// Looks at the model from inside a replay, between events. The fuzzer checks
// the model's invariants with it after every event; the tool uses none.
class ReplayWatcher {
 public:
  virtual ~ReplayWatcher() = default;
  // After `event` was applied, before the replay checks its limits.
  virtual void AfterEvent(const model::Model& model, const trace::Event& event) = 0;
  // After the end-of-input pass; not called when the input ended in an error.
  virtual void AfterFinish(const model::Model& model) = 0;
};

struct ReplayOptions {
  model::ModelOptions model;
  // More findings than this in one input cut it short with an error.
  size_t max_findings = kDefaultMaxFindings;
  // When set, sees every step of every incarnation (graph, show).
  model::LifetimeObserver* observer = nullptr;
  ReplayWatcher* watcher = nullptr;
};

// A model limit (ModelOptions::max_live) or more than `max_findings`
// findings cuts the input short with an error, as malformed input does.
// `path` "-" is standard input.
render::InputReport ReplayInput(const std::string& path, const ReplayOptions& options);

// The same for a reader the caller opened (from memory, in tests and the
// fuzzer); `path` names the input in the report. A part of a run (trace format 1.5) is refused
// with an input error: its run's other parts are replayed with it by ReplayPlanned.
render::InputReport ReplayReader(trace::TraceReader& reader, const std::string& path,
                                 const ReplayOptions& options);

// Replays a plan (cli/run_parts.h): one trace as ReplayInput does, or a run's parts as one
// stream, the model's state carried from each part to the next and the end-of-input pass only
// after the last (trace format 1.5). One report per reported file, in the plan's order; each
// finding is in the report of the file holding its anchor event (for a leak: where the binary
// was made), with that file's event index and line.
std::vector<render::InputReport> ReplayPlanned(const ReplayPlan& plan,
                                               const ReplayOptions& options);

}  // namespace refctrace::cli
