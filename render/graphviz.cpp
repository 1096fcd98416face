// Every Graphviz call of refctrace is in this file (libcgraph to build the
// graph, libgvc to lay it out and render it).
#include "render/graphviz.h"

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include <string>
#include <unordered_map>
#include <vector>

namespace refctrace::render {

using model::Severity;

namespace {

// ---------------------------------------------------------------------------
// Colours and shapes: what the legend explains.

constexpr const char* kFont = "Helvetica,Arial,sans-serif";
constexpr const char* kRed = "#dc2626";
constexpr const char* kAmber = "#d97706";
constexpr const char* kTeal = "#0d9488";  // the NIF's lane, as blue is the driver's
constexpr const char* kPink = "#db2777";  // the terms of a NIF environment

struct HoldStyle {
  const char* color;
  const char* style;
  const char* penwidth;
  const char* meaning;  // legend text; null: not in the legend
};

HoldStyle StyleOf(Hold hold) {
  switch (hold) {
    case Hold::kNone:
      return {"#d1d5db", "solid", "1", nullptr};
    case Hold::kDriver:
      return {"#2563eb", "solid", "4", "the driver holds a reference"};
    case Hold::kBorrowed:
      return {"#2563eb", "dashed", "2", "borrowed in a callback: usable, not owned"};
    case Hold::kQueue:
      return {"#7c3aed", "solid", "4", "the port queue holds a reference"};
    case Hold::kMessage:
      return {"#16a34a", "dashed", "3", "in a message the process has not received"};
    case Hold::kHeap:
      return {"#16a34a", "solid", "4", "in the process heap"};
    case Hold::kEmulator:
      return {"#6b7280", "solid", "4", "the emulator holds a reference (e.g. the sender's)"};
    case Hold::kLeaked:
      return {kRed, "solid", "5", "leaked: the driver's reference never ends"};
    case Hold::kNif:
      return {kTeal, "solid", "4",
              "the NIF owns it (a binary, a resource's count, an environment)"};
    case Hold::kView:
      return {kTeal, "dashed", "2", "a view: the NIF reads a term's bytes, owning nothing"};
    case Hold::kTerm:
      return {kPink, "solid", "4", "a term in a NIF environment holds it"};
  }
  return {"black", "solid", "1", nullptr};
}

const char* LaneFill(LaneKind kind) {
  switch (kind) {
    case LaneKind::kDriver:
      return "#dbeafe";
    case LaneKind::kQueue:
      return "#ede9fe";
    case LaneKind::kProcess:
      return "#dcfce7";
    case LaneKind::kEmulator:
      return "#f3f4f6";
    case LaneKind::kNif:
      return "#ccfbf1";
    case LaneKind::kTerms:
      return "#fce7f3";
  }
  return "white";
}

const char* EventFill(LaneKind kind) {
  switch (kind) {
    case LaneKind::kDriver:
      return "#eff6ff";
    case LaneKind::kQueue:
      return "#f5f3ff";
    case LaneKind::kProcess:
      return "#f0fdf4";
    case LaneKind::kEmulator:
      return "#f9fafb";
    case LaneKind::kNif:
      return "#f0fdfa";
    case LaneKind::kTerms:
      return "#fdf2f8";
  }
  return "white";
}

// ---------------------------------------------------------------------------
// Text.

// A label line for an escString attribute: backslashes would start escapes.
std::string EscLine(const std::string& line) {
  std::string s;
  for (char c : line) {
    if (c == '\\') s += '\\';
    s += c;
  }
  return s;
}

// Lines joined with centred (\n) or left-justified (\l) breaks.
std::string Label(const std::vector<std::string>& lines, bool left = false) {
  std::string s;
  for (size_t i = 0; i < lines.size(); ++i) {
    s += EscLine(lines[i]);
    if (left) {
      s += "\\l";
    } else if (i + 1 < lines.size()) {
      s += "\\n";
    }
  }
  return s;
}

std::string Html(const std::string& text) {
  std::string s;
  for (char c : text) {
    switch (c) {
      case '&':
        s += "&amp;";
        break;
      case '<':
        s += "&lt;";
        break;
      case '>':
        s += "&gt;";
        break;
      case '"':
        s += "&quot;";
        break;
      default:
        s += c;
    }
  }
  return s;
}

// ---------------------------------------------------------------------------
// Graphviz's messages, once the executable called CaptureGraphvizMessages():
// kept per thread for the RenderGraph running on it.

thread_local std::string t_messages;

int CollectMessage(char* text) {
  if (text) t_messages += text;
  return 0;
}

// agwrite to a std::ostream.
int PutToStream(void* chan, const char* str) {
  *static_cast<std::ostream*>(chan) << str;
  return 0;
}
int FlushStream(void* chan) {
  static_cast<std::ostream*>(chan)->flush();
  return 0;
}
int NoRead(void*, char*, int) {
  return 0;
}
Agiodisc_t g_stream_io = {NoRead, PutToStream, FlushStream};

// Object ids in creation order. Graphviz's default discipline uses the
// address of the interned name as the id, and orders subgraphs by id: the
// DOT would list clusters in pointer order. Here a name's id is its position
// among the names seen (even), and anonymous objects (edges) count apart
// (odd, as cgraph expects). Names are kept as cgraph strings (agstrdup), as
// agnameof's callers expect; agclose frees them with the graph's strings.
struct IdTable {
  Agraph_t* graph = nullptr;
  std::unordered_map<std::string, IDTYPE> ids;
  std::vector<char*> names;  // names[id / 2 - 1]
  IDTYPE next_anonymous = 1;
};
void* IdOpen(Agraph_t* g, Agdisc_t*) {
  auto* table = new IdTable;
  table->graph = g;
  return table;
}
long IdMap(void* state, int, char* name, IDTYPE* id, int create) {
  IdTable& table = *static_cast<IdTable*>(state);
  if (!name) {
    if (!create) return 0;
    *id = table.next_anonymous;
    table.next_anonymous += 2;
    return 1;
  }
  auto it = table.ids.find(name);
  if (it != table.ids.end()) {
    *id = it->second;
    return 1;
  }
  if (!create) return 0;
  table.names.push_back(agstrdup(table.graph, name));
  *id = 2 * static_cast<IDTYPE>(table.names.size());
  table.ids.emplace(name, *id);
  return 1;
}
long IdAlloc(void*, int, IDTYPE) {
  return 0;  // ids are never requested by number
}
void IdFree(void*, int, IDTYPE) {}
char* IdPrint(void* state, int, IDTYPE id) {
  IdTable& table = *static_cast<IdTable*>(state);
  if (id % 2 != 0 || id == 0 || id / 2 > table.names.size()) return nullptr;
  return table.names[id / 2 - 1];
}
void IdClose(void* state) {
  delete static_cast<IdTable*>(state);
}
void IdRegister(void*, int, void*) {}
Agiddisc_t g_sequential_ids = {IdOpen, IdMap, IdAlloc, IdFree, IdPrint, IdClose, IdRegister};

Agdisc_t g_stream_disc = {&AgMemDisc, &g_sequential_ids, &g_stream_io};

// ---------------------------------------------------------------------------
// LifetimeGraph -> cgraph.

// Graphviz 2.42 takes char* for strings it only reads.
char* C(const char* s) {
  return const_cast<char*>(s);
}
char* C(const std::string& s) {
  return const_cast<char*>(s.c_str());
}

class CgraphBuilder {
 public:
  explicit CgraphBuilder(const LifetimeGraph& graph) : graph_(graph) {}
  ~CgraphBuilder() {
    if (g_) agclose(g_);
  }
  CgraphBuilder(const CgraphBuilder&) = delete;
  CgraphBuilder& operator=(const CgraphBuilder&) = delete;

