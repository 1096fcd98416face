#include "trace/event.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

#include "trace/event_fields.h"

namespace refctrace::trace {
namespace {

constexpr std::array<std::string_view, kOpCount> kOpNames = {
    "alloc",
    "realloc",
    "free",
    "inc",
    "dec",
    "observe",
    "write",
    "read",
    "output",
    "enq",
    "deq",
    "borrow",
    "unborrow",
    "reply",
    "stop",
    "receive",
    "send",
    "gc",
    "exit",
    // NIF operations (trace format 1.4)
    "nif_enter",
    "nif_return",
    "env_alloc",
    "env_clear",
    "env_free",
    "env_send",
    "make_copy",
    "bin_alloc",
    "bin_realloc",
    "bin_release",
    "bin_make",
    "bin_make_new",
    "bin_inspect",
    "bin_use",
    "ioq_enq",
    "res_alloc",
    "res_keep",
    "res_release",
    "res_make",
    "res_use",
    "res_down",
    "res_dtor",
    "res_monitor",
    "res_demonitor",
    "res_select",
    "res_select_stop",
    "res_stop",
    "held",
    "end",
};

// 64-bit finaliser from MurmurHash3: full avalanche, a few cycles.
inline uint64_t Mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

inline uint64_t Load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// Word-at-a-time multiply-mix hash; ids are short ("0x7f3a10"), so this stays
// in registers. The tail is read as one overlapping 8-byte load (or byte by
// byte under 8 bytes) so no variable-length memcpy call is made.
uint64_t HashBytes(const char* p, size_t n) {
  constexpr uint64_t kMul = 0x9e3779b97f4a7c15ULL;
  uint64_t h = n * kMul;
  if (n < 8) {
    uint64_t tail = 0;
    for (size_t i = 0; i < n; ++i)
      tail |= uint64_t{static_cast<unsigned char>(p[i])} << (8 * i);
    return Mix64((h ^ tail) * kMul);
  }
  const char* last = p + n - 8;
  if (n <= 16) {
    // Most ids ("0x7f3a10c0b2e8"): two overlapping words, one mix.
    return Mix64((h ^ Load64(p)) * kMul ^ Load64(last));
  }
  while (p < last) {
    h = (h ^ Mix64(Load64(p))) * kMul;
    p += 8;
  }
  return Mix64((h ^ Load64(last)) * kMul);
}

// Names longer than a word (NIF ops: "bin_release"): few events carry them in a driver trace,
// so a linear search.
std::optional<Op> LongOpFromName(std::string_view name) {
  for (size_t i = 0; i < kOpNames.size(); ++i) {
    if (kOpNames[i] == name) return static_cast<Op>(i);
  }
  return std::nullopt;
}

}  // namespace

std::optional<Op> NearestOp(std::string_view name) {
  if (name.empty() || name.size() > 32) return std::nullopt;
  std::string lower(name);
  for (char& c : lower)
    c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  // Optimal string alignment distance (a swap of two neighbours counts one).
  auto distance = [](std::string_view a, std::string_view b) {
    std::array<std::array<size_t, 34>, 34> d{};
    for (size_t i = 0; i <= a.size(); ++i)
      d[i][0] = i;
    for (size_t j = 0; j <= b.size(); ++j)
      d[0][j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
      for (size_t j = 1; j <= b.size(); ++j) {
        const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
        d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
          d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
    return d[a.size()][b.size()];
  };
  std::optional<Op> best;
  size_t best_distance = 0;
  bool tie = false;
  for (size_t i = 0; i < kOpNames.size(); ++i) {
    const size_t dist = distance(lower, kOpNames[i]);
    if (!best || dist < best_distance) {
      best = static_cast<Op>(i);
      best_distance = dist;
      tie = false;
    } else if (dist == best_distance) {
      tie = true;
    }
  }
  // Close enough: at most two edits, and fewer than half the word's letters.
  if (tie || best_distance > 2 || 2 * best_distance >= OpName(*best).size()) return std::nullopt;
  return best;
}

std::string_view OpName(Op op) {
  auto i = static_cast<size_t>(op);
  return i < kOpNames.size() ? kOpNames[i] : std::string_view("?");
}

std::optional<bool> EnvKindIsCallback(std::string_view name) {
  if (name == "call") return false;
  if (name == "callback") return true;
  return std::nullopt;
}

namespace {

// A name of at most 8 bytes as OpFromNameWord takes it: its first byte lowest.
constexpr uint64_t NameWord(std::string_view name) {
  uint64_t word = 0;
  for (size_t b = 0; b < name.size(); ++b)
    word |= uint64_t{static_cast<unsigned char>(name[b])} << (8 * b);
  return word;
}

// The ops whose names fit in a word, by the word's hash: one load and one comparison finds an
// op, without the branches on its letters that a random mix of ops mispredicts. The hash is
// perfect (the compiler searches for a multiplier that gives every name a slot of its own), so
// there is no probe loop whose length differs from op to op.
class ShortNameTable {
 public:
  // 30 names took 12 candidates; past kTries the table stays unplaced, and the static_assert
  // below says so (more names want more slots).
  constexpr ShortNameTable() {
    uint64_t candidate = 0x9e3779b97f4a7c15ULL;
    for (int tries = 0; tries < kTries; ++tries, candidate += 0x2545f4914f6cdd1eULL) {
      multiplier_ = candidate | 1;
      if (PlaceAll()) {
        placed_ = true;
        return;
      }
    }
  }
  constexpr bool placed() const { return placed_; }
  constexpr std::optional<Op> Find(uint64_t word) const {
    const Slot& slot = slots_[Home(word)];
    if (slot.word == word && word != 0) return slot.op;
    return std::nullopt;
  }

 private:
  static constexpr size_t kSlots = 256;  // about an eighth full: a multiplier is found quickly
  static constexpr int kTries = 1000;
  constexpr size_t Home(uint64_t word) const { return (word * multiplier_) >> 56; }
  // Places every short name with multiplier_; false at the first two that share a slot.
  constexpr bool PlaceAll() {
    slots_ = {};
    for (size_t i = 0; i < kOpNames.size(); ++i) {
      const std::string_view name = kOpNames[i];
      if (name.size() > sizeof(uint64_t)) continue;
      const uint64_t word = NameWord(name);
      Slot& slot = slots_[Home(word)];
      if (slot.word != 0) return false;
      slot = {word, static_cast<Op>(i)};
    }
    return true;
  }
  struct Slot {
    uint64_t word = 0;
    Op op = Op::kEnd;
  };
  uint64_t multiplier_ = 0;
  bool placed_ = false;
  std::array<Slot, kSlots> slots_{};
};

// Built by the compiler: no first-use guard on the parser's path.
constexpr ShortNameTable kShortNames;
static_assert(kShortNames.placed(), "no multiplier gives each short op name its own slot");

}  // namespace

std::optional<Op> OpFromNameWord(uint64_t word) {
  return kShortNames.Find(word);
}

std::optional<Op> OpFromName(std::string_view name) {
  if (name.empty()) return std::nullopt;
  if (name.size() <= sizeof(uint64_t)) {
    if (name.find('\0') != std::string_view::npos) return std::nullopt;  // not a name's byte
    return OpFromNameWord(NameWord(name));
  }
  return LongOpFromName(name);
}

std::string BinId::ToDisplay() const {
  switch (kind) {
    case Kind::kInt:
      return std::to_string(num);
    case Kind::kStr:
      return str;
    case Kind::kNone:
      break;
  }
  return "(none)";
}

size_t BinIdHash::operator()(const BinId& id) const {
  switch (id.kind) {
    case BinId::Kind::kInt:
      return static_cast<size_t>(Mix64(id.num ^ 0x5bd1e9955bd1e995ULL));
    case BinId::Kind::kStr:
      return static_cast<size_t>(HashBytes(id.str.data(), id.str.size()));
    case BinId::Kind::kNone:
      break;
  }
  return 0;
}

void Event::Clear() {
  // Every field id, so that ClearFields stays the one list of the fields and their defaults.
  ClearFields(FieldBit(kUnknownField) - 1);
  pos = Position{};
  maybe_set = ~uint64_t{0};
}

void Event::ClearFields(uint64_t fields) {
  for (; fields != 0; fields &= fields - 1) {
    switch (static_cast<FieldId>(std::countr_zero(fields))) {
      case kOpField:
        op = Op::kEnd;
        break;
      case kBinField:
        bin.clear();
        break;
      case kActorField:
        actor.clear();
        break;
      case kToField:
        to.clear();
        break;
      case kSizeField:
        size.reset();
        break;
      case kNewBinField:
        new_bin.clear();
        break;
      case kRefcField:
        refc.reset();
        break;
      case kCountField:
        count = 1;
        break;
      case kCopiedField:
        copied = false;
        break;
      case kTField:
        t.reset();
        break;
      case kSeqField:
        seq.reset();
        break;
      case kSrcField:
        src.clear();
        break;
      case kStackField:
        stack.clear();
        break;
      case kNoteField:
        note.clear();
        break;
      case kFuncField:
        func.clear();
        break;
      case kPortField:
        port.clear();
        break;
      case kFromField:
        from.clear();
        break;
      case kGatheredField:
        gathered = false;
        break;
      case kTaskField:
        task = 0;
        break;
      case kCopyField:
        copy = false;
        break;
      case kEnvField:
        env.clear();
        break;
      case kEnvKindField:
        callback = false;
        break;
      case kResField:
        res.clear();
        break;
      case kRtypeField:
        rtype.clear();
        break;
      case kNifField:
        nif.clear();
        break;
      case kDataField:
        data.clear();
        break;
      case kWriteField:
        write = false;
        break;
      case kReadonlyField:
        readonly = false;
        break;
      case kFailedField:
        failed = false;
        break;
      case kAmongField:
        among.clear();
        break;
      case kInField:
        in.clear();
        break;
      case kRefctraceField:
      case kUnknownField:
        break;
    }
  }
  maybe_set &= ~fields;
}

std::string_view Event::EffectiveActor() const {
  if (actor.empty() && IsDriverOp(op)) return "driver";
  if (actor.empty() && IsNifOp(op) && op != Op::kNifEnter) return "nif";
  return actor;
}

}  // namespace refctrace::trace
