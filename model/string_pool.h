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
    const Key key = KeyOf(s);
    const CacheEntry& cached = cache_[key.slot];
    if (cached.head == key.head && cached.tail == key.tail && cached.size == s.size() &&
        cached.ref != 0 && (s.size() <= kWholeInKey || SameLongText(cached, s))) {
      return cached.ref;
    }
    return InternSlow(s, key);
  }
  std::string_view Get(StrRef ref) const { return strings_[ref]; }
  size_t size() const { return strings_.size(); }

 private:
  // Traces repeat a few strings ("driver", a pid, a source line) on almost
  // every event; a small direct-mapped cache in front of the hash table
  // answers those without a hash-table probe.
  static constexpr size_t kCacheSize = 1024;
  // A string of at most this many bytes is all in its key's two words (with
  // its length), so a cache entry tells it apart without reading the pooled
  // copy: no memcmp, no second cache line (most pids and many sources).
  static constexpr size_t kWholeInKey = 16;

  // The first and last (up to) 8 bytes of a string, as words, and its cache slot.
  struct Key {
    uint64_t head = 0;
    uint64_t tail = 0;
    size_t slot = 0;
  };
  [[gnu::always_inline]] static Key KeyOf(std::string_view s) {
    const size_t n = s.size();
    Key key;
    if (n >= 8) {
      std::memcpy(&key.head, s.data(), 8);
      std::memcpy(&key.tail, s.data() + n - 8, 8);
    } else {
      for (size_t i = 0; i < n; ++i)
        key.head = (key.head << 8) | static_cast<unsigned char>(s[i]);
    }
    // Enough to tell "<0.85.0>" from "<0.86.0>" and "drv.c:97" from "drv.c:98".
    const uint64_t h =
        (key.head * 0x9e3779b97f4a7c15ULL) ^ ((key.tail + n) * 0xc2b2ae3d27d4eb4fULL);
    key.slot = static_cast<size_t>(h >> 54) % kCacheSize;
    return key;
  }
  struct CacheEntry {
    uint64_t head = 0;  // the Key words of the cached string
    uint64_t tail = 0;
    const char* data = nullptr;  // the pooled string (compared only past kWholeInKey)
    uint32_t size = 0;
    StrRef ref = 0;  // 0: empty entry
  };
  // Out of line: only strings longer than kWholeInKey get here.
  static bool SameLongText(const CacheEntry& cached, std::string_view s);
  // A string that is not in the cache: looks it up, adds it if new, caches it.
  StrRef InternSlow(std::string_view s, const Key& key);
  std::array<CacheEntry, kCacheSize> cache_{};

  std::deque<std::string> strings_;  // deque: views into elements stay valid
  std::unordered_map<std::string_view, StrRef> index_;
};

}  // namespace refctrace::model
