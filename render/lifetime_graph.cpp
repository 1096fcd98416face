#include "render/lifetime_graph.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <optional>

#include "model/wording.h"

namespace refctrace::render {

using model::Code;
using model::Finding;
using model::HolderCount;
using model::HolderKind;
using model::Lifetime;
using model::LifetimeStep;
using model::Plural;
using model::Severity;
using trace::Op;

namespace {

// Node ids are built from this: the id as displayed, except that a string id
// that reads like a number is quoted, so "42" and 42 never share a node.
std::string IdToken(const trace::BinId& bin) {
  const std::string shown = bin.ToDisplay();
  if (bin.kind != trace::BinId::Kind::kStr) return shown;
  const bool numeric = !shown.empty() && std::all_of(shown.begin(), shown.end(),
                                                     [](char c) { return c >= '0' && c <= '9'; });
  // Quoted like a number when cgraph would misread it: a name starting with
  // '%' is one of its internal names (it got no name of ours, and leaked).
  const bool internal = !shown.empty() && shown[0] == '%';
  return numeric || internal || shown.empty() ? "\"" + shown + "\"" : shown;
}

Severity Worst(Severity a, Severity b) {
  return static_cast<int>(a) >= static_cast<int>(b) ? a : b;
}

std::string Shorten(const std::string& text, size_t max) {
  if (text.size() <= max) return text;
  // Cut on a UTF-8 character boundary.
  size_t cut = max - 1;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
    --cut;
  return text.substr(0, cut) + "…";
}

std::vector<std::string> Wrap(const std::string& text, size_t width) {
  std::vector<std::string> lines;
  std::string line;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(' ', pos);
    if (end == std::string::npos) end = text.size();
    const std::string word = text.substr(pos, end - pos);
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      lines.push_back(line);
      line.clear();
    }
    if (!line.empty()) line += ' ';
    line += word;
    pos = end + 1;
  }
  if (!line.empty()) lines.push_back(line);
  return lines;
}

// The event as a node's first label line: "#13 output → <0.85.0>".
std::string EventHeadline(const model::Step& s) {
  if (s.op == Op::kEnd) return "end of trace";
  return "#" + std::to_string(s.event) + " " + model::EventSummary(s);
}

// Which lane an event is drawn in: whose references it is about.
enum class Where : uint8_t { kDriver, kQueue, kProcess };
// The lane of the terms of NIF environment `env` sits among the process lanes under this key
// (a pid never starts with a space).
constexpr std::string_view kTermLanePrefix = " env ";
std::string TermLaneKey(const std::string& env) {
  return std::string(kTermLanePrefix) + env;
}

Where WhereOf(const model::Step& s) {
  switch (s.op) {
    case Op::kEnq:
    case Op::kDeq:
      return Where::kQueue;
    case Op::kReceive:
    case Op::kSend:
    case Op::kGc:
    case Op::kExit:
      return s.actor.empty() || s.actor == "driver" ? Where::kDriver : Where::kProcess;
    default:
      return Where::kDriver;
  }
}

using Row = LifetimeRow;

// A lane's references after a row: a process lane's heap and unreceived
// messages; the driver's, queue's or emulator's count in `held`.
struct LaneCount {
  int64_t held = 0;
  int64_t unreceived = 0;
  int64_t unlisted = 0;  // the shared processes lane: what the processes not listed hold
};
using LaneCounts = std::vector<LaneCount>;  // per lane

constexpr size_t kDriverLane = 0;  // always the first

// The shared lane of the processes (decision 249) sits among the process lanes under this key
// (a pid never starts with a space) and this node id token.
constexpr std::string_view kSharedLaneKey = " processes";
constexpr std::string_view kSharedLaneToken = "processes";

// How many processes hold the incarnation at once after `step`: those it lists (a process's
// message and heap entries are next to each other) and those it only counts.
uint64_t ProcessesHolding(const LifetimeStep& step) {
  uint64_t n = step.unlisted.processes;
  const std::string* last = nullptr;
  for (const HolderCount& h : step.holders) {
    if (!h.holder.IsProcess()) continue;
    if (!last || *last != h.holder.process) ++n;
    last = &h.holder.process;
  }
  return n;
}

