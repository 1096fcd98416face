// Property test of the NIF model (docs/spec/nif.md): random VALID NIF traces
// give no finding, and the same kind of trace with one injected fault gives
// exactly one finding, with the fault's code.
//
// A generated trace is a run of NIF calls (nif_enter ... nif_return), each
// making a few random ops that are legal in a shadow of the contract's state:
// binaries owned, made, queued or released; views (inspected or new bytes)
// tied to their environment; resources with the NIF's count, termed or not,
// destroyed by a destructor callback; independent environments live, sent or
// freed. Ids come from small pools, so every id space sees reuse. The trace
// ends with a call that releases what the NIF still owns. A fault is one
// extra event (or, for a leak, one release left out) that breaks exactly one
// rule; the model must report that one, and nothing else, since a broken op
// changes nothing (env-reused and alloc-live apply their op after the report,
// and the shadow follows).
//
// The lines go through the real NDJSON reader (field decoding included) and
// Model::CheckInvariants() runs after every event (tests/ndjson_replay.h).
// Reproduce: REFCTRACE_PROPERTY_SEED=<seed>, printed with the failing trace;
// REFCTRACE_PROPERTY_CASES=<n> runs more cases. The driver half is
// tests/property_test.cpp.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ndjson_replay.h"
#include "tracegen/splitmix64.h"

namespace refctrace::model {
namespace {

using Rng = tracegen::SplitMix64;

uint64_t EnvNumber(const char* name, uint64_t fallback) {
  const char* value = std::getenv(name);
  return value && *value ? std::strtoull(value, nullptr, 10) : fallback;
}

// One NDJSON event, built field by field.
class Line {
 public:
  explicit Line(const std::string& op) : text_("{\"op\":\"" + op + "\"") {}
  Line& S(const std::string& key, const std::string& value) {
    text_ += ",\"" + key + "\":\"" + value + "\"";
    return *this;
  }
  Line& N(const std::string& key, uint64_t value) {
    text_ += ",\"" + key + "\":" + std::to_string(value);
    return *this;
  }
  Line& B(const std::string& key) {
    text_ += ",\"" + key + "\":true";
    return *this;
  }
  std::string Text() const { return text_ + "}"; }

 private:
  std::string text_;
};

// The faults, each breaking one rule of the NIF model.
enum class Fault {
  kNone,
  kLeakBinary,             // an owned binary never released
  kLeakResource,           // a resource the NIF still counts at the end
  kLeakEnvironment,        // an independent environment never freed
  kReleaseReleased,        // bin_release of a released binary
  kReleaseResourceAtZero,  // res_release with the NIF's count at 0
  kFreeFreedEnv,           // env_free of a freed environment
  kMakeReleased,           // bin_make of a released binary
  kReallocMade,            // bin_realloc of a made binary
  kKeepDestroyed,          // res_keep after the destructor ran
  kInspectInEndedCall,     // bin_inspect in a call environment after its return
  kUseExpiredView,         // bin_use of inspected bytes after their environment ended
  kMakeIntoSentEnv,        // bin_make into a sent environment, not cleared
  kWriteInspected,         // a write to inspected (read-only) bytes
  kAllocOwned,             // bin_alloc on an id the NIF still owns
  kDtorWhileCounted,       // the destructor ran while the NIF still counts the resource
  kLeakSelected,           // a select never stopped
  kUseAfterStop,           // a use after the stop callback freed the last hold
};

struct FaultInfo {
  Fault fault;
  const char* name;
  Code code;
};

const std::vector<FaultInfo> kFaults = {
    {Fault::kLeakBinary, "leak-binary", Code::kLeak},
    {Fault::kLeakResource, "leak-resource", Code::kLeak},
    {Fault::kLeakEnvironment, "leak-environment", Code::kLeak},
    {Fault::kReleaseReleased, "release-released", Code::kDoubleFree},
    {Fault::kReleaseResourceAtZero, "release-resource-at-zero", Code::kDoubleFree},
    {Fault::kFreeFreedEnv, "free-freed-env", Code::kDoubleFree},
    {Fault::kMakeReleased, "make-released", Code::kUseAfterFree},
    {Fault::kReallocMade, "realloc-made", Code::kUseAfterFree},
    {Fault::kKeepDestroyed, "keep-destroyed", Code::kUseAfterFree},
    {Fault::kInspectInEndedCall, "inspect-in-ended-call", Code::kUseAfterFree},
    {Fault::kUseExpiredView, "use-expired-view", Code::kBorrowExpired},
    {Fault::kMakeIntoSentEnv, "make-into-sent-env", Code::kEnvReused},
    {Fault::kWriteInspected, "write-inspected", Code::kMutateAfterOutput},
    {Fault::kAllocOwned, "alloc-owned", Code::kAllocLive},
    {Fault::kDtorWhileCounted, "dtor-while-counted", Code::kRefcMismatch},
    {Fault::kLeakSelected, "leak-selected", Code::kLeak},
    {Fault::kUseAfterStop, "use-after-stop", Code::kUseAfterFree},
};

const std::vector<std::string> kBinIds = {"b1", "b2", "b3", "b4"};
const std::vector<std::string> kViewData = {"v1", "v2", "v3", "v4"};
const std::vector<std::string> kResIds = {"r1", "r2", "r3"};
const std::vector<std::string> kIndependentEnvs = {"i1", "i2"};
const std::vector<std::string> kCallEnvs = {"c1", "c2"};

// The shadow of the contract's state and the trace being written.
class NifTraceGenerator {
 public:
  NifTraceGenerator(uint64_t seed, Fault fault) : rng_(seed), fault_(fault) {}

