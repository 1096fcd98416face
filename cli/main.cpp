// refctrace: replays Erlang driver binary traces against the refcount model.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "cli/standard_output.h"
#include "render/graphviz.h"

int main(int argc, char** argv) {
  using refctrace::cli::Commands;
  // The process-wide hooks live here, not in the libraries: signals and
  // standard streams, and Graphviz's message channel.
  refctrace::cli::PrepareStandardStreams();
  refctrace::render::CaptureGraphvizMessages();
  CLI::App app{"refctrace: find reference-counting bugs in Erlang driver binary traces",
               "refctrace"};
  app.set_version_flag("--version", std::string("refctrace ") + refctrace::cli::kVersion);
  app.require_subcommand(1);
  std::vector<std::pair<CLI::App*, std::function<int()>>> runners;
  for (const auto& command : Commands()) {
    CLI::App* sub = app.add_subcommand(std::string(command.name), std::string(command.summary));
    runners.emplace_back(sub, command.setup(*sub));
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Help and version are successes; every other usage error is status 2.
    if (e.get_exit_code() == 0) return refctrace::cli::FinishStandardOutput(app.exit(e));
    std::cerr << "refctrace: error: " << e.what() << "\n"
              << "Run 'refctrace --help' or 'refctrace COMMAND --help' for usage.\n";
    return refctrace::cli::kExitInputError;
  }
  for (auto& [sub, run] : runners) {
    if (sub->parsed()) return refctrace::cli::FinishStandardOutput(run());
  }
  return refctrace::cli::kExitInputError;
}
