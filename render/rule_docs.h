// Each diagnostic code's documentation, cut out of docs/diagnostics.md:
// what `refctrace explain CODE` prints and what SARIF rules carry as help.
#pragma once

#include <string>

#include "model/diagnostic_code.h"

namespace refctrace::render {

struct RuleDoc {
  std::string summary;   // one line, from the table at the top of the page
  std::string meaning;   // the "What it means" paragraph, plain text
  std::string markdown;  // the code's whole section, links flattened
  std::string text;      // the same for a terminal: no markup, code indented
};

// Parsed once from the compiled-in page. A code without a section gets empty
// fields; tests make sure every code has one.
const RuleDoc& RuleDocFor(model::Code code);

// Markdown to terminal text: links become their text, bold markers go,
// fenced code is indented by four spaces. Exposed for tests.
std::string MarkdownToText(std::string_view markdown);

}  // namespace refctrace::render
