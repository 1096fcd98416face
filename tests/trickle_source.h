// A reader source that hands out its text a few bytes at a time (1 to
// max_chunk, varying), so lines and tokens straddle reads.
#pragma once

#include <algorithm>
#include <cstring>
#include <string>

#include "trace/reader.h"

namespace refctrace::trace {

class TrickleSource : public TraceReader::Source {
 public:
  explicit TrickleSource(std::string text, size_t max_chunk = 7)
      : text_(std::move(text)), max_chunk_(max_chunk) {}
  long Read(char* buf, size_t len, std::string*) override {
    size_t want = 1 + (step_++ * 5) % max_chunk_;
    size_t n = std::min({want, len, text_.size() - offset_});
    std::memcpy(buf, text_.data() + offset_, n);
    offset_ += n;
    return static_cast<long>(n);
  }

 private:
  std::string text_;
  size_t max_chunk_;
  size_t offset_ = 0;
  size_t step_ = 0;
};

}  // namespace refctrace::trace
