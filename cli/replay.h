// Wires one input through reader and model into an InputReport.
#pragma once

#include <functional>
#include <string>

#include "model/model.h"
#include "render/report.h"
#include "trace/event.h"

namespace refctrace::cli {

// `on_event`, when set, sees every event after the model applied it (graphs).
// `observer`, when set, sees every step of every incarnation (graph, show).
render::InputReport ReplayInput(const std::string& path, const model::ModelOptions& options,
                                const std::function<void(const trace::Event&)>& on_event = {},
                                model::LifetimeObserver* observer = nullptr);

}  // namespace refctrace::cli
