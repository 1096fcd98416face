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

std::vector<HistoryEntry> History::Tail() const {
  std::vector<HistoryEntry> out;
  out.reserve(tail_.size());
  for (size_t i = 0; i < tail_.size(); ++i)
    out.push_back(tail_[(tail_start_ + i) % tail_.size()]);
  return out;
}

}  // namespace refctrace::model
