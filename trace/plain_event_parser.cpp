#include "trace/plain_event_parser.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "trace/event_fields.h"
#include "trace/json_token.h"

namespace refctrace::trace {
namespace {

// How the scans stay inside the line: Parse() first checks that the object's closing '}' is
// the line's last non-blank byte (`last`). '}' is not blank, not a digit, not a quote and not
// part of a literal, so every scan of blanks, digits, punctuation or literals stops there at
// the latest and needs no bounds check; only strings, which may hold a '}', are checked
// against `last`. Words read at most 7 bytes past a position that is <= `last`, and the string
// scan's 16-byte steps at most 15 (kPlainEventReadAhead).
//
// What the fast paths rely on (each falls back to the general scan, or refuses the line, when
// its condition fails; the tests in trace_reader_test.cpp compare all of them with the full
// decoder):
// - The recorder start (ParseRecorderStart): the line begins `{"op":"NAME",` and mostly
//   `"bin":`. Those fixed bytes are compared as words; none of them is '}', so `last` lies past
//   them and the words after them start at or before `last`. It reads nothing the general loop
//   would read otherwise: the same keys, the same value parsers, and `seen` marked the same, so
//   duplicates and missing fields are found as before. It sets nothing before it knows the op:
//   a line it does not take is read by the general loop from its start.
// - Short names (MatchShortOp): an op name of at most 8 bytes is looked up by its word, with
//   the bytes past it zero. The name ends at its closing quote, which must come before
//   `last`; a NUL byte before that quote refuses the name, since it would vanish into the zero
//   padding ("alloc\0" is not "alloc", and the full decoder rejects it: decision 240). Other
//   bytes that are not plain are in no op's name.
// - Strings of unchanged length (CopyString): a reused event's string that already has the
//   new value's length, 8 to 16 bytes, is overwritten in place as two words that may overlap:
//   both lie inside the string's bytes and inside the line's.
// - A lone digit (ParseUint): read with the byte after it, which is at or before `last` since
//   the digit is not '}'; what may follow a number is checked by the caller, as for any number.
// - Common keys (MatchCommonKey): a key most lines have after op and bin is found by its
//   first letters (p[1], p[2]: readable, as any word after a position <= `last`) and one
//   masked word holding its quotes and the colon after it, so it matches that key and
//   nothing longer; the value then starts after the colon, as after ScanKey and Expect.
// - Doubles the full decoder refuses are refused here too, though their value is plain: an
//   exponent of more than 19 digits (decision 242).

using Word = uint64_t;
constexpr Word kOnes = 0x0101010101010101ULL;
constexpr Word kHighs = 0x8080808080808080ULL;

constexpr Word Repeat(unsigned char c) {
  return kOnes * c;
}

Word LoadWord(const char* p) {
  Word w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

// The high bit of each zero byte of `x`. Only the lowest mark is exact (a borrow may mark a
// byte after it); that is the only one used.
Word ZeroBytes(Word x) {
  return (x - kOnes) & ~x & kHighs;
}

#if defined(__SSE2__)
constexpr size_t kStringStep = 16;
#else
constexpr size_t kStringStep = sizeof(Word);
// Marks each byte of `w` that ends a run of plain string bytes: '"', '\\', a control byte or a
// byte >= 0x80 (only the lowest mark is exact).
Word StringStops(Word w) {
  Word control_or_high = (w | (w - Repeat(0x20))) & kHighs;
  return ZeroBytes(w ^ Repeat('"')) | ZeroBytes(w ^ Repeat('\\')) | control_or_high;
}
#endif

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

const char* SkipSpace(const char* p) {
  // Most bytes are above ' ': one comparison rules them out.
  while (static_cast<unsigned char>(*p) <= ' ' && IsJsonSpace(*p))
    ++p;
  return p;
}

// The byte after `c`, which comes next after optional blanks; nullptr when something else does.
const char* Expect(const char* p, char c) {
  if (*p != c) {  // blanks between tokens are rare: look for them only now
    p = SkipSpace(p);
    if (*p != c) return nullptr;
  }
  return p + 1;
}

const char* SkipDigits(const char* p) {
  while (IsDigit(*p))
    ++p;
  return p;
}

// The string whose opening quote is at `p`: *body is its content, the return value the byte
// after its closing quote; nullptr when it is not a plain string.
const char* ScanString(const char* p, const char* last, std::string_view* body) {
  if (*p != '"') return nullptr;
  const char* start = p + 1;
#if defined(__SSE2__)
  // 16 bytes at a time (part of every x86-64 CPU): most ids and sources are found in one step.
  // A signed byte below 0x20 is a control byte or one >= 0x80.
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i space = _mm_set1_epi8(0x20);
  for (const char* w = start; w < last; w += kStringStep) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w));
    const __m128i marks =
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(bytes, quote), _mm_cmpeq_epi8(bytes, backslash)),
                     _mm_cmplt_epi8(bytes, space));
    const auto stops = static_cast<unsigned>(_mm_movemask_epi8(marks));
    if (stops == 0) continue;
    const char* stop = w + std::countr_zero(stops);
