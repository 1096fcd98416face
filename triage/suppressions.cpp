#include "triage/suppressions.h"

#include <fnmatch.h>

#include <fstream>
#include <sstream>

namespace refctrace::triage {

namespace {

bool GlobMatches(const std::string& glob, const std::string& s) {
  return fnmatch(glob.c_str(), s.c_str(), 0) == 0;
}

std::string KnownCodes() {
  std::string s;
  for (model::Code code : model::kAllCodes) {
    if (!s.empty()) s += ", ";
    s += model::CodeName(code);
  }
  return s;
}

}  // namespace

trace::MaybeError Suppressions::Parse(const std::string& file, std::string_view content) {
  std::vector<SuppressionRule> parsed;
  uint64_t line_no = 0;
  size_t pos = 0;
  while (pos < content.size()) {
    size_t end = content.find('\n', pos);
    if (end == std::string_view::npos) end = content.size();
    std::string_view line = content.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (const size_t hash = line.find('#'); hash != std::string_view::npos) {
      line = line.substr(0, hash);
    }
    SuppressionRule rule;
    rule.file = file;
    rule.line = line_no;
    bool first = true;
    size_t i = 0;
    auto error = [&](size_t at, std::string message) {
      return trace::FileError(file, std::move(message), line_no, at + 1);
    };
    while (i < line.size()) {
      if (line[i] == ' ' || line[i] == '\t' || line[i] == '\r') {
        ++i;
        continue;
      }
      const size_t word_start = i;
      while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
        ++i;
      const std::string_view word = line.substr(word_start, i - word_start);
      if (!rule.text.empty()) rule.text += ' ';
      rule.text += word;
      if (first) {
        first = false;
        if (word == "*") continue;
        rule.code = model::CodeFromName(word);
        if (!rule.code) {
          return error(word_start, "unknown diagnostic code '" + std::string(word) +
                                       "' (known: " + KnownCodes() + ", or * for any)");
        }
        continue;
      }
      const size_t eq = word.find('=');
      const std::string_view key = word.substr(0, eq);
      if (eq == std::string_view::npos || eq + 1 == word.size()) {
        return error(word_start,
                     "expected src=GLOB or frame=GLOB, got '" + std::string(word) + "'");
      }
      std::optional<std::string>* slot = key == "src"     ? &rule.src_glob
                                         : key == "frame" ? &rule.frame_glob
                                                          : nullptr;
      if (!slot) {
        return error(word_start, "unknown condition '" + std::string(key) +
                                     "' (a rule takes src=GLOB and frame=GLOB)");
      }
      if (*slot) return error(word_start, "'" + std::string(key) + "' given twice");
      *slot = std::string(word.substr(eq + 1));
    }
    if (!first) parsed.push_back(std::move(rule));
  }
  for (SuppressionRule& rule : parsed)
    rules_.push_back(std::move(rule));
  return std::nullopt;
}

const SuppressionRule* Suppressions::Match(const model::Finding& finding) {
  for (SuppressionRule& rule : rules_) {
    if (rule.code && *rule.code != finding.code) continue;
    if (rule.src_glob && !GlobMatches(*rule.src_glob, finding.src)) continue;
    if (rule.frame_glob) {
      bool any = false;
      for (const std::string& frame : finding.stack) {
        if (GlobMatches(*rule.frame_glob, frame)) {
          any = true;
          break;
        }
      }
      if (!any) continue;
    }
    ++rule.matched;
    return &rule;
  }
  return nullptr;
}

trace::MaybeError LoadSuppressions(const std::string& path, Suppressions* into) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return trace::FileError(path, "cannot open the suppressions file");
  std::ostringstream content;
  content << in.rdbuf();
  return into->Parse(path, content.str());
}

}  // namespace refctrace::triage
