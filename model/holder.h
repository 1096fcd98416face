// Who holds references to a binary incarnation, as a value: the model emits
// holders with their counts after each step, and renderers read them without
// parsing text. model/wording.h is the one place a holder becomes words.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

namespace refctrace::model {

enum class HolderKind : uint8_t {
  kDriver,    // references the driver owns
  kQueue,     // references in the I/O queue of port `process` ("": the default port)
  kMessage,   // references in messages not yet received by `process`
  kHeap,      // references in the heap of `process`
  kEmulator,  // emulator references not attributed to a process
  kNif,       // model 1.3: what the NIF owns (a binary, a resource's count, an environment)
  kTerm,      // model 1.3: a term in NIF environment `process` (the env id)
};

struct Holder {
  HolderKind kind = HolderKind::kDriver;
  // The pid for kMessage and kHeap, the port for kQueue, the environment for kTerm; else empty.
  std::string process;

  static Holder Driver() { return {HolderKind::kDriver, {}}; }
  static Holder Queue(std::string port = {}) { return {HolderKind::kQueue, std::move(port)}; }
  static Holder Emulator() { return {HolderKind::kEmulator, {}}; }
  static Holder Message(std::string pid) { return {HolderKind::kMessage, std::move(pid)}; }
  static Holder Heap(std::string pid) { return {HolderKind::kHeap, std::move(pid)}; }
  static Holder Nif() { return {HolderKind::kNif, {}}; }
  static Holder Term(std::string env) { return {HolderKind::kTerm, std::move(env)}; }

  bool IsProcess() const { return kind == HolderKind::kMessage || kind == HolderKind::kHeap; }
  friend bool operator==(const Holder& a, const Holder& b) {
    return a.kind == b.kind && a.process == b.process;
  }
  friend bool operator!=(const Holder& a, const Holder& b) { return !(a == b); }
};

// A holder and its count after a step.
struct HolderCount {
  Holder holder;
  int64_t count = 0;

  friend bool operator==(const HolderCount& a, const HolderCount& b) {
    return a.count == b.count && a.holder == b.holder;
  }
};

}  // namespace refctrace::model
