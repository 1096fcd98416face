#include "trace/event_decoder.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "trace/event_fields.h"
#include "trace/input_diagnostics.h"
#include "trace/json_token.h"

namespace refctrace::trace {
namespace od = simdjson::ondemand;
namespace {

// Deeper nesting than this in an unknown field is refused rather than walked.
// It must stay well below simdjson's own depth limit (1024, counting the
// document and the event object): past that, ondemand writes beyond its
// per-depth arrays (debug builds assert).
constexpr int kMaxNesting = 256;

// What a field's value must be, for the message when it is not.
enum class Expect : uint8_t {
  kString,
  kUint,
  kCount,     // 0..kMaxCount
  kPositive,  // 1..kMaxCount
  kBinId,
  kBool,
  kNumber,
  kStringArray,
  kBinIdArray,
  kVersion,
};

std::string Quoted(std::string_view name) {
  std::string s(1, '"');  // built piecewise: GCC 12 warns (-Wrestrict) on "\"" + s + "\""
  s += name;
  s += '"';
  return s;
}

std::string Describe(const TokenInfo& info) {
  if (info.kind == TokenKind::kObject) return "an object";
  if (info.kind == TokenKind::kArray) return "an array";
  return ShortForDisplay(info.text);
}

std::string MismatchMessage(std::string_view field, Expect expect, const TokenInfo& info) {
  bool number = info.kind == TokenKind::kNumber;
  bool integer = number && !info.fraction_or_exponent;
  // An integer that is not what was asked for is either out of range or of the wrong sign.
  uint64_t u = 0;
  bool too_big = integer && !info.negative && !ParseUint64(info.text, &u);
  bool count_too_big = integer && !info.negative && (too_big || u > kMaxCount);
  const std::string count_range = " is out of range (at most " + std::to_string(kMaxCount) + ")";
  std::string f = "field " + Quoted(field);
  std::string got = ", got " + Describe(info);
  switch (expect) {
    case Expect::kString:
      return f + " must be a string" + got;
    case Expect::kUint:
      if (too_big) return f + " is out of range (at most 18446744073709551615)" + got;
      return f + " must be a non-negative integer" + got;
    case Expect::kCount:
      if (count_too_big) return f + count_range + got;
      return f + " must be a non-negative integer" + got;
    case Expect::kPositive:
      if (count_too_big) return f + count_range + got;
      return f + " must be a positive integer" + got;
    case Expect::kBinId:
      if (too_big) {
        return f + " is out of range (integer ids are at most 18446744073709551615)" + got;
      }
      if (number && !info.negative) {
        return f + " must be a string or a non-negative integer without fraction or exponent" + got;
      }
      return f + " must be a string or a non-negative integer" + got;
    case Expect::kBool:
      return f + " must be true or false" + got;
    case Expect::kNumber:
      if (number) return f + " is out of range for a number" + got;
      return f + " must be a number" + got;
    case Expect::kStringArray:
      return f + " must be an array of strings" + got;
    case Expect::kBinIdArray:
      return f + " must be an array of binary ids (strings or non-negative integers)" + got;
    case Expect::kVersion:
      return f + " must be an integer format version" + got;
  }
  return f + " has the wrong type" + got;
}

enum class Got : uint8_t { kOk, kWrongType, kSyntax };

// Strings in traces are short: a plain loop beats a call to memchr.
inline bool HasBackslash(std::string_view s) {
  if (s.size() > 64) return std::memchr(s.data(), '\\', s.size()) != nullptr;
  bool found = false;
  for (char c : s)
    found |= c == '\\';
  return found;
}

// The number `token` (simdjson's raw token: trailing blanks possible) as std::from_chars reads
// it, correctly rounded, as the plain parser reads it; `parsed` (simdjson's value) when that
// fails. simdjson 3.0.1's On-Demand get_double misreads some numbers of more than 19
// significant digits whose integer part is 0 (0.95000000000000000000 as 0.0277, simdjson
// issue #2093; found by plain_parser_diff_fuzz): simdjson still judges the number's grammar
// and range (decision 242), from_chars only its value (decision 236).
double CorrectlyRounded(std::string_view token, double parsed) {
  while (!token.empty() && IsJsonSpace(token.back()))
    token.remove_suffix(1);
  double value;
  const char* end = token.data() + token.size();
  auto [stop, ec] = std::from_chars(token.data(), end, value);
  if (ec != std::errc() || stop != end) return parsed;
  return value;
}

// A string value, viewed in place when it has no escapes (the common case), else unescaped
// into simdjson's string buffer. *raw is the token, for messages.
Got ReadString(od::value& v, std::string_view* out, std::string_view* raw) {
  std::string_view tok = v.raw_json_token();
  *raw = tok;
  if (tok.empty() || tok[0] != '"') return Got::kWrongType;
  tok = TrimJsonSpaceRight(tok);
  if (tok.size() < 2 || tok.back() != '"') return Got::kSyntax;
  std::string_view body = tok.substr(1, tok.size() - 2);
  if (!HasBackslash(body)) {
    *out = body;
    return Got::kOk;
  }
  return v.get_string().get(*out) ? Got::kSyntax : Got::kOk;
}

// Decodes one object. Problems with the content are held back until the object has been walked.
class Decoder {
 public:
  Decoder(bool header_allowed, Event* event, DecodeProblem* problem)
      : header_allowed_(header_allowed), event_(event), problem_(problem) {}

