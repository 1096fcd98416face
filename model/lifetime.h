// A binary's life step by step, for pictures and `show`: what each event did
// and who held references after it. Filled by a LifetimeObserver.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/finding.h"
#include "model/holder.h"
#include "trace/event.h"

namespace refctrace::model {

struct LifetimeStep {
  Step step;
  int64_t refc = 0;  // accounted count after the step (sum of holders)
  // Non-zero holders after the step: driver, queue, then each process's
  // message and heap (in the order the processes first held it), emulator. A NIF object's
  // always starts with the NIF's count, 0 included (model 1.3).
  std::vector<HolderCount> holders;
  bool borrowed = false;  // the driver uses it inside a callback after the step
  bool ended = false;     // this step freed the incarnation (refc reached 0)
};

// Called once per event for every incarnation the event touched, after the
// event is fully applied.
class LifetimeObserver {
 public:
  virtual ~LifetimeObserver() = default;
  // `serial` is unique per incarnation within one replay (1, 2, ... in start
  // order); `bin` is the id at this step (realloc may move it).
  virtual void OnStep(uint64_t serial, const trace::BinId& bin, uint32_t incarnation, bool adopted,
                      const LifetimeStep& step) = 0;
};

}  // namespace refctrace::model
