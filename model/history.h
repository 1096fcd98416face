// A binary incarnation's event history, bounded: the first and the last
// events are kept and the ones between are counted, so memory per binary does
// not grow with the trace.
#pragma once

#include <cstdint>
#include <vector>

#include "model/finding.h"
#include "model/string_pool.h"
#include "trace/event.h"

namespace refctrace::model {

struct HistoryEntry {
  uint64_t event = 0;
  uint64_t line = 0;    // 0: unknown
  int64_t vm_refc = 0;  // the emulator's count after the event
  uint64_t size = 0;    // alloc/realloc size, when has_size
  StrRef actor = 0;
  StrRef to = 0;  // output/send destination; realloc: the id it moved to
  StrRef src = 0;
  StrRef func = 0;
  StrRef note = 0;
  trace::Op op = trace::Op::kEnd;
  bool copied = false;
  bool has_size = false;
};

class History {
 public:
  static constexpr size_t kDefaultHead = 16;
  static constexpr size_t kDefaultTail = 48;

  History() = default;
  History(size_t head, size_t tail) : head_limit_(head), tail_limit_(tail) {}

  // Empties the history and sets its limits, keeping allocated capacity.
  void Reset(size_t head, size_t tail);
  // Inline, like back(): the model adds an entry on nearly every event.
  void Add(const HistoryEntry& entry) {
    ++total_;
    if (head_.size() < head_limit_) {
      head_.push_back(entry);
    } else if (tail_.size() < tail_limit_) {
      tail_.push_back(entry);
    } else if (!tail_.empty()) {  // full: overwrite the oldest
      tail_[tail_start_] = entry;
      if (++tail_start_ == tail_.size()) tail_start_ = 0;
    }
  }
  uint64_t total() const { return total_; }
  // Where the next Add writes (nullptr when it writes nothing or must grow a vector first):
  // for a prefetch hint.
  const HistoryEntry* NextSlot() const {
    if (head_.size() < head_limit_) {
      return head_.size() < head_.capacity() ? head_.data() + head_.size() : nullptr;
    }
    if (tail_.size() < tail_limit_) {
      return tail_.size() < tail_.capacity() ? tail_.data() + tail_.size() : nullptr;
    }
    return tail_.empty() ? nullptr : tail_.data() + tail_start_;
  }
  // The newest kept entry that `match` accepts, copied to *out; returns its 1-based position
  // among all the entries added, or 0 when no kept entry matches.
  template <typename Match>
  uint64_t FindLast(Match match, HistoryEntry* out) const {
    for (size_t i = tail_.size(); i-- > 0;) {
      const HistoryEntry& e = tail_[(tail_start_ + i) % tail_.size()];
      if (match(e)) {
        *out = e;
        return total_ - tail_.size() + i + 1;
      }
    }
    for (size_t i = head_.size(); i-- > 0;) {
      if (match(head_[i])) {
        *out = head_[i];
        return i + 1;
      }
    }
    return 0;
  }
  // Entries in event order; the `omitted` events fall between position
  // `head().size()` and the first tail entry.
  const std::vector<HistoryEntry>& head() const { return head_; }
  std::vector<HistoryEntry> Tail() const;
  uint64_t omitted() const { return total_ - head_.size() - tail_.size(); }
  const HistoryEntry& front() const { return head_.front(); }
  const HistoryEntry& back() const {
    if (tail_.empty()) return head_.back();
    // The newest tail entry is just before the oldest (tail_start_ is 0 until the ring is full).
    return tail_[(tail_start_ == 0 ? tail_.size() : tail_start_) - 1];
  }
  HistoryEntry& mutable_back() { return const_cast<HistoryEntry&>(back()); }

 private:
  size_t head_limit_ = kDefaultHead;
  size_t tail_limit_ = kDefaultTail;
  uint64_t total_ = 0;
  std::vector<HistoryEntry> head_;
  std::vector<HistoryEntry> tail_;  // ring buffer once full
  size_t tail_start_ = 0;           // oldest tail entry
};

// An entry as a step of a finding or an observer, its strings resolved.
Step StepOf(const HistoryEntry& entry, const StringPool& strings);
// Appends the kept entries of `history` to f->history, each saying how many were left out just
// before it.
void AppendHistory(const History& history, const StringPool& strings, Finding* f);

}  // namespace refctrace::model
