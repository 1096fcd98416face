// Tests of trace/compressed_input.h: gzip and zstd traces, made here from plain text, must read
// as the plain text does (same events, same positions, same errors), and a broken stream must
// stop with an error that says where, after everything decoded before it.
#include "trace/compressed_input.h"

#include <doctest/doctest.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "tests/compressed_traces.h"
#include "tests/fuzz/fuzz_events.h"
#include "tests/trickle_source.h"
#include "trace/reader.h"

namespace refctrace::trace {
namespace {

std::string PlainTranscript(const std::string& text) {
  auto reader = TraceReader::FromString(text);
  return fuzz::Transcript(*reader);
}

std::string CompressedTranscript(const std::string& bytes, bool trickle = false) {
  std::unique_ptr<TraceReader::Source> raw;
  if (trickle) {
    raw = std::make_unique<TrickleSource>(bytes, 4093);
  } else {
    raw = std::make_unique<StringSource>(bytes);
  }
  auto reader = TraceReader::FromSource(DecompressIfCompressed(std::move(raw)));
  return fuzz::Transcript(*reader);
}

// Lines of a transcript that are events (all but the last, which says how it ended).
size_t EventLines(const std::string& transcript) {
  size_t lines = 0;
  for (char c : transcript)
    lines += c == '\n';
  return lines - 1;
}

std::string LastLine(const std::string& transcript) {
  size_t start = transcript.rfind('\n', transcript.size() - 2);
  return transcript.substr(start == std::string::npos ? 0 : start + 1);
}

}  // namespace

TEST_CASE("MagicBytesDecideTheCompression") {
  CHECK(DetectCompression("\x1f\x8b\x08\x00") == Compression::kGzip);
  CHECK(DetectCompression(std::string_view("\x28\xb5\x2f\xfd", 4)) == Compression::kZstd);
  CHECK(DetectCompression("{\"op\"") == Compression::kNone);
  CHECK(DetectCompression("\x1f{") == Compression::kNone);
  CHECK(DetectCompression(std::string_view("\x28\xb5\x2f", 3)) == Compression::kNone);
  CHECK(DetectCompression("") == Compression::kNone);
}

TEST_CASE("GzipAndZstdTracesReadAsThePlainText") {
  const std::string text = PlainTrace(20000);  // about 1.5 MB: many blocks, many reads
  const std::string plain = PlainTranscript(text);
  REQUIRE(EventLines(plain) == 40001);
  CHECK(CompressedTranscript(Gzip({text})) == plain);
  CHECK(CompressedTranscript(Zstd({text})) == plain);
  CHECK(CompressedTranscript(Gzip({text}), true) == plain);
  CHECK(CompressedTranscript(Zstd({text}), true) == plain);
  // Plain text goes through untouched, however it is read.
  CHECK(CompressedTranscript(text) == plain);
  CHECK(CompressedTranscript(text, true) == plain);
}

TEST_CASE("ConcatenatedGzipMembersAndZstdFramesReadAsOneText") {
  const std::string text = PlainTrace(3000);
  const size_t cut = text.size() / 3 + 5;  // inside a line: members need not end at a newline
  const std::vector<std::string> parts = {text.substr(0, cut), text.substr(cut, 7),
                                          text.substr(cut + 7)};
  const std::string plain = PlainTranscript(text);
  CHECK(CompressedTranscript(Gzip(parts)) == plain);
  CHECK(CompressedTranscript(Zstd(parts)) == plain);
  CHECK(CompressedTranscript(Gzip(parts), true) == plain);
  CHECK(CompressedTranscript(Zstd(parts), true) == plain);
}

TEST_CASE("ErrorInACompressedTraceHasThePlainTextsLineAndColumn") {
  std::string text = PlainTrace(2000);
  size_t at = text.find("{\"op\":\"free\",\"bin\":\"0x2500\"");
  REQUIRE(at != std::string::npos);
  text.replace(at, 6, "{\"op\" ");  // a missing colon, deep in the trace
  const std::string plain = PlainTranscript(text);
  REQUIRE(LastLine(plain).rfind("error 3003:", 0) == 0);
  CHECK(CompressedTranscript(Gzip({text})) == plain);
  CHECK(CompressedTranscript(Zstd({text})) == plain);
}

TEST_CASE("TruncatedGzipKeepsEveryEventBeforeTheCut") {
  const std::string text = PlainTrace(4000);
  const size_t half = text.find('\n', text.size() / 2) + 1;
  std::string gz = Gzip({text.substr(0, half), text.substr(half)});
  const size_t first_member = Gzip({text.substr(0, half)}).size();
  gz.resize(first_member + (gz.size() - first_member) / 2);
  const std::string transcript = CompressedTranscript(gz);
  // Every line of the first member is read; the error names the end of the compressed input.
  CHECK(EventLines(transcript) >= 4000);
  CHECK(LastLine(transcript) ==
        "error 0:0 read error: truncated gzip stream: the compressed input ends at byte " +
            std::to_string(gz.size()) + ", before the end of its data\n");
  CHECK(CompressedTranscript(gz, true) == transcript);
}

TEST_CASE("TruncatedZstdKeepsEveryEventBeforeTheCut") {
  const std::string text = PlainTrace(4000);
  const size_t half = text.find('\n', text.size() / 2) + 1;
  std::string zst = Zstd({text.substr(0, half), text.substr(half)});
  const size_t first_frame = Zstd({text.substr(0, half)}).size();
  zst.resize(first_frame + (zst.size() - first_frame) / 2);
  const std::string transcript = CompressedTranscript(zst);
  CHECK(EventLines(transcript) >= 4000);
  CHECK(LastLine(transcript) ==
        "error 0:0 read error: truncated zstd stream: the compressed input ends at byte " +
            std::to_string(zst.size()) + ", before the end of its data\n");
  CHECK(CompressedTranscript(zst, true) == transcript);
}

TEST_CASE("CorruptGzipIsAnErrorAtItsCompressedByteAfterTheEventsBeforeIt") {
  const std::string text = PlainTrace(4000);
  const size_t half = text.find('\n', text.size() / 2) + 1;
  const std::string good = Gzip({text.substr(0, half), text.substr(half)});
  const size_t first_member = Gzip({text.substr(0, half)}).size();
  // The second member's first deflate block (after its 10-byte header) has the reserved
  // block type 3.
  std::string gz = good;
  gz[first_member + 10] = '\x07';
  std::string transcript = CompressedTranscript(gz);
  CHECK(EventLines(transcript) >= 4000);
  CHECK(LastLine(transcript) == "error 0:0 read error: corrupt gzip stream at byte " +
                                    std::to_string(first_member + 11) +
                                    " of the compressed input: invalid block type\n");
  // Damage in the middle of the data may decode to text first: whatever the error is, it
  // comes after every event of the first member.
  gz = good;
  for (size_t i = first_member + 200; i < first_member + 260; ++i)
    gz[i] = '\xff';
  transcript = CompressedTranscript(gz);
  CHECK(EventLines(transcript) >= 4000);
  CHECK(LastLine(transcript).rfind("error ", 0) == 0);
}

TEST_CASE("CorruptZstdIsAnErrorAtItsCompressedByteAfterTheEventsBeforeIt") {
  const std::string text = PlainTrace(4000);
  const size_t half = text.find('\n', text.size() / 2) + 1;
  const std::string good = Zstd({text.substr(0, half), text.substr(half)});
  const size_t first_frame = Zstd({text.substr(0, half)}).size();
  // The second frame's magic number is wrong.
  std::string zst = good;
  zst[first_frame] = 'X';
  std::string transcript = CompressedTranscript(zst);
  CHECK(EventLines(transcript) >= 4000);
  const std::string expected = "error 0:0 read error: corrupt zstd stream at byte " +
                               std::to_string(first_frame) +
                               " of the compressed input: Unknown frame descriptor\n";
  CHECK(LastLine(transcript) == expected);
  // The offset does not depend on how the compressed bytes arrive.
  CHECK(LastLine(CompressedTranscript(zst, true)) == expected);
  zst = good;
  for (size_t i = first_frame + 200; i < first_frame + 260; ++i)
    zst[i] = '\xff';
  transcript = CompressedTranscript(zst);
  CHECK(EventLines(transcript) >= 4000);
  CHECK(LastLine(transcript).rfind("error ", 0) == 0);
}

TEST_CASE("SmallZstdBlockBeforeABadOneIsReadWhole") {
  // libzstd forgets what a failing call decoded: the events of a good block must not be lost
  // with the call that finds the next block of the same frame bad.
  const std::string first =
      "{\"op\":\"alloc\",\"bin\":\"0x10\",\"size\":100}\n{\"op\":\"free\",\"bin\":\"0x10\"}\n";
  const std::string second = PlainTrace(10);
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  std::string zst(ZSTD_compressBound(first.size() + second.size()) + 64, '\0');
  ZSTD_outBuffer out{zst.data(), zst.size(), 0};
  ZSTD_inBuffer in{first.data(), first.size(), 0};
  REQUIRE(ZSTD_compressStream2(cctx, &out, &in, ZSTD_e_flush) == 0);  // ends a block
  const size_t second_block = out.pos;
  in = ZSTD_inBuffer{second.data(), second.size(), 0};
  REQUIRE(ZSTD_compressStream2(cctx, &out, &in, ZSTD_e_end) == 0);
  ZSTD_freeCCtx(cctx);
  zst.resize(out.pos);
  zst[second_block] = static_cast<char>(zst[second_block] | 0x06);  // the reserved block type
  for (bool trickle : {false, true}) {
    const std::string transcript = CompressedTranscript(zst, trickle);
    CHECK(EventLines(transcript) == 2);
    CHECK(LastLine(transcript)
              .rfind("error 0:0 read error: corrupt zstd stream at byte " +
                         std::to_string(second_block),
                     0) == 0);
  }
}

TEST_CASE("CompressedFileAndStandardInputAreDecompressed") {
  const std::string text = PlainTrace(500);
  const std::string plain = PlainTranscript(text);
  for (const std::string& bytes : {Gzip({text}), Zstd({text})}) {
    char path[] = "/tmp/refctrace_compressed_test_XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
    close(fd);
    auto reader = TraceReader::OpenPath(path);
    std::string from_file = fuzz::Transcript(*reader);
    CHECK(from_file == plain);

    int saved = dup(STDIN_FILENO);
    REQUIRE(freopen(path, "rb", stdin) != nullptr);
    reader = TraceReader::OpenPath("-");
    std::string from_stdin = fuzz::Transcript(*reader);
    dup2(saved, STDIN_FILENO);
    close(saved);
    std::remove(path);
    CHECK(from_stdin == plain);
  }
}

namespace {

// The first `good` bytes of `bytes`, then a read error on every call.
class BrokenDiskSource : public TraceReader::Source {
 public:
  BrokenDiskSource(std::string bytes, size_t good) : bytes_(std::move(bytes)), good_(good) {}
  long Read(char* buf, size_t len, std::string* error) override {
    if (at_ >= good_) {
      *error = "Input/output error";
      return -1;
    }
    const size_t n = std::min(len, good_ - at_);
    std::memcpy(buf, bytes_.data() + at_, n);
    at_ += n;
    return static_cast<long>(n);
  }

 private:
  std::string bytes_;
  size_t good_;
  size_t at_ = 0;
};

}  // namespace

TEST_CASE("ReadErrorUnderADecoderIsSaidAgainOnEveryLaterRead") {
  const std::string text = "{\"op\":\"alloc\",\"bin\":1,\"size\":8}\n";
  for (const std::string& bytes : {Gzip({text}), Zstd({text})}) {
    auto source =
        DecompressIfCompressed(std::make_unique<BrokenDiskSource>(bytes, bytes.size() / 2));
    char buf[256];
    std::string first, second;
    long got = 0;
    while ((got = source->Read(buf, sizeof buf, &first)) > 0) {
    }
    REQUIRE(got == -1);
    CHECK(first == "Input/output error");
    CHECK(source->Read(buf, sizeof buf, &second) == -1);
    CHECK(second == "Input/output error");
  }
}

}  // namespace refctrace::trace
