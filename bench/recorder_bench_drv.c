/* recorder_bench_drv.c: the driver half of the recorder's benchmark
 * (recorder_bench.sh, README "Recorder"). control 'L' with "K": K times
 * driver_alloc_binary(64) then driver_free_binary, each call timed alone
 * (CLOCK_MONOTONIC around it); the reply is the 2K durations in ns, as
 * native 32-bit integers. Port-level locking: ports of several processes
 * run on their own schedulers at once. Built with or without -DREFCTRACE
 * and the recorder. */
#include <stdlib.h>
#include <string.h>

#include "recorder_bench_clock.h"

#ifdef REFCTRACE
#include "refctrace_recorder.h"
#else
#include <erl_driver.h>
#endif

static ErlDrvData BenchStart(ErlDrvPort port, char* command) {
  (void)command;
  return (ErlDrvData)port;
}

static ErlDrvSSizeT BenchControl(ErlDrvData data, unsigned int command, char* buf, ErlDrvSizeT len,
                                 char** rbuf, ErlDrvSizeT rlen) {
  (void)data, (void)rlen;
  char text[32] = {0};
  memcpy(text, buf, len < sizeof text - 1 ? len : sizeof text - 1);
  long k = atol(text);
  if (command != 'L' || k <= 0) return -1;
  /* The reply buffer is the emulator's allocator's, not a binary: unrecorded. */
  uint32_t* samples = driver_alloc(sizeof *samples * 2 * (size_t)k);
  for (long i = 0; i < k; ++i) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    ErlDrvBinary* bin = driver_alloc_binary(64);
    samples[2 * i] = Since(&t);
    clock_gettime(CLOCK_MONOTONIC, &t);
    driver_free_binary(bin);
    samples[2 * i + 1] = Since(&t);
  }
  *rbuf = (char*)samples;
  return (ErlDrvSSizeT)(sizeof *samples * 2 * (size_t)k);
}

static ErlDrvEntry bench_driver_entry = {
    .start = BenchStart,
    .driver_name = "recorder_bench_drv",
    .control = BenchControl,
    .extended_marker = ERL_DRV_EXTENDED_MARKER,
    .major_version = ERL_DRV_EXTENDED_MAJOR_VERSION,
    .minor_version = ERL_DRV_EXTENDED_MINOR_VERSION,
    .driver_flags = ERL_DRV_FLAG_USE_PORT_LOCKING,
};

DRIVER_INIT(recorder_bench_drv) {
  return &bench_driver_entry;
}
