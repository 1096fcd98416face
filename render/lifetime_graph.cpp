#include "render/lifetime_graph.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <optional>

#include "render/text_renderer.h"

namespace refctrace::render {

using model::Code;
using model::Finding;
using model::HolderCount;
using model::Lifetime;
using model::LifetimeStep;
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

int64_t CountOf(const std::vector<HolderCount>& holders, std::string_view name) {
  for (const HolderCount& h : holders) {
    if (h.holder == name) return h.count;
  }
  return 0;
}

Severity Worst(Severity a, Severity b) {
  return static_cast<int>(a) >= static_cast<int>(b) ? a : b;
}

std::string Plural(uint64_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
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
  return "#" + std::to_string(s.event) + " " + EventSummary(s);
}

// Which lane an event is drawn in: whose references it is about.
enum class Where : uint8_t { kDriver, kQueue, kProcess };
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
  const Finding* leak_ = nullptr;
  std::optional<size_t> leak_from_;  // row index where the leaked count was set

  std::vector<size_t> last_node_;  // per lane
  std::vector<Hold> hold_;         // per lane, after the last row
  std::vector<int64_t> count_;     // per lane
  std::vector<int64_t> labelled_;  // per lane, the count of the last segment
  std::vector<Hold> labelled_hold_;
  bool borrowed_ = false;
  std::map<std::string, std::deque<uint64_t>> in_flight_;  // pid -> output/send events
  std::vector<HolderCount> prev_holders_;
  bool terminal_done_ = false;
};

