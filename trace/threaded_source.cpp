#include "trace/threaded_source.h"

#include <algorithm>
#include <cstring>
#include <system_error>

namespace refctrace::trace {

ThreadedSource::ThreadedSource(std::unique_ptr<TraceReader::Source> inner, size_t buffers,
                               size_t buffer_bytes)
    : inner_(std::move(inner)),
      buffer_bytes_(std::max<size_t>(buffer_bytes, 1)),
      ring_(std::max<size_t>(buffers, 1)) {
  for (Buffer& buffer : ring_)
    buffer.data = std::make_unique<char[]>(buffer_bytes_);
  try {
    producer_ = std::thread(&ThreadedSource::Produce, this);
  } catch (const std::system_error&) {
    // No thread to be had (a process at its limit): the same bytes, read on this one.
  }
}

ThreadedSource::~ThreadedSource() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  emptied_.notify_one();
  if (producer_.joinable()) producer_.join();
}

void ThreadedSource::Produce() {
  size_t tail = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      emptied_.wait(lock, [this] { return stop_ || full_ < ring_.size(); });
      if (stop_) return;
    }
    // ring_[tail] is not the reader's until full_ counts it.
    Buffer& buffer = ring_[tail];
    std::string error;
    long n = -1;
    std::exception_ptr exception;
    try {
      n = inner_->Read(buffer.data.get(), buffer_bytes_, &error);
    } catch (...) {
      exception = std::current_exception();
    }
    const bool ended = n <= 0 || exception;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!ended) {
        buffer.size = std::min(static_cast<size_t>(n), buffer_bytes_);
        ++full_;
      } else {
        ended_ = true;
        end_result_ = n;
        end_error_ = std::move(error);
        end_exception_ = exception;
      }
    }
    filled_.notify_one();
    if (ended) return;
    tail = (tail + 1) % ring_.size();
  }
}

long ThreadedSource::Read(char* buf, size_t len, std::string* error) {
  // After the end was handed over, the producer is done with `inner`: what it says then is its
  // own answer, as if it had been read directly all along.
  if (!producer_.joinable() || end_handed_over_) return inner_->Read(buf, len, error);
  std::unique_lock<std::mutex> lock(mutex_);
  filled_.wait(lock, [this] { return full_ > 0 || ended_; });
  if (full_ == 0) {
    end_handed_over_ = true;
    if (end_exception_) std::rethrow_exception(end_exception_);
    if (end_result_ < 0) *error = end_error_;
    return end_result_;
  }
  // ring_[head_] is the reader's until full_ stops counting it.
  Buffer& buffer = ring_[head_];
  lock.unlock();
  const size_t n = std::min(len, buffer.size - offset_);
  std::memcpy(buf, buffer.data.get() + offset_, n);
  offset_ += n;
  if (offset_ == buffer.size) {
    offset_ = 0;
    lock.lock();
    head_ = (head_ + 1) % ring_.size();
    --full_;
    lock.unlock();
    emptied_.notify_one();
  }
  return static_cast<long>(n);
}

}  // namespace refctrace::trace
