#include "render/sarif_renderer.h"

#include <nlohmann/json.hpp>
#include <string_view>

#include "model/fingerprint.h"
#include "render/rule_docs.h"
#include "render/source_location.h"
#include "render/text_renderer.h"

namespace refctrace::render {

using Json = nlohmann::ordered_json;

namespace {

// "double-free" -> "DoubleFree": SARIF's rule `name` is an identifier that
// must differ from the id, case aside, so "leak" gets a longer name.
std::string RuleName(std::string_view id) {
  if (id == "leak") return "LeakedReference";
  std::string name;
  bool upper = true;
  for (char c : id) {
    if (c == '-') {
      upper = true;
      continue;
    }
    name += upper ? static_cast<char>(c - 'a' + 'A') : c;
    upper = false;
  }
  return name;
}

std::string_view Level(model::Severity severity) {
  switch (severity) {
    case model::Severity::kError:
      return "error";
    case model::Severity::kWarning:
      return "warning";
    case model::Severity::kNote:
      return "note";
  }
  return "none";
}

// A file path as a URI reference: absolute paths become file:// URIs,
// relative ones stay relative (to the repository root, %SRCROOT%); bytes
// outside RFC 3986's unreserved set and '/' are percent-encoded.
Json ArtifactLocation(std::string_view path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string uri = path.substr(0, 1) == "/" ? "file://" : "";
  for (unsigned char c : path) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '-' || c == '.' || c == '_' || c == '~' || c == '/';
    if (plain) {
      uri += static_cast<char>(c);
    } else {
      uri += '%';
      uri += kHex[c >> 4];
      uri += kHex[c & 0xf];
    }
  }
  Json loc{{"uri", uri}};
  if (path.substr(0, 1) != "/") loc["uriBaseId"] = "%SRCROOT%";
  return loc;
}

Json PhysicalLocation(std::string_view file, uint64_t line, uint64_t column = 0) {
  Json phys{{"artifactLocation", ArtifactLocation(file)}};
  if (line) {
    Json region{{"startLine", line}};
    if (column) region["startColumn"] = column;
    phys["region"] = std::move(region);
  }
  return phys;
}

// Where an event happened: its `src` when the trace has one, else its line
// in the trace file; null when neither is known (e.g. stdin without src).
Json EventLocation(const std::string& src, const std::string& trace_path, uint64_t trace_line) {
  const SourceLocation loc = ParseSrc(src);
  if (!loc.file.empty())
    return Json{{"physicalLocation", PhysicalLocation(loc.file, loc.line, loc.column)}};
  if (trace_path != "-")
    return Json{{"physicalLocation", PhysicalLocation(trace_path, trace_line)}};
  return Json::object();
}

Json RuleJson(model::Code code) {
  const RuleDoc& doc = RuleDocFor(code);
  const std::string id(model::CodeName(code));
  return Json{
      {"id", id},
      {"name", RuleName(id)},
      {"shortDescription", {{"text", doc.summary}}},
      {"fullDescription", {{"text", doc.meaning}}},
      {"help", {{"text", doc.text}, {"markdown", doc.markdown}}},
      {"defaultConfiguration", {{"level", Level(model::CodeSeverity(code))}}},
      {"properties",
       {{"tags", {"erlang-driver", "reference-counting", "memory"}}, {"precision", "high"}}}};
}

std::string ResultMessage(const InputReport& input, const model::Finding& f) {
  const std::string& path = input.path;
  std::string s = f.message + " (" + std::string(model::ObjectKindName(f.object)) + " " +
                  f.bin.ToDisplay() + ", incarnation " + std::to_string(f.incarnation);
  if (!f.port.empty()) s += ", port " + f.port;
  s += "; event " + std::to_string(f.event) + " of " + path;
  if (f.line) s += " line " + std::to_string(f.line);
  // Code scanning shows the message, not a result's properties: the test case is said here.
  if (!input.header.case_name.empty()) s += "; test case " + input.header.case_name;
  return s + ")";
}

Json ThreadFlowLocations(const std::string& path, const model::Finding& f, uint64_t limit,
                         bool* truncated) {
  Json locations = Json::array();
  // A code flow keeps the first and last steps when it must be cut, as the
  // history itself does.
  const size_t n = f.history.size();
  const size_t keep = n > limit ? static_cast<size_t>(limit) : n;
  const size_t head = keep / 2;
  const size_t tail_start = n - (keep - head);
  *truncated = keep < n;
  for (size_t i = 0; i < n; ++i) {
    if (i >= head && i < tail_start) continue;
    const model::Step& step = f.history[i];
    Json location = EventLocation(step.src, step.file.empty() ? path : step.file, step.line);
    std::string text = DescribeStepWithCount(step);
    if (step.omitted_before) {
      text = "after " + std::to_string(step.omitted_before) + " omitted events: " + text;
    }
    location["message"] = Json{{"text", text}};
    Json entry{{"location", std::move(location)}};
    if (step.event == f.event && step.op != trace::Op::kEnd) entry["importance"] = "essential";
    locations.push_back(std::move(entry));
  }
  return locations;
}

Json ResultJson(const InputReport& input, const model::Finding& f, const SarifLimits& limits,
                bool* flow_truncated) {
  const std::string& path = input.path;
  const std::string id(model::CodeName(f.code));
  Json result{{"ruleId", id},
              {"ruleIndex", static_cast<int>(f.code)},
              {"level", Level(f.severity)},
              {"message", {{"text", ResultMessage(input, f)}}}};
  Json primary = EventLocation(f.src, path, f.line);
  if (!primary.empty() && !f.func.empty()) {
    primary["logicalLocations"] = Json::array({Json{{"name", f.func}, {"kind", "function"}}});
  }
  result["locations"] = primary.empty() ? Json::array() : Json::array({primary});
  if (!ParseSrc(f.src).file.empty() && path != "-") {
    Json in_trace{{"id", 0},
                  {"physicalLocation", PhysicalLocation(path, f.line)},
                  {"message", {{"text", "event " + std::to_string(f.event) + " in the trace"}}}};
    result["relatedLocations"] = Json::array({std::move(in_trace)});
  }
  if (!f.history.empty()) {
    Json flow{
        {"locations", ThreadFlowLocations(path, f, limits.max_flow_locations, flow_truncated)}};
    result["codeFlows"] =
        Json::array({Json{{"message",
                           {{"text", "history of " + std::string(model::ObjectKindName(f.object)) +
                                         " " + f.bin.ToDisplay()}}},
                          {"threadFlows", Json::array({std::move(flow)})}}});
  }
  result["partialFingerprints"] = Json{{model::kSarifFingerprintKey, model::Fingerprint(f)}};
  // Output 1.4: the test case, run and part for tools that read them (trace format 1.5).
  Json properties = Json::object();
  if (!input.header.case_name.empty()) properties["testCase"] = input.header.case_name;
  if (input.header.IsPart()) {
    properties["run"] = input.header.run;
    properties["part"] = input.header.part;
  }
  if (!properties.empty()) result["properties"] = std::move(properties);
  return result;
}

Json Notification(std::string_view level, const std::string& text) {
  return Json{{"level", level}, {"message", {{"text", text}}}};
}

}  // namespace