  Agraph_t* Build();

 private:
  void Defaults();
  void Set(void* obj, const char* name, const std::string& value) {
    agsafeset(obj, C(name), C(value), C(""));
  }
  void SetHtml(void* obj, Agsym_t* sym, const std::string& html) {
    char* s = agstrdup_html(g_, C(html));
    agxset(obj, sym, s);
    agstrfree(g_, s);
  }
  Agedge_t* Edge(Agraph_t* sub, Agnode_t* tail, Agnode_t* head) {
    return agedge(sub, tail, head, nullptr, 1);
  }
  void AddCluster(const GraphCluster& cluster, std::vector<Agnode_t*>* nodes);
  void StyleNode(const GraphCluster& cluster, const GraphNode& node, Agnode_t* n);
  void StyleEdge(const GraphEdge& edge, Agedge_t* e);
  std::string Legend() const;

  const LifetimeGraph& graph_;
  Agraph_t* g_ = nullptr;
  Agsym_t* node_label_ = nullptr;
  Agsym_t* graph_label_ = nullptr;
};

void CgraphBuilder::Defaults() {
  // Declared up front, so the DOT lists defaults once and in a fixed order.
  agattr(g_, AGRAPH, C("rankdir"), C("TB"));
  agattr(g_, AGRAPH, C("newrank"), C("true"));
  agattr(g_, AGRAPH, C("fontname"), C(kFont));
  agattr(g_, AGRAPH, C("fontsize"), C("18"));
  agattr(g_, AGRAPH, C("labelloc"), C("t"));
  agattr(g_, AGRAPH, C("nodesep"), C("0.18"));
  agattr(g_, AGRAPH, C("ranksep"), C("0.12"));
  agattr(g_, AGRAPH, C("bgcolor"), C("white"));
  agattr(g_, AGRAPH, C("pad"), C("0.3"));
  // Edges after nodes, so count labels are never hidden under a box (lanes
  // stop at event boxes and run into pass nodes' centres).
  agattr(g_, AGRAPH, C("outputorder"), C("nodesfirst"));
  agattr(g_, AGRAPH, C("splines"), C("line"));
  graph_label_ = agattr(g_, AGRAPH, C("label"), C(""));
  agattr(g_, AGRAPH, C("style"), C(""));
  agattr(g_, AGRAPH, C("color"), C("black"));
  agattr(g_, AGRAPH, C("penwidth"), C("1"));
  agattr(g_, AGRAPH, C("rank"), C(""));
  agattr(g_, AGRAPH, C("margin"), C(""));
  agattr(g_, AGRAPH, C("tooltip"), C(""));

  agattr(g_, AGNODE, C("shape"), C("box"));
  agattr(g_, AGNODE, C("style"), C("rounded,filled"));
  agattr(g_, AGNODE, C("fontname"), C(kFont));
  agattr(g_, AGNODE, C("fontsize"), C("10"));
  agattr(g_, AGNODE, C("fillcolor"), C("white"));
  agattr(g_, AGNODE, C("color"), C("#6b7280"));
  agattr(g_, AGNODE, C("fontcolor"), C("black"));
  agattr(g_, AGNODE, C("penwidth"), C("1"));
  agattr(g_, AGNODE, C("width"), C("0.3"));
  agattr(g_, AGNODE, C("height"), C("0.3"));
  agattr(g_, AGNODE, C("margin"), C("0.08,0.03"));
  node_label_ = agattr(g_, AGNODE, C("label"), C("\\N"));
  agattr(g_, AGNODE, C("tooltip"), C(""));
  // Nodes of one lane share a group, which keeps the lane straight.
  agattr(g_, AGNODE, C("group"), C(""));
  // Finding marks, for tools and tests that read the DOT back.
  agattr(g_, AGNODE, C("class"), C(""));

  agattr(g_, AGEDGE, C("dir"), C("none"));
  agattr(g_, AGEDGE, C("arrowhead"), C("normal"));
  agattr(g_, AGEDGE, C("color"), C("#d1d5db"));
  agattr(g_, AGEDGE, C("style"), C("solid"));
  agattr(g_, AGEDGE, C("penwidth"), C("1"));
  agattr(g_, AGEDGE, C("weight"), C("1"));
  agattr(g_, AGEDGE, C("constraint"), C("true"));
  // Counts are external labels, placed after layout: a `label` would double
  // the ranks of the picture.
  agattr(g_, AGEDGE, C("xlabel"), C(""));
  agattr(g_, AGEDGE, C("fontname"), C(kFont));
  agattr(g_, AGEDGE, C("fontsize"), C("9"));
  agattr(g_, AGEDGE, C("fontcolor"), C("black"));
  agattr(g_, AGEDGE, C("headclip"), C("true"));
  agattr(g_, AGEDGE, C("tailclip"), C("true"));
  agattr(g_, AGEDGE, C("class"), C(""));
}

Agraph_t* CgraphBuilder::Build() {
  g_ = agopen(C("refctrace"), Agdirected, &g_stream_disc);
  Defaults();
  // Title and legend make the graph's label: a legend node would share a
  // rank with the clusters' first rows and stretch them.
  std::string title = "<table border=\"0\" cellspacing=\"0\" cellpadding=\"2\">";
  for (size_t i = 0; i < graph_.title.size(); ++i) {
    title += "<tr><td>";
    title += i == 0 ? "<b>" + Html(graph_.title[i]) + "</b>"
                    : "<font point-size=\"13\">" + Html(graph_.title[i]) + "</font>";
    title += "</td></tr>";
  }
  if (graph_.legend) {
    title += "<tr><td><font point-size=\"10\">" + Legend() + "</font></td></tr>";
  }
  title += "</table>";
  SetHtml(g_, graph_label_, title);

  // Clusters stack in their columns: an invisible edge from the bottom of
  // one to the top of the next below it.
  std::vector<Agnode_t*> bottoms(std::max<size_t>(graph_.columns, 1), nullptr);
  for (const GraphCluster& cluster : graph_.clusters) {
    std::vector<Agnode_t*> nodes;
    AddCluster(cluster, &nodes);
    Agnode_t* top = nodes.at(cluster.rows.front().front());
    Agnode_t*& above = bottoms.at(std::min(cluster.column, bottoms.size() - 1));
    if (above) {
      Agedge_t* e = Edge(g_, above, top);
      Set(e, "style", "invis");
      Set(e, "weight", "0");
    }
    above = nodes.at(cluster.rows.back().front());
  }
  return g_;
}

void CgraphBuilder::AddCluster(const GraphCluster& cluster, std::vector<Agnode_t*>* nodes) {
  Agraph_t* sub = agsubg(g_, C(cluster.id), 1);
  std::string title = "<b>" + Html(cluster.title.at(0)) + "</b>";
  for (size_t i = 1; i < cluster.title.size(); ++i) {
    const bool bad = !cluster.codes.empty();
    title += "<br/>";
    title += bad ? std::string("<font color=\"") +
                       (cluster.severity == Severity::kError ? kRed : kAmber) + "\"><b>" +
                       Html(cluster.title[i]) + "</b></font>"
                 : "<font color=\"#6b7280\">" + Html(cluster.title[i]) + "</font>";
  }
  SetHtml(sub, graph_label_, title);
  Set(sub, "style", "rounded");
  Set(sub, "fontsize", "13");
  Set(sub, "margin", "12");
  if (cluster.codes.empty()) {
    Set(sub, "color", "#9ca3af");
  } else {
    Set(sub, "color", cluster.severity == Severity::kError ? kRed : kAmber);
    Set(sub, "penwidth", "2");
  }

  // A pass node is a dot in its lane's colour, so the lane's segments join
  // without a gap: the colour of the segment into it, else out of it.
  std::vector<Hold> in(cluster.nodes.size(), Hold::kNone);
  std::vector<Hold> out(cluster.nodes.size(), Hold::kNone);
  for (const GraphEdge& edge : cluster.edges) {
    if (edge.kind != EdgeKind::kLane) continue;
    in[edge.head] = edge.hold;
    out[edge.tail] = edge.hold;
  }
  for (size_t i = 0; i < cluster.nodes.size(); ++i) {
    const GraphNode& node = cluster.nodes[i];
    Agnode_t* n = agnode(sub, C(node.id), 1);
    StyleNode(cluster, node, n);
    if (node.kind == NodeKind::kPass) {
      const HoldStyle s = StyleOf(in[i] != Hold::kNone ? in[i] : out[i]);
      Set(n, "color", s.color);
      Set(n, "fillcolor", s.color);
      Set(n, "width", std::to_string(std::stod(s.penwidth) / 72.0).substr(0, 5));
    }
    nodes->push_back(n);
  }
  // Rows: same rank, and kept in lane order by invisible flat edges.
  for (size_t r = 0; r < cluster.rows.size(); ++r) {
    const std::vector<size_t>& row = cluster.rows[r];
    // Not named "cluster...": a row is a rank, not a box.
    const std::string name = "row " + std::to_string(r) + " of " + cluster.prefix;
    Agraph_t* rank = agsubg(sub, C(name), 1);
    Set(rank, "rank", "same");
    for (size_t i = 0; i < row.size(); ++i) {
      agsubnode(rank, (*nodes)[row[i]], 1);
      if (i == 0) continue;
      Agedge_t* e = Edge(sub, (*nodes)[row[i - 1]], (*nodes)[row[i]]);
      Set(e, "style", "invis");
    }
  }
  for (const GraphEdge& edge : cluster.edges) {
    Agedge_t* e = Edge(sub, (*nodes)[edge.tail], (*nodes)[edge.head]);
    StyleEdge(edge, e);
    // A lane runs into a pass node's centre (no gap), but stops at an event's
    // box, so a count label at the tail sits just below the box.
    if (edge.kind == EdgeKind::kLane) {
      if (cluster.nodes[edge.tail].kind == NodeKind::kPass) Set(e, "tailclip", "false");
      if (cluster.nodes[edge.head].kind == NodeKind::kPass) Set(e, "headclip", "false");
    }
  }
}

void CgraphBuilder::StyleNode(const GraphCluster& cluster, const GraphNode& node, Agnode_t* n) {
  const LaneKind lane =
      node.lane < cluster.lanes.size() ? cluster.lanes[node.lane].kind : LaneKind::kDriver;
  const bool error = !node.codes.empty() && node.severity == Severity::kError;
  const bool warning = !node.codes.empty() && node.severity == Severity::kWarning;
  std::string codes;
  for (model::Code code : node.codes) {
    if (!codes.empty()) codes += " ";
    codes += model::CodeName(code);
  }
  if (!node.tooltip.empty()) Set(n, "tooltip", node.tooltip);
  if (node.kind != NodeKind::kFinding) {
    Set(n, "group", cluster.prefix + "/" + std::to_string(node.lane));
  }
  switch (node.kind) {
    case NodeKind::kLaneHead:
      Set(n, "label", Label(node.lines));
      Set(n, "shape", "box");
      Set(n, "style", "filled");
      Set(n, "fillcolor", LaneFill(lane));
      Set(n, "color", "#9ca3af");
      Set(n, "fontsize", "11");
      Set(n, "class", "lane");
      break;
    case NodeKind::kEvent:
      Set(n, "label", Label(node.lines));
      Set(n, "fillcolor", EventFill(lane));
      Set(n, "class", "event");
      if (error || warning) {
        // Only a leak's anchor (its alloc) is outlined; the leak itself is
        // drawn at "never freed".
        const bool only_leak = node.codes.size() == 1 && node.codes[0] == model::Code::kLeak;
        Set(n, "color", error ? kRed : kAmber);
        Set(n, "penwidth", only_leak ? "2" : "3");
        if (!only_leak) Set(n, "fillcolor", error ? "#fecaca" : "#fef3c7");
        Set(n, "class", "event finding " + codes);
      }
      break;
    case NodeKind::kPass:
      Set(n, "label", "");
      Set(n, "shape", "point");
      Set(n, "style", "filled");
      Set(n, "class", "pass");
      break;
    case NodeKind::kOmitted:
      Set(n, "label", Label(node.lines));
      Set(n, "shape", "plaintext");
      Set(n, "style", "");
      Set(n, "fontcolor", "#6b7280");
      Set(n, "class", "omitted");
      break;
    case NodeKind::kFreed:
      Set(n, "label", Label(node.lines));
      Set(n, "fillcolor", "#f3f4f6");
      Set(n, "fontcolor", "#374151");
      Set(n, "class", "freed");
      break;
    case NodeKind::kAbandoned:
      Set(n, "label", Label(node.lines));
      Set(n, "shape", "octagon");
      Set(n, "style", "filled");
      Set(n, "fillcolor", "#fecaca");
      Set(n, "color", kRed);
      Set(n, "class", "abandoned");
      break;
    case NodeKind::kNeverFreed:
      Set(n, "label", Label(node.lines));
      Set(n, "shape", "octagon");
      Set(n, "style", "filled,bold");
      Set(n, "fillcolor", kRed);
      Set(n, "color", "#991b1b");
      Set(n, "fontcolor", "white");
      Set(n, "fontsize", "11");
      Set(n, "class", "never-freed finding " + codes);
      break;
    case NodeKind::kFinding:
      Set(n, "label", Label(node.lines, /*left=*/true));
      Set(n, "shape", "note");
      Set(n, "style", "filled");
      Set(n, "fillcolor", error ? "#fff1f2" : "#fffbeb");
      Set(n, "color", error ? kRed : kAmber);
      Set(n, "fontcolor", error ? "#7f1d1d" : "#78350f");
      Set(n, "class", "note " + codes);
      break;
  }
}

void CgraphBuilder::StyleEdge(const GraphEdge& edge, Agedge_t* e) {
  switch (edge.kind) {
    case EdgeKind::kLane: {
      const HoldStyle s = StyleOf(edge.hold);
      Set(e, "color", s.color);
      Set(e, "style", s.style);
      Set(e, "penwidth", s.penwidth);
      Set(e, "weight", "100");
      if (!edge.label.empty()) {
        Set(e, "xlabel", edge.label);
        Set(e, "fontcolor", s.color);
      }
      Set(e, "class", edge.hold == Hold::kNone ? "lane" : "lane hold");
      break;
    }
    case EdgeKind::kMessage:
      Set(e, "dir", "forward");
      Set(e, "color", "#16a34a");
      Set(e, "style", "dashed");
      Set(e, "penwidth", "1.5");
      // Across its row: it must not reorder the lanes.
      Set(e, "constraint", "false");
      Set(e, "headclip", "false");
      Set(e, "class", "message");
      break;
    case EdgeKind::kFinding:
      Set(e, "color", kRed);
      Set(e, "style", "dashed");
      Set(e, "class", "note");
      break;
    case EdgeKind::kEnd:
      Set(e, "dir", "forward");
      Set(e, "color", "#6b7280");
      Set(e, "weight", "100");
      Set(e, "class", "end");
      break;
  }
}

std::string CgraphBuilder::Legend() const {
  // Two columns of (sample, meaning) pairs.
  struct Item {
    std::string sample;
    std::string meaning;
  };
  std::vector<Item> items;
  // Only the owners drawn: a driver's lanes, a NIF's, or both in a mixed trace.
  std::vector<Hold> holds;
  if (graph_.driver || !graph_.nif) holds = {Hold::kDriver, Hold::kBorrowed, Hold::kQueue};
  if (graph_.nif) holds.insert(holds.end(), {Hold::kNif, Hold::kView, Hold::kTerm});
  holds.insert(holds.end(), {Hold::kMessage, Hold::kHeap, Hold::kEmulator, Hold::kLeaked});
  for (Hold hold : holds) {
    const HoldStyle s = StyleOf(hold);
    const bool dashed = std::string_view(s.style) == "dashed";
    std::string meaning = s.meaning;
    if (hold == Hold::kLeaked && graph_.nif)
      meaning = graph_.driver ? "leaked: the driver's or the NIF's reference never ends"
                              : "leaked: the NIF's reference never ends";
    items.push_back({std::string("<font color=\"") + s.color + "\"><b>" +
                         (dashed ? "╺╸╺╸╺╸" : "━━━━") + "</b></font>",
                     Html(meaning)});
  }
  items.push_back({"<font color=\"#9ca3af\">────</font>", "nobody in this lane holds it"});
  items.push_back({"<font color=\"#16a34a\">╺╸╺▶</font>",
                   "a message into the process's lane; its receive says ← #N"});
  items.push_back({"<font color=\"#dc2626\"><b>⚠ code</b></font>",
                   "the event that broke a rule; the note beside it says why"});
  items.push_back({"<font color=\"#dc2626\"><b>never freed</b></font>",
                   "a leak: the reference that never ends"});
  items.push_back({"<b>×2</b>", "references in that lane, when more than one"});
  items.push_back({"<b>#13</b>", "event index in the trace (0-based)"});
  items.push_back({"<b>refc</b>", "the emulator's count after the event"});
  const size_t rows = (items.size() + 1) / 2;
  std::string html =
      "<table border=\"1\" color=\"#d1d5db\" cellborder=\"0\" cellspacing=\"0\" "
      "cellpadding=\"2\">";
  for (size_t r = 0; r < rows; ++r) {
    html += "<tr>";
    for (size_t col = 0; col < 2; ++col) {
      const size_t i = col * rows + r;
      if (i < items.size()) {
        html += "<td align=\"left\">" + items[i].sample + "</td><td align=\"left\">" +
                items[i].meaning + "</td>";
      } else {
        html += "<td></td><td></td>";
      }
      if (col == 0) html += "<td>   </td>";
    }
    html += "</tr>";
  }
  return html + "</table>";
}

// One Graphviz context for the process, never freed: Graphviz 2.42's text
// layout keeps font names in statics across contexts, so a second context
// after gvFreeContext reads freed memory (seen with AddressSanitizer when
// `check --graph-dir` renders several pictures).
GVC_t* Context() {
  static GVC_t* const gvc = gvContext();
  return gvc;
}

trace::InputError Failure(std::string message) {
  return trace::FileError("", std::move(message));
}

}  // namespace

void CaptureGraphvizMessages() {
  agseterrf(CollectMessage);
}

std::string_view GraphFormatName(GraphFormat format) {
  for (const auto& [word, f] : kGraphFormatWords) {
    if (f == format) return word;
  }
  return "?";
}

std::optional<GraphFormat> GraphFormatFromName(std::string_view name) {
  for (const auto& [word, format] : kGraphFormatWords) {
    if (word == name) return format;
  }
  return std::nullopt;
}

std::optional<GraphFormat> GraphFormatFromPath(std::string_view path) {
  const size_t dot = path.rfind('.');
  const size_t slash = path.rfind('/');
  if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash)) {
    return std::nullopt;
  }
  std::string ext(path.substr(dot + 1));
  for (char& c : ext)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return GraphFormatFromName(ext);
}

