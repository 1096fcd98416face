// `check --format json`, exactly as output-v1 specifies.
#pragma once

#include <ostream>
#include <vector>

#include "render/report.h"

namespace refctrace::render {

// Each diagnostic also carries its `fingerprint` (model/fingerprint.h), which
// is what `check --baseline` matches; the summary adds `suppressed` and
// `baselined`, and a run with suppressions lists how often each matched.
void RenderJson(const RunReport& run, std::ostream& out);

}  // namespace refctrace::render