  // The whole trace; injected() says whether the fault found its moment.
  std::vector<std::string> Generate() {
    const int calls = static_cast<int>(rng_.Between(3, 12));
    for (int i = 0; i < calls; ++i) {
      Call([&] {
        const int ops = static_cast<int>(rng_.Between(1, 8));
        for (int k = 0; k < ops; ++k) {
          if (!injected_ && rng_.Chance(250) && TryInject()) continue;
          RandomOp();
        }
      });
      if (!injected_ && rng_.Chance(300)) TryInjectBetweenCalls();
      MaybeDestroyResource();
    }
    Call([&] { ReleaseEverything(); });
    return lines_;
  }
  bool injected() const { return injected_; }

 private:
  // kMovedFrom: the id a realloc moved away from (the binary goes on under new_bin).
  enum class BinState { kOwned, kMade, kQueued, kReleased, kMovedFrom };
  struct Binary {
    BinState state;
    std::string data;
    std::string env;  // made into
  };
  struct Resource {
    int nif = 0;
    bool termed = false;
    bool destroyed = false;  // gone: destructor ran, or count 0 never termed
    bool selected = false;   // the emulator's reference until the stop callback returned
    bool stopping = false;   // ERL_NIF_SELECT_STOP asked, the stop callback not run yet
    int monitors = 0;        // no reference (model 1.4)
  };
  struct Environment {
    bool live = false;
    bool sent = false;
  };
  struct View {
    std::string env;
    bool writable = false;
  };

  void Emit(const Line& line) { lines_.push_back(line.Text()); }

  template <typename Body>
  void Call(Body body) {
    call_env_ = rng_.Pick(kCallEnvs);
    Emit(Line("nif_enter").S("env", call_env_).S("actor", "<0.90.0>").S("nif", "m:f/1"));
    body();
    Emit(Line("nif_return").S("env", call_env_));
    EndTerms(call_env_);
    last_call_env_ = call_env_;
    call_env_.clear();
  }

  // The environment's views expire and the binaries made into it are as released.
  void EndTerms(const std::string& env) {
    for (auto it = views_.begin(); it != views_.end();) {
      if (it->second.env == env) {
        expired_.insert(it->first);
        it = views_.erase(it);
      } else {
        ++it;
      }
    }
    for (auto& [id, bin] : bins_)
      if (bin.state == BinState::kMade && bin.env == env) bin.state = BinState::kReleased;
  }

  // An environment a term may be made in: the call's, or a live independent one not sent.
  std::string UsableEnv() {
    std::vector<std::string> usable = {call_env_};
    for (const std::string& id : kIndependentEnvs)
      if (envs_[id].live && !envs_[id].sent) usable.push_back(id);
    return rng_.Pick(usable);
  }

