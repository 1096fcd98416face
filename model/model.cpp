#include "model/model.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <utility>

#include "model/wording.h"
#include "trace/unknown_receiver.h"

namespace refctrace::model {

using trace::BinId;
using trace::Event;
using trace::Op;

// One binary incarnation: from alloc/borrow/adoption until refc reaches 0.
// Ordered by use: an ordinary event reads and writes the members up to the holders' processes
// (the flags, the counts, the history, the holders), which is all that PrefetchBinary loads;
// the ones after them are for queue events, starts, moves, many holders and findings. Slots
// are touched in no particular order, so each line is a likely cache miss. Aligned to cache
// lines, so that those members are two lines (bench/README.md, rounds 6 and 8).
struct alignas(64) Model::Incarnation {
  bool live = false;
  bool borrowed = false;
  bool adopted = false;
  // The process side of a binary a NIF made (model 1.4): observers see the NIF's object of
  // that id, not this one (one id, one lifetime drawn).
  bool nif_made = false;
  uint32_t generation = 0;  // bumped when the slot is reused
  // The port instance whose stop checks it: the one of the event that started it, or of the
  // driver event that touched it after that port stopped (kNoPort: none yet).
  uint32_t owner_port = kNoPort;
  uint32_t number = 0;  // 1-based incarnation of `id`
  int64_t refc = 0;     // accounted: always holders.Sum()
  int64_t vm_refc = 0;  // the emulator's counter
  History history;
  Holders holders;
  // The emulator's references that go when the callback returns (a gathered copy's, a
  // scheduled command's task references): released at unborrow.
  int64_t unborrow_release = 0;
  // The groups of uncertain releases (gc with `among`) it is a candidate in; nearly always
  // none, else one.
  std::vector<uint32_t> uncertain;
  uint64_t serial = 0;      // start order, for observers
  uint64_t live_since = 0;  // when `id` became live (start or realloc move), in live_order_
  BinId id;                 // current id (realloc moves it)
  std::optional<uint64_t> size;
  std::vector<StrRef> start_stack;
};

// Everything the model remembers about one id: the live incarnation, or that the id sits in
// quarantine. Every binary event reads one of these, so it is kept small (its evidence lives
// apart, in FreedEvidence): more of them share a cache line.
struct Model::IdState {
  uint32_t number = 0;  // the id's number in id_index_
  uint32_t incarnations = 0;
  int64_t live_slot = -1;
  bool quarantined = false;
  uint32_t older = kNoId;  // neighbours in the quarantine list, while quarantined
  uint32_t newer = kNoId;
};

// What a quarantined id's last incarnation leaves as evidence. Written when it ends, read only
// by an event on the freed id. Aligned, so that what every end writes is two cache lines and
// driver_end, which few ends keep, is on a third.
struct alignas(64) Model::FreedEvidence {
  HistoryEntry first;  // freed incarnation's start ...
  HistoryEntry last;   // ... and the event that freed it
  uint64_t history_total = 0;
  // The driver's last release of it (free, dec, unborrow) when that is neither `first` nor
  // `last`: what explains a later use by the driver. driver_end_position is its 1-based place
  // in the history; 0: none kept (driver_end is then stale).
  uint64_t driver_end_position = 0;
  HistoryEntry driver_end;
};

int64_t Holders::Sum() const {
  int64_t sum = driver + vm;
  for (const QueueHold& q : queues)
    sum += q.count;
  for (const ProcessHold& p : procs)
    sum += p.msg + p.proc;
  return sum;
}

QueueHold* Holders::FindQueue(uint32_t port) {
  for (QueueHold& q : queues) {
    if (q.port == port) return &q;
  }
  return nullptr;
}

int64_t Holders::QueueCount(uint32_t port) const {
  for (const QueueHold& q : queues) {
    if (q.port == port) return q.count;
  }
  return 0;
}

int64_t& Holders::Queue(uint32_t port) {
  if (QueueHold* q = FindQueue(port)) return q->count;
  queues.push_back({port, 0});
  return queues.back().count;
}

ProcessHold* Holders::Find(StrRef pid) {
  if (index) {
    auto it = index->find(pid);
    return it == index->end() ? nullptr : &procs[it->second];
  }
  for (ProcessHold& p : procs) {
    if (p.pid == pid) return &p;
  }
  return nullptr;
}

ProcessHold& Holders::Add(StrRef pid, int64_t msg, int64_t proc) {
  procs.push_back({pid, msg, proc});
  if (index) {
    index->emplace(pid, static_cast<uint32_t>(procs.size() - 1));
  } else if (procs.size() > kIndexFrom) {
    index = std::make_unique<std::unordered_map<StrRef, uint32_t>>();
    for (uint32_t i = 0; i < procs.size(); ++i)
      index->emplace(procs[i].pid, i);
  }
  return procs.back();
}

void Holders::Emptied(ProcessHold* p) {
  if (!index) {
    procs.erase(procs.begin() + (p - procs.data()));
    return;
  }
  if (++zeros * 2 <= procs.size()) {
    // Move the hint past a few empty entries, so that processes letting go in about the
    // order they got it are never scanned again by ListProcesses. A few, not all: a process
    // refilled before the hint moves it back, and passing every empty entry again on its
    // next release would make a release cost as much as the processes that let go.
    for (int k = 0; k < 4 && first_held < procs.size() && procs[first_held].msg == 0 &&
                    procs[first_held].proc == 0;
         ++k)
      ++first_held;
    return;
  }
  std::erase_if(procs, [](const ProcessHold& q) { return q.msg == 0 && q.proc == 0; });
  zeros = 0;
  first_held = 0;
  index->clear();
  for (uint32_t i = 0; i < procs.size(); ++i)
    index->emplace(procs[i].pid, i);
}

void Holders::Refilled(ProcessHold* p) {
  --zeros;
  first_held = std::min(first_held, static_cast<uint32_t>(p - procs.data()));
}

void Holders::Clear() {
  queues.clear();
  procs.clear();
  index.reset();
  zeros = 0;
  first_held = 0;
}

const ProcessHold* Holders::Find(StrRef pid) const {
  return const_cast<Holders*>(this)->Find(pid);
}

bool Holders::HeldByProcess() const {
  for (const ProcessHold& p : procs) {
    if (p.msg > 0 || p.proc > 0) return true;
  }
  return false;
}

namespace {

bool IsRelease(Op op) {
  return op == Op::kFree || op == Op::kDec || op == Op::kGc || op == Op::kDeq || op == Op::kReply;
}

// Counts from the trace (`refc`, gc's `count`) are within 0..trace::kMaxCount (2^62), which
// the reader checks, and at most one reference is added per event, so holder sums and the
// emulator's counter stay far from int64's limits and are exact. Events built in code are
// held to the same range here, so such an event cannot overflow either.
int64_t TraceCount(int64_t n) {
  return std::clamp<int64_t>(n, 0, static_cast<int64_t>(trace::kMaxCount));
}
int64_t TraceCount(uint64_t n) {
  return static_cast<int64_t>(std::min(n, trace::kMaxCount));
}
// The emulator's counter after failed releases never goes below this: a count the
// trace records is never negative, so any value below 0 compares the same.
constexpr int64_t kVmRefcFloor = -static_cast<int64_t>(trace::kMaxCount);

}  // namespace

Model::Model(FindingSink* sink, ModelOptions options)
    : sink_(sink),
      options_(options),
      driver_ref_(strings_.Intern("driver")),
      unknown_receiver_(strings_.Intern(trace::kUnknownReceiver)) {
  options_.quarantine_capacity = std::max<size_t>(options_.quarantine_capacity, 1);
}

Model::~Model() = default;

// ---------------------------------------------------------------------------
// Event dispatch.

void Model::Apply(const Event& e) {
  cur_event_ = e.pos.index;
  cur_among_ = 0;
  ApplyEvent(e);
  if (!dirty_groups_.empty()) ResolveGroups();
  if (observer_) NotifyTouched();
}

void Model::Apply(const Event& e, const PrefetchHint& hint) {
  cur_hint_ = hint;
  Apply(e);
  cur_hint_ = {};
}

void Model::PrefetchIdEntry(const Event& e, PrefetchHint* hint) const {
  if (!e.bin.present()) return;
  hint->hash = IdIndex::HashOf(e.bin);
  id_index_.Prefetch(hint->hash);
}

void Model::PrefetchIdState(const Event& e, PrefetchHint* hint) const {
  if (!e.bin.present()) return;
  hint->number = id_index_.FindHashed(e.bin, hint->hash);
  hint->erasures = id_index_.erasures();
  if (hint->number != IdIndex::kAbsent) __builtin_prefetch(&StateAt(hint->number));
}

namespace {

constexpr size_t kCacheLine = 64;
// What an ordinary event reads and writes of its Incarnation: its first two lines.
constexpr size_t kOrdinaryBytes = 2 * kCacheLine;

// Prefetches the cache lines of `size` bytes at `p` (for writing when `write`).
void PrefetchLines(const void* p, size_t size, bool write) {
  const char* at = static_cast<const char*>(p);
  for (size_t offset = 0; offset < size; offset += kCacheLine) {
    if (write) {
      __builtin_prefetch(at + offset, 1);
    } else {
      __builtin_prefetch(at + offset);
    }
  }
}

}  // namespace

void Model::PrefetchBinary(const Event& e, PrefetchHint* hint) const {
  int64_t slot = -1;
  // Numbers are never taken back from the index's range, so a stale one is still a state.
  if (hint->number != IdIndex::kAbsent && hint->number < id_index_.size())
    slot = StateAt(hint->number).live_slot;
  if (slot < 0 && e.op == Op::kAlloc && !free_slots_.empty()) slot = free_slots_.back();
  if (slot < 0 || static_cast<size_t>(slot) >= slots_.size()) return;
  hint->slot = slot;
  // The members an ordinary event uses, up to the holders' processes (see Incarnation).
  constexpr size_t kUsed =
      offsetof(Incarnation, holders) + offsetof(Holders, procs) + sizeof(Holders::procs);
  static_assert(kUsed <= kOrdinaryBytes,
                "the members an ordinary event uses no longer fit 2 lines");
  // The queue's events, borrows and unborrows use the next line too (the queues, the rest of
  // the holders, unborrow_release), and so does an end (AbandonIncarnation): a free or a gc,
  // the events that end most binaries. Chosen by a table, not a branch: ops come in no
  // order a predictor could learn, and a mispredict costs more than a prefetch.
  constexpr size_t kUsedByQueueOrEnd = offsetof(Incarnation, unborrow_release) + sizeof(int64_t);
  static_assert(kUsedByQueueOrEnd <= kOrdinaryBytes + kCacheLine);
  static constexpr auto kThirdLine = [] {
    std::array<bool, trace::kOpCount> third{};
    for (Op op : {Op::kEnq, Op::kDeq, Op::kBorrow, Op::kUnborrow, Op::kFree, Op::kGc})
      third[static_cast<size_t>(op)] = true;
    return third;
  }();
  const char* at = reinterpret_cast<const char*>(&slots_[static_cast<size_t>(slot)]);
  PrefetchLines(at, kUsed, false);
  // Otherwise the second line again, which costs nothing.
  __builtin_prefetch(
      at + (kThirdLine[static_cast<size_t>(e.op)] ? kOrdinaryBytes : kOrdinaryBytes - kCacheLine));
}

void Model::PrefetchBinaryData(const Event& e, const PrefetchHint& hint) const {
  if (hint.slot < 0 || static_cast<size_t>(hint.slot) >= slots_.size()) return;
  const Incarnation& inc = slots_[static_cast<size_t>(hint.slot)];
  if (e.op == Op::kAlloc) {
    if (inc.live) return;
    // A free slot, all of which StartIncarnation writes (PrefetchBinary loaded two lines).
    PrefetchLines(reinterpret_cast<const char*>(&inc) + kOrdinaryBytes,
                  sizeof(Incarnation) - kOrdinaryBytes, true);
    // A reused slot's history keeps its capacity: its first entry is written next.
    if (inc.history.FirstSlot()) __builtin_prefetch(inc.history.FirstSlot(), 1);
    return;
  }
  if (const void* next = inc.history.NextSlot()) __builtin_prefetch(next, 1);
  if (!inc.holders.procs.empty()) __builtin_prefetch(inc.holders.procs.data());
  if ((e.op == Op::kFree || e.op == Op::kGc) && hint.number < id_index_.size() &&
      inc.history.FirstSlot()) {
    __builtin_prefetch(inc.history.FirstSlot());
    // What every end writes: the members before driver_end.
    PrefetchLines(&EvidenceAt(hint.number), offsetof(FreedEvidence, driver_end), true);
    __builtin_prefetch(&id_index_.id(hint.number));  // its length counts against the quarantine
    if (quarantine_newest_ != kNoId) __builtin_prefetch(&StateAt(quarantine_newest_), 1);
  }
}

NifModel& Model::Nif() {
  if (!nif_) {
    NifOptions options;
    options.quarantine_capacity = options_.quarantine_capacity;
    options.history_head = options_.history_head;
    options.history_tail = options_.history_tail;
    nif_ = std::make_unique<NifModel>(sink_, options, &serial_);
    nif_->SetObserver(observer_);
    nif_->SetTermReferences(this);
  }
  return *nif_;
}

bool Model::TakenByNif(const Event& e) {
  const uint32_t number = id_index_.Find(e.bin);
  if (number != IdIndex::kAbsent && StateAt(number).live_slot >= 0) return false;
  return nif_->ApplyProcessEvent(e);
}

// ---------------------------------------------------------------------------
// Term references of NIF binaries (model 1.4): a made binary continues here, held by the
// process whose call made it or by the emulator for an independent environment's term.

void Model::SetNifStrings(const Event& e) {
  cur_.actor = strings_.Intern(e.EffectiveActor());
  cur_.to = strings_.Intern(e.to.empty() && e.env.present() ? e.env.ToDisplay() : e.to);
  cur_.src = strings_.Intern(e.src);
  cur_.func = strings_.Intern(e.func);
  cur_.note = strings_.Intern(e.note);
  cur_.port = kNoPort;
}

void Model::TermMade(const Event& e, std::string_view process) {
  SetNifStrings(e);
  IdState& state = State(e.bin);
  if (state.live_slot >= 0) {
    Record(slots_[static_cast<uint32_t>(state.live_slot)], e);
  } else {
    if (e.op != Op::kBinMake) return;  // a copy of a binary the process side does not hold
    StartIncarnation(e, state, e.bin, /*adopted=*/false).nif_made = true;
    --binaries_;  // the NIF model counted it at its allocation
  }
  const auto slot = static_cast<uint32_t>(state.live_slot);
  Incarnation& inc = slots_[slot];
  if (process.empty()) {
    AddRef(inc, &inc.holders.vm);
  } else {
    AddRef(inc, &Hold(slot, strings_.Intern(process)).proc);
  }
  inc.history.SetBackVmRefc(inc.vm_refc);
}

void Model::TermLeftEnv(const Event& e, const BinId& bin, bool sent) {
  const uint32_t number = id_index_.Find(bin);
  if (number == IdIndex::kAbsent || StateAt(number).live_slot < 0) return;
  IdState& state = StateAt(number);
  const auto slot = static_cast<uint32_t>(state.live_slot);
  Incarnation& inc = slots_[slot];
  if (inc.holders.vm < 1) return;
  SetNifStrings(e);
  Record(inc, e);
  Release(inc, &inc.holders.vm, 1);
  if (sent && !Exited(cur_.to)) AddRef(inc, &Hold(slot, cur_.to).msg);
  inc.history.SetBackVmRefc(inc.vm_refc);
  if (inc.refc == 0 && !inc.borrowed) EndIncarnation(slot, &state);
}

bool Model::TermsStillHold(const Event& e, const BinId& bin) {
  const uint32_t number = id_index_.Find(bin);
  if (number == IdIndex::kAbsent || StateAt(number).live_slot < 0) return false;
  IdState& state = StateAt(number);
  const auto slot = static_cast<uint32_t>(state.live_slot);
  Incarnation& old = slots_[slot];
  SetNifStrings(e);
  // A process may have released it (a gc with `among`): the address coming back decides that.
  if (old.uncertain.size() == 1 && UncertainRelease(old) >= old.vm_refc) {
    ResolveByCount(slot, 0, "its address came back as a new NIF binary");
    EndIncarnation(slot, &state);
    return true;
  }
  // Only processes and terms hold a made binary, and only their releases free it: the
  // emulator freed it, so they released it, in collections whose gc lines the tracer writes
  // after a look that comes later than this allocation (decision 106). Not a finding.
  Record(old, e);
  old.holders.Clear();
  old.holders.driver = old.holders.vm = 0;
  old.refc = old.vm_refc = 0;
  old.history.SetBackVmRefc(0);
  EndIncarnation(slot, &state);
  return true;
}

void Model::ApplyEvent(const Event& e) {
  ++events_;
  if (trace::IsNifOp(e.op)) [[unlikely]] {
    ++nif_events_;
    Nif().Apply(e);
    return;
  }
  if (nif_ && (e.op == Op::kReceive || e.op == Op::kSend || e.op == Op::kGc) && TakenByNif(e)) {
    ++process_events_;
    return;
  }
  driver_events_ += trace::IsDriverOp(e.op);
  process_events_ += trace::IsProcessOp(e.op);
  cur_.actor = e.actor.empty() && trace::IsDriverOp(e.op) ? driver_ref_
                                                          : strings_.Intern(e.EffectiveActor());
  cur_.to = e.op == Op::kRealloc && e.new_bin.present() ? strings_.Intern(e.new_bin.ToDisplay())
                                                        : strings_.Intern(e.to);
  cur_.src = strings_.Intern(e.src);
  cur_.func = strings_.Intern(e.func);
  cur_.note = strings_.Intern(e.note);
  // `from` is interned by the borrow that uses it; the default port is found without interning.
  const bool on_last_port = e.port.empty() && last_port_ != kNoPort &&
                            ports_[last_port_].name == 0 && !ports_[last_port_].stopped;
  cur_.port = !trace::IsDriverOp(e.op) ? kNoPort : on_last_port ? last_port_ : PortInstance(e.port);
  switch (e.op) {
    case Op::kExit:
      ApplyExit(e);
      return;
    case Op::kStop:
      StopPort(cur_.port, &e);
      return;
    case Op::kEnd:
      StopAllPorts(&e);
      if (nif_) nif_->Finish();
      ended_ = true;
      return;
    default:
      break;
  }

  if (e.op == Op::kGc && !e.among.empty()) {
    ApplyUncertainGc(e);
    return;
  }

  IdState& state = EventState(e.bin);
  // A new binary at the address of one that a process may have released: the emulator freed
  // it, so the uncertain release was this one's (and took all its references).
  if (state.live_slot >= 0 && StartsIncarnation(e) && e.op != Op::kBorrow) {
    const auto slot = static_cast<uint32_t>(state.live_slot);
    Incarnation& old = slots_[slot];
    if (old.uncertain.size() == 1 && UncertainRelease(old) >= old.vm_refc) {
      ResolveByCount(slot, 0, "its address came back as a new binary");
      EndIncarnation(slot, &state);
    } else if (!unknown_sent_after_exits_.empty() && old.vm_refc == old.refc && !old.borrowed &&
               old.refc <= DroppableUnknown(slot)) {
      // Only unknown receivers' messages held it, and one may have exited since: the
      // emulator freed it, so they were dropped (decision 163).
      DropUnknown(slot, old.refc);
      EndIncarnation(slot, &state);
    }
  }
  if (state.live_slot >= 0) {
    auto slot = static_cast<uint32_t>(state.live_slot);
    Incarnation& touched = slots_[slot];
    // A driver event on a binary whose port stopped: that event's port checks it from now on.
    if (cur_.port != kNoPort &&
        (touched.owner_port == kNoPort || ports_[touched.owner_port].stopped))
      touched.owner_port = cur_.port;
    Record(touched, e);
    bool raised = ApplyOnLive(e, slot);
    // alloc-live and realloc may have moved the event to another slot.
    IdState& now = e.op == Op::kRealloc && e.new_bin.present() ? State(e.new_bin) : state;
    if (now.live_slot < 0) return;
    slot = static_cast<uint32_t>(now.live_slot);
    Incarnation& inc = slots_[slot];
    // Its groups may be decided now (a gc by their process lowered what it can have taken).
    // With no group open, no binary is a candidate in one (each number in `uncertain` names
    // an open group), so its `uncertain`, on a line most events leave alone, is not read.
    const bool in_groups = !groups_.empty() && !inc.uncertain.empty();
    if (in_groups)
      dirty_groups_.insert(dirty_groups_.end(), inc.uncertain.begin(), inc.uncertain.end());
    // A recorded count on a binary a process may have released says whether it did.
    bool comparable = true;
    if (e.refc && !raised && in_groups) {
      comparable = ResolveByCount(slot, *e.refc, "its recorded count");
      if (comparable && e.op == Op::kDec && inc.refc == 0 && !inc.adopted) {
        Report(Code::kDecToZero, e, inc,
               "driver_binary_dec_refc brought the count to 0; the emulator never frees the "
               "binary (use driver_free_binary to drop the last reference)");
        raised = true;
      }
    }
    inc.history.SetBackVmRefc(inc.vm_refc);
    const bool emulator_freed = !raised && comparable && CheckReportedRefc(e, slot);
    if (emulator_freed || (inc.refc == 0 && !inc.borrowed)) EndIncarnation(slot, &now);
    return;
  }
  if (state.quarantined && !StartsIncarnation(e)) {
    ApplyOnFreed(e, state);
    return;
  }
  if (StartsIncarnation(e)) {
    Incarnation& inc = StartIncarnation(e, state, e.bin, /*adopted=*/false);
    inc.history.SetBackVmRefc(inc.vm_refc);
    // A borrow's `refc` sets the count instead of checking it.
    const auto slot = static_cast<uint32_t>(state.live_slot);
    if (e.op != Op::kBorrow && CheckReportedRefc(e, slot)) EndIncarnation(slot, &state);
    return;
  }
  ApplyOnUnknown(e, state);
}

StrRef Model::InternRare(std::string_view s) {
  return strings_.Intern(s);
}

bool Model::StartsIncarnation(const Event& e) {
  return e.op == Op::kAlloc || e.op == Op::kBorrow || (e.op == Op::kEnq && e.copy);
}

uint32_t Model::PortInstance(std::string_view port) {
  const StrRef name = InternRare(port);
  if (last_port_ != kNoPort && ports_[last_port_].name == name && !ports_[last_port_].stopped)
    return last_port_;
  auto [it, added] = port_by_name_.try_emplace(name, static_cast<uint32_t>(ports_.size()));
  if (!added && ports_[it->second].stopped) it->second = static_cast<uint32_t>(ports_.size());
  if (it->second == ports_.size()) ports_.push_back({name, false});
  last_port_ = it->second;
  return last_port_;
}

void Model::Finish() {
  if (!ended_) {
    StopAllPorts(nullptr);
    if (nif_) nif_->Finish();
  }
  ended_ = true;
}

// ---------------------------------------------------------------------------
// Lifecycle.

Model::IdState& Model::StateAt(uint32_t number) {
  return id_state_chunks_[number >> kIdStateChunkBits][number & ((1u << kIdStateChunkBits) - 1)];
}

const Model::IdState& Model::StateAt(uint32_t number) const {
  return const_cast<Model*>(this)->StateAt(number);
}

Model::FreedEvidence& Model::EvidenceAt(uint32_t number) {
  return evidence_chunks_[number >> kIdStateChunkBits][number & ((1u << kIdStateChunkBits) - 1)];
}

const Model::FreedEvidence& Model::EvidenceAt(uint32_t number) const {
  return const_cast<Model*>(this)->EvidenceAt(number);
}

Model::IdState& Model::State(const BinId& id) {
  bool added = false;
  const uint32_t number = id_index_.FindOrAdd(id, &added);
  if ((number >> kIdStateChunkBits) == id_state_chunks_.size()) {
    id_state_chunks_.push_back(std::make_unique<IdState[]>(size_t{1} << kIdStateChunkBits));
    evidence_chunks_.push_back(std::make_unique<FreedEvidence[]>(size_t{1} << kIdStateChunkBits));
  }
  IdState& state = StateAt(number);
  if (added) {
    state = IdState{};  // the number may have been freed by EvictQuarantine
    state.number = number;
  }
  return state;
}

Model::IdState& Model::EventState(const BinId& id) {
  const uint32_t number = cur_hint_.number;
  if (number != IdIndex::kAbsent) {
    // No id forgotten since the hint was made: its number still names the event's id.
    if (cur_hint_.erasures == id_index_.erasures()) return StateAt(number);
    // Else the number may have been given to another id (an erased number's id is cleared, so
    // it names none): the id says.
    if (number < id_index_.size() && id_index_.id(number) == id) return StateAt(number);
  }
  return State(id);
}

Model::Incarnation& Model::StartIncarnation(const Event& e, IdState& state, const BinId& id,
                                            bool adopted) {
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Incarnation& inc = slots_[slot];
  inc.live = true;
  inc.serial = ++serial_;
  inc.live_since = ++live_order_;
  inc.id = id;
  inc.number = ++state.incarnations;
  inc.adopted = adopted;
  inc.owner_port = cur_.port;
  inc.size = e.size;
  inc.uncertain.clear();     // (a new slot's: empty)
  inc.unborrow_release = 0;  // a borrow's is set below
  inc.history.Reset(options_.history_head, options_.history_tail);
  inc.start_stack.clear();
  for (const std::string& frame : e.stack)
    inc.start_stack.push_back(strings_.Intern(frame));
  if (e.op == Op::kAlloc) {
    AddRef(inc, &inc.holders.driver);
  } else if (e.op == Op::kEnq && e.copy) {  // enq with copy: the queue's own binary
    AddRef(inc, &inc.holders.Queue(cur_.port));
  } else if (e.op == Op::kBorrow) {
    // The emulator's count when the callback got it sets the count (by default the sender's
    // reference and the task references). The sender's reference is its process's own.
    inc.borrowed = true;
    const int64_t task = TraceCount(e.task);
    int64_t count = e.refc ? TraceCount(*e.refc) : 1 + task;
    if (!e.from.empty() && !e.gathered && count >= 1) {
      AddRef(inc, &Hold(slot, InternRare(e.from)).proc);
      --count;
    }
    AddRef(inc, &inc.holders.vm, count);
    inc.unborrow_release = (e.gathered ? 1 : 0) + task;
  }
  LeaveQuarantine(state);
  state.live_slot = slot;
  ++binaries_;
  if (slots_.size() - free_slots_.size() > options_.max_live && !limit_reached_) {
    limit_reached_ = "too many binaries live at once: the limit is " +
                     std::to_string(options_.max_live) + " (raise it with --max-live)";
  }
  Record(inc, e);
  return inc;
}

void Model::EndIncarnation(uint32_t slot, IdState* known_state) {
  Incarnation& inc = slots_[slot];
  IdState& state = known_state ? *known_state : State(inc.id);
  state.live_slot = -1;
  Quarantine(state, inc);
  AbandonIncarnation(slot);
}

void Model::EndInLiveOrder() {
  std::sort(ending_.begin(), ending_.end(),
            [&](uint32_t a, uint32_t b) { return slots_[a].live_since < slots_[b].live_since; });
  for (uint32_t slot : ending_)
    EndIncarnation(slot);
  ending_.clear();
}

void Model::AbandonIncarnation(uint32_t slot) {
  if (observer_) Notify(slot, /*ended=*/true);
  Incarnation& inc = slots_[slot];
  if (!groups_.empty() && !inc.uncertain.empty()) LeaveGroups(inc);
  if (!unknown_sent_after_exits_.empty()) unknown_sent_after_exits_.erase(slot);
  // Reset field by field rather than assigning a fresh Incarnation: the slot
  // is reused for the next binary, and keeping its vectors' capacity saves
  // several allocations per binary. What a slot keeps is bounded by the
  // history limits, and slots number at most the peak of live binaries. The members past
  // the holders (unborrow_release, the size, the stack; `uncertain` is empty by now) are set
  // by StartIncarnation, which writes their lines anyway: an end leaves them alone.
  inc.live = false;
  ++inc.generation;
  inc.number = 0;
  inc.holders.driver = inc.holders.vm = 0;
  inc.holders.Clear();
  inc.refc = inc.vm_refc = 0;
  inc.borrowed = inc.adopted = inc.nif_made = false;
  inc.owner_port = kNoPort;
  // The history is kept until StartIncarnation resets it: its entries are not read while the
  // slot is free, and an alloc's prefetch (PrefetchBinaryData) finds where the first goes.
  free_slots_.push_back(slot);
}

void Model::Quarantine(IdState& state, const Incarnation& inc) {
  static_assert(offsetof(FreedEvidence, driver_end) == 2 * kCacheLine, "see FreedEvidence");
  state.live_slot = -1;
  state.quarantined = true;
  FreedEvidence& evidence = EvidenceAt(state.number);
  evidence.first = inc.history.front();
  evidence.last = inc.history.back();
  evidence.history_total = inc.history.total();
  HistoryEntry driver_end;
  evidence.driver_end_position = inc.history.FindLastOp(
      [](Op op) { return op == Op::kFree || op == Op::kDec || op == Op::kUnborrow; }, &driver_end);
  if (evidence.driver_end_position == 1 || evidence.driver_end_position == evidence.history_total) {
    evidence.driver_end_position = 0;
  } else if (evidence.driver_end_position != 0) {
    evidence.driver_end = driver_end;
  }
  state.older = quarantine_newest_;
  state.newer = kNoId;
  if (quarantine_newest_ != kNoId) {
    StateAt(quarantine_newest_).newer = state.number;
  } else {
    quarantine_oldest_ = state.number;
  }
  quarantine_newest_ = state.number;
  ++quarantine_count_;
  quarantine_id_bytes_ += id_index_.id(state.number).str.size();
  EvictQuarantine();
}

void Model::LeaveQuarantine(IdState& state) {
  if (!state.quarantined) return;
  state.quarantined = false;
  (state.older != kNoId ? StateAt(state.older).newer : quarantine_oldest_) = state.newer;
  (state.newer != kNoId ? StateAt(state.newer).older : quarantine_newest_) = state.older;
  state.older = state.newer = kNoId;
  --quarantine_count_;
  quarantine_id_bytes_ -= id_index_.id(state.number).str.size();
}

void Model::EvictQuarantine() {
  while (quarantine_count_ > options_.quarantine_capacity ||
         quarantine_id_bytes_ > options_.quarantine_id_bytes) {
    const uint32_t oldest = quarantine_oldest_;
    LeaveQuarantine(StateAt(oldest));
    // Forgotten: the id counts as never seen, and its number may go to another id.
    id_index_.Erase(oldest);
  }
}

// ---------------------------------------------------------------------------
// Transitions.

bool Model::ReportIfNoAccess(const Event& e, const Incarnation& inc) {
  // The port's own queue keeps the binary alive, and the driver reaches it through
  // driver_peekqv: reading, outputting or taking a reference to it is legal.
  if (inc.holders.driver >= 1 || inc.borrowed || inc.holders.QueueCount(cur_.port) >= 1)
    return false;
  Report(Code::kUseAfterFree, e, inc,
         std::string("driver ") + std::string(Verb(e.op)) + " a binary it holds no reference to (" +
             DescribeHolders(inc) + ")");
  return true;
}

bool Model::ApplyOnLive(const Event& e, uint32_t slot) {
  Incarnation& inc = slots_[slot];
  Holders& h = inc.holders;
  auto failed_release = [&](int64_t n, std::string message) {
    ReleaseUnheld(inc, n);
    Report(Code::kDoubleFree, e, inc, std::move(message));
    return true;
  };

  // An op that takes a reference (inc, output, enq) without access is reported, and the
  // reference is still taken: the emulator took it, so the release that balances it is
  // legal. Every other op that breaks its requirement changes no holder.
  if (e.op == Op::kAlloc || (e.op == Op::kEnq && e.copy)) {
    IdState& state = State(e.bin);
    Report(Code::kAllocLive, e, inc,
           std::string(e.op == Op::kAlloc ? "alloc returned" : "the queue copied into") +
               " an id that is still live (incarnation " + std::to_string(inc.number) + ", " +
               DescribeHolders(inc) + "); its references are lost");
    AbandonIncarnation(slot);
    StartIncarnation(e, state, e.bin, /*adopted=*/false);
    return true;
  }
  switch (e.op) {
    case Op::kAlloc:
      break;
    case Op::kRealloc:
      return ApplyRealloc(e, slot);
    case Op::kFree:
      if (h.driver < 1) {
        return failed_release(
            1, "driver released a reference it does not hold (" + DescribeHolders(inc) + ")");
      }
      Release(inc, &h.driver, 1);
      return false;
    case Op::kInc: {
      const bool raised = ReportIfNoAccess(e, inc);
      AddRef(inc, &h.driver);
      return raised;
    }
    case Op::kDec:
      if (h.driver < 1) {
        return failed_release(1,
                              "driver_binary_dec_refc on a reference the driver does not hold (" +
                                  DescribeHolders(inc) + ")");
      }
      Release(inc, &h.driver, 1);
      if (inc.refc == 0 && !inc.adopted) {  // (an uncertain release: decided by its refc)
        Report(Code::kDecToZero, e, inc,
               "driver_binary_dec_refc brought the count to 0; the emulator never frees the "
               "binary (use driver_free_binary to drop the last reference)");
        return true;
      }
      return false;
    case Op::kObserve:
      return false;
    case Op::kWrite:
      if (ReportIfNoAccess(e, inc)) return true;
      // A reference a process may have released (gc with `among`) is not counted against it.
      if (inc.borrowed || inc.refc - UncertainRelease(inc) > h.driver) {
        Report(
            Code::kMutateAfterOutput, e, inc,
            std::string("driver wrote to a binary that ") +
                (inc.borrowed ? "it only borrowed from the emulator" : "others still reference") +
                " (" + DescribeHolders(inc) + ")");
        return true;
      }
      return false;
    case Op::kRead:
      return ReportIfNoAccess(e, inc);
    case Op::kOutput: {
      const bool raised = ReportIfNoAccess(e, inc);
      AddMessageRef(e, slot);
      return raised;
    }
    case Op::kEnq: {
      const bool raised = ReportIfNoAccess(e, inc);
      AddRef(inc, &h.Queue(cur_.port));
      return raised;
    }
    case Op::kDeq: {
      QueueHold* queue = h.FindQueue(cur_.port);
      if (!queue || queue->count < 1) {
        return failed_release(1,
                              "driver_deq released a queue reference the port queue does "
                              "not hold (" +
                                  DescribeHolders(inc) + ")");
      }
      Release(inc, &queue->count, 1);
      return false;
    }
    case Op::kReply:
      if (h.driver < 1) {
        return failed_release(1, "driver returned through *rbuf a reference it does not hold (" +
                                     DescribeHolders(inc) + ")");
      }
      // The driver's reference becomes the caller's message (or is dropped: copied).
      Release(inc, &h.driver, 1);
      if (cur_.to) {
        AddMessageRef(e, slot);
      } else if (!e.copied) {
        AddRef(inc, &h.vm);
      }
      return false;
    case Op::kBorrow: {
      inc.borrowed = true;
      // The sender's own reference; one it got untraced if the model has none.
      if (!e.from.empty() && !e.gathered) {
        ProcessHold& sender = Hold(slot, InternRare(e.from));
        if (sender.proc == 0) Deliver(inc, sender);
      }
      // References the emulator takes for this callback: a gathered copy's, the tasks'.
      const int64_t extra = (e.gathered ? 1 : 0) + TraceCount(e.task);
      AddRef(inc, &h.vm, extra);
      inc.unborrow_release += extra;
      return false;
    }
    case Op::kUnborrow:
      inc.borrowed = false;
      // The callback returned: the emulator drops what it took for it (what vm still holds).
      Release(inc, &h.vm, std::min(std::exchange(inc.unborrow_release, 0), h.vm));
      return false;
    case Op::kReceive:
      Deliver(inc, Hold(slot, cur_.actor));
      return false;
    case Op::kSend: {
      ProcessHold& sender = Hold(slot, cur_.actor);
      if (sender.proc == 0) Deliver(inc, sender);
      AddMessageRef(e, slot);
      return false;
    }
    case Op::kGc: {
      const int64_t n = TraceCount(e.count);
      ProcessHold* p = h.Find(cur_.actor);
      if (p && p->proc >= n) {
        Release(inc, &p->proc, n, p);
      } else if (h.vm >= n) {
        Release(inc, &h.vm, n);
      } else {
        return failed_release(n, std::string(strings_.Get(cur_.actor)) + " released " +
                                     Plural(e.count, "reference") + " it does not hold (" +
                                     DescribeHolders(inc) + ")");
      }
      return false;
    }
    case Op::kStop:
    case Op::kExit:
    case Op::kEnd:
      break;
    default:  // NIF ops: ApplyEvent hands them to the NIF model before this
      break;
  }
  return false;
}

bool Model::ApplyRealloc(const Event& e, uint32_t slot) {
  Incarnation& inc = slots_[slot];
  if (ReportIfNoAccess(e, inc)) return true;
  if (inc.borrowed || inc.refc - UncertainRelease(inc) > inc.holders.driver) {
    Report(Code::kReallocShared, e, inc,
           "driver reallocated a binary that others still reference (" + DescribeHolders(inc) +
               "); their pointers go stale");
    return true;
  }
  // Only a realloc that keeps the rules resizes or moves the block.
  if (e.size) inc.size = e.size;
  if (!e.new_bin.present() || e.new_bin == e.bin) return false;
  return MoveIncarnation(e, slot);
}

bool Model::MoveIncarnation(const Event& e, uint32_t slot) {
  IdState& old_state = State(e.bin);
  IdState& new_state = State(e.new_bin);
  bool raised = false;
  if (new_state.live_slot >= 0) {
    const auto other = static_cast<uint32_t>(new_state.live_slot);
    Record(slots_[other], e);
    Report(Code::kAllocLive, e, slots_[other],
           "realloc moved the binary onto an id that is still live (" +
               DescribeHolders(slots_[other]) + "); its references are lost");
    AbandonIncarnation(other);
    raised = true;
  }
  // The new id leaves the quarantine before the old one enters it, so a full quarantine
  // forgets nothing for this move.
  LeaveQuarantine(new_state);
  new_state.live_slot = slot;
  Incarnation& moved = slots_[slot];
  moved.number = ++new_state.incarnations;
  moved.live_since = ++live_order_;
  moved.history.SetBackVmRefc(moved.vm_refc);
  Quarantine(old_state, moved);
  moved.id = e.new_bin;
  return raised;
}

void Model::ApplyOnFreed(const Event& e, IdState& state) {
  const uint64_t freed_at = EvidenceAt(state.number).last.event;
  if (IsRelease(e.op)) {
    ReportOnFreed(Code::kDoubleFree, e, state,
                  std::string(e.EffectiveActor()) + " released a reference to a binary that was " +
                      "already freed (event " + std::to_string(freed_at) + ")");
  } else {
    ReportOnFreed(Code::kUseAfterFree, e, state,
                  std::string(e.EffectiveActor()) + " " + std::string(Verb(e.op)) +
                      " a binary that was already freed (event " + std::to_string(freed_at) + ")");
  }
}

void Model::AssumeLeastHolders(const Event& e, uint32_t slot) {
  Incarnation& inc = slots_[slot];
  switch (e.op) {
    case Op::kGc:
      AddRef(inc, &Hold(slot, cur_.actor).proc, TraceCount(e.count));
      break;
    case Op::kSend:
      AddRef(inc, &Hold(slot, cur_.actor).proc);
      break;
    case Op::kDeq:
      AddRef(inc, &inc.holders.Queue(cur_.port));
      break;
    case Op::kUnborrow:
      AddRef(inc, &inc.holders.vm);
      break;
    case Op::kReceive:  // the receive itself gives the process its reference
      break;
    default:  // driver ops, observe included
      AddRef(inc, &inc.holders.driver);
      break;
  }
}

void Model::ApplyOnUnknown(const Event& e, IdState& state) {
  StartIncarnation(e, state, e.bin, /*adopted=*/true);
  // The incarnation stays in this slot: ApplyOnLive may move it to another id (realloc),
  // and ends nothing.
  const auto slot = static_cast<uint32_t>(state.live_slot);
  AssumeLeastHolders(e, slot);
  const std::string assumed = DescribeHolders(slots_[slot]);
  const bool raised = ApplyOnLive(e, slot);
  Incarnation& inc = slots_[slot];
  if (e.refc) {
    const int64_t recorded = TraceCount(*e.refc);
    if (recorded > inc.refc) AddRef(inc, &inc.holders.vm, recorded - inc.refc);
  }
  inc.history.SetBackVmRefc(inc.vm_refc);
  Report(Code::kUnknownBinary, e, inc,
         std::string(e.EffectiveActor()) + " " + std::string(Verb(e.op)) +
             " a binary the trace never allocated; assuming " +
             (assumed == "driver holds 0" ? std::string("no holder") : assumed) +
             " before it (was the trace started late?)");
  const bool emulator_freed = !raised && CheckReportedRefc(e, slot);
  if (emulator_freed || (inc.refc == 0 && !inc.borrowed)) EndIncarnation(slot);
}

void Model::ApplyExit(const Event& e) {
  const StrRef pid = cur_.actor;
  if (pid >= exited_.size()) exited_.resize(strings_.size());
  exited_[pid] = true;
  ++exits_;
  // Its uncertain releases are settled: the exit releases all its references anyway.
  for (auto& [number, group] : groups_) {
    if (group.pid == pid) dirty_groups_.push_back(number);
  }
  if (pid >= process_slot_.size() || process_slot_[pid] == 0) return;
  ProcessHandles& index = process_handles_[process_slot_[pid] - 1];
  std::vector<Handle> handles = std::move(index.handles);
  index = ProcessHandles{};
  for (const Handle& handle : handles) {
    Incarnation& inc = slots_[handle.slot];
    if (!inc.live || inc.generation != handle.generation) continue;
    ProcessHold* p = inc.holders.Find(pid);
    if (!p || (p->msg == 0 && p->proc == 0)) continue;
    // Its unreceived messages go with it, like its heap.
    p->proc += p->msg;
    p->msg = 0;
    Release(inc, &p->proc, p->proc, p);
    Record(inc, e);
    inc.history.SetBackVmRefc(inc.vm_refc);
    if (inc.refc == 0 && !inc.borrowed) ending_.push_back(handle.slot);
  }
  EndInLiveOrder();
}

void Model::StopAllPorts(const Event* e) {
  std::vector<uint32_t> running;
  for (uint32_t port = 0; port < ports_.size(); ++port) {
    if (!ports_[port].stopped) running.push_back(port);
  }
  if (running.size() <= 1) {
    for (uint32_t port : running)
      StopPort(port, e);
    return;
  }
  // Many ports stop at once: one scan finds the slots each may concern (its queue's, its
  // owned ones), so the stops cost the live binaries once, not once per port. A stop ends
  // only binaries no other port's stop concerns, so the lists stay valid.
  std::unordered_map<uint32_t, std::vector<uint32_t>> concerns;
  for (uint32_t slot = 0; slot < slots_.size(); ++slot) {
    const Incarnation& inc = slots_[slot];
    if (!inc.live) continue;
    if (inc.owner_port != kNoPort && inc.holders.driver > 0)
      concerns[inc.owner_port].push_back(slot);
    for (const QueueHold& q : inc.holders.queues) {
      if (q.port != inc.owner_port || inc.holders.driver == 0) concerns[q.port].push_back(slot);
    }
  }
  static const std::vector<uint32_t> kNone;
  for (uint32_t port : running) {
    auto it = concerns.find(port);
    StopPort(port, e, it == concerns.end() ? &kNone : &it->second);
  }
}

void Model::StopPort(uint32_t port, const Event* e, const std::vector<uint32_t>* only) {
  ports_[port].stopped = true;
  const size_t n = only ? only->size() : slots_.size();
  for (size_t i = 0; i < n; ++i) {
    const uint32_t slot = only ? (*only)[i] : static_cast<uint32_t>(i);
    Incarnation& inc = slots_[slot];
    if (!inc.live) continue;
    int64_t queued = 0;
    if (QueueHold* queue = inc.holders.FindQueue(port)) {
      // The port's queue is cleared: the emulator releases those references.
      queued = queue->count;
      Release(inc, &queue->count, queued);
      inc.holders.queues.erase(inc.holders.queues.begin() + (queue - inc.holders.queues.data()));
    }
    const bool owned = inc.owner_port == port;
    if (queued == 0 && (!owned || inc.holders.driver == 0)) continue;
    if (e) {
      Record(inc, *e);
    } else {
      HistoryEntry end;
      end.event = events_;
      end.op = Op::kEnd;
      end.actor = driver_ref_;
      inc.history.Add(end);
    }
    inc.history.SetBackVmRefc(inc.vm_refc);
    const int64_t driver = owned ? inc.holders.driver : 0;
    if (driver > 0) {
      if (!inc.adopted) {
        std::string message =
            "driver still holds " + Plural(driver, "reference") +
            (e && e->op == Op::kStop ? " when the port stopped" : " at the end of the trace") +
            "; the binary";
        if (inc.size) message += " (" + Plural(*inc.size, "byte") + ")";
        message += " is never freed";
        ReportLeak(inc, std::move(message));
        // Saturates: sizes come from the trace and may be anything.
        leaked_bytes_ += std::min(inc.size.value_or(0), UINT64_MAX - leaked_bytes_);
      }
      // Written off: processes can still release theirs; the emulator's
      // counter keeps the leaked references.
      inc.holders.driver = 0;
      inc.refc -= driver;
    }
    if (inc.refc == 0 && !inc.borrowed) ending_.push_back(slot);
  }
  EndInLiveOrder();
}

// ---------------------------------------------------------------------------
// Holders.

ProcessHold& Model::Hold(uint32_t slot, StrRef pid) {
  Incarnation& inc = slots_[slot];
  ProcessHold* held = inc.holders.Find(pid);
  if (held && (held->msg != 0 || held->proc != 0)) return *held;
  ProcessHandles& index = HandlesOf(pid);
  // Drop handles of incarnations that ended or that the process no longer
  // holds, so a long-lived process that keeps receiving and collecting
  // binaries does not grow its list forever. Only once the list has doubled
  // since it was last pruned: each check reads another incarnation (a likely
  // cache miss), and doubling keeps the checks amortised constant per handle
  // even when most of a process's handles stay live.
  if (index.handles.size() >= index.prune_at) {
    std::erase_if(index.handles, [&](const Handle& h) {
      const Incarnation& other = slots_[h.slot];
      if (!other.live || other.generation != h.generation) return true;
      const ProcessHold* p = other.holders.Find(pid);
      return !p || (p->msg == 0 && p->proc == 0);
    });
    index.prune_at = std::max(ProcessHandles::kFirstPrune, 2 * index.handles.size());
  }
  // A new entry, or one left as a zero that is filled again (the caller adds
  // to it): either way it gets a handle, since a zero's may be gone.
  index.handles.push_back({slot, inc.generation});
  if (held) {
    inc.holders.Refilled(held);
    return *held;
  }
  return inc.holders.Add(pid, 0, 0);
}

Model::ProcessHandles& Model::HandlesOf(StrRef pid) {
  if (pid >= process_slot_.size()) process_slot_.resize(strings_.size());
  uint32_t& at = process_slot_[pid];
  if (at == 0) {
    process_handles_.emplace_back();
    at = static_cast<uint32_t>(process_handles_.size());
  }
  return process_handles_[at - 1];
}

void Model::AddRef(Incarnation& inc, int64_t* counter, int64_t n) {
  *counter += n;
  inc.refc += n;
  inc.vm_refc += n;
}

void Model::Release(Incarnation& inc, int64_t* counter, int64_t n, ProcessHold* process) {
  *counter -= n;
  inc.refc -= n;
  inc.vm_refc -= n;
  if (process && process->msg == 0 && process->proc == 0) inc.holders.Emptied(process);
}

void Model::ReleaseUnheld(Incarnation& inc, int64_t n) {
  inc.vm_refc = std::max(inc.vm_refc - n, kVmRefcFloor);
}

void Model::Deliver(Incarnation& inc, ProcessHold& p) {
  ProcessHold* unknown = nullptr;
  if (p.msg >= 1) {  // the reference changes hands: refc stays
    p.msg -= 1;
    p.proc += 1;
  } else if (p.pid != unknown_receiver_ && (unknown = inc.holders.Find(unknown_receiver_)) &&
             unknown->msg >= 1) {
    // A message whose receiver the recorder could not learn (erl_drv_send_term from a
    // driver thread): the first process to take the binary is its receiver (decision 72).
    // p first: emptying the unknown entry may erase it from the vector p lives in.
    p.proc += 1;
    unknown->msg -= 1;
    if (unknown->msg == 0 && unknown->proc == 0) inc.holders.Emptied(unknown);
  } else {  // it came through a send the trace did not record
    AddRef(inc, &p.proc);
  }
}

void Model::AddMessageRef(const Event& e, uint32_t slot) {
  const StrRef pid = cur_.to;
  if (e.copied || Exited(pid)) return;
  ProcessHold& p = Hold(slot, pid);
  if (pid == unknown_receiver_ && p.msg == 0) unknown_sent_after_exits_[slot] = exits_;
  AddRef(slots_[slot], &p.msg);
}

int64_t Model::DroppableUnknown(uint32_t slot) {
  auto since = unknown_sent_after_exits_.find(slot);
  if (since == unknown_sent_after_exits_.end() || since->second == exits_) return 0;
  const ProcessHold* unknown = slots_[slot].holders.Find(unknown_receiver_);
  return unknown ? unknown->msg : 0;
}

void Model::DropUnknown(uint32_t slot, int64_t n) {
  Incarnation& inc = slots_[slot];
  ProcessHold* unknown = inc.holders.Find(unknown_receiver_);
  // Release may erase the holder: whether any are left is read first.
  const bool none_left = unknown->msg == n;
  Release(inc, &unknown->msg, n, unknown);
  if (none_left) unknown_sent_after_exits_.erase(slot);
}

bool Model::CheckReportedRefc(const Event& e, uint32_t slot) {
  Incarnation& inc = slots_[slot];
  if (!e.refc || *e.refc == inc.vm_refc) return false;
  // A lower count that unknown receivers' exits explain: those messages were dropped.
  if (const int64_t d = inc.vm_refc - TraceCount(*e.refc);
      d > 0 && !unknown_sent_after_exits_.empty() && d <= DroppableUnknown(slot)) {
    DropUnknown(slot, d);
    inc.history.SetBackVmRefc(inc.vm_refc);
    return false;
  }
  const int64_t expected = inc.vm_refc;
  // Trust the emulator from here on, so one discrepancy is reported once.
  inc.vm_refc = TraceCount(*e.refc);
  Report(Code::kRefcMismatch, e, inc,
         "the emulator reports refc " + std::to_string(*e.refc) + ", the model expects " +
             std::to_string(expected) + " (" + DescribeHolders(inc) + ")");
  // The emulator's count is 0: it freed the binary, so the incarnation ends here and a
  // later alloc at this address starts afresh. One discrepancy, one error.
  return *e.refc == 0;
}

// ---------------------------------------------------------------------------
// Uncertain releases (model 1.3): a gc with `among`. The release is held apart, not applied
// to any candidate, until the emulator's word decides it: a recorded count on a candidate, its
// address coming back as a new binary, the process's exit, or elimination within the group.

void Model::ApplyUncertainGc(const Event& e) {
  const StrRef pid = cur_.actor;
  UncertainGroup group;
  group.pid = pid;
  group.pending = TraceCount(e.count);
  group.events.push_back(e.pos.index);
  // Candidates: the live incarnations named that the process holds in its heap. Groups of
  // the same process that share one are the same unknown: merged.
  std::vector<uint32_t> merged;
  for (const BinId& id : e.among) {
    const uint32_t number = id_index_.Find(id);
    if (number == IdIndex::kAbsent || StateAt(number).live_slot < 0) continue;
    const auto slot = static_cast<uint32_t>(StateAt(number).live_slot);
    Incarnation& inc = slots_[slot];
    const ProcessHold* p = inc.holders.Find(pid);
    if (!p || p->proc < 1) continue;
    if (std::any_of(group.candidates.begin(), group.candidates.end(),
                    [&](const Handle& h) { return h.slot == slot; }))
      continue;
    group.candidates.push_back({slot, inc.generation});
    for (uint32_t other : inc.uncertain) {
      if (groups_.at(other).pid == pid &&
          std::find(merged.begin(), merged.end(), other) == merged.end())
        merged.push_back(other);
    }
  }
  for (uint32_t other : merged) {
    UncertainGroup& g = groups_.at(other);
    group.pending += g.pending;
    for (const Handle& h : g.candidates) {
      Incarnation& inc = slots_[h.slot];
      std::erase(inc.uncertain, other);
      if (std::none_of(group.candidates.begin(), group.candidates.end(),
                       [&](const Handle& c) { return c.slot == h.slot; }))
        group.candidates.push_back(h);
    }
    group.events.insert(group.events.end(), g.events.begin(), g.events.end());
    groups_.erase(other);
  }
  int64_t held = 0;
  for (const Handle& h : group.candidates)
    held += slots_[h.slot].holders.Find(pid)->proc;
  if (group.pending > held) {
    // More than the process holds of all of them: that much is certainly wrong.
    const int64_t excess = group.pending - held;
    std::string names;
    for (const BinId& id : e.among)
      names += (names.empty() ? "" : ", ") + id.ToDisplay();
    const uint32_t number = id_index_.Find(e.among.front());
    Finding f =
        NewFinding(Code::kDoubleFree, e.among.front(),
                   number == IdIndex::kAbsent ? 0 : StateAt(number).incarnations, MakeEntry(e, 0),
                   std::string(strings_.Get(pid)) + " released " + Plural(excess, "reference") +
                       " more than it holds of " + names);
    f.stack = e.stack;
    sink_->OnFinding(std::move(f));
    group.pending = held;
  }
  for (const Handle& h : group.candidates) {
    Incarnation& inc = slots_[h.slot];
    Record(inc, e);
    inc.history.SetBackVmRefc(inc.vm_refc);
  }
  if (group.candidates.empty()) return;
  cur_among_ = static_cast<uint32_t>(group.candidates.size());
  const uint32_t number = next_group_++;
  for (const Handle& h : group.candidates)
    slots_[h.slot].uncertain.push_back(number);
  groups_.emplace(number, std::move(group));
  dirty_groups_.push_back(number);
}

int64_t Model::UncertainBound(const Incarnation& inc, const UncertainGroup& g) const {
  const ProcessHold* p = inc.holders.Find(g.pid);
  return p ? std::min(p->proc, g.pending) : 0;
}

int64_t Model::UncertainRelease(const Incarnation& inc) const {
  int64_t sum = 0;
  for (uint32_t number : inc.uncertain)
    sum += UncertainBound(inc, groups_.at(number));
  return sum;
}

void Model::NotifyDecided(const UncertainGroup& g, uint32_t slot, int64_t d, std::string_view how) {
  if (!observer_) return;
  UncertainDecision decision;
  decision.event = cur_event_;
  decision.released = d;
  decision.how = how;
  for (uint64_t event : g.events)
    observer_->OnUncertainDecided(slots_[slot].serial, event, decision);
}

void Model::AttributeUncertain(uint32_t number, uint32_t slot, int64_t d, std::string_view how) {
  UncertainGroup& g = groups_.at(number);
  Incarnation& inc = slots_[slot];
  NotifyDecided(g, slot, d, how);
  if (d > 0) {
    ProcessHold* p = inc.holders.Find(g.pid);
    Release(inc, &p->proc, d, p);
    g.pending -= d;
  }
  std::erase(inc.uncertain, number);
  std::erase_if(g.candidates, [&](const Handle& h) { return h.slot == slot; });
  dirty_groups_.push_back(number);
}

bool Model::ResolveByCount(uint32_t slot, int64_t recorded, std::string_view how) {
  Incarnation& inc = slots_[slot];
  // Two processes' unknowns on one binary cannot be told apart by one count.
  if (inc.uncertain.size() != 1) return false;
  const uint32_t number = inc.uncertain.front();
  const int64_t d = inc.vm_refc - recorded;
  // Within what the release can have taken: that many were this binary's. Outside: no
  // account of the release explains the count, a discrepancy of its own (compared as usual),
  // and the release was another candidate's.
  const bool explained = d >= 0 && d <= UncertainBound(inc, groups_.at(number));
  AttributeUncertain(number, slot, explained ? d : 0, how);
  return true;
}

void Model::LeaveGroups(Incarnation& inc) {
  const auto slot = static_cast<uint32_t>(&inc - slots_.data());
  for (uint32_t number : inc.uncertain) {
    std::erase_if(groups_.at(number).candidates, [&](const Handle& h) { return h.slot == slot; });
    dirty_groups_.push_back(number);
  }
  inc.uncertain.clear();
}

void Model::ResolveGroups() {
  while (!dirty_groups_.empty()) {
    const uint32_t number = dirty_groups_.back();
    dirty_groups_.pop_back();
    auto it = groups_.find(number);
    if (it == groups_.end()) continue;
    UncertainGroup& g = it->second;
    // A candidate that can have taken nothing (its process holds none of it now) is out.
    int64_t total = 0;
    for (size_t i = 0; i < g.candidates.size();) {
      Incarnation& inc = slots_[g.candidates[i].slot];
      const int64_t bound = UncertainBound(inc, g);
      if (bound > 0 || g.pending == 0) {
        total += bound;
        ++i;
        continue;
      }
      // Its process's own release (a gc naming it, its exit) took what it held.
      NotifyDecided(g, g.candidates[i].slot, 0,
                    Exited(g.pid)
                        ? std::string(strings_.Get(g.pid)) + " exited"
                        : std::string(strings_.Get(g.pid)) + " holds none of it any more");
      std::erase(inc.uncertain, number);
      g.candidates.erase(g.candidates.begin() + static_cast<std::ptrdiff_t>(i));
    }
    g.pending = std::min(g.pending, total);
    const bool decided = g.pending == 0 || g.candidates.size() <= 1 || g.pending == total;
    if (!decided) continue;
    // One candidate left takes what is pending; if all must have released all they could,
    // each did; nothing pending releases nothing.
    std::vector<Handle> candidates = g.candidates;
    const int64_t pending = g.pending;
    const char* how = pending == 0             ? "the other candidates took the releases"
                      : candidates.size() == 1 ? "the only candidate left"
                                               : "every candidate released all it could";
    for (const Handle& h : candidates) {
      Incarnation& inc = slots_[h.slot];
      const int64_t d = pending == 0 ? 0 : UncertainBound(inc, groups_.at(number));
      AttributeUncertain(number, h.slot, d, how);
      if (inc.refc == 0 && !inc.borrowed) ending_.push_back(h.slot);
    }
    groups_.erase(number);
    EndInLiveOrder();
  }
}

// ---------------------------------------------------------------------------
// Evidence.

// `e` must be the event being applied: its strings come from cur_.
HistoryEntry Model::MakeEntry(const Event& e, int64_t vm_refc) {
  HistoryEntry entry;
  entry.event = e.pos.index;
  entry.line = e.pos.line;
  entry.vm_refc = vm_refc;
  entry.op = e.op;
  entry.actor = cur_.actor;
  entry.to = cur_.to;
  entry.src = cur_.src;
  entry.func = cur_.func;
  entry.note = cur_.note;
  entry.copied = e.copied;
  if (e.size) {
    entry.size = *e.size;
    entry.has_size = true;
  }
  return entry;
}

void Model::Record(Incarnation& inc, const Event& e) {
  inc.history.Add(MakeEntry(e, inc.vm_refc));
  if (observer_) {
    const auto slot = static_cast<uint32_t>(&inc - slots_.data());
    touched_.push_back({slot, inc.generation});
  }
}

void Model::Notify(uint32_t slot, bool ended) {
  const Incarnation& inc = slots_[slot];
  if (inc.nif_made) return;
  LifetimeStep step;
  step.step = ToStep(inc.history.back());
  step.refc = inc.refc;
  step.ended = ended;
  step.borrowed = inc.borrowed;
  if (step.step.op == Op::kGc && step.step.event == cur_event_) step.among = cur_among_;
  if (observer_->WantsHolders(inc.serial, inc.id, inc.number, step)) AddHolders(inc, &step);
  observer_->OnStep(inc.serial, inc.id, inc.number, inc.adopted, std::move(step));
}

void Model::AddHolders(const Incarnation& inc, LifetimeStep* step) const {
  const Holders& h = inc.holders;
  size_t n = (h.driver != 0) + (h.vm != 0) + 2 * std::min(h.procs.size(), kListedProcesses);
  for (const QueueHold& q : h.queues)
    n += q.count != 0;
  step->holders.reserve(n);
  if (h.driver) step->holders.push_back({Holder::Driver(), h.driver});
  for (const QueueHold& q : h.queues) {
    if (q.count)
      step->holders.push_back(
          {Holder::Queue(std::string(strings_.Get(ports_[q.port].name))), q.count});
  }
  // The first processes only (decision 247): a binary held by thousands at once would
  // otherwise cost thousands on every step.
  step->unlisted = h.ListProcesses(kListedProcesses, inc.refc, [&](const ProcessHold& p) {
    if (p.msg) step->holders.push_back({Holder::Message(std::string(strings_.Get(p.pid))), p.msg});
    if (p.proc) step->holders.push_back({Holder::Heap(std::string(strings_.Get(p.pid))), p.proc});
  });
  if (h.vm) step->holders.push_back({Holder::Emulator(), h.vm});
}

void Model::NotifyTouched() {
  // An incarnation that ended was notified by EndIncarnation (its slot's
  // generation moved on); one touched twice (alloc-live) is notified once.
  for (size_t i = 0; i < touched_.size(); ++i) {
    const Handle& t = touched_[i];
    const Incarnation& inc = slots_[t.slot];
    if (!inc.live || inc.generation != t.generation) continue;
    bool seen = false;
    for (size_t j = 0; j < i; ++j)
      seen |= touched_[j].slot == t.slot && touched_[j].generation == t.generation;
    if (!seen) Notify(t.slot, /*ended=*/false);
  }
  touched_.clear();
}

Step Model::ToStep(const HistoryEntry& entry) const {
  return StepOf(entry, strings_);
}

Finding Model::NewFinding(Code code, const BinId& bin, uint32_t incarnation,
                          const HistoryEntry& anchor, std::string message) const {
  Finding f;
  f.code = code;
  f.severity = CodeSeverity(code);
  f.bin = bin;
  f.incarnation = incarnation;
  f.event = anchor.event;
  f.line = anchor.line;
  f.actor = strings_.Get(anchor.actor);
  f.src = strings_.Get(anchor.src);
  f.func = strings_.Get(anchor.func);
  f.message = std::move(message);
  return f;
}

void Model::AddHistory(const History& history, Finding* f) const {
  AppendHistory(history, strings_, f);
}

uint32_t Model::IncarnationOf(const BinId& bin, const Incarnation& inc) const {
  if (bin == inc.id) return inc.number;
  // A realloc moved `inc` away from `bin` during this event: it was bin's last incarnation,
  // which is in quarantine now.
  const uint32_t number = id_index_.Find(bin);
  return number == IdIndex::kAbsent ? 0 : StateAt(number).incarnations;
}

void Model::Report(Code code, const Event& e, const Incarnation& inc, std::string message) {
  const BinId& bin = code == Code::kAllocLive && e.op == Op::kRealloc ? e.new_bin : e.bin;
  Finding f =
      NewFinding(code, bin, IncarnationOf(bin, inc), MakeEntry(e, inc.vm_refc), std::move(message));
  f.stack = e.stack;
  f.port = FindingPort(e, &inc);
  f.size = inc.size;
  AddHistory(inc.history, &f);
  if (!f.history.empty() && f.history.back().event == e.pos.index)
    f.history.back().refc = inc.vm_refc;
  sink_->OnFinding(std::move(f));
}

void Model::ReportLeak(const Incarnation& inc, std::string message) {
  Finding f = NewFinding(Code::kLeak, inc.id, inc.number, inc.history.front(), std::move(message));
  for (StrRef frame : inc.start_stack)
    f.stack.emplace_back(strings_.Get(frame));
  if (inc.owner_port != kNoPort) f.port = strings_.Get(ports_[inc.owner_port].name);
  f.size = inc.size;
  AddHistory(inc.history, &f);
  sink_->OnFinding(std::move(f));
}

void Model::ReportOnFreed(Code code, const Event& e, const IdState& state, std::string message) {
  const FreedEvidence& evidence = EvidenceAt(state.number);
  const HistoryEntry now = MakeEntry(e, evidence.last.vm_refc);
  Finding f = NewFinding(code, e.bin, state.incarnations, now, std::move(message));
  f.stack = e.stack;
  f.port = FindingPort(e, nullptr);
  // Evidence kept in quarantine: how the freed incarnation began, the driver's last release
  // of it, and how it ended.
  f.history.push_back(ToStep(evidence.first));
  uint64_t position = 1;
  auto keep = [&](const HistoryEntry& entry, uint64_t at) {
    f.history.push_back(ToStep(entry));
    f.history.back().omitted_before = at - position - 1;
    position = at;
  };
  if (evidence.driver_end_position) keep(evidence.driver_end, evidence.driver_end_position);
  if (evidence.history_total > 1) keep(evidence.last, evidence.history_total);
  Step step = ToStep(now);
  if (IsRelease(e.op)) {
    step.refc = std::max(step.refc - (e.op == Op::kGc ? TraceCount(e.count) : 1), kVmRefcFloor);
  }
  f.history.push_back(std::move(step));
  sink_->OnFinding(std::move(f));
}

std::string_view Model::FindingPort(const Event& e, const Incarnation* inc) const {
  if (cur_.port != kNoPort) return e.port;
  if (inc && inc->owner_port != kNoPort) return strings_.Get(ports_[inc->owner_port].name);
  return {};
}

std::string Model::DescribeHolders(const Incarnation& inc) const {
  const Holders& h = inc.holders;
  HoldersPhrase phrase(inc.borrowed);
  phrase.Driver(h.driver);
  for (const QueueHold& q : h.queues)
    phrase.Queue(strings_.Get(ports_[q.port].name), q.count);
  // The phrase names the first few processes and counts the rest: the rest need not be read
  // (decision 248).
  phrase.Unlisted(h.ListProcesses(kListedProcesses, inc.refc, [&](const ProcessHold& p) {
    phrase.Process(strings_.Get(p.pid), p.msg, p.proc);
  }));
  phrase.Emulator(h.vm);
  return phrase.Text();
}

// ---------------------------------------------------------------------------
// Queries.

ModelStats Model::Stats() const {
  ModelStats stats;
  stats.events = events_;
  stats.driver_events = driver_events_;
  stats.process_events = process_events_;
  stats.nif_events = nif_events_;
  stats.binaries = binaries_;
  stats.leaked_bytes = leaked_bytes_;
  if (nif_) {
    const NifStats nif = nif_->Stats();
    stats.binaries += nif.binaries;
    stats.leaked_bytes += nif.leaked_bytes;
    stats.live += nif.live;
    stats.held_by_nif = nif.held_by_nif;
  }
  for (const Incarnation& inc : slots_) {
    if (!inc.live) continue;
    ++stats.live;
    if (!inc.uncertain.empty()) {
      ++stats.uncertain_end;
    } else if (inc.holders.HeldByProcess()) {
      ++stats.held_by_processes;
    }
  }
  return stats;
}

std::optional<std::string> Model::CheckInvariants() const {
  for (uint32_t slot = 0; slot < slots_.size(); ++slot) {
    const Incarnation& inc = slots_[slot];
    if (!inc.live) continue;
    const std::string where =
        "binary " + inc.id.ToDisplay() + " (slot " + std::to_string(slot) + ")";
    const Holders& h = inc.holders;
    if (inc.refc != h.Sum()) {
      return where + ": refc " + std::to_string(inc.refc) + " != sum of holders " +
             std::to_string(h.Sum());
    }
    const bool queue_negative = std::any_of(h.queues.begin(), h.queues.end(),
                                            [](const QueueHold& q) { return q.count < 0; });
    if (h.driver < 0 || queue_negative || h.vm < 0 || inc.refc < 0) {
      return where + ": negative count (" + DescribeHolders(inc) + ")";
    }
    uint32_t zeros = 0;
    for (uint32_t i = 0; i < h.procs.size(); ++i) {
      const ProcessHold& p = h.procs[i];
      if (p.msg < 0 || p.proc < 0) return where + ": negative process count";
      zeros += p.msg == 0 && p.proc == 0;
      if (h.index && (!h.index->count(p.pid) || h.index->at(p.pid) != i)) {
        return where + ": process index out of step";
      }
    }
    for (uint32_t i = 0; i < h.first_held && i < h.procs.size(); ++i) {
      if (h.procs[i].msg != 0 || h.procs[i].proc != 0)
        return where + ": a process before first_held holds it";
    }
    if (h.first_held > h.procs.size()) return where + ": first_held past the processes";
    if (zeros != h.zeros || (h.index && h.index->size() != h.procs.size())) {
      return where + ": " + std::to_string(zeros) + " empty process entries, " +
             std::to_string(h.zeros) + " counted";
    }
    if (inc.refc == 0 && !inc.borrowed) return where + ": live with refc 0";
    const uint32_t number = id_index_.Find(inc.id);
    if (number == IdIndex::kAbsent || StateAt(number).live_slot != static_cast<int64_t>(slot)) {
      return where + ": id table does not point at the live incarnation";
    }
  }
  return std::nullopt;
}

}  // namespace refctrace::model
