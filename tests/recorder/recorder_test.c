/* recorder_test.c: the C recorder against a fake emulator (fake_emulator.c:
 * counts kept in front of each binary, a one-port queue, a clock that
 * answers on the test's main thread only), so every line the recorder
 * writes is known in advance and compared byte for byte (`t` by its order,
 * below).
 *
 *   recorder_test TRACE      record into TRACE (must not exist) and compare
 *   recorder_test TRACE off  without REFCTRACE_TRACE: the calls still work
 *                            and TRACE is never created
 *   recorder_test TRACE stack  with REFCTRACE_STACK=2: one call, whose line
 *                            has a two-frame stack
 *   recorder_test TRACE refuse  TRACE already has a line (an earlier run):
 *                            nothing is recorded and TRACE is left as it was
 *   recorder_test TRACE append  the same with REFCTRACE_APPEND=1: the lines
 *                            follow the earlier ones, with no second header
 *   recorder_test TRACE fork  the trace is opened, then a forked child
 *                            records a call and exits: the child writes
 *                            nothing and does not cut the parent's file
 *   recorder_test TRACE locked  TRACE is empty but another writer holds it
 *                            (flock): nothing is recorded, TRACE stays empty
 *   recorder_test TRACE thread-first  the first call is made on a thread where
 *                            the emulator's clock does not answer (a driver's
 *                            own thread): its lines have no `t`; the next
 *                            call's, on a scheduler, have
 *
 * `t` is CLOCK_MONOTONIC plus the offset to the emulator's clock, so its
 * values are not known in advance: every `t` written must be at least the
 * one before it (a line from a thread where the emulator's clock does not
 * answer included, which once got INT64_MIN), and is then compared as its
 * position among the `t`s (1, 2, ...).
 *
 * The last call is compiled under `#line 27 "my\"drv\\x.c"`, a file name
 * with a quote and a backslash, which must come out escaped. */
#define _GNU_SOURCE /* setenv */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "refctrace_internal.h"
#include "refctrace_recorder.h"

/* fake_emulator.c: frees what the test leaked on purpose; takes (n > 0) or
 * drops (n < 0) references as the emulator does around a callback. */
void fake_emulator_free_all(void);
/* This thread is none of the emulator's schedulers: its clock does not
 * answer here (ERL_DRV_TIME_ERROR), as on a driver's own thread. */
void fake_emulator_leave_schedulers(void);
void fake_emulator_take(ErlDrvBinary* bin, int n);
/* A binary the emulator made itself (a gathered copy): count 1, no line. */
ErlDrvBinary* fake_emulator_binary(ErlDrvSizeT size);

/* ---- the lines the recorder must write -------------------------------- */

static char expected[1 << 14];
static size_t expected_used;
static int64_t expected_ticks;
static int failures;
/* The `port` every line names after REFCTRACE_SERVING(kPort); "" before. */
static const char* serving = "";

/* Lines written before the recorder knows the emulator's clock have no `t`
 * (see "thread-first"). */
static int clock_unknown;

/* The line's end: its `t` (as its position among the `t`s, see
 * NormalizeTimes) and the newline. */
static void ExpectTime(void) {
  if (clock_unknown) {
    expected_used +=
        (size_t)snprintf(expected + expected_used, sizeof expected - expected_used, "}\n");
    return;
  }
  expected_used += (size_t)snprintf(expected + expected_used, sizeof expected - expected_used,
                                    ",\"t\":%" PRId64 "}\n", (int64_t)++expected_ticks);
}

/* The line's start (printf), then the function that made the call and
 * the stack when one is expected, then the clock. */
static void Expect(const char* func, const char* stack, const char* format, ...)
    __attribute__((format(printf, 3, 4)));