class ClusterBuilder {
 public:
  ClusterBuilder(const Lifetime& life, std::vector<const Finding*> findings,
                 const GraphOptions& options)
      : life_(life), findings_(std::move(findings)), options_(options) {}

  GraphCluster Build();

 private:
  void CollectRows();
  void CollectLanes();
  size_t LaneOf(const model::Step& s) const;
  std::optional<size_t> ProcessLane(const std::string& pid) const;
  LaneCounts CountsOf(const LifetimeStep& step) const;
  std::string LaneToken(size_t lane) const;
  size_t AddNode(GraphNode node);
  void AddLaneEdges(const std::vector<size_t>& row_nodes);
  void UpdateHolds(const LifetimeStep& step, size_t row_index);
  void AddEventRow(const Row& row, size_t row_index);
  void AddOmittedRow(uint64_t omitted, uint64_t before_event);
  void AddTerminal();
  void AddFindingNotes();
  void MarkAnchors();
  void Title();

  const Lifetime& life_;
  std::vector<const Finding*> findings_;
  const GraphOptions& options_;
  GraphCluster c_;
  std::string prefix_;
  std::vector<Row> rows_;
  std::vector<LaneCounts> row_counts_;  // per row of rows_
  LifeEnding ending_;
  const Finding* leak_ = nullptr;
  std::optional<size_t> leak_from_;  // row index where the leaked count was set

  std::vector<size_t> last_node_;  // per lane
  std::vector<Hold> hold_;         // per lane, after the last row
  std::vector<int64_t> count_;     // per lane
  std::vector<int64_t> labelled_;  // per lane, the count of the last segment
  std::vector<Hold> labelled_hold_;
  std::map<std::string, size_t> process_lane_;  // pid -> lane
  size_t queue_lane_ = kDriverLane;             // kDriverLane: there is none
  // More than kListedProcesses processes hold it at once: every process is drawn in one lane.
  std::optional<size_t> shared_lane_;
  size_t emulator_lane_ = kDriverLane;
  std::map<std::string, std::deque<uint64_t>> in_flight_;  // pid -> output/send events
  LaneCounts prev_counts_;                                 // after the last event row
  bool terminal_done_ = false;
};

GraphCluster ClusterBuilder::Build() {
  const model::IncarnationKey& start = life_.names.front();
  c_.name = IncarnationName(start);
  prefix_ = IdToken(start.bin) + "#" + std::to_string(start.incarnation);
  c_.prefix = prefix_;
  c_.id = "cluster_" + prefix_;
  for (const Finding* f : findings_) {
    c_.codes.push_back(f->code);
    c_.severity = Worst(c_.severity, f->severity);
  }
  CollectRows();
  CollectLanes();
  for (const Row& row : rows_)
    row_counts_.push_back(CountsOf(row.step));
  prev_counts_.assign(c_.lanes.size(), LaneCount{});

  // Row 0: lane heads.
  std::vector<size_t> heads;
  for (size_t i = 0; i < c_.lanes.size(); ++i) {
    const Lane& lane = c_.lanes[i];
    GraphNode n;
    n.id = prefix_ + "/" + LaneToken(i);
    n.kind = NodeKind::kLaneHead;
    n.lane = i;
    n.row = 0;
    n.lines = {lane.title};
    heads.push_back(AddNode(std::move(n)));
  }
  c_.rows.push_back(heads);
  last_node_ = heads;
  hold_.assign(c_.lanes.size(), Hold::kNone);
  count_.assign(c_.lanes.size(), 0);
  labelled_.assign(c_.lanes.size(), 0);
  labelled_hold_.assign(c_.lanes.size(), Hold::kNone);

  // Where the leaked driver reference was last set: from there the lane is red.
  if (leak_) {
    int64_t prev = 0;
    for (size_t i = 0; i < rows_.size(); ++i) {
      const Op op = rows_[i].step.step.op;
      const int64_t driver = row_counts_[i][kDriverLane].held;
      if ((op == Op::kStop || op == Op::kEnd) && driver == 0) continue;  // written off
      if (driver == 0) {
        leak_from_.reset();
      } else if (driver != prev) {
        leak_from_ = i;
      }
      prev = driver;
    }
  }

  for (size_t i = 0; i < rows_.size(); ++i) {
    const Row& row = rows_[i];
    if (row.after_end && !terminal_done_) AddTerminal();
    if (row.omitted_before) AddOmittedRow(row.omitted_before, row.step.step.event);
    AddEventRow(row, i);
  }
  if (!terminal_done_) AddTerminal();
  MarkAnchors();
  AddFindingNotes();
  Title();
  return std::move(c_);
}

