// What the gzip and zstd decoders share: their compressed bytes, and how they describe a fault.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "trace/reader.h"

namespace refctrace::trace {

// Reads compressed bytes from a raw Source in chunks, counting them, so an error can say at
// which byte of the compressed stream it was found.
class CompressedBytes {
 public:
  // `prefix`: bytes already read from `raw` (its magic number), delivered first.
  CompressedBytes(std::unique_ptr<TraceReader::Source> raw, std::string_view prefix);

  const unsigned char* data() const { return buf_.get() + pos_; }
  size_t size() const { return end_ - pos_; }
  // The decoder took `n` bytes of data().
  void Consume(size_t n) {
    pos_ += n;
    offset_ += n;
  }
  // Makes at least `n` bytes available in data() (at most the buffer's size), reading as much
  // as it takes, unless the input ends first. False only on a read error (*error says which,
  // on this call and every later one).
  bool Ensure(size_t n, std::string* error);
  // Offset in the compressed stream of data()[0].
  uint64_t offset() const { return offset_; }

 private:
  // Room for a whole zstd block (128 KiB and its header) after a partial one.
  static constexpr size_t kCapacity = size_t{256} << 10;

  std::unique_ptr<TraceReader::Source> raw_;
  std::unique_ptr<unsigned char[]> buf_;
  size_t pos_ = 0;
  size_t end_ = 0;
  uint64_t offset_ = 0;
  bool eof_ = false;
  std::string read_error_;  // the raw input's read error, once it failed
};

// "corrupt gzip stream at byte 1234 of the compressed input: invalid block type".
std::string CorruptStreamMessage(std::string_view format, uint64_t offset, std::string_view why);
// "truncated zstd stream: the compressed input ends at byte 1234, inside a frame".
std::string TruncatedStreamMessage(std::string_view format, uint64_t size);

// A Source that decodes CompressedBytes. A fault is delivered after every byte decoded before
// it, and every later Read() reports it again.
class DecodingSource : public TraceReader::Source {
 public:
  explicit DecodingSource(std::unique_ptr<CompressedBytes> input) : input_(std::move(input)) {}
  long Read(char* buf, size_t len, std::string* error) final;

 protected:
  // Decodes into [buf, buf + len): bytes decoded (> 0), 0 at the end of the stream, or -1 with
  // *error set (a read error of the raw input), or Fail().
  virtual long Decode(char* buf, size_t len, std::string* error) = 0;
  // The stream is corrupt or truncated; `produced` bytes before the fault are returned first.
  long Fail(std::string message, size_t produced, std::string* error);

  std::unique_ptr<CompressedBytes> input_;

 private:
  std::string fault_;
};

// Decompresses gzip (RFC 1952) members, one after another as `cat a.gz b.gz` makes them.
std::unique_ptr<TraceReader::Source> MakeGzipSource(std::unique_ptr<CompressedBytes> input);
// Decompresses zstd frames (and skips skippable ones), one after another.
std::unique_ptr<TraceReader::Source> MakeZstdSource(std::unique_ptr<CompressedBytes> input);

}  // namespace refctrace::trace
