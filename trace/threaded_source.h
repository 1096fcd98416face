// A Source read ahead on a thread of its own: decoding a compressed trace on the other core
// keeps its window out of the cache the model's tables live in (decision 230).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "trace/reader.h"

namespace refctrace::trace {

// Reads `inner` on a producer thread into a ring of fixed buffers and hands the bytes out in
// the same order. How `inner` ends (0, -1 with its error, or an exception, rethrown) comes after
// every byte read before it; every later Read() is `inner`'s own, on the caller's thread (a
// DecodingSource repeats its fault).
// The thread starts in the constructor (when it cannot, `inner` is read directly). The
// destructor stops the producer and joins it: one blocked on a full ring wakes at once, one
// inside `inner`'s Read() is waited for, so a pipe whose writer neither writes nor closes
// holds the destructor until it does.
class ThreadedSource : public TraceReader::Source {
 public:
  explicit ThreadedSource(std::unique_ptr<TraceReader::Source> inner, size_t buffers = 4,
                          size_t buffer_bytes = size_t{128} << 10);
  ~ThreadedSource() override;
  ThreadedSource(const ThreadedSource&) = delete;
  ThreadedSource& operator=(const ThreadedSource&) = delete;

  long Read(char* buf, size_t len, std::string* error) override;

 private:
  struct Buffer {
    std::unique_ptr<char[]> data;
    size_t size = 0;
  };

  void Produce();

  std::unique_ptr<TraceReader::Source> inner_;  // read by the producer only, once it runs
  const size_t buffer_bytes_;
  std::vector<Buffer> ring_;  // the producer fills ring_[tail], the reader empties ring_[head_]

  std::mutex mutex_;
  std::condition_variable filled_;   // the reader waits on it for a buffer or the end
  std::condition_variable emptied_;  // the producer waits on it for room or stop_
  // Guarded by mutex_:
  size_t head_ = 0;     // the buffer the reader is at
  size_t full_ = 0;     // buffers filled and not yet emptied, from head_ on
  bool ended_ = false;  // the producer is done: end_result_ says how
  long end_result_ = 0;
  std::string end_error_;
  std::exception_ptr end_exception_;
  bool stop_ = false;  // the reader is gone: the producer stops

  // The reader's own:
  size_t offset_ = 0;  // its position in ring_[head_]
  bool end_handed_over_ = false;
  std::thread producer_;
};

}  // namespace refctrace::trace
