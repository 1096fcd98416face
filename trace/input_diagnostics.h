// Helpers that turn a problem in the input into a readable InputError.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "trace/input_error.h"

namespace refctrace::trace {

// Valid UTF-8 is kept; control bytes and bytes that are not valid UTF-8 become \xNN.
std::string EscapeForDisplay(std::string_view text);

// `text` escaped for display and cut to about `max_bytes`, with "..." when cut.
std::string ShortForDisplay(std::string_view text, size_t max_bytes = 40);

// Sets error->excerpt and error->excerpt_caret from the offending line (newline excluded) and
// the 1-based byte column in it (0: no caret). Long lines are cut to about 100 characters
// around the column, with "..." marking the cuts; tabs become spaces so the caret lines up.
void SetExcerpt(std::string_view line, uint64_t column, InputError* error);

struct JsonSyntaxError {
  size_t offset = 0;    // 0-based byte of the problem; text.size() for "unexpected end"
  std::string message;  // e.g. "syntax error while parsing object - unexpected end of input; ..."
};

// Parses `text` as one JSON value (nothing may follow it) only to find its first syntax error.
// Slow compared to simdjson; meant for the error path. nullopt when no syntax error is found.
std::optional<JsonSyntaxError> FindJsonSyntaxError(std::string_view text);

// Fills *error: position, message, and the excerpt from `line_text` (newline excluded).
void SetInputError(uint64_t line, uint64_t column, std::string message, std::string_view line_text,
                   InputError* error);

// "64 MiB" for whole mebibytes, otherwise "N bytes".
std::string DescribeByteCount(size_t bytes);

}  // namespace refctrace::trace
