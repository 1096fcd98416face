// Hand-built findings shared by the renderer and triage tests: no reader, no
// model, so each test states exactly what it feeds.
#pragma once

#include <string>
#include <utility>

#include "model/finding.h"
#include "render/report.h"

namespace refctrace::render {

using model::Code;
using model::Finding;
using model::Severity;
using model::Step;
using trace::BinId;
using trace::Op;

inline Step MakeStep(uint64_t event, Op op, int64_t refc, std::string actor = "driver",
                     std::string to = "", std::string src = "") {
  Step s;
  s.event = event;
  s.line = event + 2;
  s.op = op;
  s.refc = refc;
  s.actor = std::move(actor);
  s.to = std::move(to);
  s.src = std::move(src);
  return s;
}

inline Finding DoubleFree() {
  Finding f;
  f.code = Code::kDoubleFree;
  f.severity = Severity::kError;
  f.bin = BinId::Str("0x7f3a10");
  f.incarnation = 2;
  f.event = 17;
  f.line = 19;
  f.actor = "driver";
  f.src = "my_drv.c:98";
  f.message = "driver released a reference it does not hold (driver holds 0; <0.85.0> holds 1)";
  f.history = {MakeStep(12, Op::kAlloc, 1, "driver", "", "my_drv.c:88"),
               MakeStep(13, Op::kOutput, 2, "driver", "<0.85.0>"), MakeStep(16, Op::kFree, 1),
               MakeStep(17, Op::kFree, 0, "driver", "", "my_drv.c:98")};
  f.history[0].size = 4096;
  return f;
}

inline InputReport OneInput(Finding f) {
  InputReport input;
  input.path = "trace.ndjson";
  input.events = 20;
  input.findings.push_back(std::move(f));
  input.stats.binaries = 40;
  return input;
}

}  // namespace refctrace::render
