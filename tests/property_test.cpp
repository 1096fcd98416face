// Property test of the model: random VALID traces built from scenario
// templates give no finding, and the same traces with one injected fault give
// exactly one finding, with the fault's code, anchor event and binary.
//
// A trace interleaves many scenarios. Each scenario is one binary incarnation
// with its own processes, driven by a shadow of model-v1's holder rules: at
// every step it picks an op that is legal in the shadow state (every op kind
// of trace-format-v1 occurs), and it releases everything it must before the
// trace ends. Ids come from a small pool, so freed ids are reused (the pool
// holds 3 and "3": different ids). `observe` events and `refc` fields carry
// the shadow's count, so the model is checked against the shadow at every
// step, besides Model::CheckInvariants() after every event.
//
// The holder counts are tracegen::HolderCounts and the random source
// tracegen::SplitMix64, shared with bench/gen_trace.cpp.
//
// Reproduce a failure: REFCTRACE_PROPERTY_SEED=<seed> REFCTRACE_PROPERTY_CASE=<case>
// (both printed; the same trace with any standard library).
// REFCTRACE_PROPERTY_CASES=<n> runs more cases. Traces with several
// interacting faults per binary are tests/differential_test.cpp's.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "model/collecting_sink.h"
#include "model/model.h"
#include "tracegen/holder_counts.h"
#include "tracegen/splitmix64.h"

namespace refctrace::model {
namespace {

using trace::BinId;
using trace::Event;
using trace::Op;

constexpr uint64_t kDefaultSeed = 20261125;
constexpr int kDefaultCases = 2000;

uint64_t EnvNumber(const char* name, uint64_t fallback) {
  const char* value = std::getenv(name);
  return value && *value ? std::strtoull(value, nullptr, 10) : fallback;
}

using Rng = tracegen::SplitMix64;

// One event as the test prints it: "12: output 0x7f3a01 actor=driver to=<0.101.0> refc=2".
std::string EventText(const Event& e) {
  std::string out = std::to_string(e.pos.index) + ": " + std::string(trace::OpName(e.op));
  if (e.bin.present()) out += (e.bin.kind == BinId::Kind::kInt ? " #" : " ") + e.bin.ToDisplay();
  if (e.new_bin.present()) out += " new=" + e.new_bin.ToDisplay();
  if (!e.actor.empty()) out += " actor=" + e.actor;
  if (!e.to.empty()) out += " to=" + e.to;
  if (e.size) out += " size=" + std::to_string(*e.size);
  if (e.refc) out += " refc=" + std::to_string(*e.refc);
  if (e.count != 1) out += " count=" + std::to_string(e.count);
  if (e.copied) out += " copied";
  return out;
}

std::string TraceText(const std::vector<Event>& events) {
  std::string out;
  for (const Event& e : events)
    out += EventText(e) + "\n";
  return out;
}

// ---------------------------------------------------------------------------
// The shadow of one scenario's incarnation.

using tracegen::ProcessCounts;

// A process of one scenario; what it holds is in the scenario's HolderCounts
// under `number`.
struct ShadowProcess {
  std::string pid;
  uint32_t number = 0;
  bool exited = false;
};

// The shadow's holder counts follow tracegen/holder_counts.h, the rules the
// bench generator uses too.
struct Scenario : tracegen::HolderCounts {
  static constexpr uint32_t kBystander = UINT32_MAX;
  int index = 0;
  BinId id;
  std::vector<BinId> ids_used;
  std::vector<ShadowProcess> procs;
  std::string bystander;    // a process of this scenario that never holds it (kBystander)
  bool keep_alive = false;  // ends with process or queue references left
  bool many = false;        // many processes, mostly sent it: the model indexes them
  int budget = 0;           // free-form steps before it starts releasing
  bool started = false;
  bool done = false;
  std::optional<size_t> start_event;
  std::optional<size_t> end_event;  // where the incarnation ended

  bool Live() const { return started && !end_event; }
  const ProcessCounts& CountsOf(const ShadowProcess& p) { return Of(p.number); }
  bool Shared() const { return borrowed || Refc() != driver; }
};

// What the shadow knew after each event.
struct EventMeta {
  int scenario = -1;  // -1: an event of no scenario (stop, end)
  BinId id;           // the scenario's id after the event
  bool live = false;
  int64_t refc = 0;
  int64_t driver = 0;
  int64_t queue = 0;
  bool access = false;
  bool shared = false;
};

struct GeneratedTrace {
  std::vector<Event> events;
  std::vector<EventMeta> meta;
  std::vector<Scenario> scenarios;
  uint64_t live_at_end = 0;
  bool many_holders = false;  // some binary had more than 16 process holders at once
};

// The id pool: integers and strings, including "3" next to 3.
std::vector<BinId> IdPool() {
  std::vector<BinId> pool;
  for (uint64_t n = 1; n <= 8; ++n)
    pool.push_back(BinId::Int(n));
  for (int n = 1; n <= 4; ++n)
    pool.push_back(BinId::Str(std::to_string(n)));
  for (int n = 0; n < 8; ++n)
    pool.push_back(BinId::Str("0x7f3a1c0" + std::to_string(n) + "000"));
  return pool;
}

class TraceGenerator {
 public:
  explicit TraceGenerator(Rng& rng) : rng_(rng), pool_(IdPool()) {}

