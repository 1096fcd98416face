#include "cli/input_list.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

namespace refctrace::cli {

namespace fs = std::filesystem;

// A compressed trace keeps its name with the compressor's suffix after it (trace.ndjson.zst).
bool IsTraceFileName(const std::string& path) {
  fs::path name = fs::path(path).filename();
  const std::string outer = name.extension().string();
  if (outer == ".gz" || outer == ".zst") name = name.stem();
  const std::string ext = name.extension().string();
  return ext == ".ndjson" || ext == ".json";
}

InputList ExpandInputs(const std::vector<std::string>& args) {
  InputList list;
  for (const std::string& arg : args) {
    std::error_code ec;
    if (arg == "-" || !fs::is_directory(arg, ec)) {
      list.paths.push_back(arg);
      continue;
    }
    std::vector<std::string> found;
    fs::recursive_directory_iterator it(arg, fs::directory_options::skip_permission_denied, ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      std::error_code type_ec;
      if (it->is_regular_file(type_ec) && IsTraceFileName(it->path().string())) {
        found.push_back(it->path().string());
      }
    }
    if (ec) {
      list.errors.push_back(trace::FileError(arg, "cannot read directory: " + ec.message()));
      continue;
    }
    if (found.empty()) {
      list.errors.push_back(trace::FileError(arg, "directory has no *.ndjson or *.json files"));
      continue;
    }
    std::sort(found.begin(), found.end());
    list.paths.insert(list.paths.end(), found.begin(), found.end());
  }
  return list;
}

std::optional<std::string> RefuseDirectoryTrace(const std::string& path, std::string_view command) {
  std::error_code ec;
  if (path == "-" || !fs::is_directory(path, ec)) return std::nullopt;
  return path + " is a directory: " + std::string(command) +
         " reads one trace; name a file in it (refctrace check " + path +
         " checks every trace in it)";
}

}  // namespace refctrace::cli
