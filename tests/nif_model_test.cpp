// The NIF half of the model (docs/spec/nif.md) and its trace vocabulary, one behaviour per
// test, fed as NDJSON through the real reader so field decoding is covered too.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "ndjson_replay.h"

namespace refctrace::model {
namespace {

using Run = ReplayRun;

Run Replay(const std::vector<std::string>& lines) {
  return ReplayNdjson(lines);
}

std::string Codes(const Run& run) {
  return FindingCodes(run);
}

const std::string kEnter = R"({"op":"nif_enter","env":"e1","actor":"<0.90.0>","nif":"m:f/1"})";
const std::string kReturn = R"({"op":"nif_return","env":"e1"})";

TEST_CASE("NifOpsReadWithTheirFieldsAndACleanCallGivesNothing") {
  const Run run = Replay({kEnter, R"({"op":"bin_alloc","bin":"b","data":"d","size":100})",
                          R"({"op":"bin_use","bin":"b","data":"d","write":true})",
                          R"({"op":"bin_make","bin":"b","data":"d","env":"e1","copied":false})",
                          R"({"op":"bin_use","data":"d"})", kReturn});
  CHECK(run.error.empty());
  CHECK(Codes(run).empty());
  CHECK(run.stats.nif_events == 6);
  CHECK(run.stats.binaries == 1);
}

TEST_CASE("NifEventWithoutItsEnvironmentIsAnInputErrorAtItsLine") {
  const Run run = Replay({kEnter, R"({"op":"res_make","res":"r"})"});
  CHECK(run.error == "2:1: missing required field \"env\" for op \"res_make\"");
}

TEST_CASE("NifReleaseWithoutBinOrDataSaysBothFields") {
  const Run run = Replay({kEnter, R"({"op":"bin_release"})"});
  CHECK(run.error == "2:1: missing required field \"bin\" or \"data\" for op \"bin_release\"");
}

TEST_CASE("UnknownEnvKindIsAnInputErrorAtItsValue") {
  const Run run = Replay({R"({"op":"nif_enter","env":"e1","env_kind":"dirty"})"});
  CHECK(run.error == "1:41: field \"env_kind\" must be \"call\" or \"callback\", got \"dirty\"");
}

TEST_CASE("WrongTypeOfDataIsAnInputErrorAtItsValue") {
  const Run run = Replay({kEnter, R"({"op":"bin_use","data":true})"});
  CHECK(run.error == "2:24: field \"data\" must be a string or a non-negative integer, got true");
}

TEST_CASE("ReleaseThroughACopyOfAMadeStructIsOneDoubleFreeAndNothingLeaks") {
  const Run run = Replay({kEnter, R"({"op":"bin_alloc","bin":"b","data":"d"})",
                          R"({"op":"bin_make","bin":"b","data":"d","env":"e1"})",
                          R"({"op":"bin_release","bin":"b","data":"d"})",
                          R"({"op":"bin_release","bin":"b","data":"d"})", kReturn});
  CHECK(Codes(run) == "double-free@3 binary b; double-free@4 binary b; ");
}

TEST_CASE("AnEnvironmentNeverClearedGivesOneEnvReusedPerSend") {
  std::vector<std::string> lines = {kEnter, R"({"op":"env_alloc","env":"m"})"};
  for (int i = 0; i < 3; ++i) {
    lines.push_back(R"({"op":"make_copy","env":"m"})");
    lines.push_back(R"({"op":"make_copy","env":"m"})");
    lines.push_back(R"({"op":"env_send","env":"m","to":"<0.91.0>"})");
  }
  lines.push_back(R"({"op":"env_free","env":"m"})");
  lines.push_back(kReturn);
  const Run run = Replay(lines);
  // The first round is clean; each later round's first term is one missing clear.
  CHECK(Codes(run) == "env-reused@5 environment m; env-reused@8 environment m; ");
}

TEST_CASE("AFailedSendLeavesTheEnvironmentUsable") {
  const Run run =
      Replay({kEnter, R"({"op":"env_alloc","env":"m"})",
              R"({"op":"env_send","env":"m","to":"<0.91.0>","failed":true})",
              R"({"op":"make_copy","env":"m"})", R"({"op":"env_free","env":"m"})", kReturn});
  CHECK(Codes(run).empty());
}

TEST_CASE("BytesInspectedInTwoEnvironmentsLiveUntilTheLastEndsThem") {
  const Run run = Replay(
      {kEnter, R"({"op":"env_alloc","env":"m"})", R"({"op":"bin_inspect","data":"d","env":"e1"})",
       R"({"op":"bin_inspect","data":"d","env":"m"})", kReturn, R"({"op":"bin_use","data":"d"})",
       R"({"op":"env_free","env":"m"})", R"({"op":"bin_use","data":"d"})"});
  CHECK(Codes(run) == "borrow-expired@7 view d; ");
}

// enif_inspect_iovec with an environment: one bin_inspect per element (decision 210): a
// large binary's own bytes (d1) and the small ones copied into a buffer of the
// environment (d2, d3), all borrowed until the environment ends its terms.
TEST_CASE("IovecElementsAreViewsThatEndWithTheirCall") {
  const Run run = Replay({kEnter, R"({"op":"bin_inspect","data":"d1","env":"e1","size":200})",
                          R"({"op":"bin_inspect","data":"d2","env":"e1","size":2})",
                          R"({"op":"bin_inspect","data":"d3","env":"e1","size":2})",
                          R"({"op":"bin_use","data":"d1"})", R"({"op":"bin_use","data":"d3"})",
                          kReturn, R"({"op":"nif_enter","env":"e2"})",
                          R"({"op":"bin_use","data":"d2"})", R"({"op":"nif_return","env":"e2"})"});
  CHECK(Codes(run) == "borrow-expired@8 view d2; ");
}

TEST_CASE("IovecElementsOfAnIndependentEnvironmentLiveUntilItIsCleared") {
  const Run run = Replay(
      {kEnter, R"({"op":"env_alloc","env":"m"})", R"({"op":"bin_inspect","data":"d1","env":"m"})",
       R"({"op":"bin_inspect","data":"d2","env":"m"})", kReturn, R"({"op":"nif_enter","env":"e2"})",
       R"({"op":"bin_use","data":"d1"})", R"({"op":"bin_use","data":"d2"})",
       R"({"op":"env_clear","env":"m"})", R"({"op":"bin_use","data":"d1"})",
       R"({"op":"env_free","env":"m"})", R"({"op":"nif_return","env":"e2"})"});
  CHECK(Codes(run) == "borrow-expired@9 view d1; ");
}

TEST_CASE("OneBinaryTwiceInAnIovecIsOneViewAndOneFinding") {
  // [B, B]: two elements with the same bytes, read after the call.
  const Run run = Replay({kEnter, R"({"op":"bin_inspect","data":"d","env":"e1"})",
                          R"({"op":"bin_inspect","data":"d","env":"e1"})", kReturn,
                          R"({"op":"bin_use","data":"d"})"});
  CHECK(Codes(run) == "borrow-expired@4 view d; ");
  CHECK(run.error.empty());
}

// Decision 214: a realloc that moves onto the address of a made binary (the emulator
// freed it) ends that binary's process side there, so a later enif_alloc_binary at the
// address judges the NIF's binary that moved in: abandoned, alloc-live.
TEST_CASE("ReallocMovedOntoAMadeBinarysAddressEndsItsProcessSide") {
  const Run run = Replay({kEnter, R"({"op":"bin_alloc","bin":"b3","data":"d1"})",
                          R"({"op":"bin_make","bin":"b3","data":"d1","env":"e1"})", kReturn,
                          R"({"op":"nif_enter","env":"e2","actor":"<0.90.0>"})",
                          R"({"op":"bin_alloc","bin":"b1","data":"d2"})",
                          R"({"op":"bin_realloc","bin":"b1","new_bin":"b3","data":"d3"})",
                          R"({"op":"bin_alloc","bin":"b3","data":"d4"})",
                          R"({"op":"bin_release","bin":"b3","data":"d4"})",
                          R"({"op":"nif_return","env":"e2"})"});
  CHECK(Codes(run) == "alloc-live@7 binary b3; ");
}

TEST_CASE("MakeResourceAfterTheNifCountReachedZeroIsLegalWhileATermHoldsIt") {
  // enif_get_resource on an argument then enif_make_resource: the term keeps it alive.
  const Run run = Replay(
      {kEnter, R"({"op":"res_alloc","res":"r"})", R"({"op":"res_make","res":"r","env":"e1"})",
       R"({"op":"res_release","res":"r"})", kReturn, R"({"op":"nif_enter","env":"e2"})",
       R"({"op":"res_make","res":"r","env":"e2"})", R"({"op":"res_keep","res":"r"})",
       R"({"op":"res_release","res":"r"})", R"({"op":"nif_return","env":"e2"})",
       R"({"op":"res_dtor","res":"r"})", R"({"op":"res_use","res":"r"})"});
  CHECK(Codes(run) == "use-after-free@11 resource r; ");
}

TEST_CASE("ProcessEventsOnABinaryTheNifMadeAreNotUnknown") {
  const Run run = Replay({kEnter, R"({"op":"bin_alloc","bin":"b","data":"d"})",
                          R"({"op":"bin_make","bin":"b","data":"d","env":"e1"})", kReturn,
                          R"({"op":"receive","bin":"b","actor":"<0.91.0>"})",
                          R"({"op":"gc","bin":"b","actor":"<0.91.0>"})"});
  CHECK(Codes(run).empty());
  CHECK(run.stats.process_events == 2);
}

// Model 1.4: a made binary's term references are counted on the process side.

const std::string kMakeInCall = R"({"op":"bin_alloc","bin":"b","data":"d","size":200})"
                                "\n"
                                R"({"op":"bin_make","bin":"b","data":"d","env":"e1","size":200})";

TEST_CASE("AMadeBinaryIsHeldByTheCallingProcessAndItsCountsAreCompared") {
  const Run run = Replay({kEnter, kMakeInCall, kReturn,
                          R"({"op":"send","bin":"b","actor":"<0.90.0>","to":"<0.91.0>"})",
                          R"({"op":"receive","bin":"b","actor":"<0.91.0>"})",
                          R"({"op":"gc","bin":"b","actor":"<0.90.0>","refc":1})",
                          R"({"op":"exit","actor":"<0.91.0>"})"});
  CHECK(Codes(run).empty());
  CHECK(run.stats.live == 0);
  CHECK(run.stats.binaries == 1);
}

TEST_CASE("AMadeBinarysCountThatDisagreesIsARefcMismatch") {
  // The calling process holds the term: its own gc leaves 0, not 1.
  const Run run = Replay(
      {kEnter, kMakeInCall, kReturn, R"({"op":"gc","bin":"b","actor":"<0.90.0>","refc":1})"});
  CHECK(Codes(run) == "refc-mismatch@4 binary b; ");
}

TEST_CASE("AGcOfAMadeBinaryAfterItsLastReferenceIsADoubleFree") {
  const Run run =
      Replay({kEnter, kMakeInCall, kReturn, R"({"op":"gc","bin":"b","actor":"<0.90.0>"})",
              R"({"op":"gc","bin":"b","actor":"<0.90.0>"})"});
  CHECK(Codes(run) == "double-free@5 binary b; ");
}

TEST_CASE("AMadeBinarySentFromAMessageEnvironmentIsTheReceiversAfterItsReceive") {
  const Run run =
      Replay({kEnter, R"({"op":"env_alloc","env":"m"})",
              R"({"op":"bin_alloc","bin":"b","data":"d","size":700})",
              R"({"op":"bin_make","bin":"b","data":"d","env":"m","size":700})",
              R"({"op":"env_send","env":"m","to":"<0.90.0>"})", R"({"op":"env_free","env":"m"})",
              kReturn, R"({"op":"receive","bin":"b","actor":"<0.90.0>"})",
              R"({"op":"send","bin":"b","actor":"<0.90.0>","to":"<0.91.0>"})",
              R"({"op":"receive","bin":"b","actor":"<0.91.0>"})",
              R"({"op":"gc","bin":"b","actor":"<0.90.0>","refc":1})",
              R"({"op":"gc","bin":"b","actor":"<0.91.0>"})"});
  CHECK(Codes(run).empty());
  CHECK(run.stats.live == 0);
}

TEST_CASE("AMadeBinaryInAnEnvironmentFreedUnsentIsReleasedWithIt") {
  const Run run = Replay({kEnter, R"({"op":"env_alloc","env":"m"})",
                          R"({"op":"bin_alloc","bin":"b","data":"d","size":700})",
                          R"({"op":"bin_make","bin":"b","data":"d","env":"m","size":700})",
                          R"({"op":"env_free","env":"m"})", kReturn,
                          R"({"op":"gc","bin":"b","actor":"<0.90.0>"})"});
  CHECK(Codes(run) == "double-free@6 binary b; ");
}

TEST_CASE("ACopyOfAMadeBinaryIntoAMessageEnvironmentIsOneMoreReference") {
  // The process passes the binary back to a NIF, which copies it into a message environment
  // and sends it: the receiver holds a second reference.
  const Run run =
      Replay({kEnter, kMakeInCall, kReturn, kEnter, R"({"op":"env_alloc","env":"m"})",
              R"({"op":"make_copy","env":"m","bin":"b"})",
              R"({"op":"env_send","env":"m","to":"<0.91.0>"})", R"({"op":"env_free","env":"m"})",
              kReturn, R"({"op":"receive","bin":"b","actor":"<0.91.0>"})",
              R"({"op":"gc","bin":"b","actor":"<0.90.0>","refc":1})",
              R"({"op":"gc","bin":"b","actor":"<0.91.0>"})"});
  CHECK(Codes(run).empty());
  CHECK(run.stats.live == 0);
}

TEST_CASE("AnAllocationWhereTermsStillHoldABinaryEndsItWithoutAFinding") {
  // The emulator freed it: its process released it in a collection the tracer writes later.
  const Run run = Replay({kEnter, kMakeInCall, kReturn, kEnter,
                          R"({"op":"bin_alloc","bin":"b","data":"d","size":100})",
                          R"({"op":"bin_release","bin":"b"})", kReturn});
  CHECK(Codes(run).empty());
  CHECK(run.stats.live == 0);
}

TEST_CASE("AGcOfAMadeBinaryAfterItsAddressCameBackIsADoubleFree") {
  const Run run = Replay({kEnter, kMakeInCall, kReturn, kEnter,
                          R"({"op":"bin_alloc","bin":"b","data":"d","size":100})",
                          R"({"op":"bin_release","bin":"b"})", kReturn,
                          R"({"op":"gc","bin":"b","actor":"<0.90.0>"})"});
  CHECK(Codes(run) == "double-free@8 binary b; ");
}

TEST_CASE("ATermInACallThatReturnedIsUseAfterFreeOfItsEnvironment") {
  const Run run =
      Replay({kEnter, kReturn, R"({"op":"res_alloc","res":"r"})",
              R"({"op":"res_make","res":"r","env":"e1"})", R"({"op":"res_release","res":"r"})"});
  CHECK(Codes(run) == "use-after-free@3 environment e1; ");
}

TEST_CASE("ReallocMovesTheBinaryAndItsOldIdIsGone") {
  const Run run =
      Replay({kEnter, R"({"op":"bin_alloc","bin":"a","data":"da","size":8})",
              R"({"op":"bin_realloc","bin":"a","new_bin":"b","data":"db","size":64})",
              R"({"op":"bin_release","bin":"a"})", R"({"op":"bin_release","bin":"b"})", kReturn});
  CHECK(Codes(run) == "double-free@3 binary a; ");
}

TEST_CASE("AnUnexpectedDestructorIsOneFindingAndTheNifsLaterReleasesOfItsCountAreNotMore") {
  const Run run =
      Replay({kEnter, R"({"op":"res_alloc","res":"r","rtype":"t","size":8})",
              R"({"op":"res_keep","res":"r"})", R"({"op":"res_make","res":"r","env":"e1"})",
              kReturn, R"({"op":"nif_enter","env":"k","env_kind":"callback","nif":"dtor"})",
              R"({"op":"res_dtor","res":"r"})", R"({"op":"nif_return","env":"k"})", kEnter,
              R"({"op":"res_release","res":"r"})", R"({"op":"res_release","res":"r"})",
              R"({"op":"res_release","res":"r"})", kReturn});
  // The two references the NIF counted are written off at the destructor;
  // a third release is a release of nothing.
  CHECK(Codes(run) == "refc-mismatch@6 resource r; double-free@11 resource r; ");
}

// --- What the library still references at exit (trace format 1.6) ---

const std::string kKept[] = {
    R"({"op":"env_alloc","env":"E"})",
    R"({"op":"res_alloc","res":"r","size":64})",
    R"({"op":"bin_alloc","bin":"b","data":"d","size":100})",
};

TEST_CASE("ObjectsTheLibraryKeepsAreLeaksWithoutHeld") {
  const Run run = Replay({kKept[0], kKept[1], kKept[2]});
  CHECK(Codes(run) == "leak@0 environment E; leak@1 resource r; leak@2 binary b; ");
  CHECK(run.stats.held_by_nif == 0);
}

TEST_CASE("HeldObjectsAreNotLeaksAndAreCounted") {
  const Run run = Replay(
      {kKept[0], kKept[1], kKept[2], R"({"op":"held","env":"E","in":"priv_data"})",
       R"({"op":"held","res":"r","in":"priv_data"})", R"({"op":"held","bin":"b","in":"static"})"});
  CHECK(run.error.empty());
  CHECK(Codes(run).empty());
  CHECK(run.stats.held_by_nif == 3);
  CHECK(run.stats.leaked_bytes == 0);
}

TEST_CASE("AnObjectTheLibraryLostIsStillALeakBesideHeldOnes") {
  const Run run =
      Replay({kKept[0], kKept[1], kKept[2], R"({"op":"held","env":"E","in":"priv_data"})",
              R"({"op":"held","bin":"b","in":"static"})"});
  CHECK(Codes(run) == "leak@1 resource r; ");
  CHECK(run.stats.held_by_nif == 2);
  CHECK(run.stats.leaked_bytes == 64);
}

TEST_CASE("HeldOfAGoneObjectChangesNothingAndItsNewIncarnationStillLeaks") {
  // The scan matched a stale value: the old resource is gone; a later one at the same
  // address is not excused by a held that came before it.
  const Run run = Replay({kKept[1], R"({"op":"res_release","res":"r"})",
                          R"({"op":"held","res":"r","in":"static"})", kKept[1]});
  CHECK(Codes(run) == "leak@3 resource r; ");
  CHECK(run.stats.held_by_nif == 0);
}

TEST_CASE("HeldOfAnIdNeverSeenIsNotAnUnknownBinary") {
  const Run run = Replay({R"({"op":"held","bin":"b","in":"static"})"});
  CHECK(run.error.empty());
  CHECK(Codes(run).empty());
  CHECK(run.stats.held_by_nif == 0);
}

TEST_CASE("HeldWithoutItsObjectSaysTheThreeFields") {
  const Run run = Replay({R"({"op":"held","in":"static"})"});
  CHECK(run.error == "1:1: missing required field \"bin\", \"res\" or \"env\" for op \"held\"");
}

TEST_CASE("HeldWithoutInIsAnInputError") {
  const Run run = Replay({R"({"op":"held","res":"r"})"});
  CHECK(run.error == "1:1: missing required field \"in\" for op \"held\"");
}

TEST_CASE("HeldNamingTwoObjectsIsAnInputError") {
  const Run run = Replay({R"({"op":"held","res":"r","env":"E","in":"static"})"});
  CHECK(run.error == "1:1: op \"held\" names one object: \"bin\", \"res\" or \"env\", not two");
}

}  // namespace
}  // namespace refctrace::model
