// Lifetime pictures: the recorder and its selection, the graph built from
// lifetimes, the DOT read back with libcgraph, SVG and PNG output, and `show`.
#include <doctest/doctest.h>
#include <graphviz/cgraph.h>

#include <cstdint>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "model/collecting_sink.h"
#include "model/lifetime_recorder.h"
#include "model/model.h"
#include "model/wording.h"
#include "render/graphviz.h"
#include "render/lifetime_graph.h"
#include "render/show_renderer.h"
#include "trace/reader.h"

namespace refctrace {
namespace {

using model::Code;
using model::Finding;
using model::IncarnationKey;
using model::Lifetime;
using render::EdgeKind;
using render::GraphCluster;
using render::GraphNode;
using render::Hold;
using render::NodeKind;

// One replay of an NDJSON text with `observer` attached.
std::vector<Finding> Replay(const std::string& ndjson, model::LifetimeObserver* observer) {
  auto reader = trace::TraceReader::FromString(ndjson);
  model::CollectingSink sink;
  model::Model m(&sink);
  m.SetObserver(observer);
  trace::Event event;
  trace::ReadStatus status;
  while ((status = reader->Next(&event)) == trace::ReadStatus::kEvent)
    m.Apply(event);
  REQUIRE_MESSAGE(status == trace::ReadStatus::kEnd, reader->error().message);
  m.Finish();
  return sink.TakeSorted();
}

struct Recorded {
  std::vector<Finding> findings;
  std::vector<Lifetime> lifetimes;
  uint64_t left_out = 0;
};

Recorded Record(const std::string& ndjson, model::RecorderOptions options = {}) {
  model::LifetimeRecorder recorder(std::move(options));
  Recorded r;
  r.findings = Replay(ndjson, &recorder);
  r.lifetimes = recorder.Take();
  r.left_out = recorder.left_out();
  return r;
}

IncarnationKey Key(const std::string& bin, uint32_t incarnation) {
  return {trace::BinId::Str(bin), incarnation};
}

std::vector<uint64_t> Events(const Lifetime& life) {
  std::vector<uint64_t> events;
  for (const model::LifetimeStep& s : life.steps)
    events.push_back(s.step.event);
  return events;
}

const GraphNode* Node(const GraphCluster& c, const std::string& id) {
  for (const GraphNode& n : c.nodes) {
    if (n.id == id) return &n;
  }
  return nullptr;
}

size_t IndexOf(const GraphCluster& c, const std::string& id) {
  for (size_t i = 0; i < c.nodes.size(); ++i) {
    if (c.nodes[i].id == id) return i;
  }
  FAIL("no node " << id);
  return 0;
}

// alloc, output to P, free, receive, gc (freed), then a second free on the
// freed id: double-free at event 5.
const char* kDoubleFree =
    R"({"op":"alloc","bin":"a","size":100,"src":"d.c:1"}
{"op":"output","bin":"a","to":"<0.9.0>","src":"d.c:2"}
{"op":"free","bin":"a","src":"d.c:3"}
{"op":"receive","bin":"a","actor":"<0.9.0>"}
{"op":"gc","bin":"a","actor":"<0.9.0>"}
{"op":"free","bin":"a","src":"d.c:9","note":"again"}
)";

// alloc, output to P, P receives and collects; the driver never frees.
const char* kLeak =
    R"({"op":"alloc","bin":"b","size":4096,"src":"l.c:1"}
{"op":"output","bin":"b","to":"<0.9.0>","src":"l.c:2"}
{"op":"receive","bin":"b","actor":"<0.9.0>"}
{"op":"gc","bin":"b","actor":"<0.9.0>"}
{"op":"end"}
)";

// ---------------------------------------------------------------------------
// Recorder

