// Classifies raw JSON tokens, so a wrong type can be told apart from malformed JSON.
#pragma once

#include <cstdint>
#include <string_view>

namespace refctrace::trace {

inline bool IsJsonSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// `raw` without trailing JSON whitespace.
inline std::string_view TrimJsonSpaceRight(std::string_view raw) {
  while (!raw.empty() && IsJsonSpace(raw.back()))
    raw.remove_suffix(1);
  return raw;
}

enum class TokenKind : uint8_t {
  kMalformed,
  kString,
  kNumber,
  kTrue,
  kFalse,
  kNull,
  kObject,  // only the opening brace is looked at
  kArray,   // only the opening bracket is looked at
};

struct TokenInfo {
  TokenKind kind = TokenKind::kMalformed;
  bool negative = false;              // numbers: leading '-'
  bool fraction_or_exponent = false;  // numbers: '.', 'e' or 'E'
  std::string_view text;              // the token, trailing whitespace removed
};

// `raw` is a token as simdjson's raw_json_token() returns it: from the token's first byte to
// the next structural character. String escapes are not checked here.
TokenInfo ClassifyToken(std::string_view raw);

// Exact conversion of an integer token's digits (JSON grammar already checked). False when the
// value does not fit.
bool ParseUint64(std::string_view digits, uint64_t* out);

}  // namespace refctrace::trace
