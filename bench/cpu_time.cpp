// cpu_time OUT CMD [ARGS...]: runs CMD, writes "wall user sys maxrss_kib" to OUT, and exits
// with CMD's status (128 + the signal when a signal ended it).
//
// bench/run.sh's clock. GNU time's %U and %S are truncated to 10 ms each, up to 14% of the
// floor's 0.15 s, which on average raised the cpu/floor ratios by a few percent (decision 243);
// wait4's rusage has microseconds. CMD's output goes where this program's goes.
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace {

double Seconds(const timeval& t) {
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
}

double Now() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: cpu_time OUT CMD [ARGS...]\n");
    return 2;
  }
  const double start = Now();
  const pid_t child = fork();
  if (child < 0) {
    std::fprintf(stderr, "cpu_time: fork: %s\n", std::strerror(errno));
    return 2;
  }
  if (child == 0) {
    execvp(argv[2], argv + 2);
    std::fprintf(stderr, "cpu_time: %s: %s\n", argv[2], std::strerror(errno));
    _exit(127);
  }
  int status = 0;
  rusage usage{};
  while (wait4(child, &status, 0, &usage) < 0) {
    if (errno != EINTR) {
      std::fprintf(stderr, "cpu_time: wait4: %s\n", std::strerror(errno));
      return 2;
    }
  }
  const double wall = Now() - start;
  std::FILE* out = std::fopen(argv[1], "w");
  if (out == nullptr) {
    std::fprintf(stderr, "cpu_time: %s: %s\n", argv[1], std::strerror(errno));
    return 2;
  }
  // ru_maxrss is in KiB on Linux, as GNU time's %M.
  std::fprintf(out, "%.6f %.6f %.6f %ld\n", wall, Seconds(usage.ru_utime), Seconds(usage.ru_stime),
               usage.ru_maxrss);
  if (std::fclose(out) != 0) {
    std::fprintf(stderr, "cpu_time: %s: %s\n", argv[1], std::strerror(errno));
    return 2;
  }
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}
