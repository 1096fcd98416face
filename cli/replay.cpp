#include "cli/replay.h"

#include "model/collecting_sink.h"

namespace refctrace::cli {

namespace {

trace::InputError LimitError(const model::Model& model, size_t max_findings,
                             const std::string& path, const trace::Position& at) {
  trace::InputError error;
  error.file = path;
  error.line = at.line;
  error.message = model.LimitReached()
                      ? *model.LimitReached()
                      : "too many findings: the limit is " + std::to_string(max_findings) +
                            " per input (raise it with --max-findings); the first " +
                            std::to_string(max_findings) + " found are reported";
  return error;
}

}  // namespace

render::InputReport ReplayInput(const std::string& path, const ReplayOptions& options) {
  const std::unique_ptr<trace::TraceReader> reader = trace::TraceReader::OpenPath(path);
  return ReplayReader(*reader, path, options);
}

render::InputReport ReplayReader(trace::TraceReader& reader, const std::string& path,
                                 const ReplayOptions& options) {
  render::InputReport report;
  report.path = path;
  model::CollectingSink sink(options.max_findings);
  model::Model model(&sink, options.model);
  model.SetObserver(options.observer);
  trace::Event event;
  for (;;) {
    const trace::ReadStatus status = reader.Next(&event);
    if (status == trace::ReadStatus::kEvent) {
      model.Apply(event);
      if (options.watcher) options.watcher->AfterEvent(model, event);
      // A limit is an error at the event that crossed it; nothing after it
      // is judged, like after malformed input.
      if (model.LimitReached() || sink.dropped()) {
        report.complete = false;
        report.error = LimitError(model, options.max_findings, path, event.pos);
        break;
      }
      continue;
    }
    if (status == trace::ReadStatus::kEnd) {
      model.Finish();
      if (options.watcher) options.watcher->AfterFinish(model);
      if (sink.dropped()) {
        report.complete = false;
        report.error = LimitError(model, options.max_findings, path, {});
      }
    } else {
      // Its end is unknown, so no end-of-input leak pass (output-v1).
      report.complete = false;
      report.error = reader.error();
    }
    break;
  }
  report.events = reader.events_read();
  report.stats = model.Stats();
  report.findings = sink.TakeSorted();
  return report;
}

}  // namespace refctrace::cli
