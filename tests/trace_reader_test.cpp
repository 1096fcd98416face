// Tests of trace/: the event helpers and the reader, fed from memory. Test names say what
// input they feed.
#include <doctest/doctest.h>
#include <simdjson.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

#include "tests/plain_decoding.h"
#include "tests/trickle_source.h"
#include "trace/event.h"
#include "trace/event_decoder.h"
#include "trace/plain_event_parser.h"
#include "trace/reader.h"

namespace refctrace::trace {
namespace {

struct Result {
  std::vector<Event> events;
  ReadStatus last = ReadStatus::kEnd;
  InputError error;
  Encoding encoding = Encoding::kUnknown;
};

Result Drain(TraceReader& reader) {
  Result r;
  Event event;
  for (;;) {
    r.last = reader.Next(&event);
    if (r.last != ReadStatus::kEvent) break;
    r.events.push_back(event);
  }
  r.error = reader.error();
  r.encoding = reader.encoding();
  return r;
}

Result Read(std::string text, const ReaderOptions& options = {}) {
  auto reader = TraceReader::FromString(std::move(text), options);
  return Drain(*reader);
}

Result ReadTrickled(std::string text, const ReaderOptions& options = {}) {
  auto reader = TraceReader::FromSource(std::make_unique<TrickleSource>(std::move(text)), options);
  return Drain(*reader);
}

// `prefix`, then `fill` bytes of 'a' (made on demand, never held in memory), then `suffix`.
class GeneratedSource : public TraceReader::Source {
 public:
  GeneratedSource(std::string prefix, uint64_t fill, std::string suffix)
      : prefix_(std::move(prefix)), fill_(fill), suffix_(std::move(suffix)) {}
  long Read(char* buf, size_t len, std::string*) override {
    size_t n = 0;
    while (n < len) {
      if (offset_ < prefix_.size()) {
        buf[n++] = prefix_[offset_++];
      } else if (offset_ < prefix_.size() + fill_) {
        size_t k =
            static_cast<size_t>(std::min<uint64_t>(len - n, prefix_.size() + fill_ - offset_));
        std::memset(buf + n, 'a', k);
        n += k;
        offset_ += k;
      } else if (offset_ < prefix_.size() + fill_ + suffix_.size()) {
        buf[n++] = suffix_[offset_++ - prefix_.size() - fill_];
      } else {
        break;
      }
    }
    return static_cast<long>(n);
  }
  uint64_t served() const { return offset_; }

 private:
  std::string prefix_;
  uint64_t fill_;
  std::string suffix_;
  uint64_t offset_ = 0;
};

// `first`, then `count` copies of `line`, made on demand.
class RepeatedLineSource : public TraceReader::Source {
 public:
  RepeatedLineSource(std::string first, std::string line, uint64_t count)
      : text_(std::move(first)), line_(std::move(line)), left_(count) {}
  long Read(char* buf, size_t len, std::string*) override {
    size_t n = 0;
    while (n < len) {
      if (at_ == text_.size()) {
        if (left_ == 0) break;
        --left_;
        text_ = line_;
        at_ = 0;
      }
      size_t k = std::min(len - n, text_.size() - at_);
      std::memcpy(buf + n, text_.data() + at_, k);
      n += k;
      at_ += k;
    }
    served_ += n;
    return static_cast<long>(n);
  }
  uint64_t served() const { return served_; }

 private:
  std::string text_;
  std::string line_;
  uint64_t left_;
  size_t at_ = 0;
  uint64_t served_ = 0;
};

// Gives `text`, then fails.
class FailingSource : public TraceReader::Source {
 public:
  explicit FailingSource(std::string text) : text_(std::move(text)) {}
  long Read(char* buf, size_t len, std::string* error) override {
    if (done_) {
      *error = "Input/output error";
      return -1;
    }
    done_ = true;
    size_t n = std::min(len, text_.size());
    std::memcpy(buf, text_.data(), n);
    return static_cast<long>(n);
  }

 private:
  std::string text_;
  bool done_ = false;
};

// 1-based column of `needle` in `line`.
uint64_t Col(const std::string& line, const std::string& needle) {
  size_t at = line.find(needle);
  REQUIRE(at != std::string::npos);
  return at + 1;
}

// Reads a one-line trace that must fail; checks line 1 and the column of `needle` in it.
void ExpectFirstLineErrorAt(const std::string& line, const std::string& needle,
                            const std::string& message) {
  CAPTURE(line);
  Result r = Read(line + "\n");
  CHECK(r.last == ReadStatus::kError);
  CHECK(r.error.line == 1);
  CHECK(r.error.column == Col(line, needle));
  CHECK(r.error.message == message);
}

// The same, and then with `line` after an event line, where the plain-line fast path sees it
// first: the error must be the same, at line 2.
void ExpectErrorAt(const std::string& line, const std::string& needle, const std::string& message) {
  ExpectFirstLineErrorAt(line, needle, message);
  CAPTURE(line);
  Result r = Read("{\"op\":\"stop\"}\n" + line + "\n");
  CHECK(r.last == ReadStatus::kError);
  CHECK(r.events.size() == 1);
  CHECK(r.error.line == 2);
  CHECK(r.error.column == Col(line, needle));
  CHECK(r.error.message == message);
}

bool SameEvents(const std::vector<Event>& a, const std::vector<Event>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const Event& x = a[i];
    const Event& y = b[i];
    if (x.op != y.op || !(x.bin == y.bin) || !(x.new_bin == y.new_bin) || x.actor != y.actor ||
        x.to != y.to || x.size != y.size || x.refc != y.refc || x.count != y.count ||
        x.copied != y.copied || x.t != y.t || x.seq != y.seq || x.src != y.src ||
        x.func != y.func || x.stack != y.stack || x.note != y.note || x.pos.index != y.pos.index ||
        x.pos.line != y.pos.line || x.pos.column != y.pos.column) {
      return false;
    }
  }
  return true;
}

// ParsePlainEvent on `line`, placed at the very end of an allocation that has just the
// read-ahead bytes after it (all `fill`), so a sanitizer catches any read further out.
std::optional<Event> PlainDecode(const std::string& line, char fill = '\n') {
  std::unique_ptr<char[]> buf(new char[line.size() + kPlainEventReadAhead]);
  std::memcpy(buf.get(), line.data(), line.size());
  std::memset(buf.get() + line.size(), fill, kPlainEventReadAhead);
  Event event;
  event.note = "stale";  // a reused event: nothing may survive from it
  if (!ParsePlainEvent(std::string_view(buf.get(), line.size()), &event)) return std::nullopt;
  return event;
}

// Whether the plain parser takes `line`; when it does, the full decoder must take it too and
// decode it the same way.
bool PlainTakesAsTheFullDecoderDoes(const std::string& line) {
  std::optional<Event> plain = PlainDecode(line);
  if (!plain) return false;
  std::optional<Event> full = FullDecode(line);
  REQUIRE(full.has_value());
  CHECK(SameDecoding(*plain, *full));
  return true;
}

const char kSpecExample[] =
    "{\"refctrace\":1,\"source\":\"my_drv\",\"otp\":\"27.1\"}\n"
    "{\"op\":\"alloc\",\"bin\":\"0x7f3a10\",\"size\":4096,\"src\":\"my_drv.c:88\"}\n"
    "{\"op\":\"output\",\"bin\":\"0x7f3a10\",\"to\":\"<0.85.0>\",\"src\":\"my_drv.c:97\"}\n"
    "{\"op\":\"free\",\"bin\":\"0x7f3a10\",\"src\":\"my_drv.c:98\"}\n"
    "{\"op\":\"receive\",\"bin\":\"0x7f3a10\",\"actor\":\"<0.85.0>\"}\n"
    "{\"op\":\"gc\",\"bin\":\"0x7f3a10\",\"actor\":\"<0.85.0>\"}\n";

}  // namespace

// --- event.h helpers -----------------------------------------------------------------------

TEST_CASE("OpNamesRoundTripAndUnknownNamesAreRejected") {
  const char* names[] = {
      "alloc", "realloc", "free", "inc", "dec", "observe", "write", "read", "output", "enq", "deq",
      "borrow", "unborrow", "reply", "stop", "receive", "send", "gc", "exit",
      // trace format 1.4
      "nif_enter", "nif_return", "env_alloc", "env_clear", "env_free", "env_send", "make_copy",
      "bin_alloc", "bin_realloc", "bin_release", "bin_make", "bin_make_new", "bin_inspect",
      "bin_use", "ioq_enq", "res_alloc", "res_keep", "res_release", "res_make", "res_use",
      "res_down", "res_dtor",
      // trace format 1.5
      "res_monitor", "res_demonitor", "res_select", "res_select_stop", "res_stop",
      // trace format 1.6
      "held", "end"};
  REQUIRE(std::size(names) == static_cast<size_t>(kOpCount));
  for (int i = 0; i < kOpCount; ++i) {
    Op op = static_cast<Op>(i);
    CHECK(OpName(op) == names[i]);
    REQUIRE(OpFromName(names[i]).has_value());
    CHECK(*OpFromName(names[i]) == op);
  }
  CHECK_FALSE(OpFromName("").has_value());
  CHECK_FALSE(OpFromName("Alloc").has_value());
  CHECK_FALSE(OpFromName("allocx").has_value());
  CHECK_FALSE(OpFromName("en").has_value());
}

TEST_CASE("OpClassesFollowTheSpec") {
  for (int i = 0; i < kOpCount; ++i) {
    Op op = static_cast<Op>(i);
    CAPTURE(OpName(op));
    const std::string_view name = OpName(op);
    const bool nif = name.substr(0, 4) == "nif_" || name.substr(0, 4) == "env_" ||
                     name.substr(0, 4) == "bin_" || name.substr(0, 4) == "res_" ||
                     name == "make_copy" || name == "ioq_enq" || name == "held";
    CHECK(IsNifOp(op) == nif);
    CHECK(OpNeedsBin(op) == (op != Op::kExit && op != Op::kStop && op != Op::kEnd && !nif));
    bool process = op == Op::kReceive || op == Op::kSend || op == Op::kGc || op == Op::kExit;
    CHECK(IsProcessOp(op) == process);
    CHECK(IsDriverOp(op) == (!process && op != Op::kEnd && !nif));
  }
}

TEST_CASE("BinIdsOfDifferentKindsDifferAndDisplayAsWritten") {
  CHECK_FALSE(BinId::Int(1) == BinId::Str("1"));
  CHECK(BinId::Int(7) == BinId::Int(7));
  CHECK(BinId::Str("0x7f") == BinId::Str("0x7f"));
  CHECK(BinId::Int(18446744073709551615ULL).ToDisplay() == "18446744073709551615");
  CHECK(BinId::Str("0x7f3a10").ToDisplay() == "0x7f3a10");
  CHECK(BinId().ToDisplay() == "(none)");
  BinIdHash hash;
  CHECK(hash(BinId::Int(5)) == hash(BinId::Int(5)));
  CHECK(hash(BinId::Str("abcdefghijk")) == hash(BinId::Str("abcdefghijk")));
  // Sequential ids spread out.
  std::unordered_set<size_t> low_bits;
  for (uint64_t i = 0; i < 1024; ++i) {
    low_bits.insert(hash(BinId::Int(0x7f3a0000 + i * 16)) & 1023);
    low_bits.insert(hash(BinId::Str("0x7f3a" + std::to_string(i))) & 1023);
  }
  CHECK(low_bits.size() > 800);
}

TEST_CASE("EventClearResetsFieldsAndKeepsStringCapacity") {
  Event e;
  e.op = Op::kSend;
  e.bin = BinId::Str(std::string(100, 'b'));
  e.actor = std::string(100, 'a');
  e.count = 3;
  e.copied = true;
  e.size = 1;
  e.stack = {"f"};
  e.func = "f";
  e.pos = {1, 2, 3};
  size_t actor_capacity = e.actor.capacity();
  e.Clear();
  CHECK(e.op == Op::kEnd);
  CHECK_FALSE(e.bin.present());
  CHECK(e.actor.empty());
  CHECK(e.actor.capacity() == actor_capacity);
  CHECK(e.bin.str.capacity() >= 100);
  CHECK(e.count == 1);
  CHECK_FALSE(e.copied);
  CHECK_FALSE(e.size.has_value());
  CHECK(e.stack.empty());
  CHECK(e.func.empty());
  CHECK(e.pos.line == 0);
}

