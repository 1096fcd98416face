// cli/ in process: the replay the tool runs, input expansion, `-j N`
// ordering, exit statuses and option words. The whole-process tests
// (tests/golden, ci/*) check the same paths through the executable.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
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

// The replay reads a few events ahead of the one it applies (cli/event_lookahead.h): a stop
// at a limit still counts and shows only the events up to the one that crossed it.
TEST_CASE("StopAtALimitCountsNoEventReadAheadOfIt") {
  CountingWatcher watcher;
  ReplayOptions options;
  options.max_findings = 1;
  options.watcher = &watcher;
  std::string text;
  for (const char* id : {"0x1", "0x2", "0x3", "0x4"}) {
    const std::string bin = std::string("\"bin\":\"") + id + "\"";
    text += "{\"op\":\"alloc\"," + bin + ",\"size\":8,\"refc\":1}\n";
    text += "{\"op\":\"free\"," + bin + ",\"refc\":0}\n";
    text += "{\"op\":\"free\"," + bin + "}\n";  // a double free: one finding per id
  }
  const render::InputReport report = ReplayText(text, options);
  REQUIRE(report.error);
  CHECK(report.error->line == 6);  // the second double free is one finding too many
  CHECK(report.events == 6);
  CHECK(watcher.events == 6);
  CHECK(report.findings.size() == 1);
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
  ReplayInOrder(paths, 1, {}, kDefaultMaxFindings, [&](std::vector<render::InputReport>&& r) {
    for (render::InputReport& report : r)
      one.push_back(std::move(report));
    return true;
  });
  ReplayInOrder(paths, 4, {}, kDefaultMaxFindings, [&](std::vector<render::InputReport>&& r) {
    for (render::InputReport& report : r)
      four.push_back(std::move(report));
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
    ReplayInOrder(paths, jobs, {}, kDefaultMaxFindings, [&](std::vector<render::InputReport>&& r) {
      REQUIRE(r.size() == 1);  // no parts among them
      seen.push_back(r.front().path);
      return seen.size() < 2;
    });
    CHECK(seen == std::vector<std::string>{paths[0], paths[1]});
  }
}

// ---------------------------------------------------------------------------
// Runs in parts (trace format 1.5)

const std::string kParts = kTestdata + "/parts";

// Every report of every plan, in the order check shows them.
std::vector<render::InputReport> ReplayAll(const std::vector<std::string>& args,
                                           unsigned jobs = 1) {
  std::vector<render::InputReport> all;
  const InputList inputs = ExpandInputs(args);
  REQUIRE(inputs.errors.empty());
  ReplayInOrder(inputs.paths, jobs, {}, kDefaultMaxFindings,
                [&](std::vector<render::InputReport>&& reports) {
                  for (render::InputReport& r : reports)
                    all.push_back(std::move(r));
                  return true;
                });
  return all;
}

std::vector<std::string> CasesOf(const std::vector<render::InputReport>& reports) {
  std::vector<std::string> cases;
  for (const render::InputReport& r : reports)
    cases.push_back(r.header.case_name);
  return cases;
}

TEST_CASE("OneRunDirectoryChargesTheLeakFoundAtEndPerSuitesStopToTheLeakCase") {
  for (unsigned jobs : {1u, 4u}) {
    INFO("jobs ", jobs);
    const std::vector<render::InputReport> reports = ReplayAll({kParts + "/one-run"}, jobs);
    // Part order, not the files' byte order.
    REQUIRE(CasesOf(reports) == std::vector<std::string>{"echo_SUITE.init_per_suite",
                                                         "echo_SUITE.leak", "echo_SUITE.clean",
                                                         "echo_SUITE.end_per_suite"});
    for (const render::InputReport& r : reports) {
      INFO(r.path);
      CHECK(r.complete);
      CHECK(r.header.run == "echo-2026-12-01T07:00:00Z");
      CHECK(r.findings.size() == (r.header.case_name == "echo_SUITE.leak" ? 1u : 0u));
    }
    const model::Finding& leak = reports[1].findings.at(0);
    CHECK(model::CodeName(leak.code) == "leak");
    CHECK(leak.event == 0);  // the alloc, the part's own first event
    CHECK(leak.line == 2);
    // Its history runs into end_per_suite, whose stop found it: that step names its file.
    REQUIRE(!leak.history.empty());
    CHECK(leak.history.front().file.empty());
    const model::Step& stop = leak.history.back();
    CHECK(stop.op == trace::Op::kStop);
    CHECK(stop.event == 1);
    CHECK(stop.line == 3);
    CHECK(stop.file == kParts + "/one-run/echo_SUITE.end_per_suite.ndjson");
    // Per-part figures: the leak case made one binary; the run's end is on the last part.
    CHECK(reports[1].events == 4);
    CHECK(reports[1].stats.binaries == 1);
    CHECK(reports[3].run_stats.has_value());
    CHECK_FALSE(reports[1].run_stats.has_value());
    // Leaked bytes go with the leak, to the case that made it; the run's total is the model's.
    CHECK(reports[1].stats.leaked_bytes == 256);
    CHECK(reports[3].stats.leaked_bytes == 0);
    CHECK(render::ComputeTotals(reports).leaked_bytes == reports[3].run_stats->leaked_bytes);
  }
}

TEST_CASE("LeakCasePartNamedAloneIsReplayedWithItsRunFoundBesideIt") {
  const std::vector<render::InputReport> reports =
      ReplayAll({kParts + "/one-run/echo_SUITE.leak.ndjson"});
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].complete);
  REQUIRE(reports[0].findings.size() == 1);
  CHECK(reports[0].findings[0].event == 0);
  // Without its later parts, the end of this part would have raised the leak of the buffer
  // init_per_suite made and end_per_suite frees.
  const std::vector<render::InputReport> init =
      ReplayAll({kParts + "/one-run/echo_SUITE.init_per_suite.ndjson"});
  REQUIRE(init.size() == 1);
  CHECK(init[0].findings.empty());
}