TEST_CASE("the recorder keeps each step with the holders after it") {
  const Recorded r = Record(kDoubleFree);
  REQUIRE(r.lifetimes.size() == 1);
  const Lifetime& life = r.lifetimes[0];
  CHECK(life.names.front() == Key("a", 1));
  CHECK(Events(life) == std::vector<uint64_t>{0, 1, 2, 3, 4});
  using model::Holder;
  using Holders = std::vector<model::HolderCount>;
  CHECK(life.steps[1].holders == Holders{{Holder::Driver(), 1}, {Holder::Message("<0.9.0>"), 1}});
  CHECK(life.steps[3].holders == Holders{{Holder::Heap("<0.9.0>"), 1}});
  CHECK(model::DescribeHolders(life.steps[1].holders, life.steps[1].borrowed) ==
        "driver holds 1; <0.9.0> holds 1 (unreceived)");
  CHECK(model::DescribeHolders(life.steps[3].holders, life.steps[3].borrowed) ==
        "driver holds 0; <0.9.0> holds 1");
  CHECK(life.Ended());
  CHECK(life.Omitted() == 0);
}

TEST_CASE("a long life keeps its first and last steps and the pinned ones") {
  std::string trace = R"({"op":"alloc","bin":"a"})"
                      "\n";
  for (int i = 0; i < 20; ++i)
    trace += R"({"op":"read","bin":"a"})"
             "\n";
  trace += R"({"op":"free","bin":"a"})"
           "\n";
  model::RecorderOptions options;
  options.head_steps = 2;
  options.tail_steps = 2;
  options.pinned_events = {10};
  const Recorded r = Record(trace, options);
  REQUIRE(r.lifetimes.size() == 1);
  const Lifetime& life = r.lifetimes[0];
  CHECK(Events(life) == std::vector<uint64_t>{0, 1, 10, 20, 21});
  CHECK(life.omitted_before == std::vector<uint64_t>{0, 0, 8, 9, 0});
  CHECK(life.Omitted() == 17);
}

TEST_CASE("the recorder keeps at most max_lifetimes and counts the rest") {
  model::RecorderOptions options;
  options.max_lifetimes = 2;
  const Recorded r = Record(R"({"op":"alloc","bin":"a"}
{"op":"alloc","bin":"b"}
{"op":"alloc","bin":"c"}
{"op":"free","bin":"a"}
{"op":"free","bin":"b"}
{"op":"free","bin":"c"}
)",
                            options);
  REQUIRE(r.lifetimes.size() == 2);
  CHECK(r.lifetimes[0].names.front() == Key("a", 1));
  CHECK(r.lifetimes[1].names.front() == Key("b", 1));
  CHECK(r.left_out == 1);
}

TEST_CASE("a realloc that moves the binary keeps one lifetime under both names") {
  model::RecorderOptions options;
  options.starts = std::set<IncarnationKey>{Key("a", 1)};
  const Recorded r = Record(R"({"op":"alloc","bin":"x"}
{"op":"free","bin":"x"}
{"op":"alloc","bin":"a","size":8}
{"op":"realloc","bin":"a","new_bin":"b","size":64}
{"op":"free","bin":"b"}
)",
                            options);
  REQUIRE(r.lifetimes.size() == 1);
  const Lifetime& life = r.lifetimes[0];
  REQUIRE(life.names.size() == 2);
  CHECK(life.names[1] == Key("b", 1));
  CHECK(Events(life) == std::vector<uint64_t>{2, 3, 4});
  CHECK(life.HasName(trace::BinId::Str("b"), 1));
}

TEST_CASE("--bin accepts an id or ID#N") {
  const model::BinSelector any = model::BinSelector::Parse("0x10");
  CHECK(any.id == "0x10");
  CHECK_FALSE(any.incarnation);
  CHECK(any.Matches(trace::BinId::Str("0x10"), 3));

  const model::BinSelector second = model::BinSelector::Parse("0x10#2");
  CHECK(second.id == "0x10");
  CHECK(second.incarnation == 2u);
  CHECK(second.Matches(trace::BinId::Str("0x10"), 2));
  CHECK_FALSE(second.Matches(trace::BinId::Str("0x10"), 1));
  // A string id that contains '#' still matches as a whole.
  CHECK(second.Matches(trace::BinId::Str("0x10#2"), 1));
  // Integer ids are written in decimal.
  CHECK(model::BinSelector::Parse("42").Matches(trace::BinId::Int(42), 1));
}

