// Turns `check`'s arguments into the list of inputs: files as given, `-` for
// standard input, and directories expanded to the traces inside them.
#pragma once

#include <string>
#include <vector>

namespace refctrace::cli {

struct InputList {
  std::vector<std::string> paths;
  // Arguments that could not be expanded (a directory without traces, an
  // unreadable directory), with the reason, in argument order.
  std::vector<std::pair<std::string, std::string>> errors;
};

// A directory contributes every regular file below it whose name ends in
// `.ndjson` or `.json`, in byte order of the path, so output never depends
// on the file system's listing order. Anything else (including paths that do
// not exist) is passed through and reported when it is opened.
InputList ExpandInputs(const std::vector<std::string>& args);

}  // namespace refctrace::cli
