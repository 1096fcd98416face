#include "model/diagnostic_code.h"

namespace refctrace::model {

std::string_view CodeName(Code code) {
  switch (code) {
    case Code::kLeak:
      return "leak";
    case Code::kDoubleFree:
      return "double-free";
    case Code::kUseAfterFree:
      return "use-after-free";
    case Code::kMutateAfterOutput:
      return "mutate-after-output";
    case Code::kReallocShared:
      return "realloc-shared";
    case Code::kDecToZero:
      return "dec-to-zero";
    case Code::kAllocLive:
      return "alloc-live";
    case Code::kRefcMismatch:
      return "refc-mismatch";
    case Code::kUnknownBinary:
      return "unknown-binary";
  }
  return "?";
}

std::optional<Code> CodeFromName(std::string_view name) {
  for (Code code : kAllCodes) {
    if (CodeName(code) == name) return code;
  }
  return std::nullopt;
}

Severity CodeSeverity(Code code) {
  return code == Code::kUnknownBinary ? Severity::kWarning : Severity::kError;
}

std::string_view SeverityName(Severity severity) {
  switch (severity) {
    case Severity::kNote:
      return "note";
    case Severity::kWarning:
      return "warning";
    case Severity::kError:
      return "error";
  }
  return "?";
}

}  // namespace refctrace::model
