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
#include <link.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Defined by the including recorder. */
static void RecorderOtpRelease(char* text, size_t size); /* e.g. "27"; untouched if unknown */
static long long RecorderNow(void);                      /* monotonic time, ns */

/* A recorder uses what it needs of the rest. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"

/* ---- the trace file -------------------------------------------------- */

enum { kMaxStack = 16 };

static pthread_once_t open_once = PTHREAD_ONCE_INIT;
static int trace_fd = -1;
static const char* not_recording_why = "REFCTRACE_TRACE is not set";
static int with_refc = 1;
static int stack_depth = 0; /* REFCTRACE_STACK: frames per line, 0 = none */
/* Held across the real call and the write of its line, so the order of the
 * lines in the file is the order in which the calls happened. The tracer
 * module's callbacks take it too; a callback that fires inside a recorded
 * call (a port's send trace) runs on the thread that already holds it. */
static pthread_mutex_t call_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread int lock_depth;

static void Lock(void) {
  if (lock_depth++ == 0) pthread_mutex_lock(&call_lock);
}

static void Unlock(void) {
  if (--lock_depth == 0) pthread_mutex_unlock(&call_lock);
}

static void WriteAll(const char* text, size_t len) {
  while (len > 0) {
    ssize_t n = write(trace_fd, text, len);
    if (n <= 0) return; /* a trace is best effort; the driver must go on */
    text += n;
    len -= (size_t)n;
  }
}

static void WriteHeader(void) {
  char release[32] = "?";
  RecorderOtpRelease(release, sizeof release);
  char header[160];
  int n = snprintf(header, sizeof header, "{\"refctrace\":1,\"source\":\"%s\",\"otp\":\"%s\"}\n",
                   REFCTRACE_WRITER_SOURCE, release);
  if (n > 0 && (size_t)n < sizeof header) WriteAll(header, (size_t)n);
}

/* A trace is one emulator run: a file that already has lines (an earlier
 * run) is refused, unless REFCTRACE_APPEND=1 asks to add to it, so two runs
 * never merge silently into one trace. */
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
  /* O_APPEND: every line is one write(2) at the end of the file. */
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    not_recording_why = "REFCTRACE_TRACE cannot be opened";
    fprintf(stderr, "refctrace: cannot open REFCTRACE_TRACE=%s; not recording\n", path);
    return;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || (st.st_size > 0 && !may_append)) {
    not_recording_why = "REFCTRACE_TRACE is not empty (remove it, or set REFCTRACE_APPEND=1)";
    fprintf(stderr,
            "refctrace: REFCTRACE_TRACE=%s is not empty (an earlier run?); remove it, or set "
            "REFCTRACE_APPEND=1 to add to it; not recording\n",
            path);
    close(fd);
    return;
  }
  trace_fd = fd;
  if (st.st_size == 0) WriteHeader();
}

