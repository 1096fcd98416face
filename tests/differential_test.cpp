// Differential test of the model: random traces with several interacting
// faults per binary (double frees, uses after free, failed reallocs that would
// move, wrong and huge `refc` fields, ids reused through small quarantines,
// exits, borrow/unborrow with `from`/`gathered`/`task`, several ports, queue
// copies, replies, adoption of unknown ids, ...) are replayed by
// refctrace (NDJSON text through the real reader, then Model) and by
// tests/reference_model.h, an independent implementation of the contract. The
// findings (code, anchor event, bin, incarnation, severity, leaked bytes, port) and
// input errors must agree. A difference prints the seed, the case and the
// shortest trace that still shows it.
//
// Reproduce: REFCTRACE_DIFFERENTIAL_SEED=<seed> REFCTRACE_DIFFERENTIAL_CASE=<case>.
// More cases: REFCTRACE_DIFFERENTIAL_CASES=<n> (the soak target runs many);
// REFCTRACE_DIFFERENTIAL_ALL=1 reports every difference instead of the first;
// REFCTRACE_DIFFERENTIAL_TAKES_V1=1 makes the reference use the v1 rule for
// taking a reference without access (reported, not applied; issue 12 changed it).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "model/collecting_sink.h"
#include "model/model.h"
#include "tests/reference_model.h"
#include "trace/reader.h"
#include "tracegen/splitmix64.h"

namespace refctrace {
namespace {

using model::Code;
using reference::ReferenceModel;
using trace::BinId;
using trace::Event;
using trace::Op;
using tracegen::SplitMix64;

constexpr uint64_t kDefaultSeed = 20261130;
constexpr uint64_t kDefaultCases = 6000;
constexpr int64_t kHugeCount = int64_t{1} << 60;

uint64_t EnvNumber(const char* name, uint64_t fallback) {
  const char* value = std::getenv(name);
  return value && *value ? std::strtoull(value, nullptr, 10) : fallback;
}

// What refctrace's model is told ahead of each event (Model::PrefetchHint; the replay reads
// ahead and fills them a few events early, so they may be stale): nothing, the hint made just
// before the event, or the hint made 1 to 8 events before it (ids forgotten and numbers given
// again in between). What the model says must not depend on them.
enum class Hints { kNone, kFresh, kStale };

struct DifferentialCase {
  std::vector<Event> events;
  size_t quarantine = 0;
  Hints hints = Hints::kNone;
};

bool ApplyUnheldTakes() {
  return EnvNumber("REFCTRACE_DIFFERENTIAL_TAKES_V1", 0) == 0;
}

// ---------------------------------------------------------------------------
// The trace as NDJSON, the form refctrace reads.

std::string IdJson(const BinId& id) {
  return id.kind == BinId::Kind::kInt ? std::to_string(id.num) : "\"" + id.str + "\"";
}

std::string EventJson(const Event& e) {
  std::string out = "{\"op\":\"" + std::string(trace::OpName(e.op)) + "\"";
  if (e.bin.present()) out += ",\"bin\":" + IdJson(e.bin);
  if (e.new_bin.present()) out += ",\"new_bin\":" + IdJson(e.new_bin);
  if (!e.actor.empty()) out += ",\"actor\":\"" + e.actor + "\"";
  if (!e.to.empty()) out += ",\"to\":\"" + e.to + "\"";
  if (e.size) out += ",\"size\":" + std::to_string(*e.size);
  if (e.refc) out += ",\"refc\":" + std::to_string(*e.refc);
  if (e.count != 1) out += ",\"count\":" + std::to_string(e.count);
  if (e.copied) out += ",\"copied\":true";
  if (!e.port.empty()) out += ",\"port\":\"" + e.port + "\"";
  if (!e.from.empty()) out += ",\"from\":\"" + e.from + "\"";
  if (e.gathered) out += ",\"gathered\":true";
  if (e.task != 0) out += ",\"task\":" + std::to_string(e.task);
  if (e.copy) out += ",\"copy\":true";
  if (!e.among.empty()) {
    out += ",\"among\":[";
    for (size_t i = 0; i < e.among.size(); ++i)
      out += (i ? "," : "") + IdJson(e.among[i]);
    out += "]";
  }
  return out + "}";
}

std::string TraceJson(const std::vector<Event>& events) {
  std::string out = "{\"refctrace\":1}\n";
  for (const Event& e : events)
    out += EventJson(e) + "\n";
  return out;
}

// ---------------------------------------------------------------------------
// Both replays, reduced to what the contract fixes.

struct Outcome {
  std::vector<std::string> findings;  // sorted
  std::optional<uint64_t> error_line;

