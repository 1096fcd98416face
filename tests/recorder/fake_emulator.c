/* fake_emulator.c: the erl_driver functions the C recorder calls, for
 * recorder_test.c. Counts are kept in front of each binary, one port has a
 * queue of whole binaries, and the clock ticks once per read (the
 * recorder reads it to learn its offset to CLOCK_MONOTONIC). Compiled
 * without the recorder's macros: these are the "real" calls. */
#include <erl_driver.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "refctrace_internal.h"

typedef struct {
  ErlDrvSInt refc;
  ErlDrvBinary bin; /* orig_bytes run on past the struct */
} FakeBinary;

static FakeBinary* Fake(ErlDrvBinary* bin) {
  return (FakeBinary*)((char*)bin - offsetof(FakeBinary, bin));
}

/* The emulator copies messages of 64 bytes or less instead of taking a
 * reference. */
static void TakeIfLarge(ErlDrvBinary* bin, ErlDrvSizeT len) {
  if (bin != NULL && len > 64) ++Fake(bin)->refc;
}

/* What the port's `send` trace does inside a real output call: the tracer
 * module names the receiver, <0.85.0>. */
static void Deliver(void) {
  refctrace_internal_delivered_to("<0.85.0>");
}

/* Every binary not yet freed, so the test can release the ones it leaks
 * on purpose (a leak checker would otherwise fail it). */
static FakeBinary* live[32];

static void Forget(FakeBinary* fake) {
  for (size_t i = 0; i < sizeof live / sizeof live[0]; ++i)
    if (live[i] == fake) live[i] = NULL;
  free(fake);
}

ErlDrvBinary* fake_emulator_binary(ErlDrvSizeT size) {
  return driver_alloc_binary(size);
}

void fake_emulator_take(ErlDrvBinary* bin, int n) {
  Fake(bin)->refc += n;
  if (Fake(bin)->refc == 0) Forget(Fake(bin));
}

void fake_emulator_free_all(void) {
  for (size_t i = 0; i < sizeof live / sizeof live[0]; ++i)
    if (live[i] != NULL) Forget(live[i]);
}

ErlDrvBinary* driver_alloc_binary(ErlDrvSizeT size) {
  FakeBinary* fake = calloc(1, sizeof *fake + size);
  fake->refc = 1;
  fake->bin.orig_size = (ErlDrvSInt)size;
  for (size_t i = 0; i < sizeof live / sizeof live[0]; ++i) {
    if (live[i] == NULL) {
      live[i] = fake;
      break;
    }
  }
  return &fake->bin;
}

ErlDrvBinary* driver_realloc_binary(ErlDrvBinary* bin, ErlDrvSizeT size) {
  if (bin == NULL) return driver_alloc_binary(size);
  ErlDrvBinary* moved = driver_alloc_binary(size); /* always moves */
  Fake(moved)->refc = Fake(bin)->refc;
  Forget(Fake(bin));
  return moved;
}

void driver_free_binary(ErlDrvBinary* bin) {
  if (bin != NULL && --Fake(bin)->refc == 0) Forget(Fake(bin));
}

ErlDrvSInt driver_binary_inc_refc(ErlDrvBinary* bin) {
  return ++Fake(bin)->refc;
}

ErlDrvSInt driver_binary_dec_refc(ErlDrvBinary* bin) {
  return --Fake(bin)->refc;
}

ErlDrvSInt driver_binary_get_refc(ErlDrvBinary* bin) {
  return Fake(bin)->refc;
}

int driver_output_binary(ErlDrvPort port, char* hbuf, ErlDrvSizeT hlen, ErlDrvBinary* bin,
                         ErlDrvSizeT offset, ErlDrvSizeT len) {
  (void)port, (void)hbuf, (void)hlen, (void)offset;
  Deliver();
  TakeIfLarge(bin, len);
  return 0;
}

int driver_outputv(ErlDrvPort port, char* hbuf, ErlDrvSizeT hlen, ErlIOVec* ev, ErlDrvSizeT skip) {
  (void)port, (void)hbuf, (void)hlen, (void)skip;
  Deliver();
  for (int i = 0; i < ev->vsize; ++i)
    TakeIfLarge(ev->binv[i], ev->iov[i].iov_len);
  return 0;
}