#else
  for (const char* w = start; w < last; w += kStringStep) {
    Word stops = StringStops(LoadWord(w));
    if (stops == 0) continue;
    const char* stop = w + std::countr_zero(stops) / 8;
#endif
    // Unclosed, or an escape, a control byte or non-ASCII: not plain.
    if (stop >= last || *stop != '"') return nullptr;
    *body = std::string_view(start, static_cast<size_t>(stop - start));
    return stop + 1;
  }
  return nullptr;
}

// The key whose opening quote is at `p`, and the field it names; the return value is the byte
// after its closing quote, or nullptr when the key is not plain.
const char* ScanKey(const char* p, const char* last, FieldId* id) {
  // Known names are plain and shorter than a word: when the first word holds the closing quote
  // and the bytes before it name a field, the key has been read.
  if (*p == '"') {
    Word quotes = ZeroBytes(LoadWord(p + 1) ^ Repeat('"'));
    if (quotes != 0) {
      size_t n = static_cast<size_t>(std::countr_zero(quotes) / 8);
      *id = MatchField(std::string_view(p + 1, n));
      if (*id != kUnknownField && p + 1 + n < last) return p + n + 2;
    }
  }
  std::string_view key;
  p = ScanString(p, last, &key);
  *id = p != nullptr ? MatchField(key) : kUnknownField;
  return p;
}

// The op whose name, of at most 8 bytes, starts at `name` (the byte after the opening quote)
// and ends at a closing quote before `last`; *after is the byte after that quote. None when the
// name is longer, is not an op's, or is not plain (the caller's general scan decides then).
//
// Every name but some NIF ops' fits in a word: the word, masked to the name, finds the op. A
// name ends at its quote or at a NUL byte, whichever comes first, and a NUL byte ends it as
// "not an op": OpFromNameWord takes the bytes past a name as zeros, so "alloc" followed by NUL
// bytes would otherwise be read as "alloc" (decision 240). Any other byte that is not plain
// (a control byte, '\\', non-ASCII) is in no op's name, so the lookup rejects it.
[[gnu::always_inline]] inline std::optional<Op> MatchShortOp(const char* name, const char* last,
                                                             const char** after) {
  const Word word = LoadWord(name);
  const Word stops = ZeroBytes(word ^ Repeat('"')) | ZeroBytes(word);  // lowest mark exact
  int n = 8;
  if (stops != 0) {
    n = std::countr_zero(stops) / 8;
    if (name[n] != '"') return std::nullopt;  // a NUL byte
  } else if (name + 8 >= last || name[8] != '"') {
    return std::nullopt;  // longer than a word, or unclosed
  }
  if (name + n >= last) return std::nullopt;  // the quote is past the line (read-ahead)
  *after = name + n + 1;
  return OpFromNameWord(n == 8 ? word : word & ((Word{1} << (8 * n)) - 1));
}