  GeneratedTrace Generate() {
    const int scenarios = static_cast<int>(rng_.Between(1, 12));
    const int max_active = static_cast<int>(rng_.Between(1, 5));
    out_.scenarios.reserve(static_cast<size_t>(scenarios));
    std::vector<int> active;
    int created = 0;
    while (created < scenarios || !active.empty()) {
      const bool can_start = created < scenarios && static_cast<int>(active.size()) < max_active;
      if (can_start && (active.empty() || rng_.Chance(300))) {
        if (auto id = FreeId()) {
          active.push_back(NewScenario(created++, *id));
          continue;
        }
        if (active.empty()) break;  // every id is held by a scenario kept alive
      }
      const size_t pick =
          static_cast<size_t>(rng_.Between(0, static_cast<int64_t>(active.size()) - 1));
      Scenario& s = out_.scenarios[static_cast<size_t>(active[pick])];
      StepScenario(s);
      if (s.done) active.erase(active.begin() + static_cast<long>(pick));
    }
    Finish();
    return std::move(out_);
  }

 private:
  std::optional<BinId> FreeId(const BinId* besides = nullptr) {
    std::vector<BinId> free;
    for (const BinId& id : pool_) {
      if (!busy_.count(id) && !(besides && id == *besides)) free.push_back(id);
    }
    if (free.empty()) return std::nullopt;
    return rng_.Pick(free);
  }

  int NewScenario(int index, const BinId& id) {
    Scenario s;
    s.index = index;
    s.id = id;
    s.ids_used.push_back(id);
    // Now and then many processes, so the model's process index is used.
    const bool many = rng_.Chance(100);
    const int processes = static_cast<int>(many ? rng_.Between(20, 28) : rng_.Between(1, 3));
    for (int k = 0; k < processes; ++k)
      s.procs.push_back({"<0." + std::to_string(100 + index) + "." + std::to_string(k) + ">",
                         static_cast<uint32_t>(k)});
    s.bystander = "<0." + std::to_string(100 + index) + ".1000>";
    s.keep_alive = rng_.Chance(250);
    s.budget = static_cast<int>(many ? rng_.Between(40, 120) : rng_.Between(0, 14));
    s.many = many;
    busy_.insert(id);
    out_.scenarios.push_back(std::move(s));
    return index;
  }

  Event Base(Op op, const Scenario& s) {
    Event e;
    e.op = op;
    e.bin = s.id;
    return e;
  }

  // Appends `e` for scenario `s` after its shadow state has been updated.
  void Emit(Event e, Scenario& s, bool refc_allowed = true) {
    if (refc_allowed && !e.refc && e.op != Op::kExit && rng_.Chance(250)) e.refc = s.Refc();
    if (s.started && !s.end_event && s.Refc() == 0 && !s.borrowed) {
      s.end_event = out_.events.size();
      busy_.erase(s.id);
      s.done = true;
    }
    e.pos.index = out_.events.size();
    out_.events.push_back(std::move(e));
    EventMeta m;
    m.scenario = s.index;
    m.id = s.id;
    m.live = s.Live();
    m.refc = s.Refc();
    m.driver = s.driver;
    m.queue = s.queue;
    m.access = s.Access();
    m.shared = s.Shared();
    out_.meta.push_back(m);
    int holding = 0;
    for (const ProcessCounts& p : s.processes)
      holding += p.msg + p.proc > 0;
    if (holding > 16) out_.many_holders = true;
  }

  ShadowProcess* PickProcess(Scenario& s, bool (*want)(const ProcessCounts&)) {
    std::vector<ShadowProcess*> fit;
    for (ShadowProcess& p : s.procs) {
      if (!p.exited && want(s.CountsOf(p))) fit.push_back(&p);
    }
    return fit.empty() ? nullptr : rng_.Pick(fit);
  }

  // output/send: a message reference for `to` unless copied or `to` exited.
  void AddMessage(Scenario& s, Event& e) {
    ShadowProcess& to =
        s.procs[static_cast<size_t>(rng_.Between(0, static_cast<int64_t>(s.procs.size()) - 1))];
    e.to = to.pid;
    e.copied = rng_.Chance(150);
    if (!e.copied && !to.exited) s.Message(to.number);
  }