SarifCuts RenderSarif(const RunReport& run, const SarifOptions& options, std::ostream& out) {
  SarifCuts cuts;
  Json rules = Json::array();
  for (model::Code code : model::kAllCodes)
    rules.push_back(RuleJson(code));

  Json results = Json::array();
  Json notifications = Json::array();
  bool successful = true;
  uint64_t emitted = 0;
  for (const InputReport& input : run.inputs) {
    if (input.error) {
      successful = false;
      Json n = Notification("error", input.path + ": " + input.error->message);
      if (input.path != "-") {
        n["locations"] =
            Json::array({Json{{"physicalLocation", PhysicalLocation(input.path, input.error->line,
                                                                    input.error->column)}}});
      }
      notifications.push_back(std::move(n));
    }
    if (DriverUnrecorded(input)) {
      notifications.push_back(
          Notification("warning", input.path + ": " + DriverUnrecordedText(input)));
    }
    for (const model::Finding& f : input.findings) {
      if (emitted == options.limits.max_results) {
        ++cuts.results_dropped;
        continue;
      }
      bool truncated = false;
      results.push_back(ResultJson(input, f, options.limits, &truncated));
      if (truncated) ++cuts.flows_truncated;
      ++emitted;
    }
  }
  if (cuts.results_dropped) {
    notifications.push_back(Notification(
        "warning", std::to_string(cuts.results_dropped) + " results were left out: a SARIF run " +
                       "keeps at most " + std::to_string(options.limits.max_results) +
                       " (GitHub code scanning's limit)"));
  }
  if (cuts.flows_truncated) {
    notifications.push_back(Notification(
        "warning", std::to_string(cuts.flows_truncated) +
                       " code flows were shortened to their first and last " +
                       std::to_string(options.limits.max_flow_locations) + " locations"));
  }
  const Totals totals = ComputeTotals(run.inputs);
  if (totals.suppressed || totals.baselined) {
    notifications.push_back(
        Notification("note", std::to_string(totals.suppressed) + " findings suppressed, " +
                                 std::to_string(totals.baselined) + " already in the baseline"));
  }

  Json invocation{{"executionSuccessful", successful}};
  if (!notifications.empty()) invocation["toolExecutionNotifications"] = std::move(notifications);

  Json driver{{"name", "refctrace"},
              {"version", options.tool_version},
              {"semanticVersion", options.tool_version},
              {"informationUri", options.information_uri},
              {"rules", std::move(rules)}};
  Json sarif_run{
      {"tool", {{"driver", std::move(driver)}}},
      {"invocations", Json::array({std::move(invocation)})},
      {"originalUriBaseIds",
       {{"%SRCROOT%",
         {{"description",
           {{"text", "The repository root: src paths in traces are relative to it"}}}}}}},
      {"results", std::move(results)},
      {"columnKind", "unicodeCodePoints"}};
  Json root{{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
            {"version", "2.1.0"},
            {"runs", Json::array({std::move(sarif_run)})}};
  out << root.dump(2, ' ', false, Json::error_handler_t::replace) << "\n";
  return cuts;
}

}  // namespace refctrace::render
