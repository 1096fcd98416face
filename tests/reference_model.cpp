#include "tests/reference_model.h"

#include <algorithm>

namespace refctrace::reference {
namespace {

using model::Code;
using trace::BinId;
using trace::Event;
using trace::Op;

int64_t Total(const std::map<std::string, int64_t>& counts) {
  int64_t sum = 0;
  for (const auto& [pid, n] : counts)
    sum += n;
  return sum;
}

int64_t& Count(std::map<std::string, int64_t>& counts, const std::string& pid) {
  return counts[pid];
}

}  // namespace

int64_t ReferenceModel::Binary::Refc() const {
  int64_t queued = 0;
  for (const auto& [instance, n] : queue)
    queued += n;
  return driver + queued + vm + Total(msg) + Total(proc);
}

std::optional<int64_t> ReferenceModel::EmulatorCount(const BinId& id) const {
  auto it = live_.find(id);
  if (it == live_.end()) return std::nullopt;
  return it->second.emulator;
}

void ReferenceModel::Report(Code code, const Event& e, const BinId& bin, uint32_t incarnation) {
  ExpectedFinding f;
  f.code = code;
  f.severity = code == Code::kUnknownBinary ? model::Severity::kWarning : model::Severity::kError;
  f.bin = bin;
  f.incarnation = incarnation;
  f.event = e.pos.index;
  // A driver event names its own port; a process event the port of the binary it touched.
  if (trace::IsDriverOp(e.op)) {
    f.port = e.port;
  } else if (auto it = live_.find(e.bin); it != live_.end() && it->second.owner >= 0) {
    f.port = ports_[static_cast<size_t>(it->second.owner)].name;
  }
  findings_.push_back(std::move(f));
}

int ReferenceModel::Instance(const std::string& name) {
  // The latest instance of that name, unless it stopped.
  for (size_t i = ports_.size(); i-- > 0;) {
    if (ports_[i].name != name) continue;
    if (!ports_[i].stopped) return static_cast<int>(i);
    break;
  }
  ports_.push_back({name, false});
  return static_cast<int>(ports_.size() - 1);
}

// ---- the quarantine: the N most recently freed distinct ids ---------------

bool ReferenceModel::Quarantined(const BinId& id) const {
  return std::find(quarantine_.begin(), quarantine_.end(), id) != quarantine_.end();
}

void ReferenceModel::Unquarantine(const BinId& id) {
  quarantine_.erase(std::remove(quarantine_.begin(), quarantine_.end(), id), quarantine_.end());
}

void ReferenceModel::Quarantine(const BinId& id) {
  Unquarantine(id);
  quarantine_.push_back(id);
  while (quarantine_.size() > capacity_) {
    // An id that left the quarantine counts as never seen: its numbers restart.
    incarnations_.erase(quarantine_.front());
    quarantine_.pop_front();
  }
}

// ---- lifecycle ------------------------------------------------------------

ReferenceModel::Binary& ReferenceModel::Start(const Event& e, const BinId& id, bool adopted) {
  Unquarantine(id);
  Binary b;
  b.adopted = adopted;
  b.owner = event_port_;
  b.size = e.size;
  b.start_event = e.pos.index;
  b.incarnation = ++incarnations_[id];
  b.live_since = ++serial_;
  b.uid = ++uids_;
  live_[id] = std::move(b);
  return live_[id];
}

void ReferenceModel::EndIfUnheld(const BinId& id) {
  auto it = live_.find(id);
  if (it == live_.end() || it->second.Refc() != 0 || it->second.borrowed) return;
  live_.erase(it);
  Quarantine(id);
}

// Binaries freed by one event (exit, stop) enter the quarantine in the order
// in which they became live.
void ReferenceModel::EndUnheldInLiveOrder() {
  std::vector<std::pair<uint64_t, BinId>> ending;
  for (const auto& [id, b] : live_) {
    if (b.Refc() == 0 && !b.borrowed) ending.emplace_back(b.live_since, id);
  }
  std::sort(ending.begin(), ending.end());
  for (const auto& [since, id] : ending)
    EndIfUnheld(id);
}

// ---- events ---------------------------------------------------------------

void ReferenceModel::Apply(const Event& e) {
  event_port_ = trace::IsDriverOp(e.op) ? Instance(e.port) : -1;
  switch (e.op) {
    case Op::kExit:
      return Exit(e.actor);
    case Op::kStop:
      return StopPort(event_port_);
    case Op::kEnd:
      ended_ = true;
      return StopAll();
    default:
      break;
  }
  if (e.op == Op::kGc && !e.among.empty()) {
    Among(e);
    return Settle();
  }
  // A new binary at the address of an uncertain one that may have reached 0: it was freed.
  if (live_.count(e.bin) && (e.op == Op::kAlloc || (e.op == Op::kEnq && e.copy))) {
    Binary& old = live_[e.bin];
    const std::vector<size_t> groups = GroupsOf(old);
    if (groups.size() == 1 && Range(old, groups_[groups[0]]) >= old.emulator) {
      Decide(groups[0], old, old.emulator);
      live_.erase(e.bin);
      Quarantine(e.bin);
    }
  }
  if (live_.count(e.bin)) {
    // The binary of a stopped port (or of none) belongs to the port of the driver event that
    // uses it next.
    Binary& b = live_[e.bin];
    if (event_port_ >= 0 && (b.owner < 0 || ports_[static_cast<size_t>(b.owner)].stopped))
      b.owner = event_port_;
    const uint32_t incarnation_at_bin = live_[e.bin].incarnation;
    const BinId id = e.bin;
    bool raised = OnLive(e);
    bool compare = true;
    const BinId& now = e.op == Op::kRealloc && e.new_bin.present() ? e.new_bin : id;
    if (!raised && e.refc && live_.count(now)) {
      Binary& after = live_[now];
      const std::vector<size_t> groups = GroupsOf(after);
      if (groups.size() > 1) compare = false;
      if (groups.size() == 1) {
        const int64_t d = after.emulator - *e.refc;
        Decide(groups[0], after, d >= 0 && d <= Range(after, groups_[groups[0]]) ? d : 0);
        if (e.op == Op::kDec && after.Refc() == 0 && !after.adopted) {
          Report(Code::kDecToZero, e, id, after.incarnation);
          raised = true;
        }
      }
    }
    if (!raised && compare) CompareRefc(e, incarnation_at_bin);
    // The binary may have moved: whatever is live at bin or new_bin ends when unheld.
    EndIfUnheld(id);
    if (e.new_bin.present()) EndIfUnheld(e.new_bin);
    return Settle();
  }
  if (e.op == Op::kAlloc || e.op == Op::kBorrow || (e.op == Op::kEnq && e.copy)) {
    StartFresh(e);
    return Settle();
  }
  if (Quarantined(e.bin)) return OnFreed(e);
  Adopt(e);
}

// alloc or borrow of an id that is not live (quarantined or never seen).
void ReferenceModel::StartFresh(const Event& e) {
  Binary& b = Start(e, e.bin, /*adopted=*/false);
  if (e.op == Op::kAlloc || e.op == Op::kEnq) {
    // The queue's copy: the queue of the event's port is its only holder.
    (e.op == Op::kAlloc ? b.driver : b.queue[event_port_]) = 1;
    b.emulator = 1;
    CompareRefc(e, b.incarnation);
    return;
  }
  // On a new incarnation `refc` sets the count instead of checking it; by default the
  // sender's reference and the task references. The sender's is `from`'s own, unless this is
  // the emulator's gathered copy.
  b.borrowed = true;
  int64_t count = e.refc.value_or(1 + static_cast<int64_t>(e.task));
  b.emulator = count;
  if (!e.from.empty() && !e.gathered && count > 0) {
    b.proc[e.from] = 1;
    count -= 1;
  }
  b.vm = count;
  b.at_return = (e.gathered ? 1 : 0) + static_cast<int64_t>(e.task);
}

// A release or a use of a freed id; nothing changes.
void ReferenceModel::OnFreed(const Event& e) {
  const uint32_t incarnation = incarnations_[e.bin];
  switch (e.op) {
    case Op::kFree:
    case Op::kDec:
    case Op::kGc:
    case Op::kDeq:
    case Op::kReply:
      return Report(Code::kDoubleFree, e, e.bin, incarnation);
    default:
      return Report(Code::kUseAfterFree, e, e.bin, incarnation);
  }
}

// An op on a never-seen id: a warning, then the least holders that make the
// op legal, the op, the recorded count's surplus as `vm`, the zero check.
void ReferenceModel::Adopt(const Event& e) {
  Binary& b = Start(e, e.bin, /*adopted=*/true);
  Report(Code::kUnknownBinary, e, e.bin, b.incarnation);
  const uint32_t incarnation_at_bin = b.incarnation;
  switch (e.op) {
    case Op::kGc:
      Count(b.proc, e.actor) = static_cast<int64_t>(e.count);
      break;
    case Op::kSend:
      Count(b.proc, e.actor) = 1;
      break;
    case Op::kDeq:
      b.queue[event_port_] = 1;
      break;
    case Op::kUnborrow:
      b.vm = 1;
      break;
    case Op::kReceive:
      break;
    default:  // driver ops, observe included
      b.driver = 1;
      break;
  }
  b.emulator = b.Refc();
  const BinId id = e.bin;
  const bool raised = OnLive(e);
  // Where the adopted binary lives after the op (a realloc may move it).
  const BinId& now = e.op == Op::kRealloc && e.new_bin.present() ? e.new_bin : id;
  auto it = live_.find(now);
  if (it != live_.end() && e.refc) {
    Binary& after = it->second;
    const int64_t surplus = *e.refc - after.emulator;
    if (surplus > 0) {
      after.vm += surplus;
      after.emulator += surplus;
    }
  }
  // unknown-binary is a warning, not a rule diagnostic: the count is compared.
  if (!raised) CompareRefc(e, incarnation_at_bin);
  EndIfUnheld(id);
  if (e.new_bin.present()) EndIfUnheld(e.new_bin);
}

// An op that takes a reference: counted on the holder and the emulator.
// pid takes a message of its own; else one whose receiver the recorder did not
// know (model 1.3); else the binary reached it by a send the trace lacks.
void ReferenceModel::GiveToHeap(Binary& b, const std::string& pid) {
  const auto unknown = b.msg.find(std::string(trace::kUnknownReceiver));
  if (Count(b.msg, pid) >= 1) {
    Count(b.msg, pid) -= 1;
    Count(b.proc, pid) += 1;
  } else if (unknown != b.msg.end() && unknown->first != pid && unknown->second >= 1) {
    unknown->second -= 1;
    Count(b.proc, pid) += 1;
  } else {
    TakeReference(b, &Count(b.proc, pid));
  }
}

void ReferenceModel::TakeReference(Binary& b, int64_t* counter) {
  *counter += 1;
  b.emulator += 1;
}

bool ReferenceModel::OnLive(const Event& e) {
  const BinId id = e.bin;
  Binary& b = live_[id];
  switch (e.op) {
    case Op::kAlloc: {
      // The old incarnation is abandoned silently; a new one starts here,
      // and for the order of quarantining the id became live here
      // (decision 46), as when a moving realloc lands on a live id.
      Report(Code::kAllocLive, e, id, b.incarnation);
      live_.erase(id);
      Binary& fresh = Start(e, id, /*adopted=*/false);
      fresh.driver = 1;
      fresh.emulator = 1;
      return true;
    }
    case Op::kReply: {
      b.emulator -= 1;  // as free: the emulator decrements anyway
      if (b.driver < 1) {
        Report(Code::kDoubleFree, e, id, b.incarnation);
        return true;
      }
      b.driver -= 1;
      if (e.to.empty()) {
        if (!e.copied) TakeReference(b, &b.vm);
      } else if (!e.copied && !exited_.count(e.to)) {
        TakeReference(b, &Count(b.msg, e.to));
      }
      return false;
    }
    case Op::kRealloc: {
      if (!b.Access(event_port_)) {
        Report(Code::kUseAfterFree, e, id, b.incarnation);
        return true;
      }
      if (b.borrowed || b.Refc() - UncertainTotal(b) > b.driver) {
        Report(Code::kReallocShared, e, id, b.incarnation);
        return true;
      }
      if (e.size) b.size = e.size;
      if (!e.new_bin.present() || e.new_bin == id) return false;
      bool raised = false;
      Binary moving = std::move(b);
      live_.erase(id);
      if (live_.count(e.new_bin)) {
        Report(Code::kAllocLive, e, e.new_bin, live_[e.new_bin].incarnation);
        live_.erase(e.new_bin);
        raised = true;
      }
      Unquarantine(e.new_bin);
      moving.incarnation = ++incarnations_[e.new_bin];
      moving.live_since = ++serial_;
      live_[e.new_bin] = std::move(moving);
      Quarantine(id);
      return raised;
    }
    case Op::kFree:
    case Op::kDec: {
      b.emulator -= 1;  // the emulator decrements anyway
      if (b.driver < 1) {
        Report(Code::kDoubleFree, e, id, b.incarnation);
        return true;
      }
      b.driver -= 1;
      if (e.op == Op::kDec && b.Refc() == 0 && !b.adopted) {
        Report(Code::kDecToZero, e, id, b.incarnation);
        return true;
      }
      return false;
    }
    case Op::kEnq:
      if (e.copy) {  // a fresh binary of the queue's at a live id: as alloc
        Report(Code::kAllocLive, e, id, b.incarnation);
        live_.erase(id);
        Binary& fresh = Start(e, id, /*adopted=*/false);
        fresh.queue[event_port_] = 1;
        fresh.emulator = 1;
        return true;
      }
      [[fallthrough]];
    case Op::kInc: {
      // Taking a reference without access is reported once and then applied:
      // the emulator did take it.
      bool raised = false;
      if (!b.Access(event_port_)) {
        Report(Code::kUseAfterFree, e, id, b.incarnation);
        if (!apply_unheld_takes_) return true;
        raised = true;
      }
      TakeReference(b, e.op == Op::kInc ? &b.driver : &b.queue[event_port_]);
      return raised;
    }
    case Op::kOutput: {
      bool raised = false;
      if (!b.Access(event_port_)) {
        Report(Code::kUseAfterFree, e, id, b.incarnation);
        if (!apply_unheld_takes_) return true;
        raised = true;
      }
      if (!e.copied && !exited_.count(e.to)) TakeReference(b, &Count(b.msg, e.to));
      return raised;
    }
    case Op::kObserve:
      return false;
    case Op::kWrite:
      if (!b.Access(event_port_)) {
        Report(Code::kUseAfterFree, e, id, b.incarnation);
        return true;
      }
      if (b.borrowed || b.Refc() - UncertainTotal(b) > b.driver) {
        Report(Code::kMutateAfterOutput, e, id, b.incarnation);
        return true;
      }
      return false;
    case Op::kRead:
      if (!b.Access(event_port_)) {
        Report(Code::kUseAfterFree, e, id, b.incarnation);
        return true;
      }
      return false;
    case Op::kDeq:
      b.emulator -= 1;
      if (b.queue[event_port_] < 1) {
        Report(Code::kDoubleFree, e, id, b.incarnation);
        return true;
      }
      b.queue[event_port_] -= 1;
      return false;
    case Op::kBorrow: {
      b.borrowed = true;
      if (!e.from.empty() && !e.gathered && Count(b.proc, e.from) == 0)
        GiveToHeap(b, e.from);  // it got the binary untraced
      const int64_t taken = (e.gathered ? 1 : 0) + static_cast<int64_t>(e.task);
      b.vm += taken;
      b.emulator += taken;
      b.at_return += taken;
      return false;
    }
    case Op::kUnborrow: {
      b.borrowed = false;
      const int64_t dropped = std::min(b.at_return, b.vm);
      b.vm -= dropped;
      b.emulator -= dropped;
      b.at_return = 0;
      return false;
    }
    case Op::kReceive:
      GiveToHeap(b, e.actor);
      return false;
    case Op::kSend:
      if (Count(b.proc, e.actor) == 0) GiveToHeap(b, e.actor);  // an untraced receive or path
      if (!e.copied && !exited_.count(e.to)) TakeReference(b, &Count(b.msg, e.to));
      return false;
    case Op::kGc: {
      const int64_t n = static_cast<int64_t>(e.count);
      b.emulator -= n;
      if (Count(b.proc, e.actor) >= n) {
        Count(b.proc, e.actor) -= n;
      } else if (b.vm >= n) {
        b.vm -= n;
      } else {
        Report(Code::kDoubleFree, e, id, b.incarnation);
        return true;
      }
      return false;
    }
    case Op::kStop:
    case Op::kExit:
    case Op::kEnd:
      break;
    default:
      // NIF ops: this reference model is driver-only (decision 86), and the
      // differential test never generates them.
      break;
  }
  return false;
}

// Rule 5: the recorded count against the emulator's, after the op. A
// mismatch resets the model's idea of the emulator's count to the record.
void ReferenceModel::CompareRefc(const Event& e, uint32_t incarnation_at_bin) {
  if (!e.refc) return;
  const BinId& now = e.op == Op::kRealloc && e.new_bin.present() ? e.new_bin : e.bin;
  auto it = live_.find(now);
  if (it == live_.end()) return;
  if (it->second.emulator == *e.refc) return;
  Report(Code::kRefcMismatch, e, e.bin, incarnation_at_bin);
  it->second.emulator = *e.refc;
  // The emulator says 0: it freed the binary; the address starts afresh.
  if (*e.refc == 0) {
    live_.erase(it);
    Quarantine(now);
  }
}

void ReferenceModel::Exit(const std::string& pid) {
  exited_.insert(pid);
  for (auto& [id, b] : live_) {
    const int64_t dropped = Count(b.msg, pid) + Count(b.proc, pid);
    b.msg.erase(pid);
    b.proc.erase(pid);
    b.emulator -= dropped;
  }
  EndUnheldInLiveOrder();
  Settle();
}

void ReferenceModel::StopAll() {
  for (size_t i = 0; i < ports_.size(); ++i) {
    if (!ports_[i].stopped) StopPort(static_cast<int>(i));
  }
}

void ReferenceModel::StopPort(int instance) {
  ports_[static_cast<size_t>(instance)].stopped = true;
  std::vector<std::pair<uint64_t, BinId>> order;
  for (const auto& [id, b] : live_)
    order.emplace_back(b.live_since, id);
  std::sort(order.begin(), order.end());
  for (const auto& [since, id] : order) {
    Binary& b = live_[id];
    b.emulator -= b.queue[instance];
    b.queue.erase(instance);
    if (b.owner == instance && b.driver >= 1) {
      if (!b.adopted) {
        ExpectedFinding f;
        f.code = Code::kLeak;
        f.severity = model::Severity::kError;
        f.bin = id;
        f.incarnation = b.incarnation;
        f.event = b.start_event;
        f.size = b.size;
        f.port = ports_[static_cast<size_t>(instance)].name;
        findings_.push_back(std::move(f));
      }
      b.driver = 0;  // written off; the emulator keeps them
    }
  }
  EndUnheldInLiveOrder();
}

// ---- uncertain releases (model 1.3) ----------------------------------------

ReferenceModel::Binary* ReferenceModel::ByUid(uint64_t uid) {
  for (auto& [id, b] : live_) {
    if (b.uid == uid) return &b;
  }
  return nullptr;
}

int64_t ReferenceModel::Range(Binary& b, const Group& g) {
  return std::min(Count(b.proc, g.pid), g.pending);
}

std::vector<size_t> ReferenceModel::GroupsOf(const Binary& b) const {
  std::vector<size_t> out;
  for (size_t g = 0; g < groups_.size(); ++g) {
    const auto& c = groups_[g].candidates;
    if (std::find(c.begin(), c.end(), b.uid) != c.end()) out.push_back(g);
  }
  return out;
}

int64_t ReferenceModel::UncertainTotal(Binary& b) {
  int64_t sum = 0;
  for (size_t g : GroupsOf(b))
    sum += Range(b, groups_[g]);
  return sum;
}

void ReferenceModel::Decide(size_t g, Binary& b, int64_t d) {
  Group& group = groups_[g];
  Count(b.proc, group.pid) -= d;
  b.emulator -= d;
  group.pending -= d;
  group.candidates.erase(std::find(group.candidates.begin(), group.candidates.end(), b.uid));
}

void ReferenceModel::Among(const Event& e) {
  Group group;
  group.pid = e.actor;
  group.pending = static_cast<int64_t>(e.count);
  for (const BinId& id : e.among) {
    auto it = live_.find(id);
    if (it == live_.end() || Count(it->second.proc, e.actor) < 1) continue;
    if (std::find(group.candidates.begin(), group.candidates.end(), it->second.uid) ==
        group.candidates.end())
      group.candidates.push_back(it->second.uid);
  }
  // The same process's groups that share a candidate are one.
  for (size_t g = groups_.size(); g-- > 0;) {
    const Group& other = groups_[g];
    if (other.pid != e.actor) continue;
    bool shares = false;
    for (uint64_t uid : other.candidates) {
      shares |= std::find(group.candidates.begin(), group.candidates.end(), uid) !=
                group.candidates.end();
    }
    if (!shares) continue;
    group.pending += other.pending;
    for (uint64_t uid : other.candidates) {
      if (std::find(group.candidates.begin(), group.candidates.end(), uid) ==
          group.candidates.end())
        group.candidates.push_back(uid);
    }
    groups_.erase(groups_.begin() + static_cast<std::ptrdiff_t>(g));
  }
  int64_t held = 0;
  for (uint64_t uid : group.candidates)
    held += Count(ByUid(uid)->proc, e.actor);
  if (group.pending > held) {
    ExpectedFinding f;
    f.code = Code::kDoubleFree;
    f.bin = e.among.front();
    auto n = incarnations_.find(e.among.front());
    f.incarnation = n == incarnations_.end() ? 0 : n->second;
    f.event = e.pos.index;
    findings_.push_back(std::move(f));
    group.pending = held;
  }
  if (!group.candidates.empty()) groups_.push_back(std::move(group));
}

void ReferenceModel::Settle() {
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t g = 0; g < groups_.size(); ++g) {
      Group& group = groups_[g];
      int64_t total = 0;
      std::vector<uint64_t> kept;
      for (uint64_t uid : group.candidates) {
        Binary* b = ByUid(uid);
        if (!b) continue;
        const int64_t range = Range(*b, group);
        if (range > 0 || group.pending == 0) {
          kept.push_back(uid);
          total += range;
        }
      }
      group.candidates = kept;
      group.pending = std::min(group.pending, total);
      if (group.pending != 0 && kept.size() > 1 && group.pending != total) continue;
      for (uint64_t uid : kept) {
        Binary& b = *ByUid(uid);
        Decide(g, b, group.pending == 0 ? 0 : Range(b, groups_[g]));
      }
      groups_.erase(groups_.begin() + static_cast<std::ptrdiff_t>(g));
      EndUnheldInLiveOrder();
      changed = true;
      break;
    }
  }
}

void ReferenceModel::Finish() {
  if (!ended_) StopAll();
}

}  // namespace refctrace::reference
