// A reader's events, a few read before they are handed out, so that the model can be told
// about them early (Model::Prefetch*, one stage per event ahead) and their cache misses overlap
// with the events before.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "model/model.h"
#include "trace/event.h"
#include "trace/reader.h"

namespace refctrace::cli {

class EventLookahead {
 public:
  // The event handed out and the ones read after it.
  static constexpr size_t kDepth = 5;

  explicit EventLookahead(trace::TraceReader& reader) : reader_(reader) {}

  // The next event (kEvent, *event set; it stays valid until the next call), or the status
  // that ended the reader: its kEnd or kError comes after every event read before it.
  trace::ReadStatus Next(trace::Event** event) {
    if (handed_out_) {
      head_ = (head_ + 1) & kMask;
      --buffered_;
    }
    while (buffered_ < kDepth && !stopped_) {
      const size_t at = (head_ + buffered_) & kMask;
      status_[at] = reader_.Next(&events_[at]);
      hints_[at] = {};
      stopped_ = status_[at] != trace::ReadStatus::kEvent;
      ++buffered_;
    }
    handed_out_ = status_[head_] == trace::ReadStatus::kEvent;
    if (handed_out_) ++delivered_;
    *event = &events_[head_];
    return status_[head_];
  }

  // The event `k` places after the one Next handed out (1 <= k < kDepth), or nullptr when
  // there is none.
  const trace::Event* Ahead(size_t k) const {
    if (k >= buffered_) return nullptr;
    const size_t at = (head_ + k) & kMask;
    return status_[at] == trace::ReadStatus::kEvent ? &events_[at] : nullptr;
  }
  // What the model's prefetch stages found for that event (see Ahead; 0: the one handed out).
  model::Model::PrefetchHint& HintAhead(size_t k) { return hints_[(head_ + k) & kMask]; }

  // Events handed out so far (those read ahead are not counted).
  uint64_t delivered() const { return delivered_; }

 private:
  // The ring has a power-of-two size, so a position is a mask, not a division (the replay
  // computes one per stage per event); the places past kDepth stay unused.
  static constexpr size_t kRing = 8;
  static constexpr size_t kMask = kRing - 1;
  static_assert(kDepth <= kRing);

  trace::TraceReader& reader_;
  std::array<trace::Event, kRing> events_;
  std::array<trace::ReadStatus, kRing> status_{};
  std::array<model::Model::PrefetchHint, kRing> hints_{};
  size_t head_ = 0;
  size_t buffered_ = 0;  // entries from head_ on: events, then perhaps the final status
  bool handed_out_ = false;
  bool stopped_ = false;
  uint64_t delivered_ = 0;
};

}  // namespace refctrace::cli