void ClusterBuilder::CollectRows() {
  rows_ = RowsOf(life_, findings_);
  ending_ = EndingOf(life_, rows_, findings_);
  leak_ = ending_.leak;
}

void ClusterBuilder::CollectLanes() {
  bool queue = false;
  bool vm = false;
  std::vector<std::string> pids;
  auto add_pid = [&](const std::string& pid) {
    if (pid.empty() || pid == "driver") return;
    if (std::find(pids.begin(), pids.end(), pid) == pids.end()) pids.push_back(pid);
  };
  // Past kListedProcesses processes at once, a lane per process would be as wide as the
  // crowd and the steps list only the first of them: one lane stands for all (decision 249).
  uint64_t at_once = 0;
  for (const Row& row : rows_)
    at_once = std::max(at_once, ProcessesHolding(row.step));
  const bool shared = at_once > model::kListedProcesses;
  for (const Row& row : rows_) {
    const model::Step& s = row.step.step;
    const Where where = WhereOf(s);
    if (where == Where::kQueue) queue = true;
    if (where == Where::kProcess) add_pid(s.actor);
    if ((s.op == Op::kOutput || s.op == Op::kSend) && !s.copied) add_pid(s.to);
    for (const HolderCount& h : row.step.holders) {
      if (h.holder.kind == HolderKind::kQueue) queue = true;
      if (h.holder.kind == HolderKind::kEmulator) vm = true;
      if (h.holder.IsProcess()) add_pid(h.holder.process);
      // Terms of a NIF environment get a lane each, beside the processes.
      if (h.holder.kind == HolderKind::kTerm) add_pid(TermLaneKey(h.holder.process));
    }
  }
  // A NIF's object (model 1.3): its first lane is the NIF's.
  c_.lanes.push_back(
      {life_.nif ? LaneKind::kNif : LaneKind::kDriver, "", std::string(OwnerNoun(life_))});
  if (queue) {
    queue_lane_ = c_.lanes.size();
    c_.lanes.push_back({LaneKind::kQueue, "", "port queue"});
  }
  for (const std::string& pid : pids) {
    const bool term = pid.rfind(kTermLanePrefix, 0) == 0;
    if (shared && !term) {
      // The shared lane where the first process's would be; ProcessLane finds it for any pid.
      if (shared_lane_) continue;
      shared_lane_ = c_.lanes.size();
      c_.lanes.push_back({LaneKind::kProcess, std::string(kSharedLaneKey),
                          "processes (up to " + std::to_string(at_once) + " at once)"});
      continue;
    }
    process_lane_.emplace(pid, c_.lanes.size());
    c_.lanes.push_back({term ? LaneKind::kTerms : LaneKind::kProcess, pid,
                        term ? "terms in env " + pid.substr(kTermLanePrefix.size()) : pid});
  }
  if (vm) {
    emulator_lane_ = c_.lanes.size();
    c_.lanes.push_back({LaneKind::kEmulator, "", "emulator"});
  }
}

size_t ClusterBuilder::LaneOf(const model::Step& s) const {
  switch (WhereOf(s)) {
    case Where::kQueue:
      return queue_lane_;
    case Where::kProcess:
      return ProcessLane(s.actor).value_or(kDriverLane);
    case Where::kDriver:
      break;
  }
  return kDriverLane;
}

