// A fast path for the NDJSON lines nearly every trace consists of: plain event objects.
#pragma once

#include <cstddef>
#include <string_view>

#include "trace/event.h"

namespace refctrace::trace {

// Bytes that must be readable after the text given to ParsePlainEvent: it reads strings
// 16 bytes at a time and may look past their end (what it finds there is never used).
inline constexpr size_t kPlainEventReadAhead = 16;

// Decodes `json` (one line from its '{' to its end, without the newline) when it is a plain
// event: a flat object whose keys and strings are printable ASCII without escapes, whose other
// values are numbers, true, false or null ("stack": an array of such strings), with no
// duplicate known field, a known op and every field that op requires. Such a line is valid
// JSON, and this decodes it in one pass, without simdjson's per-document setup and stage 1.
//
// True: *event holds exactly what DecodeEvent would have decoded (position not set). False:
// the line is something else, or has a problem; *event is then unspecified, and the full
// decoder must read the line, so every message and position still comes from one place.
// Header lines are not recognised: call this only where a header is not allowed.
bool ParsePlainEvent(std::string_view json, Event* event);

}  // namespace refctrace::trace
