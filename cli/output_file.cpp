#include "cli/output_file.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace refctrace::cli {

namespace {

// The registry is a fixed array, so the signal handler reads it without
// locks or allocation. A slot is claimed (kFilling), its path copied, then
// published (kRegistered); the handler only unlinks published slots.
constexpr int kSlots = 256;
constexpr size_t kMaxPath = 4096;
enum SlotState : int { kFree = 0, kFilling = 1, kRegistered = 2 };

struct Slot {
  std::atomic<int> state{kFree};
  char path[kMaxPath] = {};
};
std::array<Slot, kSlots> g_slots;
std::atomic<unsigned> g_counter{0};

int Register(const std::string& temp) {
  if (temp.size() >= kMaxPath) return -1;
  for (int i = 0; i < kSlots; ++i) {
    int expected = kFree;
    if (g_slots[i].state.compare_exchange_strong(expected, kFilling)) {
      std::memcpy(g_slots[i].path, temp.c_str(), temp.size() + 1);
      g_slots[i].state.store(kRegistered);
      return i;
    }
  }
  return -1;
}

void Unregister(int slot) {
  if (slot >= 0) g_slots[slot].state.store(kFree);
}

void OnTerminatingSignal(int sig) {
  const int saved = errno;
  RemoveTemporaryOutputs();
  // Die of the same signal: the parent (a shell, CI) sees what happened.
  ::signal(sig, SIG_DFL);
  ::raise(sig);
  errno = saved;
}

}  // namespace

void RemoveTemporaryOutputs() {
  for (Slot& slot : g_slots) {
    if (slot.state.load() == kRegistered) ::unlink(slot.path);
  }
}

void InstallOutputCleanupOnSignals() {
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction current;
    // Leave a signal the parent chose to ignore (nohup, `cmd &` in a script) ignored.
    if (::sigaction(sig, nullptr, &current) == 0 && current.sa_handler == SIG_IGN) continue;
    struct sigaction action {};
    action.sa_handler = OnTerminatingSignal;
    sigemptyset(&action.sa_mask);
    ::sigaction(sig, &action, nullptr);
  }
}

namespace {

trace::InputError CannotWrite(const std::string& path, const std::string& reason) {
  return trace::FileError(path, "cannot write " + path + reason);
}

}  // namespace

trace::ErrorOr<std::unique_ptr<AtomicOutputFile>> AtomicOutputFile::Create(
    const std::string& path) {
  const std::filesystem::path target(path);
  const std::string name = target.filename().string();
  if (name.empty()) return CannotWrite(path, ": not a file name");
  const std::string temp =
      (target.parent_path() / ("." + name + ".tmp." + std::to_string(::getpid()) + "." +
                               std::to_string(g_counter.fetch_add(1))))
          .string();
  // Registered before it exists, so no moment exists where a signal would
  // miss it.
  const int slot = Register(temp);
  if (slot < 0) return CannotWrite(path, ": too many open outputs");
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) {
    const std::string reason = std::strerror(errno);
    Unregister(slot);
    return CannotWrite(path, ": " + reason);
  }
  ::close(fd);
  std::unique_ptr<AtomicOutputFile> file(new AtomicOutputFile(path, temp, slot));
  // On failure the destructor removes the temporary.
  if (!file->out_) return CannotWrite(path, "");
  return file;
}

AtomicOutputFile::AtomicOutputFile(std::string path, std::string temp, int slot)
    : path_(std::move(path)),
      temp_(std::move(temp)),
      slot_(slot),
      out_(temp_, std::ios::binary | std::ios::trunc) {}

AtomicOutputFile::~AtomicOutputFile() {
  if (!done_) Discard();
}

void AtomicOutputFile::Discard() {
  out_.close();
  ::unlink(temp_.c_str());
  Unregister(slot_);
  done_ = true;
}

trace::MaybeError AtomicOutputFile::Commit() {
  if (done_) return CannotWrite(path_, ": already closed");
  out_.flush();
  out_.close();
  if (out_.fail()) {
    Discard();
    return CannotWrite(path_, ": write failed");
  }
  if (::rename(temp_.c_str(), path_.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    Discard();
    return CannotWrite(path_, ": " + reason);
  }
  Unregister(slot_);
  done_ = true;
  return std::nullopt;
}

}  // namespace refctrace::cli
