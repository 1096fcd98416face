// refctrace: replays Erlang driver binary traces against the refcount model.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "cli/command_line.h"
#include "cli/exit_status.h"
#include "cli/standard_output.h"
#include "render/graphviz.h"

int main(int argc, char** argv) {
  // The process-wide hooks live here, not in the libraries: signals and
  // standard streams, and Graphviz's message channel.
  refctrace::cli::PrepareStandardStreams();
  refctrace::render::CaptureGraphvizMessages();
  CLI::App app;
  const refctrace::cli::CommandRunners runners = refctrace::cli::DefineCommandLine(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Help and version are successes; every other usage error is status 2.
    if (e.get_exit_code() == 0) return refctrace::cli::FinishStandardOutput(app.exit(e));
    std::cerr << "refctrace: error: " << e.what() << "\n"
              << "Run 'refctrace --help' or 'refctrace COMMAND --help' for usage.\n";
    return refctrace::cli::kExitInputError;
  }
  for (const auto& [sub, run] : runners) {
    if (sub->parsed()) return refctrace::cli::FinishStandardOutput(run());
  }
  return refctrace::cli::kExitInputError;
}
