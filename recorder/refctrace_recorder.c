/* refctrace_recorder.c: the recording side of refctrace_recorder.h. Compile it
 * into the driver with -DREFCTRACE (without it this file is empty). */
#define REFCTRACE_RECORDER_IMPLEMENTATION
#include "refctrace_recorder.h"

#ifdef REFCTRACE

#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the trace file -------------------------------------------------- */

static pthread_once_t open_once = PTHREAD_ONCE_INIT;
static int trace_fd = -1;
static int with_refc = 1;
/* Held across the real call and the write of its line, so the order of the
 * lines in the file is the order in which the calls happened. */
static pthread_mutex_t call_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread int defuse_next_free;

static void WriteAll(const char* text, size_t len) {
  while (len > 0) {
    ssize_t n = write(trace_fd, text, len);
    if (n <= 0) return; /* a trace is best effort; the driver must go on */
    text += n;
    len -= (size_t)n;
  }
}

static void OpenTrace(void) {
  const char* path = getenv("REFCTRACE_TRACE");
  if (path == NULL || *path == '\0') return;
  const char* refc = getenv("REFCTRACE_REFC");
  if (refc != NULL && strcmp(refc, "0") == 0) with_refc = 0;
  /* O_APPEND: the Erlang tracer appends to the same file; each line is one
   * write(2), which the kernel does not interleave with another. */
  trace_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (trace_fd < 0) {
    fprintf(stderr, "refctrace: cannot open REFCTRACE_TRACE=%s; not recording\n", path);
    return;
  }
  struct stat st;
  if (fstat(trace_fd, &st) == 0 && st.st_size == 0) {
    static const char header[] = "{\"refctrace\":1,\"source\":\"refctrace_recorder\"}\n";
    WriteAll(header, sizeof header - 1);
  }
}

static int Enabled(void) {
  pthread_once(&open_once, OpenTrace);
  return trace_fd >= 0;
}

/* ---- one event line -------------------------------------------------- */

typedef struct {
  char text[640];
  size_t used;
} Line;

static void Add(Line* line, const char* format, ...) {
  if (line->used >= sizeof line->text) return;
  va_list args;
  va_start(args, format);
  int n = vsnprintf(line->text + line->used, sizeof line->text - line->used, format, args);
  va_end(args);
  if (n > 0) line->used += (size_t)n;
  if (line->used > sizeof line->text) line->used = sizeof line->text;
}

static void Begin(Line* line, const char* op) {
  line->used = 0;
  Add(line, "{\"op\":\"%s\"", op);
}

static void AddId(Line* line, const char* key, uintptr_t id) {
  Add(line, ",\"%s\":\"0x%" PRIxPTR "\"", key, id);
}

static void AddBin(Line* line, const char* key, const ErlDrvBinary* bin) {
  AddId(line, key, (uintptr_t)bin);
}

static void AddRefc(Line* line, ErlDrvSInt refc) {
  if (with_refc) Add(line, ",\"refc\":%ld", (long)refc);
}

/* A local pid is an immediate term: tag 0x3 in the low 4 bits, then the
 * number (15 bits) and serial (13 bits) that pid_to_list/1 prints. This is
 * the emulator's internal layout (checked on OTP 25, 64-bit, by the
 * end-to-end tests: a wrong name would show as refc-mismatch). */
static void AddTo(Line* line, ErlDrvTermData pid) {
  uintptr_t raw = (uintptr_t)pid;
  if ((raw & 0xf) == 0x3) {
    uintptr_t data = raw >> 4;
    Add(line, ",\"to\":\"<0.%u.%u>\"", (unsigned)(data & 0x7fff),
        (unsigned)((data >> 15) & 0x1fff));
  } else {
    Add(line, ",\"to\":\"unknown\"");
  }
}

static void Finish(Line* line, const char* file, int src_line) {
  if (file != NULL) {
#ifdef REFCTRACE_SRC_PATHS
    /* __FILE__ as compiled: with -fmacro-prefix-map=$REPO/= it is relative
     * to the repository root, which SARIF viewers need to open the file. */
    const char* shown = file;
#else
    const char* base = strrchr(file, '/');
    const char* shown = base ? base + 1 : file;
#endif
    Add(line, ",\"src\":\"%s:%d\"", shown, src_line);
  }
  Add(line, ",\"t\":%lld}\n", (long long)erl_drv_monotonic_time(ERL_DRV_NSEC));
  if (line->used >= sizeof line->text) {
    line->used = sizeof line->text;
    line->text[line->used - 1] = '\n'; /* cannot happen with our fields */
  }
  WriteAll(line->text, line->used);
}

