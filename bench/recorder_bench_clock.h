/* recorder_bench_clock.h: how the recorder's benchmark times one call, for
 * its driver and its NIF alike. */
#ifndef RECORDER_BENCH_CLOCK_H
#define RECORDER_BENCH_CLOCK_H

#include <stdint.h>
#include <time.h>

/* ns since `from` (CLOCK_MONOTONIC, read just before the call). */
static inline uint32_t Since(const struct timespec* from) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (uint32_t)((now.tv_sec - from->tv_sec) * 1000000000L + (now.tv_nsec - from->tv_nsec));
}

#endif
