#include "render/github_renderer.h"

#include <string>

#include "model/wording.h"
#include "render/source_location.h"
#include "render/text_renderer.h"

namespace refctrace::render {

namespace {

std::string Escape(std::string_view s, bool property) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '%':
        out += "%25";
        break;
      case '\r':
        out += "%0D";
        break;
      case '\n':
        out += "%0A";
        break;
      case ':':
        out += property ? "%3A" : ":";
        break;
      case ',':
        out += property ? "%2C" : ",";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// "file=...,line=...": the anchor's src when the trace has it, else the
// trace file itself (stdin has no file to point at).
std::string Where(const std::string& src, const std::string& path, uint64_t line,
                  uint64_t column = 0) {
  const SourceLocation loc = ParseSrc(src);
  std::string file = loc.file;
  if (file.empty()) {
    if (path == "-") return "";
    file = path;
  } else {
    line = loc.line;
    column = loc.column;
  }
  std::string s = "file=" + GithubEscapeProperty(file);
  if (line) s += ",line=" + std::to_string(line);
  if (column) s += ",col=" + std::to_string(column);
  return s;
}

std::string Command(std::string_view kind, const std::string& where, const std::string& title) {
  std::string s = "::" + std::string(kind) + " " + where;
  if (!where.empty()) s += ",";
  return s + "title=" + GithubEscapeProperty(title) + "::";
}

}  // namespace

std::string GithubEscapeData(std::string_view s) {
  return Escape(s, false);
}
std::string GithubEscapeProperty(std::string_view s) {
  return Escape(s, true);
}

void RenderGithubInput(const InputReport& input, std::ostream& out) {
  for (const model::Finding& f : input.findings) {
    const std::string_view kind = f.severity == model::Severity::kError ? "error" : "warning";
    std::string message = f.message + "\n" + std::string(model::ObjectKindName(f.object)) + " " +
                          f.bin.ToDisplay() + " (incarnation " + std::to_string(f.incarnation) +
                          "), ";
    if (!f.port.empty()) message += "port " + f.port + ", ";
    message += "event " + std::to_string(f.event) + " of " + input.path;
    if (f.line) message += ":" + std::to_string(f.line);
    if (!input.header.case_name.empty()) message += ", test case " + input.header.case_name;
    for (const model::Step& step : f.history) {
      message += "\n  " + model::DescribeStep(step) + " (refc " + std::to_string(step.refc) + ")";
    }
    std::string title = "refctrace " + std::string(model::CodeName(f.code));
    if (!input.header.case_name.empty()) title += " in " + input.header.case_name;
    out << Command(kind, Where(f.src, input.path, f.line), title) << GithubEscapeData(message)
        << "\n";
  }
  if (DriverUnrecorded(input)) {
    out << Command("warning", Where("", input.path, 0), "refctrace: no driver event")
        << GithubEscapeData(input.path + ": " + DriverUnrecordedText(input)) << "\n";
  }
  if (input.error) {
    out << Command("error", Where("", input.path, input.error->line, input.error->column),
                   "refctrace input error")
        << GithubEscapeData(input.path + ": " + input.error->message) << "\n";
  }
}

}  // namespace refctrace::render
