// Replays several inputs on up to `jobs` threads and hands the reports back
// in input order, each as soon as it and all before it are done, so output
// streams and never depends on which thread finished first. `on_report`
// returns false to stop: no further input is started, and reports not yet
// handed back are dropped.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "model/model.h"
#include "render/report.h"

namespace refctrace::cli {

void ReplayInOrder(const std::vector<std::string>& paths, unsigned jobs,
                   const model::ModelOptions& options, size_t max_findings,
                   const std::function<bool(render::InputReport&&)>& on_report);

}  // namespace refctrace::cli
