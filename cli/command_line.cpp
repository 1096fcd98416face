#include "cli/command_line.h"

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "trace/format_version.h"

namespace refctrace::cli {

std::string VersionText() {
  return std::string("refctrace ") + kVersion + "\nreads trace format " +
         std::string(trace::kFormatRevision) +
         " and earlier (header \"refctrace\": " + std::to_string(trace::kSupportedFormatVersion) +
         ")";
}

CommandRunners DefineCommandLine(CLI::App& app) {
  app.name("refctrace");
  app.description("refctrace: find reference-counting bugs in Erlang driver binary traces");
  app.set_version_flag("--version", VersionText());
  app.require_subcommand(1);
  CommandRunners runners;
  for (const auto& command : Commands()) {
    CLI::App* sub = app.add_subcommand(std::string(command.name), std::string(command.summary));
    runners.emplace_back(sub, command.setup(*sub));
  }
  return runners;
}

}  // namespace refctrace::cli
