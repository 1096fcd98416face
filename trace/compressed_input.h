// Compressed traces: gzip and zstd input, recognised by its first bytes and decompressed as it
// is read, so the readers above see the trace's text and nothing else.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "trace/reader.h"

namespace refctrace::trace {

enum class Compression : uint8_t { kNone, kGzip, kZstd };

// Bytes needed to tell the compressions apart (zstd's magic number is the longest).
inline constexpr size_t kCompressionMagicBytes = 4;

// What `prefix`, the first bytes of an input, says it is. A prefix shorter than
// kCompressionMagicBytes that could still become a magic number is taken as what it is so far:
// kNone (an input that short is not a compressed stream anyway).
Compression DetectCompression(std::string_view prefix);

// Wraps `raw`: its first Read() looks at the first bytes of `raw` and, when they are a gzip or
// zstd magic number, every Read() returns decompressed bytes; otherwise the bytes as they are.
// A corrupt or truncated compressed stream is a read error that names the byte of the
// compressed stream it was found at, after every byte decompressed before it. Compressed bytes
// are read and decoded on a thread of their own (trace/threaded_source.h) when `decode_on` says
// so, else on the caller's, like plain ones.
enum class DecodeOn : uint8_t {
  kOwnThread,
  // For a raw source whose read may wait on a writer (a pipe, a terminal): a reader that stops
  // early must not wait for that writer (docs/decisions.md 232).
  kCallersThread,
};
std::unique_ptr<TraceReader::Source> DecompressIfCompressed(
    std::unique_ptr<TraceReader::Source> raw, DecodeOn decode_on = DecodeOn::kOwnThread);

}  // namespace refctrace::trace
