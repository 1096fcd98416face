#include "render/source_location.h"

#include <charconv>

namespace refctrace::render {

namespace {

// Splits a trailing ":<positive number>" off `s`.
bool TakeNumberSuffix(std::string_view* s, uint64_t* n) {
  const size_t colon = s->rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == s->size()) return false;
  const std::string_view digits = s->substr(colon + 1);
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || end != digits.data() + digits.size() || value == 0) return false;
  *n = value;
  s->remove_suffix(s->size() - colon);
  return true;
}

}  // namespace

SourceLocation ParseSrc(std::string_view src) {
  SourceLocation loc;
  uint64_t last = 0;
  if (TakeNumberSuffix(&src, &last)) {
    uint64_t before = 0;
    if (TakeNumberSuffix(&src, &before)) {
      loc.line = before;
      loc.column = last;
    } else {
      loc.line = last;
    }
  }
  loc.file = std::string(src);
  return loc;
}

}  // namespace refctrace::render
