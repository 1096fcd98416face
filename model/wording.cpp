#include "model/wording.h"

#include <array>

namespace refctrace::model {

using trace::Op;

namespace {

// Indexed by Op (tests/wording_test.cpp checks that every op has its row). An
// empty verb or label is the op's name in the trace format.
constexpr std::array<OpWords, trace::kOpCount> kOpWords = {{
    {"allocated", "allocated", ""},                               // kAlloc
    {"reallocated", "reallocated", ""},                           // kRealloc
    {"freed", "freed", ""},                                       // kFree
    {"incremented the count of", "driver_binary_inc_refc", ""},   // kInc
    {"decremented the count of", "driver_binary_dec_refc", ""},   // kDec
    {"read the count of", "driver_binary_get_refc", ""},          // kObserve
    {"wrote to", "written", ""},                                  // kWrite
    {"read", "read", ""},                                         // kRead
    {"output", "output", ""},                                     // kOutput
    {"queued", "queued on the port", ""},                         // kEnq
    {"dequeued", "dequeued from the port", ""},                   // kDeq
    {"borrowed", "borrowed in a callback", ""},                   // kBorrow
    {"returned", "callback returned", ""},                        // kUnborrow
    {"replied with", "returned through *rbuf", ""},               // kReply
    {"", "port stopped", "port stop"},                            // kStop
    {"received", "received", ""},                                 // kReceive
    {"sent", "sent", ""},                                         // kSend
    {"garbage-collected", "garbage-collected", ""},               // kGc
    {"", "exited", ""},                                           // kExit
    {"entered", "NIF call entered", "enter"},                     // kNifEnter
    {"returned from", "NIF call returned", "return"},             // kNifReturn
    {"allocated", "enif_alloc_env", ""},                          // kEnvAlloc
    {"cleared", "enif_clear_env", ""},                            // kEnvClear
    {"freed", "enif_free_env", ""},                               // kEnvFree
    {"sent", "enif_send", ""},                                    // kEnvSend
    {"copied a term with enif_make_copy", "enif_make_copy", ""},  // kMakeCopy
    {"allocated", "enif_alloc_binary", ""},                       // kBinAlloc
    {"reallocated", "enif_realloc_binary", ""},                   // kBinRealloc
    {"released", "enif_release_binary", ""},                      // kBinRelease
    {"made a term of", "enif_make_binary", ""},                   // kBinMake
    {"made", "enif_make_new_binary", ""},                         // kBinMakeNew
    {"inspected", "inspected", ""},                               // kBinInspect
    {"used", "used", ""},                                         // kBinUse
    {"queued", "enif_ioq_enq_binary", ""},                        // kIoqEnq
    {"allocated", "enif_alloc_resource", ""},                     // kResAlloc
    {"kept", "enif_keep_resource", ""},                           // kResKeep
    {"released", "enif_release_resource", ""},                    // kResRelease
    {"made a term of", "enif_make_resource", ""},                 // kResMake
    {"used", "used", ""},                                         // kResUse
    {"ran the down callback of", "down callback", ""},            // kResDown
    {"ran the destructor of", "destructor ran", ""},              // kResDtor
    {"monitored a process with", "enif_monitor_process", ""},     // kResMonitor
    {"demonitored a process of", "enif_demonitor_process", ""},   // kResDemonitor
    {"selected an event with", "enif_select", ""},                // kResSelect
    {"asked to stop the select of", "enif_select STOP", ""},      // kResSelectStop
    {"ran the stop callback of", "stop callback", ""},            // kResStop
    {"still referenced", "still referenced by the library", ""},  // kHeld
    {"", "end of trace", "end of trace"},                         // kEnd
}};

}  // namespace

const OpWords& WordsOf(Op op) {
  return kOpWords[static_cast<size_t>(op)];
}

std::string_view Verb(Op op) {
  const std::string_view verb = WordsOf(op).verb;
  return verb.empty() ? trace::OpName(op) : verb;
}

std::string DescribeStep(const Step& step) {
  const OpWords& words = WordsOf(step.op);
  std::string s(words.history);
  const bool driver = step.actor.empty() || step.actor == "driver" || step.actor == "nif";
  const std::string by = driver ? "" : " by " + step.actor;
  switch (step.op) {
    case Op::kAlloc:
      if (step.size) s += " " + Plural(*step.size, "byte");
      break;
    case Op::kRealloc:
      if (step.size) s += " to " + Plural(*step.size, "byte");
      if (!step.to.empty()) s += ", moved to " + step.to;
      break;
    case Op::kOutput:
      s += " to " + step.to;
      if (step.copied) s += " (copied, no reference)";
      break;
    case Op::kReply:
      if (!step.to.empty()) s += " to " + step.to;
      if (step.copied) s += " (copied, no reference)";
      s += by;
      break;
    case Op::kReceive:
    case Op::kGc:
      s += " by " + step.actor;
      break;
    case Op::kSend:
      s += " by " + step.actor + " to " + step.to;
      if (step.copied) s += " (copied, no reference)";
      break;
    case Op::kExit:
      s = step.actor + " " + s;
      break;
    case Op::kStop:
    case Op::kEnd:
      break;
    case Op::kNifEnter:
      if (!step.note.empty()) s += " (" + step.note + ")";
      s += by;
      if (!step.src.empty()) s += " at " + step.src;
      if (!step.func.empty()) s += " in " + step.func;
      return s;
    case Op::kEnvSend:
      if (!step.to.empty()) s += " to " + step.to;
      break;
    case Op::kBinMake:
    case Op::kBinMakeNew:
    case Op::kBinInspect:
    case Op::kResMake:
    case Op::kMakeCopy:
      if (!step.to.empty()) s += " in environment " + step.to;
      if (step.copied) s += " (copied onto the heap)";
      break;
    case Op::kBinAlloc:
    case Op::kResAlloc:
      if (step.size) s += " " + Plural(*step.size, "byte");
      break;
    case Op::kHeld:
      if (!step.to.empty()) s += " (in " + step.to + ")";
      break;
    case Op::kBinRealloc:
      if (step.size) s += " to " + Plural(*step.size, "byte");
      if (!step.to.empty()) s += ", moved to " + step.to;
      break;
    default:  // the driver's own calls, which a process may make too
      s += by;
      break;
  }
  if (!step.src.empty()) s += " at " + step.src;
  if (!step.func.empty()) s += " in " + step.func;
  if (!step.note.empty()) s += " [" + step.note + "]";
  return s;
}

std::string EventSummary(const Step& step) {
  const std::string_view label = WordsOf(step.op).label;
  std::string text(label.empty() ? trace::OpName(step.op) : label);
  switch (step.op) {
    case Op::kAlloc:
      if (step.size) text += " " + std::to_string(*step.size) + " B";
      break;
    case Op::kRealloc:
      if (step.size) text += " " + std::to_string(*step.size) + " B";
      if (!step.to.empty()) text += " → " + step.to;
      break;
    case Op::kOutput:
    case Op::kSend:
      text += " → " + step.to;
      if (step.copied) text += " (copied)";
      break;
    case Op::kReply:
      if (!step.to.empty()) text += " → " + step.to;
      if (step.copied) text += " (copied)";
      break;
    case Op::kBinAlloc:
    case Op::kResAlloc:
    case Op::kBinRealloc:
      if (step.size) text += " " + std::to_string(*step.size) + " B";
      if (step.op == Op::kBinRealloc && !step.to.empty()) text += " → " + step.to;
      break;
    case Op::kEnvSend:
    case Op::kBinMake:
    case Op::kBinMakeNew:
    case Op::kBinInspect:
    case Op::kResMake:
    case Op::kMakeCopy:
      if (!step.to.empty()) text += " → " + step.to;
      break;
    case Op::kHeld:
      if (!step.to.empty()) text += " (" + step.to + ")";
      break;
    default:
      break;
  }
  return text;
}

void HoldersPhrase::Add(const HolderCount& h) {
  switch (h.holder.kind) {
    case HolderKind::kDriver:
      Driver(h.count);
      break;
    case HolderKind::kQueue:
      Queue(h.holder.process, h.count);
      break;
    case HolderKind::kEmulator:
      Emulator(h.count);
      break;
    case HolderKind::kMessage:
      Process(h.holder.process, h.count, 0);
      break;
    case HolderKind::kHeap:
      Process(h.holder.process, 0, h.count);
      break;
    case HolderKind::kNif:
      nif_ += h.count;
      nif_seen_ = true;
      break;
    case HolderKind::kTerm:
      Term(h.holder.process, h.count);
      break;
  }
}

void HoldersPhrase::Term(std::string_view env, int64_t n) {
  nif_seen_ = true;
  if (n == 0) return;
  for (auto& [name, count] : terms_) {
    if (name == env) {
      count += n;
      return;
    }
  }
  terms_.emplace_back(env, n);
}

void HoldersPhrase::Queue(std::string_view port, int64_t n) {
  if (n == 0) return;
  for (auto& [name, count] : queues_) {
    if (name == port) {
      count += n;
      return;
    }
  }
  queues_.emplace_back(port, n);
}

void HoldersPhrase::Process(std::string_view pid, int64_t unreceived, int64_t heap) {
  if (unreceived + heap == 0) return;
  if (!last_pid_.empty() && pid == last_pid_) {
    if (last_named_) {
      named_.back().unreceived += unreceived;
      named_.back().heap += heap;
    } else {
      others_hold_ += unreceived + heap;
    }
    return;
  }
  last_pid_ = pid;
  last_named_ = named_.size() < kNamed;
  if (last_named_) {
    named_.push_back({std::string(pid), unreceived, heap});
  } else {
    ++others_;
    others_hold_ += unreceived + heap;
  }
}

void HoldersPhrase::Unlisted(const UnlistedProcesses& rest) {
  if (rest.processes == 0) return;
  others_ += static_cast<int64_t>(rest.processes);
  others_hold_ += rest.references;
  last_pid_.clear();  // a process fed next is not one of these
  last_named_ = false;
}

std::string HoldersPhrase::Text() const {
  // A NIF object names the NIF first; a binary of a driver (or of both) names the driver.
  std::string s = nif_seen_ && driver_ == 0 ? "the NIF holds " + std::to_string(nif_)
                                            : "driver holds " + std::to_string(driver_);
  if (nif_seen_ && driver_ != 0) s += "; the NIF holds " + std::to_string(nif_);
  if (borrowed_) s += nif_seen_ ? " (inspected bytes of a term)" : " (borrowed in a callback)";
  for (const auto& [env, count] : terms_)
    s += "; a term in environment " + env + " holds " + std::to_string(count);
  for (const auto& [port, count] : queues_) {
    s += port.empty() ? "; the port queue holds " : "; the queue of port " + port + " holds ";
    s += std::to_string(count);
  }
  for (const Named& p : named_) {
    s += "; " + p.pid + " holds " + std::to_string(p.unreceived + p.heap);
    if (p.unreceived && p.heap) s += " (" + std::to_string(p.unreceived) + " unreceived)";
    if (p.unreceived && !p.heap) s += " (unreceived)";
  }
  if (others_) {
    s += "; " + std::to_string(others_) +
         (others_ == 1 ? " more process holds " : " more processes hold ") +
         std::to_string(others_hold_);
  }
  if (emulator_) s += "; the emulator holds " + std::to_string(emulator_);
  return s;
}

std::string DescribeHolders(const std::vector<HolderCount>& holders, bool borrowed,
                            const UnlistedProcesses& unlisted) {
  HoldersPhrase phrase(borrowed);
  for (const HolderCount& h : holders)
    phrase.Add(h);
  phrase.Unlisted(unlisted);
  return phrase.Text();
}

}  // namespace refctrace::model