  std::vector<std::string> Bins(BinState state) {
    std::vector<std::string> out;
    for (const std::string& id : kBinIds) {
      auto it = bins_.find(id);
      if (it != bins_.end() && it->second.state == state) out.push_back(id);
    }
    return out;
  }
  // Ids a new binary may take: never used, or whose binary is gone (the
  // allocator does not hand out an address a term or a queue still holds).
  std::vector<std::string> FreeBinIds() {
    std::vector<std::string> out;
    for (const std::string& id : kBinIds) {
      auto it = bins_.find(id);
      if (it == bins_.end() || it->second.state == BinState::kReleased ||
          it->second.state == BinState::kMovedFrom)
        out.push_back(id);
    }
    return out;
  }
  std::vector<std::string> Resources(bool (*pred)(const Resource&)) {
    std::vector<std::string> out;
    for (const std::string& id : kResIds) {
      auto it = res_.find(id);
      if (it != res_.end() && pred(it->second)) out.push_back(id);
    }
    return out;
  }
  static bool Alive(const Resource& r) {
    return !r.destroyed && (r.nif > 0 || r.termed || r.selected);
  }
  // Gone once nothing holds it: the NIF's count, a term, a selection.
  void GoneIfUnheld(const std::string& id) {
    Resource& r = res_[id];
    if (!r.destroyed && r.nif == 0 && !r.termed && !r.selected) {
      r.destroyed = true;
      destroyed_.insert(id);
    }
  }
  static bool Counted(const Resource& r) { return !r.destroyed && r.nif > 0; }

  std::string NewData() { return "d" + std::to_string(++data_serial_); }

  void AllocBinary(const std::string& id) {
    const std::string data = NewData();
    Emit(Line("bin_alloc").S("bin", id).S("data", data).N("size", rng_.Between(1, 4096)));
    bins_[id] = {BinState::kOwned, data, ""};
  }

