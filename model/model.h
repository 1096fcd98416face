// The reference refcount model (docs/spec/model.md, version 1.5): replays events one at a time
// as an explicit state machine and reports rule violations to a FindingSink.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/finding.h"
#include "model/history.h"
#include "model/id_index.h"
#include "model/lifetime.h"
#include "model/nif_model.h"
#include "model/string_pool.h"
#include "trace/event.h"

namespace refctrace::model {

struct ModelOptions {
  // Distinct freed ids remembered for double-free / use-after-free detection.
  size_t quarantine_capacity = 1'000'000;
  // ... and at most this many bytes of their string ids (kept twice), so
  // freed ids of 10,000 characters cannot fill memory; ordinary ids (short
  // strings, integers) never reach it.
  size_t quarantine_id_bytes = size_t{64} << 20;
  size_t history_head = History::kDefaultHead;
  size_t history_tail = History::kDefaultTail;
  // Binary incarnations live at once (about 780 bytes each). Past this,
  // LimitReached() says so and the caller stops: memory stays bounded.
  size_t max_live = 1'000'000;
};

// Figures for the summary line; complete once Finish() has run.
struct ModelStats {
  uint64_t events = 0;
  uint64_t driver_events = 0;      // events the driver performed (IsDriverOp)
  uint64_t process_events = 0;     // events a process performed (IsProcessOp)
  uint64_t nif_events = 0;         // NIF events (IsNifOp, trace format 1.4)
  uint64_t binaries = 0;           // incarnations started (moves by realloc excluded), NIF's too
  uint64_t live = 0;               // incarnations not freed (NIF binaries owned or made)
  uint64_t leaked_bytes = 0;       // sizes of leaked incarnations (NIF resources' too)
  uint64_t held_by_processes = 0;  // live incarnations with a proc or msg holder, end known
  // Live incarnations a process may or may not have released (a `gc` with `among` the trace
  // never resolved, model 1.3): neither freed nor held for sure.
  uint64_t uncertain_end = 0;
  // NIF objects that would be leaks but that the library still referenced at the clean end of
  // recording (a `held`, trace format 1.6).
  uint64_t held_by_nif = 0;
};

// What one process holds of one incarnation.
struct ProcessHold {
  StrRef pid = 0;
  int64_t msg = 0;   // in messages not yet received
  int64_t proc = 0;  // in the process heap
};

// What one port instance's I/O queue holds of one incarnation.
struct QueueHold {
  uint32_t port = 0;  // the port instance (Model's numbering)
  int64_t count = 0;
};

// The members up to procs are the ones most events use (Model::PrefetchBinary loads them with
// the Incarnation's first lines); queues, which only the queue's events use, come after.
struct Holders {
  int64_t driver = 0;
  int64_t vm = 0;  // emulator references not attributed to a process
  // In the order the processes first held it. A few are searched in place;
  // past kIndexFrom an index finds them, and entries that drop to zero stay
  // (as zeros) until they are half the list: an event on a binary held by
  // many processes costs amortised constant time.
  std::vector<ProcessHold> procs;
  // Per port instance, in the order the queues first held it; an entry stays (as a zero)
  // until its port stops. Nearly always one entry: a driver queues a binary on its own port.
  std::vector<QueueHold> queues;
  std::unique_ptr<std::unordered_map<StrRef, uint32_t>> index;  // pid -> position
  uint32_t zeros = 0;  // entries of procs that hold nothing (only with an index)
  // Every entry of procs before this one holds nothing (only with an index; else 0): the
  // processes that let go first are skipped when the first holders are listed (decision 248).
  uint32_t first_held = 0;
  static constexpr size_t kIndexFrom = 16;

