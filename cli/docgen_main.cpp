// refctrace_docgen: writes refctrace's man page or bash completion from the same CLI11
// definitions the tool parses with (cli/command_line.h). The build runs it; it is not installed.
//
//   refctrace_docgen man OUT [PATH=DESCRIPTION]...   (each pair a line of the FILES section)
//   refctrace_docgen bash-completion OUT
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "cli/bash_completion.h"
#include "cli/command_line.h"
#include "cli/manual_page.h"

int main(int argc, char** argv) {
  const std::string usage =
      "usage: refctrace_docgen man OUT [PATH=DESCRIPTION]... | bash-completion OUT\n";
  if (argc < 3) {
    std::cerr << usage;
    return 2;
  }
  const std::string what = argv[1];
  std::vector<refctrace::cli::ManualFile> files;
  for (int i = 3; i < argc; ++i) {
    const std::string pair = argv[i];
    const size_t equals = pair.find('=');
    if (what != "man" || equals == std::string::npos) {
      std::cerr << "refctrace_docgen: unexpected argument '" << pair << "'\n" << usage;
      return 2;
    }
    files.push_back({pair.substr(0, equals), pair.substr(equals + 1)});
  }
  CLI::App app;
  refctrace::cli::DefineCommandLine(app);
  std::ofstream out(argv[2], std::ios::binary);
  if (what == "man") {
    refctrace::cli::WriteManualPage(app, refctrace::cli::VersionText(), files, out);
  } else if (what == "bash-completion") {
    refctrace::cli::WriteBashCompletion(app, out);
  } else {
    std::cerr << "refctrace_docgen: unknown output '" << what << "'\n" << usage;
    return 2;
  }
  out.close();
  if (!out) {
    std::cerr << "refctrace_docgen: cannot write " << argv[2] << "\n";
    return 2;
  }
  return 0;
}
