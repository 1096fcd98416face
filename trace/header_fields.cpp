#include "trace/header_fields.h"

#include "trace/json_token.h"

namespace refctrace::trace {
namespace od = simdjson::ondemand;

namespace {

bool Report(DecodeProblem* problem, const char* where, std::string message) {
  problem->where = where;
  problem->message = std::move(message);
  return false;
}

bool Syntax(DecodeProblem* problem, simdjson::error_code code) {
  problem->syntax = true;
  problem->code = code;
  return false;
}

// A wrong value: malformed JSON inside an object or array is reported as such first.
bool WrongValue(od::value& value, std::string_view raw, std::string message,
                DecodeProblem* problem) {
  const TokenInfo info = ClassifyToken(raw);
  if (info.kind == TokenKind::kMalformed) return Syntax(problem, simdjson::TAPE_ERROR);
  if ((info.kind == TokenKind::kObject || info.kind == TokenKind::kArray) &&
      !ValidateJsonValue(value, problem)) {
    return false;
  }
  return Report(problem, raw.data(), std::move(message) + ", got " + DescribeJsonValue(raw));
}

bool ReadName(std::string_view key, od::value& value, std::string* out, DecodeProblem* problem) {
  const std::string_view raw = value.raw_json_token();
  const std::string must = "field \"" + std::string(key) + "\" must be a non-empty string";
  if (ClassifyToken(raw).kind != TokenKind::kString) return WrongValue(value, raw, must, problem);
  std::string_view text;
  if (value.get_string().get(text)) return Syntax(problem, simdjson::STRING_ERROR);
  if (text.empty()) return Report(problem, raw.data(), must + ", got \"\"");
  out->assign(text.data(), text.size());
  return true;
}

bool ReadPart(od::value& value, uint64_t* out, DecodeProblem* problem) {
  const std::string_view raw = value.raw_json_token();
  const TokenInfo info = ClassifyToken(raw);
  if (info.kind == TokenKind::kNumber && !info.negative && !info.fraction_or_exponent &&
      ParseUint64(info.text, out)) {
    return true;
  }
  return WrongValue(value, raw, "field \"part\" must be a non-negative integer", problem);
}

}  // namespace

bool HeaderFieldsReader::Field(std::string_view key, const char* key_at, od::value& value,
                               DecodeProblem* problem) {
  const char** seen = key == "run"    ? &run_at_
                      : key == "part" ? &part_at_
                      : key == "case" ? &case_at_
                                      : nullptr;
  if (seen == nullptr) return true;
  if (*seen != nullptr)
    return Report(problem, key_at, "duplicate field \"" + std::string(key) + "\"");
  *seen = key_at;
  if (key == "part") return ReadPart(value, &header_.part, problem);
  return ReadName(key, value, key == "run" ? &header_.run : &header_.case_name, problem);
}

bool HeaderFieldsReader::Finish(DecodeProblem* problem) {
  // A part means nothing without its run, and a run's files must say where each goes.
  if (part_at_ != nullptr && run_at_ == nullptr) {
    return Report(problem, part_at_,
                  "field \"part\" needs field \"run\": a part is a place in a named run");
  }
  if (run_at_ != nullptr && part_at_ == nullptr) {
    return Report(problem, run_at_,
                  "field \"run\" needs field \"part\": every file of a run says which part it is");
  }
  return true;
}

}  // namespace refctrace::trace
