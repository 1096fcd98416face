// The interface each encoding's reader implements behind TraceReader.
#pragma once

#include "trace/event.h"
#include "trace/input_error.h"
#include "trace/reader.h"
#include "trace/trace_header.h"

namespace refctrace::trace {

// Reads events of one encoding. The owning TraceReader numbers the events and makes errors
// sticky; a FormReader fills positions (line, column) and *error.
class FormReader {
 public:
  virtual ~FormReader() = default;
  virtual ReadStatus Next(Event* event, InputError* error) = 0;
  // The header's parts fields, once the header was read (trace format 1.5).
  const TraceHeader& header() const { return header_; }

 protected:
  TraceHeader header_;
};

}  // namespace refctrace::trace
