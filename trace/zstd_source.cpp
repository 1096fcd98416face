// zstd input through libzstd's streaming API: frames decode straight into the reader's buffer.
#include <zstd.h>

#include <algorithm>

#include "trace/compressed_source.h"

namespace refctrace::trace {
namespace {

// What to offer when a frame starts: its magic number; the decoder then asks for the rest.
constexpr size_t kFrameStartBytes = 4;

// ZSTD_decompressStream loses the output of a call that fails (it moves `pos` only on success),
// so a call must never decode a bad block after good ones. Two rules make sure of it: output
// held back from an earlier call is collected by a call without input, and a call with input
// is offered exactly the bytes the decoder asked for (its hint: one block and the next block's
// header). Offering exactly that, whatever the raw reads were, also makes the fault's offset
// (the start of the step that failed) the same however the input arrives.
class ZstdSource : public DecodingSource {
 public:
  explicit ZstdSource(std::unique_ptr<CompressedBytes> input)
      : DecodingSource(std::move(input)), dctx_(ZSTD_createDCtx()) {}
  ~ZstdSource() override { ZSTD_freeDCtx(dctx_); }

  long Decode(char* buf, size_t len, std::string* error) override {
    if (dctx_ == nullptr) return Fail("out of memory for the zstd decoder", 0, error);
    ZSTD_outBuffer out{buf, len, 0};
    for (;;) {
      ZSTD_inBuffer held{input_->data(), 0, 0};
      size_t hint = ZSTD_decompressStream(dctx_, &out, &held);
      if (!ZSTD_isError(hint) && out.pos > 0) {
        frame_open_ = hint != 0;
        return static_cast<long>(out.pos);
      }
      size_t want = want_ != 0 ? want_ : kFrameStartBytes;
      if (!input_->Ensure(want, error)) return -1;
      if (input_->size() == 0) {
        if (!frame_open_) return 0;
        return Fail(TruncatedStreamMessage("zstd", input_->offset()), 0, error);
      }
      ZSTD_inBuffer in{input_->data(), std::min(want, input_->size()), 0};
      hint = ZSTD_decompressStream(dctx_, &out, &in);
      if (ZSTD_isError(hint)) {
        return Fail(CorruptStreamMessage("zstd", input_->offset(), ZSTD_getErrorName(hint)),
                    out.pos, error);
      }
      input_->Consume(in.pos);
      want_ = hint;
      frame_open_ = hint != 0;  // 0: a frame ended and all of it was delivered
      if (out.pos > 0) return static_cast<long>(out.pos);
    }
  }

 private:
  ZSTD_DCtx* dctx_;
  size_t want_ = 0;         // the decoder's last hint; 0 at the start of a frame
  bool frame_open_ = true;  // the magic number has been seen
};

}  // namespace

std::unique_ptr<TraceReader::Source> MakeZstdSource(std::unique_ptr<CompressedBytes> input) {
  return std::make_unique<ZstdSource>(std::move(input));
}

}  // namespace refctrace::trace