  int64_t Sum() const;
  ProcessHold* Find(StrRef pid);
  const ProcessHold* Find(StrRef pid) const;
  bool HeldByProcess() const;
  // The count `port`'s queue holds (added as a zero when absent).
  int64_t& Queue(uint32_t port);
  // The entry of `port`'s queue, if it has one.
  QueueHold* FindQueue(uint32_t port);
  // What `port`'s queue holds (0 when it holds nothing).
  int64_t QueueCount(uint32_t port) const;
  // A new entry for `pid` (not in procs).
  ProcessHold& Add(StrRef pid, int64_t msg, int64_t proc);
  // `p` (in procs) now holds nothing: removed, or left as a zero.
  void Emptied(ProcessHold* p);
  // `p` held nothing and holds something again.
  void Refilled(ProcessHold* p);
  void Clear();
  // Calls `list(p)` for each of the first `max` entries of procs that hold something, in
  // order, and says how many more hold something and how much; `refc` is the incarnation's
  // count, the sum of its holders. Costs `max` plus the empty entries passed over, not one per
  // process.
  template <typename List>
  UnlistedProcesses ListProcesses(size_t max, int64_t refc, List&& list) const;
};

template <typename List>
UnlistedProcesses Holders::ListProcesses(size_t max, int64_t refc, List&& list) const {
  size_t listed = 0;
  int64_t listed_refs = 0;
  for (size_t i = first_held; i < procs.size() && listed < max; ++i) {
    const ProcessHold& p = procs[i];
    if (p.msg == 0 && p.proc == 0) continue;
    list(p);
    ++listed;
    listed_refs += p.msg + p.proc;
  }
  UnlistedProcesses rest;
  const size_t holding = procs.size() - zeros;
  if (listed == holding) return rest;
  rest.processes = holding - listed;
  // The rest is what the others do not hold: refc is the sum of the holders (an invariant
  // CheckInvariants checks), so nothing past the listed entries is read.
  rest.references = refc - driver - vm - listed_refs;
  for (const QueueHold& q : queues)
    rest.references -= q.count;
  return rest;
}

class Model : private TermReferences {
 public:
  explicit Model(FindingSink* sink, ModelOptions options = {});
  ~Model() override;
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  // Judges and applies one event. Events must come in trace order; `end` may
  // come once and nothing after it (the reader enforces that).
  void Apply(const trace::Event& event);
  // Hints for an event that Apply will get a few events from now (cli/replay.cpp reads
  // ahead), in four stages an event apart: each starts the cache misses that the next stage,
  // then Apply, would wait for, so the misses of consecutive events overlap instead of adding
  // up along the chain id table -> id state -> incarnation -> its history and holders. What
  // a stage found is kept in the event's PrefetchHint for the next one; it may be stale by
  // then (the events between change the model), which costs a useless prefetch, never a wrong
  // result. Read only: nothing the model does or says depends on them.
  struct PrefetchHint {
    uint64_t hash = 0;
    uint32_t number = IdIndex::kAbsent;
    uint64_t erasures = 0;  // IdIndex::erasures() when `number` was found
    int64_t slot = -1;
  };
  void PrefetchIdEntry(const trace::Event& e, PrefetchHint* hint) const;  // its id's table entry
  void PrefetchIdState(const trace::Event& e, PrefetchHint* hint) const;  // its id's state
  // Its live incarnation's lines; an event that starts one: the slot it will most likely take.
  void PrefetchBinary(const trace::Event& e, PrefetchHint* hint) const;
  // Its history's next entry and its holders; an event that may end the incarnation: what
  // the quarantine reads and writes (the history's first entry, the id's FreedEvidence and id).
  void PrefetchBinaryData(const trace::Event& e, const PrefetchHint& hint) const;
  // Apply, given what the stages found for this event (and only they: a hint made up otherwise
  // may be trusted wrongly): a number that still names the event's id saves looking the id up
  // again; a stale one (the id was forgotten since, and its number given to another) is seen
  // as such and ignored, so the result is Apply's.
  void Apply(const trace::Event& event, const PrefetchHint& hint);
  // End of a complete input: runs the end-of-trace leak pass unless the trace
  // already ended with `stop` or `end`. Not called for an input cut short.
  void Finish();

  // Sees every step of every incarnation from now on (graphs, `show`).
  // Costs nothing when unset.
  void SetObserver(LifetimeObserver* observer) {
    observer_ = observer;
    if (nif_) nif_->SetObserver(observer);
  }

  ModelStats Stats() const;
  // Checks every live incarnation: refc equals the sum of its holders and no
  // count is negative. Returns a description of the first breach.
  std::optional<std::string> CheckInvariants() const;
  // Set once more than ModelOptions::max_live incarnations are live: what
  // was exceeded. The caller should stop applying events.
  const std::optional<std::string>& LimitReached() const { return limit_reached_; }

 private:
  struct Incarnation;
  struct IdState;
  struct FreedEvidence;
  struct Handle {
    uint32_t slot = 0;
    uint32_t generation = 0;
  };

