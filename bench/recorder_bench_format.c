/* recorder_bench_format.c: what building one recorded call's line costs,
 * outside the emulator (bench/README.md "Recorder"): the driver recorder's
 * `alloc` and `free` lines, as EmitAlloc and EmitFree build them (bin,
 * size, refc, port, the cached src/func, the clock), each built with the
 * writer's line functions and copied into a buffer as AppendLine copies it
 * into the trace's mapping; no lock, no file, no page faults. CPU time of
 * the thread (so a busy machine stretches it less than wall time), the
 * median of ROUNDS rounds of CALLS lines each, in ns per line; then the
 * same for the clock alone.
 *   recorder_bench_format [CALLS] [ROUNDS]
 * It compiles against the writer of the recorder before decision 200 too
 * (format strings through Add, the emulator's clock through RecorderNow):
 * recorder_bench.sh builds it from both trees. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* dladdr1 */
#endif
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define REFCTRACE_WRITER_SOURCE "recorder_bench_format"
#include "refctrace_trace_writer.h"

static void RecorderOtpRelease(char* text, size_t size) {
  (void)text, (void)size;
}

/* The emulator's clock, as the recorder sees it on a scheduler thread: an
 * erlang:monotonic_time(nanosecond) value is about -2^59 plus the time
 * since the emulator started, 18 digits and a sign. */
static long long EmulatorLikeNow(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return -576460752303423488ll + (long long)now.tv_sec * 1000000000ll + now.tv_nsec;
}

#ifdef AddUnsignedField /* the writer of decision 200 and after */
static long long RecorderEmulatorNow(void) {
  return EmulatorLikeNow();
}
#define AddSize(line, value) AddUnsignedField((line), "size", (value))
#define AddCount(line, value) AddSignedField((line), "refc", (value))
#else
static long long RecorderNow(void) {
  return EmulatorLikeNow();
}
#define AddSize(line, value) Add((line), ",\"size\":%lu", (unsigned long)(value))
#define AddCount(line, value) Add((line), ",\"refc\":%ld", (long)(value))
#endif

static char sink[1 << 16];
static size_t sink_used;

/* The line's end as FinishLine writes it, and AppendLine's copy. */
static void Finish(Line* line, const Site* site) {
  AddSite(line, site);
  AddStack(line, site);
  AddTime(line);
  if (sink_used + line->used > sizeof sink) sink_used = 0;
  memcpy(sink + sink_used, line->text, line->used);
  sink_used += line->used;
  if (line->text != line->inline_text) free(line->text);
}

static long long ThreadCpuNs(void) {
  struct timespec now;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return (long long)now.tv_sec * 1000000000ll + now.tv_nsec;
}

static int Ascending(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

/* The median of `count` figures (sorts them). */
static double Median(double* figures, int count) {
  qsort(figures, (size_t)count, sizeof *figures, Ascending);
  return figures[count / 2];
}

int main(int argc, char** argv) {
  long calls = argc > 1 ? atol(argv[1]) : 1000000;
  int rounds = argc > 2 ? atoi(argv[2]) : 7;
  if (calls <= 0 || rounds <= 0 || rounds > 99) {
    fprintf(stderr, "usage: recorder_bench_format [CALLS] [ROUNDS (1-99)]\n");
    return 2;
  }
  /* The benchmark driver's two call sites (recorder_bench_drv.c). */
  Site alloc_site = {"bench/recorder_bench_drv.c", 36, "BenchControl", NULL, NULL, 0, {{0}}};
  Site free_site = {"bench/recorder_bench_drv.c", 39, "BenchControl", NULL, NULL, 0, {{0}}};
  void* port = (void*)(uintptr_t)0x7f3a5c0016e8u;
  alloc_site.port = free_site.port = port;
  uintptr_t bin = (uintptr_t)0x5654f25c8648u;

  double lines[99], clock_reads[99];
  for (int round = 0; round < rounds; ++round) {
    long long from = ThreadCpuNs();
    for (long i = 0; i < calls; ++i) {
      Line line;
      Begin(&line, "alloc");
      AddId(&line, "bin", bin);
      AddSize(&line, 64);
      AddCount(&line, 1);
      AddId(&line, "port", (uintptr_t)port);
      Finish(&line, &alloc_site);
      Begin(&line, "free");
      AddId(&line, "bin", bin);
      AddCount(&line, 0);
      AddId(&line, "port", (uintptr_t)port);
      Finish(&line, &free_site);
    }
    lines[round] = (double)(ThreadCpuNs() - from) / (2.0 * (double)calls);
    from = ThreadCpuNs();
    volatile long long sum = 0;
    for (long i = 0; i < calls; ++i)
      sum += EmulatorLikeNow();
    clock_reads[round] = (double)(ThreadCpuNs() - from) / (double)calls;
  }
  /* The last line written, so the text can be seen and none of it is
   * optimised away. */
  const char* last = sink + sink_used;
  while (last > sink && last[-1] == '\n')
    --last;
  const char* start = last;
  while (start > sink && start[-1] != '\n')
    --start;
  printf("line: %.1f ns (median of %d rounds of %ld alloc+free pairs, thread CPU time)\n",
         Median(lines, rounds), rounds, calls);
  printf("clock_gettime(CLOCK_MONOTONIC) alone: %.1f ns\n", Median(clock_reads, rounds));
  printf("last line: %.*s\n", (int)(last - start), start);
  return 0;
}
