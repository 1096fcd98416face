// A growable read buffer over a TraceReader::Source, with simdjson padding after the data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "trace/reader.h"

namespace refctrace::trace {

// Holds the unconsumed bytes [begin(), end()). Every byte from begin() up to the end of the
// allocation may be read, and at least kPadding bytes always follow end(), so a line or a
// document inside the buffer can be handed to simdjson without copying it.
class InputBuffer {
 public:
  static constexpr size_t kPadding = 64;  // >= SIMDJSON_PADDING, checked in the .cpp

  // `size_hint`: the input's total size when known (a regular file, a string), else 0. It
  // keeps small inputs from getting a whole chunk, and large documents from being regrown.
  InputBuffer(std::unique_ptr<TraceReader::Source> source, size_t chunk_bytes, uint64_t size_hint);

  char* begin() const { return buf_.get() + begin_; }
  char* end() const { return buf_.get() + end_; }
  size_t size() const { return end_ - begin_; }
  void Consume(size_t n) { begin_ += n; }
  // Readable bytes from `p` (inside the buffer) to the end of the allocation.
  size_t RoomFrom(const char* p) const { return buf_.get() + capacity_ + kPadding - p; }

  // Appends at least one byte from the source. Makes room by moving the unconsumed bytes to
  // the front, or by doubling the buffer (never past max_capacity, if set) when they fill it.
  // Invalidates pointers into the buffer. False at end of input, on a read error, or when
  // the buffer is full at max_capacity.
  bool Fill();
  // Reads until end of input (or an error), keeping everything. With a size hint the buffer
  // is sized once: touching memory is what costs most when reading a large document whole.
  bool FillAll();

  void set_max_capacity(size_t max_capacity) { max_capacity_ = max_capacity; }
  bool at_eof() const { return eof_; }
  bool failed() const { return failed_; }
  const std::string& error() const { return error_; }
  uint64_t bytes_read() const { return bytes_read_; }

 private:
  // Grows to at least `min_capacity` (doubling if 0). False, with failed() set, without memory.
  bool Grow(size_t min_capacity = 0);

  std::unique_ptr<TraceReader::Source> source_;
  std::unique_ptr<char[]> buf_;
  size_t capacity_ = 0;      // data bytes, padding excluded
  size_t max_capacity_ = 0;  // 0: unlimited
  uint64_t size_hint_ = 0;
  size_t begin_ = 0;
  size_t end_ = 0;
  bool eof_ = false;
  bool failed_ = false;
  std::string error_;
  uint64_t bytes_read_ = 0;
};

}  // namespace refctrace::trace
