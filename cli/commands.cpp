#include "cli/commands.h"

namespace refctrace::cli {

const char* const kVersion = REFCTRACE_VERSION;
const char* const kHomepage = REFCTRACE_HOMEPAGE;

const std::vector<Command>& Commands() {
  static const std::vector<Command> commands = {
      {"check", "Replay traces against the refcount model and report every violation", SetupCheck},
      {"graph", "Draw binaries' lifetimes as a picture (DOT, SVG or PNG)", SetupGraph},
      {"show", "Print one binary's life event by event, findings inline", SetupShow},
      {"explain", "Explain a diagnostic code: what it means, an example, how to fix it",
       SetupExplain},
  };
  return commands;
}

}  // namespace refctrace::cli