static void Expect(const char* func, const char* stack, const char* format, ...) {
  va_list args;
  va_start(args, format);
  char fields[1 << 12];
  vsnprintf(fields, sizeof fields, format, args);
  va_end(args);
  /* The port goes just before src. */
  char* src = strstr(fields, ",\"src\":");
  if (src != NULL && *serving != '\0') {
    expected_used +=
        (size_t)snprintf(expected + expected_used, sizeof expected - expected_used,
                         "%.*s,\"port\":\"%s\"%s", (int)(src - fields), fields, serving, src);
  } else {
    expected_used +=
        (size_t)snprintf(expected + expected_used, sizeof expected - expected_used, "%s", fields);
  }
  expected_used += (size_t)snprintf(expected + expected_used, sizeof expected - expected_used,
                                    ",\"func\":\"%s\"%s", func, stack);
  ExpectTime();
}

/* The id the recorder writes for a binary. */
static const char* Id(const ErlDrvBinary* bin) {
  static char ids[4][32];
  static int next;
  char* id = ids[next++ % 4];
  snprintf(id, sizeof ids[0], "0x%" PRIxPTR, (uintptr_t)bin);
  return id;
}

static void Check(int ok, const char* what, int line) {
  if (!ok) {
    fprintf(stderr, "recorder_test.c:%d: %s\n", line, what);
    ++failures;
  }
}
#define CHECK(condition) Check((condition), #condition, __LINE__)

static const ErlDrvPort kPort = (ErlDrvPort)0x40;

static int recording;

/* A process-side line the recorder writes (no port, src, func): then the
 * clock. */
static void ExpectProcessLine(const char* format, ...) __attribute__((format(printf, 1, 2)));
static void ExpectProcessLine(const char* format, ...) {
  if (!recording) return;
  va_list args;
  va_start(args, format);
  expected_used +=
      (size_t)vsnprintf(expected + expected_used, sizeof expected - expected_used, format, args);
  va_end(args);
  ExpectTime();
}
/* The line of the call inside AT(): the recorder's __LINE__ comes from the
 * same macro invocation, so the two agree however the call is wrapped. */
static int at;
#define AT(call) (at = __LINE__, (call))
/* The line of a call made in this function, without a stack. */
#define EXPECT(...)                                   \
  do {                                                \
    if (recording) Expect(__func__, "", __VA_ARGS__); \
  } while (0)

static const char* const kFile = "recorder_test.c";

/* One scheduled command of <0.85.0> whose data is `bin` alone, served. */
static void ServeScheduled(ErlDrvBinary* bin) {
  const void* bytes[1] = {bin->orig_bytes};
  size_t sizes[1] = {bin->orig_size};
  refctrace_internal_command_from("<0.85.0>");
  refctrace_internal_command_served("<0.85.0>", "#Port<0.6>", bytes, sizes, 1, bin->orig_size);
  refctrace_internal_port_running(kRunningTask);
  SysIOVec iov[1] = {{bin->orig_bytes, bin->orig_size}};
  ErlDrvBinary* binv[1] = {bin};
  ErlIOVec ev = {1, bin->orig_size, iov, binv};
  fake_emulator_take(bin, 1);
  AT(REFCTRACE_BORROW_IOVEC(&ev));
  EXPECT(
      "{\"op\":\"borrow\",\"bin\":\"%s\",\"size\":%lu,\"from\":\"<0.85.0>\",\"task\":1,"
      "\"refc\":2,\"src\":\"%s:%d\"",
      Id(bin), (unsigned long)bin->orig_size, kFile, at);
  AT(REFCTRACE_UNBORROW_IOVEC(&ev));
  EXPECT("{\"op\":\"unborrow\",\"bin\":\"%s\",\"refc\":1,\"src\":\"%s:%d\"", Id(bin), kFile, at);
  fake_emulator_take(bin, -1);
  refctrace_internal_port_running(kRunningUnknown);
}

/* A busy port: `Port ! {Pid, {command, First}}` is traced, refused (the
 * port is busy), and traced again when the suspended sender sends it once
 * more; then Second. Each served command is the oldest that fits the data
 * its callback gets, so Second's binary is still the sender's own (taking
 * the oldest pending one would serve Second as First's repeat, and call
 * Second's binary gathered). */
