#include "cli/replay.h"

#include <algorithm>

#include "cli/event_lookahead.h"
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

// A part of a run replayed on its own would start from an empty state it never had and end
// with leaks its later parts settle: refused (standard input, memory, graph and show).
trace::InputError PartAloneError(const trace::TraceHeader& header, const std::string& path) {
  return trace::FileError(path,
                          "part " + std::to_string(header.part) + " of run \"" + header.run +
                              "\" cannot be replayed alone here: a run's parts are replayed "
                              "together, from files (refctrace check names the file or its "
                              "directory, and finds the other parts beside it)",
                          header.line, header.column);
}

// One model fed from one reader after another (a run's parts), as one stream of events.
// Event indices are numbered across the files, so the model sees one trace; Split() gives
// each file its own positions back.
class StreamReplay {
 public:
  explicit StreamReplay(const ReplayOptions& options)
      : options_(options), sink_(options.max_findings), model_(&sink_, options.model) {
    model_.SetObserver(options.observer);
  }

  // What one file contributed.
  struct Piece {
    std::string path;
    uint64_t first = 0;   // its first event's index in the stream
    uint64_t events = 0;  // events read from it
    model::ModelStats before, after;
    std::optional<trace::InputError> error;
  };

  // Feeds the reader's events; false when the stream must stop (an input error or a limit).
  // `more_follow`: a later part follows, so an `end` event here is an error.
  bool Feed(trace::TraceReader& reader, const std::string& path, bool more_follow,
            bool alone_only) {
    Piece piece;
    piece.path = path;
    piece.first = next_index_;
    piece.before = model_.Stats();
    bool ok = true;
    EventLookahead events(reader);
    for (bool first = true;; first = false) {
      EventLookahead::Place* next = nullptr;
      const trace::ReadStatus status = events.Next(&next);
      if (first && alone_only && reader.header().IsPart()) {
        piece.error = PartAloneError(reader.header(), path);
        ok = false;
        break;
      }
      if (status == trace::ReadStatus::kEnd) break;
      if (status == trace::ReadStatus::kError) {
        piece.error = reader.error();
        ok = false;
        break;
      }
      trace::Event& event = next->event;
      if (event.op == trace::Op::kEnd && more_follow) {
        piece.error = trace::FileError(
            path, "\"end\" ends the run, but a later part of it follows (trace format 1.5)",
            event.pos.line, event.pos.column);
        ok = false;
        break;
      }
      // The next events' lookups, started now: each stage reads what the one before loaded.
      if (EventLookahead::Place* p = events.Ahead(4)) model_.PrefetchIdEntry(p->event, &p->hint);
      if (EventLookahead::Place* p = events.Ahead(3)) model_.PrefetchIdState(p->event, &p->hint);
      if (EventLookahead::Place* p = events.Ahead(2)) model_.PrefetchBinary(p->event, &p->hint);
      if (EventLookahead::Place* p = events.Ahead(1)) model_.PrefetchBinaryData(p->event, p->hint);
      event.pos.index += piece.first;
      model_.Apply(event, next->hint);
      if (options_.watcher) options_.watcher->AfterEvent(model_, event);
      // A limit is an error at the event that crossed it; nothing after it
      // is judged, like after malformed input.
      if (model_.LimitReached() || sink_.dropped()) {
        piece.error = LimitError(model_, options_.max_findings, path, event.pos);
        ok = false;
        break;
      }
    }
    piece.events = events.delivered();
    next_index_ += piece.events;
    piece.after = model_.Stats();
    pieces_.push_back(std::move(piece));
    return ok;
  }

  // The end of the stream is known: the end-of-input pass.
  void Finish() {
    if (pieces_.empty()) return;
    model_.Finish();
    if (options_.watcher) options_.watcher->AfterFinish(model_);
    if (sink_.dropped() && !pieces_.empty()) {
      pieces_.back().error = LimitError(model_, options_.max_findings, pieces_.back().path, {});
    }
    pieces_.back().after = model_.Stats();
  }

  const std::vector<Piece>& pieces() const { return pieces_; }
  model::ModelStats stats() const { return model_.Stats(); }

  // The findings, each in the piece holding its anchor event, with event indices made the
  // piece's own; a history step in another piece names that piece's file.
  std::vector<std::vector<model::Finding>> Split() {
    std::vector<std::vector<model::Finding>> out(pieces_.size());
    for (model::Finding& f : sink_.TakeSorted()) {
      const size_t at = PieceOf(f.event);
      f.event -= pieces_[at].first;
      for (model::Step& step : f.history) {
        const size_t in = PieceOf(step.event);
        step.event -= pieces_[in].first;
        if (in != at) step.file = pieces_[in].path;
      }
      out[at].push_back(std::move(f));
    }
    return out;
  }

 private:
  // The piece an event index falls in; the index past the last event (the end, in a history)
  // is in the last piece.
  size_t PieceOf(uint64_t index) const {
    auto after = std::upper_bound(pieces_.begin(), pieces_.end(), index,
                                  [](uint64_t i, const Piece& p) { return i < p.first; });
    return after == pieces_.begin() ? 0 : static_cast<size_t>(after - pieces_.begin()) - 1;
  }

  const ReplayOptions& options_;
  model::CollectingSink sink_;
  model::Model model_;
  uint64_t next_index_ = 0;
  std::vector<Piece> pieces_;
};