  void Start(Scenario& s) {
    s.started = true;
    s.start_event = out_.events.size();
    if (rng_.Chance(800)) {
      Event e = Base(Op::kAlloc, s);
      e.size = static_cast<uint64_t>(rng_.Between(1, 1 << 16));
      s.driver = 1;
      Emit(std::move(e), s);
    } else {
      Event e = Base(Op::kBorrow, s);
      s.borrowed = true;
      s.vm = rng_.Between(1, 3);
      e.refc = s.vm;  // on a new incarnation it sets the count
      Emit(std::move(e), s);
    }
  }

  void StepScenario(Scenario& s) {
    if (!s.started) return Start(s);
    if (s.budget > 0) {
      --s.budget;
      return FreeStep(s);
    }
    ReleaseStep(s);
  }

  // Any op that is legal now.
  void FreeStep(Scenario& s) {
    if (s.many && s.Access() && rng_.Chance(500)) {
      Event e = Base(Op::kOutput, s);
      AddMessage(s, e);
      return Emit(std::move(e), s);
    }
    for (;;) {
      switch (rng_.Between(0, 17)) {
        case 0:
          if (!s.Access()) break;
          {
            Event e = Base(Op::kOutput, s);
            AddMessage(s, e);
            return Emit(std::move(e), s);
          }
        case 1:
          if (!s.Access()) break;
          s.queue += 1;
          return Emit(Base(Op::kEnq, s), s);
        case 2:
          if (!s.Access()) break;
          s.driver += 1;
          return Emit(Base(Op::kInc, s), s);
        case 3:
          if (!s.Access()) break;
          return Emit(Base(Op::kRead, s), s);
        case 4:
          if (!s.SoleDriver()) break;
          return Emit(Base(Op::kWrite, s), s);
        case 5: {
          if (!s.SoleDriver()) break;
          Event e = Base(Op::kRealloc, s);
          e.size = static_cast<uint64_t>(rng_.Between(1, 1 << 16));
          if (rng_.Chance(100)) e.new_bin = s.id;  // "moved" onto itself: not a move
          if (rng_.Chance(500)) {
            if (auto to = FreeId(&s.id)) {
              e.new_bin = *to;
              busy_.erase(s.id);
              busy_.insert(*to);
              s.id = *to;
              s.ids_used.push_back(*to);
            }
          }
          return Emit(std::move(e), s);
        }
        case 6:
          if (s.driver < 1 || s.Refc() - 1 == 0) break;  // dec to 0 is a bug
          s.driver -= 1;
          return Emit(Base(Op::kDec, s), s);
        case 7:
          if (s.driver < 1) break;
          s.driver -= 1;
          return Emit(Base(Op::kFree, s), s);
        case 8:
          if (s.queue < 1) break;
          s.queue -= 1;
          return Emit(Base(Op::kDeq, s), s);
        case 9:
          if (ShadowProcess* p = PickProcess(s, [](const ProcessCounts& q) { return q.msg > 0; })) {
            s.Receive(p->number);
            Event e = Base(Op::kReceive, s);
            e.actor = p->pid;
            return Emit(std::move(e), s);
          }
          break;
        case 10:
          // A receive or send whose message the trace did not record.
          if (rng_.Chance(800)) break;
          if (ShadowProcess* p = PickProcess(
                  s, [](const ProcessCounts& q) { return q.msg == 0 && q.proc == 0; })) {
            Event e = Base(rng_.Chance(500) ? Op::kReceive : Op::kSend, s);
            e.actor = p->pid;
            if (e.op == Op::kSend) {
              s.SendFrom(p->number);
              AddMessage(s, e);
            } else {
              s.Receive(p->number);
            }
            return Emit(std::move(e), s);
          }
          break;
        case 11:
          if (ShadowProcess* p =
                  PickProcess(s, [](const ProcessCounts& q) { return q.proc > 0 || q.msg > 0; })) {
            s.SendFrom(p->number);  // with nothing in its heap, it first takes a message
            Event e = Base(Op::kSend, s);
            e.actor = p->pid;
            AddMessage(s, e);
            return Emit(std::move(e), s);
          }
          break;
        case 12:
          if (ShadowProcess* p =
                  PickProcess(s, [](const ProcessCounts& q) { return q.proc > 0; })) {
            return Gc(s, *p);
          }
          break;
        case 13:
          if (s.vm < 1) break;
          return GcVm(s);
        case 14:
          if (rng_.Chance(700)) break;
          if (ShadowProcess* p = PickProcess(s, [](const ProcessCounts&) { return true; })) {
            return Exit(s, *p);
          }
          break;
        case 15: {
          Event e = Base(Op::kObserve, s);
          e.refc = s.Refc();
          return Emit(std::move(e), s);
        }
        case 16:
          if (s.borrowed) {
            s.borrowed = false;
            return Emit(Base(Op::kUnborrow, s), s);
          }
          s.borrowed = true;  // the emulator hands the live binary to the callback again
          return Emit(Base(Op::kBorrow, s), s);
        case 17: {  // a binary-mode control returns the driver's reference through *rbuf
          if (s.driver < 1) break;
          s.driver -= 1;
          Event e = Base(Op::kReply, s);
          AddMessage(s, e);
          return Emit(std::move(e), s);
        }
      }
    }
  }