  // Lifecycle.
  Incarnation& StartIncarnation(const trace::Event& e, IdState& state, const trace::BinId& id,
                                bool adopted);
  // `state` is the incarnation's IdState when the caller has it at hand.
  void EndIncarnation(uint32_t slot, IdState* state = nullptr);
  // Ends the incarnations listed in ending_ (one event freed them all) in the order they
  // became live, which is the order their ids enter the quarantine.
  void EndInLiveOrder();
  // Whether `e` starts an incarnation of its id even when the id is live or quarantined:
  // alloc, borrow, enq with copy.
  static bool StartsIncarnation(const trace::Event& e);
  void AbandonIncarnation(uint32_t slot);
  IdState& State(const trace::BinId& id);
  // State(e.bin) for the event being applied, through its hint's number when that still names
  // the id.
  IdState& EventState(const trace::BinId& id);

  // The quarantine: freed ids, oldest first, as a list linked through their IdStates.
  void Quarantine(IdState& state, const Incarnation& inc);
  // A quarantined id that starts a new incarnation (alloc, borrow, a realloc onto it).
  void LeaveQuarantine(IdState& state);
  void EvictQuarantine();

  // Event handlers.
  void ApplyEvent(const trace::Event& e);
  // The NIF half of the model, made at the first event that needs it (docs/spec/nif.md).
  NifModel& Nif();
  // A process event on an id the driver has no live binary under, that the NIF made: the
  // NIF model takes it (mixed traces share the process side). Out of line: driver traces
  // never get here.
  [[gnu::noinline]] bool TakenByNif(const trace::Event& e);
  // Model 1.4: the references terms hold to a binary the NIF made are counted here, as a
  // binary's whose holders are processes and the emulator (docs/spec/nif.md, "Term
  // references"); the NIF model calls these.
  void TermMade(const trace::Event& e, std::string_view process) override;
  void TermLeftEnv(const trace::Event& e, const trace::BinId& bin, bool sent) override;
  bool TermsStillHold(const trace::Event& e, const trace::BinId& bin) override;
  // cur_ for a NIF event that touches the process side.
  void SetNifStrings(const trace::Event& e);
  void ApplyExit(const trace::Event& e);
  // Stops port instance `port`: its queue's references are dropped and what its driver still
  // holds is leaked. `e`: the stop or end event; nullptr at end of input.
  // `only`: the slots that can concern this port (all when null).
  void StopPort(uint32_t port, const trace::Event* e, const std::vector<uint32_t>* only = nullptr);
  // Stops every port instance that has not stopped, in order of first appearance.
  void StopAllPorts(const trace::Event* e);
  // The live instance of the port named `name`: a new one if it never appeared or stopped.
  // Out of line: the default port of a trace without ports never gets here twice in a row.
  [[gnu::noinline]] uint32_t PortInstance(std::string_view port);
  // Interns a string that few events carry (a port, a borrow's `from`), out of line so the
  // per-event interning stays inlined.
  [[gnu::noinline]] StrRef InternRare(std::string_view s);
  void ApplyOnFreed(const trace::Event& e, IdState& state);
  void ApplyOnUnknown(const trace::Event& e, IdState& state);
  // The holders an unknown id is assumed to have before `e`: the least that make it legal.
  void AssumeLeastHolders(const trace::Event& e, uint32_t slot);
  // Applies a binary op to a live incarnation; returns whether a rule
  // diagnostic was raised.
  bool ApplyOnLive(const trace::Event& e, uint32_t slot);
  bool ApplyRealloc(const trace::Event& e, uint32_t slot);
  // The incarnation in `slot` continues under e.new_bin; e.bin is freed. Returns whether
  // new_bin was live (alloc-live).
  bool MoveIncarnation(const trace::Event& e, uint32_t slot);
  // Reports use-after-free if the driver has no access to `inc`; returns whether it did.
  bool ReportIfNoAccess(const trace::Event& e, const Incarnation& inc);
  // Returns whether the incarnation ends by the emulator's word: a refc-mismatch that
  // recorded 0.
  bool CheckReportedRefc(const trace::Event& e, uint32_t slot);
  // The port a finding on `e` about `inc` names (see Finding::port).
  std::string_view FindingPort(const trace::Event& e, const Incarnation* inc) const;

