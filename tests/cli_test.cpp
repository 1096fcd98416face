// cli/ in process: the replay the tool runs, input expansion, `-j N`
// ordering, exit statuses and option words. The whole-process tests
// (tests/golden, ci/*) check the same paths through the executable.
#include <doctest/doctest.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cli/exit_status.h"
#include "cli/file_error.h"
#include "cli/input_list.h"
#include "cli/ordered_replay.h"
#include "cli/replay.h"
#include "cli/terminal.h"
#include "cli/word_option.h"
#include "trace/reader.h"

namespace refctrace::cli {
namespace {

namespace fs = std::filesystem;

const std::string kTestdata = REFCTRACE_TESTDATA_DIR;

// A fresh empty directory per test.
fs::path ScratchDir(const std::string& name) {
  const fs::path dir =
      fs::temp_directory_path() / ("refctrace-cli-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void Touch(const fs::path& path) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << "{\"op\":\"end\"}\n";
}

render::InputReport ReplayText(const std::string& text, const ReplayOptions& options = {}) {
  auto reader = trace::TraceReader::FromString(text);
  return ReplayReader(*reader, "t.ndjson", options);
}

// Counts what a replay shows its watcher.
struct CountingWatcher : ReplayWatcher {
  void AfterEvent(const model::Model& model, const trace::Event&) override {
    ++events;
    if (model.CheckInvariants()) ++broken;
  }
  void AfterFinish(const model::Model&) override { ++finishes; }
  int events = 0;
  int finishes = 0;
  int broken = 0;
};

render::InputReport ReplayWatched(const std::string& text, CountingWatcher* watcher) {
  ReplayOptions options;
  options.watcher = watcher;
  return ReplayText(text, options);
}

// ---------------------------------------------------------------------------
// ReplayInput, ReplayReader

TEST_CASE("LeakTraceReplaysToOneLeakWithItsFigures") {
  const render::InputReport report = ReplayInput(kTestdata + "/diagnostics/leak.ndjson", {});
  CHECK(report.path == kTestdata + "/diagnostics/leak.ndjson");
  CHECK(report.complete);
  CHECK_FALSE(report.error);
  CHECK(report.events == 6);
  REQUIRE(report.findings.size() == 1);
  CHECK(report.findings[0].code == model::Code::kLeak);
}

TEST_CASE("TraceThatDoesNotExistReplaysToAnInputErrorNamingTheFile") {
  const render::InputReport report = ReplayInput("no/such/trace.ndjson", {});
  CHECK_FALSE(report.complete);
  REQUIRE(report.error);
  CHECK(report.error->message.rfind("cannot open: ", 0) == 0);
  CHECK(report.error->file == "no/such/trace.ndjson");
  CHECK(report.events == 0);
}

TEST_CASE("WatcherSeesEveryEventOfAValidTraceAndItsEnd") {
  CountingWatcher watcher;
  const render::InputReport report = ReplayWatched(
      "{\"op\":\"alloc\",\"bin\":\"0x1\",\"size\":8,\"refc\":1}\n"
      "{\"op\":\"free\",\"bin\":\"0x1\",\"refc\":0}\n",
      &watcher);
  CHECK_FALSE(report.error);
  CHECK(watcher.events == 2);
  CHECK(watcher.finishes == 1);
  CHECK(watcher.broken == 0);
}

TEST_CASE("WatcherSeesNoEndOfATraceCutShortByMalformedInput") {
  CountingWatcher watcher;
  const render::InputReport report = ReplayWatched(
      "{\"op\":\"alloc\",\"bin\":\"0x1\",\"size\":8,\"refc\":1}\n"
      "{\"op\":\"frobnicate\"}\n",
      &watcher);
  REQUIRE(report.error);
  CHECK(report.error->line == 2);
  CHECK(report.error->file.empty());  // read from memory: no file name
  CHECK_FALSE(report.complete);
  CHECK(watcher.events == 1);
  CHECK(watcher.finishes == 0);  // no end-of-input pass on a broken input
}

TEST_CASE("TwoLeaksWithMaxFindingsOneStopAtTheSecondWithAnError") {
  ReplayOptions options;
  options.max_findings = 1;
  const render::InputReport report = ReplayText(
      "{\"op\":\"alloc\",\"bin\":\"0x1\",\"size\":8,\"refc\":1}\n"
      "{\"op\":\"alloc\",\"bin\":\"0x2\",\"size\":8,\"refc\":1}\n"
      "{\"op\":\"end\"}\n",
      options);
  CHECK(report.findings.size() == 1);
  CHECK_FALSE(report.complete);
  REQUIRE(report.error);
  CHECK(report.error->message.find("too many findings: the limit is 1 per input") == 0);
}

// ---------------------------------------------------------------------------
// ExpandInputs

TEST_CASE("DirectoryExpandsToItsTracesBelowItInByteOrder") {
  const fs::path dir = ScratchDir("expand");
  Touch(dir / "b.ndjson");
  Touch(dir / "a.json");
  Touch(dir / "notes.txt");
  Touch(dir / "sub" / "c.ndjson");
  Touch(dir / "B.ndjson");
  const InputList list = ExpandInputs({dir.string()});
  CHECK(list.errors.empty());
  CHECK(list.paths ==
        std::vector<std::string>{(dir / "B.ndjson").string(), (dir / "a.json").string(),
                                 (dir / "b.ndjson").string(), (dir / "sub" / "c.ndjson").string()});
  fs::remove_all(dir);
}

TEST_CASE("DashFilesAndMissingPathsPassThroughInArgumentOrder") {
  const InputList list = ExpandInputs({"z.ndjson", "-", "no/such/dir"});
  CHECK(list.errors.empty());
  CHECK(list.paths == std::vector<std::string>{"z.ndjson", "-", "no/such/dir"});
}

TEST_CASE("DirectoryWithoutTracesIsAnErrorNamingIt") {
  const fs::path dir = ScratchDir("empty");
  Touch(dir / "notes.txt");
  const InputList list = ExpandInputs({dir.string(), "x.ndjson"});
  CHECK(list.paths == std::vector<std::string>{"x.ndjson"});
  REQUIRE(list.errors.size() == 1);
  CHECK(list.errors[0].file == dir.string());
  CHECK(list.errors[0].message == "directory has no *.ndjson or *.json files");
  std::ostringstream printed;
  PrintFileError(list.errors[0], printed);
  CHECK(printed.str() == dir.string() + ": error: directory has no *.ndjson or *.json files\n");
  fs::remove_all(dir);
}

// ---------------------------------------------------------------------------
// ReplayInOrder

std::vector<std::string> SomeTraces() {
  std::vector<std::string> paths = ExpandInputs({kTestdata + "/diagnostics"}).paths;
  paths.push_back("no/such/trace.ndjson");  // an error in the middle of the order
  const InputList valid = ExpandInputs({kTestdata + "/valid"});
  paths.insert(paths.end(), valid.paths.begin(), valid.paths.end());
  return paths;
}

TEST_CASE("DiagnosticsAndValidTracesOnFourJobsComeBackInInputOrderAsOnOne") {
  const std::vector<std::string> paths = SomeTraces();
  REQUIRE(paths.size() > 8);
  std::vector<render::InputReport> one, four;
  ReplayInOrder(paths, 1, {}, kDefaultMaxFindings, [&](render::InputReport&& r) {
    one.push_back(std::move(r));
    return true;
  });
  ReplayInOrder(paths, 4, {}, kDefaultMaxFindings, [&](render::InputReport&& r) {
    four.push_back(std::move(r));
    return true;
  });
  REQUIRE(one.size() == paths.size());
  REQUIRE(four.size() == paths.size());
  for (size_t i = 0; i < paths.size(); ++i) {
    INFO(paths[i]);
    CHECK(one[i].path == paths[i]);
    CHECK(four[i].path == paths[i]);
    CHECK(four[i].events == one[i].events);
    CHECK(four[i].findings.size() == one[i].findings.size());
    CHECK(four[i].error.has_value() == one[i].error.has_value());
  }
}

TEST_CASE("DiagnosticsTracesOnFourJobsStopWhenTheConsumerSaysSo") {
  const std::vector<std::string> paths = SomeTraces();
  for (unsigned jobs : {1u, 4u}) {
    INFO("jobs ", jobs);
    std::vector<std::string> seen;
    ReplayInOrder(paths, jobs, {}, kDefaultMaxFindings, [&](render::InputReport&& r) {
      seen.push_back(r.path);
      return seen.size() < 2;
    });
    CHECK(seen == std::vector<std::string>{paths[0], paths[1]});
  }
}

// ---------------------------------------------------------------------------
// Exit status

int StatusOf(const std::string& trace, FailOn fail_on) {
  const render::InputReport report = ReplayInput(kTestdata + "/" + trace, {});
  return CheckExitStatus(render::InputTotals(report), fail_on, false);
}

TEST_CASE("UnknownBinaryTraceExitsZeroUnlessFailOnWarning") {
  CHECK(StatusOf("diagnostics/unknown-binary.ndjson", FailOn::kError) == kExitClean);
  CHECK(StatusOf("diagnostics/unknown-binary.ndjson", FailOn::kWarning) == kExitFindings);
}

TEST_CASE("LeakTraceExitsOneAndValidTraceZero") {
  CHECK(StatusOf("diagnostics/leak.ndjson", FailOn::kError) == kExitFindings);
  CHECK(StatusOf("valid/fanout.ndjson", FailOn::kWarning) == kExitClean);
}

TEST_CASE("MalformedTraceOrAFailedRunExitsTwoWhateverTheFindings") {
  CHECK(StatusOf("input-errors/unknown-op.ndjson", FailOn::kError) == kExitInputError);
  render::Totals totals;
  totals.errors = 3;
  CHECK(CheckExitStatus(totals, FailOn::kError, /*run_failed=*/true) == kExitInputError);
  CHECK(CheckExitStatus(totals, FailOn::kError, false) == kExitFindings);
}

// ---------------------------------------------------------------------------
// Options that take one of a fixed set of words

enum class Shade : uint8_t { kLight, kDark };

struct ShadeApp {
  ShadeApp() {
    AddWordOption(app, "--shade", &shade, {{"light", Shade::kLight}, {"dark", Shade::kDark}},
                  "How dark");
  }
  CLI::App app{"test"};
  Shade shade = Shade::kLight;
};

TEST_CASE("ShadeDarkIsStoredAsItsEnum") {
  ShadeApp t;
  t.app.parse("--shade dark", false);
  CHECK(t.shade == Shade::kDark);
}

TEST_CASE("ShadeOutsideTheSetIsAUsageErrorListingTheWords") {
  ShadeApp t;
  try {
    t.app.parse("--shade grey", false);
    FAIL("no error");
  } catch (const CLI::ParseError& e) {
    CHECK(std::string(e.what()) == "--shade: grey not in {light,dark}");
  }
  CHECK(t.shade == Shade::kLight);
}

TEST_CASE("ShadeHelpShowsTheWordsAndTheDefaultWord") {
  ShadeApp t;
  const std::string help = t.app.help();
  CHECK(help.find("--shade TEXT:{light,dark}=light") != std::string::npos);
}

TEST_CASE("ColorWordsNameEveryMode") {
  CHECK(kColorWords.size() == 3);
  CHECK(UseColor(ColorMode::kAlways, -1));
  CHECK_FALSE(UseColor(ColorMode::kNever, -1));
}

}  // namespace
}  // namespace refctrace::cli
