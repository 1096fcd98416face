#include "render/rule_docs.h"

#include <array>
#include <string_view>

#include "render/diagnostics_md.h"

namespace refctrace::render {

namespace {

// "[text](target)" -> "text"; everything else unchanged.
std::string FlattenLinks(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    if (s[i] == '[') {
      const size_t close = s.find(']', i + 1);
      if (close != std::string_view::npos && close + 1 < s.size() && s[close + 1] == '(') {
        const size_t end = s.find(')', close + 2);
        if (end != std::string_view::npos && s.find('\n', i) > end) {
          out.append(s.substr(i + 1, close - i - 1));
          i = end + 1;
          continue;
        }
      }
    }
    out.push_back(s[i++]);
  }
  return out;
}

std::string RemoveAll(std::string s, std::string_view what) {
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at)) {
    s.erase(at, what.size());
  }
  return s;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

// The section "## <name>" up to the next "## ", without its heading.
std::string_view Section(std::string_view page, std::string_view name) {
  const std::string heading = "\n## " + std::string(name) + "\n";
  const size_t start = page.find(heading);
  if (start == std::string_view::npos) return {};
  const size_t body = start + heading.size();
  const size_t end = page.find("\n## ", body);
  return Trim(page.substr(body, end == std::string_view::npos ? end : end - body));
}

// The table row "| [`name`](#name) | severity | summary |".
std::string SummaryFromTable(std::string_view page, std::string_view name) {
  const std::string row = "| [`" + std::string(name) + "`](#" + std::string(name) + ") |";
  const size_t start = page.find(row);
  if (start == std::string_view::npos) return {};
  const size_t line_end = page.find('\n', start);
  std::string_view line = page.substr(start, line_end - start);
  line.remove_suffix(line.size() - line.rfind('|'));  // drop the closing '|'
  const size_t last = line.rfind('|');
  return MarkdownToText(Trim(line.substr(last + 1)));
}

// The paragraph that starts with "**What it means.**", without the marker, as
// one line. A paragraph that ends with ':' introduces a list: the list is part
// of the sentence, so its items follow as running text (SARIF viewers show
// this text alone, and a sentence cut at its colon says nothing).
std::string MeaningOf(std::string_view section) {
  constexpr std::string_view kMarker = "**What it means.**";
  const size_t start = section.find(kMarker);
  if (start == std::string_view::npos) return {};
  std::string_view rest = section.substr(start + kMarker.size());
  size_t end = rest.find("\n\n");
  std::string_view paragraph = Trim(rest.substr(0, end));
  std::string text(paragraph);
  if (!paragraph.empty() && paragraph.back() == ':' && end != std::string_view::npos) {
    std::string_view list = rest.substr(end + 2);
    list = list.substr(0, list.find("\n\n"));
    if (list.substr(0, 2) == "- ") {
      for (size_t pos = 0; pos < list.size();) {
        size_t eol = list.find('\n', pos);
        if (eol == std::string_view::npos) eol = list.size();
        std::string_view line = Trim(list.substr(pos, eol - pos));
        if (line.substr(0, 2) == "- ") line.remove_prefix(2);
        text += ' ';
        text += line;
        pos = eol + 1;
      }
    }
  }
  text = MarkdownToText(text);
  for (char& c : text) {
    if (c == '\n') c = ' ';
  }
  return text;
}

RuleDoc Parse(model::Code code) {
  const std::string_view name = model::CodeName(code);
  const std::string_view section = Section(kDiagnosticsMarkdown, name);
  RuleDoc doc;
  doc.summary = SummaryFromTable(kDiagnosticsMarkdown, name);
  doc.meaning = MeaningOf(section);
  doc.markdown = FlattenLinks(section);
  doc.text = MarkdownToText(section);
  return doc;
}

}  // namespace

std::string MarkdownToText(std::string_view markdown) {
  std::string out;
  bool in_code = false;
  size_t pos = 0;
  while (pos <= markdown.size()) {
    size_t end = markdown.find('\n', pos);
    if (end == std::string_view::npos) end = markdown.size();
    const std::string_view line = markdown.substr(pos, end - pos);
    pos = end + 1;
    if (line.substr(0, 3) == "```") {
      in_code = !in_code;
      continue;
    }
    if (in_code) {
      out += line.empty() ? "" : "    ";
      out += line;
    } else {
      out += RemoveAll(FlattenLinks(line), "**");
    }
    out += '\n';
  }
  while (!out.empty() && out.back() == '\n')
    out.pop_back();
  return out;
}

const RuleDoc& RuleDocFor(model::Code code) {
  static const std::array<RuleDoc, model::kAllCodes.size()> docs = [] {
    std::array<RuleDoc, model::kAllCodes.size()> all;
    for (model::Code c : model::kAllCodes)
      all[static_cast<size_t>(c)] = Parse(c);
    return all;
  }();
  return docs[static_cast<size_t>(code)];
}

}  // namespace refctrace::render