static void BusyPortRetry(void) {
  ErlDrvBinary* first = fake_emulator_binary(300);
  ErlDrvBinary* second = fake_emulator_binary(400);
  const void* first_bytes[1] = {first->orig_bytes};
  size_t first_sizes[1] = {300};
  const void* second_bytes[1] = {second->orig_bytes};
  size_t second_sizes[1] = {400};
  refctrace_internal_command_sent("<0.85.0>", "#Port<0.6>", first_bytes, first_sizes, 1, 300);
  refctrace_internal_command_sent("<0.85.0>", "#Port<0.6>", first_bytes, first_sizes, 1, 300);
  refctrace_internal_command_sent("<0.85.0>", "#Port<0.6>", second_bytes, second_sizes, 1, 400);
  ServeScheduled(first);
  ServeScheduled(second);
}

static void Calls(void) {
  REFCTRACE_SERVING(kPort);
  serving = "0x40";
  ErlDrvBinary* b = AT(driver_alloc_binary(100));
  EXPECT("{\"op\":\"alloc\",\"bin\":\"%s\",\"size\":100,\"refc\":1,\"src\":\"%s:%d\"", Id(b), kFile,
         at);
  CHECK(AT(driver_binary_inc_refc(b)) == 2);
  EXPECT("{\"op\":\"inc\",\"bin\":\"%s\",\"refc\":2,\"src\":\"%s:%d\"", Id(b), kFile, at);
  CHECK(AT(driver_binary_get_refc(b)) == 2);
  EXPECT("{\"op\":\"observe\",\"bin\":\"%s\",\"refc\":2,\"src\":\"%s:%d\"", Id(b), kFile, at);

  /* A reference per large output; a small one is copied. */
  AT(driver_output_binary(kPort, NULL, 0, b, 0, 100));
  EXPECT("{\"op\":\"output\",\"bin\":\"%s\",\"to\":\"<0.85.0>\",\"refc\":3,\"src\":\"%s:%d\"",
         Id(b), kFile, at);
  AT(driver_output_binary(kPort, NULL, 0, b, 0, 10));
  EXPECT(
      "{\"op\":\"output\",\"bin\":\"%s\",\"to\":\"<0.85.0>\",\"copied\":true,\"refc\":3,"
      "\"src\":\"%s:%d\"",
      Id(b), kFile, at);
  /* The same binary twice in one ErlIOVec: two references, two lines. */
  SysIOVec iov[2] = {{b->orig_bytes, 100}, {b->orig_bytes, 100}};
  ErlDrvBinary* binv[2] = {b, b};
  ErlIOVec ev = {2, 200, iov, binv};
  AT(driver_outputv(kPort, NULL, 0, &ev, 0));
  for (int refc = 4; refc <= 5; ++refc)
    EXPECT("{\"op\":\"output\",\"bin\":\"%s\",\"to\":\"<0.85.0>\",\"refc\":%d,\"src\":\"%s:%d\"",
           Id(b), refc, kFile, at);
  /* A port term: the receiver is the one the port's send trace names. */
  ErlDrvTermData spec[4] = {ERL_DRV_BINARY, (ErlDrvTermData)b, 100, 0};
  AT(erl_drv_output_term(driver_mk_port(kPort), spec, 4));
  EXPECT("{\"op\":\"output\",\"bin\":\"%s\",\"to\":\"<0.85.0>\",\"refc\":6,\"src\":\"%s:%d\"",
         Id(b), kFile, at);
  AT(REFCTRACE_WRITE(b));
  EXPECT("{\"op\":\"write\",\"bin\":\"%s\",\"refc\":6,\"src\":\"%s:%d\"", Id(b), kFile, at);

  /* Queue: enq_bin and enqv take a reference each; a deq of both releases
   * both, each line with the count after its own release. */
  AT(driver_enq_bin(kPort, b, 0, 100));
  EXPECT("{\"op\":\"enq\",\"bin\":\"%s\",\"refc\":7,\"src\":\"%s:%d\"", Id(b), kFile, at);
  ErlIOVec one = {1, 100, iov, binv};
  AT(driver_enqv(kPort, &one, 0));
  EXPECT("{\"op\":\"enq\",\"bin\":\"%s\",\"refc\":8,\"src\":\"%s:%d\"", Id(b), kFile, at);
  AT(driver_deq(kPort, 200));
  EXPECT("{\"op\":\"deq\",\"bin\":\"%s\",\"refc\":7,\"src\":\"%s:%d\"", Id(b), kFile, at);
  EXPECT("{\"op\":\"deq\",\"bin\":\"%s\",\"refc\":6,\"src\":\"%s:%d\"", Id(b), kFile, at);

  /* driver_enq copies the bytes into a binary the queue alone holds: the
   * recorder finds it with driver_peekqv and names it. */
  char bytes[10] = "0123456789";
  AT(driver_enq(kPort, bytes, sizeof bytes));
  ErlIOVec queue;
  driver_peekqv(kPort, &queue);
  CHECK(queue.vsize == 1);
  EXPECT("{\"op\":\"enq\",\"bin\":\"%s\",\"size\":10,\"copy\":true,\"refc\":1,\"src\":\"%s:%d\"",
         Id(queue.binv[0]), kFile, at);
  ErlDrvBinary* copy = queue.binv[0];
  AT(driver_deq(kPort, 10));
  EXPECT("{\"op\":\"deq\",\"bin\":\"%s\",\"refc\":0,\"src\":\"%s:%d\"", Id(copy), kFile, at);

  AT(REFCTRACE_BORROW_IOVEC(&ev));
  EXPECT("{\"op\":\"borrow\",\"bin\":\"%s\",\"size\":100,\"refc\":6,\"src\":\"%s:%d\"", Id(b),
         kFile, at);
  AT(REFCTRACE_UNBORROW_IOVEC(&ev));
  EXPECT("{\"op\":\"unborrow\",\"bin\":\"%s\",\"refc\":6,\"src\":\"%s:%d\"", Id(b), kFile, at);

  /* A scheduled command of <0.85.0> whose data held b, served with a
   * binary the emulator gathered: what the tracer module tells the
   * recorder (the port's receive and running_ports traces, the sender's
   * port_command), then the emulator's task references (one per entry). */
  ErlDrvBinary* gathered = fake_emulator_binary(7);
  char heap_bytes[7] = "abcdefg"; /* a heap binary of the sender's data */
  const void* command_bytes[3] = {b->orig_bytes, heap_bytes, b->orig_bytes};
  size_t command_sizes[3] = {100, 7, 100};
  refctrace_internal_command_sent("<0.85.0>", "#Port<0.6>", command_bytes, command_sizes, 3, 207);
  refctrace_internal_command_from("<0.85.0>");
  /* What the callback gets: b, the gathered copy of the heap bytes, b. */
  const void* served_bytes[3] = {b->orig_bytes, gathered->orig_bytes, b->orig_bytes};
  refctrace_internal_command_served("<0.85.0>", "#Port<0.6>", served_bytes, command_sizes, 3, 207);
  refctrace_internal_port_running(kRunningTask);
  SysIOVec task_iov[3] = {{b->orig_bytes, 100}, {gathered->orig_bytes, 7}, {b->orig_bytes, 100}};
  ErlDrvBinary* task_binv[3] = {b, gathered, b};
  ErlIOVec task = {3, 207, task_iov, task_binv};
  fake_emulator_take(b, 2);
  fake_emulator_take(gathered, 1);
  AT(REFCTRACE_BORROW_IOVEC(&task));
  EXPECT(
      "{\"op\":\"borrow\",\"bin\":\"%s\",\"size\":100,\"from\":\"<0.85.0>\",\"task\":2,"
      "\"refc\":8,\"src\":\"%s:%d\"",
      Id(b), kFile, at);
  EXPECT(
      "{\"op\":\"borrow\",\"bin\":\"%s\",\"size\":7,\"gathered\":true,\"task\":1,"
      "\"refc\":2,\"src\":\"%s:%d\"",
      Id(gathered), kFile, at);
  /* The emulator drops its references as the callback returns: the counts
   * written are the ones after that. */
  AT(REFCTRACE_UNBORROW_IOVEC(&task));
  EXPECT("{\"op\":\"unborrow\",\"bin\":\"%s\",\"refc\":6,\"src\":\"%s:%d\"", Id(b), kFile, at);
  EXPECT("{\"op\":\"unborrow\",\"bin\":\"%s\",\"refc\":0,\"src\":\"%s:%d\"", Id(gathered), kFile,
         at);
  fake_emulator_take(b, -2);
  fake_emulator_take(gathered, -2); /* the task's, and its own: freed */
  refctrace_internal_port_running(kRunningUnknown);

  BusyPortRetry();

  ErlDrvBinary* small = AT(driver_alloc_binary(10));
  EXPECT("{\"op\":\"alloc\",\"bin\":\"%s\",\"size\":10,\"refc\":1,\"src\":\"%s:%d\"", Id(small),
         kFile, at);
  char small_id[32];
  snprintf(small_id, sizeof small_id, "%s", Id(small));
  ErlDrvBinary* moved = AT(driver_realloc_binary(small, 20));
  EXPECT(
      "{\"op\":\"realloc\",\"bin\":\"%s\",\"new_bin\":\"%s\",\"size\":20,\"refc\":1,"
      "\"src\":\"%s:%d\"",
      small_id, Id(moved), kFile, at);
  char moved_id[32];
  snprintf(moved_id, sizeof moved_id, "%s", Id(moved));
  AT(driver_free_binary(moved));
  EXPECT("{\"op\":\"free\",\"bin\":\"%s\",\"refc\":0,\"src\":\"%s:%d\"", moved_id, kFile, at);
  driver_free_binary(NULL); /* no line */

  /* Binary-mode control replies to <0.85.0> (the port's receive trace of
   * the control names it): 200 bytes become the caller's reference, which
   * it gets as the call's result (the recorder writes its receive); 32 bytes
   * are copied, and the emulator frees the binary. */
  ErlDrvBinary* reply = AT(driver_alloc_binary(200));
  EXPECT("{\"op\":\"alloc\",\"bin\":\"%s\",\"size\":200,\"refc\":1,\"src\":\"%s:%d\"", Id(reply),
         kFile, at);
  refctrace_internal_command_from("<0.85.0>");
  AT(REFCTRACE_REPLY(reply));
  EXPECT("{\"op\":\"reply\",\"bin\":\"%s\",\"to\":\"<0.85.0>\",\"refc\":1,\"src\":\"%s:%d\"",
         Id(reply), kFile, at);
  ExpectProcessLine("{\"op\":\"receive\",\"bin\":\"%s\",\"actor\":\"<0.85.0>\",\"refc\":1",
                    Id(reply));
  ErlDrvBinary* copied = AT(driver_alloc_binary(32));
  EXPECT("{\"op\":\"alloc\",\"bin\":\"%s\",\"size\":32,\"refc\":1,\"src\":\"%s:%d\"", Id(copied),
         kFile, at);
  char copied_id[32];
  snprintf(copied_id, sizeof copied_id, "%s", Id(copied));
  AT(REFCTRACE_REPLY(copied));
  EXPECT(
      "{\"op\":\"reply\",\"bin\":\"%s\",\"to\":\"<0.85.0>\",\"copied\":true,\"refc\":0,"
      "\"src\":\"%s:%d\"",
      copied_id, kFile, at);
  fake_emulator_take(copied, -1);

  /* A defused free lowers the count and keeps the memory. */
  REFCTRACE_DEFUSE_NEXT_FREE();
  AT(driver_free_binary(b));
  EXPECT(
      "{\"op\":\"free\",\"bin\":\"%s\",\"note\":\"defused: count decremented, memory not "
      "freed\",\"refc\":5,\"src\":\"%s:%d\"",
      Id(b), kFile, at);
  CHECK(AT(driver_binary_get_refc(b)) == 5);
  EXPECT("{\"op\":\"observe\",\"bin\":\"%s\",\"refc\":5,\"src\":\"%s:%d\"", Id(b), kFile, at);
}

