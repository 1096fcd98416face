#include "model/string_pool.h"

namespace refctrace::model {

StringPool::StringPool() {
  strings_.emplace_back();
}

StrRef StringPool::InternSlow(std::string_view s) {
  CacheEntry& cached = cache_[CacheSlot(s)];
  auto it = index_.find(s);
  if (it == index_.end()) {
    strings_.emplace_back(s);
    it = index_.emplace(strings_.back(), static_cast<StrRef>(strings_.size() - 1)).first;
  }
  cached = CacheEntry{it->first, it->second};
  return it->second;
}

}  // namespace refctrace::model