TEST_CASE("EffectiveActorDefaultsToDriverForDriverOpsOnly") {
  Event e;
  e.op = Op::kAlloc;
  CHECK(e.EffectiveActor() == "driver");
  e.actor = "#Port<0.6>";
  CHECK(e.EffectiveActor() == "#Port<0.6>");
  e.actor.clear();
  e.op = Op::kStop;
  CHECK(e.EffectiveActor() == "driver");
  e.op = Op::kGc;
  CHECK(e.EffectiveActor().empty());
}

// --- encodings -----------------------------------------------------------------------------

TEST_CASE("NdjsonWithHeaderDeliversEventsWithPositions") {
  Result r = Read(kSpecExample);
  REQUIRE(r.last == ReadStatus::kEnd);
  CHECK(r.encoding == Encoding::kNdjson);
  REQUIRE(r.events.size() == 5);
  for (size_t i = 0; i < r.events.size(); ++i) {
    CHECK(r.events[i].pos.index == i);
    CHECK(r.events[i].pos.line == i + 2);
    CHECK(r.events[i].pos.column == 1);
  }
  const Event& alloc = r.events[0];
  CHECK(alloc.op == Op::kAlloc);
  CHECK(alloc.bin == BinId::Str("0x7f3a10"));
  CHECK(alloc.size == 4096u);
  CHECK(alloc.src == "my_drv.c:88");
  CHECK(alloc.EffectiveActor() == "driver");
  CHECK(r.events[1].op == Op::kOutput);
  CHECK(r.events[1].to == "<0.85.0>");
  CHECK(r.events[3].actor == "<0.85.0>");
  CHECK(r.events[4].op == Op::kGc);
  CHECK(r.events[4].count == 1);
}

TEST_CASE("NdjsonWithoutHeaderStartsAtLineOne") {
  Result r = Read("{\"op\":\"alloc\",\"bin\":1}\n{\"op\":\"free\",\"bin\":1}\n");
  REQUIRE(r.last == ReadStatus::kEnd);
  REQUIRE(r.events.size() == 2);
  CHECK(r.events[0].pos.line == 1);
  CHECK(r.events[1].pos.line == 2);
  CHECK(r.events[1].pos.index == 1);
  CHECK(r.events[0].bin == BinId::Int(1));
}

TEST_CASE("NdjsonWithoutFinalNewlineReadsTheLastLine") {
  Result r = Read("{\"op\":\"alloc\",\"bin\":1}\n{\"op\":\"free\",\"bin\":12}");
  REQUIRE(r.last == ReadStatus::kEnd);
  REQUIRE(r.events.size() == 2);
  CHECK(r.events[1].bin == BinId::Int(12));
}

TEST_CASE("HeaderOnlyTraceIsValidWithNoEvents") {
  Result r = Read("{\"refctrace\":1,\"source\":\"x\"}\n");
  CHECK(r.last == ReadStatus::kEnd);
  CHECK(r.events.empty());
  CHECK(r.encoding == Encoding::kNdjson);
}

TEST_CASE("HeaderMayCarryKeysNamedLikeEventFields") {
  Result r = Read("{\"refctrace\":1,\"size\":\"big\",\"bin\":[]}\n{\"op\":\"stop\"}\n");
  CHECK(r.last == ReadStatus::kEnd);
  CHECK(r.events.size() == 1);
}

TEST_CASE("FirstLineWithRefctraceAndOpIsAnEvent") {
  Result r = Read("{\"refctrace\":\"whatever\",\"op\":\"stop\"}\n");
  REQUIRE(r.last == ReadStatus::kEnd);
  REQUIRE(r.events.size() == 1);
  CHECK(r.events[0].pos.line == 1);
}

TEST_CASE("HeaderAfterTheFirstLineIsNotAHeader") {
  Result r = Read("{\"op\":\"stop\"}\n{\"refctrace\":1}\n");
  CHECK(r.last == ReadStatus::kError);
  CHECK(r.error.line == 2);
  CHECK(r.error.column == 1);
  CHECK(r.error.message == "missing required field \"op\"");
}

TEST_CASE("BlankLinesAreSkippedButCounted") {
  Result r = Read("\n  \n{\"refctrace\":1}\n\t\n\n   {\"op\":\"stop\"}\n \n");
  REQUIRE(r.last == ReadStatus::kEnd);
  REQUIRE(r.events.size() == 1);
  CHECK(r.events[0].pos.line == 6);
  CHECK(r.events[0].pos.column == 4);
  CHECK(r.events[0].pos.index == 0);
}

TEST_CASE("CrlfLineEndingsAreTolerated") {
  Result r = Read(
      "{\"refctrace\":1}\r\n{\"op\":\"alloc\",\"bin\":7}\r\n\r\n{\"op\":\"free\",\"bin\":7}\r\n");
  REQUIRE(r.last == ReadStatus::kEnd);
  REQUIRE(r.events.size() == 2);
  CHECK(r.events[1].pos.line == 4);
  CHECK(r.events[1].bin == BinId::Int(7));
}

TEST_CASE("CrlfLineWithErrorHasExcerptWithoutTheCr") {
  Result r = Read("{\"op\":\"alloc\",\"bin\":true}\r\n");
  REQUIRE(r.last == ReadStatus::kError);
  CHECK(r.error.excerpt == "{\"op\":\"alloc\",\"bin\":true}");
}

TEST_CASE("ByteOrderMarkAtTheStartIsSkipped") {
  Result r = Read("\xEF\xBB\xBF{\"refctrace\":1}\n{\"op\":\"stop\"}\n");
  REQUIRE(r.last == ReadStatus::kEnd);
  CHECK(r.events.size() == 1);
}

TEST_CASE("MistypedOpGetsTheNearestOpSuggested") {
  ExpectErrorAt("{\"op\":\"fre\",\"bin\":1}", "\"fre",
                "unknown op \"fre\" (did you mean \"free\"?)");
  ExpectErrorAt("{\"op\":\"recieve\",\"bin\":1,\"actor\":\"<0.1.0>\"}", "\"recieve",
                "unknown op \"recieve\" (did you mean \"receive\"?)");
  CHECK(NearestOp("unborow") == Op::kUnborrow);
  CHECK_FALSE(NearestOp("frobnicate").has_value());
  CHECK_FALSE(NearestOp("x").has_value());
  CHECK_FALSE(NearestOp("").has_value());
}

TEST_CASE("TextThatIsNotJsonIsToldItIsNotATrace") {
  Result r = Read("Kq\x01\xFF random bytes\n{\"op\":\"stop\"}\n");
  REQUIRE(r.last == ReadStatus::kError);
  CHECK(r.error.line == 1);
  CHECK(r.error.column == 1);
  CHECK(r.error.message ==
        "not a JSON trace: a trace is NDJSON (one JSON object per line) or a JSON document, and "
        "this input starts with 'Kq\\x01\\xFF random ...'");
  // A broken first object is still a syntax error at its place.
  Result broken = Read("{\"op\":\"alloc\",\"bin\":1,}\n");
  REQUIRE(broken.last == ReadStatus::kError);
  CHECK(broken.error.message.rfind("syntax error", 0) == 0);
}

TEST_CASE("JsonDocumentWithByteOrderMarkIsRead") {
  Result r = Read("\xEF\xBB\xBF{\"refctrace\":1,\"events\":[{\"op\":\"alloc\",\"bin\":1}]}");
  REQUIRE(r.last == ReadStatus::kEnd);
  CHECK(r.encoding == Encoding::kDocument);
  REQUIRE(r.events.size() == 1);
  CHECK(r.events[0].pos.column == 29);  // columns count the file's bytes, the mark included
}

TEST_CASE("BareArrayWithByteOrderMarkIsRead") {
  Result r = Read("\xEF\xBB\xBF[{\"op\":\"alloc\",\"bin\":1},{\"op\":\"free\",\"bin\":1}]");
  REQUIRE(r.last == ReadStatus::kEnd);
  CHECK(r.encoding == Encoding::kArray);
  CHECK(r.events.size() == 2);
}

TEST_CASE("OneLineDocumentIsReadAsADocument") {
  Result r = Read(
      "{\"refctrace\":1,\"events\":[{\"op\":\"alloc\",\"bin\":1,\"size\":100},{\"op\":\"free\","
      "\"bin\":1}]}");
  REQUIRE(r.last == ReadStatus::kEnd);
  CHECK(r.encoding == Encoding::kDocument);
  REQUIRE(r.events.size() == 2);
  CHECK(r.events[0].pos.line == 1);
  CHECK(r.events[0].pos.column == 26);
  CHECK(r.events[1].pos.column == 60);
  CHECK(r.events[1].pos.index == 1);
  CHECK(r.events[0].size == 100u);
}

TEST_CASE("PrettyPrintedDocumentGivesLineAndColumnOfEachEvent") {
  std::string doc =
      "{\n"
      "  \"refctrace\": 1,\n"
      "  \"source\": {\"nested\": [1, 2, {\"x\": null}]},\n"
      "  \"events\": [\n"
      "    {\"op\": \"alloc\", \"bin\": \"a\"},\n"
      "    {\n"
      "      \"op\": \"free\",\n"
      "      \"bin\": \"a\"\n"
      "    },\n"
      "      {\"op\": \"end\"}\n"
      "  ]\n"
      "}\n";
  Result r = Read(doc);
  REQUIRE(r.last == ReadStatus::kEnd);
  CHECK(r.encoding == Encoding::kDocument);
  REQUIRE(r.events.size() == 3);
  CHECK(r.events[0].pos.line == 5);
  CHECK(r.events[0].pos.column == 5);
  CHECK(r.events[1].pos.line == 6);
  CHECK(r.events[1].pos.column == 5);
  CHECK(r.events[2].pos.line == 10);
  CHECK(r.events[2].pos.column == 7);
  CHECK(r.events[2].op == Op::kEnd);
}

TEST_CASE("DocumentWithEventsBeforeTheVersionIsRead") {
  Result r = Read("{\"events\":[{\"op\":\"stop\"}],\"refctrace\":1}");
  CHECK(r.last == ReadStatus::kEnd);
  CHECK(r.events.size() == 1);
}

TEST_CASE("DocumentWithoutVersionIsVersionOne") {
  Result r = Read("{\"events\":[{\"op\":\"stop\"}]}");
  CHECK(r.last == ReadStatus::kEnd);
  CHECK(r.events.size() == 1);
  CHECK(r.encoding == Encoding::kDocument);
}

TEST_CASE("DocumentWithUnknownVersionAfterItsEventsFailsBeforeAnyEvent") {
  std::string doc = "{\"events\":[{\"op\":\"stop\"}],\n\"refctrace\":2}";
  Result r = Read(doc);
  CHECK(r.last == ReadStatus::kError);
  CHECK(r.events.empty());
  CHECK(r.error.line == 2);
  CHECK(r.error.column == 13);
  CHECK(r.error.message == "unsupported trace format version 2 (this refctrace reads version 1)");
}

TEST_CASE("DocumentWhoseEventsAreNotAnArrayIsAnError") {
  std::string doc = "{\"refctrace\":1,\"events\":{\"op\":\"stop\"}}";
  Result r = Read(doc);
  CHECK(r.last == ReadStatus::kError);
  CHECK(r.error.line == 1);
  CHECK(r.error.column == Col(doc, "{\"op\""));
  CHECK(r.error.message == "field \"events\" must be an array, got an object");
}

TEST_CASE("DocumentWithContentAfterItsCloseIsAnError") {
  std::string doc = "{\"refctrace\":1,\"events\":[]}\n{\"op\":\"stop\"}\n";
  Result r = Read(doc);
  CHECK(r.last == ReadStatus::kError);
  CHECK(r.events.empty());
  CHECK(r.error.line == 2);
  CHECK(r.error.column == 1);
  CHECK(r.error.message.find("expected end of input") != std::string::npos);
}

TEST_CASE("DocumentWithBrokenEventIsAnErrorAtItsPosition") {
  std::string doc = "{\"events\":[\n{\"op\":\"stop\"},\n{\"op\":\"alloc\" \"bin\":1}]}";
  Result r = Read(doc);
  CHECK(r.last == ReadStatus::kError);
  CHECK(r.events.size() == 1);
  CHECK(r.error.line == 3);
  CHECK(r.error.column == 15);
  CHECK(r.error.message ==
        "syntax error while parsing object - unexpected string literal; "
        "expected '}'");
}