std::optional<size_t> ClusterBuilder::ProcessLane(const std::string& pid) const {
  if (shared_lane_ && !pid.empty() && pid != "driver" && pid.rfind(kTermLanePrefix, 0) != 0)
    return shared_lane_;
  const auto it = process_lane_.find(pid);
  if (it == process_lane_.end()) return std::nullopt;
  return it->second;
}

LaneCounts ClusterBuilder::CountsOf(const LifetimeStep& step) const {
  LaneCounts counts(c_.lanes.size());
  for (const HolderCount& h : step.holders) {
    switch (h.holder.kind) {
      case HolderKind::kDriver:
      case HolderKind::kNif:
        counts[kDriverLane].held += h.count;
        break;
      case HolderKind::kTerm:
        if (const std::optional<size_t> lane = ProcessLane(TermLaneKey(h.holder.process)))
          counts[*lane].held += h.count;
        break;
      case HolderKind::kQueue:
        counts[queue_lane_].held += h.count;
        break;
      case HolderKind::kEmulator:
        counts[emulator_lane_].held += h.count;
        break;
      case HolderKind::kMessage:
      case HolderKind::kHeap: {
        // Every holder's process has a lane, but "driver" and "" (never a
        // process's name in a sound trace) are not drawn as processes.
        const std::optional<size_t> lane = ProcessLane(h.holder.process);
        if (!lane) break;
        (h.holder.kind == HolderKind::kHeap ? counts[*lane].held : counts[*lane].unreceived) +=
            h.count;
        break;
      }
    }
  }
  if (shared_lane_) counts[*shared_lane_].unlisted = step.unlisted.references;
  return counts;
}

// A lane's part of node ids: the pid, or the title of a lane that has none.
std::string ClusterBuilder::LaneToken(size_t lane) const {
  const Lane& l = c_.lanes[lane];
  if (shared_lane_ == lane) return std::string(kSharedLaneToken);
  return l.kind == LaneKind::kProcess || l.kind == LaneKind::kTerms ? l.pid : l.title;
}

size_t ClusterBuilder::AddNode(GraphNode node) {
  c_.nodes.push_back(std::move(node));
  return c_.nodes.size() - 1;
}

void ClusterBuilder::AddLaneEdges(const std::vector<size_t>& row_nodes) {
  for (size_t lane = 0; lane < c_.lanes.size(); ++lane) {
    GraphEdge e;
    e.tail = last_node_[lane];
    e.head = row_nodes[lane];
    e.kind = EdgeKind::kLane;
    e.hold = hold_[lane];
    e.count = count_[lane];
    // The count where it changes, not on every segment.
    if (e.count > 1 && (e.count != labelled_[lane] || e.hold != labelled_hold_[lane])) {
      e.label = "×" + std::to_string(e.count);
    }
    labelled_[lane] = e.count;
    labelled_hold_[lane] = e.hold;
    c_.edges.push_back(std::move(e));
    last_node_[lane] = row_nodes[lane];
  }
}

