// Interns the short strings the model keeps (actors, sources, notes) so that
// holders and history entries store 4-byte references instead of strings.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>

namespace refctrace::model {

using StrRef = uint32_t;  // 0 is the empty string

class StringPool {
 public:
  StringPool();
  // Inline: the model interns five strings per event, nearly always empty or
  // cached, and a call with the slow path's register saves costs more than that.
  // Forced: ApplyEvent grew past what GCC inlines by itself (trace format 1.3).
  [[gnu::always_inline]] StrRef Intern(std::string_view s) {
    if (s.empty()) return 0;
    const CacheEntry& cached = cache_[CacheSlot(s)];
    if (cached.ref && cached.text == s) return cached.ref;
    return InternSlow(s);
  }
  std::string_view Get(StrRef ref) const { return strings_[ref]; }
  size_t size() const { return strings_.size(); }

 private:
  // Traces repeat a few strings ("driver", a pid, a source line) on almost
  // every event; a small direct-mapped cache in front of the hash table
  // answers those with one compare instead of a hash and a probe.
  static constexpr size_t kCacheSize = 1024;
  static size_t CacheSlot(std::string_view s) {
    // Mix the first and last (up to) 8 bytes and the length: enough to tell
    // "<0.85.0>" from "<0.86.0>" and "drv.c:97" from "drv.c:98".
    const size_t n = s.size();
    uint64_t head = 0, tail = 0;
    if (n >= 8) {
      std::memcpy(&head, s.data(), 8);
      std::memcpy(&tail, s.data() + n - 8, 8);
    } else {
      for (size_t i = 0; i < n; ++i)
        head = (head << 8) | static_cast<unsigned char>(s[i]);
    }
    const uint64_t h = (head * 0x9e3779b97f4a7c15ULL) ^ ((tail + n) * 0xc2b2ae3d27d4eb4fULL);
    return static_cast<size_t>(h >> 54) % kCacheSize;
  }
  struct CacheEntry {
    std::string_view text;  // views the pooled string
    StrRef ref = 0;
  };
  // A string that is not in the cache: looks it up, adds it if new, caches it.
  StrRef InternSlow(std::string_view s);
  std::array<CacheEntry, kCacheSize> cache_{};

  std::deque<std::string> strings_;  // deque: views into elements stay valid
  std::unordered_map<std::string_view, StrRef> index_;
};

}  // namespace refctrace::model