TEST_CASE("DocumentEventFieldErrorHasLineAndColumn") {
  std::string doc = "{\"events\":[\n  {\"op\":\"stop\"},\n  {\"op\":\"alloc\",\"bin\":-1}]}";
  Result r = Read(doc);
  CHECK(r.last == ReadStatus::kError);
  CHECK(r.events.size() == 1);
  CHECK(r.error.line == 3);
  CHECK(r.error.column == 23);
  CHECK(r.error.message == "field \"bin\" must be a string or a non-negative integer, got -1");
  CHECK(r.error.excerpt == "  {\"op\":\"alloc\",\"bin\":-1}]}");
  CHECK(r.error.excerpt_caret == 23);
}

TEST_CASE("BareArrayIsReadWithPositions") {
  Result r = Read("[\n {\"op\":\"alloc\",\"bin\":1},\n {\"op\":\"free\",\"bin\":1}\n]\n");
  REQUIRE(r.last == ReadStatus::kEnd);
  CHECK(r.encoding == Encoding::kArray);
  REQUIRE(r.events.size() == 2);
  CHECK(r.events[0].pos.line == 2);
  CHECK(r.events[0].pos.column == 2);
  CHECK(r.events[1].pos.line == 3);
}

TEST_CASE("EmptyBareArrayHasNoEvents") {
  Result r = Read("  []  \n");
  CHECK(r.last == ReadStatus::kEnd);
  CHECK(r.events.empty());
  CHECK(r.encoding == Encoding::kArray);
}

TEST_CASE("BareArrayWithContentAfterItIsAnErrorAfterItsEvents") {
  std::string text = "[{\"op\":\"stop\"}]]";
  Result r = Read(text);
  CHECK(r.last == ReadStatus::kError);
  CHECK(r.events.size() == 1);
  CHECK(r.error.line == 1);
  CHECK(r.error.column == 16);
}

TEST_CASE("BareArrayElementThatIsNotAnObjectIsAnError") {
  Result r = Read("[{\"op\":\"stop\"}, 3]");
  CHECK(r.last == ReadStatus::kError);
  CHECK(r.events.size() == 1);
  CHECK(r.error.column == 17);
  CHECK(r.error.message == "expected a JSON object, got 3");
}

TEST_CASE("EmptyInputIsAnErrorAtLineOne") {
  for (const char* text : {"", " \n\t\r\n  ", "\n\n\n"}) {
    CAPTURE(text);
    Result r = Read(text);
    CHECK(r.last == ReadStatus::kError);
    CHECK(r.error.line == 1);
    CHECK(r.error.column == 1);
    CHECK(r.error.message == "empty trace: no events and no header");
  }
}

// --- versions ------------------------------------------------------------------------------

TEST_CASE("HeaderWithUnknownVersionNamesBothVersions") {
  ExpectFirstLineErrorAt("{\"refctrace\":2,\"source\":\"x\"}", "2",
                         "unsupported trace format version 2 (this refctrace reads version 1)");
  ExpectFirstLineErrorAt("{\"refctrace\":0}", "0",
                         "unsupported trace format version 0 (this refctrace reads version 1)");
  ExpectFirstLineErrorAt("{\"refctrace\":99999999999999999999999}", "9",
                         "unsupported trace format version 99999999999999999999999 (this refctrace "
                         "reads version 1)");
}

TEST_CASE("HeaderWithNonIntegerVersionIsAnError") {
  ExpectFirstLineErrorAt("{\"refctrace\":\"1\"}", "\"1\"",
                         "field \"refctrace\" must be an integer format version, got \"1\"");
  ExpectFirstLineErrorAt("{\"refctrace\":1.0}", "1.0",
                         "field \"refctrace\" must be an integer format version, got 1.0");
}

// --- field types ---------------------------------------------------------------------------

TEST_CASE("EveryFieldIsDecoded") {
  Result r = Read(
      "{\"op\":\"realloc\",\"bin\":\"old\",\"new_bin\":42,\"actor\":\"#Port<0.6>\",\"to\":\"<0.1.0>"
      "\","
      "\"size\":10,\"refc\":3,\"count\":2,\"copied\":true,\"t\":1.5e3,\"seq\":9,\"src\":\"a.c:1\","
      "\"stack\":[\"f\",\"g\"],\"note\":\"hi "
      "\\\"there\\\"\\n\",\"extra\":{\"k\":[1,true,null]}}\n");
  REQUIRE(r.last == ReadStatus::kEnd);
  REQUIRE(r.events.size() == 1);
  const Event& e = r.events[0];
  CHECK(e.op == Op::kRealloc);
  CHECK(e.bin == BinId::Str("old"));
  CHECK(e.new_bin == BinId::Int(42));
  CHECK(e.actor == "#Port<0.6>");
  CHECK(e.to == "<0.1.0>");
  CHECK(e.size == 10u);
  CHECK(e.refc == 3);
  CHECK(e.count == 2);
  CHECK(e.copied);
  CHECK(e.t == 1500.0);
  CHECK(e.seq == 9u);
  CHECK(e.src == "a.c:1");
  CHECK(e.stack == std::vector<std::string>{"f", "g"});
  CHECK(e.note == "hi \"there\"\n");
}

// Trace format 1.1: the plain one-pass parser (first event) and the full
// decoder (an escaped string) both read `func`.
TEST_CASE("FuncOfTraceFormatOnePointOneIsDecoded") {
  Result r = Read(
      "{\"refctrace\":1}\n"
      "{\"op\":\"alloc\",\"bin\":\"0x1\",\"src\":\"my_drv.c:27\",\"func\":\"my_drv_start\"}\n"
      "{\"op\":\"free\",\"bin\":\"0x1\",\"func\":\"my\\u005fdrv_stop\"}\n");
  REQUIRE(r.last == ReadStatus::kEnd);
  REQUIRE(r.events.size() == 2);
  CHECK(r.events[0].func == "my_drv_start");
  CHECK(r.events[1].func == "my_drv_stop");
  ExpectErrorAt("{\"op\":\"stop\",\"func\":7}", "7", "field \"func\" must be a string, got 7");
}

TEST_CASE("EscapedOpAndKeysAreUnescaped") {
  Result r = Read("{\"o\\u0070\":\"\\u0061lloc\",\"bin\":\"\\u00e9\"}\n");
  REQUIRE(r.last == ReadStatus::kEnd);
  REQUIRE(r.events.size() == 1);
  CHECK(r.events[0].op == Op::kAlloc);
  CHECK(r.events[0].bin == BinId::Str("\xC3\xA9"));
}

TEST_CASE("StringAndIntegerIdsAreDifferentKinds") {
  Result r = Read("{\"op\":\"inc\",\"bin\":\"1\"}\n{\"op\":\"inc\",\"bin\":1}\n");
  REQUIRE(r.events.size() == 2);
  CHECK(r.events[0].bin.kind == BinId::Kind::kStr);
  CHECK(r.events[1].bin.kind == BinId::Kind::kInt);
  CHECK_FALSE(r.events[0].bin == r.events[1].bin);
}

TEST_CASE("IntegerIdAtTwoToThe64MinusOneIsExact") {
  Result r = Read("{\"op\":\"inc\",\"bin\":18446744073709551615,\"new_bin\":0}\n");
  REQUIRE(r.last == ReadStatus::kEnd);
  REQUIRE(r.events.size() == 1);
  CHECK(r.events[0].bin == BinId::Int(18446744073709551615ULL));
  CHECK(r.events[0].new_bin == BinId::Int(0));
}

TEST_CASE("IntegerIdAtTwoToThe64IsAnError") {
  ExpectErrorAt("{\"op\":\"inc\",\"bin\":18446744073709551616}", "1844",
                "field \"bin\" is out of range (integer ids are at most 18446744073709551615), "
                "got 18446744073709551616");
}

TEST_CASE("IdsThatAreNotNonNegativeIntegersAreErrors") {
  ExpectErrorAt("{\"op\":\"inc\",\"bin\":-1}", "-1",
                "field \"bin\" must be a string or a non-negative integer, got -1");
  ExpectErrorAt("{\"op\":\"inc\",\"bin\":1.0}", "1.0",
                "field \"bin\" must be a string or a non-negative integer without fraction or "
                "exponent, got 1.0");
  ExpectErrorAt("{\"op\":\"inc\",\"bin\":1e3}", "1e3",
                "field \"bin\" must be a string or a non-negative integer without fraction or "
                "exponent, got 1e3");
  ExpectErrorAt("{\"op\":\"inc\",\"bin\":true}", "true",
                "field \"bin\" must be a string or a non-negative integer, got true");
  ExpectErrorAt("{\"op\":\"inc\",\"bin\":null}", "null",
                "field \"bin\" must be a string or a non-negative integer, got null");
  ExpectErrorAt("{\"op\":\"realloc\",\"bin\":1,\"new_bin\":[1]}", "[1]",
                "field \"new_bin\" must be a string or a non-negative integer, got an array");
}

TEST_CASE("WrongTypeForEachFieldIsAnErrorAtTheValue") {
  ExpectErrorAt("{\"op\":1}", "1", "field \"op\" must be a string, got 1");
  ExpectErrorAt("{\"op\":\"gc\",\"bin\":1,\"actor\":85}", "85",
                "field \"actor\" must be a string, got 85");
  ExpectErrorAt("{\"op\":\"output\",\"bin\":1,\"to\":{\"pid\":1}}", "{\"pid\"",
                "field \"to\" must be a string, got an object");
  ExpectErrorAt("{\"op\":\"alloc\",\"bin\":1,\"size\":\"10\"}", "\"10\"",
                "field \"size\" must be a non-negative integer, got \"10\"");
  ExpectErrorAt("{\"op\":\"alloc\",\"bin\":1,\"size\":-1}", "-1",
                "field \"size\" must be a non-negative integer, got -1");
  ExpectErrorAt("{\"op\":\"alloc\",\"bin\":1,\"size\":1.5}", "1.5",
                "field \"size\" must be a non-negative integer, got 1.5");
  ExpectErrorAt("{\"op\":\"alloc\",\"bin\":1,\"size\":18446744073709551616}", "1844",
                "field \"size\" is out of range (at most 18446744073709551615), got "
                "18446744073709551616");
  ExpectErrorAt("{\"op\":\"observe\",\"bin\":1,\"refc\":\"2\"}", "\"2\"",
                "field \"refc\" must be a non-negative integer, got \"2\"");
  ExpectErrorAt("{\"op\":\"observe\",\"bin\":1,\"refc\":2.5}", "2.5",
                "field \"refc\" must be a non-negative integer, got 2.5");
  ExpectErrorAt("{\"op\":\"observe\",\"bin\":1,\"refc\":9223372036854775808}", "9223",
                "field \"refc\" is out of range (at most 4611686018427387904), got "
                "9223372036854775808");
  ExpectErrorAt("{\"op\":\"gc\",\"bin\":1,\"actor\":\"<0.1.0>\",\"count\":0}", "0}",
                "field \"count\" must be a positive integer, got 0");
  ExpectErrorAt("{\"op\":\"gc\",\"bin\":1,\"actor\":\"<0.1.0>\",\"count\":-2}", "-2",
                "field \"count\" must be a positive integer, got -2");
  ExpectErrorAt("{\"op\":\"send\",\"bin\":1,\"actor\":\"a\",\"to\":\"b\",\"copied\":\"yes\"}",
                "\"yes\"", "field \"copied\" must be true or false, got \"yes\"");
  ExpectErrorAt("{\"op\":\"send\",\"bin\":1,\"actor\":\"a\",\"to\":\"b\",\"copied\":1}", "1}",
                "field \"copied\" must be true or false, got 1");
  ExpectErrorAt("{\"op\":\"stop\",\"t\":\"now\"}", "\"now\"",
                "field \"t\" must be a number, got \"now\"");
  ExpectErrorAt("{\"op\":\"stop\",\"t\":1e400}", "1e400",
                "field \"t\" is out of range for a number, got 1e400");
  ExpectErrorAt("{\"op\":\"stop\",\"seq\":-5}", "-5",
                "field \"seq\" must be a non-negative integer, got -5");
  ExpectErrorAt("{\"op\":\"stop\",\"src\":12}", "12", "field \"src\" must be a string, got 12");
  ExpectErrorAt("{\"op\":\"stop\",\"stack\":\"main\"}", "\"main\"",
                "field \"stack\" must be an array of strings, got \"main\"");
  ExpectErrorAt("{\"op\":\"stop\",\"stack\":[\"main\",7]}", "7",
                "field \"stack\" must be an array of strings, but element 1 is 7");
  ExpectErrorAt("{\"op\":\"stop\",\"note\":false}", "false",
                "field \"note\" must be a string, got false");
}