  void Gc(Scenario& s, ShadowProcess& p) {
    Event e = Base(Op::kGc, s);
    e.actor = p.pid;
    e.count = static_cast<uint64_t>(rng_.Between(1, s.CountsOf(p).proc));
    s.Gc(p.number, static_cast<int64_t>(e.count));
    Emit(std::move(e), s);
  }

  // The emulator's own references (a borrowed binary's sender) go at a gc of
  // a process that holds none in its heap.
  void GcVm(Scenario& s) {
    Event e = Base(Op::kGc, s);
    e.actor = s.bystander;
    e.count = static_cast<uint64_t>(rng_.Between(1, s.vm));
    s.Gc(Scenario::kBystander, static_cast<int64_t>(e.count));
    Emit(std::move(e), s);
  }

  void Exit(Scenario& s, ShadowProcess& p) {
    p.exited = true;
    s.Exit(p.number);  // unreceived messages go with it
    Event e;
    e.op = Op::kExit;
    e.actor = p.pid;
    Emit(std::move(e), s, /*refc_allowed=*/false);
  }

  // Releases in a sensible order until the incarnation ends (or, kept alive,
  // until only processes and the queue hold it).
  void ReleaseStep(Scenario& s) {
    if (s.keep_alive && s.driver == 0 && !s.borrowed) {
      s.done = true;  // left live: its holders are not the driver
      return;
    }
    if (s.borrowed) {
      if (s.driver == 0 && rng_.Chance(500)) {  // keep it past the callback
        s.driver += 1;
        return Emit(Base(Op::kInc, s), s);
      }
      s.borrowed = false;
      return Emit(Base(Op::kUnborrow, s), s);
    }
    if (s.driver > 0) {
      if (s.Refc() - 1 > 0 && rng_.Chance(300)) {
        s.driver -= 1;
        return Emit(Base(Op::kDec, s), s);
      }
      s.driver -= 1;
      return Emit(Base(Op::kFree, s), s);
    }
    if (s.queue > 0 && rng_.Chance(700)) {
      s.queue -= 1;
      return Emit(Base(Op::kDeq, s), s);
    }
    if (ShadowProcess* p =
            PickProcess(s, [](const ProcessCounts& q) { return q.msg > 0 || q.proc > 0; })) {
      if (rng_.Chance(200)) return Exit(s, *p);
      if (s.CountsOf(*p).proc > 0) return Gc(s, *p);
      s.Receive(p->number);
      Event e = Base(Op::kReceive, s);
      e.actor = p->pid;
      return Emit(std::move(e), s);
    }
    if (s.vm > 0) return GcVm(s);
    if (s.queue > 0) {
      s.queue -= 1;
      return Emit(Base(Op::kDeq, s), s);
    }
    FAIL("scenario ", s.index, " has nothing left to release but did not end");
  }

  // The trace ends with nothing, `end`, `stop`, or `stop` and then the
  // processes releasing what they still hold.
  void Finish() {
    const int how = static_cast<int>(rng_.Between(0, 3));
    if (how >= 2) {
      Event e;
      e.op = Op::kStop;
      e.pos.index = out_.events.size();
      out_.events.push_back(e);
      for (Scenario& s : out_.scenarios) {
        if (!s.Live()) continue;
        s.queue = 0;  // the port's queue is cleared
        if (s.Refc() == 0 && !s.borrowed) s.end_event = out_.events.size() - 1;
      }
      out_.meta.push_back(EventMeta{});
    }
    if (how == 3) {
      for (Scenario& s : out_.scenarios) {
        while (s.Live()) {
          ShadowProcess* p =
              PickProcess(s, [](const ProcessCounts& q) { return q.msg > 0 || q.proc > 0; });
          if (!p) break;
          if (s.CountsOf(*p).proc > 0) {
            Gc(s, *p);
          } else {
            Exit(s, *p);
          }
        }
      }
    }
    if (how == 1) {
      Event e;
      e.op = Op::kEnd;
      e.pos.index = out_.events.size();
      out_.events.push_back(e);
      out_.meta.push_back(EventMeta{});
    }
    // The end-of-trace pass (or the stop) drops queue references.
    for (const Scenario& s : out_.scenarios) {
      if (!s.Live()) continue;
      Scenario after = s;
      after.queue = 0;
      if (after.Refc() > 0 || after.borrowed) ++out_.live_at_end;
    }
  }

