#include "cli/standard_output.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <streambuf>

#include "cli/commands.h"
#include "cli/output_file.h"

namespace refctrace::cli {

namespace {

// std::cout's buffer: writes to descriptor 1 and remembers the errno of the
// first failed write (stdio's errno would be long overwritten by the time
// anyone looks). After a failure, output is dropped.
class StdoutBuffer : public std::streambuf {
 public:
  StdoutBuffer() { setp(buf_, buf_ + sizeof buf_); }
  int error() const { return error_; }

 protected:
  int_type overflow(int_type ch) override {
    if (!Drain()) return traits_type::eof();
    if (!traits_type::eq_int_type(ch, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(ch);
      pbump(1);
    }
    return traits_type::not_eof(ch);
  }
  int sync() override { return Drain() ? 0 : -1; }

 private:
  bool Drain() {
    const char* p = pbase();
    while (error_ == 0 && p < pptr()) {
      const ssize_t n = ::write(STDOUT_FILENO, p, static_cast<size_t>(pptr() - p));
      if (n >= 0) {
        p += n;
      } else if (errno != EINTR) {
        error_ = errno;
      }
    }
    setp(buf_, buf_ + sizeof buf_);
    return error_ == 0;
  }

  char buf_[1 << 16];
  int error_ = 0;
};

// Never destroyed: std::cout is flushed at exit, after static destructors.
StdoutBuffer& g_stdout = *new StdoutBuffer;

}  // namespace

void PrepareStandardStreams() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) == -1 && errno == EBADF) {
      const int null_fd = ::open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
      if (null_fd >= 0 && null_fd != fd) {
        ::dup2(null_fd, fd);
        ::close(null_fd);
      }
    }
  }
  ::signal(SIGPIPE, SIG_IGN);
  InstallOutputCleanupOnSignals();
  std::cout.rdbuf(&g_stdout);
}

bool StandardOutputClosed() {
  std::cout.flush();
  return g_stdout.error() == EPIPE;
}

int FinishStandardOutput(int status) {
  std::cout.flush();
  if (g_stdout.error() == 0) return status;
  if (g_stdout.error() == EPIPE) {
    RemoveTemporaryOutputs();
    ::signal(SIGPIPE, SIG_DFL);
    ::raise(SIGPIPE);
    return status;  // not reached
  }
  std::cerr << "refctrace: error: cannot write standard output: " << std::strerror(g_stdout.error())
            << "\n";
  return kExitInputError;
}

}  // namespace refctrace::cli
