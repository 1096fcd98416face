// `refctrace check TRACE...`: replay, report, exit status for CI.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/graph_dir.h"
#include "cli/replay.h"
#include "cli/standard_output.h"
#include "cli/terminal.h"
#include "render/json_renderer.h"
#include "render/text_renderer.h"

namespace refctrace::cli {

namespace {

struct CheckOptions {
  std::vector<std::string> traces;
  std::string format = "text";
  std::string fail_on = "error";
  std::string color = "auto";
  size_t quarantine = model::ModelOptions{}.quarantine_capacity;
  std::string graph_dir;  // --graph-dir: one SVG per binary with a finding
  size_t max_live = model::ModelOptions{}.max_live;
  size_t max_findings = kDefaultMaxFindings;
};

int RunCheck(const CheckOptions& opts) {
  model::ModelOptions model_options;
  model_options.quarantine_capacity = opts.quarantine;
  model_options.max_live = opts.max_live;
  const render::TextStyle out_style{UseColor(opts.color, STDOUT_FILENO)};
  const render::TextStyle err_style{UseColor(opts.color, STDERR_FILENO)};
  const bool text = opts.format == "text";

  std::vector<render::InputReport> reports;
  bool graphs_failed = false;
  for (const std::string& path : opts.traces) {
    render::InputReport report = ReplayInput(path, model_options, nullptr, opts.max_findings);
    if (text) {
      // Text streams per input, so a long run shows results as it goes.
      render::RenderTextFindings(report, out_style, std::cout);
      if (StandardOutputClosed()) break;  // nobody reads on (`| head`)
    }
    if (report.error) render::RenderInputError(path, *report.error, err_style, std::cerr);
    if (!opts.graph_dir.empty() &&
        !WriteFindingGraphs(report, opts.graph_dir, opts.traces.size() > 1, model_options,
                            text ? std::cout : std::cerr, std::cerr)) {
      graphs_failed = true;
    }
    reports.push_back(std::move(report));
  }
  const render::Totals totals = render::ComputeTotals(reports);
  if (text) {
    render::RenderTextSummary(totals, reports.size(), out_style, std::cout);
  } else {
    render::RenderJson(reports, std::cout);
  }
  std::cout.flush();

  if (totals.input_errors || graphs_failed) return kExitInputError;
  const bool warnings_fail = opts.fail_on == "warning";
  if (totals.errors || (warnings_fail && totals.warnings)) return kExitFindings;
  return kExitClean;
}

}  // namespace

std::function<int()> SetupCheck(CLI::App& sub) {
  auto opts = std::make_shared<CheckOptions>();
  sub.add_option("traces", opts->traces, "Trace files (NDJSON or JSON); - reads standard input")
      ->required();
  sub.add_option("--format", opts->format, "Output format")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  sub.add_option("--fail-on", opts->fail_on, "Lowest severity that makes the exit status 1")
      ->check(CLI::IsMember({"error", "warning"}))
      ->capture_default_str();
  sub.add_option("--color", opts->color, "Colour the text output")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
  sub.add_option("--quarantine", opts->quarantine,
                 "How many freed ids to remember for double-free and use-after-free detection")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub.add_option("--max-live", opts->max_live,
                 "Stop with an error when more binaries than this are live at once "
                 "(about 780 bytes each)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub.add_option("--max-findings", opts->max_findings,
                 "Stop with an error after this many findings in one input")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub.add_option("--graph-dir", opts->graph_dir,
                 "Also write one SVG per binary with a finding into this directory");
  sub.footer("Exit status: 0 clean, 1 findings at or above --fail-on, 2 input error or bad usage.");
  return [opts] { return RunCheck(*opts); };
}

}  // namespace refctrace::cli
