// Helpers shared by the fuzz targets: drain a reader into a comparable
// transcript, and stop the process loudly when an oracle fails.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

#include "trace/reader.h"

namespace refctrace::fuzz {

// libFuzzer reports an abort() as a crash and keeps the input.
[[noreturn]] inline void Fail(const std::string& what) {
  std::fprintf(stderr, "fuzz oracle failed: %s\n", what.c_str());
  std::abort();
}

// Everything the reader delivered, one line per event, then how it ended.
// Two readers of the same bytes must produce the same transcript.
inline std::string Transcript(trace::TraceReader& reader) {
  std::string out;
  trace::Event event;
  for (;;) {
    const trace::ReadStatus status = reader.Next(&event);
    if (status == trace::ReadStatus::kEvent) {
      out += std::string(trace::OpName(event.op)) + " " + event.bin.ToDisplay() + " " +
             event.new_bin.ToDisplay() + " " + std::string(event.EffectiveActor()) + " " +
             event.to + " @" + std::to_string(event.pos.index) + ":" +
             std::to_string(event.pos.line) + ":" + std::to_string(event.pos.column) + "\n";
      continue;
    }
    if (status == trace::ReadStatus::kEnd) return out + "end\n";
    const trace::InputError& e = reader.error();
    // Only Next() after an error must keep returning kError.
    if (reader.Next(&event) != trace::ReadStatus::kError) Fail("Next() after an error");
    return out + "error " + std::to_string(e.line) + ":" + std::to_string(e.column) + " " +
           e.message + "\n";
  }
}

}  // namespace refctrace::fuzz
