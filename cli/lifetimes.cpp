#include "cli/lifetimes.h"

#include <algorithm>
#include <set>

#include "cli/replay.h"
#include "render/lifetime_graph.h"

namespace refctrace::cli {

namespace {

// Standard input is read once: keep the first incarnations that match, then
// drop those without findings if only findings were asked for.
CollectedLifetimes OnePass(const std::string& path, const LifetimeRequest& request,
                           const model::ModelOptions& options) {
  CollectedLifetimes out;
  out.one_pass = true;
  model::RecorderOptions rec;
  rec.bins = request.bins;
  rec.max_lifetimes = request.max_lifetimes;
  rec.head_steps = request.head_steps;
  rec.tail_steps = request.tail_steps;
  model::LifetimeRecorder recorder(rec);
  out.report = ReplayInput(path, {.model = options, .observer = &recorder});
  out.lifetimes = recorder.Take();
  out.left_out = recorder.left_out();
  if (request.only_findings) {
    std::erase_if(out.lifetimes, [&](const model::Lifetime& life) {
      return render::FindingsOf(life, out.report.findings).empty();
    });
  }
  // Incarnations with findings that were not kept.
  std::set<model::IncarnationKey> missed;
  for (const model::Finding& f : out.report.findings) {
    if (!request.bins.empty() && !model::AnyMatches(request.bins, f.bin, f.incarnation)) continue;
    const bool kept =
        std::any_of(out.lifetimes.begin(), out.lifetimes.end(),
                    [&](const model::Lifetime& l) { return l.HasName(f.bin, f.incarnation); });
    if (!kept) missed.insert({f.bin, f.incarnation});
  }
  out.left_out_with_findings = missed.size();
  if (request.only_findings) out.left_out = missed.size();
  out.candidates = out.lifetimes.size() + out.left_out;
  return out;
}

}  // namespace

CollectedLifetimes CollectLifetimes(const std::string& path, const LifetimeRequest& request,
                                    const model::ModelOptions& options) {
  if (path == "-") return OnePass(path, request, options);

  // Pass 1: findings, and how incarnations are named; no steps kept.
  model::IncarnationIndex index(request.bins, request.max_lifetimes);
  const render::InputReport first = ReplayInput(path, {.model = options, .observer = &index});
  const model::LifetimeChoice choice = model::ChooseLifetimes(
      first.findings, index, request.bins, request.only_findings, request.max_lifetimes);

  // Pass 2: the steps of the chosen incarnations, finding anchors pinned.
  model::RecorderOptions rec;
  rec.starts = choice.starts;
  rec.head_steps = request.head_steps;
  rec.tail_steps = request.tail_steps;
  rec.pinned_events = choice.anchors;
  model::LifetimeRecorder recorder(rec);
  CollectedLifetimes out;
  out.report = ReplayInput(path, {.model = options, .observer = &recorder});
  out.lifetimes = recorder.Take();
  out.candidates = choice.candidates;
  out.left_out = choice.left_out;
  out.left_out_with_findings = choice.left_out_with_findings;
  return out;
}

std::string LeftOutMessage(const CollectedLifetimes& collected, const LifetimeRequest& request,
                           std::string_view verb) {
  if (collected.left_out == 0) return {};
  const auto n = collected.lifetimes.size();
  std::string s = std::to_string(n) + " of " + std::to_string(n + collected.left_out) +
                  (request.only_findings ? " binaries with findings " : " binaries ") +
                  std::string(verb) + "; " + std::to_string(collected.left_out) + " left out";
  if (collected.left_out_with_findings && !request.only_findings) {
    s += " (" + std::to_string(collected.left_out_with_findings) + " with findings)";
  }
  s += " by --max-binaries " + std::to_string(request.max_lifetimes);
  if (collected.one_pass) {
    s += "; standard input is read once, so the first ones were kept: give a file to pick "
         "binaries by their findings";
  } else {
    s += "; pick others with --bin ID or --bin ID#N (ids are in `refctrace check` output)";
    if (!request.only_findings) s += ", or --only-findings";
  }
  return s;
}

}  // namespace refctrace::cli
