#include "cli/replay.h"

#include "model/collecting_sink.h"
#include "trace/reader.h"

namespace refctrace::cli {

render::InputReport ReplayInput(const std::string& path, const model::ModelOptions& options,
                                model::LifetimeObserver* observer) {
  render::InputReport report;
  report.path = path;
  model::CollectingSink sink;
  model::Model model(&sink, options);
  model.SetObserver(observer);
  auto reader = trace::TraceReader::OpenPath(path);
  trace::Event event;
  for (;;) {
    const trace::ReadStatus status = reader->Next(&event);
    if (status == trace::ReadStatus::kEvent) {
      model.Apply(event);
      continue;
    }
    if (status == trace::ReadStatus::kEnd) {
      model.Finish();
    } else {
      // Its end is unknown, so no end-of-input leak pass (output-v1).
      report.complete = false;
      report.error = reader->error();
    }
    break;
  }
  report.events = reader->events_read();
  report.stats = model.Stats();
  report.findings = sink.TakeSorted();
  return report;
}

}  // namespace refctrace::cli
