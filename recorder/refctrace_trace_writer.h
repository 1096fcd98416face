/* refctrace_trace_writer.h: the part every recorder shares (the driver's,
 * refctrace_recorder.c, and the NIF's, refctrace_nif.c): the trace file
 * (REFCTRACE_TRACE, REFCTRACE_APPEND, REFCTRACE_REFC, REFCTRACE_STACK), its
 * header line, the lock that orders the lines, one line's builder with its
 * JSON escaper, and the caller's site (src, func, stack).
 *
 * Not a public header: its functions are static and it is included by
 * exactly one .c per recorder, so each recorder stays one file to add to a
 * build and exports nothing but its entry points. The including file
 * defines REFCTRACE_WRITER_SOURCE (the header's "source") and the two
 * functions declared below, which ask its emulator interface (erl_driver
 * or erl_nif) for the release and the time. */
#ifndef REFCTRACE_TRACE_WRITER_H
#define REFCTRACE_TRACE_WRITER_H

#ifndef REFCTRACE_WRITER_SOURCE
#error "define REFCTRACE_WRITER_SOURCE before including refctrace_trace_writer.h"
#endif

#include <dlfcn.h>
#include <elf.h>
#include <execinfo.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Defined by the including recorder. */
static void RecorderOtpRelease(char* text, size_t size); /* e.g. "27"; untouched if unknown */

/* A recorder uses what it needs of the rest. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"

/* ---- the trace file: a shared mapping ------------------------------- */

/* Lines are copied into a MAP_SHARED mapping of the trace file, a window
 * that moves along the file, which is grown kTraceChunk bytes at a time
 * (ftruncate): the mapping's pages are the page cache, so a line copied
 * there is in the file as soon as the copy ends, for read(2) at once and
 * after the process dies (abort(), a signal) without a system call per
 * line. The bytes after the last line are NUL until written; a clean exit
 * (atexit, which runs at exit() and when the library is unloaded; with
 * several libraries writing the file, the last one's) cuts the file to its
 * lines. A reader stops at the first NUL byte (docs/spec/trace-format.md,
 * 1.5). Every line is appended under the writer's lock, so the file is
 * always whole lines followed by NUL bytes, and a line's first byte is
 * stored last: a crash in the middle of a copy (on another thread) leaves
 * a NUL where the cut line starts.
 *
 * The file, its mapping, lock and offset are a TraceWriter shared by every
 * recorder library of the process that writes the same file
 * (refctrace_shared_writer.h). */

enum { kMaxStack = 16 };
enum { kTraceChunk = 4 << 20 }; /* file growth and mapping window, bytes */

#include "refctrace_shared_writer.h"

static pthread_once_t open_once = PTHREAD_ONCE_INIT;
static const char* not_recording_why = "REFCTRACE_TRACE is not set";
static int with_refc = 1;
static int stack_depth = 0; /* REFCTRACE_STACK: frames per line, 0 = none */
/* Not recording: a writer with no file, whose lock still orders what the
 * recorder keeps (its tables). */
static TraceWriter idle_writer = {.lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP, .fd = -1};
/* Set once, by OpenTrace (under open_once); read after it. */
static TraceWriter* writer = &idle_writer;

static void OpenTrace(void);

/* The writer's lock; the first one opens the trace (a recorder's lock is
 * the writer's, which is known once REFCTRACE_TRACE was looked at). */
static void Lock(void) {
  pthread_once(&open_once, OpenTrace);
  pthread_mutex_lock(&writer->lock);
}

static void Unlock(void) {
  pthread_mutex_unlock(&writer->lock);
}

/* Maps the window that holds [w->used, w->used + len), growing the file
 * first when it ends before. 0: no room (disk full, no address space): the
 * line is dropped. Under w->lock. */
static int MapWindowFor(TraceWriter* w, size_t len) {
  long page = sysconf(_SC_PAGESIZE);
  off_t start = w->used - w->used % page;
  size_t size = kTraceChunk;
  while ((off_t)size < w->used - start + (off_t)len)
    size += kTraceChunk;
  if (start + (off_t)size > w->size) {
    if (ftruncate(w->fd, start + (off_t)size) != 0) return 0;
    w->size = start + (off_t)size;
  }
  if (w->window != NULL) munmap(w->window, w->window_size);
  w->window = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, w->fd, start);
  if (w->window == MAP_FAILED) {
    w->window = NULL;
    return 0;
  }
  w->window_start = start;
  w->window_size = size;
  return 1;
}

