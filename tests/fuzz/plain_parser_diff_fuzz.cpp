// Fuzz target: the plain parser against the full decoder, line by line. ParsePlainEvent is the
// reader's fast path; whatever line it takes, simdjson and DecodeEvent (the full decoder, which
// reads every other line and says what is wrong with one) must take as an event too and decode
// the same way, every field (tests/plain_decoding.h). A line the plain parser refuses is not
// compared: the full decoder reads it anyway.
//
// Each line of the input (split at '\n') goes to ParsePlainEvent as NdjsonReader::Next hands it
// over: leading JSON white space and one trailing '\r' taken off, blank lines skipped. The line
// is copied to the very end of an allocation with exactly kPlainEventReadAhead bytes after it,
// so ASan catches a read past the read-ahead; those bytes are the input's next ones after the
// line's '\n' (zeros past the input's end), so the fuzzer chooses what the parser may see there
// and the result must not depend on it. One Event is reused for every line, as the reader reuses
// it, so nothing an earlier line left (taken or refused half-way) may survive into a decoding.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "tests/fuzz/fuzz_events.h"
#include "tests/plain_decoding.h"
#include "trace/event.h"
#include "trace/json_token.h"
#include "trace/plain_event_parser.h"

namespace {

using refctrace::trace::Event;
using refctrace::trace::kPlainEventReadAhead;

// `line` with its bytes outside printable ASCII as \xNN (a NUL would end the message).
std::string Shown(std::string_view line) {
  std::string out;
  for (const char c : line) {
    if (c >= 0x20 && c < 0x7F) {
      out += c;
      continue;
    }
    static const char kHex[] = "0123456789abcdef";
    const auto b = static_cast<unsigned char>(c);
    out += {'\\', 'x', kHex[b >> 4], kHex[b & 15]};
  }
  return out;
}

void CheckLine(std::string_view line, std::string_view after, Event* plain) {
  std::unique_ptr<char[]> buf(new char[line.size() + kPlainEventReadAhead]());
  std::memcpy(buf.get(), line.data(), line.size());
  std::memcpy(buf.get() + line.size(), after.data(), std::min(after.size(), kPlainEventReadAhead));
  if (!refctrace::trace::ParsePlainEvent(std::string_view(buf.get(), line.size()), plain)) return;
  const std::optional<Event> full = refctrace::trace::FullDecode(line);
  if (!full)
    refctrace::fuzz::Fail("the plain parser took a line the full decoder refuses: " + Shown(line));
  if (!refctrace::trace::SameDecoding(*plain, *full)) {
    refctrace::fuzz::Fail("decoded differently: " + Shown(line) +
                          "\nplain: " + refctrace::fuzz::EventText(*plain) +
                          "\nfull:  " + refctrace::fuzz::EventText(*full));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  Event plain;  // reused, as the reader reuses it
  size_t begin = 0;
  while (begin < input.size()) {
    size_t end = input.find('\n', begin);
    const size_t next = end == std::string_view::npos ? input.size() : end + 1;
    if (end == std::string_view::npos) end = input.size();
    std::string_view line = input.substr(begin, end - begin);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    while (!line.empty() && refctrace::trace::IsJsonSpace(line.front()))
      line.remove_prefix(1);
    if (!line.empty()) CheckLine(line, input.substr(next), &plain);
    begin = next;
  }
  return 0;
}
