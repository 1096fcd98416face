// A binary's life step by step, for pictures and `show`: what each event did
// and who held references after it. Filled by a LifetimeObserver.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/finding.h"
#include "model/holder.h"
#include "trace/event.h"

namespace refctrace::model {

// How a later event decided an uncertain release (a gc with `among`, model 1.3): how many of
// the incarnation's references it took, at which event, and why (decision 69).
struct UncertainDecision {
  uint64_t event = 0;    // the event that decided it
  int64_t released = 0;  // references of this incarnation the release took (0: not its)
  std::string how;       // "its recorded count", "the only candidate left", ...
};

// A step lists at most this many processes among its holders (the first that hold the
// incarnation, in the order they first held it); the rest are counted in `unlisted`. Listing
// every process on every step made `show` and `graph` quadratic in the processes holding one
// binary at once (decision 247).
constexpr size_t kListedProcesses = 16;

// The processes holding an incarnation after a step beyond the listed ones, and the references
// they hold between them (in messages and heaps).
struct UnlistedProcesses {
  uint64_t processes = 0;
  int64_t references = 0;

  friend bool operator==(const UnlistedProcesses& a, const UnlistedProcesses& b) {
    return a.processes == b.processes && a.references == b.references;
  }
};

struct LifetimeStep {
  Step step;
  int64_t refc = 0;  // accounted count after the step (sum of holders)
  // Non-zero holders after the step: driver, queue, then each process's
  // message and heap (in the order the processes first held it; at most kListedProcesses
  // processes), emulator. A NIF object's always starts with the NIF's count, 0 included
  // (model 1.3).
  std::vector<HolderCount> holders;
  UnlistedProcesses unlisted;  // the holding processes `holders` leaves out
  bool borrowed = false;       // the driver uses it inside a callback after the step
  bool ended = false;          // this step freed the incarnation (refc reached 0)
  // What the incarnation is (model 1.3): a binary (the driver's, or with `nif` the NIF's), or
  // one of the NIF's other objects. The same on every step of an incarnation.
  ObjectKind object = ObjectKind::kBinary;
  bool nif = false;
  // A release that may have been this incarnation's, one of `among` candidates (0: an
  // ordinary step); nothing is subtracted from the holders until it is decided.
  uint32_t among = 0;
  std::optional<UncertainDecision> decided;  // set when a later event decided it
};

// Called once per event for every incarnation the event touched, after the
// event is fully applied.
class LifetimeObserver {
 public:
  virtual ~LifetimeObserver() = default;
  // `serial` is unique per incarnation within one replay (1, 2, ... in start
  // order); `bin` is the id at this step (realloc may move it).
  virtual void OnStep(uint64_t serial, const trace::BinId& bin, uint32_t incarnation, bool adopted,
                      LifetimeStep&& step) = 0;
  // Whether OnStep for this step needs `step.holders`, asked with everything else of the step
  // already filled in. Listing every holder costs as much as there are holders, on every step:
  // with thousands of processes holding one binary, asking for them for steps nobody keeps made
  // `show` quadratic.
  virtual bool WantsHolders(uint64_t /*serial*/, const trace::BinId& /*bin*/,
                            uint32_t /*incarnation*/, const LifetimeStep& /*step*/) const {
    return true;
  }
  // A later event decided the uncertain release at `release_event` (a step of `serial` with
  // `among`). Called before that event's OnStep.
  virtual void OnUncertainDecided(uint64_t /*serial*/, uint64_t /*release_event*/,
                                  const UncertainDecision& /*decision*/) {}
};

}  // namespace refctrace::model
