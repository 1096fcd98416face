// The known fields of an event object: their names, and which ones each op requires.
#pragma once

#include <cstdint>
#include <string_view>

#include "trace/event.h"

namespace refctrace::trace {

// Also bit positions in a "seen" mask (uint32_t{1} << id).
enum FieldId : uint8_t {
  kOpField,
  kBinField,
  kActorField,
  kToField,
  kSizeField,
  kNewBinField,
  kRefcField,
  kCountField,
  kCopiedField,
  kTField,
  kSeqField,
  kSrcField,
  kStackField,
  kNoteField,
  kFuncField,
  kPortField,       // trace format 1.3
  kFromField,       // 1.3
  kGatheredField,   // 1.3
  kTaskField,       // 1.3
  kCopyField,       // 1.3
  kAmongField,      // 1.4
  kRefctraceField,  // the header's version; an unknown field in an event
  kUnknownField,
};

inline constexpr std::string_view kFieldNames[] = {
    "op",     "bin",      "actor", "to",   "size",  "new_bin",   "refc", "count",
    "copied", "t",        "seq",   "src",  "stack", "note",      "func", "port",
    "from",   "gathered", "task",  "copy", "among", "refctrace",
};

constexpr uint32_t FieldBit(FieldId id) {
  return uint32_t{1} << id;
}

// Inlined: the NDJSON fast path calls it for every key.
[[gnu::always_inline]] inline FieldId MatchField(std::string_view k) {
  switch (k.size()) {
    case 1:
      if (k[0] == 't') return kTField;
      break;
    case 2:
      if (k == "op") return kOpField;
      if (k == "to") return kToField;
      break;
    case 3:
      if (k == "bin") return kBinField;
      if (k == "src") return kSrcField;
      if (k == "seq") return kSeqField;
      break;
    case 4:
      if (k == "size") return kSizeField;
      if (k == "refc") return kRefcField;
      if (k == "note") return kNoteField;
      if (k == "func") return kFuncField;
      if (k == "port") return kPortField;
      if (k == "from") return kFromField;
      if (k == "task") return kTaskField;
      if (k == "copy") return kCopyField;
      break;
    case 5:
      if (k == "actor") return kActorField;
      if (k == "count") return kCountField;
      if (k == "stack") return kStackField;
      if (k == "among") return kAmongField;
      break;
    case 6:
      if (k == "copied") return kCopiedField;
      break;
    case 7:
      if (k == "new_bin") return kNewBinField;
      break;
    case 8:
      if (k == "gathered") return kGatheredField;
      break;
    case 9:
      if (k == "refctrace") return kRefctraceField;
      break;
    default:
      break;
  }
  return kUnknownField;
}

// The first field that `op` requires and `seen` (a mask of FieldBit) lacks, in the order the
// errors are reported; kUnknownField when none is missing. "op" itself is not checked here.
inline FieldId MissingRequiredField(Op op, uint32_t seen) {
  auto lacks = [&](FieldId id) { return (seen & FieldBit(id)) == 0; };
  // A gc with `among` (trace format 1.4) names its candidates instead of one bin.
  if (OpNeedsBin(op) && lacks(kBinField) && (op != Op::kGc || lacks(kAmongField))) return kBinField;
  if (IsProcessOp(op) && lacks(kActorField)) return kActorField;
  if ((op == Op::kOutput || op == Op::kSend) && lacks(kToField)) return kToField;
  if (op == Op::kObserve && lacks(kRefcField)) return kRefcField;
  return kUnknownField;
}

}  // namespace refctrace::trace