  friend bool operator==(const Outcome& a, const Outcome& b) {
    return a.findings == b.findings && a.error_line == b.error_line;
  }
};

std::string FindingText(uint64_t event, Code code, const BinId& bin, uint32_t incarnation,
                        model::Severity severity, const std::optional<uint64_t>& size,
                        const std::string& port) {
  std::string out = std::to_string(event) + " " + std::string(model::CodeName(code)) + " " +
                    IdJson(bin) + "#" + std::to_string(incarnation) + " " +
                    std::string(model::SeverityName(severity));
  if (!port.empty()) out += " port=" + port;
  if (code == Code::kLeak) out += size ? " size=" + std::to_string(*size) : " size=?";
  return out;
}

std::string OutcomeText(const Outcome& o) {
  std::string out;
  for (const std::string& f : o.findings)
    out += "  " + f + "\n";
  if (o.error_line) out += "  input error at line " + std::to_string(*o.error_line) + "\n";
  return out.empty() ? "  (nothing)\n" : out;
}

Outcome RunRefctrace(const DifferentialCase& c) {
  model::ModelOptions options;
  options.quarantine_capacity = c.quarantine;
  model::CollectingSink sink;
  model::Model model(&sink, options);
  auto reader = trace::TraceReader::FromString(TraceJson(c.events));
  Outcome out;
  std::vector<Event> events;
  trace::ReadStatus status;
  for (Event e; (status = reader->Next(&e)) == trace::ReadStatus::kEvent;)
    events.push_back(e);
  // Hints made `distance` events ahead, as the replay's stages make them.
  const size_t distance = c.hints == Hints::kStale ? 1 + c.events.size() % 8 : 0;
  std::vector<model::Model::PrefetchHint> hints(events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    if (c.hints == Hints::kNone) {
      model.Apply(events[i]);
      continue;
    }
    if (i + distance < events.size()) {
      model.PrefetchIdEntry(events[i + distance], &hints[i + distance]);
      model.PrefetchIdState(events[i + distance], &hints[i + distance]);
    }
    model.Apply(events[i], hints[i]);
  }
  if (status == trace::ReadStatus::kError) {
    out.error_line = reader->error().line;
  } else {
    model.Finish();
  }
  for (const model::Finding& f : sink.TakeSorted())
    out.findings.push_back(
        FindingText(f.event, f.code, f.bin, f.incarnation, f.severity, f.size, f.port));
  std::sort(out.findings.begin(), out.findings.end());
  return out;
}

Outcome RunReference(const DifferentialCase& c) {
  ReferenceModel ref(c.quarantine, ApplyUnheldTakes());
  Outcome out;
  bool cut_short = false;
  for (size_t i = 0; i < c.events.size(); ++i) {
    Event e = c.events[i];
    e.pos.index = i;
    // A negative count cannot come from an emulator: an input error at its
    // line (the header is line 1); the input is cut short there.
    if (e.refc && *e.refc < 0) {
      out.error_line = i + 2;
      cut_short = true;
      break;
    }
    ref.Apply(e);
  }
  if (!cut_short) ref.Finish();
  for (const reference::ExpectedFinding& f : ref.findings())
    out.findings.push_back(
        FindingText(f.event, f.code, f.bin, f.incarnation, f.severity, f.size, f.port));
  std::sort(out.findings.begin(), out.findings.end());
  return out;
}

// What a disagreement is, without positions: the codes only the reference
// found, the codes only refctrace found, and who saw an input error. Empty
// when they agree. Shrinking keeps it, so the short trace shows the same
// departure as the long one and not another that was mixed in.
std::string DisagreementKind(const DifferentialCase& c) {
  const Outcome want = RunReference(c);
  const Outcome got = RunRefctrace(c);
  if (want == got) return {};
  auto codes_only_in = [](const Outcome& a, const Outcome& b) {
    std::vector<std::string> only;
    std::set_difference(a.findings.begin(), a.findings.end(), b.findings.begin(), b.findings.end(),
                        std::back_inserter(only));
    std::string out;
    for (const std::string& f : only)
      out += " " + f.substr(f.find(' ') + 1, f.find(' ', f.find(' ') + 1) - f.find(' ') - 1);
    return out + (a.error_line && !b.error_line ? " input-error" : "");
  };
  return "reference:" + codes_only_in(want, got) + "; refctrace:" + codes_only_in(got, want);
}

// ---------------------------------------------------------------------------
// Random traces with many faults. Ids come from a pool of 2 to 5 and
// processes from a pool of 3, so every binary meets several ops from every
// side; a shadow reference model follows the trace so that most `refc`
// fields carry the right count (and some a wrong, a huge or a negative one).

class FaultyTraceGenerator {
 public:
  explicit FaultyTraceGenerator(SplitMix64& rng) : rng_(rng) {
    static const std::vector<BinId> kIds = {BinId::Int(1), BinId::Str("0xa0"), BinId::Str("1"),
                                            BinId::Int(2), BinId::Str("0xb0"), BinId::Int(3)};
    std::vector<BinId> ids = kIds;
    const size_t n = 2 + rng_.Below(4);
    while (ids_.size() < n) {
      const size_t i = rng_.Below(ids.size());
      ids_.push_back(ids[i]);
      ids.erase(ids.begin() + static_cast<long>(i));
    }
    static const std::vector<size_t> kCapacities = {1, 2, 3, 1'000'000};
    out_.quarantine = rng_.Pick(kCapacities);
  }

