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
#include "cli/file_error.h"
#include "cli/graph_dir.h"
#include "cli/input_list.h"
#include "cli/ordered_replay.h"
#include "cli/output_file.h"
#include "cli/replay.h"
#include "cli/standard_output.h"
#include "cli/terminal.h"
#include "cli/value_kind.h"
#include "cli/word_option.h"
#include "model/wording.h"
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

enum class OutputFormat : uint8_t { kText, kJson, kSarif, kGithub };

const WordTable<OutputFormat> kFormatWords = {{"text", OutputFormat::kText},
                                              {"json", OutputFormat::kJson},
                                              {"sarif", OutputFormat::kSarif},
                                              {"github", OutputFormat::kGithub}};
const WordTable<FailOn> kFailOnWords = {{"error", FailOn::kError}, {"warning", FailOn::kWarning}};

struct CheckOptions {
  std::vector<std::string> traces;
  OutputFormat format = OutputFormat::kText;
  FailOn fail_on = FailOn::kError;
  ColorMode color = ColorMode::kAuto;
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
      PrintFileError(*error, std::cerr);
      return false;
    }
  }
  return true;
}

// Removes suppressed findings, then (when there is a baseline) known ones.
// `unbaselined` receives the findings left after suppression, which is what
// --write-baseline records.
void Triage(render::InputReport* report, triage::Suppressions* suppressions,
            triage::Baseline* baseline, std::vector<model::Finding>* unbaselined) {
  std::vector<model::Finding> kept;
  for (model::Finding& f : report->findings) {
    if (suppressions->Match(f)) {
      ++report->suppressed;
      continue;
    }
    if (unbaselined) unbaselined->push_back(f);
    if (baseline && baseline->Absorb(f)) {
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
  trace::ErrorOr<std::unique_ptr<AtomicOutputFile>> file = AtomicOutputFile::Create(path);
  trace::MaybeError error;
  if (!file.ok()) {
    error = file.error();
  } else {
    render::RenderJson(run, (*file)->stream());
    error = (*file)->Commit();
  }
  if (error) std::cerr << "refctrace: error: " << error->message << " (--write-baseline)\n";
  return !error;
}

std::vector<render::SuppressionUse> SuppressionUses(const triage::Suppressions& suppressions) {
  std::vector<render::SuppressionUse> uses;
  for (const triage::SuppressionRule& rule : suppressions.rules()) {
    uses.push_back({rule.file, rule.line, rule.text, rule.matched});
  }
  return uses;
}

// One `check` run: takes each input's report as it arrives, in input order,
// prints what streams (text, GitHub annotations, graphs), and keeps what the
// end of the run needs (JSON and SARIF documents, totals, the baseline).
class CheckRun {
 public:
  CheckRun(const CheckOptions& opts, triage::Suppressions* suppressions, triage::Baseline* baseline,
           bool several)
      : opts_(opts),
        suppressions_(suppressions),
        baseline_(baseline),
        several_(several),
        text_(opts.format == OutputFormat::kText),
        github_(opts.format == OutputFormat::kGithub),
        out_style_{text_ && UseColor(opts.color, STDOUT_FILENO)},
        err_style_{UseColor(opts.color, STDERR_FILENO)} {
    model_options_.quarantine_capacity = opts.quarantine;
    model_options_.max_live = opts.max_live;
  }

  const model::ModelOptions& model_options() const { return model_options_; }

  // One plan's reports: a trace, or a run's named parts (trace format 1.5), whose text output
  // is a line per test case, then their findings. False once nobody reads standard output any
  // more (`| head`).
  bool AddPlan(std::vector<render::InputReport> reports) {
    const bool run = !reports.empty() && reports.front().header.IsPart();
    std::vector<std::vector<model::Finding>> before_baseline(reports.size());
    for (size_t i = 0; i < reports.size(); ++i)
      TriageOne(&reports[i], &before_baseline[i]);
    if (text_ && run) render::RenderTextRunCases(reports, out_style_, std::cout);
    for (size_t i = 0; i < reports.size(); ++i) {
      if (!Add(std::move(reports[i]), std::move(before_baseline[i]), run)) return false;
    }
    return true;
  }

 private:
  void TriageOne(render::InputReport* report, std::vector<model::Finding>* before_baseline) {
    const bool keep_for_baseline = !opts_.write_baseline.empty();
    Triage(report, suppressions_, baseline_, keep_for_baseline ? before_baseline : nullptr);
  }

  bool Add(render::InputReport report, std::vector<model::Finding> before_baseline,
           bool part_of_run) {
    const bool keep_for_baseline = !opts_.write_baseline.empty();
    if (text_) {
      render::RenderTextFindings(report, out_style_, std::cout);
      // A part's line came before its run's findings.
      if (several_ && !part_of_run) render::RenderTextInputSummary(report, out_style_, std::cout);
    } else if (github_) {
      render::RenderGithubInput(report, std::cout);  // its input error is an annotation
    }
    std::cout.flush();
    if (report.error && !github_) {
      render::RenderInputError(report.path, *report.error, err_style_, std::cerr);
    }
    WarnIfNoDriverEvent(report);
    if (!opts_.graph_dir.empty() &&
        !WriteFindingGraphs(report, opts_.graph_dir, several_, model_options_,
                            text_ ? std::cout : std::cerr, std::cerr)) {
      failed_ = true;
    }
    if (keep_for_baseline) {
      render::InputReport copy = report;
      copy.findings = std::move(before_baseline);
      copy.baselined = 0;
      unbaselined_.push_back(std::move(copy));
    }
    run_.inputs.push_back(std::move(report));
    return !StandardOutputClosed();
  }

 public:
  // Prints the summary or the document, writes the baseline; the exit status.
  int Finish(bool arguments_failed) {
    run_.suppressions = SuppressionUses(*suppressions_);
    const render::Totals totals = render::ComputeTotals(run_.inputs);
    if (text_ || github_) {
      render::RenderTextSummary(totals, run_.inputs.size(), out_style_, std::cout);
      if (text_) render::RenderSuppressionUses(run_.suppressions, out_style_, std::cout);
    } else if (opts_.format == OutputFormat::kJson) {
      render::RenderJson(run_, std::cout);
    } else if (opts_.format == OutputFormat::kSarif) {
      RenderSarif();
    }
    std::cout.flush();
    for (const render::SuppressionUse& use : run_.suppressions) {
      if (use.matched) continue;
      std::cerr << use.file << ":" << use.line << ": warning: suppression \"" << use.rule
                << "\" matched nothing\n";
    }
    if (!opts_.write_baseline.empty() &&
        !WriteBaselineFile(render::RunReport{std::move(unbaselined_), run_.suppressions},
                           opts_.write_baseline)) {
      failed_ = true;
    }
    return CheckExitStatus(totals, opts_.fail_on, arguments_failed || failed_);
  }

 private:
  // Said on stderr for every format (the text, JSON and SARIF documents carry it too).
  void WarnIfNoDriverEvent(const render::InputReport& report) {
    if (!render::DriverUnrecorded(report)) return;
    std::cerr << (report.path == "-" ? "standard input" : report.path)
              << ": warning: " << render::DriverUnrecordedText(report) << "\n";
  }

  void RenderSarif() {
    render::SarifOptions sarif;
    sarif.tool_version = kVersion;
    sarif.information_uri = kHomepage;
    const render::SarifCuts cuts = render::RenderSarif(run_, sarif, std::cout);
    if (cuts.results_dropped) {
      std::cerr << "refctrace: warning: " << cuts.results_dropped
                << " findings left out of the SARIF output (at most " << sarif.limits.max_results
                << " results per run)\n";
    }
  }

  const CheckOptions& opts_;
  triage::Suppressions* suppressions_;
  triage::Baseline* baseline_;  // null: no --baseline; counts down as findings match
  const bool several_;
  const bool text_;
  const bool github_;
  const render::TextStyle out_style_;
  const render::TextStyle err_style_;
  model::ModelOptions model_options_;
  render::RunReport run_;
  std::vector<render::InputReport> unbaselined_;  // for --write-baseline
  bool failed_ = false;                           // a graph or the baseline could not be written
};

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
      // Without the position: a JSON syntax error's message (the parser's
      // sentence) names it already.
      std::cerr << error->file << ": error: " << error->message << "\n";
      return kExitInputError;
    }
  }

  const InputList inputs = ExpandInputs(opts.traces);
  for (const trace::InputError& error : inputs.errors)
    PrintFileError(error, std::cerr);
  CheckRun run(opts, &suppressions, baseline ? &*baseline : nullptr, inputs.paths.size() > 1);
  ReplayInOrder(
      inputs.paths, opts.jobs, run.model_options(), opts.max_findings,
      [&](std::vector<render::InputReport>&& reports) { return run.AddPlan(std::move(reports)); });
  return run.Finish(!inputs.errors.empty());
}

}  // namespace