/* Appends one whole line (it ends with '\n') to w. Under w->lock. */
static void AppendLocked(TraceWriter* w, const char* text, size_t len) {
  if (len == 0 || w->fd < 0 || w->closed) return;
  if ((w->window == NULL || w->used + (off_t)len > w->window_start + (off_t)w->window_size) &&
      !MapWindowFor(w, len))
    return;
  char* at = w->window + (w->used - w->window_start);
  memcpy(at + 1, text + 1, len - 1);
  __atomic_store_n(at, text[0], __ATOMIC_RELEASE);
  w->used += (off_t)len;
}

/* Appends one whole line (it ends with '\n'); the one way a line reaches
 * the file. Best effort: a line that finds no room is dropped whole, and
 * the driver goes on. */
static void AppendLine(const char* text, size_t len) {
  Lock();
  AppendLocked(writer, text, len);
  Unlock();
}

/* This library stops writing (at exit, or when it is unloaded). The last
 * library to leave makes the clean exit: the file is cut to its lines (and
 * compressed when asked, refctrace_trace_compress.h) and closed. Lines
 * recorded after it (other threads still running during exit()) are
 * dropped. */
static void CompressTrace(int fd, off_t size, const char* path);
static int StillNamedBy(int fd, const char* path);
/* A recorder's last lines, written when its library leaves the writer at
 * a clean exit, under the writer's lock (the NIF recorder's held lines);
 * NULL: none. */
static void (*before_close)(void);
static void CloseTrace(void) {
  TraceWriter* w = writer;
  pthread_mutex_lock(&w->lock);
  /* This library's last lines, whether or not it is the last to leave. */
  if (w->fd >= 0 && !w->closed && before_close != NULL) before_close();
  if (w->fd >= 0 && !w->closed && --w->users == 0) {
    w->closed = 1;
    if (w->window != NULL) munmap(w->window, w->window_size);
    w->window = NULL;
    if (ftruncate(w->fd, w->used) == 0) w->size = w->used;
    if (w->compress_path[0] != '\0' && StillNamedBy(w->fd, w->compress_path))
      CompressTrace(w->fd, w->used, w->compress_path);
    /* The flock goes with it: a library loaded later is told the file is
     * not empty, not that someone writes it. */
    close(w->fd);
    __atomic_store_n(&w->fd, -1, __ATOMIC_RELAXED); /* read unlocked by Enabled */
  }
  pthread_mutex_unlock(&w->lock);
}

/* A child the emulator's process forks (a driver that forks, a port
 * program started without the forker) inherits the mapping and the lock
 * state: it must neither write lines at the parent's offset nor cut the
 * parent's file at its own exit. It stops recording (the writer is the
 * child's own copy: private memory). */
static void ForgetTraceInChild(void) {
  writer->fd = -1;
  writer->closed = 1;
  pthread_mutex_t unlocked = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
  writer->lock = unlocked;
}

static void WriteHeader(TraceWriter* w) {
  char release[32] = "?";
  RecorderOtpRelease(release, sizeof release);
  char header[160];
  int n = snprintf(header, sizeof header, "{\"refctrace\":1,\"source\":\"%s\",\"otp\":\"%s\"}\n",
                   REFCTRACE_WRITER_SOURCE, release);
  if (n > 0 && (size_t)n < sizeof header) {
    pthread_mutex_lock(&w->lock);
    AppendLocked(w, header, (size_t)n);
    pthread_mutex_unlock(&w->lock);
  }
}

/* The end of an appended-to file's lines: an earlier run that crashed left
 * NUL bytes after its last line, which the new lines overwrite. */
static off_t EndOfLines(int fd, off_t size) {
  char block[4096];
  off_t end = size;
  while (end > 0) {
    off_t from = end > (off_t)sizeof block ? end - (off_t)sizeof block : 0;
    ssize_t n = pread(fd, block, (size_t)(end - from), from);
    if (n <= 0) return size;
    while (n > 0 && block[n - 1] == '\0')
      --n;
    if (n > 0) return from + n;
    end = from;
  }
  return 0;
}

static int WantsCompression(const char* path) {
  const char* compress = getenv("REFCTRACE_COMPRESS");
  if (compress != NULL && *compress != '\0') return strcmp(compress, "zstd") == 0;
  size_t len = strlen(path);
  return len > 4 && strcmp(path + len - 4, ".zst") == 0;
}

/* This library writes through w from now on: it leaves at exit or when it
 * is unloaded (CloseTrace), and stops in a forked child. */
static void UseWriter(TraceWriter* w) {
  writer = w;
  PublishWriter(w);
  atexit(CloseTrace);
  pthread_atfork(NULL, NULL, ForgetTraceInChild);
}