  Rng& rng_;
  std::vector<BinId> pool_;
  std::set<BinId> busy_;  // ids live in a scenario (or kept alive)
  GeneratedTrace out_;
};

// Each scenario's id and what the shadow holds for it at the end.
std::string ShadowText(const GeneratedTrace& trace) {
  std::string out;
  for (const Scenario& s : trace.scenarios) {
    out += "scenario " + std::to_string(s.index) + " " + s.id.ToDisplay() +
           (s.Live() ? " live" : " ended") + " refc " + std::to_string(s.Refc()) + " (driver " +
           std::to_string(s.driver) + ", queue " + std::to_string(s.queue) + ", vm " +
           std::to_string(s.vm) + (s.borrowed ? ", borrowed" : "") + ")\n";
  }
  return out;
}

// ---------------------------------------------------------------------------
// Replay.

struct Replayed {
  std::vector<Finding> findings;
  ModelStats stats;
  std::optional<std::string> broken;  // first invariant breach, with its event
};

Replayed Replay(std::vector<Event> events) {
  for (size_t i = 0; i < events.size(); ++i) {
    events[i].pos.index = i;
    events[i].pos.line = i + 2;  // as if after a header line
  }
  CollectingSink sink;
  Model model(&sink);
  Replayed out;
  for (const Event& e : events) {
    model.Apply(e);
    if (auto broken = model.CheckInvariants(); broken && !out.broken) {
      out.broken = "after " + EventText(e) + ": " + *broken;
    }
  }
  model.Finish();
  if (auto broken = model.CheckInvariants(); broken && !out.broken) {
    out.broken = "after the end: " + *broken;
  }
  out.stats = model.Stats();
  out.findings = sink.TakeSorted();
  return out;
}

std::string FindingsText(const std::vector<Finding>& findings) {
  std::string out;
  for (const Finding& f : findings) {
    out += std::string(CodeName(f.code)) + "@" + std::to_string(f.event) + " " + f.bin.ToDisplay() +
           ": " + f.message + "\n";
  }
  return out.empty() ? "(none)\n" : out;
}

// ---------------------------------------------------------------------------
// Fault injection.

struct Fault {
  Code code;
  std::vector<Event> events;
  size_t anchor = 0;
  BinId bin;
  std::string how;
};

// Ops by what they do to a freed id.
constexpr std::array<Op, 4> kReleases = {Op::kFree, Op::kDec, Op::kDeq, Op::kGc};
constexpr std::array<Op, 10> kUses = {Op::kRealloc, Op::kInc,    Op::kObserve, Op::kWrite,
                                      Op::kRead,    Op::kOutput, Op::kEnq,     Op::kUnborrow,
                                      Op::kReceive, Op::kSend};
// Driver ops that need access to the binary (no `new_bin`: a refused realloc
// moves nothing anyway).
constexpr std::array<Op, 6> kNeedAccess = {Op::kRealloc, Op::kInc,    Op::kWrite,
                                           Op::kRead,    Op::kOutput, Op::kEnq};

class FaultInjector {
 public:
  FaultInjector(const GeneratedTrace& trace, Rng& rng) : t_(trace), rng_(rng) {}

  std::optional<Fault> Inject(Code code) {
    switch (code) {
      case Code::kLeak:
        return Leak();
      case Code::kDoubleFree:
        return rng_.Chance(500) ? AfterEnd(code, kReleases.data(), kReleases.size())
                                : FailedReleaseOnLive();
      case Code::kUseAfterFree:
        return rng_.Chance(500) ? AfterEnd(code, kUses.data(), kUses.size()) : UseWithoutAccess();
      case Code::kMutateAfterOutput:
        return OnShared(code, Op::kWrite);
      case Code::kReallocShared:
        return OnShared(code, Op::kRealloc);
      case Code::kDecToZero:
        return DecToZero();
      case Code::kAllocLive:
        return AllocLive();
      case Code::kRefcMismatch:
        return RefcMismatch();
      case Code::kUnknownBinary:
        return UnknownBinary();
      case Code::kBorrowExpired:
      case Code::kEnvReused:
        // NIF-only codes: tests/nif_property_test.cpp injects them.
        return std::nullopt;
    }
    return std::nullopt;
  }

 private:
  // An event `op` on `bin` with the fields its op requires.
  Event Make(Op op, const BinId& bin, const Scenario& s) {
    Event e;
    e.op = op;
    e.bin = bin;
    if (trace::IsProcessOp(op) || op == Op::kGc) e.actor = s.procs.front().pid;
    if (op == Op::kOutput || op == Op::kSend) e.to = s.procs.back().pid;
    if (op == Op::kObserve) e.refc = 0;
    if (op == Op::kRealloc) e.size = 64;
    return e;
  }

  std::vector<size_t> EventsOf(int scenario) const {
    std::vector<size_t> out;
    for (size_t i = 0; i < t_.meta.size(); ++i) {
      if (t_.meta[i].scenario == scenario) out.push_back(i);
    }
    return out;
  }