TEST_CASE("the first pass chooses binaries with findings first, by their start name") {
  // x is clean; a leaks under its moved name b.
  const std::string trace = R"({"op":"alloc","bin":"x"}
{"op":"free","bin":"x"}
{"op":"alloc","bin":"a"}
{"op":"realloc","bin":"a","new_bin":"b"}
{"op":"end"}
)";
  model::IncarnationIndex index({}, 10);
  const std::vector<Finding> findings = Replay(trace, &index);
  REQUIRE(findings.size() == 1);
  CHECK(index.StartOf(Key("b", 1)) == Key("a", 1));
  CHECK(index.selected_total() == 2);

  const model::LifetimeChoice one = model::ChooseLifetimes(findings, index, {}, false, 1);
  CHECK(one.starts == std::set<IncarnationKey>{Key("a", 1)});
  CHECK(one.candidates == 2);
  CHECK(one.left_out == 1);
  CHECK(one.left_out_with_findings == 0);
  CHECK(one.anchors == std::set<uint64_t>{2});

  const model::LifetimeChoice only = model::ChooseLifetimes(findings, index, {}, true, 10);
  CHECK(only.starts == std::set<IncarnationKey>{Key("a", 1)});
  CHECK(only.left_out == 0);

  const std::vector<model::BinSelector> x = {model::BinSelector::Parse("x")};
  model::IncarnationIndex x_index(x, 10);
  Replay(trace, &x_index);
  const model::LifetimeChoice by_bin = model::ChooseLifetimes(findings, x_index, x, false, 10);
  CHECK(by_bin.starts == std::set<IncarnationKey>{Key("x", 1)});
  CHECK(by_bin.candidates == 1);
}

// ---------------------------------------------------------------------------
// The graph as data

render::LifetimeGraph Graph(const std::string& trace) {
  const Recorded r = Record(trace);
  return render::BuildLifetimeGraph(r.lifetimes, r.findings, {"test", true, 46});
}

TEST_CASE("holders are lanes, events are rows in their actor's lane") {
  const render::LifetimeGraph g = Graph(kDoubleFree);
  REQUIRE(g.clusters.size() == 1);
  const GraphCluster& c = g.clusters[0];
  CHECK(c.id == "cluster_a#1");
  REQUIRE(c.lanes.size() == 2);
  CHECK(c.lanes[0].title == "driver");
  CHECK(c.lanes[1].pid == "<0.9.0>");
  // Lane heads, five events, "freed", and the free after it.
  CHECK(c.rows.size() == 8);
  CHECK(Node(c, "a#1/e0")->lane == 0);
  CHECK(Node(c, "a#1/e3")->lane == 1);  // receive: the process's lane
  CHECK(Node(c, "a#1/e0")->lines.front() == "#0 alloc 100 B");
  CHECK(Node(c, "a#1/e0")->lines.at(1) == "refc 1 · d.c:1");
  // Every lane has a node in every event row.
  for (size_t r = 1; r <= 5; ++r)
    CHECK(c.rows[r].size() == 2);
}

TEST_CASE("the event that broke a rule carries its code; a note says why") {
  const render::LifetimeGraph g = Graph(kDoubleFree);
  const GraphCluster& c = g.clusters.at(0);
  CHECK(c.codes == std::vector<Code>{Code::kDoubleFree});
  // The second free comes after the incarnation was freed.
  const GraphNode* freed = Node(c, "a#1/freed");
  REQUIRE(freed);
  const GraphNode* anchor = Node(c, "a#1/e5");
  REQUIRE(anchor);
  CHECK(anchor->row > freed->row);
  CHECK(anchor->codes == std::vector<Code>{Code::kDoubleFree});
  CHECK(anchor->lines.back() == "⚠ double-free");
  const GraphNode* note = Node(c, "a#1/e5/double-free");
  REQUIRE(note);
  CHECK(note->kind == NodeKind::kFinding);
  CHECK(note->row == anchor->row);
  CHECK(note->lines.front() == "error[double-free] at event 5, d.c:9");
}

