// Text and JSON renderers, fed hand-built findings (no reader, no model).
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "model/wording.h"
#include "render/json_renderer.h"
#include "render/text_renderer.h"
#include "tests/sample_findings.h"

namespace refctrace::render {
namespace {

using model::DescribeStep;

TEST_CASE("DoubleFreeRendersCompilerStyleWithHistoryNotes") {
  std::ostringstream out;
  RenderTextFindings(OneInput(DoubleFree()), TextStyle{}, out);
  CHECK(out.str() ==
        "trace.ndjson:19: error[double-free]: driver released a reference it does not hold "
        "(driver holds 0; <0.85.0> holds 1)\n"
        "  binary 0x7f3a10 (incarnation 2), event 17, at my_drv.c:98\n"
        "  note: allocated 4096 bytes at my_drv.c:88 (event 12, refc 1)\n"
        "  note: output to <0.85.0> (event 13, refc 2)\n"
        "  note: freed (event 16, refc 1)\n"
        "  note: freed at my_drv.c:98 (event 17, refc 0)  <- here\n");
}

TEST_CASE("ColorWrapsSeverityInAnsiCodesOnlyWhenAsked") {
  std::ostringstream plain, color;
  RenderTextFindings(OneInput(DoubleFree()), TextStyle{false}, plain);
  RenderTextFindings(OneInput(DoubleFree()), TextStyle{true}, color);
  CHECK(plain.str().find('\033') == std::string::npos);
  CHECK(color.str().find("\033[1;31merror\033[0m") != std::string::npos);
}

TEST_CASE("OmittedHistoryIsMarkedInTextAndJson") {
  Finding f = DoubleFree();
  f.history[1].omitted_before = 37;
  std::ostringstream text;
  RenderTextFindings(OneInput(f), TextStyle{}, text);
  CHECK(text.str().find("(event 12, refc 1)\n  note: ... 37 events omitted ...\n  note: output") !=
        std::string::npos);

  std::ostringstream out;
  RenderJson(RunReport{{OneInput(f)}, {}}, out);
  const auto j = nlohmann::json::parse(out.str());
  const auto& history = j["diagnostics"][0]["history"];
  REQUIRE(history.size() == 5);
  CHECK(history[1] == nlohmann::json{{"omitted", 37}});
  CHECK(history[2]["op"] == "output");
}

TEST_CASE("JsonFollowsOutputV1") {
  std::ostringstream out;
  RenderJson(RunReport{{OneInput(DoubleFree())}, {}}, out);
  const auto j = nlohmann::json::parse(out.str());
  CHECK(j["version"] == 1);
  CHECK(j["inputs"][0] == nlohmann::json{{"path", "trace.ndjson"},
                                         {"events", 20},
                                         {"complete", true},
                                         {"errors", 1},
                                         {"warnings", 0}});
  const auto& d = j["diagnostics"][0];
  CHECK(d["code"] == "double-free");
  CHECK(d["severity"] == "error");
  CHECK(d["path"] == "trace.ndjson");
  CHECK(d["bin"] == "0x7f3a10");
  CHECK(d["incarnation"] == 2);
  CHECK(d["event"] == 17);
  CHECK(d["line"] == 19);
  CHECK(d["actor"] == "driver");
  CHECK(d["src"] == "my_drv.c:98");
  CHECK(d["history"][1] == nlohmann::json{{"event", 13},
                                          {"op", "output"},
                                          {"actor", "driver"},
                                          {"to", "<0.85.0>"},
                                          {"refc", 2},
                                          {"line", 15}});
  CHECK(j["summary"] == nlohmann::json{{"errors", 1},
                                       {"warnings", 0},
                                       {"binaries", 40},
                                       {"leaked_bytes", 0},
                                       {"held_by_processes", 0},
                                       {"suppressed", 0},
                                       {"baselined", 0}});
  CHECK(d["fingerprint"].get<std::string>().size() == 16);
  CHECK_FALSE(j.contains("suppressions"));  // none were loaded
  // Keys come in the order output-v1 shows them.
  CHECK(out.str().find("\"code\"") < out.str().find("\"severity\""));
  CHECK(out.str().find("\"message\"") < out.str().find("\"history\""));
}

TEST_CASE("JsonKeepsIntegerIdsAsIntegersAndOmitsUnknownKeys") {
  Finding f = DoubleFree();
  f.bin = BinId::Int(18446744073709551615ull);
  f.line = 0;
  f.src.clear();
  std::ostringstream out;
  RenderJson(RunReport{{OneInput(f)}, {}}, out);
  const auto j = nlohmann::json::parse(out.str());
  const auto& d = j["diagnostics"][0];
  CHECK(d["bin"].is_number_unsigned());
  CHECK(d["bin"].get<uint64_t>() == 18446744073709551615ull);
  CHECK_FALSE(d.contains("line"));
  CHECK_FALSE(d.contains("src"));
}

TEST_CASE("InputCutShortIsIncompleteWithItsErrorInJson") {
  InputReport input = OneInput(DoubleFree());
  input.complete = false;
  input.error = trace::InputError{7, 25, "unknown op \"frobnicate\"", "", 0, ""};
  std::ostringstream out;
  RenderJson(RunReport{{input}, {}}, out);
  const auto j = nlohmann::json::parse(out.str());
  CHECK(j["inputs"][0]["complete"] == false);
  CHECK(j["inputs"][0]["error"] ==
        nlohmann::json{{"line", 7}, {"column", 25}, {"message", "unknown op \"frobnicate\""}});
  CHECK(j["diagnostics"].size() == 1);
}

TEST_CASE("InputErrorShowsPathLineColumnTextAndCaret") {
  std::ostringstream out;
  RenderInputError(
      "t.ndjson",
      trace::InputError{7, 19, "field \"bin\" must be a string or a non-negative integer",
                        "{\"op\":\"free\",\"bin\":-3}", 19, ""},
      TextStyle{}, out);
  CHECK(out.str() ==
        "t.ndjson:7:19: error: field \"bin\" must be a string or a non-negative integer\n"
        "  7 | {\"op\":\"free\",\"bin\":-3}\n"
        "    |                   ^\n");
}

TEST_CASE("FileThatCannotBeOpenedHasNoLineNumber") {
  std::ostringstream out;
  RenderInputError("x.ndjson",
                   trace::InputError{0, 0, "cannot open: No such file or directory", "", 0, ""},
                   TextStyle{}, out);
  CHECK(out.str() == "x.ndjson: error: cannot open: No such file or directory\n");
}

TEST_CASE("SummaryCountsEverythingInOneLine") {
  Totals t;
  t.errors = 1;
  t.warnings = 2;
  t.binaries = 1;
  t.leaked_bytes = 4096;
  t.held_by_processes = 3;
  std::ostringstream out;
  RenderTextSummary(t, 1, TextStyle{}, out);
  CHECK(out.str() ==
        "refctrace: 1 error, 2 warnings; 1 binary, 4096 bytes leaked, 3 still held by processes\n");
}

// Model 1.3: binaries whose end stays uncertain are counted apart, and only when there are any
// (JsonFollowsOutputV1 checks that the key is absent otherwise).
TEST_CASE("SummaryCountsBinariesPerhapsReleasedApart") {
  Totals t;
  t.binaries = 5;
  t.held_by_processes = 1;
  t.uncertain_end = 2;
  std::ostringstream text;
  RenderTextSummary(t, 1, TextStyle{}, text);
  CHECK(text.str() ==
        "refctrace: 0 errors, 0 warnings; 5 binaries, 0 bytes leaked, 1 still held by processes, "
        "2 perhaps released (which of several a process released is unknown)\n");

  InputReport input = OneInput(DoubleFree());
  input.stats.uncertain_end = 2;
  std::ostringstream json;
  RenderJson(RunReport{{input}, {}}, json);
  CHECK(nlohmann::json::parse(json.str())["summary"]["uncertain_end"] == 2);
}

TEST_CASE("StepDescriptionsNameTheActorAndDestination") {
  CHECK(DescribeStep(MakeStep(1, Op::kReceive, 2, "<0.85.0>")) == "received by <0.85.0>");
  CHECK(DescribeStep(MakeStep(1, Op::kSend, 3, "<0.85.0>", "<0.90.0>")) ==
        "sent by <0.85.0> to <0.90.0>");
  CHECK(DescribeStep(MakeStep(1, Op::kGc, 1, "<0.85.0>")) == "garbage-collected by <0.85.0>");
  CHECK(DescribeStep(MakeStep(1, Op::kExit, 0, "<0.85.0>")) == "<0.85.0> exited");
  Step realloc = MakeStep(1, Op::kRealloc, 1);
  realloc.size = 8192;
  realloc.to = "0x55d0";
  CHECK(DescribeStep(realloc) == "reallocated to 8192 bytes, moved to 0x55d0");
}

}  // namespace
}  // namespace refctrace::render
