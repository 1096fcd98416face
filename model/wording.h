// The tool's words, each in one place: counted nouns, what an op did, and who
// holds a binary. The model builds its finding messages with them and every
// renderer (check's text, JSON and SARIF, `show`, `graph`) shows the same
// phrases, so a reader meets one phrasing for one thing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/finding.h"
#include "model/holder.h"
#include "model/lifetime.h"
#include "trace/event.h"

namespace refctrace::model {

// "1 byte", "2 bytes", "2 binaries" (with `many`).
template <typename Int>
std::string Plural(Int n, std::string_view one, std::string_view many = {}) {
  std::string s = std::to_string(n);
  s += ' ';
  if (n == 1) return s.append(one);
  if (!many.empty()) return s.append(many);
  return s.append(one).append("s");
}

// An op's words, one row per op in one table (wording.cpp).
struct OpWords {
  std::string_view verb;     // in a sentence: "driver <verb> a binary ..."
  std::string_view history;  // as a step of a binary's history: "queued on the port"
  std::string_view label;    // a table cell or picture label: "port stop"; empty: the op's name
};
const OpWords& WordsOf(trace::Op op);
// The verb, or the op's name for ops without one.
std::string_view Verb(trace::Op op);

// One history step in words: "output to <0.85.0> at my_drv.c:97".
std::string DescribeStep(const Step& step);
// What an event did, in a few words: "alloc 1024 B", "output → <0.85.0>".
std::string EventSummary(const Step& step);

// Who holds a binary, in one phrasing: "driver holds 1; the port queue holds
// 1; <0.85.0> holds 2 (1 unreceived); the emulator holds 1" (a named port's
// queue: "the queue of port 0x55d0 holds 1"). The driver is
// always named; a process's messages and heap are summed (the unreceived
// part said in brackets); past the first eight processes the rest are
// counted. Feed it in any order; it says the holders in that order: driver,
// queue, processes (in the order first fed), emulator.
class HoldersPhrase {
 public:
  explicit HoldersPhrase(bool borrowed = false) : borrowed_(borrowed) {}
  void Add(const HolderCount& h);
  void Driver(int64_t n) { driver_ += n; }
  // The queue of port `port` ("": the default port, the one of a trace without ports).
  void Queue(std::string_view port, int64_t n);
  void Queue(int64_t n) { Queue({}, n); }  // the default port's
  void Emulator(int64_t n) { emulator_ += n; }
  // A term in NIF environment `env` (model 1.3).
  void Term(std::string_view env, int64_t n);
  // Feeding the same process twice in a row adds to it.
  void Process(std::string_view pid, int64_t unreceived, int64_t heap);
  // Processes left unnamed by whoever fed the phrase (a step lists the first few holders
  // only: LifetimeStep::unlisted), counted with the processes past the first eight.
  void Unlisted(const UnlistedProcesses& rest);
  std::string Text() const;

 private:
  struct Named {
    std::string pid;
    int64_t unreceived = 0;
    int64_t heap = 0;
  };
  static constexpr size_t kNamed = 8;  // a binary sent to thousands: name the first few
  bool borrowed_;
  int64_t driver_ = 0;
  std::vector<std::pair<std::string, int64_t>> queues_;  // per port, in the order fed
  int64_t emulator_ = 0;
  int64_t nif_ = 0;        // what the NIF owns (model 1.3)
  bool nif_seen_ = false;  // a NIF holder was fed: the phrase starts with the NIF
  std::vector<std::pair<std::string, int64_t>> terms_;  // per environment, in the order fed
  std::vector<Named> named_;
  std::string last_pid_;     // the process fed last, to merge its message and heap ...
  bool last_named_ = false;  // ... and whether it is one of named_
  int64_t others_ = 0;
  int64_t others_hold_ = 0;
};

// The holders after a step (see LifetimeStep) in the phrasing above, with the processes the
// step left unlisted.
std::string DescribeHolders(const std::vector<HolderCount>& holders, bool borrowed,
                            const UnlistedProcesses& unlisted = {});

}  // namespace refctrace::model