trace::MaybeError RenderGraph(const LifetimeGraph& graph, GraphFormat format, std::ostream& out) {
  t_messages.clear();
  const std::string& messages = t_messages;
  CgraphBuilder builder(graph);
  Agraph_t* g = builder.Build();
  if (format == GraphFormat::kDot) {
    if (agwrite(g, &out) != 0) return Failure("cannot write the DOT graph: " + messages);
    out.flush();
    return std::nullopt;
  }

  GVC_t* gvc = Context();
  if (!gvc) return Failure("cannot start Graphviz: " + messages);
  if (gvLayout(gvc, g, "dot") != 0) {
    return Failure(
        "Graphviz cannot lay out the graph (is the dot layout plugin installed? it comes with "
        "the Debian package libgvc6; run `dot -c` as root to register plugins): " +
        messages);
  }
  const char* name = format == GraphFormat::kSvg ? "svg" : "png";
  char* data = nullptr;
  unsigned int length = 0;
  const int status = gvRenderData(gvc, g, name, &data, &length);
  trace::MaybeError error;
  if (status != 0 || !data) {
    error = Failure(std::string("Graphviz cannot render ") + name +
                    " (the svg and png renderers come with the Debian package libgvc6, png "
                    "through its cairo plugin): " +
                    messages);
  } else {
    out.write(data, length);
    out.flush();
    if (!out) error = Failure(std::string("cannot write the ") + name + " output");
  }
  if (data) gvFreeRenderData(data);
  gvFreeLayout(gvc, g);
  return error;
}

}  // namespace refctrace::render
