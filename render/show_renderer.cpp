#include "render/show_renderer.h"

#include <algorithm>
#include <optional>
#include <string_view>

#include "model/wording.h"
#include "render/ansi.h"
#include "render/lifetime_rows.h"

namespace refctrace::render {

using model::Finding;
using model::Lifetime;
using model::Plural;
using model::Severity;
using trace::Op;

namespace {

// Display width of UTF-8 text: one column per code point (the arrows used
// here are single-width).
size_t Width(std::string_view s) {
  size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

std::string Pad(const std::string& s, size_t width, bool right = false) {
  const size_t w = Width(s);
  if (w >= width) return s;
  const std::string fill(width - w, ' ');
  return right ? fill + s : s + fill;
}

struct Cells {
  std::string event, line, actor, op, refc, holders, src, note;
};

Cells CellsOf(const LifetimeRow& row) {
  const model::Step& s = row.step.step;
  Cells c;
  // The end of input has no event of its own; an `end` event has.
  c.event = s.op == Op::kEnd && s.line == 0 ? "end" : "#" + std::to_string(s.event);
  c.line = s.line ? std::to_string(s.line) : "";
  c.actor = s.op == Op::kEnd ? "" : s.actor;
  c.op = StepSummary(row.step);
  c.refc = std::to_string(s.refc);
  if (row.after_end) {
    c.holders = "(freed)";
  } else if (!AnyHolders(row.step)) {
    c.holders = "-";
  } else {
    c.holders = HoldersText(row.step);
  }
  c.src = s.src;
  c.note = s.note;
  return c;
}

void RenderOne(const InputReport& report, const Lifetime& life,
               const std::vector<const Finding*>& findings, const Painter& paint,
               std::ostream& out) {
  const std::string path = report.path == "-" ? "standard input" : report.path;
  const std::vector<LifetimeRow> rows = RowsOf(life, findings);
  const model::IncarnationKey& start = life.names.front();

  // Heading: which object (a binary, or a NIF's view, resource or environment), how big, what
  // is wrong with it.
  std::optional<uint64_t> size;
  for (const LifetimeRow& r : rows) {
    if (r.step.step.size) size = r.step.step.size;
  }
  std::string heading = std::string(ObjectNoun(life)) + " " + IncarnationName(start);
  for (size_t i = 1; i < life.names.size(); ++i)
    heading += " → " + IncarnationName(life.names[i]);
  // An environment has no size of its own (its steps carry the sizes of the binaries they name).
  if (size && life.object != model::ObjectKind::kEnvironment)
    heading += ", " + Plural(*size, "byte");
  if (life.adopted) heading += ", adopted (not allocated in the trace)";
  heading += " in " + path;
  uint64_t errors = 0;
  uint64_t warnings = 0;
  for (const Finding* f : findings) {
    errors += f->severity == Severity::kError;
    warnings += f->severity == Severity::kWarning;
  }
  out << paint(kBold, heading) << ": ";
  if (errors + warnings == 0) {
    out << "no findings\n";
  } else {
    std::string counts;
    if (errors) counts = Plural(errors, "error");
    if (warnings) counts += (counts.empty() ? "" : ", ") + Plural(warnings, "warning");
    out << paint(errors ? kRed : kMagenta, counts) << "\n";
  }

  std::vector<Cells> cells;
  Cells head{"event", "line", "actor", "op", "refc", "holders after", "src", ""};
  size_t w_event = Width(head.event), w_line = Width(head.line), w_actor = Width(head.actor),
         w_op = Width(head.op), w_refc = Width(head.refc), w_holders = Width(head.holders);
  for (const LifetimeRow& r : rows) {
    cells.push_back(CellsOf(r));
    const Cells& c = cells.back();
    w_event = std::max(w_event, Width(c.event));
    w_line = std::max(w_line, Width(c.line));
    w_actor = std::max(w_actor, Width(c.actor));
    w_op = std::max(w_op, Width(c.op));
    w_refc = std::max(w_refc, Width(c.refc));
    w_holders = std::max(w_holders, Width(c.holders));
  }
  auto format = [&](const Cells& c) {
    std::string s = "  " + Pad(c.event, w_event) + "  " + Pad(c.line, w_line, true) + "  " +
                    Pad(c.actor, w_actor) + "  " + Pad(c.op, w_op) + "  " +
                    Pad(c.refc, w_refc, true) + "  " + Pad(c.holders, w_holders);
    if (!c.src.empty() || !c.note.empty()) s += "  " + c.src;
    if (!c.note.empty()) s += (c.src.empty() ? "# " : "  # ") + c.note;
    while (!s.empty() && s.back() == ' ')
      s.pop_back();
    return s;
  };
  out << paint(kDim, format(head)) << "\n";
  const std::string indent(2 + w_event + 2, ' ');

  const LifeEnding ending = EndingOf(life, rows, findings);
  bool end_said = false;
  auto say_end = [&]() {
    end_said = true;
    if (ending.how == LifeEnd::kNeverFreed) {
      std::string s = "never freed: the " + std::string(OwnerNoun(life)) + "'s reference is leaked";
      if (ending.leak->size) s += " (" + Plural(*ending.leak->size, "byte") + ")";
      out << "  " << paint(kRed, s) << "\n";
      return;
    }
    if (!ending.at) return;
    const model::LifetimeStep& last = ending.at->step;
    const std::string at = last.step.op == Op::kEnd ? "at the end of the trace"
                                                    : "at event " + std::to_string(last.step.event);
    const std::string holders = HoldersText(last);
    switch (ending.how) {
      case LifeEnd::kAbandoned:
        out << "  " << paint(kRed, "abandoned " + at + ": references lost (" + holders + ")")
            << "\n";
        break;
      case LifeEnd::kFreed:
        out << "  freed " << at << "\n";
        break;
      case LifeEnd::kStillHeld:
        out << (report.complete ? "  still held when the trace ended: "
                                : "  still held where an input error cut the trace short: ")
            << holders << "\n";
        break;
      case LifeEnd::kNeverFreed:
        break;
    }
  };

  for (size_t i = 0; i < rows.size(); ++i) {
    const LifetimeRow& r = rows[i];
    if (r.after_end && !end_said) say_end();
    if (r.omitted_before) {
      out << "  " << paint(kDim, "… " + Plural(r.omitted_before, "event") + " omitted …") << "\n";
    }
    const bool anchor = std::any_of(findings.begin(), findings.end(), [&](const Finding* f) {
      return f->event == r.step.step.event && r.step.step.op != Op::kEnd;
    });
    const std::string line = format(cells[i]);
    out << (anchor ? paint(kBold, line) : line) << "\n";
    // An uncertain release: what decided it later, or that nothing did.
    if (const std::string decided = DecisionText(r.step); !decided.empty())
      out << indent << "└─ " << paint(kDim, decided) << "\n";
    for (const Finding* f : findings) {
      if (f->event != r.step.step.event || r.step.step.op == Op::kEnd) continue;
      const std::string label = std::string(model::SeverityName(f->severity)) + "[" +
                                std::string(model::CodeName(f->code)) + "]";
      out << indent << "└─ " << paint(f->severity == Severity::kError ? kRed : kMagenta, label)
          << ": " << f->message;
      if (!f->port.empty()) out << " (port " << f->port << ")";
      out << "\n";
    }
  }
  if (!end_said) say_end();
}

}  // namespace

void RenderShow(const InputReport& report, const std::vector<Lifetime>& lifetimes,
                const TextStyle& style, std::ostream& out) {
  const Painter paint(style.color);
  for (size_t i = 0; i < lifetimes.size(); ++i) {
    if (i) out << "\n";
    RenderOne(report, lifetimes[i], FindingsOf(lifetimes[i], report.findings), paint, out);
  }
}

}  // namespace refctrace::render