static void Stop(void) {
  AT(REFCTRACE_PORT_STOPPED(kPort));
  EXPECT("{\"op\":\"stop\",\"src\":\"%s:%d\"", kFile, at);
}

/* A source file whose name has a quote and a backslash: its `src` must be
 * a JSON string that reads back as that name. */
// clang-format off
#line 26 "my\"drv\\x.c"
static void LeakInQuotedFile(void) {
  ErlDrvBinary* leaked = driver_alloc_binary(100);
  EXPECT("{\"op\":\"alloc\",\"bin\":\"%s\",\"size\":100,\"refc\":1,\"src\":\"my\\\"drv\\\\x.c:27\"",
         Id(leaked));
}
/* A file name longer than the recorder's line buffer: the line grows, and
 * is written whole. */
#line 30 "dddddddddddddddddddddddddddddddddddddddd/nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn.c"
static void AllocInLongFile(void) {
  ErlDrvBinary* b = driver_alloc_binary(8);
  EXPECT("{\"op\":\"alloc\",\"bin\":\"%s\",\"size\":8,\"refc\":1,\"src\":\"nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn.c:31\"", Id(b));
  driver_free_binary(b);
  EXPECT("{\"op\":\"free\",\"bin\":\"%s\",\"refc\":0,\"src\":\"nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn.c:33\"", Id(b));
}
#line 400 "recorder_test.c"
// clang-format on