  DecodeOutcome Run(od::object& object, const char* object_start);

 private:
  bool Syntax(simdjson::error_code code) {
    problem_->syntax = true;
    problem_->code = code == simdjson::SUCCESS ? simdjson::TAPE_ERROR : code;
    return false;
  }
  // Records a content problem; the first one wins. Header-only and event-only problems are
  // kept apart because which kind of object this is is known only at the end.
  void Problem(FieldId id, const char* where, std::string message) {
    Held& h = id == kRefctraceField ? version_problem_ : event_problem_;
    if (h.where != nullptr) return;
    h.where = where;
    h.message = std::move(message);
  }
  // The value at `v` (token `raw`) is not what `expect` asks for, or is malformed JSON.
  bool Mismatch(FieldId id, od::value& v, std::string_view raw, Expect expect) {
    TokenInfo info = ClassifyToken(raw);
    if (info.kind == TokenKind::kMalformed) return Syntax(simdjson::TAPE_ERROR);
    if (info.kind == TokenKind::kObject || info.kind == TokenKind::kArray) {
      if (!ValidateJsonValue(v, problem_)) return false;
    }
    Problem(id, info.text.data(), MismatchMessage(kFieldNames[id], expect, info));
    return true;
  }
  bool Field(FieldId id, od::value& v);
  bool StringField(FieldId id, od::value& v, std::string* out);
  // A string field's value, viewed (a name of a set, like op and env_kind, is then looked up by
  // its owner in trace/event.h): true with *name and *raw (its token) set, or with *raw empty
  // when the value is not a string (reported as a problem). False on malformed JSON.
  bool StringValue(FieldId id, od::value& v, std::string_view* name, std::string_view* raw);
  bool UintField(FieldId id, od::value& v, Expect expect, uint64_t* out);
  bool BoolField(FieldId id, od::value& v, bool* out);
  bool BinField(FieldId id, od::value& v, BinId* out);
  bool StackField(od::value& v);
  bool AmongField(od::value& v);

  struct Held {
    const char* where = nullptr;
    std::string message;
  };