TEST_CASE("a message enters the receiver's lane and the receive names it") {
  const render::LifetimeGraph g = Graph(kDoubleFree);
  const GraphCluster& c = g.clusters.at(0);
  const size_t output = IndexOf(c, "a#1/e1");
  const size_t mailbox = IndexOf(c, "a#1/e1/<0.9.0>");
  int messages = 0;
  for (const render::GraphEdge& e : c.edges) {
    if (e.kind != EdgeKind::kMessage) continue;
    ++messages;
    CHECK(e.tail == output);
    CHECK(e.head == mailbox);
  }
  CHECK(messages == 1);
  CHECK(Node(c, "a#1/e3")->lines.front() == "#3 receive ← #1");
  // The process's lane holds a message from the output to the receive, then
  // the heap reference until the gc.
  const size_t receive = IndexOf(c, "a#1/e3");
  for (const render::GraphEdge& e : c.edges) {
    if (e.kind == EdgeKind::kLane && e.head == receive) CHECK(e.hold == Hold::kMessage);
    if (e.kind == EdgeKind::kLane && e.tail == receive) CHECK(e.hold == Hold::kHeap);
  }
}

TEST_CASE("a leak is a red driver lane into a never-freed node") {
  const render::LifetimeGraph g = Graph(kLeak);
  const GraphCluster& c = g.clusters.at(0);
  CHECK(c.codes == std::vector<Code>{Code::kLeak});
  const size_t never = IndexOf(c, "b#1/never-freed");
  CHECK(c.nodes[never].lines == std::vector<std::string>{"never freed", "4096 bytes leaked"});
  CHECK(c.nodes[never].lane == 0);
  int leaked_into = 0;
  int leaked = 0;
  for (const render::GraphEdge& e : c.edges) {
    if (e.kind != EdgeKind::kLane || e.hold != Hold::kLeaked) continue;
    ++leaked;
    leaked_into += e.head == never;
  }
  CHECK(leaked_into == 1);
  CHECK(leaked >= 4);  // from the alloc to the end of the trace, and on
  // The alloc is the leak's anchor.
  CHECK(Node(c, "b#1/e0")->codes == std::vector<Code>{Code::kLeak});
  CHECK(Node(c, "b#1/never-freed/leak"));
  CHECK_FALSE(Node(c, "b#1/freed"));
}

TEST_CASE("binaries with findings come first and the page is shared in columns") {
  std::string trace;
  for (int i = 0; i < 9; ++i) {
    const std::string bin = "c" + std::to_string(i);
    trace += R"({"op":"alloc","bin":")" + bin + R"("})" + "\n";
    trace += R"({"op":"free","bin":")" + bin + R"("})" + "\n";
  }
  trace += kLeak;
  const render::LifetimeGraph g = Graph(trace);
  REQUIRE(g.clusters.size() == 10);
  CHECK(g.clusters[0].name == "b#1");
  CHECK(g.columns > 1);
  CHECK(g.columns < 10);
  for (const GraphCluster& c : g.clusters)
    CHECK(c.column < g.columns);
}

TEST_CASE("the integer id 42 and the string id \"42\" never share a node") {
  const render::LifetimeGraph g = Graph(R"({"op":"alloc","bin":42}
{"op":"alloc","bin":"42"}
{"op":"free","bin":42}
{"op":"free","bin":"42"}
)");
  REQUIRE(g.clusters.size() == 2);
  CHECK(g.clusters[0].prefix == "42#1");
  CHECK(g.clusters[1].prefix == "\"42\"#1");
  CHECK(Node(g.clusters[1], "\"42\"#1/e1"));
}

// ---------------------------------------------------------------------------
// Graphviz output

std::string Render(const render::LifetimeGraph& g, render::GraphFormat format) {
  std::ostringstream out;
  const trace::MaybeError error = render::RenderGraph(g, format, out);
  REQUIRE_MESSAGE(!error, (error ? error->message : ""));
  return out.str();
}

struct GraphCloser {
  void operator()(Agraph_t* g) const { agclose(g); }
};

// The DOT, read back with libcgraph.
std::unique_ptr<Agraph_t, GraphCloser> ReadDot(const std::string& dot) {
  std::unique_ptr<Agraph_t, GraphCloser> g(agmemread(dot.c_str()));
  REQUIRE(g);
  return g;
}

