// Every trace under testdata/ carries, in its header, the diagnostics and
// summary figures worked out by hand from model-v1. This replays each trace
// through the real reader and model and compares.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "model/collecting_sink.h"
#include "model/model.h"
#include "trace/reader.h"

namespace refctrace {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string BinText(const json& bin) {
  return bin.is_string() ? "\"" + bin.get<std::string>() + "\"" : bin.dump();
}

std::string BinText(const trace::BinId& bin) {
  return bin.kind == trace::BinId::Kind::kStr ? "\"" + bin.str + "\"" : std::to_string(bin.num);
}

// Sorted and on one line, so a failure shows both sides readably.
std::string Joined(std::vector<std::string> items) {
  std::sort(items.begin(), items.end());
  std::string out;
  for (const std::string& item : items)
    out += item + "; ";
  return out;
}

// The hand-written expectations: the header line of NDJSON, or the top-level
// object of a JSON document. Malformed inputs (testdata/input-errors) have
// none and come back discarded.
json ReadHeader(const fs::path& path) {
  std::ifstream in(path);
  if (path.extension() == ".json") {
    std::stringstream all;
    all << in.rdbuf();
    return json::parse(all.str(), nullptr, /*allow_exceptions=*/false);
  }
  std::string first;
  std::getline(in, first);
  return json::parse(first, nullptr, /*allow_exceptions=*/false);
}

std::vector<fs::path> ExpectationTraces() {
  std::vector<fs::path> out;
  for (const auto& entry : fs::recursive_directory_iterator(REFCTRACE_TESTDATA_DIR)) {
    if (!entry.is_regular_file()) continue;
    const auto ext = entry.path().extension();
    if (ext != ".ndjson" && ext != ".json") continue;
    const json header = ReadHeader(entry.path());
    if (header.is_object() && header.contains("expect")) out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST_CASE("TestdataTracesProduceTheirHandWrittenExpectations") {
  const std::vector<fs::path> traces = ExpectationTraces();
  REQUIRE(traces.size() >= 20);
  for (const fs::path& path : traces) {
    INFO("trace: ", path.string());
    const json header = ReadHeader(path);
    model::CollectingSink sink;
    model::Model model(&sink);
    auto reader = trace::TraceReader::OpenPath(path.string());
    trace::Event event;
    trace::ReadStatus status;
    while ((status = reader->Next(&event)) == trace::ReadStatus::kEvent) {
      model.Apply(event);
      const auto broken = model.CheckInvariants();
      INFO("event ", event.pos.index);
      REQUIRE_FALSE(broken.has_value());
    }
    REQUIRE_MESSAGE(status == trace::ReadStatus::kEnd, reader->error().message);
    model.Finish();

    std::vector<std::string> expected;
    for (const json& e : header["expect"]) {
      // "object" (model 1.3): what a NIF finding's id names; absent for a binary.
      expected.push_back(e["code"].get<std::string>() + "@" +
                         std::to_string(e["event"].get<uint64_t>()) + " " +
                         e.value("object", std::string("binary")) + " " + BinText(e["bin"]));
    }
    std::vector<std::string> actual;
    for (const model::Finding& f : sink.TakeSorted()) {
      actual.push_back(std::string(model::CodeName(f.code)) + "@" + std::to_string(f.event) + " " +
                       std::string(model::ObjectKindName(f.object)) + " " + BinText(f.bin));
    }
    CHECK(Joined(actual) == Joined(expected));

    if (header.contains("summary")) {
      const json& s = header["summary"];
      const model::ModelStats stats = model.Stats();
      if (s.contains("binaries")) CHECK(stats.binaries == s["binaries"].get<uint64_t>());
      if (s.contains("leaked_bytes"))
        CHECK(stats.leaked_bytes == s["leaked_bytes"].get<uint64_t>());
      if (s.contains("held_by_processes")) {
        CHECK(stats.held_by_processes == s["held_by_processes"].get<uint64_t>());
      }
      if (s.contains("held_by_nif")) CHECK(stats.held_by_nif == s["held_by_nif"].get<uint64_t>());
    }
  }
}

}  // namespace
}  // namespace refctrace