void ClusterBuilder::UpdateHolds(const LifetimeStep& step, size_t row_index) {
  const bool leaked = leak_ && leak_from_ && row_index >= *leak_from_;
  const LaneCounts& counts = row_counts_[row_index];
  for (size_t i = 0; i < c_.lanes.size(); ++i) {
    Hold hold = Hold::kNone;
    int64_t count = counts[i].held;
    switch (c_.lanes[i].kind) {
      case LaneKind::kDriver:
      case LaneKind::kNif: {
        // The owner's lane: the driver's, or the NIF's (a view is the NIF's borrow).
        const bool nif = c_.lanes[i].kind == LaneKind::kNif;
        if (leaked) {
          // Written off at stop/end, yet never released: still the leak.
          if (count == 0) count = count_[i];
          hold = Hold::kLeaked;
        } else if (count > 0) {
          hold = nif ? Hold::kNif : Hold::kDriver;
        } else if (step.borrowed) {
          hold = nif ? Hold::kView : Hold::kBorrowed;
        }
        break;
      }
      case LaneKind::kTerms:
        if (count > 0) hold = Hold::kTerm;
        break;
      case LaneKind::kQueue:
        if (count > 0) hold = Hold::kQueue;
        break;
      case LaneKind::kProcess:
        // The shared lane is solid while a listed process has it in its heap, dashed while the
        // listed ones have it only in messages; the processes past them are counted only.
        if (counts[i].held > 0) {
          hold = Hold::kHeap;
        } else if (counts[i].unreceived > 0) {
          hold = Hold::kMessage;
        } else if (counts[i].unlisted > 0) {
          hold = Hold::kHeap;
        }
        count += counts[i].unreceived + counts[i].unlisted;
        break;
      case LaneKind::kEmulator:
        if (count > 0) hold = Hold::kEmulator;
        break;
    }
    if (hold == Hold::kNone) count = 0;
    hold_[i] = hold;
    count_[i] = count;
  }
}

void ClusterBuilder::AddEventRow(const Row& row, size_t row_index) {
  const model::Step& s = row.step.step;
  const size_t row_number = c_.rows.size();
  const size_t event_lane = LaneOf(s);
  const std::string event_token = s.op == Op::kEnd ? "end" : "e" + std::to_string(s.event);
  std::vector<size_t> row_nodes;
  for (size_t lane = 0; lane < c_.lanes.size(); ++lane) {
    GraphNode n;
    n.lane = lane;
    n.row = row_number;
    n.event = s.event;
    n.op = s.op;
    if (lane == event_lane) {
      n.id = prefix_ + "/" + event_token;
      n.kind = NodeKind::kEvent;
      n.lines.push_back(row.step.among ? "#" + std::to_string(s.event) + " " + StepSummary(row.step)
                                       : EventHeadline(s));
      // In the shared lane the lane does not say whose event it is: the headline does.
      if (shared_lane_ == lane) {
        std::string& head = n.lines.back();
        head.insert(head.find(' ') + 1, s.actor + " ");
      }
      std::string second = "refc " + std::to_string(s.refc);
      if (!s.src.empty()) second += " · " + s.src;
      n.lines.push_back(second);
      // The recorder's note often names the bug's path: two lines of it.
      const std::vector<std::string> note = Wrap(s.note, 38);
      for (size_t i = 0; i < note.size() && i < 2; ++i)
        n.lines.push_back(i == 1 && note.size() > 2 ? Shorten(note[1] + " …", 38) : note[i]);
      n.tooltip = model::DescribeStep(s) + "; refc " + std::to_string(s.refc) +
                  "; holders after: " + (AnyHolders(row.step) ? HoldersText(row.step) : "none");
      if (s.line) n.tooltip += "; line " + std::to_string(s.line);
      // An uncertain release says how it was decided (or that it was not).
      if (const std::string decided = DecisionText(row.step); !decided.empty()) {
        for (const std::string& line : Wrap(decided, 38))
          n.lines.push_back(line);
        n.tooltip += "; " + decided;
      }
    } else {
      n.id = prefix_ + "/" + event_token + "/" + LaneToken(lane);
      n.kind = NodeKind::kPass;
    }
    row_nodes.push_back(AddNode(std::move(n)));
  }
  AddLaneEdges(row_nodes);
  c_.rows.push_back(row_nodes);
  const size_t node = row_nodes[event_lane];

  // A message: an arrow from the output or send into the receiver's lane,
  // which carries it (dashed) down to the receive that takes it; that
  // receive names the event the message came from.
  const LaneCounts& now = row_counts_[row_index];
  if (s.op == Op::kReceive || s.op == Op::kSend) {
    const std::optional<size_t> actor = ProcessLane(s.actor);
    const bool took = s.op == Op::kReceive || (actor && prev_counts_[*actor].held == 0 &&
                                               prev_counts_[*actor].unreceived > 0);
    auto& queue = in_flight_[s.actor];
    if (took && !queue.empty()) {
      c_.nodes[node].lines.front() += " ← #" + std::to_string(queue.front());
      queue.pop_front();
    }
  }
  const std::optional<size_t> receiver =
      (s.op == Op::kOutput || s.op == Op::kSend) && !s.copied ? ProcessLane(s.to) : std::nullopt;
  // The shared lane counts the unlisted processes' references apart: a message to one of them
  // raises only those.
  const auto in_messages = [](const LaneCount& c) { return c.unreceived + c.unlisted; };
  if (receiver && in_messages(now[*receiver]) > in_messages(prev_counts_[*receiver])) {
    in_flight_[s.to].push_back(s.event);
    if (*receiver != event_lane) {
      GraphEdge e;
      e.tail = node;
      e.head = row_nodes[*receiver];
      e.kind = EdgeKind::kMessage;
      c_.edges.push_back(std::move(e));
    }
  }
  if (s.op == Op::kExit) in_flight_.erase(s.actor);

  UpdateHolds(row.step, row_index);
  prev_counts_ = now;
}

