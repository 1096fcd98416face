// A malformed-input report: where it is and what was there.
#pragma once

#include <cstdint>
#include <string>

namespace refctrace::trace {

struct InputError {
  uint64_t line = 0;    // 1-based; 0 when not tied to a line (cannot open)
  uint64_t column = 0;  // 1-based byte column; 0 when unknown
  std::string message;  // e.g. `unknown op "frobnicate"`
  // The offending line, shortened around the column if long, with
  // non-printable bytes escaped as \xNN. Empty when there is no line.
  std::string excerpt;
  uint64_t excerpt_caret = 0;  // 1-based caret column within excerpt; 0 = none
};

}  // namespace refctrace::trace
