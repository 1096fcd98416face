// Fuzz target: the reader on the JSON document forms. Inputs that already
// look like a document ('[' first, or an "events" key) are read as they
// are; anything else is taken as NDJSON lines and wrapped into
// {"refctrace":1,"events":[line,line,...]}, so the NDJSON seeds of testdata/
// become documents the fuzzer can mutate.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tests/fuzz/fuzz_events.h"
#include "trace/reader.h"

namespace {

std::string AsDocument(std::string_view text) {
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos &&
      (text[first] == '[' || text.find("\"events\"") != std::string_view::npos)) {
    return std::string(text);
  }
  std::string out = "{\"refctrace\":1,\"events\":[";
  bool any = false;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    // The NDJSON header line has no place among the events.
    if (!any && line.find("\"refctrace\"") != std::string_view::npos &&
        line.find("\"op\"") == std::string_view::npos) {
      continue;
    }
    if (any) out += ',';
    out += line;
    any = true;
  }
  return out + "]}";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text = AsDocument(std::string_view(reinterpret_cast<const char*>(data), size));
  auto reader = refctrace::trace::TraceReader::FromString(text);
  refctrace::fuzz::Transcript(*reader);
  return 0;
}