/* Another library of this process writes the file (found by
 * FindSharedWriter): this one joins it. 1: joined or refused; 0: none to
 * join (or it closed), the caller opens the file itself. */
static int JoinOrRefuse(const char* path, const struct stat* file) {
  TraceWriter* found = NULL;
  switch (FindSharedWriter(file, &found)) {
    case kWriterFound:
      if (!JoinWriter(found)) return 0;
      UseWriter(found);
      return 1;
    case kWriterOfAnotherLayout:
      not_recording_why = "REFCTRACE_TRACE is being written by a recorder of another refctrace";
      fprintf(stderr,
              "refctrace: REFCTRACE_TRACE=%s is being written by a recorder library built from "
              "another refctrace (a different writer layout); build every recorded library of "
              "this node from one refctrace, or give each its own file; not recording\n",
              path);
      return 1;
    case kNoWriter:
      break;
  }
  return 0;
}

/* A trace is one emulator run: a file that already has lines (an earlier
 * run) is refused, unless REFCTRACE_APPEND=1 asks to add to it, so two runs
 * never merge silently into one trace. Recorder libraries of one emulator
 * share one writer per file (refctrace_shared_writer.h): the first opens
 * it, the others join. Another emulator writing the file holds its flock:
 * refused, since each would map it at its own end. */
static void OpenTrace(void) {
  const char* path = getenv("REFCTRACE_TRACE");
  if (path == NULL || *path == '\0') return;
  const char* refc = getenv("REFCTRACE_REFC");
  if (refc != NULL && strcmp(refc, "0") == 0) with_refc = 0;
  const char* depth = getenv("REFCTRACE_STACK");
  if (depth != NULL) stack_depth = atoi(depth);
  if (stack_depth < 0) stack_depth = 0;
  if (stack_depth > kMaxStack) stack_depth = kMaxStack;
  const char* append = getenv("REFCTRACE_APPEND");
  int may_append = append != NULL && strcmp(append, "1") == 0;
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    not_recording_why = "REFCTRACE_TRACE cannot be opened";
    fprintf(stderr, "refctrace: cannot open REFCTRACE_TRACE=%s; not recording\n", path);
    if (fd >= 0) close(fd);
    return;
  }
  if (JoinOrRefuse(path, &st)) {
    close(fd);
    return;
  }
  /* A library of this process that opens the file at the same moment holds
   * the lock before it publishes its writer: look again for a while. */
  int locked = flock(fd, LOCK_EX | LOCK_NB) == 0;
  for (int tries = 0; !locked && tries < 200; ++tries) {
    struct timespec pause = {0, 5000000};
    nanosleep(&pause, NULL);
    if (JoinOrRefuse(path, &st)) {
      close(fd);
      return;
    }
    locked = flock(fd, LOCK_EX | LOCK_NB) == 0;
  }
  if (!locked) {
    not_recording_why = "REFCTRACE_TRACE is being written by another emulator";
    fprintf(stderr,
            "refctrace: REFCTRACE_TRACE=%s is being written by another emulator (or a recorder "
            "of this one that has no shared writer); give each its own file; not recording\n",
            path);
    close(fd);
    return;
  }
  if (st.st_size > 0 && !may_append) {
    not_recording_why = "REFCTRACE_TRACE is not empty (remove it, or set REFCTRACE_APPEND=1)";
    fprintf(stderr,
            "refctrace: REFCTRACE_TRACE=%s is not empty (an earlier run?); remove it, or set "
            "REFCTRACE_APPEND=1 to add to it; not recording\n",
            path);
    close(fd);
    return;
  }
  off_t used = EndOfLines(fd, st.st_size);
  int compress = WantsCompression(path);
  if (compress) {
    char magic[4] = {0};
    if (used >= 4 && pread(fd, magic, 4, 0) == 4 && memcmp(magic, "\x28\xb5\x2f\xfd", 4) == 0) {
      not_recording_why = "REFCTRACE_TRACE is compressed: cannot append to it";
      fprintf(stderr,
              "refctrace: REFCTRACE_TRACE=%s is zstd-compressed; the recorder appends to plain "
              "lines only (zstd -d it first); not recording\n",
              path);
      close(fd);
      return;
    }
  }
  TraceWriter* w = NewWriter(&st);
  if (w == NULL) {
    not_recording_why = "out of memory";
    close(fd);
    return;
  }
  w->fd = fd;
  w->users = 1;
  w->size = st.st_size;
  w->used = used;
  if (compress && strlen(path) < sizeof w->compress_path) strcpy(w->compress_path, path);
  /* The header before the writer is published: it is the file's first line. */
  if (used == 0) WriteHeader(w);
  UseWriter(w);
}

