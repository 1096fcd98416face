// Streams NDJSON: one event object per line, with an optional header line.
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "trace/event_decoder.h"
#include "trace/form_reader.h"
#include "trace/input_buffer.h"

namespace refctrace::trace {

// Lines are split with memchr inside the InputBuffer and parsed in place (the buffer keeps
// simdjson's padding after its data), so memory is bounded by the line limit, not the trace
// length, and nothing is allocated per line. Plain event lines, nearly all of them, are decoded
// by ParsePlainEvent; the others, and every line with a problem, by simdjson and DecodeEvent.
// simdjson reports no positions, so on the error path only the offending line is parsed again
// with nlohmann::json to describe the problem.
class NdjsonReader : public FormReader {
 public:
  // `input` holds the input from its first byte (the encoding sniffer may have read some).
  NdjsonReader(InputBuffer* input, const ReaderOptions& options);

  ReadStatus Next(Event* event, InputError* error) override;

 private:
  struct Line {
    char* data = nullptr;
    size_t size = 0;          // newline and a CR before it excluded
    bool terminated = false;  // ended by '\n' (not by the end of input)
    std::string_view text() const { return {data, size}; }
  };
  enum class LineStatus : uint8_t { kLine, kEnd, kError };

  LineStatus NextLine(Line* line, InputError* error);
  // At a line starting with NUL: kEnd when only NUL bytes follow to the end of the input
  // (consumed), kLine when other bytes follow in the buffer (nothing consumed: read the line as
  // any other), kError when they follow NUL bytes already consumed.
  LineStatus SkipNulTail(InputError* error);
  // Reads `line`, whose JSON starts at `json`, with simdjson and the full decoder: kEvent (a
  // header when *is_header), or kError with *error set.
  ReadStatus DecodeLine(const Line& line, char* json, bool header_allowed, Event* event,
                        bool* is_header, InputError* error);
  // Reads the header's parts fields into header_ (trace format 1.5); `doc` is the header line,
  // already walked once.
  ReadStatus DecodeHeaderFields(const Line& line, const char* json,
                                simdjson::ondemand::document& doc, InputError* error);
  // The JSON of `line`, from `json` on, is malformed (`code` is simdjson's view).
  ReadStatus SyntaxError(const Line& line, const char* json, simdjson::error_code code,
                         InputError* error);
  ReadStatus ErrorAt(const Line& line, const char* where, std::string message, InputError* error);

  InputBuffer* input_;
  size_t max_line_bytes_;
  size_t scanned_ = 0;  // bytes after input_->begin() known to hold no '\n'
  uint64_t line_number_ = 0;
  bool seen_content_ = false;  // a non-blank line was read: no header any more
  bool saw_end_ = false;
  simdjson::ondemand::parser parser_;
  DecodeProblem problem_;
};

}  // namespace refctrace::trace
