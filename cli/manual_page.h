// refctrace.1, the man page, written from the CLI11 App that the tool parses with
// (cli/command_line.h): every command, positional and option, with the same words and
// defaults as `--help`.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace refctrace::cli {

// A line of the FILES section: a path and what is there.
struct ManualFile {
  std::string path;
  std::string description;
};

// Writes the man page (roff, man macros) for `app`. Deterministic: no date.
void WriteManualPage(const CLI::App& app, const std::string& version_text,
                     const std::vector<ManualFile>& files, std::ostream& out);

}  // namespace refctrace::cli
