// Fuzz target: the reader on arbitrary bytes (mostly NDJSON: the seed corpus
// is testdata/). Oracle: besides sanitizers, reading the bytes whole into one
// reused event and reading them in tiny, uneven pieces into a fresh event each
// time must deliver the same events (every field) and the same error, so
// neither buffer refills at any byte nor what an earlier line left in a reused
// event can change a result.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "tests/fuzz/fuzz_events.h"
#include "tests/trickle_source.h"
#include "trace/reader.h"

namespace {

using refctrace::trace::ReaderOptions;
using refctrace::trace::TraceReader;
using refctrace::trace::TrickleSource;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // A small line limit so the fuzzer reaches the too-long path too.
  ReaderOptions whole_options;
  whole_options.max_line_bytes = 1024;
  ReaderOptions trickle_options = whole_options;
  trickle_options.chunk_bytes = 16;

  auto whole = TraceReader::FromString(text, whole_options);
  auto trickle =
      TraceReader::FromSource(std::make_unique<TrickleSource>(text, 13), trickle_options);
  const std::string a = refctrace::fuzz::Transcript(*whole);
  const std::string b = refctrace::fuzz::Transcript(*trickle, /*fresh=*/true);
  if (a != b) refctrace::fuzz::Fail("whole and trickled reads differ:\n" + a + "---\n" + b);
  return 0;
}