static int Enabled(void) {
  pthread_once(&open_once, OpenTrace);
  /* Unlocked: a call that saw the file open checks again under the lock. */
  return __atomic_load_n(&writer->fd, __ATOMIC_RELAXED) >= 0;
}

/* The guarded entry of every recorded call, driver's and NIF's alike: when
 * recording, takes the writer's lock (held until EndRecordedCall, across the real
 * call, so lines keep the calls' order; a call recorded inside another on
 * the same thread, e.g. a trace callback, nests) and captures the caller's
 * stack (REFCTRACE_STACK). 0: not recording, nothing is held, the caller
 * makes the real call alone. */
typedef struct Site Site;
static void CaptureStack(Site* site);
static int StartRecordedCall(Site* site) {
  if (!Enabled()) return 0;
  pthread_mutex_lock(&writer->lock);
  if (stack_depth > 0) CaptureStack(site);
  return 1;
}

static void EndRecordedCall(void) {
  pthread_mutex_unlock(&writer->lock);
}

/* ---- compression at a clean exit ----------------------------------- */

/* REFCTRACE_COMPRESS=zstd, or a REFCTRACE_TRACE ending in ".zst": the
 * lines are recorded plain, as always (a crash must lose nothing, and the
 * Common Test hook reads the file while it grows), and the clean exit
 * compresses the file into one zstd frame that replaces it (a temporary
 * file renamed over it). libzstd is loaded then, with dlopen, so a driver
 * built with the recorder needs no zstd to build or to run: without it,
 * or when anything fails, the plain file stays and standard error says
 * why. After a crash the file is plain: `check` reads both. */
typedef struct {
  const void* src;
  size_t size;
  size_t pos;
} ZstdInBuffer; /* ZSTD_inBuffer */
typedef struct {
  void* dst;
  size_t size;
  size_t pos;
} ZstdOutBuffer;       /* ZSTD_outBuffer */
enum { kZstdEnd = 2 }; /* ZSTD_e_end */

/* Whether path still names the open file. Someone may have removed it
 * before the clean exit (the Common Test hook removes a clean run's file)
 * or put another file there: compressing would then create the file again,
 * or replace the other one. */
static int StillNamedBy(int fd, const char* path) {
  struct stat open_file, named;
  if (fstat(fd, &open_file) != 0 || open_file.st_nlink == 0) return 0;
  return stat(path, &named) == 0 && named.st_dev == open_file.st_dev &&
         named.st_ino == open_file.st_ino;
}

static void CompressTrace(int fd, off_t size, const char* path) {
  void* zstd = dlopen("libzstd.so.1", RTLD_NOW | RTLD_LOCAL);
  if (zstd == NULL) {
    fprintf(stderr, "refctrace: libzstd.so.1 not found; %s stays uncompressed\n", path);
    return;
  }
  void* (*create)(void) = (void* (*)(void))dlsym(zstd, "ZSTD_createCCtx");
  size_t (*release)(void*) = (size_t(*)(void*))dlsym(zstd, "ZSTD_freeCCtx");
  size_t (*stream)(void*, ZstdOutBuffer*, ZstdInBuffer*, int) =
      (size_t(*)(void*, ZstdOutBuffer*, ZstdInBuffer*, int))dlsym(zstd, "ZSTD_compressStream2");
  unsigned (*is_error)(size_t) = (unsigned (*)(size_t))dlsym(zstd, "ZSTD_isError");
  char temporary[4096 + 32];
  int out = -1, ok = 0;
  void* context = NULL;
  const char* plain = MAP_FAILED;
  if (create == NULL || release == NULL || stream == NULL || is_error == NULL) goto done;
  if (snprintf(temporary, sizeof temporary, "%s.%ld.tmp", path, (long)getpid()) >=
      (int)sizeof temporary)
    goto done;
  out = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  context = create();
  if (out < 0 || context == NULL) goto done;
  if (size > 0) {
    plain = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0);
    if (plain == MAP_FAILED) goto done;
  }
  ZstdInBuffer in = {size > 0 ? plain : "", (size_t)size, 0};
  static char block[1 << 17];
  for (;;) {
    ZstdOutBuffer o = {block, sizeof block, 0};
    size_t left = stream(context, &o, &in, kZstdEnd);
    if (is_error(left)) goto done;
    for (size_t done = 0; done < o.pos;) {
      ssize_t n = write(out, block + done, o.pos - done);
      if (n <= 0) goto done;
      done += (size_t)n;
    }
    if (left == 0) break;
  }
  ok = fsync(out) == 0 && rename(temporary, path) == 0;