// Trace format 1.3's fields: each wrong type or range is an error at the value.
TEST_CASE("WrongTypeForEachField13IsAnErrorAtTheValue") {
  ExpectErrorAt("{\"op\":\"alloc\",\"bin\":1,\"port\":7}", "7",
                "field \"port\" must be a string, got 7");
  ExpectErrorAt("{\"op\":\"stop\",\"port\":null}", "null",
                "field \"port\" must be a string, got null");
  ExpectErrorAt("{\"op\":\"borrow\",\"bin\":1,\"from\":[1]}", "[1]",
                "field \"from\" must be a string, got an array");
  ExpectErrorAt("{\"op\":\"borrow\",\"bin\":1,\"gathered\":\"true\"}", "\"true\"",
                "field \"gathered\" must be true or false, got \"true\"");
  ExpectErrorAt("{\"op\":\"borrow\",\"bin\":1,\"task\":0}", "0}",
                "field \"task\" must be a positive integer, got 0");
  ExpectErrorAt("{\"op\":\"borrow\",\"bin\":1,\"task\":1.5}", "1.5",
                "field \"task\" must be a positive integer, got 1.5");
  ExpectErrorAt("{\"op\":\"borrow\",\"bin\":1,\"task\":4611686018427387905}", "4611",
                "field \"task\" is out of range (at most 4611686018427387904), got "
                "4611686018427387905");
  ExpectErrorAt("{\"op\":\"enq\",\"bin\":1,\"copy\":1}", "1}",
                "field \"copy\" must be true or false, got 1");
}

// Trace format 1.4: a gc may name its candidates with `among` instead of `bin`.
TEST_CASE("GcWithAmongIsReadAndNeedsNoBin") {
  Result r = Read(
      "{\"op\":\"gc\",\"among\":[\"0x10\",7,\"0x30\"],\"actor\":\"<0.85.0>\",\"count\":2}\n"
      "{\"op\":\"gc\",\"bin\":\"0x10\",\"actor\":\"<0.85.0>\"}\n");
  REQUIRE(r.last == ReadStatus::kEnd);
  REQUIRE(r.events.size() == 2);
  REQUIRE(r.events[0].among.size() == 3);
  CHECK(r.events[0].among[0] == BinId::Str("0x10"));
  CHECK(r.events[0].among[1] == BinId::Int(7));
  CHECK_FALSE(r.events[0].bin.present());
  CHECK(r.events[0].count == 2);
  CHECK(r.events[1].among.empty());  // the reused event keeps no candidates
}

TEST_CASE("AmongThatIsNotTwoDistinctIdsOrNotOnGcIsAnErrorAtIt") {
  ExpectErrorAt("{\"op\":\"gc\",\"among\":[\"0x10\"],\"actor\":\"P\"}", "[\"0x10\"]",
                "field \"among\" must name at least two binaries (one known binary is `bin`), "
                "got 1");
  ExpectErrorAt("{\"op\":\"gc\",\"among\":[\"0x10\",\"0x10\"],\"actor\":\"P\"}", "\"0x10\"]",
                "field \"among\" names binary 0x10 twice (element 1)");
  ExpectErrorAt("{\"op\":\"gc\",\"among\":[\"0x10\",true],\"actor\":\"P\"}", "true",
                "field \"among\" must be an array of binary ids, but element 1 is true");
  ExpectErrorAt("{\"op\":\"gc\",\"among\":\"0x10\",\"actor\":\"P\"}", "\"0x10\",\"actor",
                "field \"among\" must be an array of binary ids (strings or non-negative "
                "integers), got \"0x10\"");
  ExpectErrorAt("{\"op\":\"free\",\"among\":[1,2]}", "\"among",
                "field \"among\" is only for op \"gc\", not \"free\"");
  ExpectErrorAt("{\"op\":\"gc\",\"bin\":1,\"among\":[1,2],\"actor\":\"P\"}", "\"among",
                "a gc names its binary with \"bin\" or its candidates with \"among\", not both");
  ExpectErrorAt("{\"op\":\"gc\",\"actor\":\"P\"}", "{",
                "missing required field \"bin\" for op \"gc\"");
}

TEST_CASE("Fields13AreReadOnBothPaths") {
  // Plain (the fast path) and with an escape (the full decoder).
  for (const char* from : {"<0.85.0>", "<0.85\\u002e0>"}) {
    CAPTURE(from);
    Result r =
        Read(std::string("{\"op\":\"borrow\",\"bin\":1,\"port\":\"0x55d0\",\"from\":\"") + from +
             "\",\"gathered\":true,\"task\":2}\n"
             "{\"op\":\"enq\",\"bin\":2,\"copy\":true}\n"
             "{\"op\":\"reply\",\"bin\":3,\"to\":\"<0.9.0>\",\"copied\":true}\n");
    REQUIRE(r.events.size() == 3);
    CHECK(r.events[0].port == "0x55d0");
    CHECK(r.events[0].from == "<0.85.0>");
    CHECK(r.events[0].gathered);
    CHECK(r.events[0].task == 2);
    CHECK(r.events[1].copy);
    CHECK(r.events[2].op == Op::kReply);
    CHECK(r.events[2].copied);
  }
}

// Counts come from an emulator: never negative, and at most 2^62 (model.md 1.1).
TEST_CASE("NegativeRefcIsAnErrorAtTheValue") {
  ExpectErrorAt("{\"op\":\"borrow\",\"bin\":\"a\",\"refc\":-1}", "-1",
                "field \"refc\" must be a non-negative integer, got -1");
  ExpectErrorAt("{\"op\":\"observe\",\"bin\":1,\"refc\":-0}", "-0",
                "field \"refc\" must be a non-negative integer, got -0");
  ExpectErrorAt("{\"op\":\"observe\",\"bin\":1,\"refc\":-9223372036854775808}", "-9",
                "field \"refc\" must be a non-negative integer, got -9223372036854775808");
}

TEST_CASE("BorrowWithRefcMinusOneStopsTheTraceAtItsFirstLine") {
  Result r = Read(
      "{\"op\":\"borrow\",\"bin\":\"a\",\"refc\":-1}\n{\"op\":\"inc\",\"bin\":\"a\"}\n"
      "{\"op\":\"observe\",\"bin\":\"a\",\"refc\":1}\n{\"op\":\"free\",\"bin\":\"a\"}\n");
  CHECK(r.last == ReadStatus::kError);
  CHECK(r.events.empty());
  CHECK(r.error.line == 1);
  CHECK(r.error.column == 33);
  CHECK(r.error.message == "field \"refc\" must be a non-negative integer, got -1");
}

TEST_CASE("RefcAndCountOf2To62AreReadAndOneMoreIsOutOfRange") {
  Result r = Read(
      "{\"op\":\"observe\",\"bin\":1,\"refc\":4611686018427387904}\n"
      "{\"op\":\"gc\",\"bin\":1,\"actor\":\"P\",\"count\":4611686018427387904,\"refc\":0}\n");
  REQUIRE(r.last == ReadStatus::kEnd);
  REQUIRE(r.events.size() == 2);
  CHECK(r.events[0].refc == int64_t{1} << 62);
  CHECK(r.events[1].count == uint64_t{1} << 62);
  CHECK(r.events[1].refc == 0);
  ExpectErrorAt("{\"op\":\"observe\",\"bin\":1,\"refc\":4611686018427387905}", "46",
                "field \"refc\" is out of range (at most 4611686018427387904), got "
                "4611686018427387905");
  ExpectErrorAt("{\"op\":\"gc\",\"bin\":1,\"actor\":\"P\",\"count\":4611686018427387905}", "46",
                "field \"count\" is out of range (at most 4611686018427387904), got "
                "4611686018427387905");
  ExpectErrorAt("{\"op\":\"gc\",\"bin\":1,\"actor\":\"P\",\"count\":18446744073709551616}", "18",
                "field \"count\" is out of range (at most 4611686018427387904), got "
                "18446744073709551616");
}

TEST_CASE("LongWrongValueIsShortenedInTheMessage") {
  std::string value(200, 'x');
  Result r = Read("{\"op\":\"stop\",\"t\":\"" + value + "\"}\n");
  REQUIRE(r.last == ReadStatus::kError);
  CHECK(r.error.message == "field \"t\" must be a number, got \"" + std::string(39, 'x') + "...");
}

TEST_CASE("IntegerFieldsAcceptTheirLimits") {
  Result r = Read(
      "{\"op\":\"observe\",\"bin\":1,\"refc\":0,\"size\":18446744073709551615,"
      "\"seq\":0}\n{\"op\":\"observe\",\"bin\":1,\"refc\":4611686018427387904}\n");
  REQUIRE(r.last == ReadStatus::kEnd);
  REQUIRE(r.events.size() == 2);
  CHECK(r.events[0].refc == 0);
  CHECK(r.events[0].size == UINT64_MAX);
  CHECK(r.events[0].seq == 0u);
  CHECK(r.events[1].refc == int64_t{1} << 62);
}

TEST_CASE("UnknownFieldsAreIgnored") {
  Result r = Read(
      "{\"op\":\"stop\",\"future\":{\"a\":[1,2,{\"b\":\"c\"}],\"d\":-1.5e-3},\"x\":null,"
      "\"big\":123456789012345678901234567890}\n");
  CHECK(r.last == ReadStatus::kEnd);
  CHECK(r.events.size() == 1);
}

TEST_CASE("MalformedUnknownFieldIsStillAnError") {
  std::string line = "{\"op\":\"stop\",\"future\":[1,tru]}";
  Result r = Read(line + "\n");
  CHECK(r.last == ReadStatus::kError);
  CHECK(r.error.line == 1);
  CHECK(r.error.column == Col(line, "]}"));
  CHECK(r.error.message.find("invalid literal") != std::string::npos);
}

TEST_CASE("DeeplyNestedUnknownFieldIsAnErrorNotACrash") {
  std::string line =
      "{\"op\":\"stop\",\"deep\":" + std::string(5000, '[') + std::string(5000, ']') + "}";
  Result r = Read(line + "\n");
  CHECK(r.last == ReadStatus::kError);
  CHECK(r.error.line == 1);
}

TEST_CASE("NestingAtSimdjsonsDepthLimitIsAnErrorNotAnOverrun") {
  // 1022 and 1023 levels sit exactly at simdjson's 1024-level limit once the
  // document and the event object are counted.
  for (int depth : {300, 1021, 1022, 1023, 1024, 1025}) {
    INFO("depth ", depth);
    std::string line =
        "{\"op\":\"stop\",\"deep\":" + std::string(depth, '[') + std::string(depth, ']') + "}";
    Result r = Read(line + "\n");
    CHECK(r.last == ReadStatus::kError);
    CHECK(r.error.message == "JSON nesting is deeper than 256 levels");
  }
}

TEST_CASE("ModeratelyNestedUnknownFieldIsAccepted") {
  std::string line =
      "{\"op\":\"stop\",\"deep\":" + std::string(200, '[') + std::string(200, ']') + "}";
  Result r = Read(line + "\n");
  CHECK(r.last == ReadStatus::kEnd);
  CHECK(r.events.size() == 1);
}

TEST_CASE("UnknownOpIsAnErrorAtTheOp") {
  ExpectErrorAt("{\"op\":\"frobnicate\",\"bin\":1}", "\"frob", "unknown op \"frobnicate\"");
  ExpectErrorAt("{\"bin\":1,\"op\":\"ALLOC\"}", "\"ALLOC",
                "unknown op \"ALLOC\" (did you mean \"alloc\"?)");
}

TEST_CASE("MissingRequiredFieldsAreErrorsAtTheObject") {
  ExpectErrorAt("{\"bin\":1}", "{", "missing required field \"op\"");
  ExpectErrorAt("{\"op\":\"alloc\",\"size\":1}", "{",
                "missing required field \"bin\" for op \"alloc\"");
  ExpectErrorAt("{\"op\":\"output\",\"bin\":1}", "{",
                "missing required field \"to\" for op \"output\"");
  ExpectErrorAt("{\"op\":\"send\",\"bin\":1,\"actor\":\"<0.1.0>\"}", "{",
                "missing required field \"to\" for op \"send\"");
  ExpectErrorAt("{\"op\":\"receive\",\"bin\":1}", "{",
                "missing required field \"actor\" for op \"receive\"");
  ExpectErrorAt("{\"op\":\"exit\"}", "{", "missing required field \"actor\" for op \"exit\"");
  ExpectErrorAt("{\"op\":\"observe\",\"bin\":1}", "{",
                "missing required field \"refc\" for op \"observe\"");
  Result r = Read("{\"op\":\"exit\",\"actor\":\"<0.1.0>\"}\n{\"op\":\"stop\"}\n{\"op\":\"end\"}\n");
  CHECK(r.last == ReadStatus::kEnd);
  CHECK(r.events.size() == 3);
}

