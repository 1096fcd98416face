#include "trace/encoding_sniffer.h"

#include <cstring>

#include "trace/json_token.h"

namespace refctrace::trace {
namespace {

constexpr size_t kMaxDepth = 1024;  // simdjson's default; deeper input is rejected anyway

bool IsScalarChar(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '+' ||
         c == '-' || c == '.';
}

}  // namespace

EncodingSniffer::Verdict EncodingSniffer::Feed(const char* data, size_t size, bool eof) {
  if (mode_ == Mode::kLeading) {
    // A UTF-8 byte order mark is skipped like whitespace.
    static constexpr char kBom[] = "\xEF\xBB\xBF";
    if (pos_ == 0) {
      if (size < 3 && !eof && std::memcmp(data, kBom, size) == 0) return Verdict::kNeedMore;
      if (size >= 3 && std::memcmp(data, kBom, 3) == 0) pos_ = 3;
    }
    while (pos_ < size && IsJsonSpace(data[pos_]))
      ++pos_;
    if (pos_ == size) return eof ? Verdict::kEmpty : Verdict::kNeedMore;
    char c = data[pos_++];
    if (c == '[') return Verdict::kArray;
    if (c != '{') return Verdict::kNdjson;
    stack_.push_back('{');
    mode_ = Mode::kStructure;
    expect_ = Expect::kKeyOrClose;
  }
  while (pos_ < size) {
    if (pos_ > max_scan_bytes_) return Verdict::kNdjson;
    Verdict v = Step(data, data[pos_]);
    if (v != Verdict::kNeedMore) return v;
  }
  return eof ? Verdict::kNdjson : Verdict::kNeedMore;
}

// Consumes data[pos_] (== c), or leaves it for the next step when a scalar ends at it.
EncodingSniffer::Verdict EncodingSniffer::Step(const char* data, char c) {
  switch (mode_) {
    case Mode::kString:
      ++pos_;
      if (escape_) {
        escape_ = false;
      } else if (c == '\\') {
        escape_ = true;
      } else if (c == '"') {
        mode_ = Mode::kStructure;
        if (string_is_key_) {
          size_t len = pos_ - 1 - string_start_;
          if (stack_.size() == 1 && len == 6 &&
              std::memcmp(data + string_start_, "events", 6) == 0) {
            return Verdict::kDocument;
          }
          expect_ = Expect::kColon;
        } else {
          expect_ = Expect::kCommaOrClose;
        }
      } else if (static_cast<unsigned char>(c) < 0x20) {
        return Verdict::kNdjson;  // raw control character (e.g. a newline) in a string
      }
      return Verdict::kNeedMore;
    case Mode::kScalar:
      if (IsScalarChar(c)) {
        ++pos_;
      } else {
        mode_ = Mode::kStructure;
        expect_ = Expect::kCommaOrClose;
      }
      return Verdict::kNeedMore;
    case Mode::kLeading:
    case Mode::kStructure:
      break;
  }
  ++pos_;
  if (IsJsonSpace(c)) return Verdict::kNeedMore;
  auto start_string = [&](bool key) {
    mode_ = Mode::kString;
    string_is_key_ = key;
    string_start_ = pos_;
    return Verdict::kNeedMore;
  };
  switch (expect_) {
    case Expect::kKeyOrClose:
      if (c == '}') return Close(c);
      [[fallthrough]];
    case Expect::kKey:
      if (c == '"') return start_string(true);
      return Verdict::kNdjson;
    case Expect::kColon:
      if (c != ':') return Verdict::kNdjson;
      expect_ = Expect::kValue;
      return Verdict::kNeedMore;
    case Expect::kValueOrClose:
      if (c == ']') return Close(c);
      [[fallthrough]];
    case Expect::kValue:
      if (c == '{' || c == '[') {
        if (stack_.size() >= kMaxDepth) return Verdict::kNdjson;
        stack_.push_back(c);
        expect_ = c == '{' ? Expect::kKeyOrClose : Expect::kValueOrClose;
        return Verdict::kNeedMore;
      }
      if (c == '"') return start_string(false);
      if (IsScalarChar(c)) {
        mode_ = Mode::kScalar;
        return Verdict::kNeedMore;
      }
      return Verdict::kNdjson;
    case Expect::kCommaOrClose:
      if (c == ',') {
        expect_ = stack_.back() == '{' ? Expect::kKey : Expect::kValue;
        return Verdict::kNeedMore;
      }
      if (c == '}' || c == ']') return Close(c);
      return Verdict::kNdjson;
  }
  return Verdict::kNdjson;
}

EncodingSniffer::Verdict EncodingSniffer::Close(char c) {
  char open = c == '}' ? '{' : '[';
  if (stack_.empty() || stack_.back() != open) return Verdict::kNdjson;
  stack_.pop_back();
  // The first value ended without a top-level "events" key.
  if (stack_.empty()) return Verdict::kNdjson;
  expect_ = Expect::kCommaOrClose;
  return Verdict::kNeedMore;
}

}  // namespace refctrace::trace
