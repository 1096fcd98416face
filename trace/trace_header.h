// What a trace's header says about the recording it belongs to (trace format 1.5): a recording
// cut into several files ("parts") names its run, each file's place in it and the test case
// the file records. The reader checks these fields (trace/header_fields.h); cli/run_parts puts
// a run's files together.
#pragma once

#include <cstdint>
#include <string>

namespace refctrace::trace {

struct TraceHeader {
  std::string run;        // empty: the trace is a whole recording, not a part of a run
  uint64_t part = 0;      // 0-based place in the run; meaningful only with `run`
  std::string case_name;  // the test case (or suite phase) recorded; empty: not named
  // Where the header object starts (1-based); 0 when the trace has no header.
  uint64_t line = 0;
  uint64_t column = 0;

  bool IsPart() const { return !run.empty(); }
};

}  // namespace refctrace::trace