TEST_CASE("MissingFieldOnAnIndentedLineIsAtTheObjectsColumn") {
  Result r = Read("{\"op\":\"stop\"}\n   {\"op\":\"free\"}\n");
  CHECK(r.last == ReadStatus::kError);
  CHECK(r.error.line == 2);
  CHECK(r.error.column == 4);
}

TEST_CASE("DuplicateKnownFieldIsAnErrorAtTheSecondKey") {
  ExpectErrorAt("{\"op\":\"alloc\",\"bin\":1,\"size\":1,\"bin\":2}", "\"bin\":2",
                "duplicate field \"bin\"");
  ExpectErrorAt("{\"op\":\"stop\",\"op\":\"stop\"}", "\"op\":\"stop\"}", "duplicate field \"op\"");
  // Unknown fields may repeat.
  Result r = Read("{\"op\":\"stop\",\"x\":1,\"x\":2}\n");
  CHECK(r.last == ReadStatus::kEnd);
}

TEST_CASE("LineThatIsNotAnObjectIsAnError") {
  Result r = Read("{\"op\":\"stop\"}\n[{\"op\":\"stop\"}]\n");
  CHECK(r.last == ReadStatus::kError);
  CHECK(r.error.line == 2);
  CHECK(r.error.column == 1);
  CHECK(r.error.message == "expected a JSON object, got an array");
  r = Read("{\"op\":\"stop\"}\n42\n");
  CHECK(r.last == ReadStatus::kError);
  CHECK(r.error.line == 2);
  CHECK(r.error.message == "expected a JSON object, got 42");
  r = Read("{\"op\":\"stop\"}\n  \"text\"\n");
  CHECK(r.error.column == 3);
  CHECK(r.error.message == "expected a JSON object, got \"text\"");
}

// --- end -----------------------------------------------------------------------------------

TEST_CASE("EventAfterEndIsAnErrorAndEndIsDelivered") {
  Result r = Read("{\"op\":\"stop\"}\n{\"op\":\"end\"}\n\n {\"op\":\"stop\"}\n");
  CHECK(r.last == ReadStatus::kError);
  REQUIRE(r.events.size() == 2);
  CHECK(r.events[1].op == Op::kEnd);
  CHECK(r.error.line == 4);
  CHECK(r.error.column == 2);
  CHECK(r.error.message == "event after \"end\"");
}

TEST_CASE("EndFollowedByBlankLinesIsFine") {
  Result r = Read("{\"op\":\"end\"}\n\n   \n");
  CHECK(r.last == ReadStatus::kEnd);
  CHECK(r.events.size() == 1);
}

TEST_CASE("DocumentEventAfterEndIsAnError") {
  Result r = Read("[{\"op\":\"end\"},\n  {\"op\":\"stop\"}]");
  CHECK(r.last == ReadStatus::kError);
  CHECK(r.events.size() == 1);
  CHECK(r.error.line == 2);
  CHECK(r.error.column == 3);
  CHECK(r.error.message == "event after \"end\"");
}

// --- malformed input -----------------------------------------------------------------------

TEST_CASE("InvalidJsonSaysWhatAndWhere") {
  std::string line = "{\"op\":\"alloc\",,\"bin\":1}";
  Result r = Read("{\"op\":\"stop\"}\n" + line + "\n");
  CHECK(r.last == ReadStatus::kError);
  CHECK(r.events.size() == 1);
  CHECK(r.error.line == 2);
  CHECK(r.error.column == 15);
  CHECK(r.error.message ==
        "syntax error while parsing object key - unexpected ','; expected string literal");
  CHECK(r.error.excerpt == line);
  CHECK(r.error.excerpt_caret == 15);
}

TEST_CASE("InvalidJsonBeforeAWrongTypeIsReportedFirst") {
  Result r = Read("{\"op\":\"alloc\",\"bin\":-1,\"size\":tru}\n");
  CHECK(r.last == ReadStatus::kError);
  CHECK(r.error.message.find("invalid literal") != std::string::npos);
}

TEST_CASE("ContentAfterTheObjectOnALineIsAnError") {
  std::string line = "{\"op\":\"stop\"} {\"op\":\"stop\"}";
  Result r = Read(line + "\n");
  CHECK(r.last == ReadStatus::kError);
  CHECK(r.error.column == 15);
  CHECK(r.error.message ==
        "syntax error while parsing value - unexpected '{'; expected end of input");
}

TEST_CASE("TruncatedLastLineIsAnErrorAtItsLine") {
  Result r = Read("{\"op\":\"stop\"}\n{\"op\":\"alloc\",\"bin\":\"0x7f");
  CHECK(r.last == ReadStatus::kError);
  CHECK(r.events.size() == 1);
  CHECK(r.error.line == 2);
  CHECK(r.error.column == 26);
  CHECK(r.error.message.rfind("truncated last line: ", 0) == 0);
  r = Read("{\"op\":\"stop\"}\n{\"op\":\"alloc\",\"bin\":12");
  CHECK(r.error.line == 2);
  CHECK(r.error.message ==
        "truncated last line: syntax error while parsing object - unexpected end of input; "
        "expected '}'");
}

TEST_CASE("UnterminatedLineFollowedByMoreLinesIsNotCalledTruncated") {
  Result r = Read("{\"op\":\"alloc\",\"bin\":12\n{\"op\":\"stop\"}\n");
  CHECK(r.last == ReadStatus::kError);
  CHECK(r.error.line == 1);
  CHECK(r.error.message.find("truncated") == std::string::npos);
}

// A recorder's shared mapping after a crash (trace format 1.5): NUL bytes after the last line,
// more of them than the reader's chunk and than the line limit.
TEST_CASE("NulBytesAfterTheLastLineEndTheTrace") {
  const std::string lines =
      "{\"refctrace\":1}\n{\"op\":\"alloc\",\"bin\":1}\n{\"op\":\"free\",\"bin\":1}\n";
  ReaderOptions options;
  options.chunk_bytes = 64;
  options.max_line_bytes = 100;
  for (size_t nuls : {size_t{1}, size_t{63}, size_t{64}, size_t{5000}}) {
    CAPTURE(nuls);
    for (bool trickled : {false, true}) {
      std::string text = lines + std::string(nuls, '\0');
      Result r = trickled ? ReadTrickled(text, options) : Read(text, options);
      CHECK(r.last == ReadStatus::kEnd);
      CHECK(r.error.message.empty());
      REQUIRE(r.events.size() == 2);
      CHECK(r.events[1].op == Op::kFree);
    }
  }
}

TEST_CASE("NulBytesBeforeMoreDataAreAnError") {
  const std::string lines = "{\"refctrace\":1}\n{\"op\":\"alloc\",\"bin\":1}\n";
  ReaderOptions options;
  options.chunk_bytes = 64;
  options.max_line_bytes = 100;
  // Few NUL bytes or more than a chunk, then a line, read whole or a byte at a time (the
  // fuzzer's oracle: the result must not depend on how the input arrives): NUL bytes are
  // only allowed at the end, and the error says so at the first of them.
  for (size_t nuls : {size_t{3}, size_t{5000}}) {
    for (bool trickled : {false, true}) {
      CAPTURE(nuls);
      CAPTURE(trickled);
      const std::string text = lines + std::string(nuls, '\0') + "{\"op\":\"free\",\"bin\":1}\n";
      Result r = trickled ? ReadTrickled(text, options) : Read(text, options);
      CHECK(r.last == ReadStatus::kError);
      CHECK(r.error.line == 3);
      CHECK(r.error.column == 1);
      CHECK(r.error.message.find("only the end of a trace may be NUL bytes") != std::string::npos);
      CHECK(r.events.size() == 1);
    }
  }
}

TEST_CASE("BinaryJunkIsACleanErrorWithEscapedExcerpt") {
  Result r = Read(std::string("\x00\x01\xFF\xFEjunk\n", 9));
  CHECK(r.last == ReadStatus::kError);
  CHECK(r.error.line == 1);
  CHECK(r.error.column == 1);
  CHECK(r.error.excerpt == "\\x00\\x01\\xFF\\xFEjunk");
  // Not JSON from its first byte: said so, with the bytes shown escaped.
  CHECK(r.error.message.rfind("not a JSON trace: ", 0) == 0);
  CHECK(r.error.message.find("starts with '\\x00\\x01\\xFF\\xFEjunk'") != std::string::npos);
  // On a later line, the parser's own message names the NUL byte.
  r = Read(std::string("{\"op\":\"stop\"}\n\x00junk\n", 20));
  CHECK(r.last == ReadStatus::kError);
  CHECK(r.error.line == 2);
  CHECK(r.error.message.find("NUL") != std::string::npos);

  r = Read(std::string("{\"op\":\"stop\"}\n{\"op\":\"st\x00op\"}\n", 30));
  CHECK(r.last == ReadStatus::kError);
  CHECK(r.error.line == 2);
  CHECK(r.error.column == 10);
  CHECK(r.error.excerpt == "{\"op\":\"st\\x00op\"}");
  CHECK(r.error.excerpt_caret == 10);

  // Random bytes of every value, in several shapes: always an error, never a crash.
  std::string junk;
  for (int i = 0; i < 4096; ++i)
    junk.push_back(static_cast<char>((i * 7919 + i / 13) & 0xFF));
  for (const std::string& text : {junk, "{" + junk, "[" + junk, "{\"events\":" + junk}) {
    Result j = Read(text);
    CHECK(j.last == ReadStatus::kError);
  }
}

TEST_CASE("InvalidUtf8InAStringIsAnError") {
  Result r = Read("{\"op\":\"stop\",\"note\":\"caf\xE9!\"}\n");
  CHECK(r.last == ReadStatus::kError);
  CHECK(r.error.column == 25);
  CHECK(r.error.message.find("ill-formed UTF-8") != std::string::npos);
  CHECK(r.error.excerpt == "{\"op\":\"stop\",\"note\":\"caf\\xE9!\"}");
  CHECK(r.error.excerpt_caret == 25);
}

TEST_CASE("LongLineExcerptIsCutAroundTheColumn") {
  std::string line = "{\"op\":\"stop\",\"note\":\"" + std::string(500, 'n') + "\",\"bin\":-1," +
                     "\"x\":\"" + std::string(500, 'x') + "\"}";
  Result r = Read(line + "\n");
  REQUIRE(r.last == ReadStatus::kError);
  CHECK(r.error.message == "field \"bin\" must be a string or a non-negative integer, got -1");
  CHECK(r.error.column == Col(line, "-1"));
  const std::string& ex = r.error.excerpt;
  CHECK(ex.rfind("...", 0) == 0);
  CHECK(ex.size() == 106);
  CHECK(ex.substr(ex.size() - 3) == "...");
  CHECK(ex.substr(r.error.excerpt_caret - 1, 2) == "-1");
}

TEST_CASE("LineOverTheLimitIsAnError") {
  ReaderOptions options;
  options.max_line_bytes = 1000;
  options.chunk_bytes = 64;
  std::string ok = "{\"op\":\"stop\",\"note\":\"" + std::string(1000 - 23, 'a') + "\"}";
  REQUIRE(ok.size() == 1000);
  Result r = Read(ok + "\r\n" + ok + "\n", options);
  CHECK(r.last == ReadStatus::kEnd);
  CHECK(r.events.size() == 2);

  std::string too_long = "{\"op\":\"stop\",\"note\":\"" + std::string(1000 - 22, 'a') + "\"}";
  r = Read("{\"op\":\"stop\"}\n\n" + too_long + "\n{\"op\":\"stop\"}\n", options);
  CHECK(r.last == ReadStatus::kError);
  CHECK(r.events.size() == 1);
  CHECK(r.error.line == 3);
  CHECK(r.error.message == "line is longer than the 1000 bytes limit");
  CHECK(r.error.excerpt.rfind("{\"op\":\"stop\"", 0) == 0);
}