  bool header_allowed_;
  Event* event_;
  DecodeProblem* problem_;
  FieldMask seen_ = 0;
  Held event_problem_;
  Held version_problem_;
  const char* among_where_ = nullptr;  // the "among" key, for the checks that need the op
};

bool Decoder::StringField(FieldId id, od::value& v, std::string* out) {
  std::string_view s, raw;
  if (!StringValue(id, v, &s, &raw)) return false;
  if (!raw.empty()) out->assign(s.data(), s.size());
  return true;
}

bool Decoder::StringValue(FieldId id, od::value& v, std::string_view* name, std::string_view* raw) {
  switch (ReadString(v, name, raw)) {
    case Got::kOk:
      return true;
    case Got::kWrongType: {
      const std::string_view token = *raw;
      *raw = {};
      return Mismatch(id, v, token, Expect::kString);
    }
    case Got::kSyntax:
      break;
  }
  return Syntax(simdjson::STRING_ERROR);
}

bool Decoder::UintField(FieldId id, od::value& v, Expect expect, uint64_t* out) {
  std::string_view raw = v.raw_json_token();
  TokenInfo info = ClassifyToken(raw);
  if (info.kind == TokenKind::kNumber && !info.negative && !info.fraction_or_exponent &&
      ParseUint64(info.text, out)) {
    if (expect == Expect::kUint) return true;
    if (*out <= kMaxCount && (expect != Expect::kPositive || *out != 0)) return true;
  }
  return Mismatch(id, v, raw, expect);
}

bool Decoder::BoolField(FieldId id, od::value& v, bool* out) {
  std::string_view raw = v.raw_json_token();
  TokenInfo info = ClassifyToken(raw);
  if (info.kind == TokenKind::kTrue || info.kind == TokenKind::kFalse) {
    *out = info.kind == TokenKind::kTrue;
    return true;
  }
  return Mismatch(id, v, raw, Expect::kBool);
}

bool Decoder::BinField(FieldId id, od::value& v, BinId* out) {
  std::string_view raw = v.raw_json_token();
  if (!raw.empty() && raw[0] == '"') {
    std::string_view s;
    if (ReadString(v, &s, &raw) != Got::kOk) return Syntax(simdjson::STRING_ERROR);
    out->kind = BinId::Kind::kStr;
    out->str.assign(s.data(), s.size());
    return true;
  }
  TokenInfo info = ClassifyToken(raw);
  uint64_t n;
  if (info.kind == TokenKind::kNumber && !info.negative && !info.fraction_or_exponent &&
      ParseUint64(info.text, &n)) {
    out->kind = BinId::Kind::kInt;
    out->num = n;
    return true;
  }
  return Mismatch(id, v, raw, Expect::kBinId);
}

bool Decoder::StackField(od::value& v) {
  std::string_view raw = v.raw_json_token();
  if (raw.empty() || raw[0] != '[') return Mismatch(kStackField, v, raw, Expect::kStringArray);
  od::array array;
  if (auto err = v.get_array().get(array)) return Syntax(err);
  size_t index = 0;
  for (auto element_result : array) {
    od::value element;
    if (auto err = std::move(element_result).get(element)) return Syntax(err);
    std::string_view s, token;
    switch (ReadString(element, &s, &token)) {
      case Got::kOk:
        event_->stack.emplace_back(s);
        break;
      case Got::kWrongType: {
        TokenInfo info = ClassifyToken(token);
        if (info.kind == TokenKind::kMalformed) return Syntax(simdjson::TAPE_ERROR);
        if (info.kind == TokenKind::kObject || info.kind == TokenKind::kArray) {
          if (!ValidateJsonValue(element, problem_)) return false;
        }
        Problem(kStackField, info.text.data(),
                "field \"stack\" must be an array of strings, but element " +
                    std::to_string(index) + " is " + Describe(info));
        break;
      }
      case Got::kSyntax:
        return Syntax(simdjson::STRING_ERROR);
    }
    ++index;
  }
  return true;
}

// `among` (trace format 1.4): at least two distinct binary ids.
bool Decoder::AmongField(od::value& v) {
  std::string_view raw = v.raw_json_token();
  if (raw.empty() || raw[0] != '[') return Mismatch(kAmongField, v, raw, Expect::kBinIdArray);
  od::array array;
  if (auto err = v.get_array().get(array)) return Syntax(err);
  size_t index = 0;
  for (auto element_result : array) {
    od::value element;
    if (auto err = std::move(element_result).get(element)) return Syntax(err);
    const std::string_view token = element.raw_json_token();
    BinId id;
    const bool was_clean = event_problem_.where == nullptr;
    if (!BinField(kAmongField, element, &id)) return false;
    if (was_clean && event_problem_.where != nullptr) {
      // BinField described the element as if it were the whole field: say which one.
      event_problem_.message = "field \"among\" must be an array of binary ids, but element " +
                               std::to_string(index) + " is " + Describe(ClassifyToken(token));
    } else if (!id.present()) {
      // not an id: reported already
    } else if (std::find(event_->among.begin(), event_->among.end(), id) != event_->among.end()) {
      Problem(kAmongField, token.data(),
              "field \"among\" names binary " + ShortForDisplay(id.ToDisplay()) +
                  " twice (element " + std::to_string(index) + ")");
    } else {
      event_->among.push_back(std::move(id));
    }
    ++index;
  }
  if (index < 2) {
    Problem(kAmongField, raw.data(),
            "field \"among\" must name at least two binaries (one known binary is `bin`), got " +
                std::to_string(index));
  }
  return true;
}

bool Decoder::Field(FieldId id, od::value& v) {
  Event& e = *event_;
  switch (id) {
    case kOpField: {
      std::string_view name, raw;
      if (!StringValue(id, v, &name, &raw)) return false;
      if (raw.empty()) return true;  // not a string: reported
      if (auto op = OpFromName(name)) {
        e.op = *op;
      } else {
        std::string message = "unknown op \"" + ShortForDisplay(name) + "\"";
        if (auto nearest = NearestOp(name))
          message += " (did you mean \"" + std::string(OpName(*nearest)) + "\"?)";
        Problem(id, raw.data(), std::move(message));
      }
      return true;
    }
    case kBinField:
      return BinField(id, v, &e.bin);
    case kNewBinField:
      return BinField(id, v, &e.new_bin);
    case kActorField:
      return StringField(id, v, &e.actor);
    case kToField:
      return StringField(id, v, &e.to);
    case kSrcField:
      return StringField(id, v, &e.src);
    case kNoteField:
      return StringField(id, v, &e.note);
    case kFuncField:
      return StringField(id, v, &e.func);
    case kSizeField: {
      uint64_t n;
      if (!UintField(id, v, Expect::kUint, &n)) return false;
      e.size = n;
      return true;
    }
    case kSeqField: {
      uint64_t n;
      if (!UintField(id, v, Expect::kUint, &n)) return false;
      e.seq = n;
      return true;
    }
    case kCountField:
      return UintField(id, v, Expect::kPositive, &e.count);
    case kRefcField: {
      uint64_t n;
      if (!UintField(id, v, Expect::kCount, &n)) return false;
      e.refc = static_cast<int64_t>(n);
      return true;
    }
    case kCopiedField:
      return BoolField(id, v, &e.copied);
    case kPortField:
      return StringField(id, v, &e.port);
    case kFromField:
      return StringField(id, v, &e.from);
    case kGatheredField:
      return BoolField(id, v, &e.gathered);
    case kTaskField:
      return UintField(id, v, Expect::kPositive, &e.task);
    case kCopyField:
      return BoolField(id, v, &e.copy);
    case kEnvField:
      return BinField(id, v, &e.env);
    case kResField:
      return BinField(id, v, &e.res);
    case kDataField:
      return BinField(id, v, &e.data);
    case kEnvKindField: {
      std::string_view kind, raw;
      if (!StringValue(id, v, &kind, &raw)) return false;
      if (raw.empty()) return true;  // not a string: reported
      if (auto callback = EnvKindIsCallback(kind)) {
        e.callback = *callback;
      } else {
        Problem(id, raw.data(),
                "field \"env_kind\" must be \"call\" or \"callback\", got " + ShortForDisplay(raw));
      }
      return true;
    }
    case kRtypeField:
      return StringField(id, v, &e.rtype);
    case kNifField:
      return StringField(id, v, &e.nif);
    case kWriteField:
      return BoolField(id, v, &e.write);
    case kReadonlyField:
      return BoolField(id, v, &e.readonly);
    case kFailedField:
      return BoolField(id, v, &e.failed);
    case kInField:
      return StringField(id, v, &e.in);
    case kTField: {
      std::string_view raw = v.raw_json_token();
      TokenInfo info = ClassifyToken(raw);
      double d;
      if (info.kind == TokenKind::kNumber && !v.get_double().get(d)) {
        e.t = CorrectlyRounded(raw, d);
        return true;
      }
      return Mismatch(id, v, raw, Expect::kNumber);
    }
    case kStackField:
      return StackField(v);
    case kAmongField:
      return AmongField(v);
    case kRefctraceField: {
      DecodeProblem version;
      if (CheckFormatVersion(v, &version)) return true;
      if (version.syntax) return Syntax(version.code);
      Problem(id, version.where, std::move(version.message));
      return true;
    }
    case kUnknownField:
      break;
  }
  return ValidateJsonValue(v, problem_);
}

DecodeOutcome Decoder::Run(od::object& object, const char* object_start) {
  event_->Clear();
  for (auto field_result : object) {
    od::field field;
    if (auto err = std::move(field_result).get(field)) {
      Syntax(err);
      return DecodeOutcome::kProblem;
    }
    const char* key_where = field.key().raw() - 1;  // the opening quote
    std::string_view key;
    if (!ReadFieldKey(field, &key)) {
      Syntax(simdjson::STRING_ERROR);
      return DecodeOutcome::kProblem;
    }
    FieldId id = MatchField(key);
    if (id == kRefctraceField && !header_allowed_) id = kUnknownField;
    if (id != kUnknownField) {
      FieldMask bit = FieldBit(id);
      if (seen_ & bit) {
        Problem(id, key_where, "duplicate field " + Quoted(kFieldNames[id]));
        id = kUnknownField;  // still walked, for syntax errors
      }
      seen_ |= bit;
    }
    if (id == kAmongField) among_where_ = key_where;
    if (!Field(id, field.value())) return DecodeOutcome::kProblem;
  }

  auto has = [&](FieldId id) { return (seen_ & FieldBit(id)) != 0; };
  auto report = [&](const char* where, std::string message) {
    problem_->where = where;
    problem_->message = std::move(message);
    return DecodeOutcome::kProblem;
  };
  if (header_allowed_ && has(kRefctraceField) && !has(kOpField)) {
    if (version_problem_.where) return report(version_problem_.where, version_problem_.message);
    return DecodeOutcome::kHeader;
  }
  if (event_problem_.where) return report(event_problem_.where, event_problem_.message);
  if (!has(kOpField)) return report(object_start, "missing required field \"op\"");
  Op op = event_->op;
  if (has(kAmongField) && op != Op::kGc) {
    return report(among_where_, "field \"among\" is only for op \"gc\", not " + Quoted(OpName(op)));
  }
  if (has(kAmongField) && has(kBinField)) {
    return report(among_where_,
                  "a gc names its binary with \"bin\" or its candidates with \"among\", not both");
  }
  if (FieldId missing = MissingRequiredField(op, seen_); missing != kUnknownField) {
    std::string names = Quoted(kFieldNames[missing]);
    if (missing == kBinField && op == Op::kHeld) {
      names += ", " + Quoted(kFieldNames[kResField]) + " or " + Quoted(kFieldNames[kEnvField]);
    } else if (missing == kBinField && IsNifOp(op)) {
      // bin_release, bin_use, bin_make, ioq_enq name their binary by ref_bin or by data.
      names += " or " + Quoted(kFieldNames[kDataField]);
    }
    return report(object_start,
                  "missing required field " + names + " for op " + Quoted(OpName(op)));
  }
  if (op == Op::kHeld && HeldObjects(seen_) > 1) {
    return report(object_start,
                  "op \"held\" names one object: \"bin\", \"res\" or \"env\", not two");
  }
  return DecodeOutcome::kEvent;
}

bool Validate(od::value& v, DecodeProblem* problem, int depth) {
  auto syntax = [&](simdjson::error_code code) {
    problem->syntax = true;
    problem->code = code == simdjson::SUCCESS ? simdjson::TAPE_ERROR : code;
    return false;
  };
  std::string_view raw = v.raw_json_token();
  TokenInfo info = ClassifyToken(raw);
  switch (info.kind) {
    case TokenKind::kMalformed:
      return syntax(simdjson::TAPE_ERROR);
    case TokenKind::kString: {
      std::string_view s;
      // Escapes are checked by unescaping; plain strings were checked by simdjson's stage 1.
      if (std::memchr(raw.data(), '\\', info.text.size()) && v.get_string().get(s)) {
        return syntax(simdjson::STRING_ERROR);
      }
      return true;
    }
    case TokenKind::kNumber:
    case TokenKind::kTrue:
    case TokenKind::kFalse:
    case TokenKind::kNull:
      return true;
    case TokenKind::kObject:
    case TokenKind::kArray:
      break;
  }
  if (depth >= kMaxNesting) {
    problem->where = raw.data();
    problem->message = "JSON nesting is deeper than " + std::to_string(kMaxNesting) + " levels";
    return false;
  }
  if (info.kind == TokenKind::kObject) {
    od::object object;
    if (auto err = v.get_object().get(object)) return syntax(err);
    for (auto field_result : object) {
      od::field field;
      if (auto err = std::move(field_result).get(field)) return syntax(err);
      std::string_view key;
      if (!ReadFieldKey(field, &key)) return syntax(simdjson::STRING_ERROR);
      if (!Validate(field.value(), problem, depth + 1)) return false;
    }
    return true;
  }
  od::array array;
  if (auto err = v.get_array().get(array)) return syntax(err);
  for (auto element_result : array) {
    od::value element;
    if (auto err = std::move(element_result).get(element)) return syntax(err);
    if (!Validate(element, problem, depth + 1)) return false;
  }
  return true;
}

}  // namespace

DecodeOutcome DecodeEvent(od::object& object, const char* object_start, bool header_allowed,
                          Event* event, DecodeProblem* problem) {
  Decoder decoder(header_allowed, event, problem);
  return decoder.Run(object, object_start);
}

bool CheckFormatVersion(od::value& value, DecodeProblem* problem) {
  std::string_view raw = value.raw_json_token();
  TokenInfo info = ClassifyToken(raw);
  switch (info.kind) {
    case TokenKind::kMalformed:
      problem->syntax = true;
      problem->code = simdjson::TAPE_ERROR;
      return false;
    case TokenKind::kNumber:
      if (!info.fraction_or_exponent) {
        if (info.text == "1") return true;
        problem->where = info.text.data();
        problem->message = "unsupported trace format version " + ShortForDisplay(info.text) +
                           " (this refctrace reads version " +
                           std::to_string(kSupportedFormatVersion) + ")";
        return false;
      }
      break;
    case TokenKind::kObject:
    case TokenKind::kArray:
      if (!ValidateJsonValue(value, problem)) return false;
      break;
    default:
      break;
  }
  problem->where = info.text.data();
  problem->message = MismatchMessage("refctrace", Expect::kVersion, info);
  return false;
}

bool ValidateJsonValue(od::value& value, DecodeProblem* problem) {
  return Validate(value, problem, 0);
}

bool ReadFieldKey(od::field& field, std::string_view* key) {
  const char* raw = field.key().raw();
  const char* p = raw;
  // stage 1 guarantees a closing quote; stop early at a backslash.
  while (*p != '"' && *p != '\\')
    ++p;
  if (*p == '"') {
    *key = std::string_view(raw, static_cast<size_t>(p - raw));
    return true;
  }
  return !field.unescaped_key().get(*key);
}

std::string DescribeJsonValue(std::string_view raw_token) {
  return Describe(ClassifyToken(raw_token));
}

}  // namespace refctrace::trace
