#include "cli/ordered_replay.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "cli/replay.h"

namespace refctrace::cli {

void ReplayInOrder(const std::vector<std::string>& paths, unsigned jobs,
                   const model::ModelOptions& options, size_t max_findings,
                   const std::function<bool(render::InputReport&&)>& on_report) {
  ReplayOptions replay;
  replay.model = options;
  replay.max_findings = max_findings;
  // Standard input can only be read by one thread, and one input needs none.
  const bool parallel = jobs > 1 && paths.size() > 1;
  if (!parallel) {
    for (const std::string& path : paths) {
      if (!on_report(ReplayInput(path, replay))) return;
    }
    return;
  }
  std::mutex mu;
  std::condition_variable ready;
  std::vector<std::optional<render::InputReport>> done(paths.size());
  size_t next = 0;
  auto worker = [&] {
    for (;;) {
      size_t i;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (next == paths.size()) return;
        i = next++;
      }
      render::InputReport report = ReplayInput(paths[i], replay);
      {
        std::lock_guard<std::mutex> lock(mu);
        done[i] = std::move(report);
      }
      ready.notify_all();
    }
  };
  std::vector<std::thread> threads;
  const unsigned n = std::min<size_t>(jobs, paths.size());
  for (unsigned t = 0; t < n; ++t)
    threads.emplace_back(worker);
  for (size_t i = 0; i < paths.size(); ++i) {
    render::InputReport report;
    {
      std::unique_lock<std::mutex> lock(mu);
      ready.wait(lock, [&] { return done[i].has_value(); });
      report = std::move(*done[i]);
      done[i].reset();
    }
    if (!on_report(std::move(report))) {
      std::lock_guard<std::mutex> lock(mu);
      next = paths.size();  // workers finish their current input and stop
      break;
    }
  }
  for (std::thread& t : threads)
    t.join();
}

}  // namespace refctrace::cli
