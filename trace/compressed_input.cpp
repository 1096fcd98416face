#include "trace/compressed_input.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "trace/compressed_source.h"
#include "trace/threaded_source.h"

namespace refctrace::trace {
namespace {

constexpr unsigned char kGzipMagic[] = {0x1f, 0x8b};
constexpr unsigned char kZstdMagic[] = {0x28, 0xb5, 0x2f, 0xfd};  // 0xFD2FB528, little-endian

bool StartsWith(std::string_view prefix, const unsigned char* magic, size_t size) {
  return prefix.size() >= size && std::memcmp(prefix.data(), magic, size) == 0;
}

// Plain input: the bytes read to look at, then the rest of `raw` as it comes.
class PrefixedSource : public TraceReader::Source {
 public:
  PrefixedSource(std::unique_ptr<TraceReader::Source> raw, std::string prefix)
      : raw_(std::move(raw)), prefix_(std::move(prefix)) {}
  long Read(char* buf, size_t len, std::string* error) override {
    if (offset_ == prefix_.size()) return raw_->Read(buf, len, error);
    size_t n = std::min(len, prefix_.size() - offset_);
    std::memcpy(buf, prefix_.data() + offset_, n);
    offset_ += n;
    return static_cast<long>(n);
  }

 private:
  std::unique_ptr<TraceReader::Source> raw_;
  std::string prefix_;
  size_t offset_ = 0;
};

// Decides on the first Read(), so that opening standard input does not wait for its bytes.
class SniffingSource : public TraceReader::Source {
 public:
  SniffingSource(std::unique_ptr<TraceReader::Source> raw, DecodeOn decode_on)
      : raw_(std::move(raw)), decode_on_(decode_on) {}
  long Read(char* buf, size_t len, std::string* error) override {
    if (!decided_) {
      char magic[kCompressionMagicBytes];
      size_t have = 0;
      while (have < sizeof magic) {
        long n = raw_->Read(magic + have, sizeof magic - have, error);
        if (n < 0) return -1;
        if (n == 0) break;
        have += std::min(static_cast<size_t>(n), sizeof magic - have);
      }
      std::string prefix(magic, have);
      const Compression compression = DetectCompression(prefix);
      switch (compression) {
        case Compression::kNone:
          decoded_ = std::make_unique<PrefixedSource>(std::move(raw_), std::move(prefix));
          break;
        case Compression::kGzip:
          decoded_ = MakeGzipSource(std::make_unique<CompressedBytes>(std::move(raw_), prefix));
          break;
        case Compression::kZstd:
          decoded_ = MakeZstdSource(std::make_unique<CompressedBytes>(std::move(raw_), prefix));
          break;
      }
      // Decoded on a thread of their own (decision 230); plain bytes need no thread.
      if (compression != Compression::kNone && decode_on_ == DecodeOn::kOwnThread)
        decoded_ = std::make_unique<ThreadedSource>(std::move(decoded_));
      decided_ = true;
    }
    return decoded_->Read(buf, len, error);
  }

 private:
  std::unique_ptr<TraceReader::Source> raw_;
  std::unique_ptr<TraceReader::Source> decoded_;
  DecodeOn decode_on_;
  bool decided_ = false;
};

}  // namespace

Compression DetectCompression(std::string_view prefix) {
  if (StartsWith(prefix, kGzipMagic, sizeof kGzipMagic)) return Compression::kGzip;
  if (StartsWith(prefix, kZstdMagic, sizeof kZstdMagic)) return Compression::kZstd;
  return Compression::kNone;
}

std::unique_ptr<TraceReader::Source> DecompressIfCompressed(
    std::unique_ptr<TraceReader::Source> raw, DecodeOn decode_on) {
  return std::make_unique<SniffingSource>(std::move(raw), decode_on);
}

}  // namespace refctrace::trace
