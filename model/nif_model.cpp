#include "model/nif_model.h"

#include <algorithm>
#include <utility>

#include "model/wording.h"

namespace refctrace::model {

using trace::BinId;
using trace::Event;
using trace::Op;

namespace {

// A gone object keeps this much of its history as evidence (first and last events).
constexpr size_t kGoneHead = 2;
constexpr size_t kGoneTail = 4;

}  // namespace

NifModel::NifModel(FindingSink* sink, NifOptions options, uint64_t* serial)
    : sink_(sink), options_(options), serial_(serial) {
  options_.quarantine_capacity = std::max<size_t>(options_.quarantine_capacity, 1);
}

// ---------------------------------------------------------------------------
// Ids and incarnations.

NifModel::Entry* NifModel::Find(Space space, const BinId& id) {
  Table& table = TableOf(space);
  auto it = table.find(id);
  return it == table.end() || !it->second.present ? nullptr : &it->second;
}

NifModel::Object* NifModel::Live(Space space, const BinId& id) {
  Entry* entry = Find(space, id);
  return entry && entry->obj.live ? &entry->obj : nullptr;
}

NifModel::Object& NifModel::Start(Space space, const BinId& id, const Event& e, bool adopted) {
  Entry& entry = TableOf(space)[id];
  entry.present = true;
  Object& obj = entry.obj;
  obj = Object{};
  obj.space = space;
  obj.id = id;
  obj.number = ++entry.incarnations;
  obj.serial = ++*serial_;
  obj.live = true;
  obj.adopted = adopted;
  obj.size = e.size;
  obj.start_stack = e.stack;
  obj.history.Reset(options_.history_head, options_.history_tail);
  if (space == Space::kBin) ++binaries_;
  return obj;
}

void NifModel::End(Object& obj, const Event* e) {
  obj.live = false;
  obj.gone_at = e ? e->pos.index : 0;
  obj.tied.clear();
  // Keep the first and the last events as evidence for a later use of the id.
  History kept(kGoneHead, kGoneTail);
  const std::vector<HistoryEntry> head = obj.history.Head();
  for (const HistoryEntry& h : head) {
    if (kept.total() < kGoneHead) kept.Add(h);
  }
  std::vector<HistoryEntry> tail = obj.history.Tail();
  if (tail.empty()) {
    tail.assign(head.begin() + static_cast<ptrdiff_t>(std::min(head.size(), kGoneHead)),
                head.end());
  }
  const size_t from = tail.size() > kGoneTail ? tail.size() - kGoneTail : 0;
  for (size_t i = from; i < tail.size(); ++i)
    kept.Add(tail[i]);
  obj.history = std::move(kept);
  if (observer_) Notify(obj, /*ended=*/true);

  auto& quarantine = quarantine_[static_cast<size_t>(obj.space)];
  quarantine.emplace_back(obj.id, obj.number);
  if (quarantine.size() > options_.quarantine_capacity) {
    auto [old_id, old_number] = quarantine.front();
    quarantine.pop_front();
    Table& table = TableOf(obj.space);
    auto it = table.find(old_id);
    // An id reused since is live (or gone later): it stays.
    if (it != table.end() && !it->second.obj.live && it->second.obj.number == old_number)
      table.erase(it);
  }
}

NifModel::Object& NifModel::Adopt(Space space, const BinId& id, const Event& e) {
  Object& obj = Start(space, id, e, /*adopted=*/true);
  Report(Code::kUnknownBinary, obj, e,
         Who(e) + " " + std::string(Verb(e.op)) + " " + Describe(obj) +
             " the trace never started (was the trace started late?)");
  return obj;
}

// ---------------------------------------------------------------------------
// Evidence.

void NifModel::Record(Object& obj, const Event& e) {
  HistoryEntry entry;
  entry.event = e.pos.index;
  entry.line = e.pos.line;
  switch (obj.space) {
    case Space::kBin:
      entry.vm_refc = obj.live && obj.state == BinState::kOwned ? 1 : 0;
      break;
    case Space::kRes:
      entry.vm_refc = obj.nif;
      break;
    case Space::kData:
    case Space::kEnv:
      entry.vm_refc = obj.live ? 1 : 0;
      break;
  }
  entry.op = e.op;
  entry.actor = strings_.Intern(e.EffectiveActor());
  // `to`: where the event sends or ties the object (a receiver, an environment, a moved id).
  if (!e.to.empty()) {
    entry.to = strings_.Intern(e.to);
  } else if (e.op == Op::kHeld) {
    entry.to = strings_.Intern(e.in);  // where the library's reference is
  } else if (e.op == Op::kBinRealloc && e.new_bin.present()) {
    entry.to = strings_.Intern(e.new_bin.ToDisplay());
  } else if (e.env.present() && obj.space != Space::kEnv) {
    entry.to = strings_.Intern(e.env.ToDisplay());
  }
  entry.src = strings_.Intern(e.src);
  entry.func = strings_.Intern(e.func);
  entry.note = strings_.Intern(!e.note.empty() ? e.note : e.op == Op::kNifEnter ? e.nif : "");
  entry.copied = e.copied;
  if (e.size) {
    entry.size = *e.size;
    entry.has_size = true;
  }
  obj.history.Add(entry);
  if (observer_ && obj.live) touched_.push_back({obj.space, obj.id, obj.number});
}

void NifModel::NotifyTouched() {
  // One step per object per event, after the event is applied; an object the event ended was
  // notified by End.
  for (size_t i = 0; i < touched_.size(); ++i) {
    const Object::Tied& t = touched_[i];
    bool seen = false;
    for (size_t j = 0; j < i; ++j)
      seen |=
          touched_[j].space == t.space && touched_[j].id == t.id && touched_[j].number == t.number;
    const Object* obj = seen ? nullptr : Live(t.space, t.id);
    if (obj && obj->number == t.number) Notify(*obj, /*ended=*/false);
  }
  touched_.clear();
}

void NifModel::Report(Code code, const Object& obj, const Event& e, std::string message) {
  Finding f;
  f.code = code;
  f.severity = CodeSeverity(code);
  f.object = KindOf(obj.space);
  f.bin = obj.id;
  f.incarnation = obj.number;
  f.event = e.pos.index;
  f.line = e.pos.line;
  f.actor = std::string(e.EffectiveActor());
  f.src = e.src;
  f.func = e.func;
  f.stack = e.stack;
  f.message = std::move(message);
  f.size = obj.size;
  AppendHistory(obj.history, strings_, &f);
  // The event itself ends the history (it changed nothing, so it was not recorded).
  if (f.history.empty() || f.history.back().event != e.pos.index) {
    Step step;
    step.event = e.pos.index;
    step.line = e.pos.line;
    step.op = e.op;
    step.actor = f.actor;
    step.src = e.src;
    step.func = e.func;
    step.note = e.note;
    if (e.env.present() && obj.space != Space::kEnv) step.to = e.env.ToDisplay();
    if (!e.to.empty()) step.to = e.to;
    step.refc = f.history.empty() ? 0 : f.history.back().refc;
    step.size = e.size;
    f.history.push_back(std::move(step));
  }
  sink_->OnFinding(std::move(f));
}

void NifModel::ReportLeak(const Object& obj, std::string message) {
  Finding f;
  f.code = Code::kLeak;
  f.severity = CodeSeverity(Code::kLeak);
  f.object = KindOf(obj.space);
  f.bin = obj.id;
  f.incarnation = obj.number;
  const HistoryEntry& start = obj.history.front();
  f.event = start.event;
  f.line = start.line;
  f.actor = strings_.Get(start.actor);
  f.src = strings_.Get(start.src);
  f.func = strings_.Get(start.func);
  f.stack = obj.start_stack;
  f.message = std::move(message);
  f.size = obj.size;
  AppendHistory(obj.history, strings_, &f);
  sink_->OnFinding(std::move(f));
}

ObjectKind NifModel::KindOf(Space space) {
  switch (space) {
    case Space::kBin:
      return ObjectKind::kBinary;
    case Space::kData:
      return ObjectKind::kView;
    case Space::kRes:
      return ObjectKind::kResource;
    case Space::kEnv:
      return ObjectKind::kEnvironment;
  }
  return ObjectKind::kBinary;
}

std::string NifModel::Describe(const Object& obj) {
  switch (obj.space) {
    case Space::kBin:
      return "a binary";
    case Space::kData:
      return obj.writable ? "the bytes of a new binary term" : "inspected bytes";
    case Space::kRes:
      return "a resource";
    case Space::kEnv:
      return obj.independent ? "an environment" : "a call's environment";
  }
  return "an object";
}

std::string NifModel::Who(const Event& e) {
  const std::string_view actor = e.EffectiveActor();
  return actor == "nif" || actor.empty() ? "the NIF" : std::string(actor);
}

std::string NifModel::At(uint64_t event) const {
  return " (event " + std::to_string(event) + ")";
}

// ---------------------------------------------------------------------------
// Dispatch.

void NifModel::Apply(const Event& e) {
  ApplyOp(e);
  if (observer_) NotifyTouched();
}

void NifModel::ApplyOp(const Event& e) {
  switch (e.op) {
    case Op::kNifEnter:
    case Op::kNifReturn:
    case Op::kEnvAlloc:
    case Op::kEnvClear:
    case Op::kEnvFree:
    case Op::kEnvSend:
    case Op::kMakeCopy:
      ApplyEnvironment(e);
      return;
    case Op::kResAlloc:
    case Op::kResKeep:
    case Op::kResRelease:
    case Op::kResMake:
    case Op::kResUse:
    case Op::kResDown:
    case Op::kResDtor:
    case Op::kResMonitor:
    case Op::kResDemonitor:
    case Op::kResSelect:
    case Op::kResSelectStop:
    case Op::kResStop:
      ApplyResource(e);
      return;
    case Op::kHeld:
      ApplyHeld(e);
      return;
    default:
      ApplyBinary(e);
      return;
  }
}

bool NifModel::ApplyProcessEvent(const Event& e) {
  Entry* entry = Find(Space::kBin, e.bin);
  if (entry == nullptr) return false;
  // A binary the NIF still owns has no term yet: a process cannot name it, so the event is
  // about another object at that address and the driver model judges it.
  if (entry->obj.live && entry->obj.state == BinState::kOwned) return false;
  if (!entry->obj.live && entry->obj.state == BinState::kOwned) return false;  // released
  // Model 1.4: the references of a made binary's terms are counted on the process side.
  if (term_refs_ && entry->obj.state == BinState::kMade) return false;
  Record(entry->obj, e);
  if (observer_) NotifyTouched();
  return true;
}

// Trace format 1.6: the library still references the object at the clean end of recording (the
// recorder's scan of its memory), so the end of the trace is no leak of it. Only what is live
// now is marked: a conservative scan may match a value that is no longer a pointer, and an
// object gone (or never seen) has nothing to excuse.
void NifModel::ApplyHeld(const Event& e) {
  const Space space = e.bin.present() ? Space::kBin : e.res.present() ? Space::kRes : Space::kEnv;
  const BinId& id = space == Space::kBin ? e.bin : space == Space::kRes ? e.res : e.env;
  scanned_ = true;
  Object* obj = Live(space, id);
  if (obj == nullptr) return;
  obj->held = true;
  Record(*obj, e);
}

NifStats NifModel::Stats() const {
  NifStats stats;
  stats.binaries = binaries_;
  stats.leaked_bytes = leaked_bytes_;
  for (const Table& table : tables_) {
    for (const auto& [id, entry] : table) {
      if (entry.present && entry.obj.live && entry.obj.held && OwnedAtEnd(entry.obj))
        ++stats.held_by_nif;
    }
  }
  for (const auto& [id, entry] : tables_[static_cast<size_t>(Space::kBin)]) {
    // Model 1.4: a made binary is live on the process side, which counts it.
    const bool counted_there = term_refs_ && entry.obj.state == BinState::kMade;
    if (entry.present && entry.obj.live && !counted_there) ++stats.live;
  }
  return stats;
}

bool NifModel::OwnedAtEnd(const Object& obj) {
  const bool owned = obj.space == Space::kBin && obj.state == BinState::kOwned;
  // A resource the NIF still counts, or whose select was never stopped (the emulator keeps it,
  // and its file descriptor, for good).
  const bool counted = obj.space == Space::kRes && (obj.nif > 0 || obj.selected);
  const bool unfreed = obj.space == Space::kEnv && obj.independent;
  return owned || counted || unfreed;
}

void NifModel::Finish() {
  std::vector<const Object*> leaked;
  for (const Table& table : tables_) {
    for (const auto& [id, entry] : table) {
      const Object& obj = entry.obj;
      if (entry.present && obj.live && !obj.adopted && !obj.held && OwnedAtEnd(obj))
        leaked.push_back(&obj);
    }
  }
  std::sort(leaked.begin(), leaked.end(),
            [](const Object* a, const Object* b) { return a->serial < b->serial; });
  for (const Object* obj : leaked) {
    std::string message;
    switch (obj->space) {
      case Space::kBin:
        message = "NIF binary";
        if (obj->size) message += " (" + Plural(*obj->size, "byte") + ")";
        message +=
            " is still owned at the end of the trace: never released (enif_release_binary) nor "
            "made into a term (enif_make_binary)";
        if (obj->size) leaked_bytes_ += *obj->size;
        break;
      case Space::kRes:
        message = "resource";
        if (obj->size) message += " (" + Plural(*obj->size, "byte") + ")";
        if (obj->nif > 0) {
          message += " is still held by the NIF at the end of the trace (" +
                     Plural(obj->nif, "reference") +
                     " never released with enif_release_resource): its destructor never runs";
        } else {
          message +=
              " is still selected at the end of the trace: enif_select with "
              "ERL_NIF_SELECT_STOP was never called, so the emulator keeps the resource (and "
              "polls its file descriptor) for good; its destructor never runs";
        }
        if (obj->size) leaked_bytes_ += *obj->size;
        break;
      default:
        message =
            "environment is never freed (enif_free_env): it and every term in it stay "
            "allocated";
        break;
    }
    // The recorder looked (it wrote `held` lines) and found no pointer to this one: the
    // library lost it, which is the evidence that makes it a leak rather than a cache.
    if (scanned_) message += "; the library's memory held no pointer to it at exit";
    ReportLeak(*obj, std::move(message));
  }
}

// ---------------------------------------------------------------------------
// Environments.

void NifModel::Tie(Object& env, const Object& obj) {
  env.tied.push_back({obj.space, obj.id, obj.number});
}

void NifModel::EndTerms(Object& env, const Event& e) {
  std::vector<Object::Tied> tied = std::move(env.tied);
  env.tied.clear();
  for (const Object::Tied& t : tied) {
    Object* obj = Live(t.space, t.id);
    if (obj == nullptr || obj->number != t.number) continue;
    if (t.space == Space::kBin) {
      if (obj->state != BinState::kMade || obj->env != env.id || obj->env_number != env.number)
        continue;
      obj->terms_ended = true;
      Record(*obj, e);
      End(*obj, &e);
      continue;
    }
    // A view: it expires when the last environment holding its term ends it.
    auto& envs = obj->tied;
    envs.erase(std::remove_if(
                   envs.begin(), envs.end(),
                   [&](const Object::Tied& x) { return x.id == env.id && x.number == env.number; }),
               envs.end());
    if (!envs.empty()) continue;
    obj->terms_ended = true;
    Record(*obj, e);
    End(*obj, &e);
  }
}

void NifModel::AddTermReference(Object& env, const Event& e) {
  if (term_refs_ == nullptr) return;
  // A call's term is in its process's heap at once; an independent environment's term is
  // the emulator's until the environment is sent, cleared or freed.
  term_refs_->TermMade(e, env.independent ? std::string_view() : std::string_view(env.process));
  if (env.independent) env.term_refs.push_back(e.bin);
}

void NifModel::EndTermReferences(Object& env, const Event& e, bool sent) {
  std::vector<BinId> refs = std::move(env.term_refs);
  env.term_refs.clear();
  if (term_refs_ == nullptr) return;
  for (const BinId& bin : refs)
    term_refs_->TermLeftEnv(e, bin, sent);
}

bool NifModel::EnvUsable(const Event& e) {
  Object* env = Live(Space::kEnv, e.env);
  if (env == nullptr) {
    if (Entry* gone = Find(Space::kEnv, e.env)) {
      Report(Code::kUseAfterFree, gone->obj, e,
             Who(e) + " called " + std::string(WordsOf(e.op).history) + " " +
                 (gone->obj.independent ? "in an environment freed"
                                        : "in the environment of a call that returned") +
                 At(gone->obj.gone_at));
      return false;
    }
    env = &Adopt(Space::kEnv, e.env, e);
    env->independent = e.op == Op::kEnvSend;
  }
  if (env->sent) {
    Report(Code::kEnvReused, *env, e,
           Who(e) + " called " + std::string(WordsOf(e.op).history) +
               " in an environment it sent with enif_send without enif_clear_env since: its "
               "terms went into the message");
    // One missing clear, one error: the environment is taken as cleared and the op applies,
    // so a NIF that never clears gets one finding per send, not one per term it builds.
    env->sent = false;
  }
  Record(*env, e);
  return true;
}

void NifModel::ApplyEnvironment(const Event& e) {
  switch (e.op) {
    case Op::kNifEnter: {
      if (Object* old = Live(Space::kEnv, e.env)) {
        // A call whose return the trace lacks: its environment ends here, quietly.
        EndTerms(*old, e);
        End(*old, &e);
      }
      EndCallbackHold(e.env, e);
      Object& env = Start(Space::kEnv, e.env, e, /*adopted=*/false);
      env.independent = false;
      // A callback's environment has no process of its own (the recorder names none).
      if (!e.callback) env.process = e.actor;
      Record(env, e);
      return;
    }
    case Op::kEnvAlloc: {
      if (Object* old = Live(Space::kEnv, e.env)) {
        Report(Code::kAllocLive, *old, e,
               "enif_alloc_env returned an environment that is still live (incarnation " +
                   std::to_string(old->number) + ", started at event " +
                   std::to_string(old->history.front().event) + ")");
        old->adopted = true;  // abandoned: not reported as a leak
        End(*old, &e);
      }
      Object& env = Start(Space::kEnv, e.env, e, /*adopted=*/false);
      env.independent = true;
      Record(env, e);
      return;
    }
    case Op::kNifReturn:
    case Op::kEnvClear:
    case Op::kEnvFree: {
      Object* env = Live(Space::kEnv, e.env);
      if (env == nullptr) {
        if (Entry* gone = Find(Space::kEnv, e.env)) {
          const bool free = e.op == Op::kEnvFree;
          Report(free ? Code::kDoubleFree : Code::kUseAfterFree, gone->obj, e,
                 Who(e) + " " +
                     (free                     ? "freed an environment already freed"
                      : e.op == Op::kNifReturn ? "returned from a call whose environment ended"
                                               : "cleared an environment freed") +
                     At(gone->obj.gone_at));
          return;
        }
        env = &Adopt(Space::kEnv, e.env, e);
        env->independent = e.op != Op::kNifReturn;
      }
      Record(*env, e);
      EndTerms(*env, e);
      EndTermReferences(*env, e, /*sent=*/false);
      if (e.op == Op::kNifReturn) EndCallbackHold(e.env, e);
      if (e.op == Op::kEnvClear) {
        env->sent = false;
      } else {
        End(*env, &e);
      }
      return;
    }
    case Op::kEnvSend: {
      if (!EnvUsable(e)) return;
      if (e.failed) return;  // enif_send returned 0: nothing moved
      Object* env = Live(Space::kEnv, e.env);
      EndTerms(*env, e);
      EndTermReferences(*env, e, /*sent=*/true);
      env->sent = true;
      return;
    }
    case Op::kMakeCopy: {
      if (!EnvUsable(e)) return;
      if (e.res.present()) {
        Object* res = Live(Space::kRes, e.res);
        if (res == nullptr) {
          if (Entry* gone = Find(Space::kRes, e.res)) {
            Report(
                Code::kUseAfterFree, gone->obj, e,
                "enif_make_copy of a term holding a resource that is gone" + At(gone->obj.gone_at));
            return;
          }
          res = &Adopt(Space::kRes, e.res, e);
        }
        res->termed = true;
        Record(*res, e);
      }
      if (e.bin.present()) {
        Entry* bin = Find(Space::kBin, e.bin);
        // Model 1.4: whether a made binary is still alive is the process side's to say (the
        // NIF's view of it ends with its environment's terms; a process's term lives on).
        const bool counted_there = term_refs_ && bin && bin->obj.state == BinState::kMade;
        if (bin && !bin->obj.live && !counted_there) {
          Report(Code::kUseAfterFree, bin->obj, e,
                 "enif_make_copy of a term holding a binary that is gone" + At(bin->obj.gone_at));
          return;
        }
        if (bin) Record(bin->obj, e);
        AddTermReference(*Live(Space::kEnv, e.env), e);
      }
      return;
    }
    default:
      return;
  }
}

// ---------------------------------------------------------------------------
// Binaries and views.

NifModel::Object* NifModel::BinaryOfData(const BinId& data) {
  auto it = data_owner_.find(data);
  if (it == data_owner_.end()) return nullptr;
  Entry* entry = Find(Space::kBin, it->second);
  if (entry == nullptr || !(entry->obj.data == data)) return nullptr;
  return &entry->obj;
}

bool NifModel::CheckBytes(const Event& e, bool write) {
  const std::string who =
      Who(e) + " " +
      (e.op == Op::kBinUse ? (write ? "wrote to" : "read") : std::string(Verb(e.op)));
  // The binary a struct names: by ref_bin, or by data when the struct lost ref_bin.
  Object* bin = nullptr;
  Entry* bin_entry = nullptr;
  if (e.bin.present()) {
    bin_entry = Find(Space::kBin, e.bin);
    if (bin_entry == nullptr) {
      Object& adopted = Adopt(Space::kBin, e.bin, e);
      adopted.data = e.data;
      Record(adopted, e);
      return true;
    }
    bin = &bin_entry->obj;
  } else {
    Object* view = Live(Space::kData, e.data);
    if (view != nullptr) {
      if (write && !view->writable) {
        Report(Code::kMutateAfterOutput, *view, e,
               who + " inspected bytes: they belong to a term and are read-only");
        return false;
      }
      Record(*view, e);
      return true;
    }
    bin = BinaryOfData(e.data);
    if (bin == nullptr || !bin->live) {
      if (Entry* gone_view = Find(Space::kData, e.data)) {
        const Object& v = gone_view->obj;
        if (write && v.writable) {
          Report(Code::kMutateAfterOutput, v, e,
                 who + " the bytes of enif_make_new_binary after the call returned" +
                     At(v.gone_at) + ": the term is read-only from then on");
        } else {
          Report(Code::kBorrowExpired, v, e,
                 who + " " + Describe(v) + " after their borrow ended" + At(v.gone_at) +
                     ": the emulator may have freed them");
        }
        return false;
      }
      if (bin == nullptr) {
        Object unknown;
        unknown.space = Space::kData;
        unknown.id = e.data;
        Report(Code::kUnknownBinary, unknown, e,
               who +
                   " bytes the trace never gave the NIF (no binary, inspect or "
                   "enif_make_new_binary names them); nothing is assumed");
        return false;
      }
    }
  }
  if (!bin->live) {
    const bool made = bin->state != BinState::kOwned;
    Report(Code::kUseAfterFree, *bin, e,
           who + " a binary " +
               (made ? "made into a term whose environment ended its terms" : "released") +
               At(bin->gone_at) + (made ? ": it is as released" : ""));
    return false;
  }
  if (write && bin->state != BinState::kOwned) {
    Report(Code::kMutateAfterOutput, *bin, e,
           who + " a binary after " +
               (bin->state == BinState::kMade ? "enif_make_binary" : "enif_ioq_enq_binary") +
               ": its bytes are read-only from then on");
    return false;
  }
  Record(*bin, e);
  return true;
}

void NifModel::ApplyBinary(const Event& e) {
  const std::string who = Who(e);
  switch (e.op) {
    case Op::kBinAlloc:
    case Op::kBinRealloc: {
      if (e.op == Op::kBinAlloc || e.readonly) {
        if (term_refs_ && term_refs_->TermsStillHold(e, e.bin)) {
          // The process side's binary ended there; the new one starts.
          if (Object* old = Live(Space::kBin, e.bin)) End(*old, &e);
        }
        if (Object* old = Live(Space::kBin, e.bin)) {
          if (old->state == BinState::kOwned) {
            Report(
                Code::kAllocLive, *old, e,
                std::string(e.op == Op::kBinAlloc ? "enif_alloc_binary" : "enif_realloc_binary") +
                    " returned a binary the NIF still owns (incarnation " +
                    std::to_string(old->number) + ", started at event " +
                    std::to_string(old->history.front().event) + ")");
            old->adopted = true;  // abandoned: not reported as a leak
          }
          // A made or queued binary at this address: the emulator freed it since.
          End(*old, &e);
        }
        Object& bin = Start(Space::kBin, e.bin, e, /*adopted=*/false);
        bin.state = BinState::kOwned;
        bin.data = e.data;
        if (e.data.present()) data_owner_[e.data] = e.bin;
        Record(bin, e);
        return;
      }
      Object* bin = Live(Space::kBin, e.bin);
      if (bin == nullptr) {
        if (Entry* gone = Find(Space::kBin, e.bin)) {
          Report(Code::kUseAfterFree, gone->obj, e,
                 who + " reallocated a binary it released" + At(gone->obj.gone_at));
          return;
        }
        bin = &Adopt(Space::kBin, e.bin, e);
      }
      if (bin->state != BinState::kOwned) {
        Report(Code::kUseAfterFree, *bin, e,
               who + " reallocated a binary whose ownership moved to " +
                   (bin->state == BinState::kMade ? "a term" : "an I/O queue"));
        return;
      }
      if (e.size) bin->size = e.size;
      if (e.data.present()) {
        bin->data = e.data;
        data_owner_[e.data] = e.new_bin.present() ? e.new_bin : e.bin;
      }
      Record(*bin, e);
      if (e.new_bin.present() && !(e.new_bin == e.bin)) {
        // The block moved: the binary continues under new_bin; bin is gone.
        Object moved = *bin;
        End(*bin, &e);
        // A new Binary at new_bin: a made one the process side still counts there was
        // freed, as for bin_alloc (decision 214).
        if (term_refs_) term_refs_->TermsStillHold(e, e.new_bin);
        if (Object* there = Live(Space::kBin, e.new_bin)) {
          there->adopted = true;
          End(*there, &e);
        }
        Entry& entry = TableOf(Space::kBin)[e.new_bin];
        entry.present = true;
        moved.id = e.new_bin;
        moved.number = ++entry.incarnations;
        entry.obj = std::move(moved);
      }
      return;
    }
    case Op::kBinRelease: {
      if (!e.bin.present()) {
        // ref_bin is NULL: enif_release_binary does nothing. Which struct was it?
        std::string what;
        const Object* about = nullptr;
        if (Entry* view = Find(Space::kData, e.data)) {
          about = &view->obj;
          what = "of inspected bytes, which it never owned";
        } else if (Object* made = BinaryOfData(e.data)) {
          about = made;
          what = made->state == BinState::kOwned
                     ? "whose ref_bin is NULL (a struct filled in by hand?)"
                     : "after enif_make_binary moved its ownership to a term";
        }
        if (about == nullptr) {
          Object unknown;
          unknown.space = Space::kData;
          unknown.id = e.data;
          Report(Code::kUnknownBinary, unknown, e,
                 who + " released a struct without ref_bin whose bytes the trace never named");
          return;
        }
        Report(Code::kDoubleFree, *about, e,
               who + " released a binary " + what +
                   " (enif_release_binary ignores a struct without ref_bin, but a copy of "
                   "the struct would free the binary under its term)");
        return;
      }
      Object* bin = Live(Space::kBin, e.bin);
      if (bin == nullptr) {
        if (Entry* gone = Find(Space::kBin, e.bin)) {
          const bool made = gone->obj.state != BinState::kOwned;
          Report(Code::kDoubleFree, gone->obj, e,
                 who + " released a binary " +
                     (made ? "whose ownership moved to a term" : "already released") +
                     At(gone->obj.gone_at));
          return;
        }
        bin = &Adopt(Space::kBin, e.bin, e);
      }
      if (bin->state != BinState::kOwned) {
        Report(Code::kDoubleFree, *bin, e,
               who + " released a binary after " +
                   (bin->state == BinState::kMade ? "enif_make_binary" : "enif_ioq_enq_binary") +
                   " moved its ownership (through a copy of the struct: the emulator frees it "
                   "under the term)");
        return;
      }
      Record(*bin, e);
      End(*bin, &e);
      return;
    }
    case Op::kBinMake:
    case Op::kIoqEnq: {
      const bool make = e.op == Op::kBinMake;
      if (make && !EnvUsable(e)) return;
      if (!e.bin.present()) {
        CheckBytes(e, /*write=*/false);  // the emulator copies the bytes into a new term
        return;
      }
      Object* bin = Live(Space::kBin, e.bin);
      if (bin == nullptr) {
        if (Entry* gone = Find(Space::kBin, e.bin)) {
          Report(Code::kUseAfterFree, gone->obj, e,
                 who + " " + std::string(Verb(e.op)) + " a binary " +
                     (gone->obj.state == BinState::kOwned
                          ? "it released"
                          : "whose ownership had already moved to a term") +
                     At(gone->obj.gone_at));
          return;
        }
        bin = &Adopt(Space::kBin, e.bin, e);
      }
      if (bin->state != BinState::kOwned) {
        Report(Code::kUseAfterFree, *bin, e,
               who + " " + std::string(Verb(e.op)) +
                   " a binary whose ownership had already moved " +
                   (bin->state == BinState::kMade ? "to a term" : "to an I/O queue"));
        return;
      }
      if (make) {
        bin->state = BinState::kMade;
        Object* env = Live(Space::kEnv, e.env);
        bin->env = e.env;
        bin->env_number = env->number;
        Tie(*env, *bin);
        AddTermReference(*env, e);
      } else {
        bin->state = BinState::kQueued;
      }
      Record(*bin, e);
      return;
    }
    case Op::kBinMakeNew:
    case Op::kBinInspect: {
      if (!EnvUsable(e)) return;
      Object* env = Live(Space::kEnv, e.env);
      Object* view = Live(Space::kData, e.data);
      const bool writable = e.op == Op::kBinMakeNew;
      if (view != nullptr && (view->writable || writable)) {
        End(*view, &e);  // new bytes at this address: the emulator freed the old term
        view = nullptr;
      }
      if (view == nullptr) {
        view = &Start(Space::kData, e.data, e, /*adopted=*/false);
        view->writable = writable;
      }
      const bool tied = std::any_of(view->tied.begin(), view->tied.end(), [&](const auto& t) {
        return t.id == env->id && t.number == env->number;
      });
      if (!tied) {
        view->tied.push_back({Space::kEnv, env->id, env->number});
        Tie(*env, *view);
      }
      Record(*view, e);
      return;
    }
    case Op::kBinUse:
      CheckBytes(e, e.write);
      return;
    default:
      return;
  }
}

// ---------------------------------------------------------------------------
// Resources.

void NifModel::ApplyResource(const Event& e) {
  const std::string who = Who(e);
  if (e.op == Op::kResMake && !EnvUsable(e)) return;
  if (e.op == Op::kResAlloc) {
    if (Object* old = Live(Space::kRes, e.res)) {
      Report(Code::kAllocLive, *old, e,
             "enif_alloc_resource returned a resource that is still alive (incarnation " +
                 std::to_string(old->number) + ", started at event " +
                 std::to_string(old->history.front().event) + ")");
      old->adopted = true;
      End(*old, &e);
    }
    Object& res = Start(Space::kRes, e.res, e, /*adopted=*/false);
    res.nif = 1;
    Record(res, e);
    return;
  }
  Object* res = Live(Space::kRes, e.res);
  if (res == nullptr) {
    if (Entry* gone = Find(Space::kRes, e.res)) {
      Object& g = gone->obj;
      const std::string why =
          g.terms_ended ? "after its destructor ran" : "after its count reached 0";
      switch (e.op) {
        case Op::kResDtor:
          if (!g.terms_ended) {  // the destructor of a resource released to 0: expected
            g.terms_ended = true;
            Record(g, e);
            return;
          }
          Report(Code::kUseAfterFree, g, e, "the destructor ran again" + At(g.gone_at));
          return;
        case Op::kResRelease:
          if (g.nif > 0) {
            // A reference the destructor's refc-mismatch wrote off: the NIF
            // dropping it is that one bug, already reported.
            --g.nif;
            Record(g, e);
            return;
          }
          Report(Code::kDoubleFree, g, e, who + " released a resource " + why + At(g.gone_at));
          return;
        default:
          Report(Code::kUseAfterFree, g, e,
                 who + " " + std::string(Verb(e.op)) + " a resource " + why + At(g.gone_at) +
                     ": the emulator freed it");
          return;
      }
    }
    res = &Adopt(Space::kRes, e.res, e);
    if (e.op == Op::kResRelease) {
      res->nif = 1;
    } else {
      res->termed = true;  // alive through a term the trace did not show
    }
  }
  switch (e.op) {
    case Op::kResKeep:
      ++res->nif;
      Record(*res, e);
      return;
    case Op::kResRelease:
      if (res->nif < 1) {
        Report(Code::kDoubleFree, *res, e,
               who +
                   " released a resource it holds no reference to (its count is 0; the "
                   "references of its terms are the emulator's)");
        return;
      }
      --res->nif;
      Record(*res, e);
      if (res->nif == 0 && !EmulatorHolds(*res)) End(*res, &e);  // the emulator frees it now
      return;
    case Op::kResMake: {
      res->termed = true;
      Record(*res, e);
      return;
    }
    case Op::kResUse:
      Record(*res, e);
      return;
    case Op::kResDown:
    case Op::kResMonitor:
    case Op::kResDemonitor:
    case Op::kResSelect:
    case Op::kResSelectStop:
    case Op::kResStop:
      ApplyResourceEmulatorHold(*res, e);
      return;
    case Op::kResDtor:
      if (res->nif > 0) {
        Report(Code::kRefcMismatch, *res, e,
               "the destructor ran while the NIF still counts " + Plural(res->nif, "reference") +
                   ": the emulator freed the resource (a release the trace lacks?)");
        // res->nif stays: the references written off, whose releases follow.
      } else {
        Record(*res, e);
      }
      res->terms_ended = true;
      End(*res, &e);
      return;
    default:
      return;
  }
}

// Monitors, enif_select and the callbacks that hold a resource (trace format 1.5, checked in
// OTP 27's and 29's erl_nif.c and erl_check_io.c; decisions 110-113). A monitor is no
// reference; the emulator keeps its own reference across a down or stop callback and from
// the first enif_select that turns an event on until the stop callback has returned.

bool NifModel::EmulatorHolds(const Object& res) {
  return res.termed || res.selected || res.in_callbacks > 0;
}

void NifModel::ApplyResourceEmulatorHold(Object& res, const Event& e) {
  switch (e.op) {
    case Op::kResMonitor:
      if (!e.failed) ++res.monitors;
      break;
    case Op::kResDemonitor:
      if (!e.failed && res.monitors > 0) --res.monitors;
      break;
    case Op::kResSelect:
      if (!e.failed) res.selected = true;
      break;
    case Op::kResSelectStop:
      break;  // the stop callback (res_stop) ends the select's reference
    case Op::kResDown:
    case Op::kResStop: {
      if (e.op == Op::kResDown && res.monitors > 0) --res.monitors;
      // Written inside the callback (recorder 1.5 names its environment): the emulator holds
      // the resource until the callback returns.
      if (!e.env.present()) break;
      ++res.in_callbacks;
      callback_holds_[e.env] = {res.id, res.number, e.op == Op::kResStop};
      break;
    }
    default:
      break;
  }
  Record(res, e);
}

void NifModel::EndCallbackHold(const BinId& env, const Event& e) {
  const auto it = callback_holds_.find(env);
  if (it == callback_holds_.end()) return;
  const CallbackHold hold = it->second;
  callback_holds_.erase(it);
  Object* res = Live(Space::kRes, hold.res);
  if (res == nullptr || res->number != hold.number) return;
  if (res->in_callbacks > 0) --res->in_callbacks;
  if (hold.ends_select) res->selected = false;
  Record(*res, e);
  // The emulator's last reference: it frees the resource (its destructor comes next).
  if (res->nif == 0 && !EmulatorHolds(*res)) End(*res, &e);
}

// ---------------------------------------------------------------------------
// Observers.

void NifModel::Notify(const Object& obj, bool ended) {
  if (obj.history.total() == 0) return;
  LifetimeStep step;
  step.step = StepOf(obj.history.back(), strings_);
  step.ended = ended;
  step.object = KindOf(obj.space);
  step.nif = true;
  switch (obj.space) {
    case Space::kBin:
      if (obj.live && obj.state == BinState::kOwned) {
        step.holders.push_back({Holder::Nif(), 1});
      } else if (obj.live && obj.state == BinState::kMade) {
        step.holders.push_back({Holder::Term(obj.env.ToDisplay()), 1});
      } else {
        step.holders.push_back({Holder::Nif(), 0});
        if (obj.live) step.holders.push_back({Holder::Emulator(), 1});
      }
      break;
    case Space::kRes:
      // Named even at 0, so the words say "the NIF holds 0", not "driver holds 0".
      step.holders.push_back({Holder::Nif(), obj.nif});
      // Terms (counted as one), an active select, running callbacks.
      if (obj.live && EmulatorHolds(obj))
        step.holders.push_back(
            {Holder::Emulator(), (obj.termed ? 1 : 0) + (obj.selected ? 1 : 0) + obj.in_callbacks});
      break;
    case Space::kData:
      step.holders.push_back({Holder::Nif(), 0});
      for (const Object::Tied& t : obj.tied)
        step.holders.push_back({Holder::Term(t.id.ToDisplay()), 1});
      step.borrowed = obj.live;
      break;
    case Space::kEnv:
      step.holders.push_back({Holder::Nif(), obj.live ? 1 : 0});
      break;
  }
  int64_t refc = 0;
  for (const HolderCount& h : step.holders)
    refc += h.count;
  step.refc = refc;
  observer_->OnStep(obj.serial, obj.id, obj.number, obj.adopted, std::move(step));
}

}  // namespace refctrace::model
