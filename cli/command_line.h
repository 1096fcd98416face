// refctrace's whole command line as one CLI11 App: the tool parses with it, and the generator of
// the man page and the bash completion (cli/docgen_main.cpp) walks it, so `--help`, `man
// refctrace` and completion cannot name different commands or options.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace CLI {
class App;
}

namespace refctrace::cli {

// A subcommand and the function that runs it once it was parsed.
using CommandRunners = std::vector<std::pair<CLI::App*, std::function<int()>>>;

// Gives `app` refctrace's name, description, --version and one subcommand per entry of
// Commands().
CommandRunners DefineCommandLine(CLI::App& app);

// What `refctrace --version` prints: the tool's version and the trace format it reads.
std::string VersionText();

}  // namespace refctrace::cli
