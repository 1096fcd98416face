/* refctrace_recorder.c: the recording side of refctrace_recorder.h. Compile it
 * into the driver with -DREFCTRACE (without it this file is empty).
 *
 * Every recorded call goes through Run(): it checks that recording is on,
 * takes the lock, lets the call's kind collect what it needs before the real
 * call, performs the call, writes the lines and unlocks, in that order and in
 * one place. A kind (CallKind) is three small functions; an entry point only
 * fills a Call with its arguments. Every line is built by one Line writer
 * whose string fields all go through one JSON escaper.
 *
 * It also keeps what the tracer module (refctrace_tracer_nif.c, same shared
 * object, refctrace_internal.h) needs and gives it: the table of live
 * driver binaries (found by their bytes), the port being served and the
 * command being served on each thread, and the news for the Erlang tracer. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* dladdr1 */
#endif
#define REFCTRACE_RECORDER_IMPLEMENTATION
#include "refctrace_recorder.h"

#include "refctrace_internal.h"

#ifdef REFCTRACE

/* The trace file, the lock and the line builder (shared with the NIF
 * recorder); what the writer asks of the emulator, through erl_driver. */
#define REFCTRACE_WRITER_SOURCE "refctrace_recorder"
#include "refctrace_trace_writer.h"

static void RecorderOtpRelease(char* text, size_t size) {
  ErlDrvSysInfo info;
  memset(&info, 0, sizeof info);
  driver_system_info(&info, sizeof info);
  if (info.otp_release != NULL) snprintf(text, size, "%s", info.otp_release);
}

/* The emulator answers on its scheduler threads only (see RecorderNow). */
static long long RecorderEmulatorNow(void) {
  ErlDrvTime now = erl_drv_monotonic_time(ERL_DRV_NSEC);
  return now == ERL_DRV_TIME_ERROR ? LLONG_MIN : (long long)now;
}

/* seeded-bug tests only (REFCTRACE_DEFUSE_NEXT_FREE) */
static __thread int defuse_next_free;

/* bin or new_bin: the binary the line's refc is about (AddRefc). */
static void AddBin(Line* line, const char* key, uintptr_t id) {
  line->bin = id;
  AddId(line, key, id);
}

static void SetCount(uintptr_t id, long refc);

/* The count after the line's op; the table of live binaries follows it. */
static void AddRefc(Line* line, ErlDrvSInt refc) {
  SetCount(line->bin, (long)refc);
  if (with_refc) AddSignedField(line, "refc", refc);
}

/* The receiver of the message a recorded output call is making, as the
 * port's `send` trace (refctrace_tracer_nif.c) named it on this thread
 * during the call: pid_to_list/1's text. Empty: no message was delivered,
 * or the port is not traced. */
static __thread int awaiting_delivery;
static __thread char delivered_to[64];

void refctrace_internal_delivered_to(const char* pid) {
  if (!awaiting_delivery || delivered_to[0] != '\0') return;
  snprintf(delivered_to, sizeof delivered_to, "%s", pid);
}

static void AddReceiver(Line* line) {
  AddString(line, "to", delivered_to[0] != '\0' ? delivered_to : "unknown");
}

static void AddPort(Line* line, ErlDrvPort port) {
  if (port != NULL) AddId(line, "port", (uintptr_t)port);
}

static void Finish(Line* line, const Site* site) {
  AddPort(line, site->port);
  FinishLine(line, site);
}

/* The line most events are: op, bin, refc, src, t. */
static void Simple(const char* op, const ErlDrvBinary* bin, ErlDrvSInt refc, const Site* site) {
  Line line;
  Begin(&line, op);
  AddBin(&line, "bin", (uintptr_t)bin);
  AddRefc(&line, refc);
  Finish(&line, site);
}

/* ---- distinct binaries of a call, with their refc before it --------- */

