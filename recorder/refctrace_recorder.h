/* refctrace_recorder.h: records a linked-in driver's ErlDrvBinary calls as a
 * refctrace trace (trace format 1.3 NDJSON). See docs/recording.md.
 *
 * Include it instead of (or after) <erl_driver.h> in every driver source file.
 * Compiled with -DREFCTRACE, the erl_driver binary calls below become macros
 * that call the real function and append one event line, with the caller's
 * file:line and function and the emulator's refc after the call, to the file
 * named by the environment variable REFCTRACE_TRACE (REFCTRACE_STACK=N adds
 * N frames of call stack). Without -DREFCTRACE nothing is
 * redefined and every REFCTRACE_* macro expands to nothing: the recorder is
 * compiled out entirely.
 *
 * The process side and the names of receiving processes come from the
 * Erlang tracer (recorder/erlang/refctrace_tracer.erl), whose trace module
 * is refctrace_tracer_nif.c, compiled into the same shared object; see
 * docs/recording.md.
 *
 * Recorded calls: driver_alloc_binary, driver_realloc_binary,
 * driver_free_binary, driver_binary_inc_refc, driver_binary_dec_refc,
 * driver_binary_get_refc, driver_output_binary, driver_outputv,
 * erl_drv_output_term, erl_drv_send_term (ERL_DRV_BINARY elements),
 * driver_enq_bin, driver_pushq_bin, driver_enqv, driver_pushqv, driver_enq,
 * driver_pushq, driver_deq.
 *
 * What the recorder cannot see by itself, the driver marks with macros:
 *   REFCTRACE_SERVING(port)        first thing in every callback (start,
 *                                  control, outputv, timeout, ...): the
 *                                  calls that name no port (alloc, free,
 *                                  ...) are then written with this `port`
 *   REFCTRACE_BORROW_IOVEC(ev)     first thing in outputv
 *   REFCTRACE_UNBORROW_IOVEC(ev)   just before outputv returns
 *   REFCTRACE_WRITE(bin)           after storing into bin->orig_bytes
 *   REFCTRACE_READ(bin)            optional, before reading bin->orig_bytes
 *   REFCTRACE_REPLY(bin)           where a binary-mode control or call sets
 *                                  *rbuf = (char*)bin: the reference goes
 *                                  to the caller
 *   REFCTRACE_PORT_STOPPED(port)   last thing in stop
 *   REFCTRACE_DEFUSE_NEXT_FREE()   seeded-bug tests only: the next
 *                                  driver_free_binary on this thread lowers
 *                                  the count (driver_binary_dec_refc) but never
 *                                  frees the memory, so a deliberate double
 *                                  free leaks instead of corrupting the
 *                                  emulator; the counts stay the real ones
 */
#ifndef REFCTRACE_RECORDER_H
#define REFCTRACE_RECORDER_H

#include <erl_driver.h>

#ifdef REFCTRACE

#ifdef __cplusplus
extern "C" {
#endif

ErlDrvBinary* refctrace_alloc_binary(ErlDrvSizeT size, const char* file, int line,
                                     const char* func);
ErlDrvBinary* refctrace_realloc_binary(ErlDrvBinary* bin, ErlDrvSizeT size, const char* file,
                                       int line, const char* func);
void refctrace_free_binary(ErlDrvBinary* bin, const char* file, int line, const char* func);
ErlDrvSInt refctrace_binary_inc_refc(ErlDrvBinary* bin, const char* file, int line,
                                     const char* func);
ErlDrvSInt refctrace_binary_dec_refc(ErlDrvBinary* bin, const char* file, int line,
                                     const char* func);
ErlDrvSInt refctrace_binary_get_refc(ErlDrvBinary* bin, const char* file, int line,
                                     const char* func);
int refctrace_output_binary(ErlDrvPort port, char* hbuf, ErlDrvSizeT hlen, ErlDrvBinary* bin,
                            ErlDrvSizeT offset, ErlDrvSizeT len, const char* file, int line,
                            const char* func);
int refctrace_outputv(ErlDrvPort port, char* hbuf, ErlDrvSizeT hlen, ErlIOVec* ev, ErlDrvSizeT skip,
                      const char* file, int line, const char* func);
int refctrace_output_term(ErlDrvTermData port, ErlDrvTermData* data, int len, const char* file,
                          int line, const char* func);
int refctrace_send_term(ErlDrvTermData port, ErlDrvTermData to, ErlDrvTermData* data, int len,
                        const char* file, int line, const char* func);
int refctrace_enq_bin(ErlDrvPort port, ErlDrvBinary* bin, ErlDrvSizeT offset, ErlDrvSizeT len,
                      const char* file, int line, const char* func);
int refctrace_pushq_bin(ErlDrvPort port, ErlDrvBinary* bin, ErlDrvSizeT offset, ErlDrvSizeT len,
                        const char* file, int line, const char* func);
int refctrace_enqv(ErlDrvPort port, ErlIOVec* ev, ErlDrvSizeT skip, const char* file, int line,
                   const char* func);
int refctrace_pushqv(ErlDrvPort port, ErlIOVec* ev, ErlDrvSizeT skip, const char* file, int line,
                     const char* func);
int refctrace_enq(ErlDrvPort port, char* buf, ErlDrvSizeT len, const char* file, int line,
                  const char* func);
int refctrace_pushq(ErlDrvPort port, char* buf, ErlDrvSizeT len, const char* file, int line,
                    const char* func);
ErlDrvSizeT refctrace_deq(ErlDrvPort port, ErlDrvSizeT size, const char* file, int line,
                          const char* func);

void refctrace_serving(ErlDrvPort port);
void refctrace_borrow_iovec(ErlIOVec* ev, const char* file, int line, const char* func);
void refctrace_unborrow_iovec(ErlIOVec* ev, const char* file, int line, const char* func);
void refctrace_write(ErlDrvBinary* bin, const char* file, int line, const char* func);
void refctrace_read(ErlDrvBinary* bin, const char* file, int line, const char* func);
void refctrace_reply(ErlDrvBinary* bin, const char* file, int line, const char* func);
void refctrace_port_stopped(ErlDrvPort port, const char* file, int line, const char* func);
void refctrace_defuse_next_free(void);

#ifdef __cplusplus
}
#endif

