#include "trace/ndjson_reader.h"

#include <algorithm>
#include <cstring>

#include "trace/header_fields.h"
#include "trace/input_diagnostics.h"
#include "trace/json_token.h"
#include "trace/plain_event_parser.h"

namespace refctrace::trace {
namespace od = simdjson::ondemand;

static_assert(InputBuffer::kPadding >= kPlainEventReadAhead);

namespace {
// Lines of typical traces fit easily; the parser grows for longer ones.
constexpr size_t kInitialParserCapacity = size_t{64} << 10;
}  // namespace

NdjsonReader::NdjsonReader(InputBuffer* input, const ReaderOptions& options)
    : input_(input), max_line_bytes_(std::max<size_t>(options.max_line_bytes, 1)) {
  // Room for a whole line of the maximum length plus its "\r\n".
  input_->set_max_capacity(std::max(options.chunk_bytes, max_line_bytes_ + 2));
  // Failing here is harmless: iterate() allocates again, and reports MEMALLOC if it must.
  simdjson::error_code ignored = parser_.allocate(kInitialParserCapacity);
  static_cast<void>(ignored);
}

NdjsonReader::LineStatus NdjsonReader::NextLine(Line* line, InputError* error) {
  // Too long: only the start of the line is at hand, and all that is shown.
  auto too_long = [&](const char* start, size_t size) {
    SetInputError(line_number_, 1,
                  "line is longer than the " + DescribeByteCount(max_line_bytes_) + " limit",
                  std::string_view(start, std::min<size_t>(size, 200)), error);
    return LineStatus::kError;
  };
  for (;;) {
    char* begin = input_->begin();
    size_t available = input_->size();
    if (available > 0 && scanned_ == 0 && begin[0] == '\0' && line_number_ > 0) {
      LineStatus tail = SkipNulTail(error);
      if (tail != LineStatus::kLine) return tail;
      begin = input_->begin();
      available = input_->size();
    }
    if (scanned_ < available) {
      auto* newline = static_cast<char*>(std::memchr(begin + scanned_, '\n', available - scanned_));
      if (newline != nullptr) {
        size_t size = static_cast<size_t>(newline - begin);
        ++line_number_;
        input_->Consume(size + 1);
        scanned_ = 0;
        if (size > 0 && begin[size - 1] == '\r') --size;
        if (size > max_line_bytes_) return too_long(begin, size);
        *line = Line{begin, size, true};
        return LineStatus::kLine;
      }
      scanned_ = available;
    }
    if (available > max_line_bytes_ + 1) {  // + 1: it may still end in "\r\n"
      ++line_number_;
      return too_long(begin, available);
    }
    if (input_->Fill()) continue;
    if (input_->failed()) {
      SetInputError(0, 0, "read error: " + input_->error(), {}, error);
      return LineStatus::kError;
    }
    if (available == 0) return LineStatus::kEnd;
    begin = input_->begin();  // Fill() may have moved the bytes before finding the end
    // The last line has no newline. What follows it in the buffer is stale, so put a blank
    // there: simdjson may look one byte past the end of a number.
    ++line_number_;
    input_->Consume(available);
    scanned_ = 0;
    begin[available] = ' ';
    if (begin[available - 1] == '\r') --available;
    *line = Line{begin, available, false};
    return LineStatus::kLine;
  }
}

// A recorder writing through a shared mapping leaves NUL bytes after its last line when the
// emulator crashes (trace format 1.5): a line that starts with NUL starts that tail, which must
// be NUL bytes to the end of the input and is then the end of the trace.
NdjsonReader::LineStatus NdjsonReader::SkipNulTail(InputError* error) {
  for (;;) {
    const char* begin = input_->begin();
    const char* stop = begin + input_->size();
    if (std::find_if(begin, stop, [](char c) { return c != '\0'; }) != stop) {
      // The same error whether the data after the NUL bytes came in the same read or a
      // later one (the reader's result must not depend on how the input is chunked).
      SetInputError(line_number_ + 1, 1,
                    "NUL bytes (\\x00) before more data: only the end of a trace may be NUL "
                    "bytes (what a recorder leaves after its last line when the emulator crashes)",
                    {}, error);
      return LineStatus::kError;
    }
    input_->Consume(input_->size());
    if (input_->Fill()) continue;
    if (!input_->failed()) return LineStatus::kEnd;
    SetInputError(0, 0, "read error: " + input_->error(), {}, error);
    return LineStatus::kError;
  }
}

ReadStatus NdjsonReader::ErrorAt(const Line& line, const char* where, std::string message,
                                 InputError* error) {
  uint64_t column = static_cast<uint64_t>(where - line.data) + 1;
  SetInputError(line_number_, column, std::move(message), line.text(), error);
  return ReadStatus::kError;
}

ReadStatus NdjsonReader::SyntaxError(const Line& line, const char* json, simdjson::error_code code,
                                     InputError* error) {
  std::string_view text(json, static_cast<size_t>(line.data + line.size - json));
  if (auto found = FindJsonSyntaxError(text)) {
    std::string message = std::move(found->message);
    if (!line.terminated && found->offset >= text.size()) {
      message = "truncated last line: " + message;
    }
    return ErrorAt(line, json + found->offset, std::move(message), error);
  }
  // simdjson and nlohmann disagree (e.g. a limit of one of them): say what simdjson said.
  return ErrorAt(line, json, std::string("invalid JSON: ") + simdjson::error_message(code), error);
}

ReadStatus NdjsonReader::DecodeLine(const Line& line, char* json, bool header_allowed, Event* event,
                                    bool* is_header, InputError* error) {
  char* stop = line.data + line.size;
  // Input whose first line is not JSON at all (a binary, a log, a core file) gets told what a
  // trace is rather than a parser's complaint about its first byte.
  if (header_allowed && *json != '{' &&
      FindJsonSyntaxError(std::string_view(json, static_cast<size_t>(stop - json)))) {
    return ErrorAt(
        line, json,
        "not a JSON trace: a trace is NDJSON (one JSON object per line) or a JSON "
        "document, and this input starts with '" +
            ShortForDisplay(std::string_view(json, static_cast<size_t>(stop - json)), 12) + "'",
        error);
  }
  simdjson::padded_string_view view(json, static_cast<size_t>(stop - json), input_->RoomFrom(json));
  od::document doc;
  if (auto err = parser_.iterate(view).get(doc)) return SyntaxError(line, json, err, error);
  od::object object;
  if (auto err = doc.get_object().get(object)) {
    if (err == simdjson::INCORRECT_TYPE &&
        !FindJsonSyntaxError(std::string_view(json, static_cast<size_t>(stop - json)))) {
      return ErrorAt(line, json, "expected a JSON object, got " + DescribeJsonValue(view), error);
    }
    return SyntaxError(line, json, err, error);
  }
  problem_.Reset();
  DecodeOutcome outcome = DecodeEvent(object, json, header_allowed, event, &problem_);
  if (outcome == DecodeOutcome::kProblem) {
    if (problem_.syntax) return SyntaxError(line, json, problem_.code, error);
    // Malformed JSON anywhere on the line is reported before what the content says.
    std::string_view text(json, static_cast<size_t>(stop - json));
    if (FindJsonSyntaxError(text)) return SyntaxError(line, json, simdjson::TAPE_ERROR, error);
    return ErrorAt(line, problem_.where, std::move(problem_.message), error);
  }
  // Something after the object on the same line?
  if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS) {
    return SyntaxError(line, json, simdjson::TRAILING_CONTENT, error);
  }
  *is_header = outcome == DecodeOutcome::kHeader;
  if (*is_header) return DecodeHeaderFields(line, json, doc, error);
  return ReadStatus::kEvent;
}

