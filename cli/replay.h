// Wires one input through reader and model into an InputReport.
#pragma once

#include <string>

#include "model/model.h"
#include "render/report.h"

namespace refctrace::cli {

// Findings kept per input (about 1.6 KiB each, more with long histories);
// past it the replay stops with an error (docs/hardening.md).
inline constexpr size_t kDefaultMaxFindings = 100'000;

// `observer`, when set, sees every step of every incarnation (graph, show).
// A model limit (ModelOptions::max_live) or more than `max_findings`
// findings cuts the input short with an error, as malformed input does.
render::InputReport ReplayInput(const std::string& path, const model::ModelOptions& options,
                                model::LifetimeObserver* observer = nullptr,
                                size_t max_findings = kDefaultMaxFindings);

}  // namespace refctrace::cli
