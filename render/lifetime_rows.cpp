#include "render/lifetime_rows.h"

#include <algorithm>

#include "model/wording.h"

namespace refctrace::render {

using model::Code;
using model::Finding;
using model::HolderCount;
using model::HolderKind;
using model::Lifetime;
using trace::Op;

std::string IncarnationName(const model::IncarnationKey& key) {
  return key.bin.ToDisplay() + "#" + std::to_string(key.incarnation);
}

std::string StepSummary(const model::LifetimeStep& step) {
  if (step.among == 0) return model::EventSummary(step.step);
  return "perhaps released (one of " + std::to_string(step.among) + ")";
}

std::string DecisionText(const model::LifetimeStep& step) {
  if (step.among == 0) return "";
  if (!step.decided) return "undecided: one of " + std::to_string(step.among) + " binaries";
  const model::UncertainDecision& d = *step.decided;
  return "decided at #" + std::to_string(d.event) + " (" + d.how + "): " +
         (d.released ? model::Plural(d.released, "reference") + " of it released"
                     : "not this binary's");
}

std::string_view ObjectNoun(const Lifetime& life) {
  if (life.object == model::ObjectKind::kBinary) return life.nif ? "NIF binary" : "binary";
  return model::ObjectKindName(life.object);
}

std::string_view OwnerNoun(const Lifetime& life) {
  return life.nif ? "NIF" : "driver";
}

std::vector<const Finding*> FindingsOf(const Lifetime& life, const std::vector<Finding>& findings) {
  std::vector<const Finding*> out;
  for (const Finding& f : findings) {
    // The NIF's id spaces are apart (a resource and a view may share an id's value).
    if (f.object == life.object && life.HasName(f.bin, f.incarnation)) out.push_back(&f);
  }
  return out;
}

std::vector<LifetimeRow> RowsOf(const Lifetime& life, const std::vector<const Finding*>& findings) {
  std::vector<LifetimeRow> rows;
  for (size_t i = 0; i < life.steps.size(); ++i) {
    rows.push_back({life.steps[i], life.omitted_before[i], false});
  }
  auto has_event = [&](uint64_t event) {
    return std::any_of(rows.begin(), rows.end(),
                       [&](const LifetimeRow& r) { return r.step.step.event == event; });
  };
  const uint64_t last_event = rows.empty() ? 0 : rows.back().step.step.event;
  std::vector<LifetimeRow> extra;
  for (const Finding* f : findings) {
    if (f->history.empty()) continue;
    const model::Step& last = f->history.back();
    if (f->code == Code::kLeak) {
      // The end of the trace, when the model saw no step for it (a process
      // still held the binary): the driver's and queue's references end here.
      if ((last.op == Op::kEnd || last.op == Op::kStop) && last.event > last_event &&
          !has_event(last.event)) {
        LifetimeRow r;
        r.step.step = last;
        for (const HolderCount& h :
             rows.empty() ? std::vector<HolderCount>{} : rows.back().step.holders) {
          if (h.holder.kind != HolderKind::kDriver && h.holder.kind != HolderKind::kQueue)
            r.step.holders.push_back(h);
        }
        if (!rows.empty()) r.step.unlisted = rows.back().step.unlisted;
        for (const HolderCount& h : r.step.holders)
          r.step.refc += h.count;
        r.step.refc += r.step.unlisted.references;
        extra.push_back(std::move(r));
      }
      continue;
    }
    // An op the model kept no step for, because it broke its rule and changed
    // nothing: on the id after this incarnation was freed (double-free,
    // use-after-free), or, in a NIF, a release of a binary a term owns. The
    // finding keeps the step; it is drawn in event order, with the holders of
    // the row before it, or after the end.
    if (last.event == f->event && !has_event(f->event)) {
      LifetimeRow r;
      r.step.step = last;
      if (f->event > last_event && life.Ended()) {
        r.after_end = true;
      } else {
        for (const LifetimeRow& before : rows) {
          if (before.step.step.event > f->event) break;
          r.step.holders = before.step.holders;
          r.step.unlisted = before.step.unlisted;
          r.step.refc = before.step.refc;
          r.step.borrowed = before.step.borrowed;
        }
      }
      extra.push_back(std::move(r));
    }
  }
  std::sort(extra.begin(), extra.end(), [](const LifetimeRow& a, const LifetimeRow& b) {
    return a.step.step.event < b.step.step.event;
  });
  for (LifetimeRow& r : extra) {
    if (has_event(r.step.step.event)) continue;
    rows.push_back(std::move(r));
  }
  std::stable_sort(rows.begin(), rows.end(), [](const LifetimeRow& a, const LifetimeRow& b) {
    return a.step.step.event < b.step.step.event;
  });
  return rows;
}

std::string HoldersText(const model::LifetimeStep& step) {
  return model::DescribeHolders(step.holders, step.borrowed, step.unlisted);
}

bool AnyHolders(const model::LifetimeStep& step) {
  return !step.holders.empty() || step.borrowed || step.unlisted.processes != 0;
}

LifeEnding EndingOf(const Lifetime& life, const std::vector<LifetimeRow>& rows,
                    const std::vector<const Finding*>& findings) {
  LifeEnding ending;
  for (const Finding* f : findings) {
    if (f->code == Code::kLeak) {
      ending.how = LifeEnd::kNeverFreed;
      ending.leak = f;
      return ending;
    }
  }
  // The last row that is not after the end: the one that ended it, if any did.
  const LifetimeRow* before = nullptr;
  for (const LifetimeRow& r : rows) {
    if (r.after_end) continue;
    before = ending.at;
    ending.at = &r;
  }
  if (ending.at && life.Ended()) {
    ending.how = ending.at->step.refc != 0 ? LifeEnd::kAbandoned : LifeEnd::kFreed;
    // An adopted binary's driver references are written off at `stop` or the trace's end
    // without a leak (its earlier references are unknown): that ends its accounting, but
    // nothing freed it. It is still held, by whoever held it just before.
    const Op op = ending.at->step.step.op;
    if (life.adopted && before && (op == Op::kStop || op == Op::kEnd) &&
        std::any_of(before->step.holders.begin(), before->step.holders.end(),
                    [](const HolderCount& h) { return h.holder.kind == HolderKind::kDriver; })) {
      ending.how = LifeEnd::kStillHeld;
      ending.at = before;
    }
  }
  return ending;
}

}  // namespace refctrace::render
