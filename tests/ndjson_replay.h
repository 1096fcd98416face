// Replays NDJSON text through the real reader and the model, checking the
// model's invariants after every event: what the NIF tests (minimal traces
// and generated ones) share.
#pragma once

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "model/collecting_sink.h"
#include "model/model.h"
#include "trace/reader.h"

namespace refctrace::model {

struct ReplayRun {
  std::vector<Finding> findings;  // in report order
  ModelStats stats;
  std::string error;  // the reader's, "line:column: message"
};

// Replays NDJSON lines (no header).
inline ReplayRun ReplayNdjson(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines)
    text += line + "\n";
  CollectingSink sink;
  Model model(&sink);
  auto reader = trace::TraceReader::FromString(text);
  trace::Event e;
  trace::ReadStatus status;
  ReplayRun run;
  while ((status = reader->Next(&e)) == trace::ReadStatus::kEvent) {
    model.Apply(e);
    const auto broken = model.CheckInvariants();
    REQUIRE_FALSE(broken.has_value());
  }
  if (status == trace::ReadStatus::kError) {
    const auto& err = reader->error();
    run.error = std::to_string(err.line) + ":" + std::to_string(err.column) + ": " + err.message;
    return run;
  }
  model.Finish();
  run.findings = sink.TakeSorted();
  run.stats = model.Stats();
  return run;
}

// "code@event kind id; " per finding.
inline std::string FindingCodes(const ReplayRun& run) {
  std::string s;
  for (const Finding& f : run.findings) {
    s += std::string(CodeName(f.code)) + "@" + std::to_string(f.event) + " " +
         std::string(ObjectKindName(f.object)) + " " + f.bin.ToDisplay() + "; ";
  }
  return s;
}

}  // namespace refctrace::model
