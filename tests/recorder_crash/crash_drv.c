/* crash_drv.c: a driver that records a known number of events and then
 * aborts the emulator (the way a driver's double free usually ends), for
 * the recorder's crash test (run_crash.cmake).
 *
 *   control 'p' with "M": M pairs of alloc and free, on the caller's
 *       scheduler (several ports at once: port-level locking)
 *   control 'a': one alloc that is never freed, then abort() at once
 *   control 'e': one alloc that is never freed, and return (a clean exit
 *       follows)
 *
 * Built with -DREFCTRACE and the recorder. */
#include <stdlib.h>
#include <string.h>

#include "refctrace_recorder.h"

typedef struct {
  ErlDrvPort port;
} CrashDrv;

static ErlDrvData CrashStart(ErlDrvPort port, char* command) {
  (void)command;
  REFCTRACE_SERVING(port);
  CrashDrv* drv = driver_alloc(sizeof *drv);
  drv->port = port;
  return (ErlDrvData)drv;
}

static void CrashStop(ErlDrvData data) {
  CrashDrv* drv = (CrashDrv*)data;
  REFCTRACE_SERVING(drv->port);
  REFCTRACE_PORT_STOPPED(drv->port);
  driver_free(drv);
}

static ErlDrvSSizeT CrashControl(ErlDrvData data, unsigned int command, char* buf, ErlDrvSizeT len,
                                 char** rbuf, ErlDrvSizeT rlen) {
  CrashDrv* drv = (CrashDrv*)data;
  REFCTRACE_SERVING(drv->port);
  (void)rbuf, (void)rlen;
  char text[32] = {0};
  memcpy(text, buf, len < sizeof text - 1 ? len : sizeof text - 1);
  if (command == 'p') {
    long pairs = atol(text);
    for (long i = 0; i < pairs; ++i) {
      ErlDrvBinary* bin = driver_alloc_binary(16);
      driver_free_binary(bin);
    }
  } else if (command == 'a') {
    driver_alloc_binary(16); /* recorded, then the emulator dies */
    abort();
  } else if (command == 'e') {
    driver_alloc_binary(16);
  }
  return 0;
}

static ErlDrvEntry crash_driver_entry = {
    .start = CrashStart,
    .stop = CrashStop,
    .driver_name = "crash_drv",
    .control = CrashControl,
    .extended_marker = ERL_DRV_EXTENDED_MARKER,
    .major_version = ERL_DRV_EXTENDED_MAJOR_VERSION,
    .minor_version = ERL_DRV_EXTENDED_MINOR_VERSION,
    .driver_flags = ERL_DRV_FLAG_USE_PORT_LOCKING,
};

DRIVER_INIT(crash_drv) {
  return &crash_driver_entry;
}
