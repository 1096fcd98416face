// Checks the parts fields of a trace's header (trace format 1.5) for the NDJSON and document
// readers, so both say the same about them.
#pragma once

#include <simdjson.h>

#include <string_view>

#include "trace/event_decoder.h"
#include "trace/trace_header.h"

namespace refctrace::trace {

// Reads the parts fields of one header object, key by key, as its reader walks it. Other keys
// are not its business (Field returns true for them without looking).
class HeaderFieldsReader {
 public:
  // False with *problem set when `key` is "run", "part" or "case" and its value is wrong or
  // given twice; `key_at` is the key's opening quote.
  bool Field(std::string_view key, const char* key_at, simdjson::ondemand::value& value,
             DecodeProblem* problem);
  // After the last key: `part` and `run` come together. False with *problem set otherwise.
  bool Finish(DecodeProblem* problem);

  TraceHeader& header() { return header_; }

 private:
  TraceHeader header_;
  const char* run_at_ = nullptr;   // the "run" key, once seen
  const char* part_at_ = nullptr;  // the "part" key, once seen
  const char* case_at_ = nullptr;  // the "case" key, once seen
};

}  // namespace refctrace::trace
