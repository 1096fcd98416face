// The diagnostic codes of model-v1 and their severities.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace refctrace::model {

enum class Severity : uint8_t { kNote, kWarning, kError };

enum class Code : uint8_t {
  kLeak,
  kDoubleFree,
  kUseAfterFree,
  kMutateAfterOutput,
  kReallocShared,
  kDecToZero,
  kAllocLive,
  kRefcMismatch,
  kUnknownBinary,
  kBorrowExpired,  // model 1.3: NIF bytes used after their environment ended their terms
  kEnvReused,      // model 1.3: a NIF environment used after enif_send without a clear
};

inline constexpr std::array<Code, 11> kAllCodes = {
    Code::kLeak,          Code::kDoubleFree,    Code::kUseAfterFree, Code::kMutateAfterOutput,
    Code::kReallocShared, Code::kDecToZero,     Code::kAllocLive,    Code::kRefcMismatch,
    Code::kUnknownBinary, Code::kBorrowExpired, Code::kEnvReused,
};

// The code as users write it: "double-free".
std::string_view CodeName(Code code);
std::optional<Code> CodeFromName(std::string_view name);
Severity CodeSeverity(Code code);
std::string_view SeverityName(Severity severity);

}  // namespace refctrace::model
