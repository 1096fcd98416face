// `check --format sarif`: SARIF 2.1.0 for GitHub code scanning and other
// SARIF viewers. One run; one rule per diagnostic code, its help taken from
// docs/diagnostics.md; each result carries the binary's history as a code
// flow and a fingerprint that stays the same across runs for the same bug.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include "render/report.h"

namespace refctrace::render {

struct SarifLimits {
  // GitHub code scanning rejects or truncates beyond these.
  uint64_t max_results = 25000;
  uint64_t max_flow_locations = 10000;
};

// What had to be left out to stay within the limits.
struct SarifCuts {
  uint64_t results_dropped = 0;
  uint64_t flows_truncated = 0;  // results whose code flow was shortened
};

struct SarifOptions {
  std::string tool_version;
  std::string information_uri;  // the tool's home page
  SarifLimits limits;
};

SarifCuts RenderSarif(const RunReport& run, const SarifOptions& options, std::ostream& out);

}  // namespace refctrace::render
