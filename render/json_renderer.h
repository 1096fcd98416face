// `check --format json`, exactly as output-v1 specifies.
#pragma once

#include <ostream>
#include <vector>

#include "render/report.h"

namespace refctrace::render {

void RenderJson(const std::vector<InputReport>& inputs, std::ostream& out);

}  // namespace refctrace::render
