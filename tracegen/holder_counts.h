// What one binary incarnation's holders hold, moved by the model's rules
// (docs/spec/model.md): the one copy of those rules that the trace generators
// (bench/gen_trace.cpp, tests/property_test.cpp) keep so that they emit only
// legal ops and know the count the emulator would report. Processes are the
// generator's own small numbers.
#pragma once

#include <cstdint>
#include <vector>

namespace refctrace::tracegen {

struct ProcessCounts {
  uint32_t process = 0;
  int64_t msg = 0;   // in messages the process has not received
  int64_t proc = 0;  // in the process's heap
};

struct HolderCounts {
  int64_t driver = 0;
  int64_t queue = 0;
  int64_t vm = 0;  // emulator references no process is known for (a borrow's sender)
  bool borrowed = false;
  // Processes that hold or held it; entries may hold nothing.
  std::vector<ProcessCounts> processes;

  // The accounted count: what driver_binary_get_refc returns.
  int64_t Refc() const {
    int64_t sum = driver + queue + vm;
    for (const ProcessCounts& p : processes)
      sum += p.msg + p.proc;
    return sum;
  }
  // The driver may use it (driver ops need this): it owns a reference, borrows it in a
  // callback, or finds it in its port's queue (model 1.2, decision 62).
  bool Access() const { return driver >= 1 || borrowed || queue >= 1; }
  // `write` and `realloc` are legal: the driver holds every reference.
  bool SoleDriver() const { return driver >= 1 && !borrowed && Refc() == driver; }
  // The incarnation ends: nothing holds it and no callback has it borrowed.
  bool Unheld() const { return Refc() == 0 && !borrowed; }
  bool HasMessage() const {
    for (const ProcessCounts& p : processes)
      if (p.msg > 0) return true;
    return false;
  }
  bool HasHeap() const {
    for (const ProcessCounts& p : processes)
      if (p.proc > 0) return true;
    return false;
  }

  ProcessCounts* Find(uint32_t process) {
    for (ProcessCounts& p : processes)
      if (p.process == process) return &p;
    return nullptr;
  }
  ProcessCounts& Of(uint32_t process) {
    if (ProcessCounts* p = Find(process)) return *p;
    processes.push_back(ProcessCounts{process, 0, 0});
    return processes.back();
  }

  // `output` or `send` that gave `to` a reference (not copied, `to` alive).
  void Message(uint32_t to) { Of(to).msg += 1; }
  // `receive`: a pending message moves to the heap, or else the process got
  // the binary by an untraced send.
  void Receive(uint32_t process) {
    ProcessCounts& p = Of(process);
    if (p.msg > 0) p.msg -= 1;
    p.proc += 1;
  }
  // What `send` does to the sender: with nothing in its heap it first takes a
  // pending message (an untraced receive) or else got one by an untraced path.
  void SendFrom(uint32_t process) {
    ProcessCounts& p = Of(process);
    if (p.proc > 0) return;
    if (p.msg > 0) p.msg -= 1;
    p.proc += 1;
  }
  // A legal `gc` of `count`: from the process's heap if it holds that many,
  // else from `vm`.
  void Gc(uint32_t process, int64_t count) {
    ProcessCounts* p = Find(process);
    if (p != nullptr && p->proc >= count) {
      p->proc -= count;
    } else {
      vm -= count;
    }
  }
  // Processes that hold nothing are forgotten (last first, each replaced by
  // the last entry).
  void ForgetEmpty() {
    for (size_t i = processes.size(); i-- > 0;) {
      if (processes[i].msg == 0 && processes[i].proc == 0) {
        processes[i] = processes.back();
        processes.pop_back();
      }
    }
  }
  // `exit`: every reference of the process goes; returns how many.
  int64_t Exit(uint32_t process) {
    for (size_t i = 0; i < processes.size(); ++i) {
      if (processes[i].process != process) continue;
      const int64_t dropped = processes[i].msg + processes[i].proc;
      processes[i] = processes.back();
      processes.pop_back();
      return dropped;
    }
    return 0;
  }
};

}  // namespace refctrace::tracegen