void ClusterBuilder::AddOmittedRow(uint64_t omitted, uint64_t before_event) {
  const size_t row_number = c_.rows.size();
  std::vector<size_t> row_nodes;
  for (size_t lane = 0; lane < c_.lanes.size(); ++lane) {
    GraphNode n;
    n.lane = lane;
    n.row = row_number;
    n.id = prefix_ + "/before-e" + std::to_string(before_event) + "/" + LaneToken(lane);
    n.kind = NodeKind::kPass;
    if (lane == 0) {
      n.id = prefix_ + "/before-e" + std::to_string(before_event);
      n.kind = NodeKind::kOmitted;
      n.lines = {"… " + Plural(omitted, "event") + " not drawn …"};
    }
    row_nodes.push_back(AddNode(std::move(n)));
  }
  AddLaneEdges(row_nodes);
  c_.rows.push_back(row_nodes);
}

void ClusterBuilder::AddTerminal() {
  terminal_done_ = true;
  if (rows_.empty()) return;
  GraphNode n;
  n.row = c_.rows.size();
  GraphEdge e;
  switch (ending_.how) {
    case LifeEnd::kNeverFreed:
      n.id = prefix_ + "/never-freed";
      n.kind = NodeKind::kNeverFreed;
      n.lane = 0;
      n.codes = {Code::kLeak};
      n.severity = leak_->severity;
      n.lines = {"never freed"};
      if (leak_->size) n.lines.push_back(Plural(*leak_->size, "byte") + " leaked");
      n.tooltip = leak_->message;
      e.tail = last_node_[0];
      e.kind = EdgeKind::kLane;
      e.hold = Hold::kLeaked;
      e.count = std::max<int64_t>(count_[0], 1);
      if (e.count > 1) e.label = "×" + std::to_string(e.count);
      break;
    case LifeEnd::kFreed:
    case LifeEnd::kAbandoned: {
      const LifetimeStep& last = ending_.at->step;
      const bool abandoned = ending_.how == LifeEnd::kAbandoned;
      n.kind = abandoned ? NodeKind::kAbandoned : NodeKind::kFreed;
      n.id = prefix_ + (abandoned ? "/abandoned" : "/freed");
      n.lane = LaneOf(last.step);
      if (abandoned) {
        n.lines = {"abandoned", "references lost: " + HoldersText(last)};
      } else {
        n.lines = {"freed"};
      }
      // The ending event is the last node of its lane.
      e.tail = last_node_[n.lane];
      e.kind = EdgeKind::kEnd;
      break;
    }
    case LifeEnd::kStillHeld:
      return;  // the lanes simply stop
  }
  const size_t node = AddNode(std::move(n));
  e.head = node;
  c_.edges.push_back(std::move(e));
  c_.rows.push_back({node});
  last_node_[c_.nodes[node].lane] = node;
}