std::string Attr(void* obj, const char* name) {
  const char* value = agget(obj, const_cast<char*>(name));
  return value ? value : "";
}

Agnode_t* DotNode(Agraph_t* g, const std::string& id) {
  return agnode(g, const_cast<char*>(id.c_str()), 0);
}

TEST_CASE("the DOT reads back with its clusters, nodes, edges and the finding marked") {
  const std::string dot = Render(Graph(kDoubleFree), render::GraphFormat::kDot);
  auto g = ReadDot(dot);
  CHECK(agisdirected(g.get()));
  Agraph_t* cluster = agsubg(g.get(), const_cast<char*>("cluster_a#1"), 0);
  REQUIRE(cluster);

  int events = 0;
  int findings = 0;
  for (Agnode_t* n = agfstnode(cluster); n; n = agnxtnode(cluster, n)) {
    const std::string cls = Attr(n, "class");
    events += cls.rfind("event", 0) == 0;
    findings += cls.find("finding") != std::string::npos;
  }
  CHECK(events == 6);
  CHECK(findings == 1);

  Agnode_t* anchor = DotNode(g.get(), "a#1/e5");
  REQUIRE(anchor);
  CHECK(Attr(anchor, "class") == "event finding double-free");
  CHECK(Attr(anchor, "fillcolor") == "#fecaca");
  CHECK(Attr(anchor, "label").find("double-free") != std::string::npos);

  // The message edge, and the note beside the anchor.
  int messages = 0;
  int notes = 0;
  for (Agnode_t* n = agfstnode(g.get()); n; n = agnxtnode(g.get(), n)) {
    for (Agedge_t* e = agfstout(g.get(), n); e; e = agnxtout(g.get(), e)) {
      const std::string cls = Attr(e, "class");
      if (cls == "message") {
        ++messages;
        CHECK(std::string(agnameof(agtail(e))) == "a#1/e1");
        CHECK(std::string(agnameof(aghead(e))) == "a#1/e1/<0.9.0>");
      }
      if (cls == "note") {
        ++notes;
        CHECK(std::string(agnameof(aghead(e))) == "a#1/e5/double-free");
      }
    }
  }
  CHECK(messages == 1);
  CHECK(notes == 1);
  // The lane heads are one rank.
  Agraph_t* heads = agsubg(cluster, const_cast<char*>("row 0 of a#1"), 0);
  REQUIRE(heads);
  CHECK(Attr(heads, "rank") == "same");
  CHECK(agnnodes(heads) == 2);
}

TEST_CASE("the DOT is the same bytes every time and names nothing by address") {
  const std::string once = Render(Graph(kDoubleFree), render::GraphFormat::kDot);
  const std::string twice = Render(Graph(kDoubleFree), render::GraphFormat::kDot);
  CHECK(once == twice);
  CHECK(once.find("0x") == std::string::npos);  // ids here are "a": no pointers
}

TEST_CASE("a string id starting with % is a node name of its own") {
  // Found by tests/fuzz/check_fuzz: cgraph takes names starting with '%' as
  // its internal ones, so the node got no name in the DOT and cgraph leaked
  // its map entries (LeakSanitizer).
  const render::LifetimeGraph g = Graph(R"({"op":"alloc","bin":"%41"}
{"op":"free","bin":"%41"}
)");
  REQUIRE(g.clusters.size() == 1);
  CHECK(g.clusters[0].prefix == "\"%41\"#1");
  auto dot = ReadDot(Render(g, render::GraphFormat::kDot));
  CHECK(DotNode(dot.get(), "\"%41\"#1/e0"));
}

TEST_CASE("a leak reads back as a never-freed node") {
  auto g = ReadDot(Render(Graph(kLeak), render::GraphFormat::kDot));
  Agnode_t* never = DotNode(g.get(), "b#1/never-freed");
  REQUIRE(never);
  CHECK(Attr(never, "class") == "never-freed finding leak");
  CHECK(Attr(never, "shape") == "octagon");
  int into = 0;
  for (Agedge_t* e = agfstin(g.get(), never); e; e = agnxtin(g.get(), e))
    into += Attr(e, "class") == "lane hold" && Attr(e, "color") == "#dc2626";
  CHECK(into == 1);
}