  // After a fault that changes the emulator's count, the scenario's later
  // `observe` events and `refc` fields no longer hold: they go. `original`
  // maps an index of `events` to the valid trace's.
  std::vector<Event> WithoutCountsAfter(const std::vector<Event>& events, int scenario,
                                        size_t after, size_t inserted_at, size_t inserted) const {
    std::vector<Event> out;
    for (size_t i = 0; i < events.size(); ++i) {
      const bool is_inserted = i >= inserted_at && i < inserted_at + inserted;
      const size_t original = i < inserted_at ? i : i - inserted;
      if (!is_inserted && i > after && t_.meta[original].scenario == scenario) {
        if (events[i].op == Op::kObserve) continue;
        Event e = events[i];
        e.refc.reset();
        out.push_back(std::move(e));
        continue;
      }
      out.push_back(events[i]);
    }
    return out;
  }

  std::vector<Event> InsertAt(size_t at, std::vector<Event> inserted) const {
    std::vector<Event> out(t_.events.begin(), t_.events.begin() + static_cast<long>(at));
    for (Event& e : inserted)
      out.push_back(std::move(e));
    out.insert(out.end(), t_.events.begin() + static_cast<long>(at), t_.events.end());
    return out;
  }

  // Sites: events after which the scenario's incarnation is live and `fits`.
  template <typename Fits>
  std::optional<size_t> PickSite(Fits fits) {
    std::vector<size_t> sites;
    for (size_t i = 0; i < t_.meta.size(); ++i) {
      const EventMeta& m = t_.meta[i];
      if (m.scenario >= 0 && m.live && t_.events[i].op != Op::kExit && fits(m)) sites.push_back(i);
    }
    if (sites.empty()) return std::nullopt;
    return rng_.Pick(sites);
  }

  const Scenario& ScenarioAt(size_t i) const {
    return t_.scenarios[static_cast<size_t>(t_.meta[i].scenario)];
  }

  // The driver's last release is left out: the driver still holds the binary
  // at the end. Only where no other scenario takes the id afterwards.
  std::optional<Fault> Leak() {
    std::vector<std::pair<size_t, int>> sites;  // (release event, scenario)
    for (const Scenario& s : t_.scenarios) {
      constexpr size_t kNone = SIZE_MAX;
      size_t last_release = kNone;
      for (size_t i : EventsOf(s.index)) {
        const Op op = t_.events[i].op;
        if ((op == Op::kFree || op == Op::kDec) && t_.meta[i].driver == 0) last_release = i;
        if (t_.meta[i].driver > 0) last_release = kNone;
      }
      if (last_release == kNone) continue;
      bool reused = false;
      for (size_t i = last_release + 1; i < t_.meta.size(); ++i) {
        reused = reused || (t_.meta[i].scenario != s.index && t_.meta[i].scenario >= 0 &&
                            t_.meta[i].id == s.id);
      }
      if (!reused) sites.emplace_back(last_release, s.index);
    }
    if (sites.empty()) return std::nullopt;
    const auto [release, index] = rng_.Pick(sites);
    const Scenario& s = t_.scenarios[static_cast<size_t>(index)];
    std::vector<Event> events = t_.events;
    events.erase(events.begin() + static_cast<long>(release));
    // Indexes past `release` are one less than the valid trace's: map them
    // back by "inserting" nothing at release and shifting by -1.
    std::vector<Event> out;
    for (size_t i = 0; i < events.size(); ++i) {
      const size_t original = i < release ? i : i + 1;
      Event e = events[i];
      if (original > release && t_.meta[original].scenario == index) {
        if (e.op == Op::kObserve) continue;
        e.refc.reset();
      }
      out.push_back(std::move(e));
    }
    return Fault{Code::kLeak, std::move(out), *s.start_event, s.id,
                 "event " + std::to_string(release) + " (the driver's last release) left out"};
  }

  // A release or a use of the id right after its incarnation ended.
  std::optional<Fault> AfterEnd(Code code, const Op* ops, size_t n) {
    std::vector<int> ended;
    for (const Scenario& s : t_.scenarios) {
      if (s.end_event) ended.push_back(s.index);
    }
    if (ended.empty()) return std::nullopt;
    const Scenario& s = t_.scenarios[static_cast<size_t>(rng_.Pick(ended))];
    const size_t at = *s.end_event + 1;
    const Op op = ops[static_cast<size_t>(rng_.Between(0, static_cast<int64_t>(n) - 1))];
    Event e = Make(op, s.id, s);
    std::string how = "inserted " + std::string(trace::OpName(op)) + " after the id was freed";
    return Fault{code, InsertAt(at, {e}), at, s.id, how};
  }

  // A release by a holder that holds nothing, while others keep it live.
  std::optional<Fault> FailedReleaseOnLive() {
    const auto site = PickSite([](const EventMeta& m) { return m.queue == 0; });
    if (!site) return std::nullopt;
    const Scenario& s = ScenarioAt(*site);
    const BinId& id = t_.meta[*site].id;
    const size_t at = *site + 1;
    std::vector<Event> out =
        WithoutCountsAfter(InsertAt(at, {Make(Op::kDeq, id, s)}), s.index, at, at, 1);
    return Fault{Code::kDoubleFree, std::move(out), at, id, "inserted deq with an empty queue"};
  }

