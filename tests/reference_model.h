// An independent, deliberately simple implementation of the model contract
// (docs/spec/model.md 1.3: the v1.1 rulings, ports, the emulator's own references and uncertain
// releases), written from
// the text alone for the differential test: plain maps, linear scans, no history, no limits. It
// says what refctrace's model must find; it is never used by the tool.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "model/diagnostic_code.h"
#include "trace/event.h"
#include "trace/unknown_receiver.h"

namespace refctrace::reference {

// The part of a finding the contract fixes.
struct ExpectedFinding {
  model::Code code = model::Code::kLeak;
  model::Severity severity = model::Severity::kError;
  trace::BinId bin;
  uint32_t incarnation = 0;
  uint64_t event = 0;
  std::optional<uint64_t> size;  // leaks only: the leaked bytes, when known
  std::string port;              // the port it names; empty: the default port
};

class ReferenceModel {
 public:
  // `apply_unheld_takes`: an op that takes a reference (inc, enq, output) on
  // a live binary its actor may not use is reported and then applied (the
  // rule change of issue 12); false gives the v1 rule (reported, not applied).
  explicit ReferenceModel(size_t quarantine_capacity, bool apply_unheld_takes = true)
      : capacity_(quarantine_capacity), apply_unheld_takes_(apply_unheld_takes) {}

  // `e.pos.index` is the event's number.
  void Apply(const trace::Event& e);
  // End of input (runs the end-of-trace pass unless `stop` came last or
  // `end` was applied).
  void Finish();

  const std::vector<ExpectedFinding>& findings() const { return findings_; }
  // The emulator's count of the binary live at `id`, if any.
  std::optional<int64_t> EmulatorCount(const trace::BinId& id) const;
  // Whether `id` holds a live binary / is quarantined.
  bool Live(const trace::BinId& id) const { return live_.count(id) > 0; }

 private:
  struct Binary {
    int64_t driver = 0;
    std::map<int, int64_t> queue;  // per port instance
    int64_t vm = 0;
    int owner = -1;                       // port instance whose stop checks it; -1: none
    int64_t at_return = 0;                // emulator references dropped at unborrow
    std::map<std::string, int64_t> msg;   // per process: in unreceived messages
    std::map<std::string, int64_t> proc;  // per process: in its heap
    bool borrowed = false;
    bool adopted = false;
    int64_t emulator = 0;  // vm_refc
    std::optional<uint64_t> size;
    uint64_t start_event = 0;
    uint32_t incarnation = 0;  // its number at the id it lives at now
    uint64_t live_since = 0;   // when it became live at that id (a serial)
    uint64_t uid = 0;          // which binary it is, wherever a realloc moves it

    int64_t Refc() const;
    // The driver owns a reference, borrows it in a callback, or reaches it in `port`'s queue.
    bool Access(int port) const {
      if (driver >= 1 || borrowed) return true;
      auto q = queue.find(port);
      return q != queue.end() && q->second >= 1;
    }
  };

  Binary& Start(const trace::Event& e, const trace::BinId& id, bool adopted);
  void StartFresh(const trace::Event& e);
  void Adopt(const trace::Event& e);
  void OnFreed(const trace::Event& e);
  // Applies a binary op to the live binary at e.bin; returns whether it
  // raised a rule diagnostic. The binary may move (realloc) or be replaced
  // (alloc-live).
  bool OnLive(const trace::Event& e);
  void TakeReference(Binary& b, int64_t* counter);
  void GiveToHeap(Binary& b, const std::string& pid);
  void CompareRefc(const trace::Event& e, uint32_t incarnation_at_bin);
  void EndIfUnheld(const trace::BinId& id);
  void EndUnheldInLiveOrder();
  void Exit(const std::string& pid);
  // Uncertain releases (model 1.3).
  struct Group {
    std::string pid;
    std::vector<uint64_t> candidates;  // uids
    int64_t pending = 0;
  };
  void Among(const trace::Event& e);
  Binary* ByUid(uint64_t uid);
  int64_t Range(Binary& b, const Group& g);
  std::vector<size_t> GroupsOf(const Binary& b) const;
  int64_t UncertainTotal(Binary& b);
  // d of group `g`'s releases were b's; b leaves the group.
  void Decide(size_t g, Binary& b, int64_t d);
  void Settle();
  // A port instance stops: its queue empties, its driver's references leak.
  void StopPort(int instance);
  void StopAll();
  // The instance a driver event names (a new one for a name never seen or stopped).
  int Instance(const std::string& name);
  void Quarantine(const trace::BinId& id);
  void Unquarantine(const trace::BinId& id);
  bool Quarantined(const trace::BinId& id) const;
  void Report(model::Code code, const trace::Event& e, const trace::BinId& bin,
              uint32_t incarnation);

  size_t capacity_;
  bool apply_unheld_takes_;
  std::map<trace::BinId, Binary> live_;
  std::deque<trace::BinId> quarantine_;            // distinct freed ids, oldest first
  std::map<trace::BinId, uint32_t> incarnations_;  // ids live or quarantined: last number
  std::set<std::string> exited_;
  uint64_t serial_ = 0;
  struct Port {
    std::string name;
    bool stopped = false;
  };
  std::vector<Port> ports_;  // instances in order of first appearance
  int event_port_ = -1;      // the instance of the event being applied (driver events)
  bool ended_ = false;
  std::vector<Group> groups_;
  uint64_t uids_ = 0;
  std::vector<ExpectedFinding> findings_;
};

}  // namespace refctrace::reference