TEST_CASE("SVG output is a complete SVG document of sensible size") {
  const std::string svg = Render(Graph(kDoubleFree), render::GraphFormat::kSvg);
  CHECK(svg.rfind("<?xml", 0) == 0);
  CHECK(svg.find("<svg") != std::string::npos);
  CHECK(svg.find("</svg>") != std::string::npos);
  CHECK(svg.find("double&#45;free") != std::string::npos);  // SVG escapes '-'
  CHECK(svg.find("class=\"node event finding double&#45;free\"") != std::string::npos);
  CHECK(svg.size() > 4'000);
  CHECK(svg.size() < 2'000'000);
}

TEST_CASE("PNG output is a PNG image of sensible size") {
  const std::string png = Render(Graph(kLeak), render::GraphFormat::kPng);
  REQUIRE(png.size() > 24);
  CHECK(png.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0);
  CHECK(png.compare(12, 4, "IHDR") == 0);
  auto be32 = [&](size_t at) {
    uint32_t v = 0;
    for (size_t i = 0; i < 4; ++i)
      v = v << 8 | static_cast<unsigned char>(png[at + i]);
    return v;
  };
  const uint32_t width = be32(16);
  const uint32_t height = be32(20);
  CHECK(width > 200);
  CHECK(width < 5000);
  CHECK(height > 200);
  CHECK(height < 5000);
  CHECK(png.size() > 10'000);
}

TEST_CASE("formats come from names and file extensions") {
  CHECK(render::GraphFormatFromName("svg") == render::GraphFormat::kSvg);
  CHECK(render::GraphFormatFromName("gv") == render::GraphFormat::kDot);
  CHECK_FALSE(render::GraphFormatFromName("pdf"));
  CHECK(render::GraphFormatFromPath("out/life.PNG") == render::GraphFormat::kPng);
  CHECK(render::GraphFormatFromPath("life.dot") == render::GraphFormat::kDot);
  CHECK_FALSE(render::GraphFormatFromPath("a.b/life"));
}

// ---------------------------------------------------------------------------
// How a life ended, which show and graph both say

// The one lifetime of `r` as show and graph see it.
struct Told {
  explicit Told(const Recorded& r)
      : life(r.lifetimes.at(0)),
        findings(render::FindingsOf(life, r.findings)),
        rows(render::RowsOf(life, findings)),
        ending(render::EndingOf(life, rows, findings)) {}
  const Lifetime& life;
  std::vector<const Finding*> findings;
  std::vector<render::LifetimeRow> rows;
  render::LifeEnding ending;
};

TEST_CASE("a life whose refc reached 0 ended freed at that event, not at a later double free") {
  const Recorded r = Record(kDoubleFree);
  const Told told(r);
  const render::LifeEnding& e = told.ending;
  CHECK(e.how == render::LifeEnd::kFreed);
  REQUIRE(e.at);
  CHECK(e.at->step.step.event == 4);
}

TEST_CASE("a leaked life ended never freed, with its leak finding") {
  const Recorded r = Record(kLeak);
  const Told told(r);
  const render::LifeEnding& e = told.ending;
  CHECK(e.how == render::LifeEnd::kNeverFreed);
  REQUIRE(e.leak);
  CHECK(e.leak->code == Code::kLeak);
}

TEST_CASE("an alloc on a live id abandons the old life with its references") {
  model::RecorderOptions first;
  first.bins = {model::BinSelector::Parse("a#1")};
  const Recorded r = Record(R"({"op":"alloc","bin":"a"}
{"op":"output","bin":"a","to":"<0.9.0>"}
{"op":"alloc","bin":"a"}
{"op":"free","bin":"a"}
)",
                            first);
  const Told told(r);
  const render::LifeEnding& e = told.ending;
  CHECK(e.how == render::LifeEnd::kAbandoned);
  REQUIRE(e.at);
  CHECK(e.at->step.step.event == 2);
}

TEST_CASE("a life a process still holds at the end of the trace is still held") {
  const Recorded r = Record(R"({"op":"alloc","bin":"a"}
{"op":"output","bin":"a","to":"<0.9.0>"}
{"op":"free","bin":"a"}
)");
  const Told told(r);
  const render::LifeEnding& e = told.ending;
  CHECK(e.how == render::LifeEnd::kStillHeld);
  REQUIRE(e.at);
  CHECK(e.at->step.step.event == 2);
}

TEST_CASE("an adopted binary read twice and never released is still held, not freed") {
  const Recorded r = Record(R"({"op":"read","bin":"a"}
{"op":"read","bin":"a"}
)");
  const Told told(r);
  const render::LifeEnding& e = told.ending;
  CHECK(e.how == render::LifeEnd::kStillHeld);
  REQUIRE(e.at);
  CHECK(e.at->step.step.event == 1);

  render::InputReport report;
  report.path = "t.ndjson";
  report.findings = r.findings;
  std::ostringstream out;
  render::RenderShow(report, r.lifetimes, {false}, out);
  CHECK(out.str().find("freed") == std::string::npos);
  CHECK(out.str().find("  still held when the trace ended: driver holds 1\n") != std::string::npos);
}

TEST_CASE("an adopted binary whose last reference the port queue dropped at stop is freed there") {
  const Recorded r = Record(R"({"op":"enq","bin":"a"}
{"op":"free","bin":"a"}
{"op":"stop"}
)");
  const Told told(r);
  CHECK(told.ending.how == render::LifeEnd::kFreed);
  REQUIRE(told.ending.at);
  CHECK(told.ending.at->step.step.op == trace::Op::kStop);
}

// ---------------------------------------------------------------------------
// show

TEST_CASE("show prints every event with holders and refc, findings inline") {
  const Recorded r = Record(kDoubleFree);
  render::InputReport report;
  report.path = "t.ndjson";
  report.findings = r.findings;
  std::ostringstream out;
  render::RenderShow(report, r.lifetimes, {false}, out);
  const std::string text = out.str();
  CHECK(text.rfind("binary a#1, 100 bytes in t.ndjson: 1 error\n", 0) == 0);
  // Holders in the words of the finding messages.
  CHECK(text.find("  #1        2  driver   output → <0.9.0>     2  "
                  "driver holds 1; <0.9.0> holds 1 (unreceived)  d.c:2\n") != std::string::npos);
  const size_t freed = text.find("  freed at event 4\n");
  const size_t again = text.find(
      "  #5        6  driver   free                -1  (freed)                                     "
      "  "
      "d.c:9  # again\n");
  const size_t diag = text.find("└─ error[double-free]: ");
  CHECK(freed != std::string::npos);
  CHECK(again != std::string::npos);
  CHECK(diag != std::string::npos);
  CHECK(freed < again);
  CHECK(again < diag);
}

// ---------------------------------------------------------------------------
// A binary held by more processes at once than a step lists (decisions 247-249)

// alloc, output to `n` processes, free, each receives, each exits (the last exit frees it).
std::string FanOut(int n) {
  std::string t = R"({"op":"alloc","bin":"f","size":64})"
                  "\n";
  auto pid = [](int i) { return "<0." + std::to_string(100 + i) + ".0>"; };
  for (int i = 0; i < n; ++i)
    t += R"({"op":"output","bin":"f","to":")" + pid(i) + "\"}\n";
  t += R"({"op":"free","bin":"f"})"
       "\n";
  for (int i = 0; i < n; ++i)
    t += R"({"op":"receive","bin":"f","actor":")" + pid(i) + "\"}\n";
  for (int i = 0; i < n; ++i)
    t += R"({"op":"exit","actor":")" + pid(i) + "\"}\n";
  return t;
}

