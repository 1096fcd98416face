// Puts the parts of a run together (trace format 1.5, docs/spec/trace-format.md "Parts"):
// which files are replayed as one stream and in which order, which of them the user asked
// about, and what stops a run from being replayed (a missing or duplicated part).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "trace/input_error.h"
#include "trace/trace_header.h"

namespace refctrace::cli {

struct ReplayFile {
  std::string path;
  trace::TraceHeader header;  // as read before the replay; empty for a trace that is no part
  // Named by the user (or found in a directory they named): its findings are reported. False
  // for a part found beside a named one, replayed only for the state it leaves.
  bool reported = true;
  bool replayed = true;  // false: an earlier part is missing or duplicated
  // Reported with this file: why it (or the run after it) could not be replayed.
  std::optional<trace::InputError> error;
};

// One job of `check`: a trace that is no part of a run, or a run's parts in part order.
struct ReplayPlan {
  std::vector<ReplayFile> files;
  bool run = false;
  // The run's end is known (every part up to the highest found was replayable): its
  // end-of-input pass runs after its last part.
  bool finish = true;
};

// Groups `paths` (check's expanded arguments, in order) into plans, in the order of each
// plan's first named file. A part named without all of its run is completed from the traces
// beside it (same directory), which are replayed and not reported. Standard input and pipes
// are never looked into before their replay: a part read from one is refused then
// (ReplayReader).
std::vector<ReplayPlan> PlanReplays(const std::vector<std::string>& paths);

// The header of the trace at `path`, read without replaying it; empty when the file cannot be
// read or its header is malformed (its replay reports why).
trace::TraceHeader ReadTraceHeader(const std::string& path);

}  // namespace refctrace::cli