  // One legal op, chosen at random among those the shadow allows.
  void RandomOp() {
    switch (rng_.Below(14)) {
      case 0:
      case 1: {
        auto ids = FreeBinIds();
        if (!ids.empty()) return AllocBinary(rng_.Pick(ids));
        break;
      }
      case 2: {
        auto owned = Bins(BinState::kOwned);
        if (owned.empty()) break;
        const std::string id = rng_.Pick(owned);
        Binary& bin = bins_[id];
        Line line("bin_realloc");
        line.S("bin", id);
        if (rng_.Chance(300)) {
          auto ids = FreeBinIds();
          if (!ids.empty()) {
            const std::string moved = rng_.Pick(ids);
            if (moved != id) {
              bin.data = NewData();
              line.S("new_bin", moved).S("data", bin.data).N("size", rng_.Between(1, 8192));
              Emit(line);
              bins_[moved] = bin;
              bins_[id].state = BinState::kMovedFrom;
              return;
            }
          }
        }
        Emit(line.S("data", bin.data).N("size", rng_.Between(1, 8192)));
        return;
      }
      case 3: {
        auto owned = Bins(BinState::kOwned);
        if (owned.empty()) break;
        const std::string id = rng_.Pick(owned);
        Emit(Line("bin_release").S("bin", id).S("data", bins_[id].data));
        bins_[id].state = BinState::kReleased;
        return;
      }
      case 4: {
        auto owned = Bins(BinState::kOwned);
        if (owned.empty()) break;
        const std::string id = rng_.Pick(owned);
        const std::string env = UsableEnv();
        Emit(Line("bin_make").S("bin", id).S("data", bins_[id].data).S("env", env));
        bins_[id].state = BinState::kMade;
        bins_[id].env = env;
        return;
      }
      case 5: {
        // A use: an owned binary (read or write), a made one (read), a view.
        auto owned = Bins(BinState::kOwned);
        auto made = Bins(BinState::kMade);
        if (!owned.empty() && rng_.Chance(500)) {
          const std::string id = rng_.Pick(owned);
          Line line("bin_use");
          line.S("bin", id).S("data", bins_[id].data);
          if (rng_.Chance(500)) line.B("write");
          return Emit(line);
        }
        if (!made.empty() && rng_.Chance(500)) {
          const std::string id = rng_.Pick(made);
          return Emit(Line("bin_use").S("bin", id).S("data", bins_[id].data));
        }
        if (!views_.empty()) {
          auto it = views_.begin();
          std::advance(it, static_cast<long>(rng_.Below(views_.size())));
          Line line("bin_use");
          line.S("data", it->first);
          if (it->second.writable && rng_.Chance(500)) line.B("write");
          return Emit(line);
        }
        break;
      }
      case 6: {
        // Inspected or new bytes: a view in an environment. A data value is
        // one live view at a time here (shared views are decision 88's).
        std::vector<std::string> free;
        for (const std::string& d : kViewData)
          if (!views_.count(d)) free.push_back(d);
        if (free.empty()) break;
        const std::string data = rng_.Pick(free);
        const std::string env = UsableEnv();
        const bool writable = rng_.Chance(400);
        if (writable) {
          Emit(Line("bin_make_new").S("env", env).S("data", data).N("size", rng_.Between(1, 256)));
        } else {
          Emit(Line("bin_inspect").S("env", env).S("data", data).N("size", rng_.Between(1, 256)));
        }
        views_[data] = {env, writable};
        expired_.erase(data);
        // enif_inspect_iovec: more read-only views in the same environment at once,
        // one per element (decision 210).
        if (!writable && rng_.Chance(300)) {
          for (const std::string& d : kViewData) {
            if (views_.count(d)) continue;
            Emit(Line("bin_inspect").S("env", env).S("data", d).N("size", rng_.Between(1, 256)));
            views_[d] = {env, false};
            expired_.erase(d);
            if (!rng_.Chance(500)) break;
          }
        }
        return;
      }
      case 7: {
        auto owned = Bins(BinState::kOwned);
        if (owned.empty()) break;
        const std::string id = rng_.Pick(owned);
        Emit(Line("ioq_enq").S("bin", id).S("data", bins_[id].data));
        bins_[id].state = BinState::kQueued;
        return;
      }
      case 8: {
        std::vector<std::string> free;
        for (const std::string& id : kResIds)
          if (!res_.count(id) || !Alive(res_[id])) free.push_back(id);
        if (free.empty()) break;
        const std::string id = rng_.Pick(free);
        Emit(Line("res_alloc").S("res", id).S("rtype", "t").N("size", 64));
        res_[id] = Resource{1, false, false};
        return;
      }
      case 9: {
        auto counted = Resources(Counted);
        auto alive = Resources(Alive);
        if (alive.empty()) break;
        const uint64_t what = rng_.Below(4);
        if (what == 0) {
          const std::string id = rng_.Pick(alive);
          Emit(Line("res_keep").S("res", id));
          ++res_[id].nif;
        } else if (what == 1 && !counted.empty()) {
          const std::string id = rng_.Pick(counted);
          Emit(Line("res_release").S("res", id));
          --res_[id].nif;
          GoneIfUnheld(id);
        } else if (what == 2) {
          const std::string id = rng_.Pick(alive);
          Emit(Line("res_make").S("res", id).S("env", UsableEnv()));
          res_[id].termed = true;
        } else {
          Emit(Line("res_use").S("res", rng_.Pick(alive)));
        }
        return;
      }
      case 11: {
        // Monitors (no reference) and selections (the emulator's reference).
        auto alive = Resources(Alive);
        if (alive.empty()) break;
        const std::string id = rng_.Pick(alive);
        Resource& r = res_[id];
        const uint64_t what = rng_.Below(4);
        if (what == 0) {
          Line line("res_monitor");
          line.S("res", id).S("to", "<0.92.0>");
          if (rng_.Chance(200)) {
            line.B("failed");
          } else {
            ++r.monitors;
          }
          Emit(line);
        } else if (what == 1 && r.monitors > 0) {
          Emit(Line("res_demonitor").S("res", id));
          --r.monitors;
        } else if (what == 2 && !r.selected) {
          Line line("res_select");
          line.S("res", id);
          if (rng_.Chance(200)) {
            line.B("failed");
          } else {
            r.selected = true;
          }
          Emit(line);
        } else if (r.selected && !r.stopping) {
          Emit(Line("res_select_stop").S("res", id));
          r.stopping = true;
        } else {
          Emit(Line("res_use").S("res", id));
        }
        return;
      }
      case 10: {
        // An independent environment: alloc, clear (also after a send), free, send.
        const std::string id = rng_.Pick(kIndependentEnvs);
        Environment& env = envs_[id];
        if (!env.live) {
          Emit(Line("env_alloc").S("env", id));
          env = {true, false};
        } else if (env.sent || rng_.Chance(300)) {
          Emit(Line("env_clear").S("env", id));
          EndTerms(id);
          env.sent = false;
        } else if (rng_.Chance(500)) {
          Emit(Line("env_send").S("env", id).S("to", "<0.91.0>"));
          EndTerms(id);
          env.sent = true;
        } else {
          Emit(Line("env_free").S("env", id));
          EndTerms(id);
          env = {false, false};
        }
        return;
      }
      default:
        break;
    }
  }

