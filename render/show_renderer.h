// `refctrace show`: one binary's life as a table of events in plain text,
// with holders and refc after each event and findings inline; for terminals,
// CI logs and bug reports.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "model/finding.h"
#include "model/lifetime_recorder.h"
#include "render/text_renderer.h"

namespace refctrace::render {

// Every lifetime in the order given, each followed by how it ended.
// `findings` are the replay's; each is printed under its anchor event.
void RenderShow(const std::string& path, const std::vector<model::Lifetime>& lifetimes,
                const std::vector<model::Finding>& findings, const TextStyle& style,
                std::ostream& out);

}  // namespace refctrace::render