// How many of the 8 bytes at `p` are digits before the first non-digit, and their value.
int LeadingDigits(const char* p, uint64_t* value) {
  Word x = LoadWord(p) ^ Repeat('0');  // digits become 0..9
  // Bytes above 9: their high bit is set, or adding 0x76 sets it (no carry leaves a byte).
  Word other = (((x & Repeat(0x7F)) + Repeat(0x76)) | x) & kHighs;
  int n = std::countr_zero(other) / 8;  // 8 when all are digits
  if (n == 0) {
    *value = 0;
    return 0;
  }
  x <<= 64 - 8 * n;  // keep the digits; zero bytes (leading zeros) take the others' place
  // Combines neighbours: pairs, then groups of four, then all eight (first byte most
  // significant).
  x = (x * 2561) >> 8;
  x = ((x & 0x00FF00FF00FF00FFULL) * 6553601) >> 16;
  *value = ((x & 0x0000FFFF0000FFFFULL) * 42949672960001ULL) >> 32;
  return n;
}

constexpr uint64_t kPow10[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};

// A number token, its grammar checked.
struct Number {
  const char* begin = nullptr;
  const char* end = nullptr;
  bool negative = false;
  bool integer = true;  // no fraction, no exponent
  bool fits = true;     // integers: the magnitude fits in 64 bits
  uint64_t magnitude = 0;
};

// JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
// Inlined so that *n stays in registers: numbers are a third of the fields.
[[gnu::always_inline]] inline const char* ScanNumber(const char* p, Number* n) {
  n->begin = p;
  if (*p == '-') {
    n->negative = true;
    ++p;
  }
  const char* digits = p;
  uint64_t v = 0;  // wraps past 19 digits; redone below
  for (;;) {
    uint64_t chunk;
    int k = LeadingDigits(p, &chunk);
    v = v * kPow10[k] + chunk;
    p += k;
    if (k < 8) break;
  }
  size_t count = static_cast<size_t>(p - digits);
  if (count == 0 || (count > 1 && *digits == '0')) return nullptr;  // no digit, a leading zero
  if (count > 19) n->fits = ParseUint64(std::string_view(digits, count), &v);
  n->magnitude = v;
  if (*p == '.') {
    n->integer = false;
    const char* fraction = p + 1;
    p = SkipDigits(fraction);
    if (p == fraction) return nullptr;
  }
  if (*p == 'e' || *p == 'E') {
    n->integer = false;
    ++p;
    if (*p == '+' || *p == '-') ++p;
    const char* exponent = p;
    p = SkipDigits(exponent);
    if (p == exponent) return nullptr;
  }
  n->end = p;
  return p;
}

const char* ScanLiteral(const char* p, std::string_view word) {
  // May compare a few bytes past `last`: they are readable, and the '}' differs first.
  if (std::memcmp(p, word.data(), word.size()) != 0) return nullptr;
  return p + word.size();
}

// Each Parse* reads the value at `p` into its target, replacing all of it (Parse relies on
// that), and returns the byte after it, or nullptr when the value is not plain or not of the
// field's type.

// Replaces *out with `s`, which is never inside *out (it is in the line).
[[gnu::always_inline]] inline void CopyString(std::string_view s, std::string* out) {
  // A reused event's string mostly has the length of the new value already (ids and pids of
  // one trace are alike): 8 to 16 bytes are overwritten in place as two words that may
  // overlap, both inside the line and both inside the string.
  const size_t n = s.size();
  if (n == out->size() && n >= sizeof(Word) && n <= 2 * sizeof(Word)) {
    char* d = out->data();
    const Word head = LoadWord(s.data());
    const Word tail = LoadWord(s.data() + n - sizeof(Word));
    std::memcpy(d, &head, sizeof head);
    std::memcpy(d + n - sizeof(Word), &tail, sizeof tail);
    return;
  }
  // One assign: less than clear() and append() here (callgrind).
  out->assign(s.data(), n);
}

// Inlined: strings are a third of the fields, and a call costs as much as the scan.
[[gnu::always_inline]] inline const char* ParseString(const char* p, const char* last,
                                                      std::string* out) {
  std::string_view s;
  p = ScanString(p, last, &s);
  if (p == nullptr) return nullptr;
  CopyString(s, out);
  return p;
}