  // Callbacks between calls: a stop callback for a selection asked to stop,
  // a monitor's down callback (in which the NIF may drop its last
  // reference: the emulator holds the object until the callback returns),
  // and a destructor for a resource only terms keep.
  void MaybeDestroyResource() {
    for (const std::string& id : kResIds) {
      auto it = res_.find(id);
      if (it == res_.end() || it->second.destroyed) continue;
      Resource& r = it->second;
      if (r.stopping && rng_.Chance(600)) RunStop(id);
      if (!r.destroyed && r.monitors > 0 && rng_.Chance(200)) {
        Emit(Line("nif_enter").S("env", "k2").S("env_kind", "callback").S("nif", "down"));
        Emit(Line("res_down").S("res", id).S("env", "k2").S("actor", "<0.92.0>"));
        --r.monitors;
        const bool drop = r.nif > 0 && rng_.Chance(300);
        if (drop) Emit(Line("res_release").S("res", id));
        Emit(Line("res_use").S("res", id));
        Emit(Line("nif_return").S("env", "k2"));
        if (drop) {
          --r.nif;
          GoneIfUnheld(id);
        }
      }
    }
    std::vector<std::string> ready;
    for (const std::string& id : kResIds) {
      auto it = res_.find(id);
      if (it != res_.end() && !it->second.destroyed && it->second.nif == 0 && it->second.termed)
        ready.push_back(id);
    }
    if (ready.empty() || !rng_.Chance(500)) return;
    const std::string id = rng_.Pick(ready);
    Emit(Line("nif_enter").S("env", "k1").S("env_kind", "callback").S("nif", "dtor"));
    Emit(Line("res_dtor").S("res", id));
    Emit(Line("nif_return").S("env", "k1"));
    res_[id].destroyed = true;
    destroyed_.insert(id);
  }

  void RunStop(const std::string& id) {
    Resource& r = res_[id];
    Emit(Line("nif_enter").S("env", "k3").S("env_kind", "callback").S("nif", "stop"));
    Emit(Line("res_stop").S("res", id).S("env", "k3"));
    Emit(Line("nif_return").S("env", "k3"));
    r.selected = false;
    r.stopping = false;
    GoneIfUnheld(id);
  }

  void ReleaseEverything() {
    // Every selection stopped, but the one a leak fault keeps.
    std::vector<std::string> selected;
    for (const std::string& id : kResIds)
      if (res_.count(id) && !res_[id].destroyed && res_[id].selected) selected.push_back(id);
    if (!injected_ && fault_ == Fault::kLeakSelected && !selected.empty()) {
      selected.pop_back();
      injected_ = true;
    }
    for (const std::string& id : selected) {
      if (!res_[id].stopping) Emit(Line("res_select_stop").S("res", id));
      RunStop(id);
    }
    std::vector<std::string> owned = Bins(BinState::kOwned);
    std::vector<std::string> counted = Resources(Counted);
    std::vector<std::string> live_envs;
    for (const std::string& id : kIndependentEnvs)
      if (envs_[id].live) live_envs.push_back(id);
    // A leak is one release left out; the fault needs something to leak.
    if (!injected_ && fault_ == Fault::kLeakBinary && !owned.empty()) {
      owned.pop_back();
      injected_ = true;
    }
    if (!injected_ && fault_ == Fault::kLeakResource && !counted.empty()) {
      counted.pop_back();
      injected_ = true;
    }
    if (!injected_ && fault_ == Fault::kLeakEnvironment && !live_envs.empty()) {
      live_envs.pop_back();
      injected_ = true;
    }
    for (const std::string& id : owned) {
      Emit(Line("bin_release").S("bin", id).S("data", bins_[id].data));
      bins_[id].state = BinState::kReleased;
    }
    for (const std::string& id : counted) {
      while (res_[id].nif > 0) {
        Emit(Line("res_release").S("res", id));
        --res_[id].nif;
      }
    }
    for (const std::string& id : live_envs) {
      Emit(Line("env_free").S("env", id));
      EndTerms(id);
      envs_[id] = {false, false};
    }
  }

