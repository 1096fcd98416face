// The one file that talks to Graphviz: a LifetimeGraph to DOT (libcgraph),
// SVG or PNG (laid out and rendered by libgvc).
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "render/lifetime_graph.h"
#include "trace/input_error.h"

namespace refctrace::render {

enum class GraphFormat : uint8_t { kDot, kSvg, kPng };

// The names of the formats (`graph --format`, file extensions); "gv" is DOT.
inline const std::vector<std::pair<std::string, GraphFormat>> kGraphFormatWords = {
    {"dot", GraphFormat::kDot},
    {"gv", GraphFormat::kDot},
    {"svg", GraphFormat::kSvg},
    {"png", GraphFormat::kPng}};

// The format's usual name: "dot", "svg" or "png".
std::string_view GraphFormatName(GraphFormat format);
// "dot" (or "gv"), "svg", "png".
std::optional<GraphFormat> GraphFormatFromName(std::string_view name);
// From a file name's extension: "out.svg" -> kSvg. Nothing when unknown.
std::optional<GraphFormat> GraphFormatFromPath(std::string_view path);

// Writes the picture to `out` (binary for PNG). DOT is the graph before
// layout, byte-for-byte deterministic; SVG and PNG are laid out by `dot`.
// Returns what went wrong (a message, no position), or nothing on success.
//
// Not thread-safe: Graphviz keeps process-wide state (one layout context
// shared by every call, font caches, its error channel), so call RenderGraph
// from one thread at a time. refctrace renders on its main thread only.
trace::MaybeError RenderGraph(const LifetimeGraph& graph, GraphFormat format, std::ostream& out);

// Graphviz reports problems through one process-wide hook (agseterrf);
// without it, it prints them on standard error. The library never installs
// the hook by itself: an executable that renders calls this once, early in
// main() and before starting threads, and from then on Graphviz prints
// nothing and RenderGraph puts Graphviz's own words into its error value.
void CaptureGraphvizMessages();

}  // namespace refctrace::render