static void Simple(const char* op, const ErlDrvBinary* bin, ErlDrvSInt refc, const char* file,
                   int src_line) {
  Line line;
  Begin(&line, op);
  AddBin(&line, "bin", bin);
  AddRefc(&line, refc);
  Finish(&line, file, src_line);
}

/* ---- distinct binaries of a call, with their refc before it --------- */

typedef struct {
  ErlDrvBinary* bin;
  ErlDrvSInt before;
  int has_bytes; /* some of its bytes are part of the call (after skip) */
} Touched;

typedef struct {
  Touched* items;
  int count;
  Touched inline_items[16];
  int capacity;
} TouchedSet;

static void TouchedInit(TouchedSet* set) {
  set->items = set->inline_items;
  set->count = 0;
  set->capacity = 16;
}

static void TouchedFree(TouchedSet* set) {
  if (set->items != set->inline_items) free(set->items);
}

static void TouchedAdd(TouchedSet* set, ErlDrvBinary* bin, int has_bytes) {
  if (bin == NULL) return;
  for (int i = 0; i < set->count; ++i) {
    if (set->items[i].bin == bin) {
      set->items[i].has_bytes |= has_bytes;
      return;
    }
  }
  if (set->count == set->capacity) {
    int capacity = set->capacity * 2;
    Touched* items = malloc(sizeof *items * (size_t)capacity);
    if (items == NULL) return;
    memcpy(items, set->items, sizeof *items * (size_t)set->count);
    TouchedFree(set);
    set->items = items;
    set->capacity = capacity;
  }
  Touched* t = &set->items[set->count++];
  t->bin = bin;
  t->before = driver_binary_get_refc(bin);
  t->has_bytes = has_bytes;
}

static void TouchedAddIovec(TouchedSet* set, const ErlIOVec* ev, ErlDrvSizeT skip) {
  if (ev == NULL) return;
  for (int i = 0; i < ev->vsize; ++i) {
    ErlDrvSizeT len = ev->iov[i].iov_len;
    int has_bytes = len > skip;
    skip = len > skip ? 0 : skip - len;
    TouchedAdd(set, ev->binv[i], has_bytes);
  }
}

/* One `output` per reference the call created. No new reference means the
 * emulator copied the bytes (<= 64 bytes), or the receiver is gone. */
static void EmitOutputs(const TouchedSet* set, ErlDrvTermData to, int to_known, const char* file,
                        int src_line) {
  for (int i = 0; i < set->count; ++i) {
    const Touched* t = &set->items[i];
    ErlDrvSInt after = driver_binary_get_refc(t->bin);
    if (after <= t->before) {
      if (!t->has_bytes) continue;
      Line line;
      Begin(&line, "output");
      AddBin(&line, "bin", t->bin);
      if (to_known)
        AddTo(&line, to);
      else
        Add(&line, ",\"to\":\"unknown\"");
      Add(&line, ",\"copied\":true");
      AddRefc(&line, after);
      Finish(&line, file, src_line);
      continue;
    }
    for (ErlDrvSInt refc = t->before + 1; refc <= after; ++refc) {
      Line line;
      Begin(&line, "output");
      AddBin(&line, "bin", t->bin);
      if (to_known)
        AddTo(&line, to);
      else
        Add(&line, ",\"to\":\"unknown\"");
      AddRefc(&line, refc);
      Finish(&line, file, src_line);
    }
  }
}

/* One `enq` per reference the queue took. */
static void EmitEnqs(const TouchedSet* set, const char* file, int src_line) {
  for (int i = 0; i < set->count; ++i) {
    const Touched* t = &set->items[i];
    ErlDrvSInt after = driver_binary_get_refc(t->bin);
    for (ErlDrvSInt refc = t->before + 1; refc <= after; ++refc)
      Simple("enq", t->bin, refc, file, src_line);
  }
}

