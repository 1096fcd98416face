#include "model/fingerprint.h"

#include <cctype>
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

// "echo_drv.c:97" -> "echo_drv.c", "f (x.c:12:5) 0x7f3a10" -> "f (x.c) 0x": line
// numbers move with every edit above them and addresses with every run.
std::string WithoutPositions(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const bool colon_digits = s[i] == ':' && i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '9';
    const bool hex = s[i] == '0' && i + 2 < s.size() && (s[i + 1] == 'x' || s[i + 1] == 'X') &&
                     std::isxdigit(static_cast<unsigned char>(s[i + 2]));
    if (colon_digits) {
      for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9';)
        ++i;
    } else if (hex) {
      out += "0x";
      for (i += 2; i < s.size() && std::isxdigit(static_cast<unsigned char>(s[i]));)
        ++i;
    } else {
      out += s[i++];
    }
  }
  return out;
}

}  // namespace

std::string Fingerprint(const Finding& finding) {
  Fnv1a64 h;
  h.Add("refctrace-fingerprint-v" + std::to_string(kFingerprintVersion));
  h.Add(CodeName(finding.code));
  // What the id names, for NIF objects only, so driver fingerprints stay as they were.
  if (finding.object != ObjectKind::kBinary) h.Add(ObjectKindName(finding.object));
  h.Add(WithoutPositions(finding.src));
  // The function tells apart bugs of one code in one file, which the file
  // name alone does not (a one-file driver has one file).
  h.Add(finding.func);
  for (const std::string& frame : finding.stack)
    h.Add(WithoutPositions(frame));
  if (finding.history.empty()) {
    h.Add(std::string());
    h.Add(std::string());
  } else {
    h.Add(WithoutPositions(finding.history.front().src));
    h.Add(finding.history.front().func);
  }
  // The anchor's operation (free, dec, gc, ...) tells apart bugs of one code
  // in the same place.
  for (const Step& step : finding.history) {
    if (step.event == finding.event) h.Add(trace::OpName(step.op));
  }
  if (finding.src.empty()) {
    // No source location: the driver's own operations still tell code paths
    // apart; process events are left out because their order depends on
    // scheduling.
    for (const Step& step : finding.history) {
      if (trace::IsDriverOp(step.op) || trace::IsNifOp(step.op)) h.Add(trace::OpName(step.op));
    }
  }
  return h.Hex();
}

}  // namespace refctrace::model
