#include "model/history.h"

#include <algorithm>
#include <cstdlib>
#include <utility>

namespace refctrace::model {

void History::Reset(size_t head, size_t tail) {
  // Positions (head ones, then tail ones) and kNone fit 32 bits; no history is that long.
  constexpr size_t kMaxLimit = kNone / 2 - 1;
  head_limit_ = static_cast<uint32_t>(std::min(head, kMaxLimit));
  tail_limit_ = static_cast<uint32_t>(std::min(tail, kMaxLimit));
  total_ = 0;
  entries_.clear();
  tail_start_ = 0;
  if (wide_) wide_->clear();
  back_position_ = kNone;
}

History::History(const History& other)
    : head_limit_(other.head_limit_),
      tail_limit_(other.tail_limit_),
      total_(other.total_),
      entries_(other.entries_),
      tail_start_(other.tail_start_),
      back_position_(other.back_position_),
      wide_(other.wide_ ? std::make_unique<std::vector<WideEntry>>(*other.wide_) : nullptr) {}

History& History::operator=(const History& other) {
  if (this != &other) *this = History(other);
  return *this;
}

HistoryEntry History::Unpack(size_t position) const {
  const PackedEntry& packed = entries_[position];
  if (packed.Wide()) return WideAt(position);
  HistoryEntry entry;
  entry.event = packed.event_op_flags & ((uint64_t{1} << PackedEntry::kEventBits) - 1);
  entry.op = packed.op();
  entry.line = packed.line;
  entry.vm_refc = packed.vm_refc;
  entry.actor = packed.actor;
  entry.src = packed.src;
  entry.func = packed.func;
  entry.copied = (packed.flags() & PackedEntry::kCopied) != 0;
  entry.has_size = (packed.flags() & PackedEntry::kHasSize) != 0;
  if (entry.has_size) {
    entry.size = packed.to_or_size;
  } else {
    entry.to = packed.to_or_size;
  }
  return entry;
}

HistoryEntry& History::WideAt(size_t position) {
  for (WideEntry& wide : *wide_) {
    if (wide.position == position) return wide.entry;
  }
  std::abort();  // a packed entry marked wide always has its WideEntry (Add, DropWide)
}

void History::DropWide(size_t position, PackedEntry* at) {
  *at = PackedEntry{};
  std::vector<WideEntry>& wides = *wide_;
  for (size_t i = 0; i < wides.size(); ++i) {
    if (wides[i].position == position) {
      wides[i] = wides.back();
      wides.pop_back();
      return;
    }
  }
}

void History::AddWide(const HistoryEntry& entry, PackedEntry* at, size_t position) {
  if (at->Wide()) {
    WideAt(position) = entry;
  } else {
    if (!wide_) wide_ = std::make_unique<std::vector<WideEntry>>();
    wide_->push_back({position, entry});
  }
  *at = PackedEntry{};
  at->event_op_flags = (uint64_t{static_cast<uint8_t>(entry.op)} << PackedEntry::kEventBits) |
                       (PackedEntry::kWide << PackedEntry::kFlagsShift);
}

void History::SetWideVmRefc(int64_t vm_refc) {
  PackedEntry& back = At(back_position_);
  if (!back.Wide()) {  // the count no longer fits: the entry moves to wide_ whole
    HistoryEntry entry = Unpack(back_position_);
    entry.vm_refc = vm_refc;
    AddWide(entry, &back, back_position_);
    return;
  }
  WideAt(back_position_).vm_refc = vm_refc;
}

HistoryEntry History::back() const {
  const size_t head = HeadSize(), tail = entries_.size() - head;
  return tail == 0 ? Unpack(head - 1) : Unpack(TailPosition(tail - 1, tail));
}

std::vector<HistoryEntry> History::Head() const {
  const size_t head = HeadSize();
  std::vector<HistoryEntry> out;
  out.reserve(head);
  for (size_t i = 0; i < head; ++i)
    out.push_back(Unpack(i));
  return out;
}

std::vector<HistoryEntry> History::Tail() const {
  const size_t tail = entries_.size() - HeadSize();
  std::vector<HistoryEntry> out;
  out.reserve(tail);
  for (size_t i = 0; i < tail; ++i)
    out.push_back(Unpack(TailPosition(i, tail)));
  return out;
}

Step StepOf(const HistoryEntry& entry, const StringPool& strings) {
  Step step;
  step.event = entry.event;
  step.line = entry.line;
  step.op = entry.op;
  step.actor = strings.Get(entry.actor);
  step.to = strings.Get(entry.to);
  step.src = strings.Get(entry.src);
  step.func = strings.Get(entry.func);
  step.note = strings.Get(entry.note);
  step.refc = entry.vm_refc;
  step.copied = entry.copied;
  if (entry.has_size) step.size = entry.size;
  return step;
}

void AppendHistory(const History& history, const StringPool& strings, Finding* f) {
  for (const HistoryEntry& entry : history.Head())
    f->history.push_back(StepOf(entry, strings));
  uint64_t omitted = history.omitted();
  for (const HistoryEntry& entry : history.Tail()) {
    f->history.push_back(StepOf(entry, strings));
    f->history.back().omitted_before = std::exchange(omitted, 0);
  }
}

}  // namespace refctrace::model
