// The limits of docs/hardening.md that are cheap to test: long ids, deep
// nesting in the document forms, integers out of range, and the model's
// bounds on live binaries and kept findings.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "model/collecting_sink.h"
#include "model/model.h"
#include "trace/reader.h"

namespace refctrace {
namespace {

struct Replayed {
  std::vector<trace::Event> events;
  trace::ReadStatus last = trace::ReadStatus::kEnd;
  trace::InputError error;
};

Replayed ReadAll(std::string text) {
  Replayed out;
  auto reader = trace::TraceReader::FromString(std::move(text));
  trace::Event event;
  while ((out.last = reader->Next(&event)) == trace::ReadStatus::kEvent)
    out.events.push_back(event);
  out.error = reader->error();
  return out;
}

std::vector<model::Finding> Check(const std::vector<trace::Event>& events,
                                  model::ModelOptions options = {}) {
  model::CollectingSink sink;
  model::Model model(&sink, options);
  for (const trace::Event& e : events) {
    model.Apply(e);
    REQUIRE_FALSE(model.CheckInvariants());
  }
  model.Finish();
  return sink.TakeSorted();
}

TEST_CASE("IdsOf10000CharactersAreReadAndTrackedWhole") {
  const std::string a(10000, 'a');
  const std::string b = std::string(9999, 'a') + "b";  // differs in the last character only
  const Replayed r = ReadAll(
      "{\"op\":\"alloc\",\"bin\":\"" + a + "\"}\n" + "{\"op\":\"alloc\",\"bin\":\"" + b + "\"}\n" +
      "{\"op\":\"free\",\"bin\":\"" + a + "\"}\n" + "{\"op\":\"free\",\"bin\":\"" + a + "\"}\n");
  REQUIRE(r.last == trace::ReadStatus::kEnd);
  REQUIRE(r.events.size() == 4);
  CHECK(r.events[0].bin.str == a);
  const std::vector<model::Finding> findings = Check(r.events);
  REQUIRE(findings.size() == 2);
  CHECK(findings[0].code == model::Code::kLeak);
  CHECK(findings[0].bin.str == b);
  CHECK(findings[1].code == model::Code::kDoubleFree);
  CHECK(findings[1].event == 3);
  CHECK(findings[1].bin.str == a);
}

TEST_CASE("DeeplyNestedDocumentIsAnErrorNotACrash") {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  SUBCASE("unknown field in a document") {
    const Replayed r =
        ReadAll("{\"refctrace\":1,\"events\":[{\"op\":\"stop\",\"x\":" + deep + "}]}");
    CHECK(r.last == trace::ReadStatus::kError);
    CHECK(r.error.message == "JSON nesting is deeper than 256 levels");
  }
  SUBCASE("bare array") {
    const Replayed r = ReadAll(deep);
    CHECK(r.last == trace::ReadStatus::kError);
    CHECK_FALSE(r.error.message.empty());
  }
  SUBCASE("unterminated") {
    const Replayed r = ReadAll("{\"events\":" + std::string(1000000, '['));
    CHECK(r.last == trace::ReadStatus::kError);
    CHECK_FALSE(r.error.message.empty());
  }
}

TEST_CASE("CountOutOfRangeIsAnInputError") {
  const Replayed zero = ReadAll("{\"op\":\"gc\",\"bin\":1,\"actor\":\"P\",\"count\":0}\n");
  CHECK(zero.last == trace::ReadStatus::kError);
  CHECK(zero.error.message == "field \"count\" must be a positive integer, got 0");
  const Replayed big =
      ReadAll("{\"op\":\"gc\",\"bin\":1,\"actor\":\"P\",\"count\":18446744073709551616}\n");
  CHECK(big.last == trace::ReadStatus::kError);
  CHECK(big.error.message ==
        "field \"count\" is out of range (at most 4611686018427387904), got "
        "18446744073709551616");
}

TEST_CASE("MoreLiveBinariesThanTheLimitIsReportedAtTheEventThatCrossesIt") {
  model::ModelOptions options;
  options.max_live = 2;
  model::CollectingSink sink;
  model::Model model(&sink, options);
  trace::Event e;
  e.op = trace::Op::kAlloc;
  for (uint64_t id = 1; id <= 2; ++id) {
    e.bin = trace::BinId::Int(id);
    model.Apply(e);
  }
  CHECK_FALSE(model.LimitReached());
  e.op = trace::Op::kFree;  // one freed: room for another
  model.Apply(e);
  e.op = trace::Op::kAlloc;
  e.bin = trace::BinId::Int(3);
  model.Apply(e);
  CHECK_FALSE(model.LimitReached());
  e.bin = trace::BinId::Int(4);
  model.Apply(e);
  REQUIRE(model.LimitReached());
  CHECK(*model.LimitReached() ==
        "too many binaries live at once: the limit is 2 (raise it with --max-live)");
}

TEST_CASE("CollectingSinkKeepsAtMostItsLimitAndCountsTheRest") {
  model::CollectingSink sink(2);
  for (uint64_t event : {5u, 3u, 4u}) {
    model::Finding f;
    f.event = event;
    sink.OnFinding(f);
  }
  CHECK(sink.dropped() == 1);
  const std::vector<model::Finding> kept = sink.TakeSorted();
  REQUIRE(kept.size() == 2);
  CHECK(kept[0].event == 3);  // the first two reported, in report order
  CHECK(kept[1].event == 5);
}

TEST_CASE("QuarantineOfLongIdsIsBoundedByTheirBytes") {
  // Three freed ids of 10,000 characters with room for two: the oldest is
  // forgotten (its free again is an unknown binary, not a double free).
  model::ModelOptions options;
  options.quarantine_id_bytes = 25000;
  std::vector<trace::Event> events;
  for (char c : {'a', 'b', 'c'}) {
    for (trace::Op op : {trace::Op::kAlloc, trace::Op::kFree}) {
      trace::Event e;
      e.op = op;
      e.bin = trace::BinId::Str(std::string(10000, c));
      e.pos.index = events.size();
      events.push_back(e);
    }
  }
  for (char c : {'b', 'a'}) {
    trace::Event e;
    e.op = trace::Op::kFree;
    e.bin = trace::BinId::Str(std::string(10000, c));
    e.pos.index = events.size();
    events.push_back(e);
  }
  const std::vector<model::Finding> findings = Check(events, options);
  REQUIRE(findings.size() == 2);
  CHECK(findings[0].code == model::Code::kDoubleFree);
  CHECK(findings[0].event == 6);
  CHECK(findings[1].code == model::Code::kUnknownBinary);
  CHECK(findings[1].event == 7);
}

}  // namespace
}  // namespace refctrace
