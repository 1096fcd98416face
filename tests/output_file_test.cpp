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
  std::string error;
  auto file = AtomicOutputFile::Create(path, &error);
  REQUIRE(file);
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
  std::string error;
  auto file = AtomicOutputFile::Create(path.string(), &error);
  REQUIRE(file);
  file->stream() << "half a graph";
  file.reset();
  CHECK(Entries(dir) == std::vector<std::string>{"life.dot"});
  CHECK(Contents(path) == "old");
  fs::remove_all(dir);
}

TEST_CASE("output file: a directory that does not exist is an error value") {
  const fs::path dir = ScratchDir("missing");
  std::string error;
  auto file = AtomicOutputFile::Create((dir / "no" / "such" / "x.svg").string(), &error);
  CHECK_FALSE(file);
  CHECK(error.find("cannot write") == 0);
  CHECK(error.find("No such file or directory") != std::string::npos);
  CHECK(Entries(dir).empty());
  fs::remove_all(dir);
}

TEST_CASE("output file: SIGINT and SIGTERM remove the temporary and kill with that signal") {
  for (int sig : {SIGINT, SIGTERM}) {
    const fs::path dir = ScratchDir("signal-" + std::to_string(sig));
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      std::string error;
      auto file = AtomicOutputFile::Create((dir / "life.png").string(), &error);
      if (!file) ::_exit(3);
      file->stream() << "partial";
      file->stream().flush();
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
  std::string error;
  auto done = AtomicOutputFile::Create((dir / "a.svg").string(), &error);
  REQUIRE(done);
  REQUIRE_FALSE(done->Commit());
  auto open = AtomicOutputFile::Create((dir / "b.svg").string(), &error);
  REQUIRE(open);
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
