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
// Every field of an event, so that two reads can be compared whole.
inline std::string EventText(const trace::Event& e) {
  auto opt = [](const auto& v) { return v ? std::to_string(*v) : std::string("-"); };
  std::string out =
      std::string(trace::OpName(e.op)) + " " + e.bin.ToDisplay() + " " + e.new_bin.ToDisplay() +
      " " + std::string(e.EffectiveActor()) + " " + e.to + " size=" + opt(e.size) +
      " refc=" + opt(e.refc) + " count=" + std::to_string(e.count) +
      " flags=" + std::to_string(e.copied) + std::to_string(e.gathered) + std::to_string(e.copy) +
      std::to_string(e.callback) + std::to_string(e.write) + std::to_string(e.readonly) +
      std::to_string(e.failed) + " task=" + std::to_string(e.task) + " port=" + e.port +
      " from=" + e.from + " env=" + e.env.ToDisplay() + " res=" + e.res.ToDisplay() +
      " data=" + e.data.ToDisplay() + " rtype=" + e.rtype + " nif=" + e.nif + " in=" + e.in +
      " t=" + opt(e.t) + " seq=" + opt(e.seq) + " src=" + e.src + " func=" + e.func +
      " note=" + e.note + " among=";
  for (const trace::BinId& id : e.among)
    out += id.ToDisplay() + ",";
  out += " stack=";
  for (const std::string& frame : e.stack)
    out += frame + ",";
  return out;
}

// `fresh`: a new Event for every Next(), instead of one reused as a replay reuses it; the
// two must read the same (docs/decisions.md 223).
inline std::string Transcript(trace::TraceReader& reader, bool fresh = false) {
  std::string out;
  trace::Event event;
  for (;;) {
    if (fresh) event = trace::Event{};
    const trace::ReadStatus status = reader.Next(&event);
    if (status == trace::ReadStatus::kEvent) {
      out += EventText(event) + " @" + std::to_string(event.pos.index) + ":" +
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