  DifferentialCase Generate() {
    ReferenceModel shadow(out_.quarantine, ApplyUnheldTakes());
    const size_t length = 3 + rng_.Below(28);
    const bool negative = rng_.Chance(30);  // one trace in 33 has a negative count
    for (size_t i = 0; i < length; ++i) {
      Event e = RandomEvent(shadow);
      if (negative && i + 1 == length / 2 + 1) e.refc = -1;
      e.pos.index = out_.events.size();
      shadow.Apply(e);
      out_.events.push_back(std::move(e));
    }
    const uint64_t ending = rng_.Below(3);
    if (ending > 0) {
      Event e;
      e.op = ending == 1 ? Op::kStop : Op::kEnd;
      out_.events.push_back(e);
    }
    return std::move(out_);
  }

 private:
  static constexpr const char* kPids[3] = {"<0.80.0>", "<0.81.0>", "<0.82.0>"};

  std::string Pid() { return kPids[rng_.Below(3)]; }

  // Most events on the default port; some traces serve two more.
  std::string Port() {
    static constexpr const char* kPorts[3] = {"", "0xp1", "0xp2"};
    return several_ports_ ? kPorts[rng_.Below(3)] : "";
  }

  std::vector<BinId> LiveIds(const ReferenceModel& shadow) const {
    std::vector<BinId> live;
    for (const BinId& id : ids_) {
      if (shadow.Live(id)) live.push_back(id);
    }
    return live;
  }

  BinId Id(const ReferenceModel& shadow) {
    // Now and then an id the trace has not seen: a binary from before the
    // recording started, met while others are live.
    if (rng_.Chance(40)) {
      ids_.push_back(BinId::Str("0xc" + std::to_string(ids_.size())));
      return ids_.back();
    }
    const std::vector<BinId> live = LiveIds(shadow);
    if (!live.empty() && rng_.Chance(700)) return rng_.Pick(live);
    return rng_.Pick(ids_);
  }

  Op RandomOp() {
    // Weights per op, in trace::Op order; stop and end are rare (end comes last).
    static constexpr unsigned kWeights[trace::kOpCount] = {
        12,  // alloc
        8,   // realloc
        12,  // free
        6,   // inc
        6,   // dec
        5,   // observe
        4,   // write
        3,   // read
        10,  // output
        4,   // enq
        4,   // deq
        6,   // borrow
        5,   // unborrow
        3,   // reply
        2,   // stop
        6,   // receive
        4,   // send
        8,   // gc
        2,   // exit
        // NIF ops (trace format 1.4): the reference model implements the driver rules only
        // (docs/decisions.md 86), so the generator never writes them.
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0,  // end
    };
    unsigned total = 0;
    for (unsigned w : kWeights)
      total += w;
    uint64_t r = rng_.Below(total);
    int op = 0;
    while (r >= kWeights[op])
      r -= kWeights[op++];
    return static_cast<Op>(op);
  }

  // The count the emulator would report after `e`, if its binary is live then.
  std::optional<int64_t> CountAfter(const ReferenceModel& shadow, const Event& e) {
    ReferenceModel after = shadow;
    after.Apply(e);
    const BinId& now = e.op == Op::kRealloc && e.new_bin.present() ? e.new_bin : e.bin;
    return after.EmulatorCount(now);
  }