  // The fault's extra event, inside a call; false when the shadow offers no moment for it.
  bool TryInject() {
    switch (fault_) {
      case Fault::kReleaseReleased: {
        auto released = ReleasedNotReused();
        if (released.empty()) return false;
        const std::string id = rng_.Pick(released);
        Emit(Line("bin_release").S("bin", id).S("data", bins_[id].data));
        return injected_ = true;
      }
      case Fault::kMakeReleased: {
        auto released = ReleasedNotReused();
        if (released.empty()) return false;
        const std::string id = rng_.Pick(released);
        Emit(Line("bin_make").S("bin", id).S("data", bins_[id].data).S("env", call_env_));
        return injected_ = true;
      }
      case Fault::kReallocMade: {
        auto made = Bins(BinState::kMade);
        if (made.empty()) return false;
        const std::string id = rng_.Pick(made);
        Emit(Line("bin_realloc").S("bin", id).S("data", bins_[id].data).N("size", 10));
        return injected_ = true;
      }
      case Fault::kReleaseResourceAtZero: {
        std::vector<std::string> termed;
        for (const std::string& id : kResIds) {
          auto it = res_.find(id);
          if (it != res_.end() && !it->second.destroyed && it->second.nif == 0)
            termed.push_back(id);
        }
        if (termed.empty()) return false;
        Emit(Line("res_release").S("res", rng_.Pick(termed)));
        return injected_ = true;
      }
      case Fault::kKeepDestroyed: {
        std::vector<std::string> gone;
        for (const std::string& id : destroyed_)
          if (res_.count(id) && res_[id].destroyed) gone.push_back(id);
        if (gone.empty()) return false;
        Emit(Line("res_keep").S("res", rng_.Pick(gone)));
        return injected_ = true;
      }
      case Fault::kInspectInEndedCall: {
        if (last_call_env_.empty() || last_call_env_ == call_env_) return false;
        Emit(Line("bin_inspect").S("env", last_call_env_).S("data", "v9").N("size", 8));
        return injected_ = true;
      }
      case Fault::kUseExpiredView: {
        if (expired_.empty()) return false;
        std::vector<std::string> expired(expired_.begin(), expired_.end());
        Emit(Line("bin_use").S("data", rng_.Pick(expired)));
        return injected_ = true;
      }
      case Fault::kMakeIntoSentEnv: {
        auto owned = Bins(BinState::kOwned);
        std::vector<std::string> sent;
        for (const std::string& id : kIndependentEnvs)
          if (envs_[id].live && envs_[id].sent) sent.push_back(id);
        if (owned.empty() || sent.empty()) return false;
        const std::string id = rng_.Pick(owned);
        const std::string env = rng_.Pick(sent);
        Emit(Line("bin_make").S("bin", id).S("data", bins_[id].data).S("env", env));
        // Reported, then the environment is taken as cleared and the make applied.
        envs_[env].sent = false;
        bins_[id].state = BinState::kMade;
        bins_[id].env = env;
        return injected_ = true;
      }
      case Fault::kWriteInspected: {
        for (const auto& [data, view] : views_) {
          if (view.writable) continue;
          Emit(Line("bin_use").S("data", data).B("write"));
          return injected_ = true;
        }
        return false;
      }
      case Fault::kAllocOwned: {
        auto owned = Bins(BinState::kOwned);
        if (owned.empty()) return false;
        // Reported, and the old binary is abandoned for the new one.
        AllocBinary(rng_.Pick(owned));
        return injected_ = true;
      }
      case Fault::kUseAfterStop: {
        // A resource the NIF released while selected, gone at its stop callback's return.
        for (const std::string& id : kResIds) {
          auto it = res_.find(id);
          if (it == res_.end() || it->second.destroyed || !it->second.selected ||
              it->second.nif > 0 || it->second.termed || !call_env_.empty())
            continue;
          if (!it->second.stopping) {
            Call([&] { Emit(Line("res_select_stop").S("res", id)); });
          }
          RunStop(id);
          Call([&] { Emit(Line("res_use").S("res", id)); });
          return injected_ = true;
        }
        return false;
      }
      case Fault::kDtorWhileCounted: {
        auto counted = Resources(Counted);
        if (counted.empty() || !call_env_.empty()) return false;
        const std::string id = rng_.Pick(counted);
        Emit(Line("nif_enter").S("env", "k1").S("env_kind", "callback").S("nif", "dtor"));
        Emit(Line("res_dtor").S("res", id));
        Emit(Line("nif_return").S("env", "k1"));
        // The emulator's word: the resource is gone. The NIF's own count is
        // written off, and its releases of it are that one bug, not more.
        Resource& r = res_[id];
        r.destroyed = true;
        destroyed_.insert(id);
        Call([&] {
          for (; r.nif > 0; --r.nif)
            Emit(Line("res_release").S("res", id));
        });
        return injected_ = true;
      }
      default:
        return false;
    }
  }