  // A driver op while only processes, the queue or the emulator hold it.
  std::optional<Fault> UseWithoutAccess() {
    const auto site = PickSite([](const EventMeta& m) { return !m.access; });
    if (!site) return std::nullopt;
    const Scenario& s = ScenarioAt(*site);
    const BinId& id = t_.meta[*site].id;
    const Op op = kNeedAccess[static_cast<size_t>(rng_.Between(0, kNeedAccess.size() - 1))];
    const size_t at = *site + 1;
    // An op that takes a reference is applied after its use-after-free (model 1.1): the
    // release that balances it comes right after, so nothing else changes.
    std::vector<Event> inserted = {Make(op, id, s)};
    if (op == Op::kInc) inserted.push_back(Make(Op::kFree, id, s));
    if (op == Op::kEnq) inserted.push_back(Make(Op::kDeq, id, s));
    if (op == Op::kOutput) {
      for (Op release : {Op::kReceive, Op::kGc}) {
        Event e = Make(release, id, s);
        e.actor = inserted.front().to;
        inserted.push_back(std::move(e));
      }
    }
    return Fault{Code::kUseAfterFree, InsertAt(at, std::move(inserted)), at, id,
                 "inserted " + std::string(trace::OpName(op)) + " without a driver reference"};
  }

  // write or realloc while the driver has access but others hold it too.
  std::optional<Fault> OnShared(Code code, Op op) {
    const auto site = PickSite([](const EventMeta& m) { return m.access && m.shared; });
    if (!site) return std::nullopt;
    const Scenario& s = ScenarioAt(*site);
    const BinId& id = t_.meta[*site].id;
    const size_t at = *site + 1;
    return Fault{code, InsertAt(at, {Make(op, id, s)}), at, id,
                 "inserted " + std::string(trace::OpName(op)) + " on a shared binary"};
  }

  // The free that dropped the last reference becomes a dec.
  std::optional<Fault> DecToZero() {
    std::vector<size_t> sites;
    for (const Scenario& s : t_.scenarios) {
      if (s.end_event && t_.events[*s.end_event].op == Op::kFree) sites.push_back(*s.end_event);
    }
    if (sites.empty()) return std::nullopt;
    const size_t at = rng_.Pick(sites);
    std::vector<Event> events = t_.events;
    events[at].op = Op::kDec;
    return Fault{Code::kDecToZero, std::move(events), at, t_.meta[at].id,
                 "the last free became a dec"};
  }

  // alloc of an id still held by processes (then freed, so no leak).
  std::optional<Fault> AllocLive() {
    std::vector<size_t> sites;
    for (const Scenario& s : t_.scenarios) {
      const std::vector<size_t> own = EventsOf(s.index);
      if (!own.empty() && t_.meta[own.back()].live) sites.push_back(own.back());
    }
    if (sites.empty()) return std::nullopt;
    const size_t last = rng_.Pick(sites);
    const Scenario& s = ScenarioAt(last);
    const BinId& id = t_.meta[last].id;
    Event alloc = Make(Op::kAlloc, id, s);
    alloc.size = 128;
    const size_t at = last + 1;
    return Fault{Code::kAllocLive, InsertAt(at, {alloc, Make(Op::kFree, id, s)}), at, id,
                 "inserted alloc and free of a live id"};
  }

  // An observe with a wrong count.
  std::optional<Fault> RefcMismatch() {
    const auto site = PickSite([](const EventMeta&) { return true; });
    if (!site) return std::nullopt;
    const Scenario& s = ScenarioAt(*site);
    const BinId& id = t_.meta[*site].id;
    Event observe = Make(Op::kObserve, id, s);
    int64_t delta = rng_.Between(-2, 2);
    // A recorded 0 is the emulator saying it freed the binary, which ends it (model 1.2): a
    // fault of its own, with its own consequences. Wrong counts here are positive.
    if (delta == 0 || t_.meta[*site].refc + delta < 1) delta = 3;
    observe.refc = t_.meta[*site].refc + delta;
    const size_t at = *site + 1;
    std::vector<Event> out = WithoutCountsAfter(InsertAt(at, {observe}), s.index, at, at, 1);
    return Fault{Code::kRefcMismatch, std::move(out), at, id, "inserted observe with a wrong refc"};
  }

