// `refctrace graph TRACE`: the lifetimes of binaries as a picture (DOT, SVG, PNG).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/input_list.h"
#include "cli/lifetimes.h"
#include "cli/output_file.h"
#include "cli/value_kind.h"
#include "cli/word_option.h"
#include "render/graphviz.h"
#include "render/lifetime_graph.h"
#include "render/text_renderer.h"

namespace refctrace::cli {

namespace {

struct GraphOptions {
  std::string trace;
  std::string output;  // empty: standard output
  render::GraphFormat format = render::GraphFormat::kDot;
  bool format_given = false;  // else from the output's extension, else dot
  std::vector<std::string> bins;
  bool only_findings = false;
  size_t max_binaries = 12;
  size_t max_events = 24;
  bool no_legend = false;
  size_t quarantine = model::ModelOptions{}.quarantine_capacity;
};

int RunGraph(const GraphOptions& opts) {
  const render::TextStyle err_style{false};
  render::GraphFormat format = render::GraphFormat::kDot;
  if (opts.format_given) {
    format = opts.format;
    // PNG bytes in a file named .svg help nobody: a format and a file name that disagree are
    // refused rather than one silently winning.
    if (auto from_path = render::GraphFormatFromPath(opts.output);
        from_path && *from_path != format) {
      std::cerr << "refctrace: error: --format " << render::GraphFormatName(format)
                << " does not match -o " << opts.output << " (named as "
                << render::GraphFormatName(*from_path)
                << "); make them agree, or leave out --format\n";
      return kExitInputError;
    }
  } else if (!opts.output.empty()) {
    auto from_path = render::GraphFormatFromPath(opts.output);
    if (!from_path) {
      std::cerr << "refctrace: error: cannot tell the format from '" << opts.output
                << "': name it .dot, .svg or .png, or give --format\n";
      return kExitInputError;
    }
    format = *from_path;
  }
  if (format == render::GraphFormat::kPng && opts.output.empty() && isatty(STDOUT_FILENO)) {
    std::cerr << "refctrace: error: not writing PNG to a terminal; give -o FILE.png\n";
    return kExitInputError;
  }

  if (std::optional<std::string> refused = RefuseDirectoryTrace(opts.trace, "graph")) {
    std::cerr << "refctrace: error: " << *refused << "\n";
    return kExitInputError;
  }

  // Created before the replay, so a bad path fails at once; a run stopped
  // midway (Ctrl-C) leaves neither the file nor its temporary behind.
  std::unique_ptr<AtomicOutputFile> file;
  if (!opts.output.empty() && opts.output != "-") {
    trace::ErrorOr<std::unique_ptr<AtomicOutputFile>> created =
        AtomicOutputFile::Create(opts.output);
    if (!created.ok()) {
      std::cerr << "refctrace: error: " << created.error().message << "\n";
      return kExitInputError;
    }
    file = std::move(*created);
  }

  LifetimeRequest request;
  for (const std::string& bin : opts.bins)
    request.bins.push_back(model::BinSelector::Parse(bin));
  request.only_findings = opts.only_findings;
  request.max_lifetimes = opts.max_binaries;
  request.head_steps = opts.max_events / 3;
  request.tail_steps = opts.max_events - request.head_steps;
  model::ModelOptions model_options;
  model_options.quarantine_capacity = opts.quarantine;

  CollectedLifetimes collected = CollectLifetimes(opts.trace, request, model_options);
  const render::InputReport& report = collected.report;
  if (report.error) render::RenderInputError(opts.trace, *report.error, err_style, std::cerr);
  if (report.error && collected.lifetimes.empty()) {
    return kExitInputError;  // nothing read to draw: no empty picture is written
  }
  if (collected.lifetimes.empty() && !opts.bins.empty()) {
    std::cerr << "refctrace: error: no binary in " << opts.trace << " matches";
    for (const std::string& bin : opts.bins)
      std::cerr << " --bin " << bin;
    std::cerr << "\n";
    return kExitInputError;
  }
  if (collected.lifetimes.empty()) {
    std::cerr << "refctrace: " << opts.trace << " has no "
              << (opts.only_findings ? "binary with findings" : "binaries")
              << "; the picture is empty\n";
  }
  const std::string left_out = LeftOutMessage(collected, request, "drawn");
  if (!left_out.empty()) std::cerr << "refctrace: " << left_out << "\n";

  render::GraphOptions graph_options;
  graph_options.title = opts.trace == "-" ? "standard input" : opts.trace;
  graph_options.legend = !opts.no_legend;
  render::LifetimeGraph graph =
      render::BuildLifetimeGraph(collected.lifetimes, report.findings, graph_options);
  if (collected.left_out) {
    graph.title.back() += " · " + std::to_string(collected.left_out) + " more not drawn";
  }

  trace::MaybeError error;
  if (!file) {
    error = render::RenderGraph(graph, format, std::cout);
  } else {
    error = render::RenderGraph(graph, format, file->stream());
    if (!error) error = file->Commit();
  }
  if (error) {
    std::cerr << "refctrace: error: " << error->message << "\n";
    return kExitInputError;
  }
  return report.error ? kExitInputError : kExitClean;
}

}  // namespace

std::function<int()> SetupGraph(CLI::App& sub) {
  auto opts = std::make_shared<GraphOptions>();
  sub.add_option("TRACE", opts->trace, "Trace file (NDJSON or JSON); - reads standard input")
      ->type_name(kFileValue)
      ->required();
  sub.add_option("-o,--output", opts->output, "Write the picture here (default: standard output)")
      ->type_name(kFileValue);
  CLI::Option* format = AddWordOption(sub, "--format", &opts->format, render::kGraphFormatWords,
                                      "dot, svg or png (default: from -o's extension, else dot)",
                                      /*show_default=*/false);
  sub.add_option("--bin", opts->bins,
                 "Draw this binary (every incarnation), or ID#N for its N-th incarnation; "
                 "repeatable")
      ->type_name(kIdValue);
  sub.add_flag("--only-findings", opts->only_findings, "Draw only binaries with findings");
  sub.add_option("--max-binaries", opts->max_binaries,
                 "Draw at most this many binary incarnations (those with findings first)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub.add_option("--max-events", opts->max_events,
                 "Per binary, draw at most this many events (the first and the last, and every "
                 "event with a finding)")
      ->check(CLI::Range(size_t{3}, size_t{100000}))
      ->capture_default_str();
  sub.add_flag("--no-legend", opts->no_legend, "Leave the legend out");
  sub.add_option("--quarantine", opts->quarantine,
                 "How many freed ids to remember for double-free and use-after-free detection")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub.footer(
      "Each binary incarnation is a box: its holders are lanes (driver, port queue, each "
      "process, emulator), its events rows in trace order. See docs/graphs.md.\n"
      "Exit status: 0 written, 2 input error or bad usage.");
  return [opts, format] {
    opts->format_given = format->count() > 0;
    return RunGraph(*opts);
  };
}

}  // namespace refctrace::cli
