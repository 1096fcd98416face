// The shared wording (model/wording.h): counted nouns, op words and the one
// phrasing of who holds a binary, fed hand-built values.
#include "model/wording.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace refctrace::model {
namespace {

using trace::Op;

TEST_CASE("Plural adds an s, or takes the plural it is given, except for one") {
  CHECK(Plural(1, "byte") == "1 byte");
  CHECK(Plural(0, "byte") == "0 bytes");
  CHECK(Plural(uint64_t{2}, "binary", "binaries") == "2 binaries");
  CHECK(Plural(int64_t{1}, "binary", "binaries") == "1 binary");
}

TEST_CASE("every op has words for a history step, and a verb and label or its name") {
  for (int i = 0; i < trace::kOpCount; ++i) {
    const auto op = static_cast<Op>(i);
    CAPTURE(trace::OpName(op));
    CHECK_FALSE(WordsOf(op).history.empty());
    CHECK_FALSE(Verb(op).empty());
    Step step;
    step.op = op;
    CHECK_FALSE(EventSummary(step).empty());
  }
  CHECK(Verb(Op::kInc) == "incremented the count of");
  CHECK(Verb(Op::kExit) == "exit");
}

TEST_CASE("a step's summary and description put the op's arguments in place") {
  Step alloc;
  alloc.op = Op::kAlloc;
  alloc.size = 1024;
  CHECK(EventSummary(alloc) == "alloc 1024 B");
  CHECK(DescribeStep(alloc) == "allocated 1024 bytes");
  Step stop;
  stop.op = Op::kStop;
  CHECK(EventSummary(stop) == "port stop");
  CHECK(DescribeStep(stop) == "port stopped");
  Step enq;
  enq.op = Op::kEnq;
  enq.actor = "<0.85.0>";
  CHECK(DescribeStep(enq) == "queued on the port by <0.85.0>");
  Step output;
  output.op = Op::kOutput;
  output.to = "<0.85.0>";
  output.copied = true;
  CHECK(EventSummary(output) == "output → <0.85.0> (copied)");
}

TEST_CASE("holders of a step read as the model's messages phrase them") {
  const std::vector<HolderCount> holders = {
      {Holder::Driver(), 1},        {Holder::Queue(), 2},          {Holder::Message("<0.9.0>"), 1},
      {Holder::Heap("<0.9.0>"), 2}, {Holder::Heap("<0.10.0>"), 1}, {Holder::Message("<0.11.0>"), 1},
      {Holder::Emulator(), 3}};
  CHECK(DescribeHolders(holders, false) ==
        "driver holds 1; the port queue holds 2; <0.9.0> holds 3 (1 unreceived); "
        "<0.10.0> holds 1; <0.11.0> holds 1 (unreceived); the emulator holds 3");
}

TEST_CASE("a driver holding nothing is still named, and a borrow is said") {
  CHECK(DescribeHolders({}, false) == "driver holds 0");
  CHECK(DescribeHolders({{Holder::Emulator(), 1}}, true) ==
        "driver holds 0 (borrowed in a callback); the emulator holds 1");
}

TEST_CASE("holders fed out of order are said driver, queue, processes, emulator") {
  HoldersPhrase phrase;
  phrase.Emulator(1);
  phrase.Process("<0.9.0>", 0, 1);
  phrase.Queue(1);
  phrase.Driver(2);
  CHECK(phrase.Text() ==
        "driver holds 2; the port queue holds 1; <0.9.0> holds 1; the emulator holds 1");
}

TEST_CASE("each port's queue is said by its name, the default port's as the port queue") {
  CHECK(DescribeHolders({{Holder::Queue("0x55d0"), 2},
                         {Holder::Queue(), 1},
                         {Holder::Queue("0x55d0"), 1},
                         {Holder::Driver(), 1}},
                        false) ==
        "driver holds 1; the queue of port 0x55d0 holds 3; the port queue holds 1");
}

TEST_CASE("past eight processes the rest are counted, their message and heap once") {
  std::vector<HolderCount> holders;
  for (int i = 0; i < 10; ++i) {
    const std::string pid = "<0." + std::to_string(i) + ".0>";
    holders.push_back({Holder::Message(pid), 1});
    holders.push_back({Holder::Heap(pid), 1});
  }
  const std::string text = DescribeHolders(holders, false);
  CHECK(text.find("<0.7.0> holds 2 (1 unreceived); 2 more processes hold 4") != std::string::npos);
  CHECK(text.find("<0.8.0>") == std::string::npos);
  holders.pop_back();
  holders.pop_back();
  CHECK(DescribeHolders(holders, false).find("; 1 more process holds 2") != std::string::npos);
}

TEST_CASE("a process holding nothing is left out") {
  HoldersPhrase phrase;
  phrase.Process("<0.9.0>", 0, 0);
  CHECK(phrase.Text() == "driver holds 0");
}

}  // namespace
}  // namespace refctrace::model
