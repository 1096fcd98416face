#include "model/string_pool.h"

namespace refctrace::model {

StringPool::StringPool() {
  strings_.emplace_back();
}

StrRef StringPool::Intern(std::string_view s) {
  if (s.empty()) return 0;
  auto it = index_.find(s);
  if (it != index_.end()) return it->second;
  auto ref = static_cast<StrRef>(strings_.size());
  strings_.emplace_back(s);
  index_.emplace(strings_.back(), ref);
  return ref;
}

}  // namespace refctrace::model
