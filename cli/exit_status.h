// refctrace's exit statuses (output-v1) and how `check` picks one.
#pragma once

#include <cstdint>

#include "render/report.h"

namespace refctrace::cli {

inline constexpr int kExitClean = 0;
inline constexpr int kExitFindings = 1;
inline constexpr int kExitInputError = 2;

// check --fail-on: the lowest severity that makes the exit status 1.
enum class FailOn : uint8_t { kError, kWarning };

// 2 when an input could not be read to its end or `run_failed` (a bad
// argument, an output that could not be written); else 1 when a finding is
// at or above `fail_on`; else 0.
int CheckExitStatus(const render::Totals& totals, FailOn fail_on, bool run_failed);

}  // namespace refctrace::cli
