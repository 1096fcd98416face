#include "trace/json_token.h"

namespace refctrace::trace {
namespace {

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

// JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool ScanNumber(std::string_view s, TokenInfo* info) {
  size_t i = 0, n = s.size();
  if (i < n && s[i] == '-') {
    info->negative = true;
    ++i;
  }
  if (i >= n || !IsDigit(s[i])) return false;
  if (s[i] == '0') {
    ++i;
  } else {
    while (i < n && IsDigit(s[i]))
      ++i;
  }
  if (i < n && s[i] == '.') {
    info->fraction_or_exponent = true;
    ++i;
    if (i >= n || !IsDigit(s[i])) return false;
    while (i < n && IsDigit(s[i]))
      ++i;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    info->fraction_or_exponent = true;
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    if (i >= n || !IsDigit(s[i])) return false;
    while (i < n && IsDigit(s[i]))
      ++i;
  }
  return i == n;
}

}  // namespace

TokenInfo ClassifyToken(std::string_view raw) {
  TokenInfo info;
  info.text = TrimJsonSpaceRight(raw);
  std::string_view s = info.text;
  if (s.empty()) return info;
  switch (s[0]) {
    case '"':
      // simdjson's stage 1 found the closing quote, so it ends the token.
      if (s.size() >= 2 && s.back() == '"') info.kind = TokenKind::kString;
      return info;
    case '{':
      info.text = s.substr(0, 1);
      info.kind = TokenKind::kObject;
      return info;
    case '[':
      info.text = s.substr(0, 1);
      info.kind = TokenKind::kArray;
      return info;
    case 't':
      if (s == "true") info.kind = TokenKind::kTrue;
      return info;
    case 'f':
      if (s == "false") info.kind = TokenKind::kFalse;
      return info;
    case 'n':
      if (s == "null") info.kind = TokenKind::kNull;
      return info;
    default:
      if (ScanNumber(s, &info)) info.kind = TokenKind::kNumber;
      return info;
  }
}

bool ParseUint64(std::string_view digits, uint64_t* out) {
  if (digits.empty() || digits.size() > 20) return false;
  uint64_t v = 0;
  for (char c : digits) {
    if (!IsDigit(c)) return false;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

}  // namespace refctrace::trace
