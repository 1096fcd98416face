// The bash completion script for refctrace, written from the CLI11 App that the tool parses with
// (cli/command_line.h): commands, each command's options, the words an option accepts
// (--format's set), file names where a value or positional is a path.
#pragma once

#include <ostream>

namespace CLI {
class App;
}

namespace refctrace::cli {

// Writes a script for bash-completion's completions directory (sourcing it also works).
void WriteBashCompletion(const CLI::App& app, std::ostream& out);

}  // namespace refctrace::cli