/* ---- ports the driver runs, to find the owner of a port term -------- */

enum { kMaxPorts = 64 };
static struct {
  ErlDrvTermData term;
  ErlDrvPort port;
} known_ports[kMaxPorts];

/* Called with call_lock held. */
static void RememberPort(ErlDrvPort port) {
  ErlDrvTermData term = driver_mk_port(port);
  int free_slot = -1;
  for (int i = 0; i < kMaxPorts; ++i) {
    if (known_ports[i].term == term) return;
    if (known_ports[i].term == 0 && free_slot < 0) free_slot = i;
  }
  if (free_slot >= 0) {
    known_ports[free_slot].term = term;
    known_ports[free_slot].port = port;
  }
}

static void ForgetPort(ErlDrvPort port) {
  ErlDrvTermData term = driver_mk_port(port);
  for (int i = 0; i < kMaxPorts; ++i)
    if (known_ports[i].term == term) known_ports[i].term = 0;
}

static int OwnerOf(ErlDrvTermData port_term, ErlDrvTermData* owner) {
  for (int i = 0; i < kMaxPorts; ++i) {
    if (known_ports[i].term == port_term) {
      *owner = driver_connected(known_ports[i].port);
      return 1;
    }
  }
  return 0;
}

/* ---- ErlDrvTermData specs: the binaries of ERL_DRV_BINARY ----------- */

static void TouchedAddTermSpec(TouchedSet* set, const ErlDrvTermData* data, int len) {
  int i = 0;
  while (i < len) {
    ErlDrvTermData op = data[i];
    if (op == ERL_DRV_NIL) {
      i += 1;
    } else if (op == ERL_DRV_BINARY) {
      if (i + 3 < len) TouchedAdd(set, (ErlDrvBinary*)data[i + 1], data[i + 2] > 0);
      i += 4;
    } else if (op == ERL_DRV_STRING || op == ERL_DRV_STRING_CONS || op == ERL_DRV_EXT2TERM ||
               op == ERL_DRV_BUF2BINARY) {
      i += 3;
    } else if (op == ERL_DRV_ATOM || op == ERL_DRV_INT || op == ERL_DRV_PORT ||
               op == ERL_DRV_TUPLE || op == ERL_DRV_LIST || op == ERL_DRV_PID ||
               op == ERL_DRV_FLOAT || op == ERL_DRV_UINT || op == ERL_DRV_INT64 ||
               op == ERL_DRV_UINT64 || op == ERL_DRV_MAP) {
      i += 2;
    } else {
      return; /* unknown spec element: stop rather than misread */
    }
  }
}

/* ---- recorded calls -------------------------------------------------- */

ErlDrvBinary* refctrace_alloc_binary(ErlDrvSizeT size, const char* file, int src_line) {
  if (!Enabled()) return driver_alloc_binary(size);
  pthread_mutex_lock(&call_lock);
  ErlDrvBinary* bin = driver_alloc_binary(size);
  if (bin != NULL) {
    Line line;
    Begin(&line, "alloc");
    AddBin(&line, "bin", bin);
    Add(&line, ",\"size\":%lu", (unsigned long)size);
    AddRefc(&line, driver_binary_get_refc(bin));
    Finish(&line, file, src_line);
  }
  pthread_mutex_unlock(&call_lock);
  return bin;
}

ErlDrvBinary* refctrace_realloc_binary(ErlDrvBinary* bin, ErlDrvSizeT size, const char* file,
                                       int src_line) {
  if (!Enabled()) return driver_realloc_binary(bin, size);
  if (bin == NULL) return refctrace_alloc_binary(size, file, src_line);
  pthread_mutex_lock(&call_lock);
  ErlDrvBinary* moved = driver_realloc_binary(bin, size);
  if (moved != NULL) { /* on failure the old binary is untouched: nothing happened */
    Line line;
    Begin(&line, "realloc");
    AddBin(&line, "bin", bin);
    if (moved != bin) AddBin(&line, "new_bin", moved);
    Add(&line, ",\"size\":%lu", (unsigned long)size);
    AddRefc(&line, driver_binary_get_refc(moved));
    Finish(&line, file, src_line);
  }
  pthread_mutex_unlock(&call_lock);
  return moved;
}

