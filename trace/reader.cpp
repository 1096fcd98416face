#include "trace/reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "trace/compressed_input.h"
#include "trace/document_reader.h"
#include "trace/encoding_sniffer.h"
#include "trace/form_reader.h"
#include "trace/input_buffer.h"
#include "trace/input_diagnostics.h"
#include "trace/ndjson_reader.h"
#include "trace/string_source.h"

namespace refctrace::trace {
namespace {

class FdSource : public TraceReader::Source {
 public:
  FdSource(int fd, bool owned) : fd_(fd), owned_(owned) {}
  ~FdSource() override {
    if (owned_) ::close(fd_);
  }
  long Read(char* buf, size_t len, std::string* error) override {
    for (;;) {
      ssize_t n = ::read(fd_, buf, len);
      if (n >= 0) return static_cast<long>(n);
      if (errno == EINTR) continue;
      *error = std::strerror(errno);
      return -1;
    }
  }

 private:
  int fd_;
  bool owned_;
};

class ReaderImpl : public TraceReader {
 public:
  // `size_hint`: the input's total size when known, else 0. `name`: the
  // file errors are in (empty for memory).
  ReaderImpl(std::unique_ptr<Source> source, const ReaderOptions& options, uint64_t size_hint,
             std::string name = {})
      : options_(options),
        input_(std::make_unique<InputBuffer>(std::move(source), options.chunk_bytes, size_hint)),
        name_(std::move(name)) {}
  // A reader whose first Next() reports `error` (e.g. the file could not be opened).
  explicit ReaderImpl(InputError error) : error_(std::move(error)), state_(State::kFailed) {}

  ReadStatus Next(Event* event) override {
    switch (state_) {
      case State::kFailed:
        return ReadStatus::kError;
      case State::kDone:
        return ReadStatus::kEnd;
      case State::kReading:
        break;
    }
    if (!form_ && !ChooseForm()) return Fail();
    ReadStatus status = form_->Next(event, &error_);
    switch (status) {
      case ReadStatus::kEvent:
        event->pos.index = events_read_++;
        break;
      case ReadStatus::kEnd:
        state_ = State::kDone;
        break;
      case ReadStatus::kError:
        return Fail();
    }
    return status;
  }

  const InputError& error() const override { return error_; }
  Encoding encoding() const override { return encoding_; }
  const TraceHeader& header() const override {
    static const TraceHeader kNone;
    return form_ ? form_->header() : kNone;
  }
  uint64_t events_read() const override { return events_read_; }
  uint64_t bytes_read() const override { return input_ ? input_->bytes_read() : 0; }

 private:
  enum class State : uint8_t { kReading, kDone, kFailed };

  ReadStatus Fail() {
    error_.file = name_;
    state_ = State::kFailed;
    return ReadStatus::kError;
  }

  // Reads just enough to tell the encoding apart, then hands the buffer to its reader.
  bool ChooseForm() {
    EncodingSniffer sniffer(options_.max_line_bytes);
    for (;;) {
      auto verdict = sniffer.Feed(input_->begin(), input_->size(), input_->at_eof());
      switch (verdict) {
        case EncodingSniffer::Verdict::kNeedMore:
          if (!input_->Fill() && input_->failed()) {
            SetInputError(0, 0, "read error: " + input_->error(), {}, &error_);
            return false;
          }
          continue;
        case EncodingSniffer::Verdict::kEmpty:
          SetInputError(1, 1, "empty trace: no events and no header", {}, &error_);
          return false;
        case EncodingSniffer::Verdict::kNdjson:
          encoding_ = Encoding::kNdjson;
          form_ = std::make_unique<NdjsonReader>(input_.get(), options_);
          return true;
        case EncodingSniffer::Verdict::kDocument:
          encoding_ = Encoding::kDocument;
          form_ = std::make_unique<DocumentReader>(input_.get(), encoding_);
          return true;
        case EncodingSniffer::Verdict::kArray:
          encoding_ = Encoding::kArray;
          form_ = std::make_unique<DocumentReader>(input_.get(), encoding_);
          return true;
      }
    }
  }

  ReaderOptions options_;
  std::unique_ptr<InputBuffer> input_;
  std::unique_ptr<FormReader> form_;
  std::string name_;
  InputError error_;
  State state_ = State::kReading;
  Encoding encoding_ = Encoding::kUnknown;
  uint64_t events_read_ = 0;
};

// Only a regular file's reads never wait on a writer: the others' compressed bytes are decoded
// on the reader's thread (decision 232).
DecodeOn DecodeOnFor(int fd) {
  struct stat info;
  return ::fstat(fd, &info) == 0 && S_ISREG(info.st_mode) ? DecodeOn::kOwnThread
                                                          : DecodeOn::kCallersThread;
}

}  // namespace

std::unique_ptr<TraceReader> TraceReader::OpenPath(const std::string& path,
                                                   const ReaderOptions& options) {
  if (path == "-") {
    return std::make_unique<ReaderImpl>(
        DecompressIfCompressed(std::make_unique<FdSource>(STDIN_FILENO, false),
                               DecodeOnFor(STDIN_FILENO)),
        options, 0, path);
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    InputError error;
    error.message = std::string("cannot open: ") + std::strerror(errno);
    error.file = path;
    return std::make_unique<ReaderImpl>(std::move(error));
  }
  struct stat info;
  uint64_t size_hint = 0;
  if (::fstat(fd, &info) == 0 && S_ISREG(info.st_mode)) {
    size_hint = static_cast<uint64_t>(info.st_size);
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    // Compressed, its size once decompressed is unknown. pread leaves the offset where it is:
    // the source reads the magic number again.
    char magic[kCompressionMagicBytes];
    ssize_t n = ::pread(fd, magic, sizeof magic, 0);
    if (n > 0 && DetectCompression({magic, static_cast<size_t>(n)}) != Compression::kNone) {
      size_hint = 0;
    }
  }
  const DecodeOn decode_on = DecodeOnFor(fd);
  return std::make_unique<ReaderImpl>(
      DecompressIfCompressed(std::make_unique<FdSource>(fd, true), decode_on), options, size_hint,
      path);
}

std::unique_ptr<TraceReader> TraceReader::FromString(std::string text,
                                                     const ReaderOptions& options) {
  uint64_t size_hint = text.size();
  return std::make_unique<ReaderImpl>(std::make_unique<StringSource>(std::move(text)), options,
                                      size_hint);
}

std::unique_ptr<TraceReader> TraceReader::FromSource(std::unique_ptr<Source> source,
                                                     const ReaderOptions& options) {
  return std::make_unique<ReaderImpl>(std::move(source), options, 0);
}

}  // namespace refctrace::trace
