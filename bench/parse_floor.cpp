// The parser's floor: what reading an NDJSON trace costs with nothing but simdjson.
//
// Reads the file (or "-", standard input) in 4 MiB chunks into one reused buffer, parses every
// line in place with simdjson On-Demand (one iterate() per line, as the lines are delimited by
// memchr), and touches `op` and `bin` of every event. No model, no checks, no output but a count
// and a checksum (so the compiler cannot drop the work). bench/run.sh puts `refctrace check`'s CPU
// time beside this one's.
//
// usage: refctrace_parse_floor FILE|-

#include <fcntl.h>
#include <simdjson.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string_view>

namespace {

constexpr size_t kChunk = size_t{4} << 20;

// FNV-1a over the bytes of `s`: a checksum the work cannot be optimised away from.
uint64_t Mix(uint64_t h, std::string_view s) {
  for (unsigned char c : s)
    h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: refctrace_parse_floor FILE|-\n");
    return 2;
  }
  int fd = std::strcmp(argv[1], "-") == 0 ? STDIN_FILENO : ::open(argv[1], O_RDONLY);
  if (fd < 0) {
    std::fprintf(stderr, "refctrace_parse_floor: %s: %s\n", argv[1], std::strerror(errno));
    return 2;
  }
  // A line longer than a chunk is not a case the floor needs: it stops with an error.
  std::unique_ptr<char[]> buf(new char[kChunk + simdjson::SIMDJSON_PADDING]);
  simdjson::ondemand::parser parser;
  size_t kept = 0;  // bytes of an unfinished line at the front of buf
  uint64_t events = 0, other = 0, hash = 0xcbf29ce484222325ULL;
  bool eof = false;
  while (!eof) {
    ssize_t n = ::read(fd, buf.get() + kept, kChunk - kept);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::fprintf(stderr, "refctrace_parse_floor: read: %s\n", std::strerror(errno));
      return 2;
    }
    eof = n == 0;
    size_t filled = kept + static_cast<size_t>(n);
    // Parse up to the last newline; the rest waits for the next chunk (or is the last line).
    size_t whole = filled;
    if (!eof) {
      const char* last = static_cast<const char*>(memrchr(buf.get(), '\n', filled));
      if (last == nullptr) {
        std::fprintf(stderr, "refctrace_parse_floor: a line longer than %zu bytes\n", kChunk);
        return 2;
      }
      whole = static_cast<size_t>(last - buf.get()) + 1;
    }
    // One line at a time, in place: the bytes after each line are the file's own (or, after the
    // last, the buffer's padding), which simdjson may read but never parses.
    std::memset(buf.get() + filled, ' ', simdjson::SIMDJSON_PADDING);
    char* line = buf.get();
    char* stop = buf.get() + whole;
    while (line < stop) {
      char* newline = static_cast<char*>(std::memchr(line, '\n', static_cast<size_t>(stop - line)));
      size_t size = static_cast<size_t>((newline ? newline : stop) - line);
      size_t room = static_cast<size_t>(buf.get() + kChunk + simdjson::SIMDJSON_PADDING - line);
      simdjson::ondemand::document doc;
      std::string_view op, bin;
      if (size == 0) {
      } else if (parser.iterate(simdjson::padded_string_view(line, size, room)).get(doc) ||
                 doc["op"].get_string().get(op)) {
        ++other;  // the header, or a line that is not an event
      } else {
        hash = Mix(hash, op);
        if (!doc["bin"].get_string().get(bin)) hash = Mix(hash, bin);
        ++events;
      }
      line += size + 1;
    }
    size_t tail = filled - whole;
    std::memmove(buf.get(), buf.get() + whole, tail);
    kept = tail;
  }
  // Lines without "op" (the header) are counted apart.
  std::printf("%llu events, %llu other lines, checksum %016llx\n",
              static_cast<unsigned long long>(events), static_cast<unsigned long long>(other),
              static_cast<unsigned long long>(hash));
  return 0;
}
