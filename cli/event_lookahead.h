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

  // An event read, and what the model's prefetch stages found for it so far.
  struct Place {
    trace::Event event;
    model::Model::PrefetchHint hint;
  };

  explicit EventLookahead(trace::TraceReader& reader) : reader_(reader) {}

  // The next event (kEvent, *event set; it stays valid until the next call), or the status
  // that ended the reader: its kEnd or kError comes after every event read before it.
  trace::ReadStatus Next(Place** event) {
    if (handed_out_) {
      head_ = (head_ + 1) & kMask;
      --buffered_;
    }
    while (buffered_ < kDepth && !stopped_) {
      Place& place = ring_[(head_ + buffered_) & kMask];
      const trace::ReadStatus status = reader_.Next(&place.event);
      if (status != trace::ReadStatus::kEvent) {
        stopped_ = true;
        end_status_ = status;
        break;
      }
      place.hint = {};
      ++buffered_;
    }
    handed_out_ = buffered_ > 0;
    if (!handed_out_) return end_status_;
    ++delivered_;
    *event = &ring_[head_];
    return trace::ReadStatus::kEvent;
  }

  // The event `k` places after the one Next handed out (1 <= k < kDepth), or nullptr when
  // there is none.
  Place* Ahead(size_t k) { return k < buffered_ ? &ring_[(head_ + k) & kMask] : nullptr; }

  // Events handed out so far (those read ahead are not counted).
  uint64_t delivered() const { return delivered_; }

 private:
  // The ring has a power-of-two size, so a position is a mask, not a division (the replay
  // computes one per stage per event); the places past kDepth stay unused.
  static constexpr size_t kRing = 8;
  static constexpr size_t kMask = kRing - 1;
  static_assert(kDepth <= kRing);

  trace::TraceReader& reader_;
  std::array<Place, kRing> ring_;
  size_t head_ = 0;
  size_t buffered_ = 0;  // events from head_ on (the one handed out included)
  bool handed_out_ = false;
  bool stopped_ = false;  // the reader said kEnd or kError: end_status_
  trace::ReadStatus end_status_ = trace::ReadStatus::kEnd;
  uint64_t delivered_ = 0;
};

}  // namespace refctrace::cli