void ClusterBuilder::MarkAnchors() {
  for (const Finding* f : findings_) {
    for (GraphNode& n : c_.nodes) {
      if (n.kind != NodeKind::kEvent || n.event != f->event) continue;
      if (std::find(n.codes.begin(), n.codes.end(), f->code) == n.codes.end())
        n.codes.push_back(f->code);
      n.severity = Worst(n.severity, f->severity);
      if (f->code != Code::kLeak) {
        n.lines.push_back("⚠ " + std::string(model::CodeName(f->code)));
        n.tooltip = std::string(model::CodeName(f->code)) + ": " + f->message + "\n" + n.tooltip;
      }
    }
  }
}

void ClusterBuilder::AddFindingNotes() {
  for (const Finding* f : findings_) {
    // A leak's note sits beside "never freed"; every other beside its event.
    std::optional<size_t> anchor;
    for (size_t i = 0; i < c_.nodes.size(); ++i) {
      const GraphNode& n = c_.nodes[i];
      if (f->code == Code::kLeak ? n.kind == NodeKind::kNeverFreed
                                 : (n.kind == NodeKind::kEvent && n.event == f->event)) {
        anchor = i;
      }
    }
    if (!anchor) continue;
    const GraphNode& at = c_.nodes[*anchor];
    GraphNode n;
    n.id = at.id + "/" + std::string(model::CodeName(f->code));
    n.kind = NodeKind::kFinding;
    n.lane = c_.lanes.size();
    n.row = at.row;
    n.event = f->event;
    n.codes = {f->code};
    n.severity = f->severity;
    n.lines.push_back(std::string(model::SeverityName(f->severity)) + "[" +
                      std::string(model::CodeName(f->code)) + "] at event " +
                      std::to_string(f->event) + (f->src.empty() ? "" : ", " + f->src));
    for (std::string& line : Wrap(f->message, options_.note_width))
      n.lines.push_back(std::move(line));
    n.tooltip = f->message;
    const size_t node = AddNode(std::move(n));
    c_.rows[c_.nodes[node].row].push_back(node);
    GraphEdge e;
    e.tail = *anchor;
    e.head = node;
    e.kind = EdgeKind::kFinding;
    c_.edges.push_back(std::move(e));
  }
}

void ClusterBuilder::Title() {
  const model::IncarnationKey& start = life_.names.front();
  // A driver's binary is the default and keeps its plain title; a NIF's object says what it is.
  std::string first = life_.nif ? std::string(ObjectNoun(life_)) + " " : std::string();
  first += start.bin.ToDisplay() + " #" + std::to_string(start.incarnation);
  std::optional<uint64_t> size;
  for (const LifetimeStep& s : life_.steps) {
    if (s.step.size) size = s.step.size;
  }
  if (size && life_.object != model::ObjectKind::kEnvironment)
    first += " · " + Plural(*size, "byte");
  for (size_t i = 1; i < life_.names.size(); ++i)
    first += " → " + life_.names[i].bin.ToDisplay();
  if (life_.adopted) first += " · adopted (not allocated in the trace)";
  c_.title.push_back(first);
  std::string second;
  for (const Finding* f : findings_) {
    if (!second.empty()) second += ", ";
    second += std::string(model::CodeName(f->code));
    second += f->code == Code::kLeak ? " (allocated at #" + std::to_string(f->event) + ")"
                                     : " at #" + std::to_string(f->event);
  }
  if (second.empty()) second = "no findings";
  c_.title.push_back(second);
}

// A rough size of a cluster in inches (10 pt labels, two-line nodes), good
// enough to share clusters among columns.
struct Extent {
  double width = 0;
  double height = 0;
};

