// The table of refctrace's commands: each one registers its options on a
// CLI11 subcommand and returns the function that runs it.
#pragma once

#include <functional>
#include <string_view>
#include <vector>

#include "cli/exit_status.h"

namespace CLI {
class App;
}

namespace refctrace::cli {

// The version, from CMakeLists.txt's project().
extern const char* const kVersion;
// Where users learn more (SARIF's informationUri); set with -DREFCTRACE_HOMEPAGE.
extern const char* const kHomepage;

struct Command {
  std::string_view name;
  std::string_view summary;
  // Registers options on `sub`; the returned function runs the command and
  // returns its exit status.
  std::function<std::function<int()>(CLI::App& sub)> setup;
};

const std::vector<Command>& Commands();

// Per-command setup functions, one file each.
std::function<int()> SetupCheck(CLI::App& sub);
std::function<int()> SetupGraph(CLI::App& sub);
std::function<int()> SetupShow(CLI::App& sub);
std::function<int()> SetupExplain(CLI::App& sub);

}  // namespace refctrace::cli
