// A rule violation with its evidence, as the model reports it. Plain values,
// independent of any output format.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/diagnostic_code.h"
#include "trace/event.h"

namespace refctrace::model {

// One event of a binary's history, resolved to strings.
struct Step {
  uint64_t event = 0;
  uint64_t line = 0;  // 0: unknown
  // The trace file holding this event when it is not the one holding the finding's own event:
  // another part of the same run (trace format 1.5). Empty otherwise; the model never sets it,
  // the replay of a run does.
  std::string file;
  trace::Op op = trace::Op::kEnd;
  std::string actor;
  std::string to;  // output/send destination; realloc: the id it moved to
  std::string src;
  std::string func;  // the function that made the call; empty: unknown
  std::string note;
  int64_t refc = 0;  // the emulator's count after the event
  // Events of the incarnation left out of a finding's history just before
  // this one (a history keeps its first and last events).
  uint64_t omitted_before = 0;
  std::optional<uint64_t> size;
  bool copied = false;
};

// What a finding's id names (model 1.3): a binary (driver or NIF), or one of the NIF's other
// id spaces (docs/spec/nif.md).
enum class ObjectKind : uint8_t { kBinary, kView, kResource, kEnvironment };
// "binary", "view", "resource", "environment": the output key `object`.
std::string_view ObjectKindName(ObjectKind kind);

struct Finding {
  Code code = Code::kLeak;
  ObjectKind object = ObjectKind::kBinary;  // what `bin` names
  Severity severity = Severity::kError;
  trace::BinId bin;
  uint32_t incarnation = 0;        // 1-based per id
  uint64_t event = 0;              // anchor event index
  uint64_t line = 0;               // anchor line; 0: unknown
  std::string actor;               // anchor actor; empty: unknown
  std::string src;                 // anchor source location; empty: unknown
  std::string func;                // anchor's enclosing function; empty: unknown
  std::vector<std::string> stack;  // anchor call stack, innermost first
  std::string message;
  // The port the finding concerns when it is not the default one (trace format 1.3): the
  // anchor event's port for a driver event, else the binary's owner port.
  std::string port;
  std::optional<uint64_t> size;  // the binary's size when known (leaked bytes)
  // The incarnation's events up to the anchor (for a leak: to the end); each
  // step says how many were left out before it.
  std::vector<Step> history;
};

class FindingSink {
 public:
  virtual ~FindingSink() = default;
  virtual void OnFinding(Finding finding) = 0;
};

}  // namespace refctrace::model