done:
  if (!ok) fprintf(stderr, "refctrace: compressing %s failed; it stays uncompressed\n", path);
  if (plain != MAP_FAILED) munmap((void*)plain, (size_t)size);
  if (context != NULL) release(context);
  if (out >= 0) {
    close(out);
    if (!ok) unlink(temporary);
  }
  dlclose(zstd);
}

/* ---- one event line -------------------------------------------------- */

/* One frame of a call stack: the function's name from the dynamic symbol
 * table, or, when the address is in no exported symbol (a static
 * function), the name of the module it is in. */
typedef struct {
  const char* function; /* NULL: unknown */
  const char* module;
} Frame;

/* Where a call comes from: the macro's __FILE__, __LINE__ and __func__,
 * the return address into the caller, and (REFCTRACE_STACK) the frames
 * from the caller outwards. */
struct Site {
  const char* file;
  int line;
  const char* func;
  void* caller;
  void* port; /* driver recorder: the port it is serving; NULL: none or not known */
  int frame_count;
  Frame frames[kMaxStack];
};

/* Names the function an address belongs to. dladdr1 also gives the
 * symbol's size, so an address past the end of the nearest exported
 * symbol (inside a static function) is not given that symbol's name. */
static Frame NameFrame(void* address) {
  Frame frame = {NULL, "??"};
  Dl_info info;
  const ElfW(Sym)* symbol = NULL;
  /* A return address may point just past a call that ends its function. */
  char* inside = (char*)address - 1;
  if (dladdr1(inside, &info, (void**)&symbol, RTLD_DL_SYMENT) == 0) return frame;
  if (info.dli_fname != NULL) {
    const char* base = strrchr(info.dli_fname, '/');
    frame.module = base ? base + 1 : info.dli_fname;
  }
  if (info.dli_sname != NULL && symbol != NULL &&
      inside < (char*)info.dli_saddr + symbol->st_size) {
    frame.function = info.dli_sname;
  }
  return frame;
}

/* dladdr1 scans a module's whole symbol table (tens of microseconds for
 * libc), while a driver calls from a few hundred places at most: names are
 * kept per return address. Used under the writer's lock. The recorder lives in the
 * driver, so no module it names is unloaded while it records. */
enum { kFrameCacheSize = 512 };
static struct {
  void* address;
  Frame frame;
} frame_cache[kFrameCacheSize];

static Frame CachedFrame(void* address) {
  size_t slot = ((uintptr_t)address >> 2) % kFrameCacheSize;
  if (frame_cache[slot].address != address) {
    frame_cache[slot].address = address;
    frame_cache[slot].frame = NameFrame(address);
  }
  return frame_cache[slot].frame;
}

/* The frames from the caller of the recorded call outwards: backtrace()
 * also sees the recorder's own frames, which end where the caller's
 * return address appears. */
static void CaptureStack(Site* site) {
  void* addresses[kMaxStack + 8];
  int count = backtrace(addresses, (int)(sizeof addresses / sizeof addresses[0]));
  int first = 0;
  while (first < count && addresses[first] != site->caller)
    ++first;
  site->frame_count = 0;
  for (int i = first; i < count && site->frame_count < stack_depth; ++i)
    site->frames[site->frame_count++] = CachedFrame(addresses[i]);
}

/* One JSON object. It starts in `inline_text` and moves to the heap only
 * for a line that does not fit (long paths), so a line is never cut: a cut
 * line would not be JSON.
 *
 * The recorder builds a line under the writer's lock for every recorded call, so
 * its pieces are written straight into the text: one room check per field
 * and the digits formatted in place, no stdio and no format string parsed
 * (docs/decisions.md 200). */
typedef struct {
  char* text;
  uintptr_t bin; /* the binary the line names last (bin, new_bin) */
  size_t used;
  size_t capacity;
  int failed; /* out of memory: the line is dropped, never written half */
  char inline_text[512];
} Line;

/* Moves the line to a heap buffer with room for `more` bytes; 0: out of
 * memory, and the line is dropped. */
__attribute__((noinline)) static int GrowLine(Line* line, size_t more) {
  if (line->failed) return 0;
  size_t capacity = line->capacity * 2;
  while (line->used + more >= capacity)
    capacity *= 2;
  char* text = malloc(capacity);
  if (text == NULL) {
    /* Dropped: nothing more fits (capacity 0), and the line is not written. */
    line->failed = 1;
    line->used = 0;
    line->capacity = 0;
    return 0;
  }
  memcpy(text, line->text, line->used);
  if (line->text != line->inline_text) free(line->text);
  line->text = text;
  line->capacity = capacity;
  return 1;
}