TEST_CASE("LineOverTheDefaultLimitIsAnErrorWithoutReadingItAll") {
  // 80 MiB of one line, generated on demand; the reader must give up after about 64 MiB.
  auto source = std::make_unique<GeneratedSource>("{\"op\":\"stop\"}\n{\"note\":\"",
                                                  uint64_t{80} << 20, "\"}\n");
  GeneratedSource* raw = source.get();
  auto reader = TraceReader::FromSource(std::move(source));
  Result r = Drain(*reader);
  CHECK(r.last == ReadStatus::kError);
  CHECK(r.events.size() == 1);
  CHECK(r.error.line == 2);
  CHECK(r.error.message == "line is longer than the 64 MiB limit");
  CHECK(raw->served() < (uint64_t{66} << 20));
}

// --- plain lines (the NDJSON fast path) ---------------------------------------------------

// Lines of the shapes real traces have: the fast path must take them, and agree with the full
// decoder on every field.
const std::vector<std::string> kPlainLines = {
    "{\"op\":\"alloc\",\"bin\":\"0x7f0000007a00\",\"size\":6412,\"refc\":1,\"src\":\"bench_drv.c:"
    "88\","
    "\"t\":1732550400000014,\"seq\":1}",
    "{\"op\":\"output\",\"bin\":\"0x7f0000017280\",\"to\":\"<0.143.0>\",\"copied\":true,"
    "\"src\":\"bench_drv.c:97\",\"t\":1732550400002365,\"seq\":117}",
    "{\"op\":\"gc\",\"bin\":\"0x7f0000016e00\",\"actor\":\"<0.101.0>\",\"count\":1,\"refc\":2,"
    "\"t\":1732550400001055,\"seq\":48}",
    "{\"op\":\"realloc\",\"bin\":\"0x7f000001d840\",\"size\":3030,\"new_bin\":\"0x7f00000220c0\"}",
    "{\"op\":\"alloc\",\"bin\":\"0x7f000000d700\",\"size\":18,\"src\":\"bench_drv.c:88\","
    "\"stack\":[\"bench_drv.c:88\",\"bench_drv.c:412\",\"erts_port_task_execute\"]}",
    "{\"op\":\"realloc\",\"bin\":\"old\",\"new_bin\":42,\"actor\":\"#Port<0.6>\",\"to\":\"<0.1.0>"
    "\","
    "\"size\":10,\"refc\":3,\"count\":2,\"copied\":false,\"t\":1.5e3,\"seq\":9,\"src\":\"a.c:1\","
    "\"stack\":[],\"note\":\"hi there ~!#$%&'()*+,-./:;<=>?@[]^_`{|}\x7f\"}",
    "{ \"op\" : \"stop\" ,\t\"t\" :\r-0 , \"seq\":0 }  \t",
    "{\"bin\":1,\"op\":\"inc\"}",
    "{\"op\":\"inc\",\"bin\":18446744073709551615,\"new_bin\":0}",
    "{\"op\":\"observe\",\"bin\":\"\",\"refc\":0,\"size\":18446744073709551615}",
    "{\"op\":\"observe\",\"bin\":1,\"refc\":4611686018427387904,\"seq\":99999999}",
    "{\"op\":\"gc\",\"bin\":1,\"actor\":\"P\",\"count\":4611686018427387904}",
    "{\"op\":\"stop\",\"t\":-0.000001}",
    "{\"op\":\"stop\",\"t\":9007199254740993}",
    "{\"op\":\"stop\",\"t\":123456789012345678901234567890}",
    "{\"op\":\"stop\",\"t\":2.2250738585072011e-308,\"seq\":12345678}",
    "{\"op\":\"stop\",\"t\":1E+2,\"x\":null,\"y\":true,\"z\":false,\"w\":-1.5e-3,\"v\":\"s\","
    "\"big\":123456789012345678901234567890,\"refctrace\":7,\"x\":1}",
    "{\"op\":\"end\"}",
    // The fields of trace formats 1.3 to 1.6.
    "{\"op\":\"borrow\",\"bin\":\"0xb1\",\"from\":\"<0.9.0>\",\"gathered\":true,\"task\":2,"
    "\"port\":\"#Port<0.7>\",\"func\":\"outputv\"}",
    "{\"op\":\"enq\",\"bin\":7,\"copy\":true,\"port\":\"p1\"}",
    "{\"op\":\"nif_enter\",\"env\":\"0xe1\",\"env_kind\":\"callback\",\"nif\":\"m:f/1\"}",
    "{\"op\":\"bin_use\",\"data\":\"0xd1\",\"env\":9,\"write\":true}",
    "{\"op\":\"res_alloc\",\"res\":\"0xa1\",\"rtype\":\"m_res\",\"size\":8}",
    "{\"op\":\"bin_realloc\",\"bin\":\"0xb3\",\"readonly\":true,\"data\":\"0xd2\",\"size\":9}",
    "{\"op\":\"env_send\",\"env\":\"0xe2\",\"to\":\"<0.5.0>\",\"failed\":true}",
    "{\"op\":\"held\",\"res\":\"0xa1\",\"in\":\"static\"}",
    "{\"op\":\"unborrow\",\"bin\":\"0xb1\"}",
};

TEST_CASE("PlainLinesAreDecodedAsTheFullDecoderDoes") {
  for (const std::string& line : kPlainLines) {
    CAPTURE(line);
    std::optional<Event> full = FullDecode(line);
    REQUIRE(full.has_value());
    for (char fill : {'\n', ' ', '"', '}', '0', '\\'}) {
      std::optional<Event> plain = PlainDecode(line, fill);
      REQUIRE(plain.has_value());
      CHECK(SameDecoding(*plain, *full));
    }
  }
}

TEST_CASE("AnEventReusedForLineAfterLineKeepsNothingOfTheLinesBefore") {
  // The plain parser resets only the fields the line before set and this one lacks
  // (Event::maybe_set): every ordered pair of lines, with a line it refuses between or not,
  // must leave what a fresh decoding of the second gives.
  std::vector<std::string> lines = kPlainLines;
  lines.push_back("{\"op\":\"stop\",\"note\":\"not plain: \\t\"}");  // to the full decoder
  for (const std::string& first : lines) {
    for (const std::string& second : kPlainLines) {
      for (bool refused_between : {false, true}) {
        CAPTURE(first);
        CAPTURE(second);
        CAPTURE(refused_between);
        std::string text = first + "\n";
        if (refused_between) text += "{\"op\":\"alloc\",\"bin\":\"0x1\",\"size\":\"x\"}\n";
        text += second + "\n" + std::string(kPlainEventReadAhead, ' ');
        Event event;
        size_t at = 0;
        for (;;) {  // each line in turn, as NdjsonReader does (false: the full decoder's turn)
          const size_t eol = text.find('\n', at);
          const bool plain = ParsePlainEvent(std::string_view(text).substr(at, eol - at), &event);
          at = eol + 1;
          if (at >= text.size() - kPlainEventReadAhead) {
            REQUIRE(plain);
            break;
          }
          if (!plain) event.Clear();  // what the full decoder starts with
        }
        std::optional<Event> fresh = FullDecode(second);
        REQUIRE(fresh.has_value());
        CHECK(SameDecoding(event, *fresh));
      }
    }
  }
}

TEST_CASE("LinesThatAreNotPlainAreLeftToTheFullDecoder") {
  const char* lines[] = {
      // Valid, but not plain: the full decoder reads them.
      "{\"op\":\"stop\",\"note\":\"a\\\"b\"}",
      "{\"o\\u0070\":\"stop\"}",
      "{\"op\":\"stop\",\"note\":\"caf\xC3\xA9\"}",
      "{\"op\":\"stop\",\"x\":{\"a\":1}}",
      "{\"op\":\"stop\",\"x\":[1]}",
      "{\"op\":\"stop\",\"stack\":[\"a\\n\"]}",
      "{\"op\":\"stop\",\"note\":\"tab\there\"}",
      // Problems: the full decoder says what and where.
      "{\"op\":\"stop\",\"t\":1e400}",
      "{\"op\":\"inc\",\"bin\":18446744073709551616}",
      "{\"op\":\"observe\",\"bin\":1,\"refc\":9223372036854775808}",
      "{\"op\":\"observe\",\"bin\":1,\"refc\":-9223372036854775809}",
      "{\"op\":\"observe\",\"bin\":1,\"refc\":-1}",
      "{\"op\":\"observe\",\"bin\":1,\"refc\":-0}",
      "{\"op\":\"observe\",\"bin\":1,\"refc\":4611686018427387905}",
      "{\"op\":\"gc\",\"bin\":1,\"actor\":\"a\",\"count\":4611686018427387905}",
      "{\"op\":\"inc\",\"bin\":01}",
      "{\"op\":\"inc\",\"bin\":-0}",
      "{\"op\":\"inc\",\"bin\":1.0}",
      "{\"op\":\"stop\",\"seq\":1e3}",
      "{\"op\":\"stop\",\"seq\":1E3}",
      "{\"op\":\"observe\",\"bin\":1,\"refc\":2.0}",
      "{\"op\":\"stop\",\"t\":1.}",
      "{\"op\":\"stop\",\"t\":.5}",
      "{\"op\":\"stop\",\"t\":1e}",
      "{\"op\":\"stop\",\"t\":+1}",
      "{\"op\":\"stop\",\"t\":-}",
      "{\"op\":\"gc\",\"bin\":1,\"actor\":\"a\",\"count\":0}",
      "{\"op\":\"stop\",\"copied\":tru}",
      "{\"op\":\"stop\",\"x\":nul}",
      "{\"op\":\"stop\",\"op\":\"stop\"}",
      "{\"op\":\"frobnicate\"}",
      "{\"op\":\"alloc\"}",
      "{\"op\":\"output\",\"bin\":1}",
      "{\"bin\":1}",
      "{}",
      "{\"op\":\"stop\",}",
      "{\"op\":\"stop\"",
      "{\"op\":\"stop} ",
      "{\"op\":\"stop\"} {}",
      "{\"op\":\"stop\"}}",
      "{\"op\"\"stop\"}",
      "{\"op\":\"stop\"\"t\":1}",
      "{\"op\":\"st\x01op\"}",
      "{\"op\":\"stop\",\"note\":\"\x80\"}",
      "[{\"op\":\"stop\"}]",
      "{\"op\":\"stop\",\"stack\":[\"a\",]}",
      "{\"op\":\"stop\",\"stack\":[\"a\" \"b\"]}",
      // After the recorder's start `{"op":"NAME","bin":` (its own fast path), what the general
      // loop refuses.
      "{\"op\":\"alloc\",\"bin\":\"0x1\",\"bin\":\"0x2\",\"size\":1}",  // a duplicate
      "{\"op\":\"alloc\",\"size\":1,\"bin\":\"0x1\",\"op\":\"free\"}",
      "{\"op\":\"alloc\",\"bin\":\"0x1\",\"size\":1,\"op\":\"free\"}",
      "{\"op\":\"alloc\",\"bin\":-1,\"size\":1}",
      "{\"op\":\"alloc\",\"bin\":1.5,\"size\":1}",
      "{\"op\":\"alloc\",\"bin\":true,\"size\":1}",
      "{\"op\":\"alloc\",\"bin\":\"0x1\\n\",\"size\":1}",
      "{\"op\":\"alloc\",\"bin\":\"0x1}",
      "{\"op\":\"alloc\",\"bin\":}",
      "{\"op\":\"alloc\",\"bin\":",
      "{\"op\":\"alloc\",\"bin\"}",
      "{\"op\":\"alloc\",\"bin\":\"0x1\"",
      "{\"op\":\"alloc\",\"bin\":\"0x1\"}}",
      "{\"op\":\"alloc\",\"bin\":\"0x1\",\"size\":1,}",
      "{\"op\":\"alloc\",\"bin\":\"0x1\"\"size\":1}",
      "{\"op\":\"alloc\"}",
      "{\"op\":\"alloc\",\"bi\":1}",
      "{\"op\":\"allocx\",\"bin\":1,\"size\":1}",
      "{\"op\":\"allo\",\"bin\":1,\"size\":1}",
      "{\"op\":\"\",\"bin\":1}",
      "{\"op\":\"alloc",
      "{\"op\":\"unborrow",
      "{\"op\":\"unborrow}",
      "{\"op\":\"exit\"}",
  };
  for (const char* line : lines) {
    CAPTURE(line);
    CHECK_FALSE(PlainDecode(line).has_value());
    CHECK_FALSE(PlainDecode(line, '"').has_value());  // a quote past the end closes nothing
  }
}

