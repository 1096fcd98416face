// Replays several inputs on up to `jobs` threads and hands the reports back
// in input order, each as soon as it and all before it are done, so output
// streams and never depends on which thread finished first. A run's parts
// (trace format 1.5) are one job, replayed in part order on one thread, and
// come back together, one report per named part (cli/run_parts.h says which
// and in what order). `on_reports` returns false to stop: no further input
// is started, and reports not yet handed back are dropped.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "model/model.h"
#include "render/report.h"

namespace refctrace::cli {

void ReplayInOrder(const std::vector<std::string>& paths, unsigned jobs,
                   const model::ModelOptions& options, size_t max_findings,
                   const std::function<bool(std::vector<render::InputReport>&&)>& on_reports);

}  // namespace refctrace::cli
