// Wires one input through reader and model into an InputReport.
#pragma once

#include <string>

#include "model/model.h"
#include "render/report.h"

namespace refctrace::cli {

// `observer`, when set, sees every step of every incarnation (graph, show).
render::InputReport ReplayInput(const std::string& path, const model::ModelOptions& options,
                                model::LifetimeObserver* observer = nullptr);

}  // namespace refctrace::cli