// Every step of a short life kept.
model::RecorderOptions AllSteps() {
  model::RecorderOptions options;
  options.head_steps = 100;
  return options;
}

TEST_CASE("a step lists the first 16 holding processes and counts the others") {
  const Recorded r = Record(FanOut(20), AllSteps());
  REQUIRE(r.lifetimes.size() == 1);
  const model::LifetimeStep& all = r.lifetimes[0].steps.at(20);  // the 20th output
  CHECK(all.holders.size() == 1 + model::kListedProcesses);      // the driver and 16 messages
  CHECK(all.holders.back().holder == model::Holder::Message("<0.115.0>"));
  CHECK(all.unlisted == model::UnlistedProcesses{4, 4});
  CHECK(render::HoldersText(all).find("; 12 more processes hold 12") != std::string::npos);
  // After the first five exits the next sixteen are listed, from <0.105.0>.
  const model::LifetimeStep& later = r.lifetimes[0].steps.at(46);
  CHECK(later.step.op == trace::Op::kExit);
  CHECK(later.holders.at(0).holder == model::Holder::Heap("<0.105.0>"));
  CHECK(later.unlisted == model::UnlistedProcesses{0, 0});
  // show counts the unlisted ones with the others past the first eight.
  render::InputReport report;
  report.path = "t.ndjson";
  std::ostringstream out;
  render::RenderShow(report, r.lifetimes, {false}, out);
  CHECK(out.str().find(
            "  #20      21  driver     output → <0.119.0>    21  driver holds 1; <0.100.0> holds "
            "1 (unreceived);") != std::string::npos);
  CHECK(out.str().find("<0.107.0> holds 1 (unreceived); 12 more processes hold 12\n") !=
        std::string::npos);
}