  // Any op but alloc/borrow on an id the trace never allocated.
  std::optional<Fault> UnknownBinary() {
    if (t_.scenarios.empty()) return std::nullopt;
    static constexpr std::array<Op, 15> kOps = {
        Op::kRealloc,  Op::kFree,    Op::kInc,    Op::kDec, Op::kObserve,
        Op::kWrite,    Op::kRead,    Op::kOutput, Op::kEnq, Op::kDeq,
        Op::kUnborrow, Op::kReceive, Op::kSend,   Op::kGc,  Op::kRead};
    const Op op = kOps[static_cast<size_t>(rng_.Between(0, kOps.size() - 1))];
    const BinId fresh = rng_.Chance(500) ? BinId::Int(1'000'000) : BinId::Str("0xfeedface");
    Event e = Make(op, fresh, t_.scenarios.front());
    if (op == Op::kObserve) e.refc = rng_.Between(1, 3);
    // Anywhere, but not after `end`.
    size_t room = t_.events.size();
    if (room > 0 && t_.events.back().op == Op::kEnd) --room;
    const size_t at = static_cast<size_t>(rng_.Between(0, static_cast<int64_t>(room)));
    return Fault{Code::kUnknownBinary, InsertAt(at, {e}), at, fresh,
                 "inserted " + std::string(trace::OpName(op)) + " on a never-seen id"};
  }

  const GeneratedTrace& t_;
  Rng& rng_;
};

TEST_CASE("property: random valid traces give no finding; one injected fault gives one finding") {
  const uint64_t seed = EnvNumber("REFCTRACE_PROPERTY_SEED", kDefaultSeed);
  const uint64_t cases = EnvNumber("REFCTRACE_PROPERTY_CASES", kDefaultCases);
  const char* only = std::getenv("REFCTRACE_PROPERTY_CASE");
  const uint64_t first = only && *only ? std::strtoull(only, nullptr, 10) : 0;
  const uint64_t last = only && *only ? first + 1 : cases;

  std::array<int, trace::kOpCount> ops_seen{};
  std::map<Code, int> faults_checked;
  int many_holders = 0;
  uint64_t events_total = 0;
  for (uint64_t c = first; c < last; ++c) {
    // Each case has its own generator, so one case replays alone.
    Rng rng(seed * 1'000'003 + c);
    INFO("REFCTRACE_PROPERTY_SEED=", seed, " REFCTRACE_PROPERTY_CASE=", c);
    const GeneratedTrace trace = TraceGenerator(rng).Generate();
    for (const Event& e : trace.events)
      ++ops_seen[static_cast<size_t>(e.op)];
    events_total += trace.events.size();
    many_holders += trace.many_holders;

    const Replayed valid = Replay(trace.events);
    INFO("valid trace:\n", TraceText(trace.events), "shadow at the end:\n", ShadowText(trace));
    if (valid.broken || !valid.findings.empty() || valid.stats.binaries != trace.scenarios.size() ||
        valid.stats.live != trace.live_at_end) {
      FAIL_CHECK("valid trace: invariant ", valid.broken.value_or("kept"), "; findings:\n",
                 FindingsText(valid.findings), "binaries ", valid.stats.binaries, " (expected ",
                 trace.scenarios.size(), "), live ", valid.stats.live, " (expected ",
                 trace.live_at_end, ")");
      break;
    }

    FaultInjector injector(trace, rng);
    bool failed = false;
    for (Code code : kAllCodes) {
      const std::optional<Fault> fault = injector.Inject(code);
      if (!fault) continue;
      ++faults_checked[code];
      const Replayed got = Replay(fault->events);
      const bool one = got.findings.size() == 1 && got.findings[0].code == code &&
                       got.findings[0].event == fault->anchor && got.findings[0].bin == fault->bin;
      if (got.broken || !one) {
        FAIL_CHECK("fault ", CodeName(code), " (", fault->how, ") expected ", CodeName(code), "@",
                   fault->anchor, " ", fault->bin.ToDisplay(), "; invariant ",
                   got.broken.value_or("kept"), "; got:\n", FindingsText(got.findings),
                   "faulty trace:\n", TraceText(fault->events));
        failed = true;
        break;
      }
    }
    if (failed) break;
  }
  std::string fault_counts;
  for (const auto& [code, n] : faults_checked)
    fault_counts += " " + std::string(CodeName(code)) + "=" + std::to_string(n);
  MESSAGE("property: seed ", seed, ", ", last - first, " cases, ", events_total, " events; ",
          many_holders,
          " with a binary held by more than 16 processes; faults checked:", fault_counts);
  if (only && *only) return;  // one case need not cover everything
  // The generator must keep reaching every op and every fault.
  // NIF ops and the NIF-only codes are the NIF model's, which this generator does not drive
  // (docs/decisions.md 86): tests/nif_model_test.cpp covers them.
  for (int op = 0; op < trace::kOpCount; ++op) {
    if (trace::IsNifOp(static_cast<Op>(op))) continue;
    INFO("op ", trace::OpName(static_cast<Op>(op)));
    CHECK(ops_seen[static_cast<size_t>(op)] > 0);
  }
  CHECK(many_holders > 0);
  for (Code code : kAllCodes) {
    if (code == Code::kBorrowExpired || code == Code::kEnvReused) continue;
    INFO("fault ", CodeName(code));
    CHECK(faults_checked[code] >= static_cast<int>((last - first) / 10));
  }
}

}  // namespace
}  // namespace refctrace::model
