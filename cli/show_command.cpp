// `refctrace show TRACE --bin ID`: one binary's life, event by event, as text.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/input_list.h"
#include "cli/lifetimes.h"
#include "cli/terminal.h"
#include "cli/value_kind.h"
#include "render/lifetime_graph.h"
#include "render/show_renderer.h"
#include "render/text_renderer.h"

namespace refctrace::cli {

namespace {

struct ShowOptions {
  std::string trace;
  std::vector<std::string> bins;
  size_t max_binaries = 20;
  size_t max_events = 1000;
  ColorMode color = ColorMode::kAuto;
  size_t quarantine = model::ModelOptions{}.quarantine_capacity;
};

int RunShow(const ShowOptions& opts) {
  const render::TextStyle out_style{UseColor(opts.color, STDOUT_FILENO)};
  const render::TextStyle err_style{UseColor(opts.color, STDERR_FILENO)};
  LifetimeRequest request;
  for (const std::string& bin : opts.bins)
    request.bins.push_back(model::BinSelector::Parse(bin));
  request.max_lifetimes = opts.max_binaries;
  request.head_steps = opts.max_events / 2;
  request.tail_steps = opts.max_events - request.head_steps;
  model::ModelOptions model_options;
  model_options.quarantine_capacity = opts.quarantine;

  if (std::optional<std::string> refused = RefuseDirectoryTrace(opts.trace, "show")) {
    std::cerr << "refctrace: error: " << *refused << "\n";
    return kExitInputError;
  }
  CollectedLifetimes collected = CollectLifetimes(opts.trace, request, model_options);
  const render::InputReport& report = collected.report;
  render::RenderShow(report, collected.lifetimes, out_style, std::cout);
  std::cout.flush();
  if (report.error) render::RenderInputError(opts.trace, *report.error, err_style, std::cerr);
  const std::string left_out = LeftOutMessage(collected, request, "shown");
  if (!left_out.empty()) std::cerr << "refctrace: " << left_out << "\n";
  if (collected.lifetimes.empty()) {
    std::cerr << "refctrace: error: no binary in " << opts.trace << " matches";
    for (const std::string& bin : opts.bins)
      std::cerr << " --bin " << bin;
    std::cerr << "\n";
    return kExitInputError;
  }
  if (report.error) return kExitInputError;
  for (const model::Lifetime& life : collected.lifetimes) {
    for (const model::Finding* f : render::FindingsOf(life, report.findings)) {
      if (f->severity == model::Severity::kError) return kExitFindings;
    }
  }
  return kExitClean;
}

}  // namespace

std::function<int()> SetupShow(CLI::App& sub) {
  auto opts = std::make_shared<ShowOptions>();
  sub.add_option("TRACE", opts->trace, "Trace file (NDJSON or JSON); - reads standard input")
      ->type_name(kFileValue)
      ->required();
  sub.add_option("--bin", opts->bins,
                 "The binary to show (every incarnation), or ID#N for its N-th incarnation; "
                 "repeatable")
      ->type_name(kIdValue)
      ->required();
  sub.add_option("--max-binaries", opts->max_binaries,
                 "Show at most this many incarnations (those with findings first)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub.add_option("--max-events", opts->max_events,
                 "Per incarnation, show at most this many events (the first and the last, and "
                 "every event with a finding)")
      ->check(CLI::Range(size_t{2}, std::numeric_limits<size_t>::max()))
      ->capture_default_str();
  AddWordOption(sub, "--color", &opts->color, kColorWords, "Colour the output");
  sub.add_option("--quarantine", opts->quarantine,
                 "How many freed ids to remember for double-free and use-after-free detection")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub.footer(
      "Exit status: 0 shown, 1 a shown binary has an error, 2 input error, bad usage or no "
      "such binary.");
  return [opts] { return RunShow(*opts); };
}

}  // namespace refctrace::cli
