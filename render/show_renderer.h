// `refctrace show`: one binary's life as a table of events in plain text,
// with holders and refc after each event and findings inline; for terminals,
// CI logs and bug reports.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "model/finding.h"
#include "model/lifetime_recorder.h"
#include "render/report.h"
#include "render/text_renderer.h"

namespace refctrace::render {

// Every lifetime in the order given, each followed by how it ended. The
// report's findings are printed under their anchor events.
void RenderShow(const InputReport& report, const std::vector<model::Lifetime>& lifetimes,
                const TextStyle& style, std::ostream& out);

}  // namespace refctrace::render
