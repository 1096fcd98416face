// One trace event as the reader delivers it: plain values, no model knowledge.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace refctrace::trace {

// Every operation of trace-format-v1, in the order the spec lists them.
enum class Op : uint8_t {
  kAlloc,
  kRealloc,
  kFree,
  kInc,
  kDec,
  kObserve,
  kWrite,
  kRead,
  kOutput,
  kEnq,
  kDeq,
  kBorrow,
  kUnborrow,
  kReply,  // trace format 1.3
  kStop,
  kReceive,
  kSend,
  kGc,
  kExit,
  // NIF operations (trace format 1.4, docs/spec/nif.md), in the spec's order.
  kNifEnter,
  kNifReturn,
  kEnvAlloc,
  kEnvClear,
  kEnvFree,
  kEnvSend,
  kMakeCopy,
  kBinAlloc,
  kBinRealloc,
  kBinRelease,
  kBinMake,
  kBinMakeNew,
  kBinInspect,
  kBinUse,
  kIoqEnq,
  kResAlloc,
  kResKeep,
  kResRelease,
  kResMake,
  kResUse,
  kResDown,
  kResDtor,
  // Resource monitors, enif_select and its stop callback (trace format 1.5).
  kResMonitor,
  kResDemonitor,
  kResSelect,
  kResSelectStop,
  kResStop,
  // What a NIF library still references at the clean end of recording (trace format 1.6).
  kHeld,
  kEnd,
};
inline constexpr int kOpCount = static_cast<int>(Op::kEnd) + 1;

std::string_view OpName(Op op);
std::optional<Op> OpFromName(std::string_view name);
// OpFromName for a name of 1 to 8 bytes held in `word`, its first byte lowest (as it lies in
// memory on a little-endian machine), the bytes past the name zero: for a reader that has the
// name's bytes in a register already.
std::optional<Op> OpFromNameWord(uint64_t word);
// The op a mistyped name most likely meant ("fre" -> free, "Free" -> free), or
// none when no op is close enough to suggest one.
std::optional<Op> NearestOp(std::string_view name);

// `env_kind` of a nif_enter (trace format 1.4): whether the environment is a callback's
// ("callback") rather than a NIF call's ("call"); none for any other name. Like OpFromName, the
// one place that knows the names.
std::optional<bool> EnvKindIsCallback(std::string_view name);

// Ops that require a binary in the `bin` field: every driver and process op but exit and
// stop. NIF ops have their own requirements (MissingRequiredField).
inline bool OpNeedsBin(Op op) {
  return op < Op::kExit && op != Op::kStop;
}
// Ops performed by the driver; their actor defaults to "driver".
inline bool IsDriverOp(Op op) {
  return op <= Op::kStop;
}
// Ops performed by a process; their `actor` field is required.
inline bool IsProcessOp(Op op) {
  return op >= Op::kReceive && op <= Op::kExit;
}
// NIF operations (trace format 1.4); their actor defaults to "nif".
inline bool IsNifOp(Op op) {
  return op >= Op::kNifEnter && op < Op::kEnd;
}

// A binary's identity as the recorder wrote it. A string and an integer are
// different ids ("1" != 1), so the kind is part of the value.
struct BinId {
  enum class Kind : uint8_t { kNone, kInt, kStr };
  Kind kind = Kind::kNone;
  uint64_t num = 0;
  std::string str;

  static BinId Int(uint64_t n) { return BinId{Kind::kInt, n, {}}; }
  static BinId Str(std::string s) { return BinId{Kind::kStr, 0, std::move(s)}; }

  bool present() const { return kind != Kind::kNone; }
  void clear() {
    kind = Kind::kNone;
    num = 0;
    str.clear();
  }
  // The id as a reader would recognise it in a message: strings as written,
  // integers in decimal.
  std::string ToDisplay() const;

  friend bool operator==(const BinId& a, const BinId& b) {
    if (a.kind != b.kind) return false;
    return a.kind == Kind::kStr ? a.str == b.str : a.num == b.num;
  }
  friend bool operator<(const BinId& a, const BinId& b) {
    if (a.kind != b.kind) return a.kind < b.kind;
    return a.kind == Kind::kStr ? a.str < b.str : a.num < b.num;
  }
};

// A well-mixed hash of an id; the model's id table (model/id_index.h)
// places ids with it.
struct BinIdHash {
  size_t operator()(const BinId& id) const;
};

// Where an event sits in its input. `line` and `column` are 1-based; 0 means
// unknown (e.g. a document read from a form that does not keep lines).
struct Position {
  uint64_t index = 0;  // 0-based among events; the header is not an event
  uint64_t line = 0;
  uint64_t column = 0;
};

// The largest count a trace may carry in `refc` or `count`: 2^62. No 64-bit emulator holds
// more references to one binary (each is at least a pointer in memory: 2^62 of them would
// take 2^65 bytes), and the room above it keeps the model's sums exact.
inline constexpr uint64_t kMaxCount = uint64_t{1} << 62;

struct Event {
  Op op = Op::kEnd;
  BinId bin;
  BinId new_bin;      // realloc that moved
  std::string actor;  // empty: "driver" for driver ops
  std::string to;
  std::optional<uint64_t> size;
  std::optional<int64_t> refc;  // 0..kMaxCount
  uint64_t count = 1;           // 1..kMaxCount
  bool copied = false;
  // Trace format 1.3.
  std::string port;       // the port instance the driver served; empty: the default port
  std::string from;       // borrow: the process whose port_command this is
  bool gathered = false;  // borrow: the emulator's gathered copy of small pieces
  uint64_t task = 0;      // borrow: task references the emulator drops at unborrow
  bool copy = false;      // enq: the queue copied the bytes into a binary of its own
  // Trace format 1.4: NIF events (docs/spec/nif.md). Ids absent: kind kNone.
  BinId env;              // the environment (ErlNifEnv*)
  BinId res;              // the resource object
  BinId data;             // ErlNifBinary.data: the bytes a struct points at
  bool callback = false;  // nif_enter: env_kind "callback" (else "call")
  std::string rtype;      // res_alloc: the resource type's name
  std::string nif;        // nif_enter: module:function/arity or the callback
  bool write = false;     // bin_use: the NIF stored into the bytes
  bool readonly = false;  // bin_realloc: of a read-only struct (a new binary `bin`)
  bool failed = false;    // env_send: enif_send returned 0
  std::string in;         // held (trace format 1.6): where the library's reference was found
  // Trace format 1.4: a gc whose binary is one of these (at least two, distinct), which one
  // unknown; `bin` is then absent.
  std::vector<BinId> among;
  std::optional<double> t;
  std::optional<uint64_t> seq;
  std::string src;
  std::string func;  // the function that made the call (trace format 1.1)
  std::vector<std::string> stack;
  std::string note;
  Position pos;
  // For readers: the fields (a bit per field id, trace/event_fields.h) that may differ from
  // their defaults. All of them but after the plain NDJSON parser, which sets those it read,
  // so that reusing the event for the next line resets only what that line lacks
  // (ClearFields) instead of some 30 members. An event a reader handed out is the reader's to
  // reuse: change only `pos`, or call Clear() first.
  uint64_t maybe_set = ~uint64_t{0};

  // Reset to a default event while keeping string capacity, so a reader can
  // reuse one Event for a whole trace without allocating per line.
  void Clear();
  // Resets the fields whose bits `fields` has (a bit per field id) to their defaults.
  void ClearFields(uint64_t fields);
  // The actor with its default applied ("driver" for driver ops, "nif" for NIF ops but
  // nif_enter).
  std::string_view EffectiveActor() const;
};

}  // namespace refctrace::trace
