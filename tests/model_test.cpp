// Model rules of model-v1, one behaviour per test, fed from a compact
// one-event-per-string notation: "op [bin] [key=value]...". A bin starting
// with '#' is an integer id.
#include "model/model.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "model/collecting_sink.h"
#include "model/id_index.h"

namespace refctrace::model {
namespace {

using trace::BinId;
using trace::Event;
using trace::Op;

BinId ParseBin(const std::string& token) {
  if (!token.empty() && token[0] == '#') return BinId::Int(std::stoull(token.substr(1)));
  return BinId::Str(token);
}

Event ParseEvent(const std::string& text, uint64_t index) {
  std::istringstream in(text);
  std::string op_name;
  in >> op_name;
  Event e;
  e.op = *trace::OpFromName(op_name);
  e.pos.index = index;
  e.pos.line = index + 1;
  std::string token;
  while (in >> token) {
    const auto eq = token.find('=');
    if (eq == std::string::npos) {
      e.bin = ParseBin(token);
      continue;
    }
    const std::string key = token.substr(0, eq);
    const std::string value = token.substr(eq + 1);
    if (key == "to") e.to = value;
    if (key == "actor") e.actor = value;
    if (key == "refc") e.refc = std::stoll(value);
    if (key == "count") e.count = std::stoull(value);
    if (key == "size") e.size = std::stoull(value);
    if (key == "new") e.new_bin = ParseBin(value);
    if (key == "copied") e.copied = value == "true";
    if (key == "src") e.src = value;
    if (key == "port") e.port = value;
    if (key == "from") e.from = value;
    if (key == "gathered") e.gathered = value == "true";
    if (key == "task") e.task = std::stoull(value);
    if (key == "copy") e.copy = value == "true";
    if (key == "among") {  // among=a,b,c
      std::istringstream ids(value);
      std::string id;
      while (std::getline(ids, id, ','))
        e.among.push_back(ParseBin(id));
    }
  }
  return e;
}

struct Run {
  std::vector<Finding> findings;
  ModelStats stats;

