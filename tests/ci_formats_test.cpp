// SARIF, GitHub annotations and the rule docs behind `explain`, fed
// hand-built findings.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "model/fingerprint.h"
#include "render/github_renderer.h"
#include "render/rule_docs.h"
#include "render/sarif_renderer.h"
#include "render/source_location.h"
#include "tests/sample_findings.h"

namespace refctrace::render {
namespace {

nlohmann::json Sarif(const RunReport& run, SarifLimits limits = {}, SarifCuts* cuts = nullptr) {
  std::ostringstream out;
  SarifOptions options;
  options.tool_version = "9.9.9";
  options.information_uri = "https://example.invalid/refctrace";
  options.limits = limits;
  const SarifCuts got = RenderSarif(run, options, out);
  if (cuts) *cuts = got;
  return nlohmann::json::parse(out.str());
}

RunReport Run(std::vector<InputReport> inputs) {
  return RunReport{std::move(inputs), {}};
}

TEST_CASE("SrcWithLineAndColumnSplitsIntoFileLineColumn") {
  const SourceLocation a = ParseSrc("my_drv.c:88");
  CHECK(a.file == "my_drv.c");
  CHECK(a.line == 88);
  CHECK(a.column == 0);
  const SourceLocation b = ParseSrc("src/x.c:12:5");
  CHECK(b.file == "src/x.c");
  CHECK(b.line == 12);
  CHECK(b.column == 5);
  const SourceLocation c = ParseSrc("x.c");
  CHECK(c.file == "x.c");
  CHECK(c.line == 0);
  CHECK(ParseSrc("x.c:abc").file == "x.c:abc");
  CHECK(ParseSrc("").file.empty());
}

TEST_CASE("EveryCodeHasRuleDocsWithSummaryMeaningExampleAndFix") {
  for (Code code : model::kAllCodes) {
    CAPTURE(model::CodeName(code));
    const RuleDoc& doc = RuleDocFor(code);
    CHECK_FALSE(doc.summary.empty());
    CHECK_FALSE(doc.meaning.empty());
    // The meaning is shown alone (SARIF fullDescription): a whole sentence.
    CHECK(doc.meaning.back() == '.');
    CHECK(doc.markdown.find("```") != std::string::npos);  // a minimal trace
    CHECK(doc.text.find("How to fix it.") != std::string::npos);
    CHECK(doc.text.find("**") == std::string::npos);
    CHECK(doc.markdown.find("](") == std::string::npos);  // links flattened
  }
  CHECK(RuleDocFor(Code::kDoubleFree).summary ==
        "a reference was released by someone who did not hold one");
}

TEST_CASE("RuleMeaningOfDoubleFreeKeepsTheListAfterItsColon") {
  const std::string& meaning = RuleDocFor(Code::kDoubleFree).meaning;
  CHECK(meaning.find("did not hold: the driver called") != std::string::npos);
  CHECK(meaning.find("any release on a binary that is already freed.") != std::string::npos);
  CHECK(meaning.find('\n') == std::string::npos);
  CHECK(meaning.find("- ") == std::string::npos);
}

TEST_CASE("MarkdownToTextIndentsCodeAndDropsMarkup") {
  CHECK(MarkdownToText("**Bold.** see [the spec](../x.md#y)\n\n```c\nfree(b);\n```\nend") ==
        "Bold. see the spec\n\n    free(b);\nend");
}

TEST_CASE("SarifDoubleFreeHasRuleLocationCodeFlowAndFingerprint") {
  const nlohmann::json sarif = Sarif(Run({OneInput(DoubleFree())}));
  CHECK(sarif["version"] == "2.1.0");
  const nlohmann::json& run = sarif["runs"][0];
  CHECK(run["tool"]["driver"]["version"] == "9.9.9");
  CHECK(run["tool"]["driver"]["rules"].size() == model::kAllCodes.size());
  CHECK(run["invocations"][0]["executionSuccessful"] == true);
  const nlohmann::json& result = run["results"][0];
  CHECK(result["ruleId"] == "double-free");
  CHECK(run["tool"]["driver"]["rules"][result["ruleIndex"].get<int>()]["id"] == "double-free");
  CHECK(result["level"] == "error");
  const nlohmann::json& loc = result["locations"][0]["physicalLocation"];
  CHECK(loc["artifactLocation"]["uri"] == "my_drv.c");
  CHECK(loc["artifactLocation"]["uriBaseId"] == "%SRCROOT%");
  CHECK(loc["region"]["startLine"] == 98);
  // The trace line is kept as a related location.
  CHECK(result["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"] ==
        "trace.ndjson");
  CHECK(result["relatedLocations"][0]["physicalLocation"]["region"]["startLine"] == 19);
  const nlohmann::json& steps = result["codeFlows"][0]["threadFlows"][0]["locations"];
  REQUIRE(steps.size() == 4);
  CHECK(steps[0]["location"]["physicalLocation"]["region"]["startLine"] == 88);
  CHECK(steps[0]["location"]["message"]["text"] ==
        "allocated 4096 bytes at my_drv.c:88 (event 12, refc 1)");
  // A step without src points at its line in the trace.
  CHECK(steps[1]["location"]["physicalLocation"]["artifactLocation"]["uri"] == "trace.ndjson");
  CHECK(steps[1]["location"]["physicalLocation"]["region"]["startLine"] == 15);
  CHECK(steps[3]["importance"] == "essential");
  CHECK(result["partialFingerprints"][model::kSarifFingerprintKey] ==
        model::Fingerprint(DoubleFree()));
}

TEST_CASE("SarifAbsoluteAndOddPathsBecomeValidUris") {
  Finding f = DoubleFree();
  f.src = "/home/ci/my drv.c:98";
  const nlohmann::json sarif = Sarif(Run({OneInput(f)}));
  const nlohmann::json& art =
      sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"];
  CHECK(art["uri"] == "file:///home/ci/my%20drv.c");
  CHECK_FALSE(art.contains("uriBaseId"));
}

TEST_CASE("SarifOverTheResultLimitDropsTheRestAndSaysSo") {
  InputReport input = OneInput(DoubleFree());
  input.findings.push_back(DoubleFree());
  input.findings.push_back(DoubleFree());
  SarifLimits limits;
  limits.max_results = 2;
  SarifCuts cuts;
  const nlohmann::json sarif = Sarif(Run({input}), limits, &cuts);
  CHECK(cuts.results_dropped == 1);
  CHECK(sarif["runs"][0]["results"].size() == 2);
  const std::string note =
      sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"];
  CHECK(note.find("1 results were left out") != std::string::npos);
}

TEST_CASE("SarifLongHistoryKeepsFirstAndLastFlowLocations") {
  SarifLimits limits;
  limits.max_flow_locations = 3;
  SarifCuts cuts;
  const nlohmann::json sarif = Sarif(Run({OneInput(DoubleFree())}), limits, &cuts);
  CHECK(cuts.flows_truncated == 1);
  const nlohmann::json& steps =
      sarif["runs"][0]["results"][0]["codeFlows"][0]["threadFlows"][0]["locations"];
  REQUIRE(steps.size() == 3);
  CHECK(steps[0]["location"]["message"]["text"].get<std::string>().find("event 12") !=
        std::string::npos);
  CHECK(steps[2]["location"]["message"]["text"].get<std::string>().find("event 17") !=
        std::string::npos);
}

TEST_CASE("SarifInputErrorIsAFailedInvocationWithItsPosition") {
  InputReport input = OneInput(DoubleFree());
  input.complete = false;
  input.error = trace::InputError{7, 25, "unknown op \"frobnicate\"", "", 0, ""};
  const nlohmann::json sarif = Sarif(Run({input}));
  const nlohmann::json& inv = sarif["runs"][0]["invocations"][0];
  CHECK(inv["executionSuccessful"] == false);
  const nlohmann::json& n = inv["toolExecutionNotifications"][0];
  CHECK(n["level"] == "error");
  CHECK(n["locations"][0]["physicalLocation"]["region"]["startLine"] == 7);
  CHECK(n["locations"][0]["physicalLocation"]["region"]["startColumn"] == 25);
  CHECK(sarif["runs"][0]["results"].size() == 1);  // found before the error
}

TEST_CASE("GithubAnnotationPointsAtSrcAndEscapesNewlines") {
  std::ostringstream out;
  RenderGithubInput(OneInput(DoubleFree()), out);
  const std::string s = out.str();
  CHECK(s.rfind("::error file=my_drv.c,line=98,title=refctrace double-free::driver released a "
                "reference it does not hold (driver holds 0; <0.85.0> holds 1)%0Abinary 0x7f3a10 "
                "(incarnation 2), event 17 of trace.ndjson:19%0A  allocated 4096 bytes",
                0) == 0);
  CHECK(s.find('\n') == s.size() - 1);  // one command, one line
}

TEST_CASE("GithubEscapingFollowsWorkflowCommandRules") {
  CHECK(GithubEscapeData("50%\r\na:b,c") == "50%25%0D%0Aa:b,c");
  CHECK(GithubEscapeProperty("a:b,c%") == "a%3Ab%2Cc%25");
}

TEST_CASE("GithubFindingWithoutSrcPointsAtTheTraceLine") {
  Finding f = DoubleFree();
  f.src.clear();
  std::ostringstream out;
  RenderGithubInput(OneInput(f), out);
  CHECK(out.str().rfind("::error file=trace.ndjson,line=19,title=", 0) == 0);
}

}  // namespace
}  // namespace refctrace::render