typedef struct {
  ErlDrvBinary* bin;
  ErlDrvSInt before;
  int has_bytes; /* some of its bytes are part of the call (after skip) */
  int entries;   /* how many entries of the call name it */
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

/* Appends bin (not NULL) with its count now. */
static void TouchedAppend(TouchedSet* set, ErlDrvBinary* bin, int has_bytes) {
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
  t->entries = 1;
}

/* Adds bin once: a second mention only widens has_bytes. */
static void TouchedAdd(TouchedSet* set, ErlDrvBinary* bin, int has_bytes) {
  if (bin == NULL) return;
  for (int i = 0; i < set->count; ++i) {
    if (set->items[i].bin == bin) {
      set->items[i].has_bytes |= has_bytes;
      ++set->items[i].entries;
      return;
    }
  }
  TouchedAppend(set, bin, has_bytes);
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

/* ---- driver binaries, for the tracer module ------------------------- */

/* The binaries the driver's lines have named that have not ended as far as
 * the recorder knows (public fields of ErlDrvBinary: orig_bytes, orig_size),
 * and the news for the Erlang tracer; shared with the NIF recorder. */
#include "refctrace_live_binaries.h"

static void Track(const ErlDrvBinary* bin) {
  if (bin != NULL) TrackBytes((uintptr_t)bin, bin->orig_bytes, (size_t)bin->orig_size);
}

static void TrackNew(const ErlDrvBinary* bin) {
  if (bin != NULL) TrackNewBytes((uintptr_t)bin, bin->orig_bytes, (size_t)bin->orig_size);
}

void refctrace_internal_attach(void) {
  AttachTracer();
}

/* Most binary terms are a whole driver binary: its bytes start at
 * orig_bytes (ErlDrvBinary's public layout), so its id is tried first. */
int refctrace_internal_find_binary(const void* data, size_t size, uintptr_t* id,
                                   size_t* orig_size) {
  uintptr_t whole = (uintptr_t)((const char*)data - offsetof(ErlDrvBinary, orig_bytes));
  return FindByBytes(data, size, whole, id, orig_size);
}

void refctrace_internal_note_holder(const char* kind, const char* pid, uintptr_t id,
                                    size_t orig_size) {
  NoteHolder(kind, pid, id, orig_size);
}

size_t refctrace_internal_take_news(RefctraceNewsSink take, void* context) {
  return TakeNews(take, context);
}

void refctrace_internal_released(uintptr_t id, long count) {
  Released(id, count);
}

/* ---- the port being served, and the command's sender ------------------ */

/* Set by every call that names a port and by the marks; a call without a
 * port argument (alloc, free, ...) is made for the port this thread served
 * last. */
static __thread ErlDrvPort serving_port;
/* The sender of the command, control or call whose callback runs now (the
 * port's `receive` trace fires on this thread just before the callback):
 * borrow's `from`, reply's `to`. A borrow's is cleared at unborrow. */
static __thread char command_from[64];

void refctrace_internal_command_from(const char* pid) {
  snprintf(command_from, sizeof command_from, "%s", pid);
}

/* Commands traced processes sent, not yet served (oldest first), and the
 * one this thread's callback serves. */
typedef struct {
  const char* data;
  size_t size;
} Bytes;

typedef struct {
  char caller[64];
  char port[64];
  Bytes* bytes;
  int count;
  int known;    /* bytes holds all the command's binaries */
  size_t total; /* the data's size in bytes */
} Command;

enum { kMaxPendingCommands = 256 };
static Command pending_commands[kMaxPendingCommands];
static int pending_command_count;
static __thread Command served;
static __thread int served_known;

static void DropCommand(int index) {
  free(pending_commands[index].bytes);
  memmove(&pending_commands[index], &pending_commands[index + 1],
          sizeof pending_commands[0] * (size_t)(pending_command_count - index - 1));
  --pending_command_count;
}

void refctrace_internal_command_sent(const char* caller, const char* port, const void* const* data,
                                     const size_t* sizes, int count, size_t total) {
  Lock();
  if (pending_command_count == kMaxPendingCommands) DropCommand(0);
  Command* c = &pending_commands[pending_command_count];
  snprintf(c->caller, sizeof c->caller, "%s", caller);
  snprintf(c->port, sizeof c->port, "%s", port);
  c->bytes = count > 0 ? malloc(sizeof *c->bytes * (size_t)count) : NULL;
  c->count = c->bytes != NULL ? count : 0;
  c->known = count == c->count;
  c->total = total;
  for (int i = 0; i < c->count; ++i) {
    c->bytes[i].data = data[i];
    c->bytes[i].size = sizes[i];
  }
  ++pending_command_count;
  Unlock();
}

void refctrace_internal_command_unsent(const char* caller) {
  Lock();
  for (int i = pending_command_count; i-- > 0;) {
    if (strcmp(pending_commands[i].caller, caller) == 0) {
      DropCommand(i);
      break;
    }
  }
  Unlock();
}

/* The emulator references a binary of a command, rather than copying it
 * into its gathered binary, when it is larger than this (io.c's
 * ERL_SMALL_IO_BIN_LIMIT, OTP 25 and 27 alike). */
enum { kAlwaysReferenced = 256 };

static int Within(const char* at, size_t size, const void* const* data, const size_t* sizes,
                  int count) {
  for (int i = 0; i < count; ++i) {
    const char* from = data[i];
    if (at >= from && at + size <= from + sizes[i]) return 1;
  }
  return 0;
}

/* Whether pending command `c` can be the one whose data the callback gets:
 * the same size, and each of its binaries the emulator must have
 * referenced is among the data's. Unknown binaries fit anything. */
static int Fits(const Command* c, const void* const* data, const size_t* sizes, int count,
                size_t total) {
  if (!c->known || count < 0) return 1;
  if (c->total != total) return 0;
  for (int i = 0; i < c->count; ++i) {
    if (c->bytes[i].size > kAlwaysReferenced &&
        !Within(c->bytes[i].data, c->bytes[i].size, data, sizes, count))
      return 0;
  }
  return 1;
}

void refctrace_internal_command_served(const char* caller, const char* port,
                                       const void* const* data, const size_t* sizes, int count,
                                       size_t total) {
  Lock();
  free(served.bytes);
  served.bytes = NULL;
  served_known = 0;
  for (int i = 0; i < pending_command_count;) {
    Command* c = &pending_commands[i];
    if (strcmp(c->caller, caller) != 0 || strcmp(c->port, port) != 0) {
      ++i;
      continue;
    }
    if (!Fits(c, data, sizes, count, total)) {
      /* Commands of one sender to one port are served in order: an older
       * one that does not fit was never delivered. */
      DropCommand(i);
      continue;
    }
    served = *c;
    c->bytes = NULL;
    DropCommand(i);
    served_known = served.known;
    break;
  }
  Unlock();
}

/* Some binary of the served command lies in `bin`: it is the caller's. */
static int CallersOwn(const ErlDrvBinary* bin) {
  for (int i = 0; i < served.count; ++i) {
    const char* at = served.bytes[i].data;
    if (at >= bin->orig_bytes && at + served.bytes[i].size <= bin->orig_bytes + bin->orig_size)
      return 1;
  }
  return 0;
}

/* What the port's running_ports trace said this thread is doing: running a
 * scheduled port task (the emulator took a reference per ErlIOVec entry for
 * it, released after the callback), an immediate call, or nothing known. */
static __thread int port_running = kRunningUnknown;

void refctrace_internal_port_running(int how) {
  port_running = how;
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

/* ---- one recorded call ----------------------------------------------- */

/* The arguments and results of any recorded call, and what the recorder
 * learns about it before the real call. Each kind uses the fields it needs. */
typedef struct Call {
  Site site;
  ErlDrvPort port;
  ErlDrvTermData port_term; /* erl_drv_output_term, erl_drv_send_term */
  ErlDrvTermData to;        /* erl_drv_send_term's receiver */
  ErlDrvBinary* bin;
  ErlDrvSizeT size, offset, len, skip, hlen;
  char* hbuf;
  ErlIOVec* ev;
  ErlDrvTermData* data;
  int data_len;
  int defused;       /* driver_free_binary: defused by REFCTRACE_DEFUSE_NEXT_FREE */
  ErlDrvSInt before; /* driver_free_binary: the count before the call */
  /* results */
  ErlDrvBinary* bin_result;
  ErlDrvSInt refc_result;
  int int_result;
  ErlDrvSizeT size_result;
  TouchedSet touched; /* binaries the call may take references to */
  /* enq calls: the queue's binaries before the call, to find the ones the
   * queue made itself (copies of bytes) */
  int queue_seen; /* queued_before was taken (calls that may copy bytes) */
  ErlDrvBinary** queued_before;
  int queued_before_count;
} Call;

/* What a kind of call does; any step may be NULL. */
typedef struct {
  const char* op;      /* the event, for kinds that write one op */
  int awaits_delivery; /* an output: the port's send trace names the receiver */
  /* Under the lock, before the real call: counts, receiver. */
  void (*collect)(Call* call);
  /* The erl_driver call itself; runs also when recording is off. */
  void (*perform)(Call* call);
  /* Under the lock, after it: the lines. */
  void (*emit)(const char* op, Call* call);
} CallKind;

static void Run(const CallKind* kind, Call* call) {
  if (!StartRecordedCall(&call->site)) {
    if (kind->perform) kind->perform(call);
    return;
  }
  if (call->port != NULL) serving_port = call->port;
  call->site.port = serving_port;
  TouchedInit(&call->touched);
  if (kind->collect) kind->collect(call);
  if (kind->awaits_delivery) {
    awaiting_delivery = 1;
    delivered_to[0] = '\0';
  }
  if (kind->perform) kind->perform(call);
  awaiting_delivery = 0;
  if (kind->emit) kind->emit(kind->op, call);
  TouchedFree(&call->touched);
  EndRecordedCall();
}

/* ---- collect: before the real call ----------------------------------- */

static void CollectBin(Call* c) {
  TouchedAdd(&c->touched, c->bin, c->len > 0);
}

static void CollectIovec(Call* c) {
  TouchedAddIovec(&c->touched, c->ev, c->skip);
}

static void CollectTermSpec(Call* c) {
  TouchedAddTermSpec(&c->touched, c->data, c->data_len);
}

static void CollectBefore(Call* c) {
  if (c->bin != NULL) c->before = driver_binary_get_refc(c->bin);
}

/* driver_deq takes a byte count; the queue releases one reference per head
 * segment that the count fully consumes. Those segments, in queue order and
 * with repeats. */
/* The queue's binaries now (driver_peekqv), for QueueCopies after the call. */
static void CollectQueueBefore(Call* c) {
  ErlIOVec queue;
  memset(&queue, 0, sizeof queue);
  if (driver_peekqv(c->port, &queue) == (ErlDrvSizeT)-1) return;
  c->queue_seen = 1;
  if (queue.vsize <= 0) return;
  c->queued_before = malloc(sizeof *c->queued_before * (size_t)queue.vsize);
  if (c->queued_before == NULL) return;
  for (int i = 0; i < queue.vsize; ++i)
    if (queue.binv[i] != NULL) c->queued_before[c->queued_before_count++] = queue.binv[i];
}

static void CollectIovecAndQueue(Call* c) {
  CollectIovec(c);
  CollectQueueBefore(c);
}

static void CollectConsumedSegments(Call* c) {
  ErlIOVec queue;
  memset(&queue, 0, sizeof queue);
  ErlDrvSizeT queued = driver_peekqv(c->port, &queue);
  if (queued == (ErlDrvSizeT)-1 || c->size > queued) return;
  ErlDrvSizeT left = c->size;
  for (int i = 0; i < queue.vsize && left >= queue.iov[i].iov_len; ++i) {
    left -= queue.iov[i].iov_len;
    if (queue.binv[i] != NULL) TouchedAppend(&c->touched, queue.binv[i], 1);
  }
}

/* ---- perform: the real calls ----------------------------------------- */

static void PerformAlloc(Call* c) {
  c->bin_result = driver_alloc_binary(c->size);
}

static void PerformRealloc(Call* c) {
  c->bin_result = driver_realloc_binary(c->bin, c->size);
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
static void PerformFree(Call* c) {
  if (c->bin == NULL) {
    driver_free_binary(c->bin);
    return;
  }
  c->defused = TakeDefuse();
  if (c->defused)
    driver_binary_dec_refc(c->bin);
  else
    driver_free_binary(c->bin);
}

static void PerformInc(Call* c) {
  c->refc_result = driver_binary_inc_refc(c->bin);
}

static void PerformDec(Call* c) {
  c->refc_result = driver_binary_dec_refc(c->bin);
}

static void PerformGetRefc(Call* c) {
  c->refc_result = driver_binary_get_refc(c->bin);
}

static void PerformOutputBinary(Call* c) {
  c->int_result = driver_output_binary(c->port, c->hbuf, c->hlen, c->bin, c->offset, c->len);
}

static void PerformOutputv(Call* c) {
  c->int_result = driver_outputv(c->port, c->hbuf, c->hlen, c->ev, c->skip);
}

static void PerformOutputTerm(Call* c) {
  c->int_result = erl_drv_output_term(c->port_term, c->data, c->data_len);
}

static void PerformSendTerm(Call* c) {
  c->int_result = erl_drv_send_term(c->port_term, c->to, c->data, c->data_len);
}

static void PerformEnqBin(Call* c) {
  c->int_result = driver_enq_bin(c->port, c->bin, c->offset, c->len);
}

static void PerformPushqBin(Call* c) {
  c->int_result = driver_pushq_bin(c->port, c->bin, c->offset, c->len);
}

static void PerformEnqv(Call* c) {
  c->int_result = driver_enqv(c->port, c->ev, c->skip);
}

static void PerformEnq(Call* c) {
  c->int_result = driver_enq(c->port, c->hbuf, c->len);
}

static void PerformPushq(Call* c) {
  c->int_result = driver_pushq(c->port, c->hbuf, c->len);
}

static void PerformPushqv(Call* c) {
  c->int_result = driver_pushqv(c->port, c->ev, c->skip);
}

static void PerformDeq(Call* c) {
  c->size_result = driver_deq(c->port, c->size);
}

/* ---- emit: the lines, after the real call ----------------------------- */

/* driver_alloc_binary, and driver_realloc_binary(NULL, n), which allocates. */
static void EmitAlloc(const char* op, Call* c) {
  (void)op;
  if (c->bin_result == NULL) return;
  Line line;
  TrackNew(c->bin_result);
  Begin(&line, "alloc");
  AddBin(&line, "bin", (uintptr_t)c->bin_result);
  AddUnsignedField(&line, "size", c->size);
  AddRefc(&line, driver_binary_get_refc(c->bin_result));
  Finish(&line, &c->site);
}

static void EmitRealloc(const char* op, Call* c) {
  /* On failure the old binary is untouched: nothing happened. */
  if (c->bin == NULL || c->bin_result == NULL) {
    EmitAlloc(op, c);
    return;
  }
  if (c->bin_result != c->bin) {
    Untrack((uintptr_t)c->bin);
    TrackNew(c->bin_result);
  } else {
    Track(c->bin_result); /* the new size */
  }
  Line line;
  Begin(&line, "realloc");
  AddBin(&line, "bin", (uintptr_t)c->bin);
  if (c->bin_result != c->bin) AddBin(&line, "new_bin", (uintptr_t)c->bin_result);
  AddUnsignedField(&line, "size", c->size);
  AddRefc(&line, driver_binary_get_refc(c->bin_result));
  Finish(&line, &c->site);
}

/* After the call the binary may be gone: its count after is the count
 * before minus the one reference released, and only its address is used. */
static void EmitFree(const char* op, Call* c) {
  if (c->bin == NULL) return;
  Line line;
  Begin(&line, op);
  AddBin(&line, "bin", (uintptr_t)c->bin);
  if (c->defused) AddString(&line, "note", "defused: count decremented, memory not freed");
  AddRefc(&line, c->before - 1);
  Finish(&line, &c->site);
  if (c->before - 1 <= 0) Untrack((uintptr_t)c->bin);
}

/* driver_binary_inc_refc and driver_binary_dec_refc: the count they return. */
static void EmitCount(const char* op, Call* c) {
  Simple(op, c->bin, c->refc_result, &c->site);
  if (c->refc_result <= 0) Untrack((uintptr_t)c->bin); /* dec to zero */
}

static void EmitObserve(const char* op, Call* c) {
  Line line;
  Begin(&line, op);
  AddBin(&line, "bin", (uintptr_t)c->bin);
  SetCount(line.bin, (long)c->refc_result);
  AddSignedField(&line, "refc", c->refc_result); /* required for observe */
  Finish(&line, &c->site);
}

static void EmitOutput(const Call* c, const ErlDrvBinary* bin, int copied, ErlDrvSInt refc) {
  Line line;
  Begin(&line, "output");
  AddBin(&line, "bin", (uintptr_t)bin);
  AddReceiver(&line);
  if (copied) AddTrueField(&line, "copied");
  AddRefc(&line, refc);
  Finish(&line, &c->site);
}

/* One `output` per reference the call created. No new reference means the
 * emulator copied the bytes (<= 64 bytes), or the receiver is gone. */
static void EmitOutputs(const char* op, Call* c) {
  (void)op;
  for (int i = 0; i < c->touched.count; ++i) {
    const Touched* t = &c->touched.items[i];
    ErlDrvSInt after = driver_binary_get_refc(t->bin);
    if (after <= t->before) {
      if (t->has_bytes) EmitOutput(c, t->bin, 1, after);
      continue;
    }
    for (ErlDrvSInt refc = t->before + 1; refc <= after; ++refc)
      EmitOutput(c, t->bin, 0, refc);
  }
}

static int Contains(ErlDrvBinary* const* bins, int count, const ErlDrvBinary* bin) {
  for (int i = 0; i < count; ++i)
    if (bins[i] == bin) return 1;
  return 0;
}

/* Binaries in the queue after the call that were not there before and that
 * the driver did not name: the queue copied bytes into them (driver_enq,
 * driver_pushq, NULL-binary segments of driver_enqv/driver_pushqv). Each
 * is an `enq` with `copy`: the queue is its only holder. */
static void EmitQueueCopies(Call* c) {
  ErlIOVec queue;
  memset(&queue, 0, sizeof queue);
  if (driver_peekqv(c->port, &queue) == (ErlDrvSizeT)-1) return;
  for (int i = 0; i < queue.vsize; ++i) {
    ErlDrvBinary* bin = queue.binv[i];
    if (bin == NULL || Contains(c->queued_before, c->queued_before_count, bin)) continue;
    int named = 0;
    for (int j = 0; j < c->touched.count; ++j)
      named |= c->touched.items[j].bin == bin;
    if (named || Contains(queue.binv, i, bin)) continue;
    TrackNew(bin);
    Line line;
    Begin(&line, "enq");
    AddBin(&line, "bin", (uintptr_t)bin);
    AddUnsignedField(&line, "size", bin->orig_size);
    AddTrueField(&line, "copy");
    AddRefc(&line, driver_binary_get_refc(bin));
    Finish(&line, &c->site);
  }
}

/* One `enq` per reference the queue took, then the queue's own copies. */
static void EmitEnqs(const char* op, Call* c) {
  (void)op;
  for (int i = 0; i < c->touched.count; ++i) {
    const Touched* t = &c->touched.items[i];
    ErlDrvSInt after = driver_binary_get_refc(t->bin);
    for (ErlDrvSInt refc = t->before + 1; refc <= after; ++refc)
      Simple("enq", t->bin, refc, &c->site);
  }
  if (c->queue_seen && c->int_result >= 0) EmitQueueCopies(c);
  free(c->queued_before);
}

/* One `deq` per consumed segment; each release of the same binary lowers
 * the count read before the call. */
static void EmitDeqs(const char* op, Call* c) {
  (void)op;
  if (c->size_result == (ErlDrvSizeT)-1) return;
  for (int i = 0; i < c->touched.count; ++i) {
    const Touched* t = &c->touched.items[i];
    ErlDrvSInt refc = t->before;
    for (int j = 0; j <= i; ++j)
      if (c->touched.items[j].bin == t->bin) --refc;
    Simple("deq", t->bin, refc, &c->site);
    if (refc <= 0) Untrack((uintptr_t)t->bin);
  }
}

/* borrow: each binary of the ErlIOVec with its count and size, and the
 * process whose command it is when the port's `receive` trace said so (the
 * Erlang tracer then relates the binary to that process's own reference). */
/* Whose a borrowed binary is, as far as the traces of this command tell:
 * the caller's own (`from`), the emulator's gathered copy, or not known;
 * and how many references the emulator took for a scheduled task. */
typedef struct {
  int from, gathered, task;
} BorrowedFrom;

static BorrowedFrom Borrowed(const Touched* t) {
  BorrowedFrom b = {0, 0, 0};
  /* Only when the command's own binaries are known: a binary of the
   * caller is its `from`; any other was gathered by the emulator. */
  if (served_known && command_from[0] != '\0') {
    b.from = CallersOwn(t->bin);
    b.gathered = !b.from;
  }
  if (port_running == kRunningTask) b.task = t->entries;
  return b;
}

static void EmitBorrows(const char* op, Call* c) {
  for (int i = 0; i < c->touched.count; ++i) {
    const Touched* t = &c->touched.items[i];
    BorrowedFrom b = Borrowed(t);
    Track(t->bin);
    Line line;
    Begin(&line, op);
    AddBin(&line, "bin", (uintptr_t)t->bin);
    AddUnsignedField(&line, "size", t->bin->orig_size);
    if (b.from) {
      AddString(&line, "from", command_from);
      AddNews("borrow", command_from, (uintptr_t)t->bin, (size_t)t->bin->orig_size);
    }
    if (b.gathered) AddTrueField(&line, "gathered");
    if (b.task > 0) AddSignedField(&line, "task", b.task);
    AddRefc(&line, t->before);
    Finish(&line, &c->site);
  }
}

/* unborrow: each binary of the ErlIOVec; the command is over. The count is
 * the one after the emulator drops what it took for the callback (its
 * gathered copy, the task's references), which it does as soon as the
 * callback returns: the count now minus those. */
static void EmitUnborrows(const char* op, Call* c) {
  for (int i = 0; i < c->touched.count; ++i) {
    const Touched* t = &c->touched.items[i];
    BorrowedFrom b = Borrowed(t);
    ErlDrvSInt after = t->before - b.gathered - b.task;
    Simple(op, t->bin, after, &c->site);
    if (after <= 0) Untrack((uintptr_t)t->bin);
  }
  command_from[0] = '\0';
  free(served.bytes);
  served.bytes = NULL;
  served.count = 0;
  served_known = 0;
}

/* write, read: the binary with its count now. */
static void EmitMark(const char* op, Call* c) {
  if (c->bin != NULL) Simple(op, c->bin, driver_binary_get_refc(c->bin), &c->site);
}

/* reply: a binary-mode control/call hands the driver's reference to its
 * caller through *rbuf; 64 bytes or less (orig_size) are copied and the
 * binary freed by the emulator when the callback returns. */
static void EmitReply(const char* op, Call* c) {
  if (c->bin == NULL) return;
  ErlDrvSInt before = driver_binary_get_refc(c->bin);
  int copied = c->bin->orig_size <= 64;
  Line line;
  Begin(&line, op);
  AddBin(&line, "bin", (uintptr_t)c->bin);
  if (command_from[0] != '\0') AddString(&line, "to", command_from);
  if (copied) AddTrueField(&line, "copied");
  AddRefc(&line, copied ? before - 1 : before);
  Finish(&line, &c->site);
  if (copied && before - 1 <= 0) Untrack((uintptr_t)c->bin);
  /* The caller gets the reference as the result of its call, not as a
   * message: there is no receive trace, so its receive is written here
   * (and the tracer relates the caller's new wrapper to the binary). */
  if (!copied && command_from[0] != '\0') {
    Begin(&line, "receive");
    AddBin(&line, "bin", (uintptr_t)c->bin);
    AddString(&line, "actor", command_from);
    AddRefc(&line, before);
    AddTime(&line);
    WriteLine(&line);
    AddNews("receive", command_from, (uintptr_t)c->bin, (size_t)c->bin->orig_size);
  }
}

static void EmitStop(const char* op, Call* c) {
  Line line;
  Begin(&line, op);
  Finish(&line, &c->site);
  serving_port = NULL;
}

/* ---- the kinds ------------------------------------------------------- */

static const CallKind kAlloc = {"alloc", 0, NULL, PerformAlloc, EmitAlloc};
static const CallKind kRealloc = {"realloc", 0, NULL, PerformRealloc, EmitRealloc};
static const CallKind kFree = {"free", 0, CollectBefore, PerformFree, EmitFree};
static const CallKind kInc = {"inc", 0, NULL, PerformInc, EmitCount};
static const CallKind kDec = {"dec", 0, NULL, PerformDec, EmitCount};
static const CallKind kObserve = {"observe", 0, NULL, PerformGetRefc, EmitObserve};
static const CallKind kOutputBinary = {"output", 1, CollectBin, PerformOutputBinary, EmitOutputs};
static const CallKind kOutputv = {"output", 1, CollectIovec, PerformOutputv, EmitOutputs};
static const CallKind kOutputTerm = {"output", 1, CollectTermSpec, PerformOutputTerm, EmitOutputs};
static const CallKind kSendTerm = {"output", 1, CollectTermSpec, PerformSendTerm, EmitOutputs};
static const CallKind kEnqBin = {"enq", 0, CollectBin, PerformEnqBin, EmitEnqs};
static const CallKind kPushqBin = {"enq", 0, CollectBin, PerformPushqBin, EmitEnqs};
static const CallKind kEnqv = {"enq", 0, CollectIovecAndQueue, PerformEnqv, EmitEnqs};
static const CallKind kPushqv = {"enq", 0, CollectIovecAndQueue, PerformPushqv, EmitEnqs};
static const CallKind kEnq = {"enq", 0, CollectQueueBefore, PerformEnq, EmitEnqs};
static const CallKind kPushq = {"enq", 0, CollectQueueBefore, PerformPushq, EmitEnqs};
static const CallKind kDeq = {"deq", 0, CollectConsumedSegments, PerformDeq, EmitDeqs};
static const CallKind kBorrow = {"borrow", 0, CollectIovec, NULL, EmitBorrows};
static const CallKind kUnborrow = {"unborrow", 0, CollectIovec, NULL, EmitUnborrows};
static const CallKind kWrite = {"write", 0, NULL, NULL, EmitMark};
static const CallKind kReply = {"reply", 0, NULL, NULL, EmitReply};
static const CallKind kRead = {"read", 0, NULL, NULL, EmitMark};
static const CallKind kServing = {NULL, 0, NULL, NULL, NULL};
static const CallKind kPortStopped = {"stop", 0, NULL, NULL, EmitStop};

/* ---- for the tracer module (refctrace_internal.h) -------------------- */

int refctrace_internal_recording(const char** why) {
  if (Enabled()) return 1;
  *why = not_recording_why;
  return 0;
}

void refctrace_internal_write_line(const char* text, size_t len) {
  if (Enabled()) AppendLine(text, len);
}

void refctrace_internal_process_event(const char* op, uintptr_t bin, const char* actor,
                                      const char* to, int counted) {
  if (!Enabled()) return;
  Lock();
  Line line;
  Begin(&line, op);
  if (bin != 0) AddBin(&line, "bin", bin);
  AddString(&line, "actor", actor);
  if (to != NULL) AddString(&line, "to", to);
  if (counted && bin != 0) AddRefc(&line, driver_binary_get_refc((ErlDrvBinary*)bin));
  if (strcmp(op, "send") == 0) AddToCount(bin, 1);
  AddTime(&line);
  WriteLine(&line);
  Unlock();
}

const RefctraceRecorder refctrace_driver_recorder = {
    refctrace_internal_recording,
    refctrace_internal_attach,
    refctrace_internal_write_line,
    refctrace_internal_process_event,
    refctrace_internal_find_binary,
    refctrace_internal_note_holder,
    refctrace_internal_take_news,
    refctrace_internal_released,
    NULL, /* write_held: a driver has no held lines */
};

/* ---- the entry points ------------------------------------------------ */

/* The return address into the driver function that made the call; the
 * entry points are never inlined into it (another translation unit). */
#define CALLER __builtin_return_address(0)

ErlDrvBinary* refctrace_alloc_binary(ErlDrvSizeT size, const char* file, int line,
                                     const char* func) {
  Call c = {.site = {file, line, func, CALLER}, .size = size};
  Run(&kAlloc, &c);
  return c.bin_result;
}

ErlDrvBinary* refctrace_realloc_binary(ErlDrvBinary* bin, ErlDrvSizeT size, const char* file,
                                       int line, const char* func) {
  Call c = {.site = {file, line, func, CALLER}, .bin = bin, .size = size};
  Run(&kRealloc, &c);
  return c.bin_result;
}

void refctrace_free_binary(ErlDrvBinary* bin, const char* file, int line, const char* func) {
  Call c = {.site = {file, line, func, CALLER}, .bin = bin};
  Run(&kFree, &c);
}

ErlDrvSInt refctrace_binary_inc_refc(ErlDrvBinary* bin, const char* file, int line,
                                     const char* func) {
  Call c = {.site = {file, line, func, CALLER}, .bin = bin};
  Run(&kInc, &c);
  return c.refc_result;
}

ErlDrvSInt refctrace_binary_dec_refc(ErlDrvBinary* bin, const char* file, int line,
                                     const char* func) {
  Call c = {.site = {file, line, func, CALLER}, .bin = bin};
  Run(&kDec, &c);
  return c.refc_result;
}

ErlDrvSInt refctrace_binary_get_refc(ErlDrvBinary* bin, const char* file, int line,
                                     const char* func) {
  Call c = {.site = {file, line, func, CALLER}, .bin = bin};
  Run(&kObserve, &c);
  return c.refc_result;
}

int refctrace_output_binary(ErlDrvPort port, char* hbuf, ErlDrvSizeT hlen, ErlDrvBinary* bin,
                            ErlDrvSizeT offset, ErlDrvSizeT len, const char* file, int line,
                            const char* func) {
  Call c = {.site = {file, line, func, CALLER},
            .port = port,
            .hbuf = hbuf,
            .hlen = hlen,
            .bin = bin,
            .offset = offset,
            .len = len};
  Run(&kOutputBinary, &c);
  return c.int_result;
}

int refctrace_outputv(ErlDrvPort port, char* hbuf, ErlDrvSizeT hlen, ErlIOVec* ev, ErlDrvSizeT skip,
                      const char* file, int line, const char* func) {
  Call c = {.site = {file, line, func, CALLER},
            .port = port,
            .hbuf = hbuf,
            .hlen = hlen,
            .ev = ev,
            .skip = skip};
  Run(&kOutputv, &c);
  return c.int_result;
}

int refctrace_output_term(ErlDrvTermData port, ErlDrvTermData* data, int len, const char* file,
                          int line, const char* func) {
  Call c = {.site = {file, line, func, CALLER}, .port_term = port, .data = data, .data_len = len};
  Run(&kOutputTerm, &c);
  return c.int_result;
}

int refctrace_send_term(ErlDrvTermData port, ErlDrvTermData to, ErlDrvTermData* data, int len,
                        const char* file, int line, const char* func) {
  Call c = {.site = {file, line, func, CALLER},
            .port_term = port,
            .to = to,
            .data = data,
            .data_len = len};
  Run(&kSendTerm, &c);
  return c.int_result;
}

int refctrace_enq_bin(ErlDrvPort port, ErlDrvBinary* bin, ErlDrvSizeT offset, ErlDrvSizeT len,
                      const char* file, int line, const char* func) {
  Call c = {
      .site = {file, line, func, CALLER}, .port = port, .bin = bin, .offset = offset, .len = len};
  Run(&kEnqBin, &c);
  return c.int_result;
}

int refctrace_pushq_bin(ErlDrvPort port, ErlDrvBinary* bin, ErlDrvSizeT offset, ErlDrvSizeT len,
                        const char* file, int line, const char* func) {
  Call c = {
      .site = {file, line, func, CALLER}, .port = port, .bin = bin, .offset = offset, .len = len};
  Run(&kPushqBin, &c);
  return c.int_result;
}

int refctrace_enqv(ErlDrvPort port, ErlIOVec* ev, ErlDrvSizeT skip, const char* file, int line,
                   const char* func) {
  Call c = {.site = {file, line, func, CALLER}, .port = port, .ev = ev, .skip = skip};
  Run(&kEnqv, &c);
  return c.int_result;
}

int refctrace_pushqv(ErlDrvPort port, ErlIOVec* ev, ErlDrvSizeT skip, const char* file, int line,
                     const char* func) {
  Call c = {.site = {file, line, func, CALLER}, .port = port, .ev = ev, .skip = skip};
  Run(&kPushqv, &c);
  return c.int_result;
}

int refctrace_enq(ErlDrvPort port, char* buf, ErlDrvSizeT len, const char* file, int line,
                  const char* func) {
  Call c = {.site = {file, line, func, CALLER}, .port = port, .hbuf = buf, .len = len};
  Run(&kEnq, &c);
  return c.int_result;
}

int refctrace_pushq(ErlDrvPort port, char* buf, ErlDrvSizeT len, const char* file, int line,
                    const char* func) {
  Call c = {.site = {file, line, func, CALLER}, .port = port, .hbuf = buf, .len = len};
  Run(&kPushq, &c);
  return c.int_result;
}

ErlDrvSizeT refctrace_deq(ErlDrvPort port, ErlDrvSizeT size, const char* file, int line,
                          const char* func) {
  Call c = {.site = {file, line, func, CALLER}, .port = port, .size = size};
  Run(&kDeq, &c);
  return c.size_result;
}

/* ---- marks the driver places ----------------------------------------- */

void refctrace_serving(ErlDrvPort port) {
  Call c = {.port = port};
  Run(&kServing, &c);
}

void refctrace_borrow_iovec(ErlIOVec* ev, const char* file, int line, const char* func) {
  Call c = {.site = {file, line, func, CALLER}, .ev = ev};
  Run(&kBorrow, &c);
}

void refctrace_unborrow_iovec(ErlIOVec* ev, const char* file, int line, const char* func) {
  Call c = {.site = {file, line, func, CALLER}, .ev = ev};
  Run(&kUnborrow, &c);
}

void refctrace_write(ErlDrvBinary* bin, const char* file, int line, const char* func) {
  Call c = {.site = {file, line, func, CALLER}, .bin = bin};
  Run(&kWrite, &c);
}

void refctrace_reply(ErlDrvBinary* bin, const char* file, int line, const char* func) {
  Call c = {.site = {file, line, func, CALLER}, .bin = bin};
  Run(&kReply, &c);
}

void refctrace_read(ErlDrvBinary* bin, const char* file, int line, const char* func) {
  Call c = {.site = {file, line, func, CALLER}, .bin = bin};
  Run(&kRead, &c);
}

void refctrace_port_stopped(ErlDrvPort port, const char* file, int line, const char* func) {
  Call c = {.site = {file, line, func, CALLER}, .port = port};
  Run(&kPortStopped, &c);
}

void refctrace_defuse_next_free(void) {
  defuse_next_free = 1;
}

#else
/* Not recording: an empty translation unit is not valid ISO C. */
typedef int refctrace_recorder_disabled;
#endif /* REFCTRACE */