/* Where a call is made: file, line and the enclosing function. */
#define REFCTRACE_SITE __FILE__, __LINE__, __func__

/* refctrace_recorder.c itself calls the real functions. */
#ifndef REFCTRACE_RECORDER_IMPLEMENTATION
#define driver_alloc_binary(size) refctrace_alloc_binary((size), REFCTRACE_SITE)
#define driver_realloc_binary(bin, size) refctrace_realloc_binary((bin), (size), REFCTRACE_SITE)
#define driver_free_binary(bin) refctrace_free_binary((bin), REFCTRACE_SITE)
#define driver_binary_inc_refc(bin) refctrace_binary_inc_refc((bin), REFCTRACE_SITE)
#define driver_binary_dec_refc(bin) refctrace_binary_dec_refc((bin), REFCTRACE_SITE)
#define driver_binary_get_refc(bin) refctrace_binary_get_refc((bin), REFCTRACE_SITE)
#define driver_output_binary(port, hbuf, hlen, bin, offset, len) \
  refctrace_output_binary((port), (hbuf), (hlen), (bin), (offset), (len), REFCTRACE_SITE)
#define driver_outputv(port, hbuf, hlen, ev, skip) \
  refctrace_outputv((port), (hbuf), (hlen), (ev), (skip), REFCTRACE_SITE)
#define erl_drv_output_term(port, data, len) \
  refctrace_output_term((port), (data), (len), REFCTRACE_SITE)
#define erl_drv_send_term(port, to, data, len) \
  refctrace_send_term((port), (to), (data), (len), REFCTRACE_SITE)
#define driver_enq_bin(port, bin, offset, len) \
  refctrace_enq_bin((port), (bin), (offset), (len), REFCTRACE_SITE)
#define driver_pushq_bin(port, bin, offset, len) \
  refctrace_pushq_bin((port), (bin), (offset), (len), REFCTRACE_SITE)
#define driver_enqv(port, ev, skip) refctrace_enqv((port), (ev), (skip), REFCTRACE_SITE)
#define driver_pushqv(port, ev, skip) refctrace_pushqv((port), (ev), (skip), REFCTRACE_SITE)
#define driver_enq(port, buf, len) refctrace_enq((port), (buf), (len), REFCTRACE_SITE)
#define driver_pushq(port, buf, len) refctrace_pushq((port), (buf), (len), REFCTRACE_SITE)
#define driver_deq(port, size) refctrace_deq((port), (size), REFCTRACE_SITE)
#endif

#define REFCTRACE_SERVING(port) refctrace_serving(port)
#define REFCTRACE_PORT_STARTED(port) refctrace_serving(port) /* before 1.3: same */
#define REFCTRACE_BORROW_IOVEC(ev) refctrace_borrow_iovec((ev), REFCTRACE_SITE)
#define REFCTRACE_UNBORROW_IOVEC(ev) refctrace_unborrow_iovec((ev), REFCTRACE_SITE)
#define REFCTRACE_WRITE(bin) refctrace_write((bin), REFCTRACE_SITE)
#define REFCTRACE_READ(bin) refctrace_read((bin), REFCTRACE_SITE)
#define REFCTRACE_REPLY(bin) refctrace_reply((bin), REFCTRACE_SITE)
#define REFCTRACE_PORT_STOPPED(port) refctrace_port_stopped((port), REFCTRACE_SITE)
#define REFCTRACE_DEFUSE_NEXT_FREE() refctrace_defuse_next_free()

#else /* !REFCTRACE: compiled out; the argument is only named, not used */

#define REFCTRACE_SERVING(port) ((void)(port))
#define REFCTRACE_PORT_STARTED(port) ((void)(port))
#define REFCTRACE_BORROW_IOVEC(ev) ((void)(ev))
#define REFCTRACE_UNBORROW_IOVEC(ev) ((void)(ev))
#define REFCTRACE_WRITE(bin) ((void)(bin))
#define REFCTRACE_READ(bin) ((void)(bin))
#define REFCTRACE_REPLY(bin) ((void)(bin))
#define REFCTRACE_PORT_STOPPED(port) ((void)(port))
#define REFCTRACE_DEFUSE_NEXT_FREE() ((void)0)

#endif /* REFCTRACE */

#endif /* REFCTRACE_RECORDER_H */