// Inlined where the recorders' `seq` is read (ParseField); called elsewhere.
[[gnu::always_inline]] inline const char* ParseUintInline(const char* p, uint64_t* out) {
  // A lone digit (a refc, a count): most small numbers. p[1] is readable, since the digit is
  // not the closing '}'; a fraction or an exponent after it ('.', 'e') is refused all the same,
  // by the caller, which finds no ',' or '}' there.
  if (IsDigit(p[0]) && !IsDigit(p[1])) {
    *out = static_cast<uint64_t>(p[0] - '0');
    return p + 1;
  }
  Number n;
  p = ScanNumber(p, &n);
  if (p == nullptr || !n.integer || n.negative || !n.fits) return nullptr;
  *out = n.magnitude;
  return p;
}

const char* ParseUint(const char* p, uint64_t* out) {
  return ParseUintInline(p, out);
}

// A `refc`: 0..kMaxCount.
const char* ParseCount(const char* p, int64_t* out) {
  uint64_t n;
  p = ParseUint(p, &n);
  if (p == nullptr || n > kMaxCount) return nullptr;
  *out = static_cast<int64_t>(n);
  return p;
}

// The number [begin, end) when it is not an integer up to 2^53, for ParseDouble: correctly rounded,
// like simdjson; false for what the full decoder must read. Rare in traces: kept out of line.
[[gnu::noinline]] bool ConvertDouble(const char* begin, const char* end, double* out) {
  // simdjson refuses an exponent of more than 19 digits, leading zeros included, whatever the
  // value ("0e00000000000000000001", decision 242): so does this, and the full decoder reports
  // it.
  const std::string_view text(begin, static_cast<size_t>(end - begin));
  if (const size_t e = text.find_first_of("eE"); e != std::string_view::npos) {
    const size_t sign = text[e + 1] == '+' || text[e + 1] == '-' ? 1 : 0;
    if (text.size() - e - 1 - sign > 19) return false;
  }
  // Out of range is left to the full decoder.
  double d;
  auto [stop, ec] = std::from_chars(begin, end, d);
  if (ec != std::errc() || stop != end || !std::isfinite(d)) return false;
  *out = d;
  return true;
}

// Inlined: only `t` is a double, on nearly every line.
[[gnu::always_inline]] inline const char* ParseDouble(const char* p, double* out) {
  Number n;
  p = ScanNumber(p, &n);
  if (p == nullptr) return nullptr;
  // Integers up to 2^53 convert exactly; the sign is applied after, so "-0" gives -0.0 as
  // simdjson does.
  if (n.integer && n.fits && n.magnitude <= uint64_t{1} << 53) {
    double d = static_cast<double>(n.magnitude);
    *out = n.negative ? -d : d;
    return p;
  }
  return ConvertDouble(n.begin, n.end, out) ? p : nullptr;  // not &n: it stays in registers
}

const char* ParseBool(const char* p, bool* out) {
  if (const char* q = ScanLiteral(p, "true")) {
    *out = true;
    return q;
  }
  if (const char* q = ScanLiteral(p, "false")) {
    *out = false;
    return q;
  }
  return nullptr;
}

// Like every Parse*, sets the whole target: the other kind's member too.
[[gnu::always_inline]] inline const char* ParseBinInline(const char* p, const char* last,
                                                         BinId* out) {
  if (*p == '"') {
    out->kind = BinId::Kind::kStr;
    out->num = 0;
    return ParseString(p, last, &out->str);
  }
  out->kind = BinId::Kind::kInt;
  out->str.clear();
  return ParseUint(p, &out->num);
}

// The same, called: ParseValue has five id fields.
const char* ParseBin(const char* p, const char* last, BinId* out) {
  return ParseBinInline(p, last, out);
}

const char* ParseStack(const char* p, const char* last, std::vector<std::string>* out) {
  out->clear();
  if (*p != '[') return nullptr;
  p = SkipSpace(p + 1);
  if (*p == ']') return p + 1;
  for (;;) {
    std::string_view s;
    p = ScanString(p, last, &s);
    if (p == nullptr) return nullptr;
    out->emplace_back(s);
    p = SkipSpace(p);
    if (*p == ']') return p + 1;
    if (*p != ',') return nullptr;
    p = SkipSpace(p + 1);
  }
}

