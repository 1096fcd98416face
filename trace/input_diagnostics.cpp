#include "trace/input_diagnostics.h"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

namespace refctrace::trace {
namespace {

constexpr size_t kExcerptWidth = 100;

bool IsContinuation(unsigned char c) {
  return (c & 0xC0) == 0x80;
}

// Length of the valid UTF-8 sequence at text[i], or 0 when the byte starts none.
size_t Utf8SequenceLength(std::string_view text, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char c = byte(i);
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;  // no overlong forms
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if (!IsContinuation(byte(i + k))) return 0;
  }
  return n;
}

void AppendHexEscape(unsigned char c, std::string* out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  out->append("\\x");
  out->push_back(kHex[c >> 4]);
  out->push_back(kHex[c & 0xF]);
}

// Appends the display form of text[i...] (one character) and returns how many bytes it used.
// *width gets the number of terminal columns it takes (a UTF-8 sequence counts as one).
size_t AppendDisplayChar(std::string_view text, size_t i, bool tab_as_space, std::string* out,
                         size_t* width) {
  auto c = static_cast<unsigned char>(text[i]);
  if (c == '\t' && tab_as_space) {
    out->push_back(' ');
    *width = 1;
    return 1;
  }
  if (c < 0x20 || c == 0x7F) {
    AppendHexEscape(c, out);
    *width = 4;
    return 1;
  }
  size_t n = Utf8SequenceLength(text, i);
  if (n == 0) {
    AppendHexEscape(c, out);
    *width = 4;
    return 1;
  }
  out->append(text.substr(i, n));
  *width = 1;
  return n;
}

std::string CleanNlohmannMessage(const std::string& what) {
  std::string msg = what;
  // "[json.exception.parse_error.101] parse error at line 1, column 7: <detail>"
  size_t column = msg.find(", column ");
  size_t colon = column == std::string::npos ? std::string::npos : msg.find(": ", column);
  if (colon != std::string::npos) {
    msg.erase(0, colon + 2);
  } else if (size_t bracket = msg.find("] ");
             msg.rfind("[json.exception", 0) == 0 && bracket != std::string::npos) {
    msg.erase(0, bracket + 2);
  }
  // The "last read" token can be a whole long string; its tail is where the problem is.
  constexpr std::string_view kLastRead = "last read: '";
  size_t start = msg.find(kLastRead);
  if (start != std::string::npos) {
    start += kLastRead.size();
    size_t stop = msg.rfind("'; expected");
    if (stop == std::string::npos || stop < start) {
      stop = !msg.empty() && msg.back() == '\'' ? msg.size() - 1 : std::string::npos;
    }
    if (stop != std::string::npos && stop > start + 40) {
      size_t keep_from = stop - 40;
      while (keep_from < stop && IsContinuation(static_cast<unsigned char>(msg[keep_from]))) {
        ++keep_from;
      }
      msg.replace(start, keep_from - start, "...");
    }
  }
  return EscapeForDisplay(msg);
}

// A SAX consumer that builds nothing: nlohmann only checks the grammar.
struct SyntaxOnlySax {
  using json = nlohmann::json;
  std::optional<JsonSyntaxError> error;
  size_t text_size = 0;

  bool null() { return true; }
  bool boolean(bool) { return true; }
  bool number_integer(json::number_integer_t) { return true; }
  bool number_unsigned(json::number_unsigned_t) { return true; }
  bool number_float(json::number_float_t, const std::string&) { return true; }
  bool string(std::string&) { return true; }
  bool binary(json::binary_t&) { return true; }
  bool start_object(std::size_t) { return true; }
  bool key(std::string&) { return true; }
  bool end_object() { return true; }
  bool start_array(std::size_t) { return true; }
  bool end_array() { return true; }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) {
    // Only grammar errors (parse_error.1xx) count; e.g. a number too big for a double is
    // valid JSON that nlohmann cannot hold.
    if (ex.id >= 100 && ex.id < 200) {
      JsonSyntaxError e;
      // `position` counts the bytes read, including the offending one (1-based).
      e.offset = std::min(position == 0 ? 0 : position - 1, text_size);
      e.message = CleanNlohmannMessage(ex.what());
      error = std::move(e);
    }
    return false;
  }
};

