// The NIF half of the reference model (docs/spec/nif.md, model 1.3): binaries keyed on the
// emulator's Binary* (ref_bin), views of term bytes keyed on `data`, resources and
// environments, each id space with its own incarnations and quarantine. The Model owns one and
// hands it every NIF event, and the process events that name a binary only the NIF knows, so
// a mixed driver+NIF trace is replayed in one pass with one finding sink.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "model/finding.h"
#include "model/history.h"
#include "model/lifetime.h"
#include "model/string_pool.h"
#include "trace/event.h"

namespace refctrace::model {

// Where the references terms hold to a made binary are counted (model 1.4, docs/spec/nif.md
// "Term references"): the Model counts them with the driver's holders, so the process events
// on the binary are judged and its recorded counts compared as a driver binary's are.
class TermReferences {
 public:
  virtual ~TermReferences() = default;
  // `bin_make` of e.bin (a new binary on the process side), or `make_copy` naming it (one more
  // reference): held by `process`'s heap, or, when `process` is empty, by a term of an
  // independent environment (the emulator's).
  virtual void TermMade(const trace::Event& e, std::string_view process) = 0;
  // An independent environment's term reference to `bin` went: into a message to e.to
  // (`sent`, env_send) or away with the term (env_clear, env_free).
  virtual void TermLeftEnv(const trace::Event& e, const trace::BinId& bin, bool sent) = 0;
  // A new NIF binary at `bin` (e.bin of a bin_alloc or a read-only bin_realloc, e.new_bin of
  // a moving one): a binary terms still hold there was freed by the emulator, so its holders
  // released it; it ends, at e. Returns whether one did.
  virtual bool TermsStillHold(const trace::Event& e, const trace::BinId& bin) = 0;
};

struct NifOptions {
  size_t quarantine_capacity = 1'000'000;  // per id space, as the driver's
  size_t history_head = History::kDefaultHead;
  size_t history_tail = History::kDefaultTail;
};

// Figures the Model adds to its own.
struct NifStats {
  uint64_t binaries = 0;  // NIF binary incarnations started
  uint64_t live = 0;      // NIF binaries still owned or made at the end
  uint64_t leaked_bytes = 0;
  uint64_t held_by_nif = 0;  // live objects a `held` named (trace format 1.6)
};

class NifModel {
 public:
  // `serial`: the Model's count of incarnations started, shared so that observers see one
  // numbering for driver and NIF objects.
  NifModel(FindingSink* sink, NifOptions options, uint64_t* serial);

  // A NIF op (trace::IsNifOp). Each raises at most one rule diagnostic.
  void Apply(const trace::Event& e);
  // A process event (receive, send, gc) on `e.bin`: true when `e.bin` is a binary the NIF
  // knows (owned, made or queued), which the event then touches without changing (term
  // references are the emulator's, decision 78); false to leave it to the driver model.
  bool ApplyProcessEvent(const trace::Event& e);
  // End of the trace: leaks (owned binaries, resources the NIF counts, independent
  // environments never freed).
  void Finish();

  void SetObserver(LifetimeObserver* observer) { observer_ = observer; }
  // Model 1.4: where made binaries' term references go. Unset: they are not counted (1.3).
  void SetTermReferences(TermReferences* refs) { term_refs_ = refs; }
  NifStats Stats() const;

 private:
  enum class Space : uint8_t { kBin, kData, kRes, kEnv };
  // How a binary's ownership stands.
  enum class BinState : uint8_t { kOwned, kMade, kQueued };

  // One incarnation of an id in one space. Fields of other spaces stay at their defaults.
  struct Object {
    Space space = Space::kBin;
    trace::BinId id;
    uint32_t number = 0;  // 1-based incarnation of `id`
    uint64_t serial = 0;  // start order across all spaces, for observers
    bool live = false;    // false: gone, kept in quarantine as evidence
    bool adopted = false;
    bool held = false;  // a `held` named it: the library still references it (not a leak)
    std::optional<uint64_t> size;
    std::vector<std::string> start_stack;
    History history;
    uint64_t gone_at = 0;  // the event that ended it, when !live
    // kBin
    BinState state = BinState::kOwned;
    trace::BinId data;         // the bytes (ErlNifBinary.data)
    trace::BinId env;          // kMade: the environment a term of which holds it; kData: its term's
    uint32_t env_number = 0;   // that environment's incarnation
    bool terms_ended = false;  // kMade: the environment ended its terms; kData: expired
    // kData
    bool writable = false;  // bin_make_new
    // kRes
    int64_t nif = 0;      // the NIF's count
    bool termed = false;  // a term ever held it
    // kRes, the emulator's own references (trace format 1.5): an active enif_select (from
    // res_select until its stop callback returns), and the callbacks running (down, stop: from
    // res_down/res_stop to the callback's nif_return).
    bool selected = false;
    int64_t in_callbacks = 0;
    int64_t monitors = 0;  // active monitors: no reference (a monitor does not keep it alive)
    // kEnv
    bool independent = false;
    bool sent = false;
    std::string process;  // a call's: the calling process (nif_enter's actor), if known
    // An independent one's: the binaries its terms hold a reference to (model 1.4), one entry
    // per reference, until env_send, env_clear or env_free.
    std::vector<trace::BinId> term_refs;
    // kEnv: what its terms hold, ended with them (space, id, incarnation).
    struct Tied {
      Space space;
      trace::BinId id;
      uint32_t number;
    };
    std::vector<Tied> tied;
  };
  struct Entry {
    uint32_t incarnations = 0;
    Object obj;  // the latest incarnation (live, or gone and quarantined)
    bool present = false;
  };
  using Table = std::unordered_map<trace::BinId, Entry, trace::BinIdHash>;