Extent Estimate(const GraphCluster& c) {
  std::vector<size_t> chars(c.lanes.size() + 1, 0);
  for (const GraphNode& n : c.nodes) {
    size_t widest = 0;
    for (const std::string& line : n.lines)
      widest = std::max(widest, line.size());
    chars[std::min(n.lane, c.lanes.size())] = std::max(chars[n.lane], widest);
  }
  Extent e;
  for (size_t lane = 0; lane < chars.size(); ++lane) {
    if (lane == c.lanes.size() && chars[lane] == 0) break;
    e.width += static_cast<double>(std::max<size_t>(chars[lane], 8)) * 0.075 + 0.3;
  }
  e.height = static_cast<double>(c.rows.size()) * 0.62 + 0.8;
  return e;
}

// Shares clusters among columns like a masonry wall: each goes to the
// shortest column so far. The column count is the one whose page comes
// closest to a landscape screen (3:2).
void PackColumns(LifetimeGraph* g) {
  const size_t n = g->clusters.size();
  std::vector<Extent> extents;
  for (const GraphCluster& c : g->clusters)
    extents.push_back(Estimate(c));
  double best_score = 0;
  std::vector<size_t> best;
  for (size_t columns = 1; columns <= std::max<size_t>(n, 1); ++columns) {
    std::vector<double> height(columns, 0);
    std::vector<double> width(columns, 0);
    std::vector<size_t> assigned;
    for (const Extent& e : extents) {
      const size_t col =
          static_cast<size_t>(std::min_element(height.begin(), height.end()) - height.begin());
      height[col] += e.height;
      width[col] = std::max(width[col], e.width);
      assigned.push_back(col);
    }
    double page_w = 0;
    for (double w : width)
      page_w += w;
    const double page_h = *std::max_element(height.begin(), height.end());
    const double score = std::abs(std::log(std::max(page_w, 1.0) / std::max(page_h, 1.0) / 1.5));
    if (best.empty() || score < best_score - 1e-9) {
      best_score = score;
      best = assigned;
      g->columns = columns;
    }
  }
  for (size_t i = 0; i < n; ++i)
    g->clusters[i].column = best[i];
}

}  // namespace

LifetimeGraph BuildLifetimeGraph(const std::vector<Lifetime>& lifetimes,
                                 const std::vector<Finding>& findings,
                                 const GraphOptions& options) {
  LifetimeGraph g;
  g.legend = options.legend;
  uint64_t errors = 0;
  uint64_t warnings = 0;
  // Binaries with findings first: they are what the picture is for.
  std::vector<GraphCluster> clean;
  std::map<std::string_view, size_t> drawn;  // clusters per kind of object
  for (const Lifetime& life : lifetimes) {
    if (life.steps.empty() || life.names.empty()) continue;
    std::vector<const Finding*> own = FindingsOf(life, findings);
    for (const Finding* f : own) {
      if (f->severity == Severity::kError) ++errors;
      if (f->severity == Severity::kWarning) ++warnings;
    }
    const bool has_findings = !own.empty();
    (life.nif ? g.nif : g.driver) = true;
    ++drawn[ObjectNoun(life)];
    GraphCluster cluster = ClusterBuilder(life, std::move(own), options).Build();
    (has_findings ? g.clusters : clean).push_back(std::move(cluster));
  }
  for (GraphCluster& cluster : clean)
    g.clusters.push_back(std::move(cluster));
  if (!options.title.empty()) g.title.push_back(options.title);
  // "2 binaries drawn", or with a NIF's objects each kind: "1 NIF binary, 1 view drawn".
  std::string kinds;
  for (std::string_view noun : {"binary", "NIF binary", "view", "resource", "environment"}) {
    const auto it = drawn.find(noun);
    if (it == drawn.end()) continue;
    const std::string one(noun);
    const std::string many =
        one == "binary" || one == "NIF binary" ? one.substr(0, one.size() - 1) + "ies" : one + "s";
    kinds += (kinds.empty() ? "" : ", ") + Plural(it->second, one, many);
  }
  if (kinds.empty()) kinds = Plural(0, "binary", "binaries");
  std::string summary =
      kinds + " drawn · " + Plural(errors, "error") + ", " + Plural(warnings, "warning");
  g.title.push_back(summary);
  PackColumns(&g);
  return g;
}

}  // namespace refctrace::render