// nlohmann points at the last byte it read. For an unexpected string or number, and for bad
// UTF-8, where the token (or the sequence) starts is the better place for the caret.
size_t TokenStart(std::string_view text, const JsonSyntaxError& error) {
  size_t at = error.offset;
  if (at >= text.size() || at == 0) return at;
  auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const std::string& m = error.message;
  if (m.find("unexpected string literal") != std::string::npos && text[at] == '"') {
    for (size_t j = at; j-- > 0;) {
      if (text[j] != '"') continue;
      size_t backslashes = 0;
      while (j > backslashes && text[j - 1 - backslashes] == '\\')
        ++backslashes;
      if (backslashes % 2 == 0) return j;
    }
    return at;
  }
  if (m.find("unexpected number literal") != std::string::npos) {
    size_t j = at;
    while (j > 0 && std::strchr("0123456789+-.eE", text[j - 1]) != nullptr)
      --j;
    return j;
  }
  if (m.find("ill-formed UTF-8") != std::string::npos) {
    size_t j = at;
    while (j > 0 && IsContinuation(byte(j - 1)))
      --j;
    if (j > 0 && byte(j - 1) >= 0xC0) return j - 1;  // the lead byte of the broken sequence
  }
  return at;
}

}  // namespace

std::string EscapeForDisplay(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t width;
  for (size_t i = 0; i < text.size();)
    i += AppendDisplayChar(text, i, false, &out, &width);
  return out;
}

std::string ShortForDisplay(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return EscapeForDisplay(text);
  size_t cut = max_bytes;
  while (cut > 0 && IsContinuation(static_cast<unsigned char>(text[cut])))
    --cut;
  return EscapeForDisplay(text.substr(0, cut)) + "...";
}

void SetExcerpt(std::string_view line, uint64_t column, InputError* error) {
  error->excerpt.clear();
  error->excerpt_caret = 0;
  size_t len = line.size();
  size_t at = column == 0 ? 0 : static_cast<size_t>(std::min<uint64_t>(column - 1, len));
  size_t start = 0, stop = len;
  if (len > kExcerptWidth) {
    start = at > kExcerptWidth / 2 ? at - kExcerptWidth / 2 : 0;
    stop = std::min(len, start + kExcerptWidth);
    if (stop - start < kExcerptWidth) start = stop - kExcerptWidth;
    // Cut on character boundaries, never past the caret.
    while (start > 0 && start < at && IsContinuation(static_cast<unsigned char>(line[start]))) {
      ++start;
    }
    while (stop < len && stop > at && IsContinuation(static_cast<unsigned char>(line[stop]))) {
      --stop;
    }
  }
  std::string& out = error->excerpt;
  size_t width_so_far = 0;
  if (start > 0) {
    out = "...";
    width_so_far = 3;
  }
  uint64_t caret = 0;
  for (size_t i = start; i < stop;) {
    size_t width;
    size_t used = AppendDisplayChar(line, i, true, &out, &width);
    if (caret == 0 && at >= i && at < i + used) caret = width_so_far + 1;
    width_so_far += width;
    i += used;
  }
  if (caret == 0) caret = width_so_far + 1;  // the column is just past the shown text
  if (stop < len) out += "...";
  error->excerpt_caret = column == 0 ? 0 : caret;
}

void SetInputError(uint64_t line, uint64_t column, std::string message, std::string_view line_text,
                   InputError* error) {
  error->line = line;
  error->column = column;
  error->message = std::move(message);
  SetExcerpt(line_text, column, error);
}

std::optional<JsonSyntaxError> FindJsonSyntaxError(std::string_view text) {
  SyntaxOnlySax sax;
  sax.text_size = text.size();
  try {
    nlohmann::json::sax_parse(text.begin(), text.end(), &sax, nlohmann::json::input_format_t::json,
                              /*strict=*/true);
  } catch (const std::exception&) {
    return std::nullopt;  // not expected with a SAX that returns false; the caller copes
  }
  if (sax.error) sax.error->offset = TokenStart(text, *sax.error);
  // nlohmann takes a NUL byte outside a string for the end of the input.
  if (sax.error && sax.error->offset < text.size() && text[sax.error->offset] == '\0') {
    std::string& m = sax.error->message;
    constexpr std::string_view kEnd = "unexpected end of input";
    if (size_t at = m.find(kEnd); at != std::string::npos) {
      m.replace(at, kEnd.size(), "unexpected NUL byte (\\x00)");
    }
  }
  return sax.error;
}

std::string DescribeByteCount(size_t bytes) {
  constexpr size_t kMiB = size_t{1} << 20;
  if (bytes >= kMiB && bytes % kMiB == 0) return std::to_string(bytes / kMiB) + " MiB";
  return std::to_string(bytes) + " bytes";
}

}  // namespace refctrace::trace