static int TakeDefuse(void) {
  int defuse = defuse_next_free;
  defuse_next_free = 0;
  return defuse;
}

/* A defused free moves the count exactly as driver_free_binary would, but
 * through driver_binary_dec_refc, which never frees the memory: a seeded
 * double free then leaks instead of freeing bytes others still use, and
 * every count the emulator reports afterwards is the real one. */
static void FreeOrDefuse(ErlDrvBinary* bin, int defuse) {
  if (defuse)
    driver_binary_dec_refc(bin);
  else
    driver_free_binary(bin);
}

void refctrace_free_binary(ErlDrvBinary* bin, const char* file, int src_line) {
  if (!Enabled() || bin == NULL) {
    if (bin == NULL)
      driver_free_binary(bin);
    else
      FreeOrDefuse(bin, TakeDefuse());
    return;
  }
  pthread_mutex_lock(&call_lock);
  /* After the call the binary may be gone: its count after is the count
   * before minus the one reference released. */
  ErlDrvSInt before = driver_binary_get_refc(bin);
  uintptr_t id = (uintptr_t)bin; /* only the address is used after the call */
  int defuse = TakeDefuse();
  FreeOrDefuse(bin, defuse);
  Line line;
  Begin(&line, "free");
  AddId(&line, "bin", id);
  if (defuse) Add(&line, ",\"note\":\"defused: count decremented, memory not freed\"");
  AddRefc(&line, before - 1);
  Finish(&line, file, src_line);
  pthread_mutex_unlock(&call_lock);
}

/* driver_binary_inc_refc and driver_binary_dec_refc: the op, with the count
 * the call returns. */
static ErlDrvSInt CountCall(const char* op, ErlDrvSInt (*call)(ErlDrvBinary*), ErlDrvBinary* bin,
                            const char* file, int src_line) {
  if (!Enabled()) return call(bin);
  pthread_mutex_lock(&call_lock);
  ErlDrvSInt refc = call(bin);
  Simple(op, bin, refc, file, src_line);
  pthread_mutex_unlock(&call_lock);
  return refc;
}

ErlDrvSInt refctrace_binary_inc_refc(ErlDrvBinary* bin, const char* file, int src_line) {
  return CountCall("inc", driver_binary_inc_refc, bin, file, src_line);
}

ErlDrvSInt refctrace_binary_dec_refc(ErlDrvBinary* bin, const char* file, int src_line) {
  return CountCall("dec", driver_binary_dec_refc, bin, file, src_line);
}

ErlDrvSInt refctrace_binary_get_refc(ErlDrvBinary* bin, const char* file, int src_line) {
  if (!Enabled()) return driver_binary_get_refc(bin);
  pthread_mutex_lock(&call_lock);
  ErlDrvSInt refc = driver_binary_get_refc(bin);
  Line line;
  Begin(&line, "observe");
  AddBin(&line, "bin", bin);
  Add(&line, ",\"refc\":%ld", (long)refc); /* required for observe */
  Finish(&line, file, src_line);
  pthread_mutex_unlock(&call_lock);
  return refc;
}

int refctrace_output_binary(ErlDrvPort port, char* hbuf, ErlDrvSizeT hlen, ErlDrvBinary* bin,
                            ErlDrvSizeT offset, ErlDrvSizeT len, const char* file, int src_line) {
  if (!Enabled()) return driver_output_binary(port, hbuf, hlen, bin, offset, len);
  pthread_mutex_lock(&call_lock);
  RememberPort(port);
  TouchedSet set;
  TouchedInit(&set);
  TouchedAdd(&set, bin, len > 0);
  ErlDrvTermData owner = driver_connected(port);
  int result = driver_output_binary(port, hbuf, hlen, bin, offset, len);
  EmitOutputs(&set, owner, 1, file, src_line);
  TouchedFree(&set);
  pthread_mutex_unlock(&call_lock);
  return result;
}

