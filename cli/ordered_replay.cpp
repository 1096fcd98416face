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
                   const std::function<bool(std::vector<render::InputReport>&&)>& on_reports) {
  const std::vector<ReplayPlan> plans = PlanReplays(paths);
  ReplayOptions replay;
  replay.model = options;
  replay.max_findings = max_findings;
  // Standard input can only be read by one thread, and one input needs none.
  const bool parallel = jobs > 1 && plans.size() > 1;
  if (!parallel) {
    for (const ReplayPlan& plan : plans) {
      if (!on_reports(ReplayPlanned(plan, replay))) return;
    }
    return;
  }
  std::mutex mu;
  std::condition_variable ready;
  std::vector<std::optional<std::vector<render::InputReport>>> done(plans.size());
  size_t next = 0;
  auto worker = [&] {
    for (;;) {
      size_t i;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (next == plans.size()) return;
        i = next++;
      }
      std::vector<render::InputReport> reports = ReplayPlanned(plans[i], replay);
      {
        std::lock_guard<std::mutex> lock(mu);
        done[i] = std::move(reports);
      }
      ready.notify_all();
    }
  };
  std::vector<std::thread> threads;
  const unsigned n = std::min<size_t>(jobs, plans.size());
  for (unsigned t = 0; t < n; ++t)
    threads.emplace_back(worker);
  for (size_t i = 0; i < plans.size(); ++i) {
    std::vector<render::InputReport> reports;
    {
      std::unique_lock<std::mutex> lock(mu);
      ready.wait(lock, [&] { return done[i].has_value(); });
      reports = std::move(*done[i]);
      done[i].reset();
    }
    if (!on_reports(std::move(reports))) {
      std::lock_guard<std::mutex> lock(mu);
      next = plans.size();  // workers finish their current input and stop
      break;
    }
  }
  for (std::thread& t : threads)
    t.join();
}

}  // namespace refctrace::cli