render::InputReport PieceReport(const StreamReplay::Piece& piece) {
  render::InputReport report;
  report.path = piece.path;
  report.events = piece.events;
  report.complete = !piece.error;
  report.error = piece.error;
  return report;
}

// A part's leaked bytes are those of the leaks charged to it (made in it), wherever they were
// found: the model counts each leaked incarnation's size once, with its `leak` finding.
uint64_t LeakedBytes(const std::vector<model::Finding>& findings) {
  uint64_t bytes = 0;
  for (const model::Finding& f : findings) {
    if (f.code == model::Code::kLeak && f.size) bytes += std::min(*f.size, UINT64_MAX - bytes);
  }
  return bytes;
}

// What happened while a part was replayed: counters are the part's own.
model::ModelStats PartStats(const model::ModelStats& before, const model::ModelStats& after) {
  model::ModelStats s;
  s.events = after.events - before.events;
  s.driver_events = after.driver_events - before.driver_events;
  s.process_events = after.process_events - before.process_events;
  s.nif_events = after.nif_events - before.nif_events;
  s.binaries = after.binaries - before.binaries;
  return s;
}

}  // namespace

render::InputReport ReplayInput(const std::string& path, const ReplayOptions& options) {
  const std::unique_ptr<trace::TraceReader> reader = trace::TraceReader::OpenPath(path);
  return ReplayReader(*reader, path, options);
}

render::InputReport ReplayReader(trace::TraceReader& reader, const std::string& path,
                                 const ReplayOptions& options) {
  StreamReplay replay(options);
  // Its end is unknown after an error, so no end-of-input leak pass (output-v1).
  if (replay.Feed(reader, path, /*more_follow=*/false, /*alone_only=*/true)) replay.Finish();
  render::InputReport report = PieceReport(replay.pieces().front());
  report.header = reader.header();
  report.stats = replay.stats();
  report.findings = std::move(replay.Split().front());
  return report;
}

std::vector<render::InputReport> ReplayPlanned(const ReplayPlan& plan,
                                               const ReplayOptions& options) {
  if (!plan.run) return {ReplayInput(plan.files.front().path, options)};
  StreamReplay replay(options);
  std::vector<const ReplayFile*> fed;  // the files fed, one per piece
  size_t last = 0;                     // the last file replayed
  for (size_t i = 0; i < plan.files.size(); ++i)
    if (plan.files[i].replayed) last = i;
  bool stopped = false;
  for (size_t i = 0; i < plan.files.size() && !stopped; ++i) {
    const ReplayFile& file = plan.files[i];
    if (!file.replayed) break;
    const std::unique_ptr<trace::TraceReader> reader = trace::TraceReader::OpenPath(file.path);
    stopped = !replay.Feed(*reader, file.path, i < last, /*alone_only=*/false);
    fed.push_back(&file);
  }
  if (!stopped && plan.finish && !fed.empty()) replay.Finish();
  // A part found beside the named ones that stopped the run: said with the last named part.
  std::optional<trace::InputError> stopped_beside;
  if (stopped && !fed.back()->reported) {
    const trace::InputError& cause = *replay.pieces().back().error;
    stopped_beside = trace::FileError(
        "", "run \"" + fed.back()->header.run + "\" stopped at an input error in its part " +
                std::to_string(fed.back()->header.part) + ", " + cause.file + ":" +
                std::to_string(cause.line) + ": " + cause.message + "; the run's end is unknown");
  }
  std::vector<std::vector<model::Finding>> findings = replay.Split();
  const std::vector<StreamReplay::Piece>& pieces = replay.pieces();

  std::vector<render::InputReport> reports;
  for (size_t i = 0; i < plan.files.size(); ++i) {
    const ReplayFile& file = plan.files[i];
    if (!file.reported) continue;
    render::InputReport report;
    if (i < pieces.size()) {
      report = PieceReport(pieces[i]);
      report.stats = PartStats(pieces[i].before, pieces[i].after);
      report.findings = std::move(findings[i]);
      report.stats.leaked_bytes = LeakedBytes(report.findings);
      // What the run holds at its end is said once, on the part that ends it.
      if (i + 1 == pieces.size() && !stopped && plan.finish) {
        const model::ModelStats& end = pieces[i].after;
        report.stats.live = end.live;
        report.stats.held_by_processes = end.held_by_processes;
        report.stats.uncertain_end = end.uncertain_end;
        report.run_stats = end;
      }
    } else {
      report.path = file.path;
      report.complete = false;  // never read: a part before it is missing or broken
      if (!file.error) {
        report.error = trace::FileError(file.path,
                                        "not replayed: run \"" + file.header.run +
                                            "\" stopped at an input error in " +
                                            pieces.back().path + ", an earlier part",
                                        file.header.line, file.header.column);
      }
    }
    if (file.error) {
      report.complete = false;
      report.error = file.error;
    }
    report.header = file.header;
    reports.push_back(std::move(report));
  }
  if (stopped_beside && !reports.empty()) {
    render::InputReport& last_named = reports.back();
    if (!last_named.error) {
      stopped_beside->file = last_named.path;
      last_named.error = std::move(stopped_beside);
      last_named.complete = false;
    }
  }
  return reports;
}

}  // namespace refctrace::cli
