// Turns `check`'s arguments into the list of inputs: files as given, `-` for
// standard input, and directories expanded to the traces inside them.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "trace/input_error.h"

namespace refctrace::cli {

struct InputList {
  std::vector<std::string> paths;
  // Arguments that could not be expanded (a directory without traces, an
  // unreadable directory), in argument order; each error's file is the
  // argument.
  std::vector<trace::InputError> errors;
};

// A directory contributes every regular file below it whose name ends in
// `.ndjson` or `.json`, or in those followed by `.gz` or `.zst`, in byte order of the path, so
// output never depends on the file system's listing order. Anything else (including paths that do
// not exist) is passed through and reported when it is opened.
InputList ExpandInputs(const std::vector<std::string>& args);

// A name a trace file has: `.ndjson` or `.json`, or those followed by `.gz` or `.zst` (what a
// compressed trace is, is decided from its bytes when it is read).
bool IsTraceFileName(const std::string& path);

// `graph` and `show` draw one trace: a directory is refused before anything is
// read or written, with a message that says what to do instead. Empty when
// `path` is not a directory.
std::optional<std::string> RefuseDirectoryTrace(const std::string& path, std::string_view command);

}  // namespace refctrace::cli
