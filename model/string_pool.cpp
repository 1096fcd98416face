#include "model/string_pool.h"

#include <cstdint>

namespace refctrace::model {

StringPool::StringPool() {
  strings_.emplace_back();
}

bool StringPool::SameLongText(const CacheEntry& cached, std::string_view s) {
  return std::memcmp(cached.data, s.data(), s.size()) == 0;
}

StrRef StringPool::InternSlow(std::string_view s, const Key& key) {
  auto it = index_.find(s);
  if (it == index_.end()) {
    strings_.emplace_back(s);
    it = index_.emplace(strings_.back(), static_cast<StrRef>(strings_.size() - 1)).first;
  }
  // (A string past 4 GiB, whose length a cache entry cannot hold, is looked up each time.)
  if (s.size() <= UINT32_MAX) {
    cache_[key.slot] = CacheEntry{key.head, key.tail, it->first.data(),
                                  static_cast<uint32_t>(s.size()), it->second};
  }
  return it->second;
}

}  // namespace refctrace::model
