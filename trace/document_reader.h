// Reads the JSON document forms: {"refctrace":1, ..., "events":[...]} and a bare [...].
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "trace/event_decoder.h"
#include "trace/form_reader.h"
#include "trace/input_buffer.h"

namespace refctrace::trace {

// The whole input is read into memory and walked with simdjson's On-Demand API, one event
// per Next(). For the object form, a first pass checks the header (version first, whatever
// the key order) and everything but the events; a second pass stops at "events".
class DocumentReader : public FormReader {
 public:
  // `encoding` is kDocument or kArray.
  DocumentReader(InputBuffer* input, Encoding encoding);

  ReadStatus Next(Event* event, InputError* error) override;

 private:
  // Like every step here: kError with *error set, else kEvent (events may follow).
  ReadStatus Start(InputError* error);
  ReadStatus CheckHeader(InputError* error);
  // Malformed JSON; `near` is where simdjson stopped, if known. Both return kError, as the
  // NDJSON reader's do.
  ReadStatus SyntaxError(simdjson::error_code code, const char* near, InputError* error);
  ReadStatus ErrorAt(const char* where, std::string message, InputError* error);
  // 1-based line and column of `p`, which is inside the text.
  void Locate(const char* p, uint64_t* line, uint64_t* column);

  InputBuffer* input_;
  Encoding encoding_;
  const char* text_ = nullptr;
  size_t size_ = 0;
  simdjson::ondemand::parser parser_;
  simdjson::ondemand::document doc_;
  simdjson::ondemand::array events_;
  simdjson::ondemand::array_iterator it_;
  simdjson::ondemand::array_iterator end_;
  bool started_ = false;
  bool first_element_ = true;
  bool done_ = false;
  bool saw_end_ = false;
  DecodeProblem problem_;
  // Line counting moves forward with the events; `counted_` bytes are counted.
  size_t counted_ = 0;
  uint64_t line_ = 1;
  size_t line_start_ = 0;
};

}  // namespace refctrace::trace