  Table& TableOf(Space space) { return tables_[static_cast<size_t>(space)]; }
  // The live object `id` names in `space`, or null.
  Object* Live(Space space, const trace::BinId& id);
  // The record of `id` (live or gone), or null when never seen (or evicted).
  Entry* Find(Space space, const trace::BinId& id);
  Object& Start(Space space, const trace::BinId& id, const trace::Event& e, bool adopted);
  void End(Object& obj, const trace::Event* e);
  // An op on an id never seen: the warning, then a live object the caller sets up.
  Object& Adopt(Space space, const trace::BinId& id, const trace::Event& e);

  void Record(Object& obj, const trace::Event& e);
  void Report(Code code, const Object& obj, const trace::Event& e, std::string message);
  void ReportLeak(const Object& obj, std::string message);
  // A live object that is a leak at the end of the trace unless the library still references
  // it: an owned binary, a resource the NIF counts or still selects, an independent environment.
  static bool OwnedAtEnd(const Object& obj);

  // Environments.
  // Checks that `env` can take a term (live, not sent); reports and returns false otherwise.
  // Adopts an environment never seen.
  bool EnvUsable(const trace::Event& e);
  void EndTerms(Object& env, const trace::Event& e);
  void Tie(Object& env, const Object& obj);
  // A term of `env` now references binary `bin` (bin_make, make_copy): counted on the process
  // side (model 1.4).
  void AddTermReference(Object& env, const trace::Event& e);
  // An independent environment's term references went (sent: into the message to e.to).
  void EndTermReferences(Object& env, const trace::Event& e, bool sent);

  // The bytes `e` names are readable (and writable with `write`): bin_use, bin_make without
  // `bin`. Reports and returns false otherwise.
  bool CheckBytes(const trace::Event& e, bool write);
  // The binary whose bytes `data` are, if the model knows one.
  Object* BinaryOfData(const trace::BinId& data);

  void ApplyBinary(const trace::Event& e);
  void ApplyResource(const trace::Event& e);
  // Resource monitors, enif_select and the down/stop callbacks (trace format 1.5).
  void ApplyResourceEmulatorHold(Object& res, const trace::Event& e);
  // The emulator holds `res` by itself (a term, an active select, a running callback).
  static bool EmulatorHolds(const Object& res);
  // A down or stop callback's environment `env` ends (its nif_return): the reference the
  // emulator held for the callback ends, and with a stop callback the select's.
  void EndCallbackHold(const trace::BinId& env, const trace::Event& e);
  void ApplyEnvironment(const trace::Event& e);
  void ApplyHeld(const trace::Event& e);

  void ApplyOp(const trace::Event& e);
  void Notify(const Object& obj, bool ended);
  void NotifyTouched();
  static ObjectKind KindOf(Space space);
  static std::string Describe(const Object& obj);  // "NIF binary 0x..", "resource r1"
  std::string At(uint64_t event) const;            // " (event N)"
  static std::string Who(const trace::Event& e);   // "the NIF", or the event's process

  FindingSink* sink_;
  LifetimeObserver* observer_ = nullptr;
  TermReferences* term_refs_ = nullptr;
  NifOptions options_;
  StringPool strings_;
  Table tables_[4];
  // Gone ids per space, oldest first, for the quarantine's capacity.
  std::deque<std::pair<trace::BinId, uint32_t>> quarantine_[4];
  // A running down or stop callback's environment -> the resource it holds.
  struct CallbackHold {
    trace::BinId res;
    uint32_t number = 0;
    bool ends_select = false;  // a stop callback: the select's reference ends with it
  };
  std::unordered_map<trace::BinId, CallbackHold, trace::BinIdHash> callback_holds_;
  // data -> the binary whose bytes they are (checked against the binary's current data).
  std::unordered_map<trace::BinId, trace::BinId, trace::BinIdHash> data_owner_;
  uint64_t* serial_;
  std::vector<Object::Tied> touched_;  // objects recorded during this event (observer only)
  uint64_t binaries_ = 0;
  uint64_t leaked_bytes_ = 0;
  bool scanned_ = false;  // a `held` was read: the recorder scanned the library's memory
};

}  // namespace refctrace::model
