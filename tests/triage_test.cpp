// Fingerprints, suppression rules and baselines, fed hand-built findings.
#include <doctest/doctest.h>

#include <sstream>

#include "model/fingerprint.h"
#include "render/json_renderer.h"
#include "tests/sample_findings.h"
#include "triage/baseline.h"
#include "triage/suppressions.h"

namespace refctrace::triage {
namespace {

using render::DoubleFree;
using render::Finding;

TEST_CASE("FingerprintIgnoresAddressesProcessIdsAndPositions") {
  const Finding a = DoubleFree();
  Finding b = DoubleFree();
  b.bin = trace::BinId::Str("0x55aa00");
  b.incarnation = 7;
  b.event = 1017;
  b.line = 1019;
  b.message = "driver released a reference it does not hold (driver holds 0; <0.99.0> holds 1)";
  for (render::Step& step : b.history) {
    step.event += 1000;
    step.line += 1000;
    if (!step.to.empty()) step.to = "<0.99.0>";
  }
  CHECK(model::Fingerprint(a) == model::Fingerprint(b));
  CHECK(model::Fingerprint(a).size() == 16);
}

TEST_CASE("FingerprintChangesWithCodeFileFunctionOriginOrOperation") {
  const std::string base = model::Fingerprint(DoubleFree());
  Finding code = DoubleFree();
  code.code = render::Code::kUseAfterFree;
  Finding file = DoubleFree();
  file.src = "other_drv.c:98";
  Finding stack = DoubleFree();
  stack.stack = {"reply_error (my_drv.c:98)"};
  Finding origin = DoubleFree();
  origin.history[0].src = "pool.c:88";
  Finding function = DoubleFree();
  function.func = "reply_error";
  Finding origin_function = DoubleFree();
  origin_function.history[0].func = "pool_get";
  Finding op = DoubleFree();
  op.history.back().op = render::Op::kDec;
  CHECK(model::Fingerprint(code) != base);
  CHECK(model::Fingerprint(file) != base);
  CHECK(model::Fingerprint(stack) != base);
  CHECK(model::Fingerprint(origin) != base);
  CHECK(model::Fingerprint(function) != base);
  CHECK(model::Fingerprint(origin_function) != base);
  CHECK(model::Fingerprint(op) != base);
}

TEST_CASE("FingerprintSurvivesEditsThatMoveLines") {
  Finding a = DoubleFree();
  a.stack = {"reply_error (my_drv.c:98)", "0x7f3a10c0 in erts_port_task_execute"};
  Finding moved = a;
  moved.src = "my_drv.c:131";
  moved.history[0].src = "my_drv.c:121";
  moved.stack = {"reply_error (my_drv.c:131)", "0x55aa0010 in erts_port_task_execute"};
  CHECK(model::Fingerprint(a) == model::Fingerprint(moved));
}

TEST_CASE("FingerprintWithoutSrcUsesTheDriversOperations") {
  Finding a = DoubleFree();
  a.src.clear();
  for (render::Step& step : a.history)
    step.src.clear();
  Finding b = a;
  b.history.insert(b.history.begin() + 1, render::MakeStep(13, render::Op::kWrite, 1));
  Finding with_receive = a;
  with_receive.history.insert(with_receive.history.begin() + 2,
                              render::MakeStep(14, render::Op::kReceive, 2, "<0.85.0>"));
  CHECK(model::Fingerprint(a) != model::Fingerprint(b));
  CHECK(model::Fingerprint(a) == model::Fingerprint(with_receive));  // scheduling-dependent
}

TEST_CASE("SuppressionFileWithCodeSrcAndFrameRulesParses") {
  Suppressions s;
  const auto error = s.Parse("x.supp",
                             "# known bugs\n"
                             "\n"
                             "leak src=vendor/*\n"
                             "double-free   frame=legacy_*   # old pool\n"
                             "* src=*/compat.c:* frame=compat_*\n");
  REQUIRE_FALSE(error);
  REQUIRE(s.rules().size() == 3);
  CHECK(s.rules()[0].line == 3);
  CHECK(s.rules()[0].text == "leak src=vendor/*");
  CHECK(s.rules()[1].text == "double-free frame=legacy_*");
  CHECK_FALSE(s.rules()[2].code);
}

TEST_CASE("SuppressionMatchesCodeSrcGlobAndAnyStackFrame") {
  Suppressions s;
  REQUIRE_FALSE(s.Parse("x.supp", "double-free src=my_*.c:9*\nleak\n"));
  CHECK(s.Match(DoubleFree()) == &s.rules()[0]);
  Finding other_src = DoubleFree();
  other_src.src = "their_drv.c:98";
  CHECK(s.Match(other_src) == nullptr);
  CHECK(s.rules()[0].matched == 1);
  CHECK(s.rules()[1].matched == 0);

  Suppressions frames;
  REQUIRE_FALSE(frames.Parse("y.supp", "* frame=reply_*\n"));
  Finding with_stack = DoubleFree();
  with_stack.stack = {"free_reply (my_drv.c:98)", "reply_error (my_drv.c:120)"};
  CHECK(frames.Match(with_stack) != nullptr);
  CHECK(frames.Match(DoubleFree()) == nullptr);  // no stack, no frame matches
}

TEST_CASE("SuppressionWithUnknownCodeIsAnErrorWithLineAndColumn") {
  Suppressions s;
  const auto error = s.Parse("x.supp", "leak\n  double-fre src=x\n");
  REQUIRE(error);
  CHECK(error->file == "x.supp");
  CHECK(error->line == 2);
  CHECK(error->column == 3);
  CHECK(error->message.find("unknown diagnostic code 'double-fre'") == 0);
  CHECK(s.empty());  // nothing of a bad file is kept
}

TEST_CASE("SuppressionWithUnknownOrRepeatedConditionIsAnError") {
  Suppressions s;
  auto error = s.Parse("x.supp", "leak stack=x\n");
  REQUIRE(error);
  CHECK(error->column == 6);
  error = s.Parse("x.supp", "leak src=a src=b\n");
  REQUIRE(error);
  CHECK(error->column == 12);
  CHECK(error->message == "'src' given twice");
  error = s.Parse("x.supp", "leak src=\n");
  REQUIRE(error);
  CHECK(error->message.find("expected src=GLOB") == 0);
}

TEST_CASE("BaselineWithASyntaxErrorOnItsSecondLineHasThatLineAndColumn") {
  Baseline baseline;
  const auto error = baseline.Parse("{\"version\": 1,\n  \"diagnostics\": [}\n");
  REQUIRE(error);
  CHECK(error->message.find("not JSON: parse error at line 2, column 19") == 0);
  CHECK(error->line == 2);
  CHECK(error->column == 19);
}

TEST_CASE("BaselineFileThatDoesNotExistIsAnErrorNamingIt") {
  Baseline baseline;
  const auto error = LoadBaseline("no/such/baseline.json", &baseline);
  REQUIRE(error);
  CHECK(error->file == "no/such/baseline.json");
  CHECK(error->line == 0);
  CHECK(error->message == "cannot open the baseline file");
}

TEST_CASE("SuppressionFileThatDoesNotExistIsAnErrorNamingIt") {
  Suppressions s;
  const auto error = LoadSuppressions("no/such.supp", &s);
  REQUIRE(error);
  CHECK(error->file == "no/such.supp");
  CHECK(error->message == "cannot open the suppressions file");
}

TEST_CASE("BaselineFromJsonOutputContainsItsFindings") {
  std::ostringstream json;
  render::RenderJson(render::RunReport{{render::OneInput(DoubleFree())}, {}}, json);
  Baseline baseline;
  REQUIRE_FALSE(baseline.Parse(json.str()));
  CHECK(baseline.size() == 1);
  Finding other = DoubleFree();
  other.src = "reply_drv.c:98";
  CHECK_FALSE(baseline.Absorb(other));
  CHECK(baseline.Absorb(DoubleFree()));
}

// The scenario in one file: one leak baselined in one function, a
// new one in another function of the same file.
TEST_CASE("BaselineDoesNotAbsorbAFindingInAnotherFunctionOfTheSameFile") {
  Finding old_leak = DoubleFree();
  old_leak.src = "my_drv.c:27";
  old_leak.func = "my_drv_start";
  old_leak.history[0].src = "my_drv.c:27";
  old_leak.history[0].func = "my_drv_start";
  std::ostringstream json;
  render::RenderJson(render::RunReport{{render::OneInput(old_leak)}, {}}, json);
  Baseline baseline;
  REQUIRE_FALSE(baseline.Parse(json.str()));
  Finding new_leak = old_leak;
  new_leak.src = "my_drv.c:410";
  new_leak.func = "my_drv_reply";
  new_leak.history[0].src = "my_drv.c:410";
  new_leak.history[0].func = "my_drv_reply";
  CHECK_FALSE(baseline.Absorb(new_leak));
  CHECK(baseline.Absorb(old_leak));
}

TEST_CASE("BaselineWithOneFindingAbsorbsOneOfTwoWithItsFingerprint") {
  std::ostringstream json;
  render::RenderJson(render::RunReport{{render::OneInput(DoubleFree())}, {}}, json);
  Baseline baseline;
  REQUIRE_FALSE(baseline.Parse(json.str()));
  CHECK(baseline.Absorb(DoubleFree()));
  CHECK_FALSE(baseline.Absorb(DoubleFree()));
  CHECK(baseline.size() == 0);
}

TEST_CASE("BaselineWithTwoFindingsOfOneFingerprintAbsorbsTwo") {
  std::ostringstream json;
  render::RenderJson(
      render::RunReport{{render::OneInput(DoubleFree()), render::OneInput(DoubleFree())}, {}},
      json);
  Baseline baseline;
  REQUIRE_FALSE(baseline.Parse(json.str()));
  CHECK(baseline.size() == 2);
  CHECK(baseline.Absorb(DoubleFree()));
  CHECK(baseline.Absorb(DoubleFree()));
  CHECK_FALSE(baseline.Absorb(DoubleFree()));
}

TEST_CASE("BaselineOfVersionOneFingerprintsIsRefused") {
  Baseline baseline;
  const char* v1 = "{\"version\": 1, \"diagnostics\": [{\"fingerprint\": \"a1c5b0d01154f543\"}]}";
  auto error = baseline.Parse(v1);
  REQUIRE(error);
  CHECK(error->message.find("its fingerprints are version 1, this refctrace matches version 2") ==
        0);
  // Without findings the version does not matter.
  CHECK_FALSE(baseline.Parse("{\"version\": 1, \"diagnostics\": []}"));
  CHECK(baseline.size() == 0);
}

TEST_CASE("BaselineThatIsNotARefctraceResultIsAnError") {
  Baseline baseline;
  auto error = baseline.Parse("{\"version\": 1, \"diagnostics\": [{\"code\": \"leak\"}]}");
  REQUIRE(error);
  CHECK(error->message.find("diagnostics[0] has no \"fingerprint\"") == 0);
  error = baseline.Parse("[1, 2");
  REQUIRE(error);
  CHECK(error->message.find("not JSON: parse error at line 1, column 6") == 0);
  CHECK(error->line == 1);
  CHECK(error->column == 6);
  error = baseline.Parse("{\"runs\": []}");
  REQUIRE(error);
  CHECK(error->message.find("not a refctrace result") == 0);
}

}  // namespace
}  // namespace refctrace::triage
