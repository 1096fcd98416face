// A Source over bytes held in memory: TraceReader::FromString reads through one, and tests
// that build a Source chain start from one.
#pragma once

#include <algorithm>
#include <cstring>
#include <string>

#include "trace/reader.h"

namespace refctrace::trace {

class StringSource : public TraceReader::Source {
 public:
  explicit StringSource(std::string text) : text_(std::move(text)) {}
  long Read(char* buf, size_t len, std::string*) override {
    size_t n = std::min(len, text_.size() - offset_);
    std::memcpy(buf, text_.data() + offset_, n);
    offset_ += n;
    return static_cast<long>(n);
  }

 private:
  std::string text_;
  size_t offset_ = 0;
};

}  // namespace refctrace::trace
