// Interns the short strings the model keeps (actors, sources, notes) so that
// holders and history entries store 4-byte references instead of strings.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>

namespace refctrace::model {

using StrRef = uint32_t;  // 0 is the empty string

class StringPool {
 public:
  StringPool();
  StrRef Intern(std::string_view s);
  std::string_view Get(StrRef ref) const { return strings_[ref]; }
  size_t size() const { return strings_.size(); }

 private:
  std::deque<std::string> strings_;  // deque: views into elements stay valid
  std::unordered_map<std::string_view, StrRef> index_;
};

}  // namespace refctrace::model