TEST_CASE("MutatedLinesAreNeverDecodedDifferently") {
  // Random edits of plain lines, many of them broken: whenever the fast path takes one, the
  // full decoder must take it too, with the same result.
  const std::string alphabet =
      std::string("\"\\{}[],: \t\r0123456789-+.eEtrufalsn\x01\x7f\x80\xC3", 38);
  std::mt19937 rng(20241125);
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  int taken = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string line = kPlainLines[pick(kPlainLines.size())];
    for (size_t edits = 1 + pick(3); edits > 0; --edits) {
      size_t at = pick(line.size());
      switch (pick(4)) {
        case 0:
          line[at] = alphabet[pick(alphabet.size())];
          break;
        case 1:
          line.insert(line.begin() + static_cast<std::ptrdiff_t>(at),
                      alphabet[pick(alphabet.size())]);
          break;
        case 2:
          line.erase(at, 1);
          break;
        default:
          line.resize(at);
          break;
      }
      if (line.empty()) line = "{";
    }
    std::optional<Event> plain = PlainDecode(line, alphabet[pick(alphabet.size())]);
    if (!plain) continue;
    ++taken;
    CAPTURE(line);
    std::optional<Event> full = FullDecode(line);
    REQUIRE(full.has_value());
    CHECK(SameDecoding(*plain, *full));
  }
  CHECK(taken > 1000);  // the edits do not only break lines
}

TEST_CASE("AnOpNameWithNulBytesIsNeverPlain") {
  // The plain parser looks a short op name up by its word, zero-padded: NUL bytes after the
  // name must not vanish into that padding (decision 240). simdjson rejects a raw control byte
  // in a string, and the full decoder has no op "alloc\0": neither may be decoded.
  using namespace std::string_literals;
  const std::string lines[] = {
      // The recorder's start `{"op":"NAME","bin":`, read by its own fast path.
      "{\"op\":\"alloc\0\",\"bin\":\"0x1\",\"size\":1}"s,
      "{\"op\":\"free\0\0\0\0\",\"bin\":1}"s,  // a word of name and NULs, then the quote
      "{\"op\":\"stop\0\"}"s,
      "{\"op\":\"gc\0\0\0\0\0\0\",\"bin\":1,\"actor\":\"a\"}"s,
      "{\"op\":\"unborrow\0\",\"bin\":1}"s,  // 8 bytes of name, then a NUL
      "{\"op\":\"\0stop\"}"s,
      "{\"op\":\"\0\"}"s,
      // Op after another field: the general loop.
      "{\"bin\":1,\"op\":\"inc\0\"}"s,
      "{\"t\":1,\"op\":\"stop\0\0\0\0\"}"s,
      "{ \"op\":\"stop\0\"}"s,
      // Escaped NUL: not plain (the full decoder reads it, and finds no such op).
      "{\"op\":\"alloc\\u0000\",\"bin\":1}"s,
      "{\"bin\":1,\"op\":\"inc\\u0000\"}"s,
      // NUL bytes in a key.
      "{\"op\":\"stop\",\"t\0\":1}"s,
      "{\"op\0\":\"stop\"}"s,
      "{\"op\":\"alloc\",\"bin\0\":1}"s,
  };
  for (const std::string& line : lines) {
    CAPTURE(line);
    CHECK_FALSE(FullDecode(line).has_value());
    for (char fill : {'\n', '"', '\0'})
      CHECK_FALSE(PlainDecode(line, fill).has_value());
    // And through the reader, after a first line (which the full decoder always reads): an
    // error at line 2, not an event.
    Result r = Read("{\"op\":\"stop\"}\n" + line + "\n");
    CHECK(r.last == ReadStatus::kError);
    CHECK(r.events.size() == 1);
    CHECK(r.error.line == 2);
  }
}

TEST_CASE("NulBytesInAnyPlainLineAreNeverDecodedDifferently") {
  // A NUL byte put at every position of every plain line, in place of a byte or before it:
  // whatever the plain parser takes, the full decoder takes the same way.
  int taken = 0;
  for (const std::string& plain_line : kPlainLines) {
    for (size_t at = 0; at <= plain_line.size(); ++at) {
      for (bool replace : {false, true}) {
        if (replace && at == plain_line.size()) continue;
        std::string line = plain_line;
        if (replace) {
          line[at] = '\0';
        } else {
          line.insert(at, 1, '\0');
        }
        CAPTURE(line);
        if (PlainTakesAsTheFullDecoderDoes(line)) ++taken;
      }
    }
  }
  CHECK(taken == 0);  // a NUL byte is blank nowhere and plain in no string
}

TEST_CASE("TheRecorderStartIsReadAsTheGeneralLoopReadsIt") {
  // `{"op":"NAME","bin":` has a fast path of its own: the same lines with that start and
  // without it (op second, or a blank in it) must decode the same, and as the full decoder
  // does.
  const std::string tails[] = {
      "",
      ",\"size\":64",
      ",\"to\":\"<0.85.0>\",\"copied\":true",
      ",\"actor\":\"<0.101.0>\",\"count\":1,\"refc\":2",
      " , \"refc\":1 ",
  };
  const std::string ops_and_bins[][2] = {
      {"alloc", "\"0x7f0000007a00\""},
      {"free", "12345"},
      {"unborrow", "\"0xb1\""},
      {"gc", "\"\""},
      {"realloc", "0"},
  };
  for (const auto& [op, bin] : ops_and_bins) {
    for (const std::string& tail : tails) {
      if (op == std::string("gc") && tail.find("actor") == std::string::npos) continue;
      if (op == std::string("realloc") && tail.find("size") == std::string::npos) continue;
      const std::string fields = "\"op\":\"" + op + "\",\"bin\":" + bin + tail;
      const std::string variants[] = {
          "{" + fields + "}",
          "{\"bin\":" + bin + ",\"op\":\"" + op + "\"" + tail + "}",
          "{ " + fields + "}",
          "{\"op\":\"" + op + "\" ,\"bin\":" + bin + tail + "}",
          "{\"op\":\"" + op + "\",\"bin\": " + bin + tail + "}",
          "{\"op\":\"" + op + "\",\"bin\" :" + bin + tail + "}",
      };
      std::optional<Event> first;
      for (const std::string& line : variants) {
        CAPTURE(line);
        std::optional<Event> full = FullDecode(line);
        REQUIRE(full.has_value());
        for (char fill : {'\n', '"', ','}) {
          std::optional<Event> plain = PlainDecode(line, fill);
          REQUIRE(plain.has_value());
          CHECK(SameDecoding(*plain, *full));
        }
        if (!first) first = full;
        CHECK(SameDecoding(*full, *first));
      }
    }
  }
}

TEST_CASE("LongExponentsAreDecodedAsTheFullDecoderDoes") {
  // simdjson refuses a double whose exponent has more than 19 digits, leading zeros and all,
  // even when its value is plain (decision 242; found by fuzzing the plain parser against the
  // full decoder). Whatever the plain parser takes here, the full decoder takes the same way.
  const std::string e19 = "0000000000000000001";  // 19 digits
  const std::string e20 = "0" + e19;
  const std::string values[] = {
      "1e" + e19,
      "1e+" + e19,
      "1e-" + e19,
      "0e" + e19,
      "0.5E" + e19,
      "1e" + e20,
      "1e+" + e20,
      "1e-" + e20,
      "0e" + e20,
      "0.5E" + e20,
      "-0e" + e20,
      "0e" + e20 + e20,
      "0e12345678901234567890",
      "1e99999",
  };
  int taken = 0;
  for (const std::string& value : values) {
    const std::string line = "{\"op\":\"stop\",\"t\":" + value + "}";
    CAPTURE(line);
    if (PlainTakesAsTheFullDecoderDoes(line)) ++taken;
  }
  CHECK(taken == 5);  // the 19-digit exponents: only what the full decoder refuses is left
}

TEST_CASE("KeysLikeTheCommonOnesAreReadAsTheFullDecoderReadsThem") {
  // The plain parser finds the keys most lines have after op and bin (src, t, seq, size, to,
  // actor, refc, func, count) by their first letters and one word: a key that only starts
  // like one, a blank before its colon, or a value at the line's end must be read as the
  // general loop and the full decoder read them.
  const char* fields[] = {
      "\"src\":\"a.c:1\"",
      "\"srcx\":\"a.c:1\"",
      "\"sr\":1",
      "\"src\" :\"a.c:1\"",
      "\"seq\":7",
      "\"seqq\":7",
      "\"se\":7",
      "\"size\":8",
      "\"sizes\":8",
      "\"siz\":8",
      "\"s\":8",
      "\"t\":5",
      "\"t\" : 5",
      "\"tt\":5",
      "\"to\":\"<0.1.0>\"",
      "\"top\":\"x\"",
      "\"actor\":\"<0.2.0>\"",
      "\"actors\":\"x\"",
      "\"act\":\"x\"",
      "\"refc\":2",
      "\"refcx\":2",
      "\"ref\":2",
      "\"func\":\"f\"",
      "\"funcs\":\"f\"",
      "\"count\":3",
      "\"counts\":3",
      "\"cnt\":3",
      "\"copied\":true",
      "\"t\":",
      "\"src\":",
      "\"actor\":",
      "\"refc\":\"2\"",
  };
  int taken = 0;
  for (const char* field : fields) {
    for (const std::string& line :
         {"{\"op\":\"free\",\"bin\":1," + std::string(field) + "}",
          "{\"op\":\"free\",\"bin\":1," + std::string(field) + ",\"note\":\"n\"}",
          "{\"op\":\"free\",\"bin\":1, " + std::string(field) + "}"}) {
      CAPTURE(line);
      if (PlainTakesAsTheFullDecoderDoes(line)) ++taken;
    }
  }
  CHECK(taken == 3 * 28);  // all but the four whose value is missing or of the wrong type
}

TEST_CASE("LongFractionsAreReadCorrectlyRoundedByTheFullDecoder") {
  // simdjson 3.0.1's get_double misreads these (0.95000000000000000000 as 0.0277): the full
  // decoder must give what std::from_chars gives, as the plain parser does, whether it reads
  // the line itself (a trace's first line) or after the plain parser refused it.
  for (const std::string value : {"0.95000000000000000000", "-0.0336666666666666666666666",
                                  "0.12345678901234567890123", "0.95000000000000000000e1", "0.5"}) {
    CAPTURE(value);
    double expected = 0;
    std::from_chars(value.data(), value.data() + value.size(), expected);
    const std::string line = "{\"op\":\"stop\",\"t\":" + value + "}";
    std::optional<Event> full = FullDecode(line);
    REQUIRE(full.has_value());
    REQUIRE(full->t.has_value());
    CHECK(*full->t == expected);
    std::optional<Event> plain = PlainDecode(line);
    if (plain) CHECK(SameDecoding(*plain, *full));
    // As the first line of a trace, and with blanks after the number.
    auto reader = TraceReader::FromString(std::string("{\"op\":\"stop\",\"t\":") + value + " }\n");
    Event event;
    REQUIRE(reader->Next(&event) == ReadStatus::kEvent);
    REQUIRE(event.t.has_value());
    CHECK(*event.t == expected);
  }
}

TEST_CASE("StringsOfTheSameLengthAreOverwrittenWhole") {
  // The plain parser overwrites a string of the length it already has in place, as two words
  // that may overlap: every length, every byte must be the new line's.
  for (size_t n = 0; n <= 20; ++n) {
    CAPTURE(n);
    std::string a(n, 'a');
    std::string b;
    for (size_t i = 0; i < n; ++i)
      b += static_cast<char>('A' + i);
    Event event;
    for (const std::string& id : {a, b, a}) {
      const std::string line = "{\"op\":\"free\",\"bin\":\"" + id + "\",\"note\":\"" + id + "\"}";
      const std::string text = line + std::string(kPlainEventReadAhead, '"');
      REQUIRE(ParsePlainEvent(std::string_view(text).substr(0, line.size()), &event));
      CHECK(event.bin.str == id);
      CHECK(event.note == id);
      CHECK(event.bin.str.size() == n);
    }
  }
}

