// Fuzz target: reader, model and every renderer end to end, as `check`,
// `show` and `graph` (DOT) use them, through the tool's own replay
// (cli::ReplayReader). Oracles: sanitizers, the model's invariants after
// every event (a ReplayWatcher), and a finding must name a binary and an
// anchor event that exists. A small quarantine and history make eviction and
// omitted-history paths reachable with short inputs.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "cli/replay.h"
#include "model/lifetime_recorder.h"
#include "model/model.h"
#include "render/github_renderer.h"
#include "render/graphviz.h"
#include "render/json_renderer.h"
#include "render/lifetime_graph.h"
#include "render/report.h"
#include "render/sarif_renderer.h"
#include "render/show_renderer.h"
#include "render/text_renderer.h"
#include "tests/fuzz/fuzz_events.h"
#include "trace/reader.h"

using namespace refctrace;

namespace {

// The oracle inside the replay: the model's invariants hold after every event
// and after the end-of-input pass.
class InvariantWatcher : public cli::ReplayWatcher {
 public:
  void AfterEvent(const model::Model& model, const trace::Event& event) override {
    if (auto broken = model.CheckInvariants()) {
      fuzz::Fail("invariant after event " + std::to_string(event.pos.index) + ": " + *broken);
    }
  }
  void AfterFinish(const model::Model& model) override {
    if (auto broken = model.CheckInvariants()) fuzz::Fail("invariant after Finish: " + *broken);
  }
};

}  // namespace

// Graphviz's messages go into RenderGraph's error, which the oracle prints.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  render::CaptureGraphvizMessages();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  model::RecorderOptions recorder_options;
  recorder_options.max_lifetimes = 4;
  recorder_options.head_steps = 2;
  recorder_options.tail_steps = 3;
  model::LifetimeRecorder recorder(recorder_options);
  InvariantWatcher watcher;
  cli::ReplayOptions options;
  options.model.quarantine_capacity = 3;
  options.model.history_head = 2;
  options.model.history_tail = 3;
  options.observer = &recorder;
  options.watcher = &watcher;

  // The replay `check`, `show` and `graph` use, fed from memory.
  auto reader = trace::TraceReader::FromString(text);
  const render::InputReport report = cli::ReplayReader(*reader, "fuzz.ndjson", options);
  for (const model::Finding& f : report.findings) {
    if (f.event >= report.events) fuzz::Fail("finding anchored past the last event");
    if (!f.bin.present()) fuzz::Fail("finding without a binary");
  }

  std::ostringstream sink_stream;
  const render::TextStyle style{true};
  render::RenderTextFindings(report, style, sink_stream);
  if (report.error) render::RenderInputError(report.path, *report.error, style, sink_stream);
  render::RenderTextSummary(render::InputTotals(report), 1, style, sink_stream);
  render::RenderGithubInput(report, sink_stream);
  const render::RunReport run{{report}, {}};
  render::RenderJson(run, sink_stream);
  render::SarifOptions sarif;
  sarif.limits.max_flow_locations = 3;  // reach the shortening path
  render::RenderSarif(run, sarif, sink_stream);

  const std::vector<model::Lifetime> lifetimes = recorder.Take();
  render::RenderShow(report, lifetimes, style, sink_stream);
  render::GraphOptions graph_options;
  graph_options.title = report.path;
  const render::LifetimeGraph graph =
      render::BuildLifetimeGraph(lifetimes, report.findings, graph_options);
  if (auto error = render::RenderGraph(graph, render::GraphFormat::kDot, sink_stream)) {
    fuzz::Fail("DOT rendering failed: " + error->message);
  }
  return 0;
}