  // Codes with their anchor events, "code@event ..." in report order.
  std::string Codes() const {
    std::string out;
    for (const Finding& f : findings) {
      if (!out.empty()) out += ' ';
      out += std::string(CodeName(f.code)) + "@" + std::to_string(f.event);
    }
    return out;
  }
};

// Replays `events`, checking the invariants after every one; `finish` runs
// the end-of-input pass.
Run Replay(const std::vector<std::string>& events, ModelOptions options = {}, bool finish = true) {
  CollectingSink sink;
  Model model(&sink, options);
  for (size_t i = 0; i < events.size(); ++i) {
    model.Apply(ParseEvent(events[i], i));
    const auto broken = model.CheckInvariants();
    INFO("after event ", i, ": ", events[i]);
    REQUIRE_FALSE(broken.has_value());
  }
  if (finish) model.Finish();
  REQUIRE_FALSE(model.CheckInvariants().has_value());
  return Run{sink.TakeSorted(), model.Stats()};
}

TEST_CASE("SecondFreeAfterOutputIsOneDoubleFreeAndLaterReleasesAreLegal") {
  const Run run =
      Replay({"alloc a", "output a to=P", "free a", "free a", "receive a actor=P", "gc a actor=P"});
  CHECK(run.Codes() == "double-free@3");
  const Finding& f = run.findings[0];
  CHECK(f.message ==
        "driver released a reference it does not hold (driver holds 0; P holds 1 (unreceived))");
  REQUIRE(f.history.size() == 4);
  CHECK(f.history[0].refc == 1);
  CHECK(f.history[1].refc == 2);
  CHECK(f.history[2].refc == 1);
  CHECK(f.history[3].refc == 0);  // the emulator decrements anyway
  CHECK(run.stats.live == 0);
}

TEST_CASE("WriteAfterOutputThenEndIsMutateAndLeak") {
  const Run run = Replay({"alloc a", "output a to=P", "write a"});
  CHECK(run.Codes() == "leak@0 mutate-after-output@2");
  CHECK(run.stats.held_by_processes == 1);
}

TEST_CASE("OutputWithoutFreeLeaksButTheProcessReferenceDoesNot") {
  const Run run = Replay({"alloc a size=4096", "output a to=P"});
  CHECK(run.Codes() == "leak@0");
  CHECK(run.stats.leaked_bytes == 4096);
  CHECK(run.stats.held_by_processes == 1);
  CHECK(run.findings[0].history.back().op == Op::kEnd);
}

TEST_CASE("EveryExtraFreeIsItsOwnDoubleFree") {
  const Run run = Replay({"alloc a", "free a", "free a", "free a"});
  CHECK(run.Codes() == "double-free@2 double-free@3");
  // Evidence from quarantine: allocated, freed, freed again.
  CHECK(run.findings[0].history.size() == 3);
  CHECK(run.findings[0].history[1].event == 1);
}

TEST_CASE("CleanOutputCycleHasNoFinding") {
  const Run run = Replay({"alloc a size=100 refc=1", "output a to=P refc=2", "free a refc=1",
                          "receive a actor=P refc=1", "gc a actor=P refc=0"});
  CHECK(run.findings.empty());
  CHECK(run.stats.binaries == 1);
  CHECK(run.stats.live == 0);
}

TEST_CASE("OutputToAnUnknownReceiverIsTheMessageItsFirstReceiverTakes") {
  // erl_drv_send_term from a driver thread: no send trace, so `to` is "unknown"; the
  // receive that follows is that message's (decision 72), not a second reference.
  const Run run = Replay({"alloc a size=500 refc=1", "output a to=unknown refc=2", "free a refc=1",
                          "receive a actor=P refc=1", "gc a actor=P refc=0"});
  CHECK(run.findings.empty());
  CHECK(run.stats.live == 0);
}

TEST_CASE("AProcessTakesItsOwnMessageBeforeAnUnknownReceiversOne") {
  const Run run =
      Replay({"alloc a size=500 refc=1", "output a to=P refc=2", "output a to=unknown refc=3",
              "free a refc=2", "receive a actor=P refc=2", "receive a actor=Q refc=2",
              "gc a actor=P refc=1", "gc a actor=Q refc=0"});
  CHECK(run.findings.empty());
  CHECK(run.stats.live == 0);
}

TEST_CASE("AReceiveWithNoMessageLeftStillCountsAnUntracedSend") {
  const Run run = Replay({"alloc a size=500 refc=1", "output a to=unknown refc=2",
                          "receive a actor=P refc=2", "receive a actor=Q refc=3", "free a refc=2",
                          "gc a actor=P refc=1", "gc a actor=Q refc=0"});
  CHECK(run.findings.empty());
  CHECK(run.stats.live == 0);
}

TEST_CASE("AnUnknownReceiversMessageDroppedByAnExitLowersTheCountWithoutAFinding") {
  // P never takes the thread's message: it exits, the emulator drops the message and its
  // reference, and the driver's free then frees the binary (decision 163).
  const Run run = Replay(
      {"alloc a size=500 refc=1", "output a to=unknown refc=2", "exit actor=P", "free a refc=0"});
  CHECK(run.findings.empty());
  CHECK(run.stats.live == 0);
}

TEST_CASE("AnUnknownReceiversMessageDroppedByAnExitLetsTheAddressComeBack") {
  // Without a later count: the address coming back is the emulator's word that it freed it.
  const Run run = Replay({"alloc a size=500 refc=1", "output a to=unknown refc=2", "free a refc=1",
                          "exit actor=P", "alloc a size=64 refc=1", "free a"});
  CHECK(run.findings.empty());
  CHECK(run.stats.binaries == 2);
  CHECK(run.stats.live == 0);
}

TEST_CASE("ALowerCountWithAnUnknownMessageButNoExitIsStillAMismatch") {
  // No process exited since the message was sent: nothing can have dropped it.
  const Run run =
      Replay({"alloc a size=500 refc=1", "output a to=unknown refc=2", "free a refc=0"});
  CHECK(run.Codes() == "refc-mismatch@2");
}

TEST_CASE("AnAddressComingBackWithAnUnknownMessageButNoExitIsStillAllocLive") {
  const Run run = Replay({"alloc a size=500 refc=1", "output a to=unknown refc=2", "free a refc=1",
                          "alloc a size=64 refc=1", "free a"});
  CHECK(run.Codes() == "alloc-live@3");
}

TEST_CASE("AnExitBeforeTheUnknownMessageWasSentCannotHaveDroppedIt") {
  const Run run = Replay(
      {"exit actor=P", "alloc a size=500 refc=1", "output a to=unknown refc=2", "free a refc=0"});
  CHECK(run.Codes() == "refc-mismatch@3");
}

TEST_CASE("AnExitDropsNoMoreUnknownMessagesThanTheCountSays") {
  // Two unknown messages, one exit, and a count one lower: one was dropped, one is pending
  // and its receiver takes it later.
  const Run run =
      Replay({"alloc a size=500 refc=1", "output a to=unknown refc=2", "output a to=unknown refc=3",
              "exit actor=P", "free a refc=1", "receive a actor=Q refc=1", "gc a actor=Q refc=0"});
  CHECK(run.findings.empty());
  CHECK(run.stats.live == 0);
}

TEST_CASE("InetDrvReuseObservesOneThenWritesAndOutputsAgain") {
  const Run run = Replay({"alloc a", "write a", "output a to=P", "receive a actor=P",
                          "gc a actor=P", "observe a refc=1", "write a", "output a to=P", "free a",
                          "receive a actor=P", "gc a actor=P"});
  CHECK(run.findings.empty());
}

TEST_CASE("WriteWhileProcessStillHoldsIsMutateAfterOutput") {
  const Run run = Replay(
      {"alloc a", "output a to=P", "receive a actor=P", "write a", "free a", "gc a actor=P"});
  CHECK(run.Codes() == "mutate-after-output@3");
}

TEST_CASE("OutputvBorrowIncEnqIsClean") {
  const Run run = Replay(
      {"borrow a refc=1", "inc a", "enq a", "unborrow a", "deq a", "free a", "gc a actor=Sender"});
  CHECK(run.findings.empty());
  CHECK(run.stats.live == 0);
}

TEST_CASE("FreeOfBorrowedBinaryWithoutIncIsDoubleFree") {
  const Run run = Replay({"borrow a", "free a", "unborrow a"});
  CHECK(run.Codes() == "double-free@1");
}

TEST_CASE("WriteToBorrowedBinaryIsMutateAfterOutput") {
  const Run run = Replay({"borrow a", "write a", "unborrow a"});
  CHECK(run.Codes() == "mutate-after-output@1");
}

TEST_CASE("KeepingABorrowedBinaryWithoutIncIsUseAfterFreeLater") {
  // After unborrow the driver has no access: a later output uses it unowned.
  const Run run = Replay({"borrow a", "unborrow a", "output a to=P"});
  CHECK(run.Codes() == "use-after-free@2");
}

TEST_CASE("AddressReuseStartsANewIncarnation") {
  const Run run = Replay({"alloc a", "free a", "alloc a", "free a", "free a"});
  CHECK(run.Codes() == "double-free@4");
  CHECK(run.findings[0].incarnation == 2);
  CHECK(run.stats.binaries == 2);
}

TEST_CASE("IntegerAndStringIdsAreDifferent") {
  const Run run = Replay({"alloc #1", "alloc 1", "free #1", "free 1"});
  CHECK(run.findings.empty());
}

TEST_CASE("ReallocThatMovesContinuesUnderTheNewIdAndFreesTheOld") {
  const Run run = Replay({"alloc a size=10", "realloc a new=b size=20", "free b", "free a"});
  CHECK(run.Codes() == "double-free@3");
  CHECK(run.stats.binaries == 1);
}

TEST_CASE("ReallocMovedLeakIsReportedUnderTheCurrentId") {
  const Run run = Replay({"alloc a size=10", "realloc a new=b size=20"});
  REQUIRE(run.Codes() == "leak@0");
  CHECK(run.findings[0].bin == BinId::Str("b"));
  CHECK(run.stats.leaked_bytes == 20);
}

TEST_CASE("ReallocOntoALiveIdIsAllocLiveForThatId") {
  const Run run = Replay({"alloc a", "alloc b", "realloc a new=b", "free b"});
  REQUIRE(run.Codes() == "alloc-live@2");
  CHECK(run.findings[0].bin == BinId::Str("b"));
}

TEST_CASE("ReallocOfSharedBinaryIsReallocShared") {
  const Run run = Replay({"alloc a", "output a to=P", "realloc a size=9", "free a"});
  CHECK(run.Codes() == "realloc-shared@2");
}

TEST_CASE("AllocOfLiveIdAbandonsTheOldSilently") {
  const Run run = Replay({"alloc a", "alloc a", "free a"});
  CHECK(run.Codes() == "alloc-live@1");
  CHECK(run.stats.binaries == 2);
}

TEST_CASE("DecToZeroIsReportedOnceAndNotAsLeak") {
  const Run run = Replay({"alloc a", "inc a", "dec a", "dec a"});
  CHECK(run.Codes() == "dec-to-zero@3");
  CHECK(run.stats.live == 0);
}

TEST_CASE("DecWithoutDriverReferenceIsDoubleFree") {
  const Run run =
      Replay({"alloc a", "output a to=P", "free a", "dec a", "receive a actor=P", "gc a actor=P"});
  CHECK(run.Codes() == "double-free@3");
}

TEST_CASE("DeqOfEmptyQueueIsDoubleFree") {
  const Run run = Replay({"alloc a", "enq a", "deq a", "deq a", "free a"});
  CHECK(run.Codes() == "double-free@3");
}

TEST_CASE("GcOfAReferenceTheProcessNeverHadIsDoubleFree") {
  const Run run = Replay(
      {"alloc a", "output a to=P", "receive a actor=P", "gc a actor=Q", "free a", "gc a actor=P"});
  CHECK(run.Codes() == "double-free@3");
}

TEST_CASE("GcWithCountReleasesSeveralReferences") {
  const Run run = Replay({"alloc a", "output a to=P", "output a to=P", "free a",
                          "receive a actor=P", "receive a actor=P", "gc a actor=P count=2"});
  CHECK(run.findings.empty());
  CHECK(run.stats.live == 0);
}

TEST_CASE("GcFallsBackToTheEmulatorsUnattributedReferences") {
  const Run run =
      Replay({"borrow a refc=2", "inc a", "unborrow a", "gc a actor=S count=2", "free a"});
  CHECK(run.findings.empty());
}

TEST_CASE("UseOfFreedIdIsUseAfterFree") {
  const Run run = Replay({"alloc a", "free a", "write a", "read a", "output a to=P"});
  CHECK(run.Codes() == "use-after-free@2 use-after-free@3 use-after-free@4");
}

TEST_CASE("UseAfterFreeOfAProcessFreedBinaryKeepsTheDriversFreeInItsHistory") {
  // The driver frees its reference early; the process's gc frees the binary; the driver then
  // reads it. Its own free (event 3) is what explains the finding, and it stays.
  const Run run = Replay({"alloc a", "write a", "output a to=P", "free a", "receive a actor=P",
                          "gc a actor=P", "read a"});
  REQUIRE(run.Codes() == "use-after-free@6");
  const Finding& f = run.findings[0];
  REQUIRE(f.history.size() == 4);
  CHECK(f.history[0].op == Op::kAlloc);
  CHECK(f.history[1].op == Op::kFree);
  CHECK(f.history[1].event == 3);
  CHECK(f.history[1].omitted_before == 2);  // write, output
  CHECK(f.history[2].op == Op::kGc);        // the event that ended its life
  CHECK(f.history[2].omitted_before == 1);  // receive
  CHECK(f.history[3].event == 6);
  CHECK(f.history[3].omitted_before == 0);
}

TEST_CASE("ReleaseOnFreedIdIsDoubleFreeForEveryReleaseKind") {
  const Run run = Replay({"alloc a", "free a", "dec a", "gc a actor=P", "deq a"});
  CHECK(run.Codes() == "double-free@2 double-free@3 double-free@4");
}

TEST_CASE("IncWithoutAccessIsUseAfterFree") {
  // The inc still takes its reference (model 1.1), and nothing releases it: a leak too.
  const Run run =
      Replay({"alloc a", "output a to=P", "free a", "inc a", "receive a actor=P", "gc a actor=P"});
  CHECK(run.Codes() == "leak@0 use-after-free@3");
}

TEST_CASE("ProcessExitReleasesHeapAndPendingMessageReferences") {
  const Run run = Replay({"alloc a", "output a to=P", "output a to=P", "receive a actor=P",
                          "free a", "exit actor=P", "observe a refc=1"});
  // The exit freed the binary, so the observe is a use after free.
  CHECK(run.Codes() == "use-after-free@6");
}

TEST_CASE("OutputToAnExitedProcessCreatesNoReference") {
  const Run run = Replay({"exit actor=P", "alloc a", "output a to=P refc=1", "free a"});
  CHECK(run.findings.empty());
  CHECK(run.stats.live == 0);
}

TEST_CASE("CopiedOutputCreatesNoReference") {
  const Run run =
      Replay({"alloc a size=10", "output a to=P copied=true refc=1", "write a", "free a"});
  CHECK(run.findings.empty());
}

TEST_CASE("ForwardingWithSendAddsAReferenceForTheReceiver") {
  const Run run = Replay({"alloc a", "output a to=P", "free a", "receive a actor=P",
                          "send a actor=P to=Q refc=2", "receive a actor=Q", "gc a actor=P",
                          "gc a actor=Q refc=0"});
  CHECK(run.findings.empty());
  CHECK(run.stats.live == 0);
}

TEST_CASE("SendWithoutTracedReceiveTakesThePendingMessage") {
  const Run run = Replay({"alloc a", "output a to=P", "free a", "send a actor=P to=Q refc=2",
                          "gc a actor=P", "receive a actor=Q", "gc a actor=Q"});
  CHECK(run.findings.empty());
}

TEST_CASE("ObserveThatDisagreesIsRefcMismatchOnce") {
  const Run run = Replay({"alloc a", "output a to=P", "observe a refc=1", "observe a refc=1",
                          "free a", "receive a actor=P", "gc a actor=P"});
  CHECK(run.Codes() == "refc-mismatch@2");
}

TEST_CASE("RefcFieldIsNotCheckedOnAnEventThatRaisedARule") {
  const Run run = Replay({"alloc a", "free a refc=0", "free a refc=5"});
  CHECK(run.Codes() == "double-free@2");
}

TEST_CASE("UnknownBinaryIsAdoptedAndNeverLeaks") {
  const Run run = Replay({"output x to=P", "write y"});
  CHECK(run.Codes() == "unknown-binary@0 unknown-binary@1");
  CHECK(run.findings[0].severity == Severity::kWarning);
}

TEST_CASE("UnknownBinaryRefcFieldAddsEmulatorReferences") {
  // Adopted with driver=1; the emulator says 3, so 2 more are unattributed.
  const Run run = Replay({"inc x refc=3", "free x", "free x", "gc x actor=P"});
  CHECK(run.Codes() == "unknown-binary@0");
  CHECK(run.stats.live == 0);
}

TEST_CASE("UnknownGcAndDeqAdoptJustTheReleasedReference") {
  const Run run = Replay({"gc x actor=P", "deq y", "receive z actor=P", "gc z actor=P"});
  CHECK(run.Codes() == "unknown-binary@0 unknown-binary@1 unknown-binary@2");
  CHECK(run.stats.live == 0);
}

TEST_CASE("StopClearsTheQueueAndReportsDriverLeaks") {
  const Run run = Replay({"alloc a", "enq a", "free a", "alloc b", "output b to=P", "stop",
                          "receive b actor=P", "gc b actor=P"});
  CHECK(run.Codes() == "leak@3");
  CHECK(run.stats.live == 0);
}

TEST_CASE("EndAfterStopDoesNotReportTwice") {
  const Run run = Replay({"alloc a", "stop", "end"});
  CHECK(run.Codes() == "leak@0");
}

TEST_CASE("EndWithoutStopRunsTheLeakPass") {
  const Run run = Replay({"alloc a", "end"}, {}, /*finish=*/false);
  CHECK(run.Codes() == "leak@0");
}

TEST_CASE("InputCutShortSkipsTheLeakPass") {
  const Run run = Replay({"alloc a"}, {}, /*finish=*/false);
  CHECK(run.findings.empty());
}

TEST_CASE("QuarantineForgetsTheOldestFreedIds") {
  ModelOptions options;
  options.quarantine_capacity = 1;
  const Run run = Replay({"alloc a", "free a", "alloc b", "free b", "free b", "free a"}, options);
  // b is still remembered; a left the quarantine and counts as never seen.
  CHECK(run.Codes() == "double-free@4 unknown-binary@5");
}

TEST_CASE("LongHistoryKeepsFirstAndLastEvents") {
  std::vector<std::string> events = {"alloc a"};
  for (int i = 0; i < 500; ++i) {
    events.push_back("inc a");
    events.push_back("free a");
  }
  const Run run = Replay(events);
  REQUIRE(run.Codes() == "leak@0");
  const Finding& f = run.findings[0];
  CHECK(f.history.size() == History::kDefaultHead + History::kDefaultTail);
  CHECK(f.history[History::kDefaultHead].omitted_before == 1002 - f.history.size());
  CHECK(f.history.front().event == 0);
  CHECK(f.history.back().op == Op::kEnd);
}

// Random event soup over a few ids and processes, legal or not: the model
// must keep its invariants after every event, and report at most one rule
// diagnostic per event.
TEST_CASE("RandomEventSoupKeepsInvariants") {
  std::mt19937_64 rng(12345);
  const std::vector<std::string> ops = {"alloc",    "realloc", "free",   "inc", "dec",  "observe",
                                        "write",    "read",    "output", "enq", "deq",  "borrow",
                                        "unborrow", "receive", "send",   "gc",  "exit", "stop"};
  for (int round = 0; round < 200; ++round) {
    std::vector<std::string> events;
    for (int i = 0; i < 60; ++i) {
      const std::string& op = ops[rng() % ops.size()];
      std::string e = op;
      if (op != "exit" && op != "stop") e += " b" + std::to_string(rng() % 4);
      const std::string pid = "P" + std::to_string(rng() % 3);
      const std::string other = "P" + std::to_string(rng() % 3);
      if (op == "output") e += " to=" + pid;
      if (op == "send") e += " actor=" + pid + " to=" + other;
      if (op == "receive" || op == "gc" || op == "exit") e += " actor=" + pid;
      if (op == "gc") e += " count=" + std::to_string(1 + rng() % 2);
      if (op == "observe" || rng() % 5 == 0) e += " refc=" + std::to_string(rng() % 4);
      if (op == "realloc" && rng() % 2) e += " new=b" + std::to_string(rng() % 4);
      events.push_back(e);
    }
    const Run run = Replay(events);
    std::vector<int> per_event(events.size() + 1, 0);
    for (const Finding& f : run.findings) {
      if (f.code != Code::kLeak && f.code != Code::kRefcMismatch &&
          f.code != Code::kUnknownBinary) {
        ++per_event[f.event];
      }
    }
    for (size_t i = 0; i < per_event.size(); ++i) {
      INFO("round ", round, " event ", i);
      CHECK(per_event[i] <= 1);
    }
  }
}

// IdIndex against std::map under random adds and erases of a small id pool, so the table
// grows, wraps around its end and shifts entries back after erases many times over.
TEST_CASE("RandomAddsAndErasesOfIdsMatchAMap") {
  std::mt19937_64 rng(777);
  IdIndex index;
  std::map<BinId, uint32_t> expected;
  for (int step = 0; step < 50000; ++step) {
    const uint64_t k = rng() % 300;
    // Integers, and strings both short and long enough to be kept inline or not.
    const BinId id = k % 2   ? BinId::Int(k)
                     : k % 3 ? BinId::Str("0x7f" + std::to_string(k))
                             : BinId::Str("0x7f00000000000000000" + std::to_string(k));
    const uint32_t found = index.Find(id);
    auto it = expected.find(id);
    REQUIRE(found == (it == expected.end() ? IdIndex::kAbsent : it->second));
    if (it != expected.end() && rng() % 2) {
      index.Erase(found);
      expected.erase(it);
      REQUIRE(index.Find(id) == IdIndex::kAbsent);
    } else {
      bool added = false;
      const uint32_t number = index.FindOrAdd(id, &added);
      REQUIRE(added == (it == expected.end()));
      if (it != expected.end()) REQUIRE(number == it->second);
      REQUIRE(index.id(number) == id);
      expected[id] = number;
    }
    REQUIRE(index.count() == expected.size());
  }
  // Numbers are reused: never more than the most ids known at once.
  CHECK(index.size() <= 300);
}

// --- issue 5: counts at the edges of int64 (found by review of the fuzz
// targets' reach; UBSan reports the overflow in the sanitizer build) --------

TEST_CASE("GcCountOf2To63IsADoubleFreeNotAnOverflowingRelease") {
  const Run run = Replay({"alloc a", "output a to=P", "free a", "receive a actor=P",
                          "gc a actor=P count=9223372036854775808", "gc a actor=P"});
  CHECK(run.Codes() == "double-free@4");
  CHECK(run.stats.live == 0);
}

TEST_CASE("GcCountOfAllOnesIsADoubleFreeNotAMinusOneRelease") {
  const Run run = Replay({"alloc a", "output a to=P", "free a", "receive a actor=P",
                          "gc a actor=P count=18446744073709551615", "gc a actor=P"});
  CHECK(run.Codes() == "double-free@4");
  CHECK(run.stats.live == 0);
}

TEST_CASE("UnknownBinaryGcWithAHugeCountIsAdoptedAndReleased") {
  const Run run = Replay({"gc a actor=P count=18446744073709551615"});
  CHECK(run.Codes() == "unknown-binary@0");
  CHECK(run.stats.live == 0);
}

TEST_CASE("BorrowWithRefcInt64MaxThenIncDoesNotOverflow") {
  // The reader allows at most 2^62; an event built in code with more is held to 2^62.
  const Run run = Replay({"borrow a refc=9223372036854775807", "inc a", "unborrow a", "free a",
                          "observe a refc=4611686018427387904"});
  CHECK(run.Codes() == "");
  CHECK(run.stats.live == 1);
}

TEST_CASE("ReportedRefcInt64MinThenReleasesDoNotOverflow") {
  const Run run = Replay({"alloc a", "output a to=P", "observe a refc=-9223372036854775808",
                          "free a", "free a", "receive a actor=P", "gc a actor=P"});
  CHECK(run.Codes() == "refc-mismatch@2 double-free@4");
  CHECK(run.stats.live == 0);
}

TEST_CASE("LeakOfTheLargestSizeSaysItsSizeAndTotalsSaturate") {
  const Run run = Replay({"alloc a size=18446744073709551615", "alloc b size=2"});
  CHECK(run.Codes() == "leak@0 leak@1");
  CHECK(run.findings[0].message.find("(18446744073709551615 bytes)") != std::string::npos);
  CHECK(run.stats.leaked_bytes == UINT64_MAX);
}
TEST_CASE("BinaryHeldByManyProcessesIsIndexedAndItsEmptyEntriesCompacted") {
  // 40 processes get it; half collect it, a quarter exit, some get it again;
  // the invariants (index included) are checked after every event.
  std::vector<std::string> events = {"alloc a"};
  for (int i = 0; i < 40; ++i)
    events.push_back("output a to=P" + std::to_string(i));
  events.push_back("free a");
  for (int i = 0; i < 20; ++i) {
    events.push_back("receive a actor=P" + std::to_string(i));
    events.push_back("gc a actor=P" + std::to_string(i));
  }
  for (int i = 20; i < 30; ++i)
    events.push_back("exit actor=P" + std::to_string(i));
  for (int i = 0; i < 5; ++i) {
    events.push_back("receive a actor=P" + std::to_string(i));  // untraced send
    events.push_back("observe a refc=" + std::to_string(11 + i));
  }
  events.push_back("write a");  // shared: one finding, with a capped holder list
  for (int i = 0; i < 5; ++i)
    events.push_back("gc a actor=P" + std::to_string(i));
  for (int i = 30; i < 40; ++i)
    events.push_back("exit actor=P" + std::to_string(i));
  const Run run = Replay(events);
  CHECK(run.Codes() == "use-after-free@" + std::to_string(events.size() - 16));
  CHECK(run.findings[0].message ==
        "driver wrote to a binary it holds no reference to (driver holds 0; P30 holds 1 "
        "(unreceived); P31 holds 1 (unreceived); P32 holds 1 (unreceived); P33 holds 1 "
        "(unreceived); P34 holds 1 (unreceived); P35 holds 1 (unreceived); P36 holds 1 "
        "(unreceived); P37 holds 1 (unreceived); 7 more processes hold 7)");
  CHECK(run.stats.live == 0);
}
// --- end issue 5 ---------------------------------------------------------------

// --- issue 16: departures from the contract found by a differential test, and the
// rulings of model.md 1.1 -------------------------------------------------------------

TEST_CASE("QuarantineOfTwoRemembersTwoDistinctFreedIdsWhileOneIsReused") {
  // b is freed, reused and live again: it must not take a place in the quarantine, so a
  // (freed at event 1) is still remembered at event 7.
  ModelOptions options;
  options.quarantine_capacity = 2;
  const Run run = Replay({"alloc a", "free a", "alloc b", "free b", "alloc b", "alloc c", "free c",
                          "free a", "free b"},
                         options);
  CHECK(run.Codes() == "double-free@7");
}

TEST_CASE("FreeAgainAfterAMillionReusesOfAnotherIdIsADoubleFree") {
  // Only two ids are ever freed, so the default quarantine (1,000,000 ids) remembers X.
  CollectingSink sink;
  Model model(&sink);
  uint64_t index = 0;
  auto apply = [&](Op op, const BinId& bin) {
    Event e;
    e.op = op;
    e.bin = bin;
    e.pos.index = index;
    e.pos.line = ++index;
    model.Apply(e);
  };
  apply(Op::kAlloc, BinId::Str("X"));
  apply(Op::kFree, BinId::Str("X"));
  for (int i = 0; i < 1'000'000; ++i) {
    apply(Op::kAlloc, BinId::Str("Y"));
    apply(Op::kFree, BinId::Str("Y"));
  }
  apply(Op::kFree, BinId::Str("X"));
  model.Finish();
  REQUIRE_FALSE(model.CheckInvariants().has_value());
  const std::vector<Finding> findings = sink.TakeSorted();
  REQUIRE(findings.size() == 1);
  CHECK(findings[0].code == Code::kDoubleFree);
  CHECK(findings[0].event == index - 1);
}

TEST_CASE("ReallocOfAnOutputBinaryToANewIdNeitherMovesNorLeaks") {
  const Run run = Replay({"alloc a size=100", "output a to=P", "realloc a new=b", "free a"});
  CHECK(run.Codes() == "realloc-shared@2");
  CHECK(run.stats.leaked_bytes == 0);
  CHECK(run.stats.live == 1);  // P's message still holds a
  CHECK(run.stats.held_by_processes == 1);
}

TEST_CASE("ReallocOfABorrowedIncedBinaryKeepsItsSize") {
  const Run run = Replay({"borrow a", "inc a", "realloc a size=5000", "unborrow a"});
  CHECK(run.Codes() == "leak@0 realloc-shared@2");
  CHECK(run.stats.leaked_bytes == 0);
  CHECK(run.findings[0].size == std::nullopt);
}

TEST_CASE("ReallocWithoutAccessToANewIdDoesNotMoveTheBinary") {
  const Run run = Replay({"alloc a", "output a to=P", "free a", "realloc a new=b size=9", "read b",
                          "receive a actor=P", "gc a actor=P"});
  CHECK(run.Codes() == "use-after-free@3 unknown-binary@4");
}

TEST_CASE("RefcOfAnUnknownReallocOntoALiveIdIsNotComparedAfterAllocLive") {
  const Run run = Replay({"alloc b", "realloc a new=b refc=0", "free b"});
  CHECK(run.Codes() == "alloc-live@1 unknown-binary@1");
}

TEST_CASE("RefcMismatchOnAMovingReallocNamesTheIncarnationOfTheOldId") {
  const Run run = Replay({"alloc b", "free b", "alloc a", "realloc a new=b refc=3", "free b"});
  REQUIRE(run.Codes() == "refc-mismatch@3");
  CHECK(run.findings[0].bin == BinId::Str("a"));
  CHECK(run.findings[0].incarnation == 1);
}

TEST_CASE("UnknownMovingReallocNamesTheIncarnationOfTheOldId") {
  const Run run = Replay({"alloc b", "free b", "realloc a new=b", "free b"});
  REQUIRE(run.Codes() == "unknown-binary@2");
  CHECK(run.findings[0].bin == BinId::Str("a"));
  CHECK(run.findings[0].incarnation == 1);
}

TEST_CASE("BorrowAndObserveOf2To60AreComparedExactly") {
  const Run run = Replay({"borrow a refc=1152921504606846976", "observe a refc=1152921504606846976",
                          "inc a", "observe a refc=1152921504606846977", "unborrow a", "free a"});
  CHECK(run.Codes() == "");
}

TEST_CASE("ObserveOfTheLargestCountAfterAnIncIsAMismatch") {
  // 2^62 is the largest count a trace may carry; one more is still counted exactly.
  const Run run = Replay({"borrow a refc=4611686018427387904", "inc a", "unborrow a",
                          "observe a refc=4611686018427387904", "free a"});
  CHECK(run.Codes() == "refc-mismatch@3");
}

TEST_CASE("ExitQuarantinesItsIdsInTheOrderTheyBecameLive") {
  // P gets y before x, but x became live first: x enters the quarantine first, so with room
  // for one id only y is remembered.
  ModelOptions options;
  options.quarantine_capacity = 1;
  const Run run = Replay({"alloc x", "alloc y", "output y to=P", "output x to=P", "free x",
                          "free y", "exit actor=P", "gc y actor=P", "gc x actor=P"},
                         options);
  CHECK(run.Codes() == "double-free@7 unknown-binary@8");
}

TEST_CASE("StopQuarantinesItsIdsInTheOrderTheyBecameLive") {
  // c reuses a's slot, so it comes before b in slot order, but b became live first.
  ModelOptions options;
  options.quarantine_capacity = 1;
  const Run run = Replay({"alloc a", "alloc b", "free a", "alloc c", "enq b", "enq c", "free b",
                          "free c", "stop", "deq c", "deq b"},
                         options);
  CHECK(run.Codes() == "double-free@9 unknown-binary@10");
}

TEST_CASE("MovingReallocQuarantinesTheOldIdAfterTheNewOneLeftIt") {
  // b leaves the quarantine before a enters it: x, freed first, is still remembered.
  ModelOptions options;
  options.quarantine_capacity = 2;
  const Run run = Replay(
      {"alloc x", "free x", "alloc b", "free b", "alloc a", "realloc a new=b", "free x", "free b"},
      options);
  CHECK(run.Codes() == "double-free@6");
}

TEST_CASE("IdThatLeftTheQuarantineStartsAgainAtIncarnationOne") {
  ModelOptions options;
  options.quarantine_capacity = 1;
  const Run run = Replay({"alloc a", "free a", "alloc b", "free b", "alloc a"}, options);
  REQUIRE(run.Codes() == "leak@4");
  CHECK(run.findings[0].incarnation == 1);
}

TEST_CASE("BorrowWithSizeCountsItsSizeWhenLeaked") {
  const Run run = Replay({"borrow a size=300", "inc a", "unborrow a"});
  CHECK(run.Codes() == "leak@0");
  CHECK(run.stats.leaked_bytes == 300);
}

TEST_CASE("BorrowedBinaryWhoseCountReachesZeroEndsAtUnborrow") {
  const Run run = Replay({"borrow a", "gc a actor=S", "read a", "unborrow a", "read a"});
  CHECK(run.Codes() == "use-after-free@4");
}
// --- end issue 16 ----------------------------------------------------------------

// --- issue 12 item 2: an op that takes a reference without access is reported once and
// applied; a release its holder cannot make is reported and not applied ----------------

TEST_CASE("IncAfterUnborrowThenFreeIsOneUseAfterFree") {
  const Run run = Replay({"borrow a", "unborrow a", "inc a", "free a"});
  CHECK(run.Codes() == "use-after-free@2");
}

TEST_CASE("IncAfterUnborrowWithoutFreeIsUseAfterFreeAndLeak") {
  // The emulator really took the reference, and nobody releases it.
  const Run run = Replay({"borrow a", "unborrow a", "inc a"});
  CHECK(run.Codes() == "leak@0 use-after-free@2");
}

TEST_CASE("OutputAfterFreeStillGivesTheProcessItsReference") {
  const Run run =
      Replay({"alloc a", "output a to=P", "free a", "output a to=Q", "observe a refc=2",
              "receive a actor=Q", "gc a actor=Q", "receive a actor=P", "gc a actor=P"});
  CHECK(run.Codes() == "use-after-free@3");
  CHECK(run.stats.live == 0);
}

TEST_CASE("OutputAfterFreeToAnExitedProcessAddsNothing") {
  const Run run = Replay({"exit actor=Q", "alloc a", "output a to=P", "free a", "output a to=Q",
                          "observe a refc=1", "receive a actor=P", "gc a actor=P"});
  CHECK(run.Codes() == "use-after-free@4");
  CHECK(run.stats.live == 0);
}

TEST_CASE("EnqAfterUnborrowThenDeqIsOneUseAfterFree") {
  const Run run = Replay({"borrow a", "unborrow a", "enq a", "deq a", "gc a actor=S"});
  CHECK(run.Codes() == "use-after-free@2");
  CHECK(run.stats.live == 0);
}

TEST_CASE("FreeAfterUnborrowIsADoubleFreeAndNotApplied") {
  // The release is not applied: the sender's reference stays, and its gc is legal.
  const Run run = Replay({"borrow a", "unborrow a", "free a", "gc a actor=S"});
  CHECK(run.Codes() == "double-free@2");
  CHECK(run.stats.live == 0);
}
// --- end issue 12 item 2 ---------------------------------------------------------

// Trace format 1.3 / model 1.2: ports, the emulator's references around a callback,
// queue copies, replies, and the emulator's word after a refc-mismatch.

TEST_CASE("LeakOnPortAIsReportedAtAsStopAndNamesThePort") {
  const Run run = Replay({"alloc a port=A", "alloc b port=B", "stop port=A", "free b port=B"});
  CHECK(run.Codes() == "leak@0");
  CHECK(run.findings[0].port == "A");
  CHECK(run.findings[0].history.back().event == 2);  // found at A's stop
  CHECK(run.stats.live == 0);
}

TEST_CASE("PortBsQueueSurvivesPortAsStop") {
  const Run run = Replay(
      {"alloc a port=B", "enq a port=B", "free a port=B", "stop port=A", "deq a port=B refc=0"});
  CHECK(run.findings.empty());
  CHECK(run.stats.live == 0);
}

TEST_CASE("DeqOnAnotherPortThanTheEnqIsDoubleFree") {
  const Run run = Replay({"alloc a port=A", "enq a port=A", "deq a port=B", "free a port=A"});
  CHECK(run.Codes() == "double-free@2");
  CHECK(run.findings[0].port == "B");
  CHECK(run.findings[0].message.find("the queue of port A holds 1") != std::string::npos);
}

TEST_CASE("EventsNamingAPortAfterItsStopStartAFreshInstance") {
  // The second alloc on A belongs to a new instance: A's first stop does not see it, and the
  // end of input stops the new instance and reports it.
  const Run run = Replay({"alloc a port=A", "free a port=A", "stop port=A", "alloc b port=A"});
  CHECK(run.Codes() == "leak@3");
  CHECK(run.findings[0].port == "A");
  CHECK(run.findings[0].history.back().op == Op::kEnd);
}

TEST_CASE("EndOfInputStopsEveryPortInOrderOfFirstAppearance") {
  const Run run = Replay({"alloc b port=B", "alloc a port=A", "alloc c"});
  CHECK(run.Codes() == "leak@0 leak@1 leak@2");
  CHECK(run.findings[2].port.empty());
}

TEST_CASE("TraceWithoutPortsKeepsOneDefaultPortAcrossStop") {
  // v1: the inc after stop gives the driver a reference again; the end reports it.
  const Run run = Replay({"alloc a", "output a to=P", "stop", "inc a"});
  CHECK(run.Codes() == "leak@0 leak@0 use-after-free@3");
}

TEST_CASE("BorrowFromIsTheSendersOwnReferenceReleasedByItsGc") {
  const Run run = Replay({"borrow a from=P refc=1", "unborrow a", "gc a actor=P refc=0"});
  CHECK(run.findings.empty());
  CHECK(run.stats.live == 0);
}

TEST_CASE("BorrowFromIsReleasedWhenTheSenderExits") {
  const Run run =
      Replay({"borrow a from=P", "unborrow a", "exit actor=P", "alloc a refc=1", "free a"});
  CHECK(run.findings.empty());
}

TEST_CASE("GatheredBorrowIsFreedAtUnborrowAndTheAddressIsFreshLater") {
  const Run run =
      Replay({"borrow a gathered=true refc=1", "unborrow a", "alloc a refc=1", "free a refc=0"});
  CHECK(run.findings.empty());
  CHECK(run.stats.binaries == 2);
  CHECK(run.stats.live == 0);
}

TEST_CASE("GatheredBorrowKeptByIncIsNotFreedAtUnborrow") {
  const Run run = Replay(
      {"borrow a gathered=true refc=1", "inc a refc=2", "unborrow a refc=1", "free a refc=0"});
  CHECK(run.findings.empty());
  CHECK(run.stats.live == 0);
}

TEST_CASE("ScheduledBorrowIsBackToItsPreTaskCountAfterUnborrow") {
  const Run run =
      Replay({"alloc a refc=1", "output a to=P refc=2", "free a refc=1", "receive a actor=P refc=1",
              "borrow a from=P task=2 refc=3", "unborrow a refc=1", "gc a actor=P refc=0"});
  CHECK(run.findings.empty());
  CHECK(run.stats.live == 0);
}

TEST_CASE("ScheduledBorrowOfANewBinaryCountsItsTasks") {
  const Run run = Replay(
      {"borrow a from=P task=1", "observe a refc=2", "unborrow a refc=1", "gc a actor=P refc=0"});
  CHECK(run.findings.empty());
  CHECK(run.stats.live == 0);
}

TEST_CASE("EnqCopyIsHeldByTheQueueAloneAndFreedAtDeq") {
  const Run run =
      Replay({"enq a copy=true size=10 refc=1", "deq a refc=0", "alloc a refc=1", "free a"});
  CHECK(run.findings.empty());
  CHECK(run.stats.binaries == 2);
  CHECK(run.stats.live == 0);
}

// echo_drv (OTP's port_trace_SUITE driver) outputs the binaries its queue holds, read back
// with driver_peekqv, after its own reference is gone: the queue keeps them alive.
TEST_CASE("OutputOfABinaryItsPortsQueueHoldsIsLegal") {
  const Run run =
      Replay({"borrow a port=A", "enq a port=A", "unborrow a port=A", "output a to=P port=A refc=3",
              "inc a port=A", "read a port=A", "deq a port=A", "free a port=A", "receive a actor=P",
              "gc a actor=P", "gc a actor=S refc=0"});
  CHECK(run.findings.empty());
  CHECK(run.stats.live == 0);
}

TEST_CASE("OutputOfABinaryOnlyAnotherPortsQueueHoldsIsUseAfterFree") {
  const Run run = Replay(
      {"alloc a port=A", "enq a port=A", "free a port=A", "output a to=P port=B", "deq a port=A"});
  CHECK(run.Codes() == "use-after-free@3");
}

TEST_CASE("EnqCopyLeftInTheQueueIsReleasedAtStopWithoutALeak") {
  const Run run = Replay({"enq a copy=true port=A", "stop port=A", "alloc a port=A"});
  CHECK(run.Codes() == "leak@2");
  CHECK(run.stats.binaries == 2);
}

TEST_CASE("EnqCopyOntoALiveIdIsAllocLive") {
  const Run run = Replay({"alloc a", "enq a copy=true", "deq a"});
  CHECK(run.Codes() == "alloc-live@1");
  CHECK(run.stats.live == 0);
}

TEST_CASE("ReplyTurnsTheDriversReferenceIntoTheCallersMessage") {
  const Run run =
      Replay({"alloc a refc=1", "reply a to=P refc=1", "receive a actor=P", "gc a actor=P refc=0"});
  CHECK(run.findings.empty());
  CHECK(run.stats.live == 0);
}

TEST_CASE("CopiedReplyFreesTheBinary") {
  const Run run = Replay({"alloc a", "reply a to=P copied=true refc=0", "free a"});
  CHECK(run.Codes() == "double-free@2");
}

TEST_CASE("ReplyWithoutADriverReferenceIsDoubleFree") {
  const Run run = Replay({"alloc a", "output a to=P", "free a", "reply a to=Q"});
  CHECK(run.Codes() == "double-free@3");
}

TEST_CASE("ReplyToAnUnknownCallerIsAnEmulatorReference") {
  const Run run = Replay({"alloc a", "reply a refc=1", "observe a refc=1"});
  CHECK(run.findings.empty());
  CHECK(run.stats.live == 1);
}

TEST_CASE("RefcMismatchRecordingZeroEndsTheIncarnationSoAReuseIsFresh") {
  const Run run = Replay({"alloc a", "output a to=P refc=0", "alloc a", "free a"});
  CHECK(run.Codes() == "refc-mismatch@1");
  CHECK(run.stats.binaries == 2);
  CHECK(run.stats.live == 0);
}

TEST_CASE("RefcMismatchRecordingZeroOnAnAllocEndsItThere") {
  const Run run = Replay({"alloc a refc=0", "alloc a", "free a"});
  CHECK(run.Codes() == "refc-mismatch@0");
}

// Uncertain releases (model 1.3): a gc with `among`, when the tracer cannot tell which of
// several equal-sized binaries a process released.

// P received a and b (the driver freed its references): P's heap holds one of each.
const std::vector<std::string> kTwoRepliesToP = {
    "alloc a size=100", "output a to=P", "free a", "receive a actor=P",
    "alloc b size=100", "output b to=P", "free b", "receive b actor=P"};
// The same, with the driver keeping its reference to each (count 2).
const std::vector<std::string> kTwoRepliesKept = {"alloc a size=100",  "output a to=P",
                                                  "receive a actor=P", "alloc b size=100",
                                                  "output b to=P",     "receive b actor=P"};

std::vector<std::string> Then(std::vector<std::string> events,
                              const std::vector<std::string>& more) {
  events.insert(events.end(), more.begin(), more.end());
  return events;
}

TEST_CASE("AmongCountOneLowerOnACandidateSaysTheReleaseWasItsOwn") {
  // a's count after free is 0, not 1: P's release was a's; b is still P's.
  const Run run = Replay(Then(kTwoRepliesKept, {"gc actor=P among=a,b", "free a refc=0",
                                                "free b refc=1", "gc b actor=P refc=0"}));
  CHECK(run.findings.empty());
  CHECK(run.stats.live == 0);
  CHECK(run.stats.uncertain_end == 0);
}

TEST_CASE("AmongCountAsExpectedOnACandidateSaysTheReleaseWasTheOthers") {
  // a's count is what it would be without the release: it was b's (two candidates: decided).
  const Run run =
      Replay(Then(kTwoRepliesKept, {"gc actor=P among=a,b", "free a refc=1", "free b refc=0"}));
  CHECK(run.findings.empty());
  CHECK(run.stats.live == 1);  // a, P's
  CHECK(run.stats.held_by_processes == 1);
  CHECK(run.stats.uncertain_end == 0);
}

TEST_CASE("AmongThenACountNoAccountExplainsIsOneRefcMismatch") {
  const Run run =
      Replay(Then(kTwoRepliesKept, {"gc actor=P among=a,b", "free a refc=5", "free b refc=0"}));
  CHECK(run.Codes() == "refc-mismatch@7");
}

TEST_CASE("AmongThenTheAddressComesBackSaysThatBinaryWasFreed") {
  // A new binary at a: the old one was freed, so P's release was a's.
  const Run run = Replay(Then(kTwoRepliesToP, {"gc actor=P among=a,b", "alloc a size=100 refc=1",
                                               "free a refc=0", "gc b actor=P refc=0"}));
  CHECK(run.findings.empty());
  CHECK(run.stats.binaries == 3);
  CHECK(run.stats.live == 0);
}

TEST_CASE("AmongAsManyReleasesAsCandidatesReleasesThemAll") {
  const Run run =
      Replay(Then(kTwoRepliesToP, {"gc actor=P among=a,b", "gc actor=P among=a,b", "alloc a",
                                   "alloc b", "free a refc=0", "free b refc=0"}));
  CHECK(run.findings.empty());
  CHECK(run.stats.live == 0);
}

TEST_CASE("AmongThenTheProcessExitsReleasesAllItsReferences") {
  const Run run = Replay(
      Then(kTwoRepliesToP, {"gc actor=P among=a,b", "exit actor=P", "alloc a", "free a refc=0"}));
  CHECK(run.findings.empty());
  CHECK(run.stats.live == 0);
}

TEST_CASE("AmongUnresolvedAtTheEndIsNeitherFreedNorHeld") {
  const Run run = Replay(Then(kTwoRepliesToP, {"gc actor=P among=a,b"}));
  CHECK(run.findings.empty());
  CHECK(run.stats.live == 2);
  CHECK(run.stats.uncertain_end == 2);
  CHECK(run.stats.held_by_processes == 0);
}

TEST_CASE("AmongNeverRaisesARefcMismatchItCannotDecide") {
  // Two processes' unknowns on a: one count cannot split them. a stays uncertain.
  const Run run =
      Replay({"alloc a", "output a to=P", "output a to=Q", "receive a actor=P", "receive a actor=Q",
              "alloc b", "output b to=P", "output b to=Q", "receive b actor=P", "receive b actor=Q",
              "gc actor=P among=a,b", "gc actor=Q among=a,b", "free a refc=1", "free b refc=1"});
  CHECK(run.findings.empty());
  CHECK(run.stats.uncertain_end == 2);
}

TEST_CASE("AmongHidesNoMutateAfterOutput") {
  // If P's release was a's, the driver is a's only holder and may write.
  const Run run = Replay(
      Then(kTwoRepliesKept, {"gc actor=P among=a,b", "write a", "free a refc=0", "free b refc=1"}));
  CHECK(run.findings.empty());
}

TEST_CASE("AmongLeavesTheDriversLeakExact") {
  const Run run =
      Replay({"alloc a size=100", "output a to=P", "receive a actor=P", "alloc b size=100",
              "output b to=P", "free b", "receive b actor=P", "gc actor=P among=a,b"});
  CHECK(run.Codes() == "leak@0");
  CHECK(run.stats.leaked_bytes == 100);
}

TEST_CASE("AmongWithOneCandidateTheProcessHoldsIsThatBinarysRelease") {
  const Run run = Replay({"alloc a", "output a to=P", "free a", "receive a actor=P", "alloc b",
                          "gc actor=P among=a,b", "free b", "observe a refc=0"});
  // a was released at event 5: the observe of a is a use of a freed binary.
  CHECK(run.Codes() == "use-after-free@7");
}

TEST_CASE("AmongOfBinariesTheProcessDoesNotHoldIsADoubleFree") {
  const Run run = Replay({"alloc a", "alloc b", "gc actor=P among=a,b", "free a", "free b"});
  CHECK(run.Codes() == "double-free@2");
}

// ---------------------------------------------------------------------------
// Listing the processes that hold a binary (decisions 247 and 248)

// Holders of one incarnation held by `n` processes (pids 1..n, one reference each in the heap),
// past kIndexFrom so the entries that empty stay as zeros.
Holders HeldByProcesses(uint32_t n) {
  Holders h;
  for (StrRef pid = 1; pid <= n; ++pid)
    h.Add(pid, 0, 1);
  return h;
}

std::vector<StrRef> Listed(const Holders& h, int64_t refc, UnlistedProcesses* rest) {
  std::vector<StrRef> pids;
  *rest =
      h.ListProcesses(kListedProcesses, refc, [&](const ProcessHold& p) { pids.push_back(p.pid); });
  return pids;
}

TEST_CASE("the first holding processes are listed and the rest only counted") {
  Holders h = HeldByProcesses(20);
  h.driver = 1;
  h.vm = 2;
  UnlistedProcesses rest;
  const std::vector<StrRef> pids = Listed(h, 23, &rest);
  REQUIRE(pids.size() == kListedProcesses);
  CHECK(pids.front() == 1);
  CHECK(pids.back() == 16);
  CHECK(rest == UnlistedProcesses{4, 4});  // refc less the driver, vm and the listed
  // No more than the list holds: nothing is counted.
  Holders few = HeldByProcesses(3);
  CHECK(Listed(few, 3, &rest).size() == 3);
  CHECK(rest == UnlistedProcesses{});
}

TEST_CASE("processes that let go in turn are skipped without being read again") {
  Holders h = HeldByProcesses(20);
  // The first six let go, in the order they got it (fewer than half: they stay as zeros).
  for (uint32_t i = 0; i < 6; ++i) {
    h.procs[i].proc = 0;
    h.Emptied(&h.procs[i]);
  }
  CHECK(h.first_held == 6);
  UnlistedProcesses rest;
  const std::vector<StrRef> pids = Listed(h, 14, &rest);
  REQUIRE(pids.size() == 14);
  CHECK(pids.front() == 7);
  CHECK(rest == UnlistedProcesses{});
  // One that let go holds again: it is first again (its place is kept) and listed.
  h.procs[2].proc = 1;
  h.Refilled(&h.procs[2]);
  CHECK(h.first_held == 2);
  CHECK(Listed(h, 15, &rest).front() == 3);
  // More than half of them empty: the zeros are dropped and the hint starts over.
  for (uint32_t i = 6; i < 12; ++i) {
    h.procs[i].proc = 0;
    h.Emptied(&h.procs[i]);
  }
  CHECK(h.first_held == 0);
  CHECK(h.procs.size() == 9);
  CHECK(h.zeros == 0);
}

TEST_CASE("a finding names the first eight holding processes and counts the rest") {
  std::vector<std::string> events = {"alloc b size=64"};
  for (int i = 0; i < 20; ++i)
    events.push_back("output b to=<0." + std::to_string(100 + i) + ".0>");
  // The first three let go before the driver frees twice.
  for (int i = 0; i < 3; ++i)
    events.push_back("exit actor=<0." + std::to_string(100 + i) + ".0>");
  events.push_back("free b");
  events.push_back("free b");
  const Run run = Replay(events);
  REQUIRE(run.findings.size() == 1);
  CHECK(run.findings[0].message ==
        "driver released a reference it does not hold (driver holds 0; <0.103.0> holds 1 "
        "(unreceived); <0.104.0> holds 1 (unreceived); <0.105.0> holds 1 (unreceived); <0.106.0> "
        "holds 1 (unreceived); <0.107.0> holds 1 (unreceived); <0.108.0> holds 1 (unreceived); "
        "<0.109.0> holds 1 (unreceived); <0.110.0> holds 1 (unreceived); 9 more processes hold "
        "9)");
}

}  // namespace
}  // namespace refctrace::model