/* Room for `more` bytes (a failed line has none: capacity 0). */
static inline __attribute__((always_inline)) int Reserve(Line* line, size_t more) {
  return __builtin_expect(line->used + more < line->capacity, 1) || GrowLine(line, more);
}

/* Where the next byte goes; only after Reserve. */
static inline char* TextEnd(Line* line) {
  return line->text + line->used;
}

/* Appends len bytes as they are (a constant len is copied inline). */
static inline __attribute__((always_inline)) void AddBytes(Line* line, const char* text,
                                                           size_t len) {
  if (!Reserve(line, len)) return;
  memcpy(TextEnd(line), text, len);
  line->used += len;
}

/* A string literal, as it is. */
#define AddLiteral(line, literal) AddBytes((line), "" literal, sizeof(literal) - 1)

/* The most bytes PutUnsigned, PutDecimal or PutHex write. */
enum { kMaxNumber = 24 };

/* "00" to "99". */
static const char kDecimalPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* The decimal digits of value at `at`; returns their end. */
static char* PutUnsigned(char* at, unsigned long long value) {
  // clang-format off
  static const unsigned long long kPowers[20] = {
      1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull,
      100000000ull, 1000000000ull, 10000000000ull, 100000000000ull, 1000000000000ull,
      10000000000000ull, 100000000000000ull, 1000000000000000ull, 10000000000000000ull,
      100000000000000000ull, 1000000000000000000ull, 10000000000000000000ull};
  // clang-format on
  /* Digits from the bit length (log10(2) ~ 1233 / 4096), corrected once. */
  int bits = 64 - __builtin_clzll(value | 1);
  int digits = (bits * 1233) >> 12;
  digits += digits < 20 && value >= kPowers[digits];
  if (digits == 0) digits = 1;
  char* end = at + digits;
  char* put = end;
  while (value >= 100) {
    unsigned pair = (unsigned)(value % 100) * 2;
    value /= 100;
    *--put = kDecimalPairs[pair + 1];
    *--put = kDecimalPairs[pair];
  }
  if (value >= 10) {
    *--put = kDecimalPairs[value * 2 + 1];
    *--put = kDecimalPairs[value * 2];
  } else {
    *--put = (char)('0' + value);
  }
  return end;
}

/* value in decimal, negative too. */
static char* PutDecimal(char* at, long long value) {
  if (value >= 0) return PutUnsigned(at, (unsigned long long)value);
  *at = '-';
  return PutUnsigned(at + 1, 0ull - (unsigned long long)value);
}

/* value in lowercase hexadecimal, without 0x; two digits at a time. */
static char* PutHex(char* at, unsigned long long value) {
  static const char kHexPairs[] =
      "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
      "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
      "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
      "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
      "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
      "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
      "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
      "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";
  int digits = (64 - __builtin_clzll(value | 1) + 3) / 4;
  char* end = at + digits;
  char* put = end;
  for (; put - at >= 2; value >>= 8) {
    put -= 2;
    memcpy(put, kHexPairs + (value & 0xff) * 2, 2);
  }
  if (put > at) *--put = kHexPairs[(value & 0xf) * 2 + 1];
  return end;
}

/* Exactly nine digits of value (< 10^9), leading zeros included. */
static char* PutNineDigits(char* at, unsigned value) {
  for (int i = 7; i >= 1; i -= 2) {
    memcpy(at + i, kDecimalPairs + (value % 100) * 2, 2);
    value /= 100;
  }
  at[0] = (char)('0' + value);
  return at + 9;
}

static void AddDecimal(Line* line, long long value) {
  if (Reserve(line, kMaxNumber))
    line->used = (size_t)(PutDecimal(TextEnd(line), value) - line->text);
}

static void AddUnsigned(Line* line, unsigned long long value) {
  if (Reserve(line, kMaxNumber))
    line->used = (size_t)(PutUnsigned(TextEnd(line), value) - line->text);
}

/* ,"KEY":VALUE for a number field; KEY is a string literal. */
#define AddSignedField(line, key, value) \
  (AddLiteral((line), ",\"" key "\":"), AddDecimal((line), (long long)(value)))
#define AddUnsignedField(line, key, value) \
  (AddLiteral((line), ",\"" key "\":"), AddUnsigned((line), (unsigned long long)(value)))
/* ,"KEY":true */
#define AddTrueField(line, key) AddLiteral((line), ",\"" key "\":true")

/* Bytes a JSON string cannot hold as they are: `"`, `\` and controls. */
// clang-format off
static const unsigned char kEscaped[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x00-0x0f */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x10-0x1f */
    ['"'] = 1, ['\\'] = 1};
