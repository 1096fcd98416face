// `refctrace check TRACE...`: replay, report, exit status for CI.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/graph_dir.h"
#include "cli/input_list.h"
#include "cli/ordered_replay.h"
#include "cli/output_file.h"
#include "cli/replay.h"
#include "cli/standard_output.h"
#include "cli/terminal.h"
#include "render/github_renderer.h"
#include "render/json_renderer.h"
#include "render/sarif_renderer.h"
#include "render/text_renderer.h"
#include "triage/baseline.h"
#include "triage/suppressions.h"

namespace refctrace::cli {

namespace {

// Read from the current directory when no --suppressions is given.
constexpr const char* kDefaultSuppressions = ".refctrace-suppressions";

struct CheckOptions {
  std::vector<std::string> traces;
  std::string format = "text";
  std::string fail_on = "error";
  std::string color = "auto";
  size_t quarantine = model::ModelOptions{}.quarantine_capacity;
  unsigned jobs = 1;
  std::string graph_dir;  // --graph-dir: one SVG per binary with a finding
  std::vector<std::string> suppressions;
  std::string baseline;
  std::string write_baseline;
  size_t max_live = model::ModelOptions{}.max_live;
  size_t max_findings = kDefaultMaxFindings;
};

// Loads the suppression files (or the default one); false after printing
// the error.
bool LoadAllSuppressions(const CheckOptions& opts, triage::Suppressions* into) {
  std::vector<std::string> files = opts.suppressions;
  std::error_code ec;
  if (files.empty() && std::filesystem::is_regular_file(kDefaultSuppressions, ec)) {
    files.push_back(kDefaultSuppressions);
  }
  for (const std::string& file : files) {
    if (auto error = triage::LoadSuppressions(file, into)) {
      std::cerr << error->file;
      if (error->line) std::cerr << ":" << error->line << ":" << error->column;
      std::cerr << ": error: " << error->message << "\n";
      return false;
    }
  }
  return true;
}

// Removes suppressed findings, then (when there is a baseline) known ones.
// `unbaselined` receives the findings left after suppression, which is what
// --write-baseline records.
void Triage(render::InputReport* report, triage::Suppressions* suppressions,
            const triage::Baseline* baseline, std::vector<model::Finding>* unbaselined) {
  std::vector<model::Finding> kept;
  for (model::Finding& f : report->findings) {
    if (suppressions->Match(f)) {
      ++report->suppressed;
      continue;
    }
    if (unbaselined) unbaselined->push_back(f);
    if (baseline && baseline->Contains(f)) {
      ++report->baselined;
      continue;
    }
    kept.push_back(std::move(f));
  }
  report->findings = std::move(kept);
}

// Writes `run` as JSON to `path` through a temporary file, so a reader never
// sees half a baseline, and Ctrl-C leaves none behind.
bool WriteBaselineFile(const render::RunReport& run, const std::string& path) {
  std::string error;
  std::unique_ptr<AtomicOutputFile> file = AtomicOutputFile::Create(path, &error);
  if (file) {
    render::RenderJson(run, file->stream());
    if (auto commit_error = file->Commit()) error = *commit_error;
  }
  if (!error.empty()) std::cerr << "refctrace: error: " << error << " (--write-baseline)\n";
  return error.empty();
}

std::vector<render::SuppressionUse> SuppressionUses(const triage::Suppressions& suppressions) {
  std::vector<render::SuppressionUse> uses;
  for (const triage::SuppressionRule& rule : suppressions.rules()) {
    uses.push_back({rule.file, rule.line, rule.text, rule.matched});
  }
  return uses;
}

int RunCheck(const CheckOptions& opts) {
  if (std::count(opts.traces.begin(), opts.traces.end(), "-") > 1) {
    std::cerr << "refctrace: error: standard input (-) can be read only once\n";
    return kExitInputError;
  }
  triage::Suppressions suppressions;
  if (!LoadAllSuppressions(opts, &suppressions)) return kExitInputError;
  std::optional<triage::Baseline> baseline;
  if (!opts.baseline.empty()) {
    baseline.emplace();
    if (auto error = triage::LoadBaseline(opts.baseline, &*baseline)) {
      std::cerr << opts.baseline << ": error: " << error->message << "\n";
      return kExitInputError;
    }
  }

  model::ModelOptions model_options;
  model_options.quarantine_capacity = opts.quarantine;
  model_options.max_live = opts.max_live;
  const render::TextStyle out_style{opts.format == "text" && UseColor(opts.color, STDOUT_FILENO)};
  const render::TextStyle err_style{UseColor(opts.color, STDERR_FILENO)};
  const bool text = opts.format == "text";
  const bool github = opts.format == "github";

  const InputList inputs = ExpandInputs(opts.traces);
  for (const auto& [path, message] : inputs.errors) {
    std::cerr << path << ": error: " << message << "\n";
  }
  const bool several = inputs.paths.size() > 1;

  render::RunReport run;
  std::vector<render::InputReport> unbaselined;  // for --write-baseline
  bool graphs_failed = false;
  ReplayInOrder(inputs.paths, opts.jobs, model_options, opts.max_findings,
                [&](render::InputReport&& report) {
                  std::vector<model::Finding> before_baseline;
                  const bool keep_for_baseline = !opts.write_baseline.empty();
                  Triage(&report, &suppressions, baseline ? &*baseline : nullptr,
                         keep_for_baseline ? &before_baseline : nullptr);
                  // Text and GitHub annotations stream per input, so a long run shows
                  // results as it goes.
                  if (text) {
                    render::RenderTextFindings(report, out_style, std::cout);
                    if (several) render::RenderTextInputSummary(report, out_style, std::cout);
                  } else if (github) {
                    render::RenderGithubInput(report, std::cout);
                  }
                  std::cout.flush();
                  if (report.error && !github) {
                    render::RenderInputError(report.path, *report.error, err_style, std::cerr);
                  }
                  if (!opts.graph_dir.empty() &&
                      !WriteFindingGraphs(report, opts.graph_dir, several, model_options,
                                          text ? std::cout : std::cerr, std::cerr)) {
                    graphs_failed = true;
                  }
                  if (keep_for_baseline) {
                    render::InputReport copy = report;
                    copy.findings = std::move(before_baseline);
                    copy.baselined = 0;
                    unbaselined.push_back(std::move(copy));
                  }
                  run.inputs.push_back(std::move(report));
                  return !StandardOutputClosed();  // nobody reads on (`| head`): stop
                });
  run.suppressions = SuppressionUses(suppressions);
  run.baseline = baseline.has_value();

  const render::Totals totals = render::ComputeTotals(run.inputs);
  if (text || github) {
    render::RenderTextSummary(totals, run.inputs.size(), out_style, std::cout);
    if (text) render::RenderSuppressionUses(run.suppressions, out_style, std::cout);
  } else if (opts.format == "json") {
    render::RenderJson(run, std::cout);
  } else {
    render::SarifOptions sarif;
    sarif.tool_version = kVersion;
    sarif.information_uri = kHomepage;
    const render::SarifCuts cuts = render::RenderSarif(run, sarif, std::cout);
    if (cuts.results_dropped) {
      std::cerr << "refctrace: warning: " << cuts.results_dropped
                << " findings left out of the SARIF output (at most " << sarif.limits.max_results
                << " results per run)\n";
    }
  }
  std::cout.flush();
  for (const render::SuppressionUse& use : run.suppressions) {
    if (use.matched) continue;
    std::cerr << use.file << ":" << use.line << ": warning: suppression \"" << use.rule
              << "\" matched nothing\n";
  }

  bool baseline_failed = false;
  if (!opts.write_baseline.empty()) {
    render::RunReport for_baseline{std::move(unbaselined), run.suppressions, false};
    baseline_failed = !WriteBaselineFile(for_baseline, opts.write_baseline);
  }

  if (totals.input_errors || !inputs.errors.empty() || graphs_failed || baseline_failed) {
    return kExitInputError;
  }
  const bool warnings_fail = opts.fail_on == "warning";
  if (totals.errors || (warnings_fail && totals.warnings)) return kExitFindings;
  return kExitClean;
}

}  // namespace

std::function<int()> SetupCheck(CLI::App& sub) {
  auto opts = std::make_shared<CheckOptions>();
  sub.add_option("traces", opts->traces,
                 "Trace files (NDJSON or JSON) or directories of them; - reads standard input")
      ->required();
  sub.add_option("--format", opts->format,
                 "Output format: text, json (output-v1), sarif (SARIF 2.1.0), github (Actions "
                 "annotations)")
      ->check(CLI::IsMember({"text", "json", "sarif", "github"}))
      ->capture_default_str();
  sub.add_option("--fail-on", opts->fail_on, "Lowest severity that makes the exit status 1")
      ->check(CLI::IsMember({"error", "warning"}))
      ->capture_default_str();
  sub.add_option("--color", opts->color, "Colour the text output")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
  sub.add_option("-j,--jobs", opts->jobs, "Check up to N inputs in parallel (output order is kept)")
      ->check(CLI::Range(1u, 256u))
      ->capture_default_str();
  sub.add_option("--suppressions", opts->suppressions,
                 "Suppression rules file (repeatable); default: ./.refctrace-suppressions if it "
                 "exists");
  sub.add_option("--baseline", opts->baseline,
                 "Report only findings absent from this earlier JSON result");
  sub.add_option("--write-baseline", opts->write_baseline,
                 "Write this run's findings (after suppressions) as a baseline JSON file");
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
