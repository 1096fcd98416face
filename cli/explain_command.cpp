// `refctrace explain [CODE]`: what a rule means, a trace that breaks it and
// how to fix the driver, from docs/diagnostics.md (compiled in).
#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/value_kind.h"
#include "model/diagnostic_code.h"
#include "render/rule_docs.h"

namespace refctrace::cli {

namespace {

int RunExplain(const std::string& code_name) {
  if (code_name.empty()) {
    for (model::Code code : model::kAllCodes) {
      std::string name(model::CodeName(code));
      name.resize(20, ' ');
      std::string severity(model::SeverityName(model::CodeSeverity(code)));
      severity.resize(9, ' ');
      std::cout << name << severity << render::RuleDocFor(code).summary << "\n";
    }
    std::cout << "\nRun 'refctrace explain CODE' for one rule in full.\n";
    return kExitClean;
  }
  const std::optional<model::Code> code = model::CodeFromName(code_name);
  if (!code) {
    std::cerr << "refctrace: error: unknown diagnostic code '" << code_name
              << "'; run 'refctrace explain' to list them\n";
    return kExitInputError;
  }
  const render::RuleDoc& doc = render::RuleDocFor(*code);
  std::cout << code_name << " (" << model::SeverityName(model::CodeSeverity(*code))
            << "): " << doc.summary << "\n\n"
            << doc.text << "\n";
  return kExitClean;
}

}  // namespace

std::function<int()> SetupExplain(CLI::App& sub) {
  auto code = std::make_shared<std::string>();
  sub.add_option("CODE", *code, "Diagnostic code, e.g. double-free; none lists them all")
      ->type_name(kCodeValue);
  return [code] { return RunExplain(*code); };
}

}  // namespace refctrace::cli