  int64_t RandomCount(std::optional<int64_t> right) {
    const uint64_t r = rng_.Below(100);
    // After double frees the emulator's count can be negative; no recorder
    // writes that (a negative count is the one deliberate input error).
    const int64_t base = std::max<int64_t>(0, right.value_or(1));
    if (r < 70) return base;
    if (r < 80) return base + 1;
    if (r < 88 && base > 0) return base - 1;
    if (r < 94) return kHugeCount;
    return 0;
  }

  Event RandomEvent(const ReferenceModel& shadow) {
    Event e;
    e.op = RandomOp();
    if (trace::IsDriverOp(e.op)) e.port = Port();
    if (e.op == Op::kStop) return e;
    if (e.op == Op::kExit) {
      e.actor = Pid();
      return e;
    }
    e.bin = Id(shadow);
    switch (e.op) {
      case Op::kAlloc:
        if (rng_.Chance(600)) e.size = rng_.Chance(800) ? 100 : 5000;
        break;
      case Op::kRealloc:
        e.size = rng_.Chance(500) ? 200 : 7000;
        if (rng_.Chance(600)) {
          const std::vector<BinId> live = LiveIds(shadow);
          e.new_bin = !live.empty() && rng_.Chance(500) ? rng_.Pick(live) : rng_.Pick(ids_);
        }
        break;
      case Op::kOutput:
        e.to = Pid();
        e.copied = rng_.Chance(100);
        break;
      case Op::kSend:
        e.actor = Pid();
        e.to = Pid();
        e.copied = rng_.Chance(100);
        break;
      case Op::kReceive:
        e.actor = Pid();
        break;
      case Op::kGc:
        e.actor = Pid();
        if (rng_.Chance(200)) e.count = 2 + rng_.Below(2);
        if (rng_.Chance(300)) {
          // One of several, which one unknown (trace format 1.4): two or three distinct ids,
          // mostly live ones.
          std::vector<BinId> pool = LiveIds(shadow);
          if (pool.size() < 2 || rng_.Chance(200)) pool = ids_;
          const size_t n = std::min<size_t>(pool.size(), 2 + rng_.Below(2));
          while (e.among.size() < n) {
            const size_t i = rng_.Below(pool.size());
            e.among.push_back(pool[i]);
            pool.erase(pool.begin() + static_cast<long>(i));
          }
          if (e.among.size() >= 2) {
            e.bin.clear();
            return e;
          }
          e.among.clear();
        }
        break;
      case Op::kBorrow:
        if (rng_.Chance(300)) e.size = 300;
        if (rng_.Chance(400)) e.from = Pid();
        if (rng_.Chance(250)) e.gathered = true;
        if (rng_.Chance(250)) e.task = 1 + rng_.Below(2);
        break;
      case Op::kEnq:
        e.copy = rng_.Chance(400);
        break;
      case Op::kReply:
        if (rng_.Chance(700)) e.to = Pid();
        e.copied = rng_.Chance(200);
        break;
      default:
        break;
    }
    if (e.op == Op::kBorrow && !shadow.Live(e.bin)) {
      // On a new incarnation the count sets the emulator's.
      static const std::vector<int64_t> kStarts = {1, 1, 2, 0, kHugeCount};
      if (rng_.Chance(700)) e.refc = rng_.Pick(kStarts);
    } else if (e.op == Op::kObserve || rng_.Chance(350)) {
      e.refc = RandomCount(CountAfter(shadow, e));
    }
    return e;
  }

