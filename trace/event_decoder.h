// Turns one parsed JSON object into an Event, with the exact type checks of trace-format-v1.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "trace/event.h"
#include "trace/format_version.h"

namespace refctrace::trace {

// What is wrong with an object, when decoding fails.
struct DecodeProblem {
  // The JSON text itself is malformed. simdjson does not say where, so the caller re-parses
  // the text to describe it; `where` and `message` are then unset.
  bool syntax = false;
  simdjson::error_code code = simdjson::SUCCESS;  // simdjson's verdict, when syntax
  const char* where = nullptr;  // start of the offending key or value, or of the object
  std::string message;          // e.g. `unknown op "frobnicate"`

  void Reset() {
    syntax = false;
    code = simdjson::SUCCESS;
    where = nullptr;
    message.clear();
  }
};

enum class DecodeOutcome : uint8_t { kEvent, kHeader, kProblem };

// Decodes `object`, whose `{` is at `object_start`, into *event (reusing its storage). With
// `header_allowed` (the first non-blank NDJSON line), an object with "refctrace" and no "op"
// is a header: its version is checked and kHeader returned. Problems with the content are
// reported only once the whole object was walked, so malformed JSON later in the object is
// reported first. Allocates nothing for events whose strings fit the event's capacity.
DecodeOutcome DecodeEvent(simdjson::ondemand::object& object, const char* object_start,
                          bool header_allowed, Event* event, DecodeProblem* problem);

// Checks a "refctrace" format version value: an integer, and the one this reader knows.
bool CheckFormatVersion(simdjson::ondemand::value& value, DecodeProblem* problem);

// Walks `value` completely so that malformed JSON anywhere inside it is found (simdjson skips
// what it is not asked for without checking it). False with *problem set otherwise.
bool ValidateJsonValue(simdjson::ondemand::value& value, DecodeProblem* problem);

// The key of `field`, unescaped only when it has escapes. False on a malformed key.
bool ReadFieldKey(simdjson::ondemand::field& field, std::string_view* key);

// "must be an array" etc.: describes the value at the iterator for a message ("an object",
// or the token itself, shortened).
std::string DescribeJsonValue(std::string_view raw_token);

}  // namespace refctrace::trace