TEST_CASE("a leak's end row keeps the processes counted beyond the listed ones") {
  // The driver never frees: the end of the input is a row of its own (the model has no step
  // for it), with the holders of the row before it less the driver's.
  std::string trace = R"({"op":"alloc","bin":"f","size":64})"
                      "\n";
  for (int i = 0; i < 20; ++i)
    trace += R"({"op":"output","bin":"f","to":"<0.)" + std::to_string(100 + i) + R"(.0>"})" + "\n";
  const Recorded r = Record(trace, AllSteps());  // no `end`: the input just ends
  REQUIRE(r.lifetimes.size() == 1);
  const std::vector<const Finding*> own = render::FindingsOf(r.lifetimes[0], r.findings);
  const std::vector<render::LifetimeRow> rows = render::RowsOf(r.lifetimes[0], own);
  const render::LifetimeRow& end = rows.back();
  CHECK(end.step.step.op == trace::Op::kEnd);
  CHECK(end.step.unlisted == model::UnlistedProcesses{4, 4});
  CHECK(end.step.refc == 20);
  CHECK(render::HoldersText(end.step).find("; 12 more processes hold 12") != std::string::npos);
}

TEST_CASE("past 16 processes at once, one lane stands for all of them") {
  const render::LifetimeGraph g =
      render::BuildLifetimeGraph(Record(FanOut(17), AllSteps()).lifetimes, {}, {"test", true, 46});
  REQUIRE(g.clusters.size() == 1);
  const GraphCluster& c = g.clusters[0];
  REQUIRE(c.lanes.size() == 2);
  CHECK(c.lanes[1].kind == render::LaneKind::kProcess);
  CHECK(c.lanes[1].title == "processes (up to 17 at once)");
  // Every process's event is in it, and says whose it is.
  const GraphNode* receive = Node(c, "f#1/e19");
  REQUIRE(receive);
  CHECK(receive->lane == 1);
  CHECK(receive->lines.front() == "#19 <0.100.0> receive ← #1");
  const GraphNode* exit = Node(c, "f#1/e52");
  REQUIRE(exit);
  CHECK(exit->lines.front() == "#52 <0.116.0> exit");
  CHECK(Node(c, "f#1/e1/processes"));
  // It carries the references of all of them, the unlisted ones too: 17 after the last output.
  bool seventeen = false;
  for (const render::GraphEdge& e : c.edges)
    seventeen |= e.kind == EdgeKind::kLane && e.count == 17 && e.hold == Hold::kMessage;
  CHECK(seventeen);
  // Sixteen at once keep a lane each.
  const render::LifetimeGraph sixteen =
      render::BuildLifetimeGraph(Record(FanOut(16), AllSteps()).lifetimes, {}, {"test", true, 46});
  CHECK(sixteen.clusters.at(0).lanes.size() == 17);
}

}  // namespace
}  // namespace refctrace
