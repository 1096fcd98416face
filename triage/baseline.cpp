#include "triage/baseline.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "model/fingerprint.h"

namespace refctrace::triage {

namespace {

// The file is set by LoadBaseline.
trace::InputError BaselineError(std::string message) {
  return trace::FileError("", std::move(message));
}

// nlohmann's parse_error::byte: 1-based, the last character read.
trace::InputError SyntaxErrorAt(std::string_view json, size_t byte, std::string message) {
  const std::string_view before = json.substr(0, std::min(byte ? byte - 1 : 0, json.size()));
  const size_t newline = before.rfind('\n');
  trace::InputError error = BaselineError(std::move(message));
  error.line = 1 + static_cast<uint64_t>(std::count(before.begin(), before.end(), '\n'));
  error.column = before.size() - (newline == std::string_view::npos ? 0 : newline + 1) + 1;
  return error;
}

}  // namespace

trace::MaybeError Baseline::Parse(std::string_view json) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(json);
  } catch (const nlohmann::json::parse_error& e) {
    // nlohmann says "parse error at line L, column C: ..."; keep that part.
    std::string what = e.what();
    const size_t at = what.find("parse error");
    return SyntaxErrorAt(json, e.byte,
                         "not JSON: " + (at == std::string::npos ? what : what.substr(at)));
  }
  if (!doc.is_object() || doc.value("version", nlohmann::json()) != 1 ||
      !doc.contains("diagnostics") || !doc["diagnostics"].is_array()) {
    return BaselineError(
        "not a refctrace result: expected {\"version\": 1, \"diagnostics\": [...]} as written by "
        "`refctrace check --format json` or `--write-baseline`");
  }
  std::map<std::string, uint64_t, std::less<>> counts;
  const nlohmann::json& diagnostics = doc["diagnostics"];
  for (size_t i = 0; i < diagnostics.size(); ++i) {
    const nlohmann::json& d = diagnostics[i];
    if (!d.is_object() || !d.contains("fingerprint") || !d["fingerprint"].is_string()) {
      return BaselineError("diagnostics[" + std::to_string(i) +
                           "] has no \"fingerprint\"; write the baseline with this version of "
                           "refctrace (--write-baseline)");
    }
    ++counts[d["fingerprint"].get<std::string>()];
  }
  // Fingerprints of another version never match: such a baseline would make
  // every known finding new, or (version 1, which has no functions) could
  // hide a new bug behind an old one. Without findings it is harmless.
  const nlohmann::json version = doc.value("fingerprint_version", nlohmann::json(1));
  if (!diagnostics.empty() && version != model::kFingerprintVersion) {
    return BaselineError("its fingerprints are version " + version.dump() +
                         ", this refctrace matches version " +
                         std::to_string(model::kFingerprintVersion) +
                         " only (it tells functions apart); write the baseline again with "
                         "--write-baseline");
  }
  for (const auto& [fingerprint, count] : counts) {
    remaining_[fingerprint] += count;
    size_ += count;
  }
  return std::nullopt;
}

bool Baseline::Absorb(const model::Finding& finding) {
  auto it = remaining_.find(model::Fingerprint(finding));
  if (it == remaining_.end() || it->second == 0) return false;
  --it->second;
  --size_;
  return true;
}

trace::MaybeError LoadBaseline(const std::string& path, Baseline* into) {
  std::ifstream in(path, std::ios::binary);
  trace::MaybeError error;
  if (!in) {
    error = BaselineError("cannot open the baseline file");
  } else {
    std::ostringstream content;
    content << in.rdbuf();
    error = into->Parse(content.str());
  }
  if (error) error->file = path;
  return error;
}

}  // namespace refctrace::triage
