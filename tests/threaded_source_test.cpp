// Tests of trace/threaded_source.h: a decoder read on its own thread hands out the bytes, the
// errors and the exceptions a direct read of it gives, in the same order, however the input
// arrives and whatever the reader asks for; a reader that stops early ends the thread.
#include "trace/threaded_source.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/compressed_traces.h"
#include "tests/trickle_source.h"
#include "trace/compressed_input.h"
#include "trace/compressed_source.h"

namespace refctrace::trace {
namespace {

// `text` up to `fail_at`, then a read error (or, with `throws`, an exception) on every Read().
class FailingSource : public TraceReader::Source {
 public:
  FailingSource(std::string text, size_t fail_at, bool throws)
      : inner_(std::move(text), 4093), left_(fail_at), throws_(throws) {}
  long Read(char* buf, size_t len, std::string* error) override {
    if (left_ == 0) {
      if (throws_) throw std::runtime_error("the raw input threw");
      *error = "Input/output error";
      return -1;
    }
    long n = inner_.Read(buf, std::min(len, left_), error);
    left_ -= static_cast<size_t>(std::max(n, 0L));
    return n;
  }

 private:
  TrickleSource inner_;
  size_t left_;
  bool throws_;
};

// `text`, saying in *taken how much was taken of it and in *readers on which threads.
class WatchedSource : public TraceReader::Source {
 public:
  WatchedSource(std::string text, size_t* taken, std::vector<std::thread::id>* readers)
      : inner_(std::move(text)), taken_(taken), readers_(readers) {}
  long Read(char* buf, size_t len, std::string* error) override {
    readers_->push_back(std::this_thread::get_id());
    long n = inner_.Read(buf, len, error);
    *taken_ += static_cast<size_t>(std::max(n, 0L));
    return n;
  }

