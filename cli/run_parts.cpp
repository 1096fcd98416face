#include "cli/run_parts.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <system_error>

#include "cli/input_list.h"
#include "trace/reader.h"

namespace refctrace::cli {

namespace fs = std::filesystem;

namespace {

// One name per file, so a file named twice (or as ./x and x) is one part, not two.
std::string SameFileKey(const std::string& path) {
  std::error_code ec;
  const fs::path canonical = fs::weakly_canonical(path, ec);
  return ec ? path : canonical.string();
}

std::string Quoted(const std::string& s) {
  return "\"" + s + "\"";
}

// Headers already read, by SameFileKey: a directory named on the command line is not read
// twice when its parts are looked for beside each other.
using HeaderCache = std::map<std::string, trace::TraceHeader>;

const trace::TraceHeader& CachedHeader(const std::string& path, HeaderCache* cache) {
  const std::string key = SameFileKey(path);
  auto found = cache->find(key);
  if (found == cache->end()) found = cache->emplace(key, ReadTraceHeader(path)).first;
  return found->second;
}

// The run's parts, found beside its named files: every trace in their directories (not below
// them) whose header names the same run. `known` are the files already in the run.
void AddPartsBeside(const std::string& run, std::set<std::string>* known, HeaderCache* cache,
                    std::map<std::string, std::vector<ReplayFile>>* headers_in_dir,
                    std::vector<ReplayFile>* files) {
  std::set<std::string> dirs;
  for (const ReplayFile& f : *files)
    dirs.insert(fs::path(f.path).parent_path().string());
  for (const std::string& dir : dirs) {
    auto [cached, added] = headers_in_dir->try_emplace(dir);
    if (added) {
      std::vector<std::string> names;
      std::error_code ec;
      fs::directory_iterator it(dir.empty() ? "." : dir, ec);
      for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
        std::error_code type_ec;
        const std::string name = it->path().filename().string();
        if (it->is_regular_file(type_ec) && IsTraceFileName(name)) {
          names.push_back(dir.empty() ? name : (fs::path(dir) / name).string());
        }
      }
      std::sort(names.begin(), names.end());  // never the file system's order
      for (const std::string& path : names) {
        ReplayFile f;
        f.path = path;
        f.header = CachedHeader(path, cache);
        f.reported = false;
        if (f.header.IsPart()) cached->second.push_back(std::move(f));
      }
    }
    for (const ReplayFile& f : cached->second) {
      if (f.header.run != run || !known->insert(SameFileKey(f.path)).second) continue;
      files->push_back(f);
    }
  }
}

trace::InputError ErrorAtHeader(const ReplayFile& f, std::string message) {
  return trace::FileError(f.path, std::move(message), f.header.line, f.header.column);
}

// Sorts a run's files into part order and finds the first part that is missing or given
// twice; the files from there on are not replayed, and the problem is reported with the named
// files it stops (or, when it stops none, with the last named file before it).
void OrderRun(ReplayPlan* plan) {
  std::vector<ReplayFile>& files = plan->files;
  std::stable_sort(files.begin(), files.end(), [](const ReplayFile& a, const ReplayFile& b) {
    return a.header.part < b.header.part;
  });
  const std::string& run = files.front().header.run;
  std::optional<std::string> problem;
  size_t stop = files.size();  // the first file not replayed
  for (size_t i = 0; i < files.size(); ++i) {
    const uint64_t part = files[i].header.part;
    if (part != i) {  // sorted and unique so far, so part > i: part i is missing
      problem = "part " + std::to_string(i) + " of run " + Quoted(run) +
                " is missing: a run is replayed from its part 0, one part after another, and " +
                "no input or trace beside them is that part";
      stop = i;
      break;
    }
    if (i + 1 < files.size() && files[i + 1].header.part == part) {
      problem = "part " + std::to_string(part) + " of run " + Quoted(run) + " is in two files, " +
                files[i].path + " and " + files[i + 1].path +
                ": a run's parts must have different numbers";
      stop = i;
      break;
    }
  }
  if (!problem) return;
  plan->finish = false;
  bool told = false;
  for (size_t i = stop; i < files.size(); ++i) {
    files[i].replayed = false;
    if (!files[i].reported) continue;
    files[i].error = ErrorAtHeader(files[i], *problem);
    told = true;
  }
  if (told) return;
  for (size_t i = stop; i-- > 0;) {
    if (!files[i].reported) continue;
    files[i].error = ErrorAtHeader(files[i], *problem + " (the run's end is unknown)");
    return;
  }
}

}  // namespace

trace::TraceHeader ReadTraceHeader(const std::string& path) {
  const std::unique_ptr<trace::TraceReader> reader = trace::TraceReader::OpenPath(path);
  trace::Event event;
  (void)reader->Next(&event);
  return reader->header();
}

std::vector<ReplayPlan> PlanReplays(const std::vector<std::string>& paths) {
  std::vector<ReplayPlan> plans;
  std::map<std::string, size_t> plan_of_run;  // run -> its index in plans
  std::map<std::string, std::set<std::string>> files_of_run;
  HeaderCache cache;
  for (const std::string& path : paths) {
    ReplayFile file;
    file.path = path;
    // Only a regular file can be read twice: a pipe (`<(zcat t.gz)`) or standard input read
    // for its header would lose those bytes for the replay. Such an input is a trace alone,
    // and refused then if its header says it is a part.
    std::error_code ec;
    if (path != "-" && fs::is_regular_file(path, ec)) file.header = CachedHeader(path, &cache);
    if (!file.header.IsPart()) {
      ReplayPlan plan;
      plan.files.push_back(std::move(file));
      plans.push_back(std::move(plan));
      continue;
    }
    const std::string run = file.header.run;
    if (!files_of_run[run].insert(SameFileKey(path)).second) continue;  // named twice
    auto [at, added] = plan_of_run.try_emplace(run, plans.size());
    if (added) {
      plans.emplace_back();
      plans.back().run = true;
    }
    plans[at->second].files.push_back(std::move(file));
  }
  std::map<std::string, std::vector<ReplayFile>> headers_in_dir;
  for (auto& [run, index] : plan_of_run) {
    AddPartsBeside(run, &files_of_run[run], &cache, &headers_in_dir, &plans[index].files);
    OrderRun(&plans[index]);
  }
  return plans;
}

}  // namespace refctrace::cli