  bool TryInjectBetweenCalls() {
    switch (fault_) {
      case Fault::kFreeFreedEnv: {
        // Inside a call of its own, right after a free.
        for (const std::string& id : kIndependentEnvs) {
          if (envs_[id].live) {
            Call([&] {
              Emit(Line("env_free").S("env", id));
              EndTerms(id);
              envs_[id] = {false, false};
              Emit(Line("env_free").S("env", id));
            });
            return injected_ = true;
          }
        }
        return false;
      }
      case Fault::kDtorWhileCounted:
      case Fault::kUseAfterStop:
        return TryInject();
      default:
        return false;
    }
  }

  // Released binaries whose id no new binary took since.
  std::vector<std::string> ReleasedNotReused() { return Bins(BinState::kReleased); }

  Rng rng_;
  Fault fault_;
  bool injected_ = false;
  std::vector<std::string> lines_;
  std::string call_env_;
  std::string last_call_env_;
  std::map<std::string, Binary> bins_;
  std::map<std::string, Resource> res_;
  std::map<std::string, Environment> envs_;
  std::map<std::string, View> views_;
  std::set<std::string> expired_;
  std::set<std::string> destroyed_;
  uint64_t data_serial_ = 0;
};

std::string Numbered(const std::vector<std::string>& lines) {
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i)
    out += std::to_string(i) + ": " + lines[i] + "\n";
  return out;
}

TEST_CASE("nif property: random valid NIF traces give no finding") {
  const uint64_t seed = EnvNumber("REFCTRACE_PROPERTY_SEED", 20261201);
  const uint64_t cases = EnvNumber("REFCTRACE_PROPERTY_CASES", 3000);
  for (uint64_t c = 0; c < cases; ++c) {
    NifTraceGenerator gen(seed + c, Fault::kNone);
    const std::vector<std::string> lines = gen.Generate();
    const ReplayRun run = ReplayNdjson(lines);
    INFO("seed " << seed + c << "\n" << Numbered(lines));
    REQUIRE(run.error.empty());
    REQUIRE(FindingCodes(run) == "");
  }
}

TEST_CASE("nif property: one injected fault gives exactly its finding") {
  const uint64_t seed = EnvNumber("REFCTRACE_PROPERTY_SEED", 20261201);
  const uint64_t cases = EnvNumber("REFCTRACE_PROPERTY_CASES", 3000);
  for (const FaultInfo& info : kFaults) {
    uint64_t injected = 0;
    for (uint64_t c = 0; c < cases / 4; ++c) {
      NifTraceGenerator gen(seed + c, info.fault);
      const std::vector<std::string> lines = gen.Generate();
      if (!gen.injected()) continue;
      ++injected;
      const ReplayRun run = ReplayNdjson(lines);
      INFO("fault " << std::string(info.name) << ", seed " << seed + c << "\n" << Numbered(lines));
      REQUIRE(run.error.empty());
      REQUIRE(run.findings.size() == 1);
      CHECK(CodeName(run.findings[0].code) == CodeName(info.code));
    }
    INFO("fault " << std::string(info.name));
    // Every fault finds its moment in some of the traces (the rarest, a
    // resource the NIF released while selected and that no term holds,
    // in about 1%).
    CHECK(injected >= cases / 1000);
  }
}

}  // namespace
}  // namespace refctrace::model
