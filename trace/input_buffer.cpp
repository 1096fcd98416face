#include "trace/input_buffer.h"

#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <new>

namespace refctrace::trace {

static_assert(InputBuffer::kPadding >= simdjson::SIMDJSON_PADDING);

InputBuffer::InputBuffer(std::unique_ptr<TraceReader::Source> source, size_t chunk_bytes,
                         uint64_t size_hint)
    : source_(std::move(source)), size_hint_(size_hint) {
  capacity_ = std::max<size_t>(chunk_bytes, 64);
  // + 1: room to see the end of input without growing.
  if (size_hint > 0 && size_hint < capacity_) capacity_ = std::max<size_t>(size_hint + 1, 64);
  buf_.reset(new char[capacity_ + kPadding]);
  // simdjson may look up to kPadding bytes past what it parses: never at uninitialised memory.
  std::memset(buf_.get(), 0, kPadding);
  std::memset(buf_.get() + capacity_, 0, kPadding);
}

bool InputBuffer::Grow(size_t min_capacity) {
  if (max_capacity_ != 0 && capacity_ >= max_capacity_) return false;
  size_t new_capacity = std::max(capacity_ * 2, min_capacity);
  if (max_capacity_ != 0) new_capacity = std::min(new_capacity, max_capacity_);
  std::unique_ptr<char[]> bigger(new (std::nothrow) char[new_capacity + kPadding]);
  if (!bigger) {
    failed_ = true;
    error_ = "out of memory while buffering the input";
    return false;
  }
  size_t size = end_ - begin_;
  std::memcpy(bigger.get(), buf_.get() + begin_, size);
  // Only what simdjson may peek at is cleared; reads fill the rest.
  std::memset(bigger.get() + size, 0, std::min(kPadding, new_capacity - size));
  std::memset(bigger.get() + new_capacity, 0, kPadding);
  end_ = size;
  begin_ = 0;
  buf_ = std::move(bigger);
  capacity_ = new_capacity;
  return true;
}

bool InputBuffer::Fill() {
  if (eof_ || failed_) return false;
  if (end_ == capacity_) {
    if (begin_ > 0) {
      std::memmove(buf_.get(), buf_.get() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    } else if (!Grow()) {
      return false;
    }
  }
  size_t room = capacity_ - end_;
  long n = source_->Read(buf_.get() + end_, room, &error_);
  if (n < 0) {
    failed_ = true;
    if (error_.empty()) error_ = "read error";
    return false;
  }
  if (n == 0) {
    eof_ = true;
    return false;
  }
  size_t got = std::min(static_cast<size_t>(n), room);  // a Source that overreports is not trusted
  end_ += got;
  bytes_read_ += got;
  std::memset(buf_.get() + end_, 0, kPadding);  // see the constructor
  return true;
}

bool InputBuffer::FillAll() {
  // + 1: room to find the end of input without growing once more.
  if (size_hint_ > 0 && size_hint_ < SIZE_MAX / 2 && size_hint_ + 1 > capacity_) {
    Grow(static_cast<size_t>(size_hint_) + 1);
  }
  while (Fill()) {
  }
  return !failed_;
}

}  // namespace refctrace::trace