  // Holder bookkeeping: refc and vm_refc move with the holders only in AddRef and Release.
  ProcessHold& Hold(uint32_t slot, StrRef pid);
  // `counter` is one of inc's holder counts.
  void AddRef(Incarnation& inc, int64_t* counter, int64_t n = 1);
  // `process`: the entry `counter` belongs to, if a process's.
  void Release(Incarnation& inc, int64_t* counter, int64_t n, ProcessHold* process = nullptr);
  // A release by a holder that has no reference: holders stay, the emulator decrements anyway.
  static void ReleaseUnheld(Incarnation& inc, int64_t n);
  // `p` has one more reference in its heap: one of its unreceived messages if it has one,
  // else one that reached it untraced.
  void Deliver(Incarnation& inc, ProcessHold& p);
  // output/send: a reference for e.to's message, unless copied or e.to has exited.
  void AddMessageRef(const trace::Event& e, uint32_t slot);

  // Releases whose binary is one of several (a gc with `among`, model 1.3). A group: process
  // `pid` released `pending` references, each of one of `candidates` (incarnations it holds).
  struct UncertainGroup {
    StrRef pid = 0;
    std::vector<Handle> candidates;
    int64_t pending = 0;
    std::vector<uint64_t> events;  // its gc events (more than one when groups merged)
  };
  void ApplyUncertainGc(const trace::Event& e);
  // The most of `pending` that `inc` can have taken in group `g`: what its process holds.
  int64_t UncertainBound(const Incarnation& inc, const UncertainGroup& g) const;
  // `d` of group `group`'s pending releases were `slot`'s: applied, and it leaves the group.
  // `how` says what decided it, for observers (LifetimeStep::decided).
  void AttributeUncertain(uint32_t group, uint32_t slot, int64_t d, std::string_view how);
  // Tells the observer that `group`'s releases were decided for `slot`'s incarnation.
  void NotifyDecided(const UncertainGroup& group, uint32_t slot, int64_t d, std::string_view how);
  // What the group's counts now decide (one candidate left, none pending, all released).
  void ResolveGroups();
  // The emulator's word on an uncertain incarnation: its recorded count (or its address
  // coming back as a new binary: count 0) says how many of the releases were its. Returns
  // whether the recorded count can still be compared (false: it stays uncertain).
  bool ResolveByCount(uint32_t slot, int64_t recorded, std::string_view how);
  // The slot's incarnation ended: it leaves its groups.
  void LeaveGroups(Incarnation& inc);
  // How many of inc's references its uncertain releases may have taken (0: none pending).
  int64_t UncertainRelease(const Incarnation& inc) const;
  std::unordered_map<uint32_t, UncertainGroup> groups_;
  uint32_t next_group_ = 0;
  std::vector<uint32_t> dirty_groups_;

  // Messages to the unknown receiver that its exit may have dropped (model 1.5, decision
  // 163). The trace cannot tie an exit to such a message, so only the emulator's word (a
  // lower count, the address coming back) says it was dropped, and only an exit after the
  // message was sent can have dropped it. Slot -> exits_ when the oldest of the slot's
  // pending unknown messages was sent; nearly always empty.
  std::unordered_map<uint32_t, uint64_t> unknown_sent_after_exits_;
  uint64_t exits_ = 0;
  // How many of the slot's unknown messages an exit may have dropped.
  int64_t DroppableUnknown(uint32_t slot);
  // Drops n of the slot's unknown messages (their receivers exited) with their references.
  void DropUnknown(uint32_t slot, int64_t n);

  // Evidence.
  HistoryEntry MakeEntry(const trace::Event& e, int64_t vm_refc);
  void Record(Incarnation& inc, const trace::Event& e);
  // A diagnostic anchored at the event being applied.
  void Report(Code code, const trace::Event& e, const Incarnation& inc, std::string message);
  // A leak, anchored at the incarnation's start.
  void ReportLeak(const Incarnation& inc, std::string message);
  void ReportOnFreed(Code code, const trace::Event& e, const IdState& state, std::string message);
  // What every finding has: its code, binary and anchor.
  Finding NewFinding(Code code, const trace::BinId& bin, uint32_t incarnation,
                     const HistoryEntry& anchor, std::string message) const;
  // The incarnation's history as the finding's evidence.
  void AddHistory(const History& history, Finding* f) const;
  // The number of `bin`'s incarnation that `inc` is (or was, before a realloc moved it).
  uint32_t IncarnationOf(const trace::BinId& bin, const Incarnation& inc) const;
  Step ToStep(const HistoryEntry& entry) const;
  std::string DescribeHolders(const Incarnation& inc) const;
  void Notify(uint32_t slot, bool ended);
  void AddHolders(const Incarnation& inc, LifetimeStep* step) const;
  void NotifyTouched();