// The value of an unknown field: any scalar is fine; objects and arrays are left to the full
// decoder, which walks them.
const char* SkipScalar(const char* p, const char* last) {
  switch (*p) {
    case '"': {
      std::string_view s;
      return ScanString(p, last, &s);
    }
    case 't':
      return ScanLiteral(p, "true");
    case 'f':
      return ScanLiteral(p, "false");
    case 'n':
      return ScanLiteral(p, "null");
    default: {
      Number n;
      return ScanNumber(p, &n);
    }
  }
}

template <typename T>
const char* ParseOptional(const char* p, std::optional<T>* out,
                          const char* (*parse)(const char*, T*)) {
  T value;
  p = parse(p, &value);
  if (p != nullptr) *out = value;
  return p;
}

const char* ParseValue(FieldId id, const char* p, const char* last, Event* e) {
  switch (id) {
    case kOpField: {
      if (*p == '"') {
        const char* after = nullptr;
        if (std::optional<Op> op = MatchShortOp(p + 1, last, &after)) {
          e->op = *op;
          return after;
        }
      }
      // A longer name (some NIF ops'), or none: the general scan.
      std::string_view name;
      p = ScanString(p, last, &name);
      if (p == nullptr) return nullptr;
      std::optional<Op> op = OpFromName(name);
      if (!op) return nullptr;  // unknown: an error
      e->op = *op;
      return p;
    }
    case kBinField:
      return ParseBin(p, last, &e->bin);
    case kNewBinField:
      return ParseBin(p, last, &e->new_bin);
    case kActorField:
      return ParseString(p, last, &e->actor);
    case kToField:
      return ParseString(p, last, &e->to);
    case kSrcField:
      return ParseString(p, last, &e->src);
    case kNoteField:
      return ParseString(p, last, &e->note);
    case kFuncField:
      return ParseString(p, last, &e->func);
    case kSizeField:
      return ParseOptional(p, &e->size, ParseUint);
    case kSeqField:
      return ParseOptional(p, &e->seq, ParseUint);
    case kCountField:
      p = ParseUint(p, &e->count);
      return e->count != 0 && e->count <= kMaxCount ? p : nullptr;
    case kRefcField:
      return ParseOptional(p, &e->refc, ParseCount);
    case kCopiedField:
      return ParseBool(p, &e->copied);
    case kPortField:
      return ParseString(p, last, &e->port);
    case kFromField:
      return ParseString(p, last, &e->from);
    case kGatheredField:
      return ParseBool(p, &e->gathered);
    case kTaskField:
      p = ParseUint(p, &e->task);
      return e->task != 0 && e->task <= kMaxCount ? p : nullptr;
    case kCopyField:
      return ParseBool(p, &e->copy);
    case kEnvField:
      return ParseBin(p, last, &e->env);
    case kResField:
      return ParseBin(p, last, &e->res);
    case kDataField:
      return ParseBin(p, last, &e->data);
    case kEnvKindField: {
      std::string_view kind;
      p = ScanString(p, last, &kind);
      if (p == nullptr) return nullptr;
      const std::optional<bool> callback = EnvKindIsCallback(kind);
      if (!callback) return nullptr;  // an error: the full decoder says it
      e->callback = *callback;
      return p;
    }
    case kRtypeField:
      return ParseString(p, last, &e->rtype);
    case kNifField:
      return ParseString(p, last, &e->nif);
    case kWriteField:
      return ParseBool(p, &e->write);
    case kReadonlyField:
      return ParseBool(p, &e->readonly);
    case kFailedField:
      return ParseBool(p, &e->failed);
    case kInField:
      return ParseString(p, last, &e->in);
    case kAmongField:
      return nullptr;  // an array of ids: the full decoder reads it
    case kTField:
      return ParseOptional(p, &e->t, ParseDouble);
    case kStackField:
      return ParseStack(p, last, &e->stack);
    case kRefctraceField:
    case kUnknownField:
      break;
  }
  return SkipScalar(p, last);
}

// `text` (at most 8 bytes) as LoadWord reads it, in its low bytes.
constexpr Word TextWord(std::string_view text) {
  Word word = 0;
  for (size_t b = 0; b < text.size(); ++b)
    word |= Word{static_cast<unsigned char>(text[b])} << (8 * b);
  return word;
}
constexpr Word LowBytes(size_t n) {
  return n >= sizeof(Word) ? ~Word{0} : (Word{1} << (8 * n)) - 1;
}