  SplitMix64& rng_;
  std::vector<BinId> ids_;
  DifferentialCase out_;
  bool several_ports_ = rng_.Chance(500);
};

// ---------------------------------------------------------------------------
// Shrinking: drop events, then fields, while the two still disagree in the
// same way.

DifferentialCase Shrink(DifferentialCase c) {
  const std::string kind = DisagreementKind(c);
  for (bool progress = true; progress;) {
    progress = false;
    for (size_t i = 0; i < c.events.size(); ++i) {
      DifferentialCase smaller = c;
      smaller.events.erase(smaller.events.begin() + static_cast<long>(i));
      if (DisagreementKind(smaller) == kind) {
        c = std::move(smaller);
        progress = true;
        --i;
      }
    }
    for (size_t i = 0; i < c.events.size(); ++i) {
      Event& e = c.events[i];
      DifferentialCase simpler = c;
      Event& s = simpler.events[i];
      if (e.refc && e.op != Op::kObserve) {
        s.refc.reset();
      } else if (e.size) {
        s.size.reset();
      } else if (e.copied) {
        s.copied = false;
      } else if (!e.port.empty()) {
        s.port.clear();
      } else if (!e.from.empty()) {
        s.from.clear();
      } else if (e.gathered) {
        s.gathered = false;
      } else if (e.task != 0) {
        s.task = 0;
      } else if (e.copy) {
        s.copy = false;
      } else if (e.count != 1) {
        s.count = 1;
      } else {
        continue;
      }
      if (DisagreementKind(simpler) == kind) {
        c = std::move(simpler);
        progress = true;
      }
    }
  }
  return c;
}

// Whether some binary incarnation got two or more errors: interacting faults.
bool SeveralFaultsOnOneBinary(const DifferentialCase& c) {
  ReferenceModel ref(c.quarantine, ApplyUnheldTakes());
  for (size_t i = 0; i < c.events.size(); ++i) {
    Event e = c.events[i];
    e.pos.index = i;
    if (e.refc && *e.refc < 0) break;
    ref.Apply(e);
  }
  ref.Finish();
  std::map<std::pair<std::string, uint32_t>, int> errors;
  for (const reference::ExpectedFinding& f : ref.findings()) {
    if (f.severity == model::Severity::kError && ++errors[{IdJson(f.bin), f.incarnation}] >= 2) {
      return true;
    }
  }
  return false;
}

// A trace written by hand, one event per line (no header), for the
// reference's own tests.
DifferentialCase Parse(const std::string& lines, size_t quarantine = 1'000'000) {
  auto reader = trace::TraceReader::FromString("{\"refctrace\":1}\n" + lines);
  DifferentialCase c;
  c.quarantine = quarantine;
  Event e;
  while (reader->Next(&e) == trace::ReadStatus::kEvent)
    c.events.push_back(e);
  REQUIRE(reader->error().message.empty());
  return c;
}

std::vector<std::string> Expected(std::vector<std::string> findings) {
  std::sort(findings.begin(), findings.end());
  return findings;
}

// The oracle itself, on the shortest traces of issue 16's seven departures,
// whose right answers the issue states.
TEST_CASE("reference model: the seven departures of issue 16 get the contract's answers") {
  SUBCASE("a double free after ids were reused in a quarantine of 2") {
    const Outcome o = RunReference(Parse(
        R"({"op":"alloc","bin":"a"}
{"op":"free","bin":"a"}
{"op":"alloc","bin":"b"}
{"op":"free","bin":"b"}
{"op":"alloc","bin":"b"}
{"op":"alloc","bin":"c"}
{"op":"free","bin":"c"}
{"op":"free","bin":"a"}
{"op":"free","bin":"b"}
)",
        2));
    CHECK(o.findings == Expected({"7 double-free \"a\"#1 error"}));
  }
  SUBCASE("a realloc that broke a rule does not move") {
    const Outcome o = RunReference(Parse(
        R"({"op":"alloc","bin":"a","size":100}
{"op":"output","bin":"a","to":"<0.1.0>"}
{"op":"realloc","bin":"a","new_bin":"b","size":200}
{"op":"free","bin":"a"}
)"));
    CHECK(o.findings == Expected({"2 realloc-shared \"a\"#1 error"}));
  }
  SUBCASE("a failed realloc keeps the size") {
    const Outcome o = RunReference(Parse(
        R"({"op":"borrow","bin":"a"}
{"op":"inc","bin":"a"}
{"op":"realloc","bin":"a","size":5000}
{"op":"unborrow","bin":"a"}
)"));
    CHECK(o.findings ==
          Expected({"0 leak \"a\"#1 error size=?", "2 realloc-shared \"a\"#1 error"}));
  }
  SUBCASE("no refc comparison after alloc-live") {
    const Outcome o = RunReference(Parse(
        R"({"op":"alloc","bin":"b"}
{"op":"realloc","bin":"a","new_bin":"b","refc":0}
{"op":"free","bin":"b"}
)"));
    CHECK(o.findings ==
          Expected({"1 alloc-live \"b\"#1 error", "1 unknown-binary \"a\"#1 warning"}));
  }
  SUBCASE("the incarnation number of the id the finding names") {
    const Outcome o = RunReference(Parse(
        R"({"op":"alloc","bin":"b"}
{"op":"free","bin":"b"}
{"op":"alloc","bin":"a"}
{"op":"realloc","bin":"a","new_bin":"b","refc":3}
{"op":"free","bin":"b"}
)"));
    CHECK(o.findings == Expected({"3 refc-mismatch \"a\"#1 error"}));
  }
  SUBCASE("huge counts compared exactly") {
    const Outcome o = RunReference(Parse(
        R"({"op":"borrow","bin":"a","refc":1152921504606846976}
{"op":"observe","bin":"a","refc":1152921504606846976}
)"));
    CHECK(o.findings.empty());
  }
  SUBCASE("a negative count is an input error at its line") {
    // Built in memory: the reader refuses it once the input rule is in place.
    DifferentialCase c = Parse(R"({"op":"borrow","bin":"a","refc":1}
{"op":"inc","bin":"a"}
)");
    c.events[0].refc = -1;
    const Outcome o = RunReference(c);
    CHECK(o.findings.empty());
    CHECK(o.error_line == 2u);
  }
}

// Found by the differential test after model 1.1: an `alloc` of a live id
// starts a new incarnation, and the id became live there (decision 46).
TEST_CASE("reference model: alloc b; alloc c; alloc b; stop; free c (quarantine 1)") {
  const Outcome o = RunReference(Parse(
      R"({"op":"alloc","bin":"b"}
{"op":"alloc","bin":"c"}
{"op":"alloc","bin":"b"}
{"op":"stop"}
{"op":"free","bin":"c"}
)",
      1));
  // The stop frees c (live since event 1), then b (live since event 2): b is
  // the one the quarantine keeps, and c counts as never seen.
  CHECK(o.findings ==
        Expected({"1 leak \"c\"#1 error size=?", "2 alloc-live \"b\"#1 error",
                  "2 leak \"b\"#2 error size=?", "4 unknown-binary \"c\"#1 warning"}));
}

TEST_CASE("differential: refctrace and the reference model agree on traces with many faults") {
  const uint64_t seed = EnvNumber("REFCTRACE_DIFFERENTIAL_SEED", kDefaultSeed);
  const uint64_t cases = EnvNumber("REFCTRACE_DIFFERENTIAL_CASES", kDefaultCases);
  const char* only = std::getenv("REFCTRACE_DIFFERENTIAL_CASE");
  const bool report_all = EnvNumber("REFCTRACE_DIFFERENTIAL_ALL", 0) != 0;
  const uint64_t first = only && *only ? std::strtoull(only, nullptr, 10) : 0;
  const uint64_t last = only && *only ? first + 1 : cases;

  std::map<Code, uint64_t> expected_codes;
  uint64_t traces = 0, events = 0, several = 0, input_errors = 0, differences = 0;
  for (uint64_t n = first; n < last; ++n) {
    ++traces;
    SplitMix64 rng(seed * 1'000'003 + n);
    DifferentialCase c = FaultyTraceGenerator(rng).Generate();
    c.hints = static_cast<Hints>(n % 3);
    events += c.events.size();
    several += SeveralFaultsOnOneBinary(c);
    const Outcome want = RunReference(c);
    input_errors += want.error_line.has_value();
    for (const std::string& f : want.findings) {
      for (Code code : model::kAllCodes) {
        if (f.find(" " + std::string(model::CodeName(code)) + " ") != std::string::npos) {
          ++expected_codes[code];
        }
      }
    }
    if (RunRefctrace(c) == want) continue;
    ++differences;
    const DifferentialCase small = Shrink(c);
    FAIL_CHECK("REFCTRACE_DIFFERENTIAL_SEED=", seed, " REFCTRACE_DIFFERENTIAL_CASE=", n,
               ": refctrace and the reference disagree; shortest trace (quarantine ",
               small.quarantine, ", hints ", static_cast<int>(small.hints), "):\n",
               TraceJson(small.events), "reference:\n", OutcomeText(RunReference(small)),
               "refctrace:\n", OutcomeText(RunRefctrace(small)));
    if (!report_all) break;
  }
  MESSAGE("differential: seed ", seed, ", ", traces, " traces, ", events, " events, ", several,
          " with two or more errors on one binary, ", input_errors,
          " cut short by an input error, ", differences, " disagreements");
  // One case, or a run cut short at its first difference, need not cover everything.
  if ((only && *only) || (differences > 0 && !report_all)) return;
  // The generator must keep reaching every code and many interacting faults.
  for (Code code : model::kAllCodes) {
    // The NIF-only codes come from NIF ops, which this generator never writes (decision 86).
    if (code == Code::kBorrowExpired || code == Code::kEnvReused) continue;
    INFO("code ", model::CodeName(code));
    CHECK(expected_codes[code] >= (last - first) / 50);
  }
  CHECK(several >= (last - first) / 4);
  CHECK(input_errors > 0);
}

}  // namespace
}  // namespace refctrace
