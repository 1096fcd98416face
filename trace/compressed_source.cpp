#include "trace/compressed_source.h"

#include <algorithm>
#include <cstring>

namespace refctrace::trace {

CompressedBytes::CompressedBytes(std::unique_ptr<TraceReader::Source> raw, std::string_view prefix)
    : raw_(std::move(raw)), buf_(new unsigned char[std::max(kCapacity, prefix.size())]) {
  std::memcpy(buf_.get(), prefix.data(), prefix.size());
  end_ = prefix.size();
}

bool CompressedBytes::Ensure(size_t n, std::string* error) {
  n = std::min(n, kCapacity);
  if (size() >= n || eof_) return true;
  if (!read_error_.empty()) {
    *error = read_error_;  // every later call says it again, not an empty message
    return false;
  }
  std::memmove(buf_.get(), buf_.get() + pos_, end_ - pos_);
  end_ -= pos_;
  pos_ = 0;
  while (end_ < n) {
    long got = raw_->Read(reinterpret_cast<char*>(buf_.get() + end_), kCapacity - end_, error);
    if (got < 0) {
      if (error->empty()) *error = "read error";
      read_error_ = *error;
      return false;
    }
    if (got == 0) {
      eof_ = true;
      break;
    }
    end_ += std::min(static_cast<size_t>(got), kCapacity - end_);
  }
  return true;
}

long DecodingSource::Read(char* buf, size_t len, std::string* error) {
  if (!fault_.empty()) {
    *error = fault_;
    return -1;
  }
  return Decode(buf, len, error);
}

long DecodingSource::Fail(std::string message, size_t produced, std::string* error) {
  fault_ = std::move(message);
  if (produced > 0) return static_cast<long>(produced);
  *error = fault_;
  return -1;
}

std::string CorruptStreamMessage(std::string_view format, uint64_t offset, std::string_view why) {
  return "corrupt " + std::string(format) + " stream at byte " + std::to_string(offset) +
         " of the compressed input: " + std::string(why);
}

std::string TruncatedStreamMessage(std::string_view format, uint64_t size) {
  return "truncated " + std::string(format) + " stream: the compressed input ends at byte " +
         std::to_string(size) + ", before the end of its data";
}

}  // namespace refctrace::trace
