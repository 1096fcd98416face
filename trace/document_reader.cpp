#include "trace/document_reader.h"

#include <cstring>

#include "trace/header_fields.h"
#include "trace/input_diagnostics.h"
#include "trace/json_token.h"

namespace refctrace::trace {
namespace od = simdjson::ondemand;

DocumentReader::DocumentReader(InputBuffer* input, Encoding encoding)
    : input_(input), encoding_(encoding) {}

void DocumentReader::Locate(const char* p, uint64_t* line, uint64_t* column) {
  size_t offset = static_cast<size_t>(p - text_);
  if (offset < counted_) {  // behind the events already located: count again from the start
    counted_ = 0;
    line_ = 1;
    line_start_ = 0;
  }
  while (counted_ < offset) {
    const void* nl = std::memchr(text_ + counted_, '\n', offset - counted_);
    if (nl == nullptr) break;
    ++line_;
    line_start_ = static_cast<size_t>(static_cast<const char*>(nl) - text_) + 1;
    counted_ = line_start_;
  }
  counted_ = offset;
  *line = line_;
  *column = offset - line_start_ + 1;
}

ReadStatus DocumentReader::ErrorAt(const char* where, std::string message, InputError* error) {
  uint64_t line, column;
  Locate(where, &line, &column);
  const char* start = text_ + line_start_;
  const char* stop = text_ + size_;
  if (const void* nl = std::memchr(start, '\n', static_cast<size_t>(stop - start))) {
    stop = static_cast<const char*>(nl);
  }
  if (stop > start && stop[-1] == '\r') --stop;
  SetInputError(line, column, std::move(message),
                std::string_view(start, static_cast<size_t>(stop - start)), error);
  return ReadStatus::kError;
}

ReadStatus DocumentReader::SyntaxError(simdjson::error_code code, const char* near,
                                       InputError* error) {
  if (code == simdjson::CAPACITY) {
    return ErrorAt(text_,
                   "the JSON document is too large to read at once; write the trace as "
                   "NDJSON (one event per line) instead",
                   error);
  }
  if (code == simdjson::MEMALLOC) return ErrorAt(text_, "out of memory parsing the JSON", error);
  if (auto found = FindJsonSyntaxError(std::string_view(text_, size_))) {
    return ErrorAt(text_ + found->offset, std::move(found->message), error);
  }
  // simdjson and nlohmann disagree (e.g. a limit of one of them): say what simdjson said.
  if (near == nullptr || near < text_ || near > text_ + size_) near = text_;
  return ErrorAt(near, std::string("invalid JSON: ") + simdjson::error_message(code), error);
}

ReadStatus DocumentReader::Start(InputError* error) {
  if (!input_->FillAll()) {
    SetInputError(0, 0, "read error: " + input_->error(), {}, error);
    return ReadStatus::kError;
  }
  text_ = input_->begin();
  size_ = input_->size();
  // A UTF-8 byte order mark is whitespace to the sniffer, so it is to the parser too:
  // blanked in place, every position still counts the file's bytes.
  if (size_ >= 3 && std::memcmp(text_, "\xEF\xBB\xBF", 3) == 0)
    std::memset(input_->begin(), ' ', 3);
  // What follows the text in the buffer is stale: make it blank.
  std::memset(input_->end(), ' ', InputBuffer::kPadding);
  simdjson::padded_string_view view(text_, size_, input_->RoomFrom(text_));
  if (auto err = parser_.iterate(view).get(doc_)) return SyntaxError(err, nullptr, error);

  if (encoding_ == Encoding::kDocument) {
    if (CheckHeader(error) == ReadStatus::kError) return ReadStatus::kError;
    doc_.rewind();
    od::object top;
    if (auto err = doc_.get_object().get(top)) return SyntaxError(err, nullptr, error);
    bool found = false;
    for (auto field_result : top) {
      od::field field;
      std::string_view key;
      if (auto err = std::move(field_result).get(field)) return SyntaxError(err, nullptr, error);
      if (!ReadFieldKey(field, &key)) return SyntaxError(simdjson::STRING_ERROR, nullptr, error);
      if (key == "events") {
        if (auto err = field.value().get_array().get(events_)) {
          return SyntaxError(err, nullptr, error);
        }
        found = true;
        break;
      }
    }
    if (!found) return SyntaxError(simdjson::TAPE_ERROR, nullptr, error);
  } else {
    if (auto err = doc_.get_array().get(events_)) return SyntaxError(err, nullptr, error);
  }
  if (auto err = events_.begin().get(it_)) return SyntaxError(err, nullptr, error);
  if (auto err = events_.end().get(end_)) return SyntaxError(err, nullptr, error);
  return ReadStatus::kEvent;
}

// First pass over {"refctrace":1, ..., "events":[...]}: the version, then that "events" is
// an array and that the rest is well-formed JSON. The events themselves are left for Next().
ReadStatus DocumentReader::CheckHeader(InputError* error) {
  od::object top;
  if (auto err = doc_.get_object().get(top)) return SyntaxError(err, nullptr, error);
  bool have_version = false;
  HeaderFieldsReader fields;        // run, part, case (trace format 1.5)
  const char* events_at = nullptr;  // the "events" value, if seen
  std::string events_problem;       // reported after the version
  for (auto field_result : top) {
    od::field field;
    std::string_view key;
    if (auto err = std::move(field_result).get(field)) return SyntaxError(err, nullptr, error);
    const char* key_at = field.key().raw() - 1;
    if (!ReadFieldKey(field, &key)) return SyntaxError(simdjson::STRING_ERROR, key_at, error);
    od::value& value = field.value();
    if (key == "refctrace") {
      if (have_version) return ErrorAt(key_at, "duplicate field \"refctrace\"", error);
      have_version = true;
      problem_.Reset();
      if (!CheckFormatVersion(value, &problem_)) {
        if (problem_.syntax) return SyntaxError(problem_.code, key_at, error);
        return ErrorAt(problem_.where, std::move(problem_.message), error);
      }
    } else if (key == "events") {
      if (events_at != nullptr) return ErrorAt(key_at, "duplicate field \"events\"", error);
      std::string_view raw = value.raw_json_token();
      events_at = raw.data();
      TokenInfo info = ClassifyToken(raw);
      if (info.kind == TokenKind::kMalformed) {
        return SyntaxError(simdjson::TAPE_ERROR, events_at, error);
      }
      if (info.kind != TokenKind::kArray && events_problem.empty()) {
        events_problem = "field \"events\" must be an array, got " + DescribeJsonValue(raw);
      }
      // Not walked here: Next() decodes the events one by one.
    } else if (key == "run" || key == "part" || key == "case") {
      problem_.Reset();
      if (!fields.Field(key, key_at, value, &problem_)) {
        if (problem_.syntax) return SyntaxError(problem_.code, key_at, error);
        return ErrorAt(problem_.where, std::move(problem_.message), error);
      }
    } else {
      problem_.Reset();
      if (!ValidateJsonValue(value, &problem_)) {
        if (problem_.syntax) return SyntaxError(problem_.code, key_at, error);
        return ErrorAt(problem_.where, std::move(problem_.message), error);
      }
    }
  }
  auto rest = doc_.current_location();
  if (rest.error() != simdjson::OUT_OF_BOUNDS) {
    return SyntaxError(simdjson::TRAILING_CONTENT, rest.error() ? nullptr : rest.value_unsafe(),
                       error);
  }
  if (events_at == nullptr) return ErrorAt(text_, "missing required field \"events\"", error);
  if (!events_problem.empty()) return ErrorAt(events_at, std::move(events_problem), error);
  problem_.Reset();
  if (!fields.Finish(&problem_)) return ErrorAt(problem_.where, std::move(problem_.message), error);
  header_ = std::move(fields.header());
  Locate(text_, &header_.line, &header_.column);
  return ReadStatus::kEvent;
}

ReadStatus DocumentReader::Next(Event* event, InputError* error) {
  if (!started_) {
    started_ = true;
    if (Start(error) == ReadStatus::kError) return ReadStatus::kError;
  }
  if (done_) return ReadStatus::kEnd;
  if (!first_element_) ++it_;
  first_element_ = false;
  if (!(it_ != end_)) {
    // After a bare array nothing may follow (the object form was checked by CheckHeader).
    if (encoding_ == Encoding::kArray) {
      auto rest = doc_.current_location();
      if (rest.error() != simdjson::OUT_OF_BOUNDS) {
        return SyntaxError(simdjson::TRAILING_CONTENT, rest.error() ? nullptr : rest.value_unsafe(),
                           error);
      }
    }
    done_ = true;
    return ReadStatus::kEnd;
  }
  od::value value;
  if (auto err = (*it_).get(value)) {
    return SyntaxError(err, nullptr, error);
  }
  std::string_view raw = value.raw_json_token();
  const char* start = raw.data();
  TokenInfo info = ClassifyToken(raw);
  if (info.kind != TokenKind::kObject) {
    if (info.kind == TokenKind::kMalformed) return SyntaxError(simdjson::TAPE_ERROR, start, error);
    return ErrorAt(start, "expected a JSON object, got " + DescribeJsonValue(raw), error);
  }
  od::object object;
  if (auto err = value.get_object().get(object)) {
    return SyntaxError(err, start, error);
  }
  problem_.Reset();
  if (DecodeEvent(object, start, false, event, &problem_) == DecodeOutcome::kProblem) {
    if (problem_.syntax) return SyntaxError(problem_.code, start, error);
    return ErrorAt(problem_.where, std::move(problem_.message), error);
  }
  if (saw_end_) {
    return ErrorAt(start, "event after \"end\"", error);
  }
  Locate(start, &event->pos.line, &event->pos.column);
  if (event->op == Op::kEnd) saw_end_ = true;
  return ReadStatus::kEvent;
}

}  // namespace refctrace::trace