int refctrace_outputv(ErlDrvPort port, char* hbuf, ErlDrvSizeT hlen, ErlIOVec* ev, ErlDrvSizeT skip,
                      const char* file, int src_line) {
  if (!Enabled()) return driver_outputv(port, hbuf, hlen, ev, skip);
  pthread_mutex_lock(&call_lock);
  RememberPort(port);
  TouchedSet set;
  TouchedInit(&set);
  TouchedAddIovec(&set, ev, skip);
  ErlDrvTermData owner = driver_connected(port);
  int result = driver_outputv(port, hbuf, hlen, ev, skip);
  EmitOutputs(&set, owner, 1, file, src_line);
  TouchedFree(&set);
  pthread_mutex_unlock(&call_lock);
  return result;
}

int refctrace_output_term(ErlDrvTermData port, ErlDrvTermData* data, int len, const char* file,
                          int src_line) {
  if (!Enabled()) return erl_drv_output_term(port, data, len);
  pthread_mutex_lock(&call_lock);
  TouchedSet set;
  TouchedInit(&set);
  TouchedAddTermSpec(&set, data, len);
  ErlDrvTermData owner = 0;
  int owner_known = OwnerOf(port, &owner);
  int result = erl_drv_output_term(port, data, len);
  EmitOutputs(&set, owner, owner_known, file, src_line);
  TouchedFree(&set);
  pthread_mutex_unlock(&call_lock);
  return result;
}

int refctrace_send_term(ErlDrvTermData port, ErlDrvTermData to, ErlDrvTermData* data, int len,
                        const char* file, int src_line) {
  if (!Enabled()) return erl_drv_send_term(port, to, data, len);
  pthread_mutex_lock(&call_lock);
  TouchedSet set;
  TouchedInit(&set);
  TouchedAddTermSpec(&set, data, len);
  int result = erl_drv_send_term(port, to, data, len);
  EmitOutputs(&set, to, 1, file, src_line);
  TouchedFree(&set);
  pthread_mutex_unlock(&call_lock);
  return result;
}

/* driver_enq_bin and driver_pushq_bin: one segment, one `enq`. */
static int QueueBin(int (*call)(ErlDrvPort, ErlDrvBinary*, ErlDrvSizeT, ErlDrvSizeT),
                    ErlDrvPort port, ErlDrvBinary* bin, ErlDrvSizeT offset, ErlDrvSizeT len,
                    const char* file, int src_line) {
  if (!Enabled()) return call(port, bin, offset, len);
  pthread_mutex_lock(&call_lock);
  RememberPort(port);
  TouchedSet set;
  TouchedInit(&set);
  TouchedAdd(&set, bin, len > 0);
  int result = call(port, bin, offset, len);
  EmitEnqs(&set, file, src_line);
  TouchedFree(&set);
  pthread_mutex_unlock(&call_lock);
  return result;
}

int refctrace_enq_bin(ErlDrvPort port, ErlDrvBinary* bin, ErlDrvSizeT offset, ErlDrvSizeT len,
                      const char* file, int src_line) {
  return QueueBin(driver_enq_bin, port, bin, offset, len, file, src_line);
}

int refctrace_pushq_bin(ErlDrvPort port, ErlDrvBinary* bin, ErlDrvSizeT offset, ErlDrvSizeT len,
                        const char* file, int src_line) {
  return QueueBin(driver_pushq_bin, port, bin, offset, len, file, src_line);
}

static int QueueV(int (*call)(ErlDrvPort, ErlIOVec*, ErlDrvSizeT), ErlDrvPort port, ErlIOVec* ev,
                  ErlDrvSizeT skip, const char* file, int src_line) {
  pthread_mutex_lock(&call_lock);
  RememberPort(port);
  TouchedSet set;
  TouchedInit(&set);
  TouchedAddIovec(&set, ev, skip);
  int result = call(port, ev, skip);
  EmitEnqs(&set, file, src_line);
  TouchedFree(&set);
  pthread_mutex_unlock(&call_lock);
  return result;
}

int refctrace_enqv(ErlDrvPort port, ErlIOVec* ev, ErlDrvSizeT skip, const char* file,
                   int src_line) {
  if (!Enabled()) return driver_enqv(port, ev, skip);
  return QueueV(driver_enqv, port, ev, skip, file, src_line);
}

int refctrace_pushqv(ErlDrvPort port, ErlIOVec* ev, ErlDrvSizeT skip, const char* file,
                     int src_line) {
  if (!Enabled()) return driver_pushqv(port, ev, skip);
  return QueueV(driver_pushqv, port, ev, skip, file, src_line);
}

