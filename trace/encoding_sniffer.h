// Decides a trace's encoding from its first bytes, as trace-format-v1 prescribes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace refctrace::trace {

// A first non-blank `[` means a bare array; a first JSON value that is an object with a
// top-level "events" key means a JSON document; anything else is NDJSON. The first value is
// followed with a small grammar check, so a broken first NDJSON line is given up on quickly
// (and reported by the NDJSON reader) instead of being buffered to the end of the input.
class EncodingSniffer {
 public:
  enum class Verdict : uint8_t { kNeedMore, kEmpty, kNdjson, kDocument, kArray };

  // Looking further than `max_scan_bytes` into the first value gives up with kNdjson.
  explicit EncodingSniffer(size_t max_scan_bytes) : max_scan_bytes_(max_scan_bytes) {}

  // `data` holds the input from its first byte: what the last call saw plus what was read
  // since. `eof`: nothing more will come.
  Verdict Feed(const char* data, size_t size, bool eof);

 private:
  enum class Mode : uint8_t { kLeading, kStructure, kString, kScalar };
  enum class Expect : uint8_t { kKeyOrClose, kKey, kColon, kValueOrClose, kValue, kCommaOrClose };

  // Returns kNeedMore to go on, anything else is the verdict.
  Verdict Step(const char* data, char c);
  Verdict Close(char c);

  size_t max_scan_bytes_;
  size_t pos_ = 0;
  Mode mode_ = Mode::kLeading;
  Expect expect_ = Expect::kValue;
  std::vector<char> stack_;  // '{' or '['
  bool escape_ = false;
  bool string_is_key_ = false;
  size_t string_start_ = 0;
};

}  // namespace refctrace::trace
