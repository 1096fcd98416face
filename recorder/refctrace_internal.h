/* refctrace_internal.h: what refctrace_tracer_nif.c (the tracer module's
 * NIF callbacks, erl_nif.h) asks of refctrace_recorder.c (the driver side,
 * erl_driver.h) and of refctrace_nif.c (a NIF library's recorder). The
 * driver recorder and the module are compiled into the driver's shared
 * object, so the Erlang tracer's erlang:load_nif of that object shares the
 * recorder's memory: one trace file, one lock, one table of driver binaries.
 * A NIF library's recorder is reached through its RefctraceRecorder table
 * (below). Not for drivers. */
#ifndef REFCTRACE_INTERNAL_H
#define REFCTRACE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The tracer module was loaded: from now on the recorder keeps the news
 * for refctrace_internal_take_news. */
void refctrace_internal_attach(void);

/* 1 when REFCTRACE_TRACE is open; otherwise 0 and *why says why not. */
int refctrace_internal_recording(const char** why);

/* Appends one whole line (it ends with '\n'), under the recorder's lock. */
void refctrace_internal_write_line(const char* text, size_t len);

/* One process-side line: op, bin (0: none), actor, to (NULL: none); with
 * `counted`, the binary's count now (the caller holds a reference to it,
 * e.g. the message being received). */
void refctrace_internal_process_event(const char* op, uintptr_t bin, const char* actor,
                                      const char* to, int counted);

/* The driver binary whose bytes contain [data, data + size), newest first:
 * its id (the ErlDrvBinary* the driver's lines name) and orig_size. 0 if
 * none: the bytes are no driver binary the recorder has seen alive. */
int refctrace_internal_find_binary(const void* data, size_t size, uintptr_t* id, size_t* orig_size);

/* The port's `send` trace fired on this thread: a message went to `pid`.
 * Only a recorded output call in progress on this thread takes it. */
void refctrace_internal_delivered_to(const char* pid);

/* The port's `receive` trace of a command fired on this thread: the
 * callback that follows serves a command of `pid` (borrow's `from`). */
void refctrace_internal_command_from(const char* pid);

/* A traced process sent a command to a port (erlang:port_command/2,3
 * call trace, or a `send` to the port): the bytes of every binary in its
 * data, and its size in bytes (`total`, iodata_size). command_unsent: the
 * newest command of `caller` was not sent (the call returned false or
 * failed). command_served: the port's `receive` trace of a command of
 * `caller` fired on this thread, with the bytes of the data the callback
 * gets; the oldest pending command of that caller to that port that fits
 * it is the one served (one that does not, older, was never delivered:
 * a `Port ! Msg` refused by a busy port is traced, and traced again when
 * the suspended sender sends it once more), and a borrowed binary is the
 * caller's own exactly when some binary of that command lies in it (else
 * the emulator gathered it: `gathered`). A count below 0: the binaries are
 * not known (too many to keep). */
void refctrace_internal_command_sent(const char* caller, const char* port, const void* const* data,
                                     const size_t* sizes, int count, size_t total);
void refctrace_internal_command_unsent(const char* caller);
void refctrace_internal_command_served(const char* caller, const char* port,
                                       const void* const* data, const size_t* sizes, int count,
                                       size_t total);

/* The port's running_ports trace on this thread: `in` to a scheduled port
 * task (kRunningTask), `in` to an immediate call (kRunningImmediate), `out`
 * (kRunningUnknown). A borrow in a task carries `task`. */
enum { kRunningUnknown = -1, kRunningImmediate = 0, kRunningTask = 1 };
void refctrace_internal_port_running(int how);

/* A process took (`receive`) or passed to a port (`borrow`) a driver
 * binary: the Erlang tracer relates the binary to process_info's ids. */
void refctrace_internal_note_holder(const char* kind, const char* pid, uintptr_t id,
                                    size_t orig_size);

/* Drains what was noted since the last call: each item is given to `take`
 * (kind "receive", "borrow" or "gone": the id's binary ended, its address
 * may come back as another binary). Returns the number of items. */
typedef void (*RefctraceNewsSink)(void* context, const char* kind, const char* pid, uintptr_t id,
                                  size_t orig_size);
size_t refctrace_internal_take_news(RefctraceNewsSink take, void* context);

/* The Erlang tracer recorded `count` releases of `id` by processes (`gc`
 * lines, or an exit). The recorder follows each binary's count through the
 * lines written for it (each driver line's count, +1 per `send`): at 0 the
 * binary is gone and is forgotten (news "gone"). */
void refctrace_internal_released(uintptr_t id, long count);

/* What the tracer module asks of a recorder for the process side, as a
 * table: the driver recorder's (refctrace_driver_recorder, in the shared
 * object the module is compiled into) and a recorded NIF library's
 * (refctrace_nif_recorder, defined by refctrace_nif.c and exported: a NIF
 * library holds its own nif_init, so the module cannot live in it, and the
 * module finds the table by name in the loaded library, dlopen with
 * RTLD_NOLOAD and dlsym). The functions are those above; a NIF recorder's
 * process_event writes no count (erl_nif has no call that reads one). */
typedef struct {
  int (*recording)(const char** why);
  void (*attach)(void);
  void (*write_line)(const char* text, size_t len);
  void (*process_event)(const char* op, uintptr_t bin, const char* actor, const char* to,
                        int counted);
  int (*find_binary)(const void* data, size_t size, uintptr_t* id, size_t* orig_size);
  void (*note_holder)(const char* kind, const char* pid, uintptr_t id, size_t orig_size);
  size_t (*take_news)(RefctraceNewsSink take, void* context);
  void (*released)(uintptr_t id, long count);
  /* A NIF recorder's held lines now, in place of the scan at exit (the
   * Common Test hook's end of run, whose parts end before the emulator
   * exits); NULL for the driver recorder. */
  void (*write_held)(void);
} RefctraceRecorder;

extern const RefctraceRecorder refctrace_driver_recorder;
#define REFCTRACE_NIF_RECORDER_SYMBOL "refctrace_nif_recorder"

#ifdef __cplusplus
}
#endif

#endif /* REFCTRACE_INTERNAL_H */