TEST_CASE("PlainAndOtherLinesMixInOneTrace") {
  // Line 1 always goes to the full decoder; later lines are plain or not, in any order.
  std::string text = "{\"op\":\"stop\"}\n";
  std::vector<std::string> lines = {kPlainLines[0], "{\"op\":\"stop\",\"note\":\"a\\tb\"}",
                                    kPlainLines[1], "  " + kPlainLines[2] + "\r",
                                    "{\"op\":\"stop\",\"x\":[1,{}]}"};
  for (const std::string& line : lines)
    text += line + "\n";
  Result r = Read(text);
  REQUIRE(r.last == ReadStatus::kEnd);
  REQUIRE(r.events.size() == 6);
  CHECK(r.events[2].note == "a\tb");
  CHECK(r.events[4].pos.line == 5);
  CHECK(r.events[4].pos.column == 3);
  CHECK(r.events[4].actor == "<0.101.0>");
  CHECK(r.events[5].op == Op::kStop);
  CHECK(r.events[5].note.empty());  // nothing left over from the event before
}

// --- sources, chunking and stickiness ------------------------------------------------------

TEST_CASE("LinesSplitAcrossTinyReadsGiveTheSameResults") {
  ReaderOptions tiny;
  tiny.chunk_bytes = 16;  // forces moving partial lines and growing the buffer
  std::vector<std::string> inputs = {
      kSpecExample,
      "\xEF\xBB\xBF\r\n\r\n{\"op\":\"alloc\",\"bin\":18446744073709551615,\"size\":7}\r\n  "
      "{\"op\":\"free\",\"bin\":18446744073709551615}",
      "{\n \"refctrace\": 1,\n \"events\": [\n  {\"op\": \"alloc\", \"bin\": 5},\n"
      "  {\"op\": \"free\", \"bin\": 5}\n ]\n}\n",
      "[{\"op\":\"stop\",\"stack\":[\"a\",\"b\"]},\n{\"op\":\"end\"}]",
      "{\"op\":\"stop\"}\n{\"op\":\"alloc\",\"bin\":1,\"size\":\"x\"}\n",
      "{\"op\":\"stop\"}\n{\"op\":\"alloc\",\"bin\":1,",
      "{\"refctrace\":1,\"events\":[{\"op\":\"stop\"},{\"op\":\"stop\",}]}",
  };
  for (const std::string& text : inputs) {
    CAPTURE(text);
    Result whole = Read(text);
    for (const Result& part : {ReadTrickled(text), ReadTrickled(text, tiny), Read(text, tiny)}) {
      CHECK(part.last == whole.last);
      CHECK(part.encoding == whole.encoding);
      CHECK(SameEvents(part.events, whole.events));
      CHECK(part.error.line == whole.error.line);
      CHECK(part.error.column == whole.error.column);
      CHECK(part.error.message == whole.error.message);
    }
  }
}

TEST_CASE("ManyLinesAcrossManyChunksKeepPositions") {
  std::string text;
  for (int i = 0; i < 5000; ++i) {
    text += "{\"op\":\"inc\",\"bin\":" + std::to_string(i) + ",\"src\":\"f.c:" + std::to_string(i) +
            "\"}\n";
    if (i % 7 == 0) text += "\n";
  }
  ReaderOptions options;
  options.chunk_bytes = 100;
  Result r = Read(text, options);
  REQUIRE(r.last == ReadStatus::kEnd);
  REQUIRE(r.events.size() == 5000);
  uint64_t line = 1;
  for (int i = 0; i < 5000; ++i) {
    CHECK(r.events[i].bin == BinId::Int(i));
    CHECK(r.events[i].pos.line == line);
    line += (i % 7 == 0) ? 2 : 1;
  }
  CHECK(SameEvents(r.events, ReadTrickled(text).events));
}

TEST_CASE("LongNdjsonTraceIsStreamedInBoundedMemory") {
  ReaderOptions options;
  options.chunk_bytes = 4096;
  std::string header = "{\"refctrace\":1}\n";
  std::string line = "{\"op\":\"inc\",\"bin\":\"0x7f3a10\",\"src\":\"my_drv.c:97\"}\n";
  auto source = std::make_unique<RepeatedLineSource>(header, line, 200000);
  RepeatedLineSource* raw = source.get();
  const uint64_t header_bytes = header.size(), line_bytes = line.size();
  auto reader = TraceReader::FromSource(std::move(source), options);
  Event e;
  REQUIRE(reader->Next(&e) == ReadStatus::kEvent);
  CHECK(raw->served() <= 4096);  // no read-ahead beyond one chunk
  uint64_t n = 1;
  while (reader->Next(&e) == ReadStatus::kEvent) {
    if (++n % 50000 == 0) {
      CHECK(e.pos.line == n + 1);
      CHECK(raw->served() <= header_bytes + n * line_bytes + 4096);
    }
  }
  CHECK(reader->error().message.empty());
  CHECK(n == 200000);
  CHECK(reader->encoding() == Encoding::kNdjson);
}

TEST_CASE("BrokenFirstLineIsReportedWithoutBufferingTheTrace") {
  // An unclosed first object could be the start of a pretty-printed document; the encoding
  // check must give up at line 2, not read the whole trace.
  auto source =
      std::make_unique<RepeatedLineSource>("{\"op\":\"alloc\",\n", "{\"op\":\"stop\"}\n", 1000000);
  RepeatedLineSource* raw = source.get();
  ReaderOptions options;
  options.chunk_bytes = 4096;
  auto reader = TraceReader::FromSource(std::move(source), options);
  Result r = Drain(*reader);
  CHECK(r.last == ReadStatus::kError);
  CHECK(r.error.line == 1);
  CHECK(r.error.column == 15);
  CHECK(raw->served() <= 4096);
}

TEST_CASE("StandardInputIsReadForDash") {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  std::string text = "{\"op\":\"stop\"}\n{\"op\":\"end\"}\n";
  REQUIRE(write(fds[1], text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  close(fds[1]);
  int saved = dup(STDIN_FILENO);
  dup2(fds[0], STDIN_FILENO);
  close(fds[0]);
  auto reader = TraceReader::OpenPath("-");
  Result r = Drain(*reader);
  dup2(saved, STDIN_FILENO);
  close(saved);
  CHECK(r.last == ReadStatus::kEnd);
  CHECK(r.events.size() == 2);
}

TEST_CASE("ErrorIsStickyAndEndIsRepeated") {
  auto reader = TraceReader::FromString("{\"op\":\"bogus\"}\n{\"op\":\"stop\"}\n");
  Event e;
  CHECK(reader->Next(&e) == ReadStatus::kError);
  CHECK(reader->Next(&e) == ReadStatus::kError);
  CHECK(reader->error().message == "unknown op \"bogus\"");
  CHECK(reader->events_read() == 0);

  reader = TraceReader::FromString("{\"op\":\"stop\"}\n");
  CHECK(reader->Next(&e) == ReadStatus::kEvent);
  CHECK(reader->Next(&e) == ReadStatus::kEnd);
  CHECK(reader->Next(&e) == ReadStatus::kEnd);
  CHECK(reader->events_read() == 1);
  CHECK(reader->bytes_read() == 14);
}

TEST_CASE("MissingFileIsAnErrorAtLineZero") {
  auto reader = TraceReader::OpenPath("/nonexistent/dir/trace.ndjson");
  Event e;
  CHECK(reader->Next(&e) == ReadStatus::kError);
  CHECK(reader->error().line == 0);
  CHECK(reader->error().message == "cannot open: No such file or directory");
  CHECK(reader->Next(&e) == ReadStatus::kError);
}

TEST_CASE("FileOnDiskIsRead") {
  char path[] = "/tmp/refctrace_reader_test_XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  REQUIRE(write(fd, kSpecExample, sizeof(kSpecExample) - 1) ==
          static_cast<ssize_t>(sizeof(kSpecExample) - 1));
  close(fd);
  auto reader = TraceReader::OpenPath(path);
  Result r = Drain(*reader);
  std::remove(path);
  CHECK(r.last == ReadStatus::kEnd);
  CHECK(r.events.size() == 5);
  CHECK(reader->bytes_read() == sizeof(kSpecExample) - 1);
}

TEST_CASE("DirectoryGivesAReadError") {
  auto reader = TraceReader::OpenPath("/tmp");
  Result r = Drain(*reader);
  CHECK(r.last == ReadStatus::kError);
  CHECK(r.error.line == 0);
  CHECK(r.error.message == "read error: Is a directory");
}

TEST_CASE("ReadErrorMidwayIsAnErrorAtLineZero") {
  auto reader =
      TraceReader::FromSource(std::make_unique<FailingSource>("{\"op\":\"stop\"}\n{\"op\":"));
  Result r = Drain(*reader);
  CHECK(r.last == ReadStatus::kError);
  CHECK(r.events.size() == 1);
  CHECK(r.error.line == 0);
  CHECK(r.error.message == "read error: Input/output error");

  reader = TraceReader::FromSource(std::make_unique<FailingSource>("[{\"op\":\"stop\"}"));
  r = Drain(*reader);
  CHECK(r.last == ReadStatus::kError);
  CHECK(r.events.empty());
  CHECK(r.error.message == "read error: Input/output error");
}

// ---------------------------------------------------------------------------
// Header parts fields (trace format 1.5)

TEST_CASE("NdjsonHeaderWithRunPartAndCaseIsReadBeforeTheFirstEvent") {
  auto reader = TraceReader::FromString(
      "\n{\"refctrace\":1,\"run\":\"r\\u0031\",\"part\":2,\"case\":\"s.c\"}\n"
      "{\"op\":\"alloc\",\"bin\":1}\n");
  Event event;
  REQUIRE(reader->Next(&event) == ReadStatus::kEvent);
  CHECK(reader->header().run == "r1");  // escapes are read
  CHECK(reader->header().part == 2);
  CHECK(reader->header().case_name == "s.c");
  CHECK(reader->header().line == 2);
  CHECK(reader->header().column == 1);
  CHECK(event.pos.index == 0);
}

TEST_CASE("DocumentHeaderWithRunAndPartIsRead") {
  auto reader = TraceReader::FromString(
      "{\"refctrace\":1,\"part\":0,\"run\":\"r\",\"events\":[{\"op\":\"alloc\",\"bin\":1}]}");
  Event event;
  REQUIRE(reader->Next(&event) == ReadStatus::kEvent);
  CHECK(reader->header().IsPart());
  CHECK(reader->header().run == "r");
  CHECK(reader->header().part == 0);
  CHECK(reader->header().case_name.empty());
}

TEST_CASE("HeaderWithBrokenFirstEventStillSaysItsRun") {
  auto reader = TraceReader::FromString(
      "{\"refctrace\":1,\"run\":\"r\",\"part\":3}\n{\"op\":\"frobnicate\"}\n");
  Event event;
  REQUIRE(reader->Next(&event) == ReadStatus::kError);
  CHECK(reader->header().run == "r");
  CHECK(reader->header().part == 3);
}

TEST_CASE("HeaderPartsFieldsOfTheWrongKindAreErrorsAtTheirValue") {
  struct Bad {
    const char* header;
    uint64_t column;
    const char* message;
  };
  const Bad cases[] = {
      {R"({"refctrace":1,"run":"r","part":-1})", 33,
       "field \"part\" must be a non-negative integer, got -1"},
      {R"({"refctrace":1,"run":"r","part":"1"})", 33,
       "field \"part\" must be a non-negative integer, got \"1\""},
      {R"({"refctrace":1,"run":7,"part":1})", 22,
       "field \"run\" must be a non-empty string, got 7"},
      {R"({"refctrace":1,"run":"","part":1})", 22,
       "field \"run\" must be a non-empty string, got \"\""},
      {R"({"refctrace":1,"case":{"a":1}})", 23,
       "field \"case\" must be a non-empty string, got an object"},
      {R"({"refctrace":1,"part":1})", 16,
       "field \"part\" needs field \"run\": a part is a place in a named run"},
      {R"({"refctrace":1,"run":"r"})", 16,
       "field \"run\" needs field \"part\": every file of a run says which part it is"},
      {R"({"refctrace":1,"case":"a","case":"b"})", 27, "duplicate field \"case\""},
  };
  for (const Bad& bad : cases) {
    INFO(bad.header);
    for (bool document : {false, true}) {
      INFO("document ", document);
      std::string text = bad.header;
      if (document) {
        text.insert(text.size() - 1, R"(,"events":[])");
      } else {
        text += "\n{\"op\":\"end\"}\n";
      }
      auto reader = TraceReader::FromString(text);
      Event event;
      REQUIRE(reader->Next(&event) == ReadStatus::kError);
      CHECK(reader->error().message == bad.message);
      CHECK(reader->error().line == 1);
      CHECK(reader->error().column == bad.column);
      CHECK_FALSE(reader->header().IsPart());
    }
  }
}

}  // namespace refctrace::trace
