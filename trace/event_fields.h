// The known fields of an event object: their names, and which ones each op requires.
#pragma once

#include <cstdint>
#include <string_view>

#include "trace/event.h"

namespace refctrace::trace {

// Also bit positions in a "seen" mask (FieldMask{1} << id).
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
  kEnvField,        // 1.4: NIF events
  kEnvKindField,    // 1.4
  kResField,        // 1.4
  kRtypeField,      // 1.4
  kNifField,        // 1.4
  kDataField,       // 1.4
  kWriteField,      // 1.4
  kReadonlyField,   // 1.4
  kFailedField,     // 1.4
  kAmongField,      // 1.4
  kInField,         // 1.6: held
  kRefctraceField,  // the header's version; an unknown field in an event
  kUnknownField,
};

inline constexpr std::string_view kFieldNames[] = {
    "op",     "bin",      "actor", "to",       "size",   "new_bin",  "refc", "count",
    "copied", "t",        "seq",   "src",      "stack",  "note",     "func", "port",
    "from",   "gathered", "task",  "copy",     "env",    "env_kind", "res",  "rtype",
    "nif",    "data",     "write", "readonly", "failed", "among",    "in",   "refctrace",
};

// The fields an object had, one bit per FieldId.
using FieldMask = uint64_t;
static_assert(kUnknownField < 64, "a field's bit must fit the seen mask");

constexpr FieldMask FieldBit(FieldId id) {
  return FieldMask{1} << id;
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
      if (k == "in") return kInField;
      break;
    case 3:
      if (k == "bin") return kBinField;
      if (k == "src") return kSrcField;
      if (k == "seq") return kSeqField;
      if (k == "env") return kEnvField;
      if (k == "res") return kResField;
      if (k == "nif") return kNifField;
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
      if (k == "data") return kDataField;
      break;
    case 5:
      if (k == "actor") return kActorField;
      if (k == "count") return kCountField;
      if (k == "stack") return kStackField;
      if (k == "write") return kWriteField;
      if (k == "rtype") return kRtypeField;
      if (k == "among") return kAmongField;
      break;
    case 6:
      if (k == "copied") return kCopiedField;
      if (k == "failed") return kFailedField;
      break;
    case 7:
      if (k == "new_bin") return kNewBinField;
      break;
    case 8:
      if (k == "gathered") return kGatheredField;
      if (k == "env_kind") return kEnvKindField;
      if (k == "readonly") return kReadonlyField;
      break;
    case 9:
      if (k == "refctrace") return kRefctraceField;
      break;
    default:
      break;
  }
  return kUnknownField;
}

// The first field the NIF op `op` requires and `seen` lacks (docs/spec/nif.md, "Required
// fields"); kBinField stands for "bin or data" where either will do.
inline FieldId MissingNifField(Op op, FieldMask seen) {
  auto lacks = [&](FieldId id) { return (seen & FieldBit(id)) == 0; };
  switch (op) {
    case Op::kBinAlloc:
    case Op::kBinRealloc:
      if (lacks(kBinField)) return kBinField;
      break;
    case Op::kBinRelease:
    case Op::kBinUse:
    case Op::kIoqEnq:
      if (lacks(kBinField) && lacks(kDataField)) return kBinField;
      break;
    case Op::kBinMake:
      if (lacks(kEnvField)) return kEnvField;
      if (lacks(kBinField) && lacks(kDataField)) return kBinField;
      break;
    case Op::kBinInspect:
    case Op::kBinMakeNew:
      if (lacks(kEnvField)) return kEnvField;
      if (lacks(kDataField)) return kDataField;
      break;
    case Op::kResMake:
      if (lacks(kEnvField)) return kEnvField;
      if (lacks(kResField)) return kResField;
      break;
    case Op::kResAlloc:
    case Op::kResKeep:
    case Op::kResRelease:
    case Op::kResUse:
    case Op::kResDown:
    case Op::kResDtor:
    case Op::kResMonitor:
    case Op::kResDemonitor:
    case Op::kResSelect:
    case Op::kResSelectStop:
    case Op::kResStop:
      if (lacks(kResField)) return kResField;
      break;
    case Op::kHeld:  // one of bin, res, env (kBinField stands for the three), and where
      if (lacks(kBinField) && lacks(kResField) && lacks(kEnvField)) return kBinField;
      if (lacks(kInField)) return kInField;
      break;
    default:  // nif_enter, nif_return, env_*, make_copy
      if (lacks(kEnvField)) return kEnvField;
      break;
  }
  return kUnknownField;
}

// How many of the objects a `held` may name (bin, res, env) `seen` has; exactly one is valid.
inline int HeldObjects(FieldMask seen) {
  return ((seen & FieldBit(kBinField)) != 0) + ((seen & FieldBit(kResField)) != 0) +
         ((seen & FieldBit(kEnvField)) != 0);
}

// The first field that `op` requires and `seen` (a mask of FieldBit) lacks, in the order the
// errors are reported; kUnknownField when none is missing. "op" itself is not checked here.
inline FieldId MissingRequiredField(Op op, FieldMask seen) {
  auto lacks = [&](FieldId id) { return (seen & FieldBit(id)) == 0; };
  // A gc with `among` (trace format 1.4) names its candidates instead of one bin.
  if (OpNeedsBin(op) && lacks(kBinField) && (op != Op::kGc || lacks(kAmongField))) return kBinField;
  if (IsProcessOp(op) && lacks(kActorField)) return kActorField;
  if ((op == Op::kOutput || op == Op::kSend) && lacks(kToField)) return kToField;
  if (op == Op::kObserve && lacks(kRefcField)) return kRefcField;
  if (IsNifOp(op)) return MissingNifField(op, seen);
  return kUnknownField;
}

}  // namespace refctrace::trace