std::function<int()> SetupCheck(CLI::App& sub) {
  auto opts = std::make_shared<CheckOptions>();
  sub.add_option("TRACE", opts->traces,
                 "Trace files (NDJSON or JSON) or directories of them; - reads standard input")
      ->type_name(kTraceValue)
      ->required();
  AddWordOption(sub, "--format", &opts->format, kFormatWords,
                "Output format: text, json (output-v1), sarif (SARIF 2.1.0), github (Actions "
                "annotations)");
  AddWordOption(sub, "--fail-on", &opts->fail_on, kFailOnWords,
                "Lowest severity that makes the exit status 1");
  AddWordOption(sub, "--color", &opts->color, kColorWords, "Colour the text output");
  sub.add_option("-j,--jobs", opts->jobs, "Check up to N inputs in parallel (output order is kept)")
      ->check(CLI::Range(1u, 256u))
      ->capture_default_str();
  sub.add_option("--suppressions", opts->suppressions,
                 "Suppression rules file (repeatable); default: ./.refctrace-suppressions if it "
                 "exists")
      ->type_name(kFileValue);
  sub.add_option("--baseline", opts->baseline,
                 "Report only findings absent from this earlier JSON result")
      ->type_name(kFileValue);
  sub.add_option("--write-baseline", opts->write_baseline,
                 "Write this run's findings (after suppressions) as a baseline JSON file")
      ->type_name(kFileValue);
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
                 "Also write one SVG per binary with a finding into this directory")
      ->type_name(kDirValue);
  sub.footer("Exit status: 0 clean, 1 findings at or above --fail-on, 2 input error or bad usage.");
  return [opts] { return RunCheck(*opts); };
}

}  // namespace refctrace::cli
