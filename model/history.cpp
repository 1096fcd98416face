#include "model/history.h"

#include <utility>

namespace refctrace::model {

void History::Reset(size_t head, size_t tail) {
  head_limit_ = head;
  tail_limit_ = tail;
  total_ = 0;
  head_.clear();
  tail_.clear();
  tail_start_ = 0;
}

std::vector<HistoryEntry> History::Tail() const {
  std::vector<HistoryEntry> out;
  out.reserve(tail_.size());
  for (size_t i = 0; i < tail_.size(); ++i)
    out.push_back(tail_[(tail_start_ + i) % tail_.size()]);
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
  for (const HistoryEntry& entry : history.head())
    f->history.push_back(StepOf(entry, strings));
  uint64_t omitted = history.omitted();
  for (const HistoryEntry& entry : history.Tail()) {
    f->history.push_back(StepOf(entry, strings));
    f->history.back().omitted_before = std::exchange(omitted, 0);
  }
}

}  // namespace refctrace::model
