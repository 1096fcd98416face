#include "render/json_renderer.h"

#include <nlohmann/json.hpp>

#include "model/fingerprint.h"

namespace refctrace::render {

using Json = nlohmann::ordered_json;  // keys in the order output-v1 shows them

namespace {

Json BinJson(const trace::BinId& id) {
  if (id.kind == trace::BinId::Kind::kInt) return Json(id.num);
  return Json(id.str);
}

Json StepJson(const model::Step& step) {
  Json j;
  j["event"] = step.event;
  j["op"] = std::string(trace::OpName(step.op));
  if (!step.actor.empty()) j["actor"] = step.actor;
  if (!step.to.empty()) j["to"] = step.to;
  j["refc"] = step.refc;
  if (!step.src.empty()) j["src"] = step.src;
  if (!step.func.empty()) j["func"] = step.func;
  if (step.line) j["line"] = step.line;
  // Output 1.4: the event is in another part of the run than the finding's.
  if (!step.file.empty()) j["path"] = step.file;
  if (step.size) j["size"] = *step.size;
  if (step.copied) j["copied"] = true;
  if (!step.note.empty()) j["note"] = step.note;
  return j;
}

Json FindingJson(const InputReport& input, const model::Finding& f) {
  Json j;
  j["code"] = std::string(model::CodeName(f.code));
  j["severity"] = std::string(model::SeverityName(f.severity));
  j["path"] = input.path;
  // Output 1.4: the test case whose trace holds the finding's event (trace format 1.5).
  if (!input.header.case_name.empty()) j["case"] = input.header.case_name;
  if (f.object != model::ObjectKind::kBinary)
    j["object"] = std::string(model::ObjectKindName(f.object));
  j["bin"] = BinJson(f.bin);
  j["incarnation"] = f.incarnation;
  if (!f.port.empty()) j["port"] = f.port;  // output 1.2: a port other than the default one
  j["event"] = f.event;
  if (f.line) j["line"] = f.line;
  if (!f.actor.empty()) j["actor"] = f.actor;
  if (!f.src.empty()) j["src"] = f.src;
  if (!f.func.empty()) j["func"] = f.func;
  j["message"] = f.message;
  if (!f.stack.empty()) j["stack"] = f.stack;
  Json history = Json::array();
  for (size_t i = 0; i < f.history.size(); ++i) {
    if (f.history[i].omitted_before)
      history.push_back(Json{{"omitted", f.history[i].omitted_before}});
    history.push_back(StepJson(f.history[i]));
  }
  j["history"] = std::move(history);
  j["fingerprint"] = model::Fingerprint(f);
  return j;
}

}  // namespace

void RenderJson(const RunReport& run, std::ostream& out) {
  const std::vector<InputReport>& inputs = run.inputs;
  Json root;
  root["version"] = 1;
  // Which fingerprints the diagnostics carry: a baseline must match it.
  root["fingerprint_version"] = model::kFingerprintVersion;
  Json jinputs = Json::array();
  Json diagnostics = Json::array();
  for (const InputReport& input : inputs) {
    Json ji;
    ji["path"] = input.path;
    // Output 1.4: what the trace's header says of its run and test case (trace format 1.5).
    if (input.header.IsPart()) {
      ji["run"] = input.header.run;
      ji["part"] = input.header.part;
    }
    if (!input.header.case_name.empty()) ji["case"] = input.header.case_name;
    ji["events"] = input.events;
    ji["complete"] = input.complete;
    const Totals counts = InputTotals(input);
    ji["errors"] = counts.errors;
    ji["warnings"] = counts.warnings;
    if (counts.unrecorded_driver) ji["unrecorded_driver"] = true;
    if (input.error) {
      Json e;
      if (input.error->line) e["line"] = input.error->line;
      if (input.error->column) e["column"] = input.error->column;
      e["message"] = input.error->message;
      ji["error"] = std::move(e);
    }
    jinputs.push_back(std::move(ji));
    for (const model::Finding& f : input.findings)
      diagnostics.push_back(FindingJson(input, f));
  }
  const Totals totals = ComputeTotals(inputs);
  root["inputs"] = std::move(jinputs);
  root["diagnostics"] = std::move(diagnostics);
  root["summary"] = Json{{"errors", totals.errors},
                         {"warnings", totals.warnings},
                         {"binaries", totals.binaries},
                         {"leaked_bytes", totals.leaked_bytes},
                         {"held_by_processes", totals.held_by_processes},
                         {"suppressed", totals.suppressed},
                         {"baselined", totals.baselined}};
  // Only when it happened: most runs record their driver.
  if (totals.unrecorded_driver) root["summary"]["unrecorded_driver"] = totals.unrecorded_driver;
  // Only when it happened: a trace whose process releases were all attributed has none.
  if (totals.uncertain_end) root["summary"]["uncertain_end"] = totals.uncertain_end;
  // Only when it happened: a NIF library's recorder scanned what it still references at exit.
  if (totals.held_by_nif) root["summary"]["held_by_nif"] = totals.held_by_nif;
  if (!run.suppressions.empty()) {
    Json uses = Json::array();
    for (const SuppressionUse& use : run.suppressions) {
      uses.push_back(Json{
          {"file", use.file}, {"line", use.line}, {"rule", use.rule}, {"matched", use.matched}});
    }
    root["suppressions"] = std::move(uses);
  }
  // Replace invalid UTF-8 from the trace instead of throwing mid-output.
  out << root.dump(2, ' ', false, Json::error_handler_t::replace) << "\n";
}

}  // namespace refctrace::render