 private:
  StringSource inner_;
  size_t* taken_;
  std::vector<std::thread::id>* readers_;
};

// The end of a transcript, for messages.
std::string Tail(const std::string& transcript) {
  return transcript.substr(transcript.size() - std::min<size_t>(transcript.size(), 160));
}

using RawMaker = std::function<std::unique_ptr<TraceReader::Source>()>;

std::unique_ptr<TraceReader::Source> Decoder(bool gzip, std::unique_ptr<TraceReader::Source> raw) {
  auto bytes = std::make_unique<CompressedBytes>(std::move(raw), "");
  return gzip ? MakeGzipSource(std::move(bytes)) : MakeZstdSource(std::move(bytes));
}

// Everything `source` gives, read in uneven lengths, then how it ended, twice: every Read()
// after the end must say the same.
std::string Drain(TraceReader::Source& source) {
  static constexpr size_t kLengths[] = {1, 4093, 17, 65537, 333, 131072};
  std::vector<char> buf(131072);
  std::string out;
  int ends = 0;
  for (size_t step = 0;; ++step) {
    std::string error;
    long n = 0;
    try {
      n = source.Read(buf.data(), kLengths[step % std::size(kLengths)], &error);
    } catch (const std::exception& e) {
      error = std::string("exception: ") + e.what();
      n = -2;
    }
    if (n > 0) {
      out.append(buf.data(), static_cast<size_t>(n));
      continue;
    }
    out += "\n[" + std::to_string(n) + " " + error + "]";
    if (++ends == 2) return out;
  }
}

// The transcript of a direct read of the decoder, and of the same read on a thread with ring
// buffers of a few sizes.
void CheckThreadedReadsAsDirect(bool gzip, const RawMaker& raw) {
  const std::string expected = Drain(*Decoder(gzip, raw()));
  struct Ring {
    size_t buffers, bytes;
  };
  for (Ring ring : {Ring{4, size_t{128} << 10}, Ring{3, 1000}, Ring{1, 4093}}) {
    CAPTURE(ring.buffers);
    CAPTURE(ring.bytes);
    ThreadedSource threaded(Decoder(gzip, raw()), ring.buffers, ring.bytes);
    const std::string got = Drain(threaded);
    CAPTURE(Tail(got));
    CAPTURE(Tail(expected));
    CHECK((got == expected));  // (( )): not the megabytes of both in the report
  }
}

}  // namespace

TEST_CASE("ThreadedDecoderGivesTheBytesAndErrorsOfADirectOne") {
  const std::string text = PlainTrace(4000);
  const size_t half = text.find('\n', text.size() / 2) + 1;
  const std::vector<std::string> parts = {text.substr(0, half), text.substr(half)};
  for (bool gzip : {false, true}) {
    CAPTURE(gzip);
    const std::string good = gzip ? Gzip(parts) : Zstd(parts);
    const size_t second = (gzip ? Gzip({parts[0]}) : Zstd({parts[0]})).size();
    std::string damaged = good;  // in the middle of the second part's data
    for (size_t i = second + 200; i < second + 260; ++i)
      damaged[i] = '\xff';
    std::string bad_start = good;  // the second part does not start as one
    bad_start[second] = 'X';
    const std::string cut = good.substr(0, second + (good.size() - second) / 2);
    struct Case {
      std::string name;
      RawMaker raw;
      const char* ending;  // how a direct read ends: the test must see it
    };
    const std::vector<Case> cases = {
        {"whole", [&] { return std::make_unique<StringSource>(good); }, "[0 ]"},
        {"whole, trickled", [&] { return std::make_unique<TrickleSource>(good, 4093); }, "[0 ]"},
        // Decodes to other text (zstd has no checksum here), or is an error.
        {"damaged", [&] { return std::make_unique<TrickleSource>(damaged, 4093); }, "\n["},
        {"bad start", [&] { return std::make_unique<StringSource>(bad_start); }, "[-1 corrupt "},
        {"cut", [&] { return std::make_unique<TrickleSource>(cut, 4093); }, "[-1 truncated "},
        {"read error", [&] { return std::make_unique<FailingSource>(good, second + 100, false); },
         "[-1 Input/output error]"},
        {"exception", [&] { return std::make_unique<FailingSource>(good, second + 100, true); },
         "[-2 exception: the raw input threw]"},
    };
    for (const Case& c : cases) {
      CAPTURE(c.name);
      const std::string direct = Drain(*Decoder(gzip, c.raw()));
      CAPTURE(Tail(direct));
      REQUIRE(direct.find(c.ending) != std::string::npos);
      REQUIRE(direct.size() > half / 2);  // bytes came before the end
      CheckThreadedReadsAsDirect(gzip, c.raw);
    }
  }
}

TEST_CASE("OnlyCompressedInputIsReadOnAThreadOfItsOwnAndOnlyWhereAllowed") {
  const std::string text = PlainTrace(100);
  for (DecodeOn decode_on : {DecodeOn::kOwnThread, DecodeOn::kCallersThread}) {
    for (bool plain : {true, false}) {
      const bool compressed = !plain && decode_on == DecodeOn::kOwnThread;
      CAPTURE(plain);
      CAPTURE(static_cast<int>(decode_on));
      size_t taken = 0;
      std::vector<std::thread::id> readers;
      {
        auto reader = TraceReader::FromSource(DecompressIfCompressed(
            std::make_unique<WatchedSource>(plain ? text : Zstd({text}), &taken, &readers),
            decode_on));
        Event event;
        while (reader->Next(&event) == ReadStatus::kEvent) {
        }
        REQUIRE(reader->Next(&event) == ReadStatus::kEnd);
      }  // joined: `readers` is complete
      REQUIRE(readers.size() >= 2);
      CHECK(readers.front() == std::this_thread::get_id());  // its first bytes, to tell
      const size_t elsewhere =
          static_cast<size_t>(std::count_if(readers.begin(), readers.end(), [](auto id) {
            return id != std::this_thread::get_id();
          }));
      CHECK(elsewhere == (compressed ? readers.size() - 1 : 0));
    }
  }
}

TEST_CASE("ReaderDestroyedAfterItsFirstEventStopsTheDecoder") {
  // About 15 MB of text: far more than the ring and the buffers before it hold.
  const std::string zst = Zstd({PlainTrace(200000)});
  size_t taken = 0;
  std::vector<std::thread::id> readers;
  {
    auto reader = TraceReader::FromSource(
        DecompressIfCompressed(std::make_unique<WatchedSource>(zst, &taken, &readers)));
    Event event;
    REQUIRE(reader->Next(&event) == ReadStatus::kEvent);
  }  // the destructor wakes the producer (on a full ring, or about to be) and joins it
  // Joined: the producer's count is complete, and it stopped far before the end.
  CHECK(taken > 0);
  CHECK(taken < zst.size() / 2);
}

}  // namespace refctrace::trace