/* driver_deq takes a byte count; the queue releases one reference per head
 * segment that the count fully consumes. Look at the segments first. */
ErlDrvSizeT refctrace_deq(ErlDrvPort port, ErlDrvSizeT size, const char* file, int src_line) {
  if (!Enabled()) return driver_deq(port, size);
  pthread_mutex_lock(&call_lock);
  RememberPort(port);
  ErlIOVec queue;
  memset(&queue, 0, sizeof queue);
  ErlDrvSizeT queued = driver_peekqv(port, &queue);
  int consumed = 0;
  ErlDrvBinary** bins = NULL;
  ErlDrvSInt* refcs = NULL;
  if (queued != (ErlDrvSizeT)-1 && size <= queued && queue.vsize > 0) {
    bins = malloc(sizeof *bins * (size_t)queue.vsize);
    refcs = malloc(sizeof *refcs * (size_t)queue.vsize);
    ErlDrvSizeT left = size;
    for (int i = 0; bins && refcs && i < queue.vsize && left >= queue.iov[i].iov_len; ++i) {
      left -= queue.iov[i].iov_len;
      bins[consumed] = queue.binv[i];
      refcs[consumed] = queue.binv[i] ? driver_binary_get_refc(queue.binv[i]) : 0;
      ++consumed;
    }
  }
  ErlDrvSizeT result = driver_deq(port, size);
  if (result != (ErlDrvSizeT)-1) {
    for (int i = 0; i < consumed; ++i) {
      if (bins[i] == NULL) continue;
      /* Each release of the same binary lowers the count read before. */
      ErlDrvSInt refc = refcs[i];
      for (int j = 0; j <= i; ++j)
        if (bins[j] == bins[i]) --refc;
      Simple("deq", bins[i], refc, file, src_line);
    }
  }
  free(bins);
  free(refcs);
  pthread_mutex_unlock(&call_lock);
  return result;
}

/* ---- marks the driver places ----------------------------------------- */

void refctrace_port_started(ErlDrvPort port) {
  if (!Enabled()) return;
  pthread_mutex_lock(&call_lock);
  RememberPort(port);
  pthread_mutex_unlock(&call_lock);
}

static void BorrowMarks(const char* op, ErlIOVec* ev, const char* file, int src_line) {
  if (!Enabled() || ev == NULL) return;
  pthread_mutex_lock(&call_lock);
  TouchedSet set;
  TouchedInit(&set);
  TouchedAddIovec(&set, ev, 0);
  for (int i = 0; i < set.count; ++i)
    Simple(op, set.items[i].bin, set.items[i].before, file, src_line);
  TouchedFree(&set);
  pthread_mutex_unlock(&call_lock);
}

void refctrace_borrow_iovec(ErlIOVec* ev, const char* file, int src_line) {
  BorrowMarks("borrow", ev, file, src_line);
}

void refctrace_unborrow_iovec(ErlIOVec* ev, const char* file, int src_line) {
  BorrowMarks("unborrow", ev, file, src_line);
}

static void Mark(const char* op, ErlDrvBinary* bin, const char* file, int src_line) {
  if (!Enabled() || bin == NULL) return;
  pthread_mutex_lock(&call_lock);
  Simple(op, bin, driver_binary_get_refc(bin), file, src_line);
  pthread_mutex_unlock(&call_lock);
}

void refctrace_write(ErlDrvBinary* bin, const char* file, int src_line) {
  Mark("write", bin, file, src_line);
}

void refctrace_read(ErlDrvBinary* bin, const char* file, int src_line) {
  Mark("read", bin, file, src_line);
}

void refctrace_port_stopped(ErlDrvPort port, const char* file, int src_line) {
  if (!Enabled()) return;
  pthread_mutex_lock(&call_lock);
  ForgetPort(port);
  Line line;
  Begin(&line, "stop");
  Finish(&line, file, src_line);
  pthread_mutex_unlock(&call_lock);
}

void refctrace_defuse_next_free(void) {
  defuse_next_free = 1;
}

#else
/* Not recording: an empty translation unit is not valid ISO C. */
typedef int refctrace_recorder_disabled;
#endif /* REFCTRACE */
