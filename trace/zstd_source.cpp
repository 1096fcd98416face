// zstd input through libzstd's streaming API: frames decode straight into the reader's buffer.
// The exact size of each step (ZSTD_nextSrcSizeToDecompress, ZSTD_frameHeaderSize) is in
// zstd's "static linking only" part; Debian's libzstd exports it, and libzstd-dev comes with
// the same version as the library.
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#include <algorithm>

#include "trace/compressed_source.h"

namespace refctrace::trace {
namespace {

// Enough of a frame's start to know its header's size (a skippable frame's header is 8).
constexpr size_t kFramePrefixBytes = 8;

// ZSTD_decompressStream loses the output of a call that fails (it moves `pos` only on success),
// so a call must never decode a bad block after good ones. Two rules make sure of it: output
// held back from an earlier call is collected by a call without input, and a call with input
// is offered exactly one step: a frame header, a block header, a block, a checksum. Offering
// exactly that, whatever the raw reads were, also makes the fault's offset (the start of the
// step that failed) the same however the input arrives.
class ZstdSource : public DecodingSource {
 public:
  explicit ZstdSource(std::unique_ptr<CompressedBytes> input)
      : DecodingSource(std::move(input)), dctx_(ZSTD_createDCtx()) {}
  ~ZstdSource() override { ZSTD_freeDCtx(dctx_); }

  long Decode(char* buf, size_t len, std::string* error) override {
    if (dctx_ == nullptr) return Fail("out of memory for the zstd decoder", 0, error);
    ZSTD_outBuffer out{buf, len, 0};
    for (;;) {
      // Only after a call that filled its output can libzstd hold more of a block; asking a
      // fresh context for held output reads its uninitialised state (valgrind), and what it
      // answered then depended on earlier heap contents: the ASan build lost good events.
      if (output_held_) {
        ZSTD_inBuffer held{input_->data(), 0, 0};
        const size_t hint = ZSTD_decompressStream(dctx_, &out, &held);
        output_held_ = !ZSTD_isError(hint) && out.pos == out.size;
        if (!ZSTD_isError(hint) && out.pos > 0) {
          frame_open_ = hint != 0;
          return static_cast<long>(out.pos);
        }
      }
      // A context that has decoded nothing has no next size yet (it reads uninitialised state).
      size_t step = started_ ? ZSTD_nextSrcSizeToDecompress(dctx_) : 0;
      if (step == 0) {  // a frame starts: its header, whole
        if (!input_->Ensure(kFramePrefixBytes, error)) return -1;
        size_t header = ZSTD_frameHeaderSize(input_->data(), input_->size());
        // Not a frame the size can be told of (skippable, or not zstd): the decoder says.
        step = ZSTD_isError(header) ? kFramePrefixBytes : header;
      }
      if (!input_->Ensure(step, error)) return -1;
      if (input_->size() == 0) {
        if (!frame_open_) return 0;
        return Fail(TruncatedStreamMessage("zstd", input_->offset()), 0, error);
      }
      ZSTD_inBuffer in{input_->data(), std::min(step, input_->size()), 0};
      const size_t hint = ZSTD_decompressStream(dctx_, &out, &in);
      started_ = true;
      if (ZSTD_isError(hint)) {
        return Fail(CorruptStreamMessage("zstd", input_->offset(), ZSTD_getErrorName(hint)),
                    out.pos, error);
      }
      input_->Consume(in.pos);
      output_held_ = out.pos == out.size;
      frame_open_ = hint != 0;  // 0: a frame ended and all of it was delivered
      if (out.pos > 0) return static_cast<long>(out.pos);
    }
  }

 private:
  ZSTD_DCtx* dctx_;
  bool frame_open_ = true;    // the magic number has been seen
  bool output_held_ = false;  // the last call filled its output: more may be held
  bool started_ = false;      // the context has been given input
};

}  // namespace

std::unique_ptr<TraceReader::Source> MakeZstdSource(std::unique_ptr<CompressedBytes> input) {
  return std::make_unique<ZstdSource>(std::move(input));
}

}  // namespace refctrace::trace
