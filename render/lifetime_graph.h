// The picture of binary lifetimes as plain data: one cluster per incarnation,
// holders as lanes, events as rows. No Graphviz types: render/graphviz.cpp
// turns it into a drawing, and tests inspect it directly.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/diagnostic_code.h"
#include "model/finding.h"
#include "model/lifetime_recorder.h"
#include "render/lifetime_rows.h"

namespace refctrace::render {

// A column of an incarnation's picture: who can hold references. A driver's binary has the
// driver's lane first, a NIF's object the NIF's (model 1.3), then the terms of each NIF
// environment that holds it.
enum class LaneKind : uint8_t { kDriver, kQueue, kProcess, kEmulator, kNif, kTerms };

struct Lane {
  LaneKind kind = LaneKind::kDriver;
  std::string pid;  // kProcess; kTerms: a key that no pid has
  std::string title;
};

enum class NodeKind : uint8_t {
  kLaneHead,    // a lane's title, top row
  kEvent,       // one trace event, in the lane of whoever performed it
  kPass,        // a lane passing a row where it has no event
  kOmitted,     // events left out of a long life
  kFreed,       // refc reached 0: the emulator frees the binary
  kAbandoned,   // alloc-live / realloc onto a live id: references lost
  kNeverFreed,  // leak: the driver's reference never ends
  kFinding,     // a finding's message, beside its anchor event
};

// What a lane segment (one row to the next) carries.
enum class Hold : uint8_t {
  kNone,      // nothing: a thin lifeline
  kDriver,    // references the driver owns
  kBorrowed,  // the driver uses the binary inside a callback, owning nothing
  kQueue,     // references in the port's I/O queue
  kMessage,   // references in messages not yet received by the process
  kHeap,      // references in the process heap
  kEmulator,  // emulator references not attributed to a process
  kLeaked,    // driver (or NIF) references that are never released
  kNif,       // the NIF owns it (a binary, a resource's count, a live environment)
  kView,      // the NIF reads a term's bytes (a view), owning nothing
  kTerm,      // a term of a NIF environment holds it
};

enum class EdgeKind : uint8_t {
  kLane,     // a lane from one row to the next
  kMessage,  // output/send into the receiver's lane (its receive says "← #N")
  kFinding,  // a finding's message to its anchor event
  kEnd,      // an event to the terminal node (freed / abandoned)
};

struct GraphNode {
  std::string id;  // deterministic: built from bin, incarnation and event index
  NodeKind kind = NodeKind::kPass;
  size_t lane = 0;  // index into the cluster's lanes (kFinding: past the last lane)
  size_t row = 0;
  std::vector<std::string> lines;  // the label, one entry per line
  std::string tooltip;
  uint64_t event = 0;  // kEvent and kFinding
  trace::Op op = trace::Op::kEnd;
  std::vector<model::Code> codes;  // findings anchored here (kEvent, kNeverFreed, kFinding)
  model::Severity severity = model::Severity::kNote;  // the worst of `codes`
};

struct GraphEdge {
  size_t tail = 0;  // node indices within the cluster
  size_t head = 0;
  EdgeKind kind = EdgeKind::kLane;
  Hold hold = Hold::kNone;
  int64_t count = 0;  // references the segment carries
  std::string label;
};

struct GraphCluster {
  std::string id;                  // "cluster_" + prefix
  std::string prefix;              // "<bin>#<incarnation>", unique: node ids start with it
  std::string name;                // "<bin>#<incarnation>", as --bin takes it
  std::vector<std::string> title;  // lines
  std::vector<model::Code> codes;  // every finding of the incarnation, report order
  model::Severity severity = model::Severity::kNote;
  std::vector<Lane> lanes;
  std::vector<GraphNode> nodes;
  std::vector<GraphEdge> edges;
  // Node indices per row, left to right; row 0 holds the lane heads.
  std::vector<std::vector<size_t>> rows;
  size_t column = 0;  // which column of clusters on the page it stacks in
};

struct LifetimeGraph {
  std::vector<std::string> title;  // lines
  std::vector<GraphCluster> clusters;
  size_t columns = 1;  // columns of clusters on the page
  bool legend = true;
  // Which owners the clusters drawn have (the legend explains only theirs).
  bool driver = false;
  bool nif = false;
};

struct GraphOptions {
  std::string title;  // first title line, e.g. the trace path
  bool legend = true;
  size_t note_width = 46;  // wrap finding messages at this many characters
};

// `findings` are the replay's (any order); those of the lifetimes drawn mark
// their anchor events. Lifetimes with findings come first, then the others,
// each in the order given.
LifetimeGraph BuildLifetimeGraph(const std::vector<model::Lifetime>& lifetimes,
                                 const std::vector<model::Finding>& findings,
                                 const GraphOptions& options);

}  // namespace refctrace::render
