// The random source of every generated trace (bench/, tests/): splitmix64 with
// its own bounded-integer functions, so one seed gives the same numbers with
// every compiler and standard library. std::*_distribution cannot promise
// that (their algorithms are left to the library), and a seed printed by a
// failing test must reproduce the failure anywhere.
#pragma once

#include <cstdint>
#include <vector>

namespace refctrace::tracegen {

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}

  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n); 0 when n is 0. By remainder: the bias, under n / 2^64,
  // is far below anything a test or a benchmark could see.
  uint64_t Below(uint64_t n) { return n == 0 ? 0 : Next() % n; }
  // Uniform in [lo, hi] (lo <= hi).
  int64_t Between(int64_t lo, int64_t hi) {
    const uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo) + 1;
    // span 0: the whole int64 range.
    return static_cast<int64_t>(static_cast<uint64_t>(lo) + (span == 0 ? Next() : Below(span)));
  }
  // True with probability per_mille / 1000.
  bool Chance(unsigned per_mille) { return Below(1000) < per_mille; }
  // One element of a non-empty vector.
  template <typename T>
  T& Pick(std::vector<T>& items) {
    return items[static_cast<size_t>(Below(items.size()))];
  }
  template <typename T>
  const T& Pick(const std::vector<T>& items) {
    return items[static_cast<size_t>(Below(items.size()))];
  }

 private:
  uint64_t state_;
};

}  // namespace refctrace::tracegen
