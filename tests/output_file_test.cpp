// cli/output_file: a file is written whole under a temporary name and
// renamed, and a signal removes the temporary.
#include "cli/output_file.h"

#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace refctrace::cli {
namespace {

namespace fs = std::filesystem;

// A fresh empty directory per test.
fs::path ScratchDir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() /
                       ("refctrace-output-file-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::vector<std::string> Entries(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& entry : fs::directory_iterator(dir))
    out.push_back(entry.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string Contents(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream all;
  all << in.rdbuf();
  return all.str();
}

TEST_CASE("output file: written under a temporary name, renamed on commit") {
  const fs::path dir = ScratchDir("commit");
  const std::string path = (dir / "life.svg").string();
  auto created = AtomicOutputFile::Create(path);
  REQUIRE(created.ok());
  std::unique_ptr<AtomicOutputFile> file = std::move(*created);
  file->stream() << "<svg/>";
  CHECK(Entries(dir).size() == 1);
  CHECK(fs::path(file->temporary_path()).parent_path() == dir);
  CHECK(fs::path(file->temporary_path()).filename().string().rfind(".life.svg.tmp.", 0) == 0);
  CHECK_FALSE(fs::exists(path));
  CHECK_FALSE(file->Commit());
  CHECK(Entries(dir) == std::vector<std::string>{"life.svg"});
  CHECK(Contents(path) == "<svg/>");
  file.reset();
  CHECK(Entries(dir) == std::vector<std::string>{"life.svg"});
  fs::remove_all(dir);
}

TEST_CASE("output file: dropped without commit leaves nothing, and an old file untouched") {
  const fs::path dir = ScratchDir("drop");
  const fs::path path = dir / "life.dot";
  std::ofstream(path) << "old";
  auto created = AtomicOutputFile::Create(path.string());
  REQUIRE(created.ok());
  std::unique_ptr<AtomicOutputFile> file = std::move(*created);
  file->stream() << "half a graph";
  file.reset();
  CHECK(Entries(dir) == std::vector<std::string>{"life.dot"});
  CHECK(Contents(path) == "old");
  fs::remove_all(dir);
}

TEST_CASE("output file: a directory that does not exist is an error value") {
  const fs::path dir = ScratchDir("missing");
  const std::string path = (dir / "no" / "such" / "x.svg").string();
  auto created = AtomicOutputFile::Create(path);
  REQUIRE_FALSE(created.ok());
  CHECK(created.error().file == path);
  CHECK(created.error().message.find("cannot write " + path) == 0);
  CHECK(created.error().message.find("No such file or directory") != std::string::npos);
  CHECK(Entries(dir).empty());
  fs::remove_all(dir);
}

TEST_CASE("output file: SIGINT and SIGTERM remove the temporary and kill with that signal") {
  for (int sig : {SIGINT, SIGTERM}) {
    const fs::path dir = ScratchDir("signal-" + std::to_string(sig));
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      // What main() does first (the library installs no handler itself).
      InstallOutputCleanupOnSignals();
      auto file = AtomicOutputFile::Create((dir / "life.png").string());
      if (!file.ok()) ::_exit(3);
      (*file)->stream() << "partial";
      (*file)->stream().flush();
      ::raise(sig);
      ::_exit(4);  // not reached: the handler re-raises with the default action
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    INFO("signal ", sig);
    CHECK(WIFSIGNALED(status));
    if (WIFSIGNALED(status)) CHECK(WTERMSIG(status) == sig);
    CHECK(Entries(dir).empty());
    fs::remove_all(dir);
  }
}

TEST_CASE("output file: RemoveTemporaryOutputs removes only what is still open") {
  const fs::path dir = ScratchDir("remove");
  auto done = AtomicOutputFile::Create((dir / "a.svg").string());
  REQUIRE(done.ok());
  REQUIRE_FALSE((*done)->Commit());
  auto created = AtomicOutputFile::Create((dir / "b.svg").string());
  REQUIRE(created.ok());
  std::unique_ptr<AtomicOutputFile> open = std::move(*created);
  RemoveTemporaryOutputs();
  CHECK(Entries(dir) == std::vector<std::string>{"a.svg"});
  // Committing after the temporary vanished fails cleanly.
  CHECK(open->Commit().has_value());
  open.reset();
  CHECK(Entries(dir) == std::vector<std::string>{"a.svg"});
  fs::remove_all(dir);
}

}  // namespace
}  // namespace refctrace::cli
