#include "model/diagnostic_code.h"

#include "model/finding.h"

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
    case Code::kBorrowExpired:
      return "borrow-expired";
    case Code::kEnvReused:
      return "env-reused";
  }
  return "?";
}

std::string_view ObjectKindName(ObjectKind kind) {
  switch (kind) {
    case ObjectKind::kBinary:
      return "binary";
    case ObjectKind::kView:
      return "view";
    case ObjectKind::kResource:
      return "resource";
    case ObjectKind::kEnvironment:
      return "environment";
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