static char* ReadFile(const char* path) {
  FILE* f = fopen(path, "rb");
  if (f == NULL) return NULL;
  static char text[1 << 14];
  size_t n = fread(text, 1, sizeof text - 1, f);
  text[n] = '\0';
  fclose(f);
  return text;
}

/* REFCTRACE_STACK=2: the line names this function and its caller, both
 * exported (the test is linked with -rdynamic) and not inlined. */
__attribute__((noinline)) ErlDrvBinary* AllocFromExportedFunction(void) {
  ErlDrvBinary* b = AT(driver_alloc_binary(8));
  Expect(__func__, ",\"stack\":[\"AllocFromExportedFunction\",\"main\"]",
         "{\"op\":\"alloc\",\"bin\":\"%s\",\"size\":8,\"refc\":1,\"src\":\"%s:%d\"", Id(b), kFile,
         at);
  return b;
}

/* A driver's own thread (erl_drv_thread_create): no port served, and the
 * emulator's clock does not answer. */
static void* AllocOnDriverThread(void* unused) {
  (void)unused;
  fake_emulator_leave_schedulers();
  ErlDrvBinary* b = AT(driver_alloc_binary(8));
  EXPECT("{\"op\":\"alloc\",\"bin\":\"%s\",\"size\":8,\"refc\":1,\"src\":\"%s:%d\"", Id(b), kFile,
         at);
  AT(driver_free_binary(b));
  EXPECT("{\"op\":\"free\",\"bin\":\"%s\",\"refc\":0,\"src\":\"%s:%d\"", Id(b), kFile, at);
  return NULL;
}

