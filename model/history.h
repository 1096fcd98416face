// A binary incarnation's event history, bounded: the first and the last
// events are kept and the ones between are counted, so memory per binary does
// not grow with the trace.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
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
  History(size_t head, size_t tail) { Reset(head, tail); }
  History(const History& other);
  History& operator=(const History& other);
  History(History&&) noexcept = default;
  History& operator=(History&&) noexcept = default;
  ~History() = default;

  // Empties the history and sets its limits, keeping allocated capacity.
  void Reset(size_t head, size_t tail);
  // Inline: the model adds an entry on nearly every event.
  void Add(const HistoryEntry& entry) {
    ++total_;
    PackedEntry* at;
    size_t position;  // head positions, then the tail's (see entries_)
    if (entries_.size() < size_t{head_limit_} + tail_limit_) {
      position = entries_.size();
      at = &entries_.emplace_back();
    } else if (tail_limit_ != 0) {  // full: overwrite the oldest tail entry
      position = size_t{head_limit_} + tail_start_;
      at = &entries_[position];
      if (wide_ && !wide_->empty()) [[unlikely]]
        DropWide(position, at);
      if (++tail_start_ == tail_limit_) tail_start_ = 0;
    } else {
      back_position_ = kNone;
      return;
    }
    back_position_ = static_cast<uint32_t>(position);
    if (!Pack(entry, at)) [[unlikely]]
      AddWide(entry, at, position);
  }
  // The emulator's count after the newest entry's event, known once the event was applied
  // (nothing when that entry was not kept).
  void SetBackVmRefc(int64_t vm_refc) {
    if (back_position_ == kNone) return;
    PackedEntry& back = At(back_position_);
    if (!back.Wide() && vm_refc >= INT32_MIN && vm_refc <= INT32_MAX) [[likely]] {
      back.vm_refc = static_cast<int32_t>(vm_refc);
      return;
    }
    SetWideVmRefc(vm_refc);
  }
  uint64_t total() const { return total_; }
  // Where the next Add writes (nullptr when it writes nothing or must grow a vector first),
  // and where the first entry is (nullptr: none): for prefetch hints.
  const void* NextSlot() const {
    if (entries_.size() < size_t{head_limit_} + tail_limit_) {
      return entries_.size() < entries_.capacity() ? entries_.data() + entries_.size() : nullptr;
    }
    return tail_limit_ == 0 ? nullptr : entries_.data() + head_limit_ + tail_start_;
  }
  const void* FirstSlot() const { return entries_.empty() ? nullptr : entries_.data(); }
  // The newest kept entry whose op `match` accepts, copied to *out; returns its 1-based
  // position among all the entries added, or 0 when no kept entry matches. By op alone: the
  // op is read from the packed entry, and only the match is unpacked (a binary that processes
  // released has its driver's last release far back, when it is kept).
  template <typename MatchOp>
  uint64_t FindLastOp(MatchOp match, HistoryEntry* out) const {
    const size_t head = HeadSize(), tail = entries_.size() - head;
    for (size_t i = tail; i-- > 0;) {
      const size_t position = TailPosition(i, tail);
      if (match(entries_[position].op())) {
        *out = Unpack(position);
        return total_ - tail + i + 1;
      }
    }
    for (size_t i = head; i-- > 0;) {
      if (match(entries_[i].op())) {
        *out = Unpack(i);
        return i + 1;
      }
    }
    return 0;
  }
  // Entries in event order; the `omitted` events fall between the last of Head() and the
  // first of Tail().
  std::vector<HistoryEntry> Head() const;
  std::vector<HistoryEntry> Tail() const;
  uint64_t omitted() const { return total_ - entries_.size(); }
  // The first and the newest kept entries; both need one (total() > 0, a head limit above 0).
  HistoryEntry front() const { return Unpack(0); }
  HistoryEntry back() const;

 private:
  // An entry in 32 bytes rather than HistoryEntry's 56: the model writes one per event into
  // memory it last touched long ago, so an entry's size is about what a cache miss costs
  // (bench/README.md, round 7). An entry whose values do not fit (an event past 2^48, a line
  // or count past 32 bits, a note, a size that does not share `to`'s place) is kept whole in
  // wide_ instead, by its position, so the packed one only says so.
  struct PackedEntry {
    static constexpr uint64_t kEventBits = 48;
    static constexpr uint64_t kFlagsShift = 56;
    static constexpr uint64_t kCopied = 1, kHasSize = 2, kWide = 4;  // flags
    uint64_t event_op_flags = 0;  // event: the low 48 bits; op: the next 8; flags: the top 8
    uint32_t line = 0;
    int32_t vm_refc = 0;
    uint32_t to_or_size = 0;  // the size when kHasSize (`to` is then empty), else `to`
    StrRef actor = 0;
    StrRef src = 0;
    StrRef func = 0;
    uint64_t flags() const { return event_op_flags >> kFlagsShift; }
    trace::Op op() const { return static_cast<trace::Op>((event_op_flags >> kEventBits) & 0xff); }
    bool Wide() const { return (flags() & kWide) != 0; }
  };
  static_assert(sizeof(PackedEntry) == 32);

  static constexpr uint32_t kNone = UINT32_MAX;
  PackedEntry& At(size_t position) { return entries_[position]; }
  // Entries kept at head positions (the rest of entries_ is the tail's).
  size_t HeadSize() const { return std::min<size_t>(entries_.size(), head_limit_); }
  // The position of the i-th oldest of the `tail` entries the tail keeps.
  size_t TailPosition(size_t i, size_t tail) const {
    return head_limit_ + (tail_start_ + i) % tail;
  }
  const PackedEntry& At(size_t position) const { return const_cast<History*>(this)->At(position); }

  // Packs `entry` into *at; false (nothing written) when it does not fit.
  static bool Pack(const HistoryEntry& entry, PackedEntry* at) {
    const bool size_fits = !entry.has_size || (entry.to == 0 && entry.size <= UINT32_MAX);
    if (entry.event >> PackedEntry::kEventBits || entry.line > UINT32_MAX ||
        entry.vm_refc < INT32_MIN || entry.vm_refc > INT32_MAX || entry.note != 0 || !size_fits)
      return false;
    const uint64_t flags =
        (entry.copied ? PackedEntry::kCopied : 0) | (entry.has_size ? PackedEntry::kHasSize : 0);
    at->event_op_flags = entry.event |
                         (uint64_t{static_cast<uint8_t>(entry.op)} << PackedEntry::kEventBits) |
                         (flags << PackedEntry::kFlagsShift);
    at->line = static_cast<uint32_t>(entry.line);
    at->vm_refc = static_cast<int32_t>(entry.vm_refc);
    at->to_or_size = entry.has_size ? static_cast<uint32_t>(entry.size) : entry.to;
    at->actor = entry.actor;
    at->src = entry.src;
    at->func = entry.func;
    return true;
  }
  // The entry at `position` (see Add) as it was added.
  HistoryEntry Unpack(size_t position) const;
  // Out of line: entries that do not pack are rare.
  void AddWide(const HistoryEntry& entry, PackedEntry* at, size_t position);
  void SetWideVmRefc(int64_t vm_refc);
  HistoryEntry& WideAt(size_t position);
  const HistoryEntry& WideAt(size_t position) const {
    return const_cast<History*>(this)->WideAt(position);
  }
  // The entry at `position`, *at, is overwritten: its WideEntry goes.
  void DropWide(size_t position, PackedEntry* at);

  // 32-bit members, one vector and wide_ behind a pointer: a History sits in the first two
  // cache lines of the model's Incarnation, which every event loads (Model::PrefetchBinary).
  uint32_t head_limit_ = kDefaultHead;  // Reset keeps head + tail below kNone
  uint32_t tail_limit_ = kDefaultTail;
  uint64_t total_ = 0;
  // The kept entries by position: the first head_limit_ are the head; the ones after them the
  // tail, a ring once full (tail_start_ is its oldest). One vector, not two: it keeps History
  // small enough for those two lines (bench/README.md, round 8).
  std::vector<PackedEntry> entries_;
  uint32_t tail_start_ = 0;
  uint32_t back_position_ = kNone;  // the newest entry's (kNone: none, or nothing kept)
  // The entries that did not pack, by position: nearly always none or one (a realloc that
  // moved the binary has both a size and a `to`), so a list, not a table by position.
  struct WideEntry {
    size_t position = 0;
    HistoryEntry entry;
  };
  std::unique_ptr<std::vector<WideEntry>> wide_;  // made for the first entry that does not pack
};
static_assert(sizeof(History) <= 56, "History is part of the two lines PrefetchBinary loads");

// An entry as a step of a finding or an observer, its strings resolved.
Step StepOf(const HistoryEntry& entry, const StringPool& strings);
// Appends the kept entries of `history` to f->history, each saying how many were left out just
// before it.
void AppendHistory(const History& history, const StringPool& strings, Finding* f);

}  // namespace refctrace::model