// clang-format on

/* The contents of a JSON string: `"` and `\` escaped, control bytes as
 * \u00XX; other bytes (UTF-8 included) as they are, copied a run at a
 * time. */
static void AddEscaped(Line* line, const char* text) {
  static const char kHex[] = "0123456789abcdef";
  const unsigned char* run = (const unsigned char*)text;
  for (;;) {
    const unsigned char* c = run;
    while (!kEscaped[*c])
      ++c;
    AddBytes(line, (const char*)run, (size_t)(c - run));
    if (*c == '\0') return;
    if (*c == '"' || *c == '\\') {
      char escaped[2] = {'\\', (char)*c};
      AddBytes(line, escaped, 2);
    } else {
      char escaped[6] = {'\\', 'u', '0', '0', kHex[*c >> 4], kHex[*c & 0xf]};
      AddBytes(line, escaped, 6);
    }
    run = c + 1;
  }
}

/* ,"key":"value" for every string field. */
static void AddString(Line* line, const char* key, const char* value) {
  AddLiteral(line, ",\"");
  AddBytes(line, key, strlen(key));
  AddLiteral(line, "\":\"");
  AddEscaped(line, value);
  AddLiteral(line, "\"");
}

/* op: one of the recorder's own names ("alloc", "bin_make", ...), which
 * need no escaping. */
static void Begin(Line* line, const char* op) {
  line->text = line->inline_text;
  line->used = 0;
  line->capacity = sizeof line->inline_text;
  line->failed = 0;
  line->bin = 0;
  AddLiteral(line, "{\"op\":\"");
  AddBytes(line, op, strlen(op));
  AddLiteral(line, "\"");
}

/* ,"KEY":"0x..." for an id the emulator gave (a pointer): one room check
 * for the whole field. */
static void AddId(Line* line, const char* key, uintptr_t id) {
  size_t key_len = strlen(key);
  if (!Reserve(line, key_len + 8 + kMaxNumber)) return;
  char* at = TextEnd(line);
  at[0] = ',';
  at[1] = '"';
  memcpy(at + 2, key, key_len);
  at += 2 + key_len;
  memcpy(at, "\":\"0x", 5);
  at = PutHex(at + 5, id);
  *at++ = '"';
  line->used = (size_t)(at - line->text);
}

static void AddSrcAndFunc(Line* line, const Site* site) {
  if (site->file != NULL) {
#ifdef REFCTRACE_SRC_PATHS
    /* __FILE__ as compiled: with -fmacro-prefix-map=$REPO/= it is relative
     * to the repository root, which SARIF viewers need to open the file. */
    const char* shown = site->file;
#else
    const char* base = strrchr(site->file, '/');
    const char* shown = base ? base + 1 : site->file;
#endif
    AddLiteral(line, ",\"src\":\"");
    AddEscaped(line, shown);
    AddLiteral(line, ":");
    AddDecimal(line, site->line);
    AddLiteral(line, "\"");
  }
  if (site->func != NULL) AddString(line, "func", site->func);
}

/* ,"src":"FILE:LINE","func":"FUNC" of a call site, formatted once per
 * site: a driver calls from a few hundred places, and these are most of a
 * line's bytes. Keyed by the macro's __FILE__ and __func__ pointers and
 * __LINE__. Used under the writer's lock. */
enum { kSiteCacheSize = 512 };
static struct {
  const char* file;
  const char* func;
  int line;
  size_t len;
  char* text; /* malloc'd; NULL: empty slot */
} site_cache[kSiteCacheSize];

static void AddSite(Line* line, const Site* site) {
  size_t slot = (((uintptr_t)site->file >> 3) ^ ((uintptr_t)site->func >> 3) * 31u ^
                 (uintptr_t)site->line * 0x9E3779B1u) %
                kSiteCacheSize;
  if (site_cache[slot].text == NULL || site_cache[slot].file != site->file ||
      site_cache[slot].func != site->func || site_cache[slot].line != site->line) {
    Line text;
    Begin(&text, "");
    size_t start = text.used;
    AddSrcAndFunc(&text, site);
    char* copy = text.failed ? NULL : malloc(text.used - start);
    if (copy == NULL) {
      AddSrcAndFunc(line, site); /* out of memory: not kept */
      if (text.text != text.inline_text) free(text.text);
      return;
    }
    memcpy(copy, text.text + start, text.used - start);
    if (text.text != text.inline_text) free(text.text);
    free(site_cache[slot].text);
    site_cache[slot].file = site->file;
    site_cache[slot].func = site->func;
    site_cache[slot].line = site->line;
    site_cache[slot].len = text.used - start;
    site_cache[slot].text = copy;
  }
  AddBytes(line, site_cache[slot].text, site_cache[slot].len);
}

