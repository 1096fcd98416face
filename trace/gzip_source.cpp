// gzip input through zlib: inflate() writes straight into the reader's buffer.
#include <zlib.h>

#include <algorithm>
#include <climits>

#include "trace/compressed_source.h"

namespace refctrace::trace {
namespace {

class GzipSource : public DecodingSource {
 public:
  explicit GzipSource(std::unique_ptr<CompressedBytes> input) : DecodingSource(std::move(input)) {
    // 15: the largest window; + 16: a gzip header and trailer, not zlib's.
    ready_ = inflateInit2(&stream_, 15 + 16) == Z_OK;
  }
  ~GzipSource() override {
    if (ready_) inflateEnd(&stream_);
  }

  long Decode(char* buf, size_t len, std::string* error) override {
    if (!ready_) return Fail("out of memory for the gzip decoder", 0, error);
    len = std::min<size_t>(len, UINT_MAX);
    stream_.next_out = reinterpret_cast<Bytef*>(buf);
    stream_.avail_out = static_cast<uInt>(len);
    for (;;) {
      if (member_done_) {
        // Another member may follow (`cat a.gz b.gz`, pigz); anything else is reported by
        // inflate as a bad header.
        if (!input_->Ensure(1, error)) return -1;
        if (input_->size() == 0) return 0;
        inflateReset(&stream_);
        member_done_ = false;
      }
      size_t offered = input_->size();
      stream_.next_in = const_cast<Bytef*>(input_->data());
      stream_.avail_in = static_cast<uInt>(offered);
      int rc = inflate(&stream_, Z_NO_FLUSH);
      size_t consumed = offered - stream_.avail_in;
      input_->Consume(consumed);
      size_t produced = len - stream_.avail_out;
      if (rc == Z_STREAM_END) {
        member_done_ = true;
        if (produced > 0) return static_cast<long>(produced);
        continue;
      }
      bool stuck = rc == Z_BUF_ERROR && consumed == 0 && produced == 0 && offered > 0;
      if ((rc != Z_OK && rc != Z_BUF_ERROR) || stuck) {
        const char* why = stream_.msg != nullptr ? stream_.msg : zError(rc);
        return Fail(CorruptStreamMessage("gzip", input_->offset(), why), produced, error);
      }
      if (produced > 0) return static_cast<long>(produced);
      if (!input_->Ensure(1, error)) return -1;
      if (input_->size() == 0) {
        return Fail(TruncatedStreamMessage("gzip", input_->offset()), 0, error);
      }
    }
  }

 private:
  z_stream stream_{};
  bool ready_ = false;
  bool member_done_ = false;
};

}  // namespace

std::unique_ptr<TraceReader::Source> MakeGzipSource(std::unique_ptr<CompressedBytes> input) {
  return std::make_unique<GzipSource>(std::move(input));
}

}  // namespace refctrace::trace