// A key and its colon as LoadWord reads them: `word` in the low `mask` bytes.
struct KeyWord {
  Word word;
  Word mask;
  size_t size;
  FieldId id;
};
constexpr KeyWord MakeKeyWord(std::string_view key_and_colon, FieldId id) {
  return {TextWord(key_and_colon), LowBytes(key_and_colon.size()), key_and_colon.size(), id};
}

// The key at `p` when it is one of those nearly every line has after `op` and `bin` (the
// recorders end lines with `"src"`, `"func"` and `"t"`; processes' events have `"actor"`,
// outputs `"to"`, and so on), found by its first letters and one comparison of the word at its
// opening quote with the key and its colon: its id, and the byte after the colon. nullptr
// otherwise, and ScanKey reads the key. Reads what ScanKey and Expect would (the same key
// bytes and the colon right after them, all before `last`), only sooner.
[[gnu::always_inline]] inline const char* MatchCommonKey(const char* p, const char* last,
                                                         FieldId* id) {
  static constexpr KeyWord kSrc = MakeKeyWord("\"src\":", kSrcField);
  static constexpr KeyWord kSeq = MakeKeyWord("\"seq\":", kSeqField);
  static constexpr KeyWord kSize = MakeKeyWord("\"size\":", kSizeField);
  static constexpr KeyWord kT = MakeKeyWord("\"t\":", kTField);
  static constexpr KeyWord kTo = MakeKeyWord("\"to\":", kToField);
  static constexpr KeyWord kActor = MakeKeyWord("\"actor\":", kActorField);
  static constexpr KeyWord kRefc = MakeKeyWord("\"refc\":", kRefcField);
  static constexpr KeyWord kFunc = MakeKeyWord("\"func\":", kFuncField);
  static constexpr KeyWord kCount = MakeKeyWord("\"count\":", kCountField);
  const KeyWord* key;
  switch (p[1]) {  // p[1] and p[2] are readable: words may be read 7 bytes past `last`
    case 's':
      key = p[2] == 'r' ? &kSrc : p[2] == 'e' ? &kSeq : &kSize;
      break;
    case 't':
      key = p[2] == '"' ? &kT : &kTo;
      break;
    case 'a':
      key = &kActor;
      break;
    case 'r':
      key = &kRefc;
      break;
    case 'f':
      key = &kFunc;
      break;
    case 'c':
      key = &kCount;
      break;
    default:
      return nullptr;
  }
  if ((LoadWord(p) & key->mask) != key->word) return nullptr;
  // Cannot fail while p <= last (none of the key's bytes is the '}' at `last`); kept, as
  // ScanKey keeps its own check, so that a caller's mistake refuses the line.
  if (p + key->size > last) return nullptr;
  *id = key->id;
  return p + key->size;
}

// The field whose key is at `p` (or after blanks there): its value read into *event, its id
// marked in *seen. The return value is the byte after the value; nullptr when the field is not
// plain or wrong.
[[gnu::always_inline]] inline const char* ParseField(const char* p, const char* last, Event* event,
                                                     FieldMask* seen) {
  FieldId id;
  if (*p != '"') p = SkipSpace(p);
  if (const char* value = MatchCommonKey(p, last, &id)) {
    p = value;
  } else {
    p = ScanKey(p, last, &id);
    if (p == nullptr) return nullptr;
    p = Expect(p, ':');
    if (p == nullptr) return nullptr;
  }
  if (id == kRefctraceField) id = kUnknownField;  // only a header's key
  if (id != kUnknownField) {
    if (*seen & FieldBit(id)) return nullptr;  // a duplicate is an error
    *seen |= FieldBit(id);
  }
  p = SkipSpace(p);
  // The fields the recorders end every line with, read here rather than through ParseValue's
  // call and jump table.
  switch (id) {
    case kSrcField:
      return ParseString(p, last, &event->src);
    case kTField:
      return ParseOptional(p, &event->t, ParseDouble);
    case kSeqField:
      return ParseOptional(p, &event->seq, ParseUintInline);
    default:
      return ParseValue(id, p, last, event);
  }
}

