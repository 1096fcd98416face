// Compressed traces made in the tests from plain text, and a Source over bytes in memory:
// what the compressed-input tests and the threaded-source tests share (the Source is
// trace/string_source.h).
#pragma once

#include <doctest/doctest.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "trace/reader.h"
#include "trace/string_source.h"

namespace refctrace::trace {

// A valid NDJSON trace of `events` alloc/free pairs and a stop; each line differs, so that a
// compressed stream of it spans many blocks.
inline std::string PlainTrace(int pairs) {
  std::string text = "{\"refctrace\":1,\"source\":\"test\"}\n";
  for (int i = 0; i < pairs; ++i) {
    std::string bin = "\"0x" + std::to_string(1000 + i) + "\"";
    text += "{\"op\":\"alloc\",\"bin\":" + bin + ",\"size\":" + std::to_string(i % 997 + 1) +
            ",\"src\":\"t.c:" + std::to_string(i % 89) + "\"}\n";
    text +=
        "{\"op\":\"free\",\"bin\":" + bin + ",\"src\":\"t.c:" + std::to_string(i % 83) + "\"}\n";
  }
  return text + "{\"op\":\"stop\"}\n";
}

// One gzip member per part, concatenated (what `cat a.gz b.gz` makes).
inline std::string Gzip(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& part : parts) {
    z_stream z{};
    REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    std::string member(deflateBound(&z, part.size()), '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(part.data()));
    z.avail_in = static_cast<uInt>(part.size());
    z.next_out = reinterpret_cast<Bytef*>(member.data());
    z.avail_out = static_cast<uInt>(member.size());
    REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
    member.resize(z.total_out);
    deflateEnd(&z);
    out += member;
  }
  return out;
}

// One zstd frame per part, concatenated.
inline std::string Zstd(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& part : parts) {
    std::string frame(ZSTD_compressBound(part.size()), '\0');
    size_t n = ZSTD_compress(frame.data(), frame.size(), part.data(), part.size(), 3);
    REQUIRE(!ZSTD_isError(n));
    frame.resize(n);
    out += frame;
  }
  return out;
}

}  // namespace refctrace::trace
