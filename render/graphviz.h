// The one file that talks to Graphviz: a LifetimeGraph to DOT (libcgraph),
// SVG or PNG (laid out and rendered by libgvc).
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "render/lifetime_graph.h"

namespace refctrace::render {

enum class GraphFormat : uint8_t { kDot, kSvg, kPng };

// "dot" (or "gv"), "svg", "png".
std::optional<GraphFormat> GraphFormatFromName(std::string_view name);
// From a file name's extension: "out.svg" -> kSvg. Nothing when unknown.
std::optional<GraphFormat> GraphFormatFromPath(std::string_view path);

// Writes the picture to `out` (binary for PNG). DOT is the graph before
// layout, byte-for-byte deterministic; SVG and PNG are laid out by `dot`.
// Returns what went wrong, or nothing on success. Graphviz's own messages
// are captured into the result, never printed.
std::optional<std::string> RenderGraph(const LifetimeGraph& graph, GraphFormat format,
                                       std::ostream& out);

}  // namespace refctrace::render