// `"op":"` and `,"bin":` as LoadWord reads them, in the low 6 and 7 bytes.
constexpr Word kOpKeyWord = 0x22'3A'22'70'6F'22ULL;
constexpr Word kBinKeyWord = 0x3A'22'6E'69'62'22'2CULL;
constexpr Word kLow6 = (Word{1} << 48) - 1;
constexpr Word kLow7 = (Word{1} << 56) - 1;

// The start the recorders write, `"op":"NAME","bin":ID` (NAME at most 8 bytes), read by
// comparing its fixed bytes instead of scanning keys: the fields read into *event and marked
// in *seen, and the byte after the last one returned. Reads op and, when `,"bin":` follows its
// name, bin; the rest of the line is the general loop's. Returns `p` itself, having set
// nothing, when the line starts otherwise or the op is not found here (the general loop then
// reads the line from its start, and decides); nullptr when bin's value is not plain or wrong.
//
// What it reads, the general loop would read the same way: the same key bytes (ScanKey finds
// "op" and "bin"), MatchShortOp for the name, and SkipSpace and ParseBin for the value.
[[gnu::always_inline]] inline const char* ParseRecorderStart(const char* p, const char* last,
                                                             Event* event, FieldMask* seen) {
  if ((LoadWord(p) & kLow6) != kOpKeyWord) return p;
  // None of those six bytes is the closing '}': the name starts at or before `last`.
  const char* after = nullptr;
  const std::optional<Op> op = MatchShortOp(p + 6, last, &after);
  if (!op) return p;
  event->op = *op;
  *seen |= FieldBit(kOpField);
  // `after` follows a quote before `last`. Anything but `,"bin":` (an exit's `,"actor":`,
  // blanks): the general loop goes on from the op's value.
  if ((LoadWord(after) & kLow7) != kBinKeyWord) return after;
  *seen |= FieldBit(kBinField);
  return ParseBinInline(SkipSpace(after + 7), last, &event->bin);
}

// The fields of the object whose '{' is just before `p` and whose '}' is `last`, each read
// into *event and marked in *seen as it is met; false at the first thing not plain or wrong.
[[gnu::always_inline]] inline bool ParseFields(const char* p, const char* last, Event* event,
                                               FieldMask* seen) {
  if (const char* q = ParseRecorderStart(p, last, event, seen); q != p) {
    p = q;
  } else {
    p = ParseField(p, last, event, seen);
  }
  for (;;) {
    if (p == nullptr) return false;
    if (*p != ',') p = SkipSpace(p);
    if (*p != ',') break;
    p = ParseField(p + 1, last, event, seen);
  }
  if (p != last) return false;  // not the end of the object, or content after it
  return (*seen & FieldBit(kOpField)) != 0 &&
         MissingRequiredField(event->op, *seen) == kUnknownField &&
         (event->op != Op::kHeld || HeldObjects(*seen) == 1);
}

bool Parse(const char* begin, const char* end, Event* event) {
  while (end > begin && IsJsonSpace(end[-1]))
    --end;
  if (end - begin < 2 || *begin != '{' || end[-1] != '}') return false;
  const char* last = end - 1;  // see the top of the file

  // A field this line has is overwritten whole by ParseValue, so only the fields the last line
  // set and this one lacks are reset, after the line is read (see Event::maybe_set). Lines of
  // the same shape reset nothing.
  FieldMask left = event->maybe_set;
  if (left == ~FieldMask{0}) {
    event->Clear();
    left = 0;
  }
  FieldMask seen = 0;
  if (!ParseFields(begin + 1, last, event, &seen)) {
    event->maybe_set = ~FieldMask{0};  // anything may be set; the caller's decoder clears it
    return false;
  }
  if ((left & ~seen) != 0) event->ClearFields(left & ~seen);
  event->maybe_set = seen;
  return true;
}

}  // namespace

bool ParsePlainEvent(std::string_view json, Event* event) {
  // The word scans read bytes in memory order as a little-endian number.
  if constexpr (std::endian::native != std::endian::little) return false;
  return Parse(json.data(), json.data() + json.size(), event);
}

}  // namespace refctrace::trace