// The header's version and JSON were checked by DecodeEvent; a second walk reads the parts
// fields, which an event does not have (once per trace, off the events' path).
ReadStatus NdjsonReader::DecodeHeaderFields(const Line& line, const char* json, od::document& doc,
                                            InputError* error) {
  HeaderFieldsReader fields;
  problem_.Reset();
  od::object object;
  doc.rewind();
  if (auto err = doc.get_object().get(object)) return SyntaxError(line, json, err, error);
  for (auto field_result : object) {
    od::field field;
    if (auto err = std::move(field_result).get(field)) return SyntaxError(line, json, err, error);
    const char* key_at = field.key().raw() - 1;
    std::string_view key;
    if (!ReadFieldKey(field, &key)) return SyntaxError(line, json, simdjson::STRING_ERROR, error);
    if (!fields.Field(key, key_at, field.value(), &problem_)) break;
  }
  if (!problem_.where && !problem_.syntax) fields.Finish(&problem_);
  if (problem_.syntax) return SyntaxError(line, json, problem_.code, error);
  if (problem_.where) return ErrorAt(line, problem_.where, std::move(problem_.message), error);
  header_ = std::move(fields.header());
  header_.line = line_number_;
  header_.column = static_cast<uint64_t>(json - line.data) + 1;
  return ReadStatus::kEvent;
}

ReadStatus NdjsonReader::Next(Event* event, InputError* error) {
  for (;;) {
    Line line;
    switch (NextLine(&line, error)) {
      case LineStatus::kLine:
        break;
      case LineStatus::kEnd:
        return ReadStatus::kEnd;
      case LineStatus::kError:
        return ReadStatus::kError;
    }
    char* json = line.data;
    char* stop = line.data + line.size;
    if (line_number_ == 1 && line.size >= 3 && std::memcmp(json, "\xEF\xBB\xBF", 3) == 0) {
      json += 3;  // UTF-8 byte order mark
    }
    while (json < stop && IsJsonSpace(*json))
      ++json;
    if (json == stop) continue;  // blank line
    bool header_allowed = !seen_content_;
    seen_content_ = true;
    // Nearly every line is a plain event; the full decoder reads the others (and says what is
    // wrong with a line, when something is).
    std::string_view text(json, static_cast<size_t>(stop - json));
    if (header_allowed || !ParsePlainEvent(text, event)) {
      bool is_header = false;
      if (DecodeLine(line, json, header_allowed, event, &is_header, error) == ReadStatus::kError) {
        return ReadStatus::kError;
      }
      if (is_header) continue;
    }
    if (saw_end_) return ErrorAt(line, json, "event after \"end\"", error);
    event->pos.line = line_number_;
    event->pos.column = static_cast<uint64_t>(json - line.data) + 1;
    if (event->op == Op::kEnd) saw_end_ = true;
    return ReadStatus::kEvent;
  }
}

}  // namespace refctrace::trace