static void CallsOnDriverThread(void) {
  const char* port = serving;
  serving = "";
  pthread_t thread;
  CHECK(pthread_create(&thread, NULL, AllocOnDriverThread, NULL) == 0 &&
        pthread_join(thread, NULL) == 0);
  serving = port;
}

/* Every `t` in text, which must not decrease, becomes its position among
 * them (1, 2, ...), as Expect writes it. 0: a `t` is out of order or not
 * a number. */
static int NormalizeTimes(const char* text, char* out, size_t size) {
  static const char kKey[] = ",\"t\":";
  long long previous = LLONG_MIN;
  int64_t position = 0;
  size_t used = 0;
  for (const char* from = text;;) {
    const char* t = strstr(from, kKey);
    size_t plain = t == NULL ? strlen(from) : (size_t)(t - from) + sizeof kKey - 1;
    if (used + plain + 24 >= size) return 0;
    memcpy(out + used, from, plain);
    used += plain;
    if (t == NULL) break;
    char* end;
    errno = 0;
    long long value = strtoll(t + sizeof kKey - 1, &end, 10);
    if (errno != 0 || end == t + sizeof kKey - 1 || value < previous) {
      fprintf(stderr, "`t` out of order or not a number: %.40s\n", t);
      return 0;
    }
    previous = value;
    used += (size_t)snprintf(out + used, size - used, "%" PRId64, ++position);
    from = end;
  }
  out[used] = '\0';
  return 1;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr,
            "usage: recorder_test TRACE [off|stack|refuse|append|locked|fork|thread-first]\n");
    return 2;
  }
  const char* path = argv[1];
  const char* mode = argc < 3 ? "" : argv[2];
  int refuse = strcmp(mode, "refuse") == 0;
  int append = strcmp(mode, "append") == 0;
  int locked = strcmp(mode, "locked") == 0;
  recording = strcmp(mode, "off") != 0 && !refuse && !locked;
  if (access(path, F_OK) == 0) {
    fprintf(stderr, "%s exists; the test writes a new trace\n", path);
    return 2;
  }
  static const char earlier_run[] = "{\"refctrace\":1}\n{\"op\":\"alloc\",\"bin\":1}\n";
  if (refuse || append) {
    FILE* f = fopen(path, "wb");
    if (f == NULL || fputs(earlier_run, f) < 0 || fclose(f) != 0) return 2;
    setenv("REFCTRACE_TRACE", path, 1);
  }
  if (locked) {
    /* Another recorder (another library, another emulator) writes it. */
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    if (fd < 0 || flock(fd, LOCK_EX) != 0) return 2;
    setenv("REFCTRACE_TRACE", path, 1);
  } else if (append) {
    setenv("REFCTRACE_APPEND", "1", 1);
    memcpy(expected, earlier_run, sizeof earlier_run - 1);
    expected_used = sizeof earlier_run - 1;
  } else if (refuse) {
    /* REFCTRACE_TRACE names the earlier run's file */
  } else if (recording) {
    setenv("REFCTRACE_TRACE", path, 1);
    static const char header[] =
        "{\"refctrace\":1,\"source\":\"refctrace_recorder\",\"otp\":\"stub\"}\n";
    memcpy(expected, header, sizeof header - 1);
    expected_used = sizeof header - 1;
  } else {
    unsetenv("REFCTRACE_TRACE");
  }
  if (strcmp(mode, "fork") == 0) {
    const char* why = "";
    if (!refctrace_internal_recording(&why)) return 2; /* opens the trace: the header */
    pid_t child = fork();
    if (child == 0) {
      driver_free_binary(driver_alloc_binary(8));
      exit(0); /* runs the recorder's clean exit in the child */
    }
    int status = 0;
    if (child < 0 || waitpid(child, &status, 0) != child || status != 0) return 2;
  } else if (strcmp(mode, "thread-first") == 0) {
    clock_unknown = 1;
    CallsOnDriverThread();
    clock_unknown = 0;
    ErlDrvBinary* b = AT(driver_alloc_binary(8));
    EXPECT("{\"op\":\"alloc\",\"bin\":\"%s\",\"size\":8,\"refc\":1,\"src\":\"%s:%d\"", Id(b), kFile,
           at);
    AT(driver_free_binary(b));
    EXPECT("{\"op\":\"free\",\"bin\":\"%s\",\"refc\":0,\"src\":\"%s:%d\"", Id(b), kFile, at);
  } else if (strcmp(mode, "stack") == 0) {
    setenv("REFCTRACE_STACK", "2", 1);
    AllocFromExportedFunction();
  } else {
    Calls();
    CallsOnDriverThread();
    LeakInQuotedFile();
    AllocInLongFile();
    Stop();
  }

  const char* written = ReadFile(path);
  if (refuse) {
    CHECK(written != NULL && strcmp(written, earlier_run) == 0);
  } else if (locked) {
    CHECK(written != NULL && written[0] == '\0');
  } else if (!recording) {
    CHECK(written == NULL);
  } else if (written == NULL) {
    fprintf(stderr, "no trace written to %s\n", path);
    ++failures;
  } else {
    static char normalized[1 << 14];
    if (!NormalizeTimes(written, normalized, sizeof normalized)) {
      fprintf(stderr, "--- written\n%s", written);
      ++failures;
    } else if (strcmp(normalized, expected) != 0) {
      fprintf(stderr,
              "the trace differs from the expected lines (`t` as its position)\n--- "
              "expected\n%s--- written\n%s",
              expected, normalized);
      ++failures;
    }
  }
  fake_emulator_free_all();
  return failures == 0 ? 0 : 1;
}
