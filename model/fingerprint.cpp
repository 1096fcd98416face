#include "model/fingerprint.h"

#include <cstdint>
#include <string_view>

namespace refctrace::model {

namespace {

// FNV-1a, 64 bits: tiny, and the same on every platform and compiler, which
// std::hash is not; a fingerprint is stored in baselines and uploaded to code
// scanning, so it must never change for the same finding.
class Fnv1a64 {
 public:
  void Add(std::string_view s) {
    for (unsigned char c : s) {
      hash_ ^= c;
      hash_ *= 0x100000001b3ULL;
    }
    // A separator, so ("ab","c") and ("a","bc") differ.
    hash_ ^= 0x1f;
    hash_ *= 0x100000001b3ULL;
  }
  std::string Hex() const {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out(16, '0');
    for (int i = 0; i < 16; ++i)
      out[15 - i] = kDigits[(hash_ >> (4 * i)) & 0xf];
    return out;
  }

 private:
  uint64_t hash_ = 0xcbf29ce484222325ULL;
};

}  // namespace

std::string Fingerprint(const Finding& finding) {
  Fnv1a64 h;
  h.Add("refctrace-fingerprint-v1");
  h.Add(CodeName(finding.code));
  h.Add(finding.src);
  for (const std::string& frame : finding.stack)
    h.Add(frame);
  h.Add(finding.history.empty() ? std::string_view() : finding.history.front().src);
  if (finding.src.empty()) {
    // No source location: the driver's own operations still tell code paths
    // apart; process events are left out because their order depends on
    // scheduling.
    for (const Step& step : finding.history) {
      if (trace::IsDriverOp(step.op)) h.Add(trace::OpName(step.op));
    }
  }
  return h.Hex();
}

}  // namespace refctrace::model