TEST_CASE("RunWithoutPart1StopsBeforePart2AndReportsNoEndOfRunLeak") {
  const std::vector<render::InputReport> reports = ReplayAll({kParts + "/missing-part"});
  REQUIRE(CasesOf(reports) ==
          std::vector<std::string>{"m_SUITE.init_per_suite", "m_SUITE.end_per_suite"});
  // Part 0 is replayed; the run's end is unknown, so its live binary is no leak.
  CHECK(reports[0].findings.empty());
  CHECK(reports[0].events == 1);
  CHECK(reports[0].complete);
  REQUIRE(reports[1].error.has_value());
  CHECK_FALSE(reports[1].complete);
  CHECK(reports[1].events == 0);
  CHECK(reports[1].error->message.find("part 1 of run \"m1\" is missing") == 0);
  CHECK(reports[1].error->line == 1);
}

TEST_CASE("RunWithTwoFilesForPart1ReportsBothWithTheError") {
  const std::vector<render::InputReport> reports = ReplayAll({kParts + "/duplicate-part"});
  REQUIRE(reports.size() == 3);
  CHECK_FALSE(reports[0].error.has_value());
  for (size_t i : {1u, 2u}) {
    REQUIRE(reports[i].error.has_value());
    CHECK(reports[i].error->message.find("part 1 of run \"d1\" is in two files") == 0);
  }
}

TEST_CASE("EndEventInPart0OfTwoIsAnInputErrorAtIt") {
  const std::vector<render::InputReport> reports = ReplayAll({kParts + "/end-before-last"});
  REQUIRE(reports.size() == 2);
  REQUIRE(reports[0].error.has_value());
  CHECK(reports[0].error->line == 3);
  CHECK(reports[0].error->message.find("\"end\" ends the run") == 0);
  REQUIRE(reports[1].error.has_value());
  CHECK(reports[1].error->message.find("not replayed") == 0);
}

TEST_CASE("TwoRunsAndAWholeTraceInOneDirectoryKeepTheirStatesApart") {
  const std::vector<render::InputReport> reports = ReplayAll({kParts + "/two-runs"});
  REQUIRE(CasesOf(reports) ==
          std::vector<std::string>{"a_SUITE.one", "a_SUITE.two", "b_SUITE.one", "b_SUITE.two", ""});
  CHECK(reports[0].findings.empty());
  REQUIRE(reports[1].findings.size() == 1);
  CHECK(model::CodeName(reports[1].findings[0].code) == "double-free");
  CHECK(reports[1].findings[0].event == 1);
  // Run b's alloc of 0x10 is not run a's: its leak, found at the run's end, is b_SUITE.one's.
  REQUIRE(reports[2].findings.size() == 1);
  CHECK(model::CodeName(reports[2].findings[0].code) == "leak");
  CHECK(reports[3].findings.empty());
  CHECK_FALSE(reports[4].header.IsPart());
  CHECK(reports[4].findings.empty());
}

TEST_CASE("TraceFromAPipeIsReadOnceNotLookedIntoForItsHeaderFirst") {
  const fs::path dir = ScratchDir("fifo");
  const fs::path fifo = dir / "trace.ndjson";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // One writer, once: a header read before the replay would take these bytes (and the replay
  // would then wait for a writer that never comes).
  std::thread writer([&] {
    std::ofstream(fifo) << "{\"refctrace\":1}\n{\"op\":\"alloc\",\"bin\":1}\n"
                           "{\"op\":\"free\",\"bin\":1}\n";
  });
  const std::vector<render::InputReport> reports = ReplayAll({fifo.string()});
  writer.join();
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].complete);
  CHECK(reports[0].events == 2);
  fs::remove_all(dir);
}

TEST_CASE("PartReadFromMemoryIsRefusedAtItsHeader") {
  const render::InputReport report =
      ReplayText("{\"refctrace\":1,\"run\":\"r\",\"part\":1}\n{\"op\":\"alloc\",\"bin\":1}\n");
  REQUIRE(report.error.has_value());
  CHECK_FALSE(report.complete);
  CHECK(report.error->line == 1);
  CHECK(report.error->column == 1);
  CHECK(report.error->message.find("part 1 of run \"r\" cannot be replayed alone") == 0);
  CHECK(report.findings.empty());
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
