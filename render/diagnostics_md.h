// docs/diagnostics.md, compiled in. `explain` and SARIF's rule help read
// their text from it, so the docs are the one place a rule is described.
#pragma once

#include <string_view>

namespace refctrace::render {

extern const std::string_view kDiagnosticsMarkdown;

}  // namespace refctrace::render