/* "stack":["my_drv_output","?? beam.smp",...], innermost first. */
static void AddStack(Line* line, const Site* site) {
  if (site->frame_count == 0) return;
  AddLiteral(line, ",\"stack\":[");
  for (int i = 0; i < site->frame_count; ++i) {
    const Frame* frame = &site->frames[i];
    if (i > 0) AddLiteral(line, ",");
    AddLiteral(line, "\"");
    if (frame->function != NULL) {
      AddEscaped(line, frame->function);
    } else {
      AddLiteral(line, "?? ");
      AddEscaped(line, frame->module);
    }
    AddLiteral(line, "\"");
  }
  AddLiteral(line, "]");
}

/* The line is whole: it goes to the file (never half: a line that ran out
 * of memory is dropped). */
static void WriteLine(Line* line) {
  if (!line->failed) AppendLine(line->text, line->used);
  if (line->text != line->inline_text) free(line->text);
}

/* ---- the clock: `t` -------------------------------------------------- */

/* `t` is on the scale of erlang:monotonic_time(nanosecond), which the
 * Erlang tracer's lines carry, so driver and process lines can be compared
 * by eye. The emulator's clock (erl_drv_monotonic_time, enif_monotonic_time)
 * answers on scheduler threads only: on any other thread (a driver's own,
 * an async one) it returns ERL_DRV_TIME_ERROR, INT64_MIN
 * (erts_napi_monotonic_time); and it costs about 50 ns more than
 * clock_gettime. So `t` is CLOCK_MONOTONIC (the emulator's own source on
 * Linux: erlang:system_info(os_monotonic_time_source)) plus the offset to
 * the emulator's clock, measured once, at the first line written on a
 * thread where the emulator answers (once per file: kept in the writer
 * every recorder library of the process shares); lines before it have no `t` (an
 * optional field). The emulator's time correction may move its clock away
 * from CLOCK_MONOTONIC by a few parts per million afterwards: `t` is for
 * display only (docs/decisions.md 201). Used under the writer's lock. */
static long long RecorderEmulatorNow(void); /* ns; LLONG_MIN: no answer on this thread */

static long long MonotonicNs(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (long long)now.tv_sec * 1000000000ll + now.tv_nsec;
}

/* 1 and *now (ns, the emulator's scale); 0: the offset is not known yet. */
static int RecorderNow(long long* now) {
  TraceWriter* w = writer;
  if (!__builtin_expect(w->clock_offset_known, 1)) {
    long long before = MonotonicNs();
    long long emulator = RecorderEmulatorNow();
    long long after = MonotonicNs();
    if (emulator == LLONG_MIN) return 0;
    w->clock_offset = emulator - (before + (after - before) / 2);
    w->clock_offset_known = 1;
  }
  *now = MonotonicNs() + w->clock_offset;
  return 1;
}

/* The digits of |t| above its last nine change once a second: they are
 * formatted then, and copied on every other line. Under the writer's lock. */
static unsigned long long time_seconds;
static char time_seconds_text[kMaxNumber];
static size_t time_seconds_len;

/* ,"t":NOW} and the newline end every line. */
static void AddTime(Line* line) {
  long long now;
  if (RecorderNow(&now) && Reserve(line, 6 + kMaxNumber)) {
    char* at = TextEnd(line);
    memcpy(at, ",\"t\":", 5);
    at += 5;
    unsigned long long magnitude =
        now < 0 ? 0ull - (unsigned long long)now : (unsigned long long)now;
    if (now < 0) *at++ = '-';
    unsigned long long seconds = magnitude / 1000000000u;
    if (seconds == 0) {
      at = PutUnsigned(at, magnitude);
    } else {
      if (seconds != time_seconds || time_seconds_len == 0) {
        time_seconds = seconds;
        time_seconds_len = (size_t)(PutUnsigned(time_seconds_text, seconds) - time_seconds_text);
      }
      memcpy(at, time_seconds_text, time_seconds_len);
      at = PutNineDigits(at + time_seconds_len, (unsigned)(magnitude % 1000000000u));
    }
    line->used = (size_t)(at - line->text);
  }
  AddLiteral(line, "}\n");
}

/* src, func, stack and t end the line, which is then written. */
static void FinishLine(Line* line, const Site* site) {
  AddSite(line, site);
  AddStack(line, site);
  AddTime(line);
  WriteLine(line);
}

#pragma GCC diagnostic pop

#endif /* REFCTRACE_TRACE_WRITER_H */