  // The strings of the event being applied, interned once per event.
  struct EventStrings {
    StrRef actor = 0;
    StrRef to = 0;  // realloc: the id it moved to
    StrRef src = 0;
    StrRef func = 0;
    StrRef note = 0;
    uint32_t port = 0;  // the event's port instance (driver events; else kNoPort)
  };
  EventStrings cur_;
  uint64_t cur_event_ = 0;  // the index of the event being applied
  PrefetchHint cur_hint_;   // its hint, if any (Apply with a hint)
  uint32_t cur_among_ = 0;  // candidates of the uncertain release it is (observers only)
  static constexpr uint32_t kNoPort = UINT32_MAX;

  // Port instances in order of first appearance. A port name that appears after its
  // instance stopped starts a new instance (ErlDrvPort values are reused).
  struct PortState {
    StrRef name = 0;
    bool stopped = false;
  };
  std::vector<PortState> ports_;
  std::unordered_map<StrRef, uint32_t> port_by_name_;  // name -> its latest instance
  uint32_t last_port_ = kNoPort;                       // cache: the last instance named

  FindingSink* sink_;
  LifetimeObserver* observer_ = nullptr;
  std::vector<Handle> touched_;   // slots recorded during this event (observer only)
  uint64_t serial_ = 0;           // incarnations started
  uint64_t live_order_ = 0;       // incarnations started or moved to another id
  std::vector<uint32_t> ending_;  // scratch for EndInLiveOrder
  ModelOptions options_;
  StringPool strings_;
  StrRef driver_ref_;
  StrRef unknown_receiver_;  // trace::kUnknownReceiver

  std::vector<Incarnation> slots_;
  std::vector<uint32_t> free_slots_;
  // Per-id state, indexed by the id's number in id_index_, in fixed-size chunks: State()
  // may add an id while a caller holds a reference to another id's state, so states never
  // move. Chunks of a power of two make indexing a shift and a mask.
  static constexpr uint32_t kIdStateChunkBits = 8;
  IdState& StateAt(uint32_t number);
  const IdState& StateAt(uint32_t number) const;
  IdIndex id_index_;
  std::vector<std::unique_ptr<IdState[]>> id_state_chunks_;
  // Each id's FreedEvidence, numbered and chunked like its IdState.
  FreedEvidence& EvidenceAt(uint32_t number);
  const FreedEvidence& EvidenceAt(uint32_t number) const;
  std::vector<std::unique_ptr<FreedEvidence[]>> evidence_chunks_;
  // Quarantined ids by number, linked through IdState::older/newer: an id that is reused
  // leaves the list at once, so the capacity counts distinct freed ids only.
  static constexpr uint32_t kNoId = UINT32_MAX;
  uint32_t quarantine_oldest_ = kNoId;
  uint32_t quarantine_newest_ = kNoId;
  size_t quarantine_count_ = 0;
  size_t quarantine_id_bytes_ = 0;  // string id bytes of the quarantined ids
  // For `exit`: which incarnations each process may hold (validated lazily).
  struct ProcessHandles {
    static constexpr size_t kFirstPrune = 64;
    std::vector<Handle> handles;
    size_t prune_at = kFirstPrune;  // see Hold()
  };
  // A process's handles: process_handles_[process_slot_[pid] - 1] (0: none yet). Looked up at
  // every new holder, so by the pid's number rather than by a hash; 4 bytes per string.
  std::vector<uint32_t> process_slot_;
  std::vector<ProcessHandles> process_handles_;
  ProcessHandles& HandlesOf(StrRef pid);
  // The processes that exited, one bit per interned string: outputs and sends test it on
  // every event, and a bit is cheaper to test than a hash set (strings are numbered densely).
  std::vector<bool> exited_;
  bool Exited(StrRef pid) const { return pid < exited_.size() && exited_[pid]; }

  std::unique_ptr<NifModel> nif_;
  uint64_t nif_events_ = 0;
  uint64_t events_ = 0;
  uint64_t driver_events_ = 0;
  uint64_t process_events_ = 0;
  uint64_t binaries_ = 0;
  uint64_t leaked_bytes_ = 0;
  std::optional<std::string> limit_reached_;
  bool ended_ = false;
};

}  // namespace refctrace::model