GraphCluster ClusterBuilder::Build() {
  const model::IncarnationKey& start = life_.names.front();
  c_.name = IncarnationName(start);
  prefix_ = IdToken(start.bin) + "#" + std::to_string(start.incarnation);
  c_.prefix = prefix_;
  c_.id = "cluster_" + prefix_;
  for (const Finding* f : findings_) {
    if (f->code == Code::kLeak && !leak_) leak_ = f;
    c_.codes.push_back(f->code);
    c_.severity = Worst(c_.severity, f->severity);
  }
  CollectRows();
  CollectLanes();

  // Row 0: lane heads.
  std::vector<size_t> heads;
  for (size_t i = 0; i < c_.lanes.size(); ++i) {
    const Lane& lane = c_.lanes[i];
    GraphNode n;
    n.id = prefix_ + "/" + (lane.kind == LaneKind::kProcess ? lane.pid : lane.title);
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
      const int64_t driver = CountOf(rows_[i].step.holders, "driver");
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
}

void ClusterBuilder::CollectLanes() {
  bool queue = false;
  bool vm = false;
  std::vector<std::string> pids;
  auto add_pid = [&](const std::string& pid) {
    if (pid.empty() || pid == "driver") return;
    if (std::find(pids.begin(), pids.end(), pid) == pids.end()) pids.push_back(pid);
  };
  for (const Row& row : rows_) {
    const model::Step& s = row.step.step;
    const Where where = WhereOf(s);
    if (where == Where::kQueue) queue = true;
    if (where == Where::kProcess) add_pid(s.actor);
    if ((s.op == Op::kOutput || s.op == Op::kSend) && !s.copied) add_pid(s.to);
    for (const HolderCount& h : row.step.holders) {
      if (h.holder == "queue") queue = true;
      if (h.holder == "vm") vm = true;
      if (h.holder.rfind("msg:", 0) == 0 || h.holder.rfind("proc:", 0) == 0)
        add_pid(h.holder.substr(h.holder.find(':') + 1));
    }
  }
  c_.lanes.push_back({LaneKind::kDriver, "", "driver"});
  if (queue) c_.lanes.push_back({LaneKind::kQueue, "", "port queue"});
  for (const std::string& pid : pids)
    c_.lanes.push_back({LaneKind::kProcess, pid, pid});
  if (vm) c_.lanes.push_back({LaneKind::kEmulator, "", "emulator"});
}

size_t ClusterBuilder::LaneOf(const model::Step& s) const {
  const Where where = WhereOf(s);
  for (size_t i = 0; i < c_.lanes.size(); ++i) {
    const Lane& lane = c_.lanes[i];
    if (where == Where::kQueue && lane.kind == LaneKind::kQueue) return i;
    if (where == Where::kProcess && lane.kind == LaneKind::kProcess && lane.pid == s.actor)
      return i;
  }
  return 0;
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
  const Op op = step.step.op;
  if (op == Op::kBorrow) borrowed_ = true;
  if (op == Op::kUnborrow || step.ended) borrowed_ = false;
  const bool leaked = leak_ && leak_from_ && row_index >= *leak_from_;
  for (size_t i = 0; i < c_.lanes.size(); ++i) {
    const Lane& lane = c_.lanes[i];
    Hold hold = Hold::kNone;
    int64_t count = 0;
    switch (lane.kind) {
      case LaneKind::kDriver:
        count = CountOf(step.holders, "driver");
        if (leaked) {
          // Written off at stop/end, yet never released: still the leak.
          if (count == 0) count = count_[i];
          hold = Hold::kLeaked;
        } else if (count > 0) {
          hold = Hold::kDriver;
        } else if (borrowed_) {
          hold = Hold::kBorrowed;
        }
        break;
      case LaneKind::kQueue:
        count = CountOf(step.holders, "queue");
        if (count > 0) hold = Hold::kQueue;
        break;
      case LaneKind::kProcess: {
        const int64_t heap = CountOf(step.holders, "proc:" + lane.pid);
        const int64_t msg = CountOf(step.holders, "msg:" + lane.pid);
        count = heap + msg;
        if (heap > 0) {
          hold = Hold::kHeap;
        } else if (msg > 0) {
          hold = Hold::kMessage;
        }
        break;
      }
      case LaneKind::kEmulator:
        count = CountOf(step.holders, "vm");
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
      n.lines.push_back(EventHeadline(s));
      std::string second = "refc " + std::to_string(s.refc);
      if (!s.src.empty()) second += " · " + s.src;
      n.lines.push_back(second);
      // The recorder's note often names the bug's path: two lines of it.
      const std::vector<std::string> note = Wrap(s.note, 38);
      for (size_t i = 0; i < note.size() && i < 2; ++i)
        n.lines.push_back(i == 1 && note.size() > 2 ? Shorten(note[1] + " …", 38) : note[i]);
      n.tooltip = DescribeStep(s) + "; refc " + std::to_string(s.refc) + "; holders after: " +
                  (row.step.holders.empty() ? "none" : DescribeHolders(row.step.holders));
      if (s.line) n.tooltip += "; line " + std::to_string(s.line);
    } else {
      const Lane& l = c_.lanes[lane];
      n.id = prefix_ + "/" + event_token + "/" + (l.kind == LaneKind::kProcess ? l.pid : l.title);
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
  const auto count = [](const std::vector<HolderCount>& h, const std::string& name) {
    return CountOf(h, name);
  };
  if (s.op == Op::kReceive || s.op == Op::kSend) {
    const bool took = s.op == Op::kReceive || (count(prev_holders_, "proc:" + s.actor) == 0 &&
                                               count(prev_holders_, "msg:" + s.actor) > 0);
    auto& queue = in_flight_[s.actor];
    if (took && !queue.empty()) {
      c_.nodes[node].lines.front() += " ← #" + std::to_string(queue.front());
      queue.pop_front();
    }
  }
  if ((s.op == Op::kOutput || s.op == Op::kSend) && !s.copied &&
      count(row.step.holders, "msg:" + s.to) > count(prev_holders_, "msg:" + s.to)) {
    in_flight_[s.to].push_back(s.event);
    for (size_t lane = 0; lane < c_.lanes.size(); ++lane) {
      if (c_.lanes[lane].kind != LaneKind::kProcess || c_.lanes[lane].pid != s.to) continue;
      if (lane == event_lane) break;
      GraphEdge e;
      e.tail = node;
      e.head = row_nodes[lane];
      e.kind = EdgeKind::kMessage;
      c_.edges.push_back(std::move(e));
    }
  }
  if (s.op == Op::kExit) in_flight_.erase(s.actor);

  UpdateHolds(row.step, row_index);
  prev_holders_ = row.step.holders;
}

void ClusterBuilder::AddOmittedRow(uint64_t omitted, uint64_t before_event) {
  const size_t row_number = c_.rows.size();
  std::vector<size_t> row_nodes;
  for (size_t lane = 0; lane < c_.lanes.size(); ++lane) {
    const Lane& l = c_.lanes[lane];
    GraphNode n;
    n.lane = lane;
    n.row = row_number;
    n.id = prefix_ + "/before-e" + std::to_string(before_event) + "/" +
           (l.kind == LaneKind::kProcess ? l.pid : l.title);
    n.kind = NodeKind::kPass;
    if (lane == 0) {
      n.id = prefix_ + "/before-e" + std::to_string(before_event);
      n.kind = NodeKind::kOmitted;
      n.lines = {"… " + Plural(omitted, "event", "events") + " not drawn …"};
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
  if (leak_) {
    n.id = prefix_ + "/never-freed";
    n.kind = NodeKind::kNeverFreed;
    n.lane = 0;
    n.codes = {Code::kLeak};
    n.severity = leak_->severity;
    n.lines = {"never freed"};
    if (leak_->size) n.lines.push_back(Plural(*leak_->size, "byte", "bytes") + " leaked");
    n.tooltip = leak_->message;
    e.tail = last_node_[0];
    e.kind = EdgeKind::kLane;
    e.hold = Hold::kLeaked;
    e.count = std::max<int64_t>(count_[0], 1);
    if (e.count > 1) e.label = "×" + std::to_string(e.count);
  } else if (life_.Ended()) {
    // The last step that is not after the end ended it.
    const Row* ending = nullptr;
    for (const Row& r : rows_) {
      if (!r.after_end) ending = &r;
    }
    const LifetimeStep& last = ending->step;
    const bool abandoned = last.refc != 0;
    n.kind = abandoned ? NodeKind::kAbandoned : NodeKind::kFreed;
    n.id = prefix_ + (abandoned ? "/abandoned" : "/freed");
    n.lane = LaneOf(last.step);
    if (abandoned) {
      n.lines = {"abandoned", "references lost: " + DescribeHolders(last.holders)};
    } else {
      n.lines = {"freed"};
    }
    // The ending event is the last node of its lane.
    e.tail = last_node_[n.lane];
    e.kind = EdgeKind::kEnd;
  } else {
    return;  // still held when the trace ended: the lanes simply stop
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
  std::string first = start.bin.ToDisplay() + " #" + std::to_string(start.incarnation);
  std::optional<uint64_t> size;
  for (const LifetimeStep& s : life_.steps) {
    if (s.step.size) size = s.step.size;
  }
  if (size) first += " · " + Plural(*size, "byte", "bytes");
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

std::string EventSummary(const model::Step& s) {
  std::string text;
  switch (s.op) {
    case Op::kAlloc:
      text = "alloc";
      if (s.size) text += " " + std::to_string(*s.size) + " B";
      break;
    case Op::kRealloc:
      text = "realloc";
      if (s.size) text += " " + std::to_string(*s.size) + " B";
      if (!s.to.empty()) text += " → " + s.to;
      break;
    case Op::kOutput:
    case Op::kSend:
      text = std::string(trace::OpName(s.op)) + " → " + s.to;
      if (s.copied) text += " (copied)";
      break;
    case Op::kStop:
      text = "port stop";
      break;
    case Op::kEnd:
      text = "end of trace";
      break;
    default:
      text = trace::OpName(s.op);
      break;
  }
  return text;
}

std::string IncarnationName(const model::IncarnationKey& key) {
  return key.bin.ToDisplay() + "#" + std::to_string(key.incarnation);
}

std::string DescribeHolders(const std::vector<HolderCount>& holders) {
  std::string s;
  for (const HolderCount& h : holders) {
    if (!s.empty()) s += ", ";
    if (h.holder.rfind("msg:", 0) == 0) {
      s += h.holder.substr(4) + " msg";
    } else if (h.holder.rfind("proc:", 0) == 0) {
      s += h.holder.substr(5) + " heap";
    } else if (h.holder == "vm") {
      s += "emulator";
    } else {
      s += h.holder;
    }
    s += " " + std::to_string(h.count);
  }
  return s;
}

std::vector<const Finding*> FindingsOf(const Lifetime& life, const std::vector<Finding>& findings) {
  std::vector<const Finding*> out;
  for (const Finding& f : findings) {
    if (life.HasName(f.bin, f.incarnation)) out.push_back(&f);
  }
  return out;
}

std::vector<LifetimeRow> RowsOf(const Lifetime& life, const std::vector<const Finding*>& findings) {
  std::vector<LifetimeRow> rows;
  for (size_t i = 0; i < life.steps.size(); ++i) {
    rows.push_back({life.steps[i], life.omitted_before[i], false});
  }
  auto has_event = [&](uint64_t event) {
    return std::any_of(rows.begin(), rows.end(),
                       [&](const LifetimeRow& r) { return r.step.step.event == event; });
  };
  const uint64_t last_event = rows.empty() ? 0 : rows.back().step.step.event;
  std::vector<LifetimeRow> extra;
  for (const Finding* f : findings) {
    if (f->history.empty()) continue;
    const model::Step& last = f->history.back();
    if (f->code == Code::kLeak) {
      // The end of the trace, when the model saw no step for it (a process
      // still held the binary): the driver's and queue's references end here.
      if ((last.op == Op::kEnd || last.op == Op::kStop) && last.event > last_event &&
          !has_event(last.event)) {
        LifetimeRow r;
        r.step.step = last;
        for (const HolderCount& h :
             rows.empty() ? std::vector<HolderCount>{} : rows.back().step.holders) {
          if (h.holder != "driver" && h.holder != "queue") r.step.holders.push_back(h);
        }
        for (const HolderCount& h : r.step.holders)
          r.step.refc += h.count;
        extra.push_back(std::move(r));
      }
      continue;
    }
    // An op on the id after this incarnation was freed (double-free,
    // use-after-free): the model keeps no step for it, the finding does.
    if (last.event == f->event && !has_event(f->event) && f->event > last_event && life.Ended()) {
      LifetimeRow r;
      r.step.step = last;
      r.after_end = true;
      extra.push_back(std::move(r));
    }
  }
  std::sort(extra.begin(), extra.end(), [](const LifetimeRow& a, const LifetimeRow& b) {
    return a.step.step.event < b.step.step.event;
  });
  for (LifetimeRow& r : extra) {
    if (has_event(r.step.step.event)) continue;
    rows.push_back(std::move(r));
  }
  return rows;
}

LifetimeGraph BuildLifetimeGraph(const std::vector<Lifetime>& lifetimes,
                                 const std::vector<Finding>& findings,
                                 const GraphOptions& options) {
  LifetimeGraph g;
  g.legend = options.legend;
  uint64_t errors = 0;
  uint64_t warnings = 0;
  // Binaries with findings first: they are what the picture is for.
  std::vector<GraphCluster> clean;
  for (const Lifetime& life : lifetimes) {
    if (life.steps.empty() || life.names.empty()) continue;
    std::vector<const Finding*> own = FindingsOf(life, findings);
    for (const Finding* f : own) {
      if (f->severity == Severity::kError) ++errors;
      if (f->severity == Severity::kWarning) ++warnings;
    }
    const bool has_findings = !own.empty();
    GraphCluster cluster = ClusterBuilder(life, std::move(own), options).Build();
    (has_findings ? g.clusters : clean).push_back(std::move(cluster));
  }
  for (GraphCluster& cluster : clean)
    g.clusters.push_back(std::move(cluster));
  if (!options.title.empty()) g.title.push_back(options.title);
  std::string summary = Plural(g.clusters.size(), "binary", "binaries") + " drawn · " +
                        Plural(errors, "error", "errors") + ", " +
                        Plural(warnings, "warning", "warnings");
  g.title.push_back(summary);
  PackColumns(&g);
  return g;
}

}  // namespace refctrace::render
