// An output file that appears complete or not at all: written under a
// temporary name in the same directory and renamed over the real name when
// complete. Temporaries still open are removed when the process is stopped
// by SIGINT, SIGTERM or SIGHUP (a signal-safe registry, once the executable
// installed InstallOutputCleanupOnSignals), so Ctrl-C never leaves a partial
// or stray file behind.
#pragma once

#include <fstream>
#include <memory>
#include <ostream>
#include <string>

#include "trace/input_error.h"

namespace refctrace::cli {

class AtomicOutputFile {
 public:
  // Creates the temporary next to `path` (".NAME.tmp.PID.N"). On failure
  // nothing is left behind; the error's file is `path`.
  static trace::ErrorOr<std::unique_ptr<AtomicOutputFile>> Create(const std::string& path);

  // Removes the temporary unless Commit() succeeded.
  ~AtomicOutputFile();
  AtomicOutputFile(const AtomicOutputFile&) = delete;
  AtomicOutputFile& operator=(const AtomicOutputFile&) = delete;

  std::ostream& stream() { return out_; }
  const std::string& path() const { return path_; }
  const std::string& temporary_path() const { return temp_; }

  // Flushes, closes and renames the temporary to path(). On failure the
  // temporary is removed.
  trace::MaybeError Commit();

 private:
  AtomicOutputFile(std::string path, std::string temp, int slot);
  void Discard();

  std::string path_;
  std::string temp_;
  int slot_;  // in the cleanup registry
  std::ofstream out_;
  bool done_ = false;
};

// Installs the SIGINT/SIGTERM/SIGHUP handler that removes every registered
// temporary and then dies of the same signal (so the exit status still says
// "interrupted"). Signal handlers belong to the process, so the library
// never installs it on its own: main() does (PrepareStandardStreams), and so
// does any other program that wants temporaries removed on a signal.
void InstallOutputCleanupOnSignals();

// Removes every registered temporary now (the signal handler's work; also
// used before dying of a closed standard output). Async-signal-safe.
void RemoveTemporaryOutputs();

}  // namespace refctrace::cli
