#include "model/history.h"

namespace refctrace::model {

void History::Reset(size_t head, size_t tail) {
  head_limit_ = head;
  tail_limit_ = tail;
  total_ = 0;
  head_.clear();
  tail_.clear();
  tail_start_ = 0;
}

void History::Add(const HistoryEntry& entry) {
  ++total_;
  if (head_.size() < head_limit_) {
    head_.push_back(entry);
    return;
  }
  if (tail_limit_ == 0) return;
  if (tail_.size() < tail_limit_) {
    tail_.push_back(entry);
    return;
  }
  tail_[tail_start_] = entry;
  tail_start_ = (tail_start_ + 1) % tail_.size();
}

std::vector<HistoryEntry> History::Tail() const {
  std::vector<HistoryEntry> out;
  out.reserve(tail_.size());
  for (size_t i = 0; i < tail_.size(); ++i)
    out.push_back(tail_[(tail_start_ + i) % tail_.size()]);
  return out;
}

const HistoryEntry& History::back() const {
  if (tail_.empty()) return head_.back();
  return tail_[(tail_start_ + tail_.size() - 1) % tail_.size()];
}

}  // namespace refctrace::model