static int Enabled(void) {
  pthread_once(&open_once, OpenTrace);
  return trace_fd >= 0;
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
typedef struct {
  const char* file;
  int line;
  const char* func;
  void* caller;
  void* port; /* driver recorder: the port it is serving; NULL: none or not known */
  int frame_count;
  Frame frames[kMaxStack];
} Site;

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
 * kept per return address. Used under call_lock. The recorder lives in the
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

/* One JSON object, written with one write(2). It starts in `inline_text`
 * and moves to the heap only for a line that does not fit (long paths), so
 * a line is never cut: a cut line would not be JSON. */
typedef struct {
  char* text;
  uintptr_t bin; /* the binary the line names last (bin, new_bin) */
  size_t used;
  size_t capacity;
  int failed; /* out of memory: the line is dropped, never written half */
  char inline_text[512];
} Line;

static int Reserve(Line* line, size_t more) {
  if (line->failed) return 0;
  if (line->used + more < line->capacity) return 1;
  size_t capacity = line->capacity * 2;
  while (line->used + more >= capacity)
    capacity *= 2;
  char* text = malloc(capacity);
  if (text == NULL) {
    line->failed = 1;
    return 0;
  }
  memcpy(text, line->text, line->used);
  if (line->text != line->inline_text) free(line->text);
  line->text = text;
  line->capacity = capacity;
  return 1;
}

/* JSON syntax and numbers; never a string from outside (see AddEscaped). */
static void Add(Line* line, const char* format, ...) {
  va_list args;
  va_start(args, format);
  char scratch[64];
  int n = vsnprintf(scratch, sizeof scratch, format, args);
  va_end(args);
  if (n < 0 || !Reserve(line, (size_t)n)) return;
  if ((size_t)n < sizeof scratch) {
    memcpy(line->text + line->used, scratch, (size_t)n);
  } else {
    va_start(args, format);
    vsnprintf(line->text + line->used, (size_t)n + 1, format, args);
    va_end(args);
  }
  line->used += (size_t)n;
}

/* The contents of a JSON string: `"` and `\` escaped, control bytes as
 * \u00XX; other bytes (UTF-8 included) as they are. */
static void AddEscaped(Line* line, const char* text) {
  static const char kHex[] = "0123456789abcdef";
  for (const unsigned char* c = (const unsigned char*)text; *c != '\0'; ++c) {
    if (!Reserve(line, 6)) return;
    char* out = line->text + line->used;
    if (*c == '"' || *c == '\\') {
      out[0] = '\\';
      out[1] = (char)*c;
      line->used += 2;
    } else if (*c < 0x20) {
      memcpy(out, "\\u00", 4);
      out[4] = kHex[*c >> 4];
      out[5] = kHex[*c & 0xf];
      line->used += 6;
    } else {
      out[0] = (char)*c;
      line->used += 1;
    }
  }
}

/* ,"key":"value" for every string field. */
static void AddString(Line* line, const char* key, const char* value) {
  Add(line, ",\"%s\":\"", key);
  AddEscaped(line, value);
  Add(line, "\"");
}

static void Begin(Line* line, const char* op) {
  line->text = line->inline_text;
  line->used = 0;
  line->capacity = sizeof line->inline_text;
  line->failed = 0;
  line->bin = 0;
  Add(line, "{\"op\":\"");
  AddEscaped(line, op);
  Add(line, "\"");
}

static void AddSrc(Line* line, const Site* site) {
  if (site->file == NULL) return;
#ifdef REFCTRACE_SRC_PATHS
  /* __FILE__ as compiled: with -fmacro-prefix-map=$REPO/= it is relative
   * to the repository root, which SARIF viewers need to open the file. */
  const char* shown = site->file;
#else
  const char* base = strrchr(site->file, '/');
  const char* shown = base ? base + 1 : site->file;
#endif
  Add(line, ",\"src\":\"");
  AddEscaped(line, shown);
  Add(line, ":%d\"", site->line);
}

/* "stack":["my_drv_output","?? beam.smp",...], innermost first. */
static void AddStack(Line* line, const Site* site) {
  if (site->frame_count == 0) return;
  Add(line, ",\"stack\":[");
  for (int i = 0; i < site->frame_count; ++i) {
    const Frame* frame = &site->frames[i];
    Add(line, i == 0 ? "\"" : ",\"");
    if (frame->function != NULL) {
      AddEscaped(line, frame->function);
    } else {
      Add(line, "?? ");
      AddEscaped(line, frame->module);
    }
    Add(line, "\"");
  }
  Add(line, "]");
}

/* ,"KEY":"0x..." for an id the emulator gave (a pointer). */
static void AddId(Line* line, const char* key, uintptr_t id) {
  char text[2 + 2 * sizeof id + 1];
  snprintf(text, sizeof text, "0x%" PRIxPTR, id);
  AddString(line, key, text);
}

/* src, func, stack and t end the line, which is then written with one
 * write(2) (never half: a line that ran out of memory is dropped). */
static void FinishLine(Line* line, const Site* site) {
  AddSrc(line, site);
  if (site->func != NULL) AddString(line, "func", site->func);
  AddStack(line, site);
  Add(line, ",\"t\":%lld}\n", RecorderNow());
  if (!line->failed) WriteAll(line->text, line->used);
  if (line->text != line->inline_text) free(line->text);
}

#pragma GCC diagnostic pop

#endif /* REFCTRACE_TRACE_WRITER_H */