/* Only ERL_DRV_BINARY specs are used here. */
static int OutputTermSpec(ErlDrvTermData* data, int len) {
  Deliver();
  for (int i = 0; i + 3 < len; i += 4)
    TakeIfLarge((ErlDrvBinary*)data[i + 1], data[i + 2]);
  return 0;
}

int erl_drv_output_term(ErlDrvTermData port, ErlDrvTermData* data, int len) {
  (void)port;
  return OutputTermSpec(data, len);
}

int erl_drv_send_term(ErlDrvTermData port, ErlDrvTermData to, ErlDrvTermData* data, int len) {
  (void)port, (void)to;
  return OutputTermSpec(data, len);
}

/* One port's queue of whole binaries. */
static ErlDrvBinary* queue_bins[8];
static SysIOVec queue_iov[8];
static int queue_size;

static int Enqueue(ErlDrvBinary* bin, ErlDrvSizeT len) {
  ++Fake(bin)->refc;
  queue_bins[queue_size] = bin;
  queue_iov[queue_size].iov_base = bin->orig_bytes;
  queue_iov[queue_size].iov_len = len;
  ++queue_size;
  return 0;
}

int driver_enq_bin(ErlDrvPort port, ErlDrvBinary* bin, ErlDrvSizeT offset, ErlDrvSizeT len) {
  (void)port, (void)offset;
  return Enqueue(bin, len);
}

int driver_pushq_bin(ErlDrvPort port, ErlDrvBinary* bin, ErlDrvSizeT offset, ErlDrvSizeT len) {
  return driver_enq_bin(port, bin, offset, len);
}

/* The queue copies the bytes into a binary of its own. */
int driver_enq(ErlDrvPort port, char* buf, ErlDrvSizeT len) {
  (void)port;
  ErlDrvBinary* copy = driver_alloc_binary(len);
  memcpy(copy->orig_bytes, buf, len);
  Enqueue(copy, len);
  driver_free_binary(copy);
  return 0;
}

int driver_pushq(ErlDrvPort port, char* buf, ErlDrvSizeT len) {
  return driver_enq(port, buf, len);
}

int driver_enqv(ErlDrvPort port, ErlIOVec* ev, ErlDrvSizeT skip) {
  (void)port, (void)skip;
  for (int i = 0; i < ev->vsize; ++i)
    Enqueue(ev->binv[i], ev->iov[i].iov_len);
  return 0;
}

int driver_pushqv(ErlDrvPort port, ErlIOVec* ev, ErlDrvSizeT skip) {
  return driver_enqv(port, ev, skip);
}

ErlDrvSizeT driver_peekqv(ErlDrvPort port, ErlIOVec* ev) {
  (void)port;
  ErlDrvSizeT total = 0;
  for (int i = 0; i < queue_size; ++i)
    total += queue_iov[i].iov_len;
  ev->vsize = queue_size;
  ev->size = total;
  ev->iov = queue_iov;
  ev->binv = queue_bins;
  return total;
}

/* Whole segments only, which is all this test dequeues. */
ErlDrvSizeT driver_deq(ErlDrvPort port, ErlDrvSizeT size) {
  (void)port;
  while (size > 0 && queue_size > 0 && size >= queue_iov[0].iov_len) {
    size -= queue_iov[0].iov_len;
    driver_free_binary(queue_bins[0]);
    memmove(queue_bins, queue_bins + 1, sizeof queue_bins[0] * (size_t)(queue_size - 1));
    memmove(queue_iov, queue_iov + 1, sizeof queue_iov[0] * (size_t)(queue_size - 1));
    --queue_size;
  }
  return 0;
}

ErlDrvTermData driver_mk_port(ErlDrvPort port) {
  return (ErlDrvTermData)port;
}

void driver_system_info(ErlDrvSysInfo* info, size_t size) {
  (void)size;
  static char release[] = "stub";
  info->otp_release = release;
}

static ErlDrvTime clock_ticks;
static __thread int not_a_scheduler;

void fake_emulator_leave_schedulers(void) {
  not_a_scheduler = 1;
}

/* The emulator's clock answers on its schedulers only
 * (erts_napi_monotonic_time). */
ErlDrvTime erl_drv_monotonic_time(ErlDrvTimeUnit unit) {
  (void)unit;
  if (not_a_scheduler) return ERL_DRV_TIME_ERROR;
  return ++clock_ticks;
}
