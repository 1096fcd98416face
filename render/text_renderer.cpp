#include "render/text_renderer.h"

#include <string_view>

#include "model/wording.h"
#include "render/ansi.h"

namespace refctrace::render {

using model::DescribeStep;
using model::Finding;
using model::Plural;
using model::Severity;
using model::Step;
using trace::Op;

namespace {

std::string_view SeverityColor(Severity severity) {
  switch (severity) {
    case Severity::kError:
      return kRed;
    case Severity::kWarning:
      return kMagenta;
    case Severity::kNote:
      return kCyan;
  }
  return kBold;
}

std::string Location(const std::string& path, uint64_t line) {
  std::string s = path;
  if (line) s += ":" + std::to_string(line);
  return s;
}

}  // namespace

std::string DescribeStepWithCount(const Step& step) {
  std::string s = DescribeStep(step) + " (";
  // The end-of-trace step of a leak has no event of its own to name.
  if (step.op != Op::kEnd || step.line) {
    s += "event " + std::to_string(step.event);
    // In another part of the run (trace format 1.5): where, since it is not the finding's file.
    if (!step.file.empty()) s += " in " + Location(step.file, step.line);
    s += ", ";
  }
  return s + "refc " + std::to_string(step.refc) + ")";
}

void RenderTextFindings(const InputReport& input, const TextStyle& style, std::ostream& out) {
  const Painter paint(style.color);
  for (const Finding& f : input.findings) {
    const std::string_view severity = model::SeverityName(f.severity);
    out << paint(kBold, Location(input.path, f.line) + ":") << " "
        << paint(SeverityColor(f.severity), std::string(severity)) << "[" << model::CodeName(f.code)
        << "]: " << paint(kBold, f.message) << "\n";
    out << "  " << model::ObjectKindName(f.object) << " " << f.bin.ToDisplay() << " (incarnation "
        << f.incarnation << "), ";
    if (!f.port.empty()) out << "port " << f.port << ", ";
    out << "event " << f.event;
    if (!f.src.empty()) out << ", at " << paint(kBold, f.src);
    if (!f.func.empty()) out << " in " << f.func;
    out << "\n";
    if (!input.header.case_name.empty()) out << "  test case " << input.header.case_name << "\n";
    if (!f.stack.empty()) {
      out << "  stack:";
      for (size_t i = 0; i < f.stack.size(); ++i)
        out << (i ? " <- " : " ") << f.stack[i];
      out << "\n";
    }
    for (size_t i = 0; i < f.history.size(); ++i) {
      const Step& step = f.history[i];
      if (step.omitted_before) {
        out << "  " << paint(kCyan, "note:") << " ... " << Plural(step.omitted_before, "event")
            << " omitted ...\n";
      }
      out << "  " << paint(kCyan, "note:") << " " << DescribeStepWithCount(step);
      if (step.event == f.event && step.op != Op::kEnd) out << paint(kGreen, "  <- here");
      out << "\n";
    }
  }
}

void RenderInputError(const std::string& path, const trace::InputError& error,
                      const TextStyle& style, std::ostream& out) {
  const Painter paint(style.color);
  std::string where = path;
  if (error.line) {
    where += ":" + std::to_string(error.line);
    if (error.column) where += ":" + std::to_string(error.column);
  }
  out << paint(kBold, where + ":") << " " << paint(kRed, "error") << ": "
      << paint(kBold, error.message) << "\n";
  if (!error.excerpt.empty()) {
    const std::string gutter = std::to_string(error.line);
    out << "  " << gutter << " | " << error.excerpt << "\n";
    if (error.excerpt_caret) {
      out << "  " << std::string(gutter.size(), ' ') << " | "
          << std::string(error.excerpt_caret - 1, ' ') << paint(kGreen, "^") << "\n";
    }
  }
}

namespace {

std::string SummaryText(const Totals& totals) {
  std::string s = Plural(totals.errors, "error") + ", " + Plural(totals.warnings, "warning");
  return s;
}

std::string FactsText(const Totals& totals) {
  std::string s = Plural(totals.binaries, "binary", "binaries") + ", " +
                  Plural(totals.leaked_bytes, "byte") + " leaked, " +
                  std::to_string(totals.held_by_processes) + " still held by processes";
  if (totals.uncertain_end) {
    s += ", " + std::to_string(totals.uncertain_end) +
         " perhaps released (which of several a process released is unknown)";
  }
  if (totals.held_by_nif) {
    s += ", " + std::to_string(totals.held_by_nif) + " still referenced by the NIF library at exit";
  }
  if (totals.suppressed || totals.baselined) {
    s += "; " + std::to_string(totals.suppressed) + " suppressed, " +
         std::to_string(totals.baselined) + " in the baseline";
  }
  if (totals.unrecorded_driver) {
    s += "; " + Plural(totals.unrecorded_driver, "input") + " without driver events";
  }
  return s;
}

}  // namespace

void RenderTextSummary(const Totals& totals, size_t inputs, const TextStyle& style,
                       std::ostream& out) {
  const Painter paint(style.color);
  std::string s = SummaryText(totals);
  if (inputs > 1) s += " in " + Plural(inputs, "input");
  s += "; " + FactsText(totals);
  if (totals.input_errors) {
    s += "; " + Plural(totals.input_errors, "input") + " cut short by an input error";
  }
  out << paint(kBold, "refctrace:") << " " << s << "\n";
}

void RenderTextInputSummary(const InputReport& input, const TextStyle& style, std::ostream& out) {
  const Painter paint(style.color);
  const Totals totals = InputTotals(input);
  std::string s = input.path + ": " + SummaryText(totals) + "; " + FactsText(totals);
  if (input.error) s += "; cut short by an input error";
  out << paint(kBold, "refctrace:") << " " << s << "\n";
}

void RenderSuppressionUses(const std::vector<SuppressionUse>& uses, const TextStyle& style,
                           std::ostream& out) {
  const Painter paint(style.color);
  for (const SuppressionUse& use : uses) {
    if (!use.matched) continue;
    out << paint(kBold, "refctrace:") << " suppression " << use.file << ":" << use.line << " \""
        << use.rule << "\" matched " << Plural(use.matched, "finding") << "\n";
  }
}

void RenderTextRunCases(const std::vector<InputReport>& parts, const TextStyle& style,
                        std::ostream& out) {
  if (parts.empty()) return;
  const Painter paint(style.color);
  out << paint(kBold, "refctrace:") << " run " << parts.front().header.run << ", "
      << Plural(parts.size(), "part") << ":\n";
  for (const InputReport& part : parts) {
    const Totals totals = InputTotals(part);
    const std::string& name = part.header.case_name.empty() ? part.path : part.header.case_name;
    std::string status;
    if (totals.errors || totals.warnings) status = SummaryText(totals);
    if (part.error) status += std::string(status.empty() ? "" : "; ") + "input error";
    if (status.empty()) status = "ok";
    out << "  " << paint(kBold, name + ":") << " " << status;
    if (name != part.path) out << " (" << part.path << ")";
    out << "\n";
  }
}

}  // namespace refctrace::render
