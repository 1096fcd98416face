/* refctrace_tracer_nif.c: the trace module refctrace_tracer_nif (the
 * documented erl_tracer behaviour: NIFs enabled/3 and trace/5), compiled
 * into the driver's shared object next to refctrace_recorder.c. The Erlang
 * tracer loads that very object with erlang:load_nif; dlopen of a loaded
 * file returns the loaded object, so these callbacks share the recorder's
 * memory (refctrace_internal.h). Compiled only with -DREFCTRACE.
 *
 * The emulator calls trace/5 synchronously where the event happens, with
 * the event's own term: no copy is made, so tracing takes no reference.
 * - a port's `send` (inside driver_output_binary, driver_outputv,
 *   erl_drv_output_term, erl_drv_send_term): the receiver, for `to`;
 * - a port's `receive` of a command: its sender, for borrow's `from`;
 * - a process's `receive`, `send`: one line per driver binary in the
 *   message, found by its bytes (ErlNifBinary.data inside a driver binary's
 *   [orig_bytes, orig_bytes + orig_size));
 * - a process's `exit`: its line;
 * - the end of a process's garbage collection: the Erlang tracer is told to
 *   look at the process's binaries (a `gc` needs process_info);
 * - a process's `spawn`: the Erlang tracer is told of the child (followed
 *   when the parent was traced with set_on_spawn).
 * Pids are written as enif_snprintf's %T prints them, which is
 * pid_to_list/1's text.
 *
 * The recorders it serves: the driver recorder of the shared object it is
 * compiled into, and the recorded NIF libraries named in load/2's list
 * (their RefctraceRecorder tables, refctrace_internal.h): a binary term is
 * each recorder's in turn, found by its bytes. Compiled with
 * -DREFCTRACE_TRACER_ALONE it is a NIF library of its own
 * (refctrace_tracer_nif.so) with no driver recorder, for a node whose
 * recorded native code is NIF libraries only. */
#ifdef REFCTRACE

#include <dlfcn.h>
#include <erl_nif.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "refctrace_internal.h"
#include "refctrace_term_binaries.h"

static ERL_NIF_TERM atom_trace, atom_discard, atom_remove, atom_ok, atom_send, atom_receive,
    atom_exit, atom_gc_minor_end, atom_gc_major_end, atom_trace_status, atom_extra, atom_command,
    atom_refctrace_gc, atom_in, atom_out, atom_control, atom_call, atom_return_from,
    atom_exception_from, atom_erlang, atom_port_command, atom_true, atom_spawn,
    atom_refctrace_spawned, atom_not_loaded, atom_no_recorder, atom_too_many, atom_error;

/* ---- the recorders ---------------------------------------------------- */

enum { kMaxRecorders = 16 };
static const RefctraceRecorder* recorders[kMaxRecorders];
/* attach/1 adds a recorder while trace callbacks read the table on other
 * schedulers: an entry is written before the count that publishes it. */
static int recorder_count;

static int RecorderCount(void) {
  return __atomic_load_n(&recorder_count, __ATOMIC_ACQUIRE);
}

static void AddRecorder(const RefctraceRecorder* recorder) {
  recorders[recorder_count] = recorder;
  __atomic_store_n(&recorder_count, recorder_count + 1, __ATOMIC_RELEASE);
}

#ifdef REFCTRACE_TRACER_ALONE
/* No driver recorder: a port's events have nobody to tell (these stand in
 * for refctrace_recorder.c's, in this library only). */
void refctrace_internal_delivered_to(const char* pid) {
  (void)pid;
}
void refctrace_internal_command_from(const char* pid) {
  (void)pid;
}
void refctrace_internal_command_sent(const char* caller, const char* port, const void* const* data,
                                     const size_t* sizes, int count, size_t total) {
  (void)caller, (void)port, (void)data, (void)sizes, (void)count, (void)total;
}
void refctrace_internal_command_unsent(const char* caller) {
  (void)caller;
}
void refctrace_internal_command_served(const char* caller, const char* port,
                                       const void* const* data, const size_t* sizes, int count,
                                       size_t total) {
  (void)caller, (void)port, (void)data, (void)sizes, (void)count, (void)total;
}
void refctrace_internal_port_running(int how) {
  (void)how;
}
#endif

/* The RefctraceRecorder of the loaded NIF library `path` (without ".so"), or
 * NULL: not loaded (*loaded = 0), or not built with the recorder. */
static const RefctraceRecorder* NifRecorder(const char* path, int* loaded) {
  char file[4096];
  *loaded = 0;
  if (snprintf(file, sizeof file, "%s.so", path) >= (int)sizeof file) return NULL;
  void* handle = dlopen(file, RTLD_NOW | RTLD_NOLOAD);
  if (handle == NULL) return NULL;
  *loaded = 1;
  const RefctraceRecorder* recorder = dlsym(handle, REFCTRACE_NIF_RECORDER_SYMBOL);
  dlclose(handle); /* the emulator's own handle keeps the library loaded */
  return recorder;
}

/* The recorders: this object's driver recorder, then the NIF libraries
 * named in `info` (a list of paths). Load fails (2) when a library is not
 * loaded or has no recorder. Built alone, the module may start with no
 * recorder: attach/1 adds NIF libraries loaded later (the Common Test hook
 * starts the tracer before a suite loads its library). */
static int FindRecorders(ErlNifEnv* env, ERL_NIF_TERM info) {
  recorder_count = 0;
#ifndef REFCTRACE_TRACER_ALONE
  AddRecorder(&refctrace_driver_recorder);
#endif
  ERL_NIF_TERM head, tail = info;
  char path[4096];
  int loaded;
  while (enif_get_list_cell(env, tail, &head, &tail)) {
    if (enif_get_string(env, head, path, sizeof path, ERL_NIF_LATIN1) <= 0) return 2;
    const RefctraceRecorder* recorder = NifRecorder(path, &loaded);
    if (recorder == NULL || recorder_count == kMaxRecorders) return 2;
    AddRecorder(recorder);
  }
  return 0;
}

static int Load(ErlNifEnv* env, void** priv, ERL_NIF_TERM info) {
  (void)priv;
  int failed = FindRecorders(env, info);
  if (failed) return failed;
  for (int i = 0; i < recorder_count; ++i)
    recorders[i]->attach();
  atom_not_loaded = enif_make_atom(env, "not_loaded");
  atom_no_recorder = enif_make_atom(env, "no_recorder");
  atom_too_many = enif_make_atom(env, "too_many");
  atom_error = enif_make_atom(env, "error");
  atom_trace = enif_make_atom(env, "trace");
  atom_discard = enif_make_atom(env, "discard");
  atom_remove = enif_make_atom(env, "remove");
  atom_ok = enif_make_atom(env, "ok");
  atom_send = enif_make_atom(env, "send");
  atom_receive = enif_make_atom(env, "receive");
  atom_exit = enif_make_atom(env, "exit");
  atom_gc_minor_end = enif_make_atom(env, "gc_minor_end");
  atom_gc_major_end = enif_make_atom(env, "gc_major_end");
  atom_trace_status = enif_make_atom(env, "trace_status");
  atom_extra = enif_make_atom(env, "extra");
  atom_command = enif_make_atom(env, "command");
  atom_refctrace_gc = enif_make_atom(env, "refctrace_gc");
  atom_in = enif_make_atom(env, "in");
  atom_out = enif_make_atom(env, "out");
  atom_control = enif_make_atom(env, "control");
  atom_call = enif_make_atom(env, "call");
  atom_return_from = enif_make_atom(env, "return_from");
  atom_exception_from = enif_make_atom(env, "exception_from");
  atom_erlang = enif_make_atom(env, "erlang");
  atom_port_command = enif_make_atom(env, "port_command");
  atom_true = enif_make_atom(env, "true");
  atom_spawn = enif_make_atom(env, "spawn");
  atom_refctrace_spawned = enif_make_atom(env, "refctrace_spawned");
  return 0;
}

static int Upgrade(ErlNifEnv* env, void** priv, void** old_priv, ERL_NIF_TERM info) {
  (void)old_priv;
  return Load(env, priv, info);
}

static int Same(ERL_NIF_TERM a, ERL_NIF_TERM b) {
  return enif_is_identical(a, b);
}

static void Name(ErlNifEnv* env, ERL_NIF_TERM pid, char* text, size_t size) {
  (void)env;
  if (enif_snprintf(text, size, "%T", pid) < 0) snprintf(text, size, "unknown");
}

/* enabled(Tag, State, Tracee): only the events trace/5 uses. */
static ERL_NIF_TERM Enabled(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  (void)env, (void)argc;
  ERL_NIF_TERM tag = argv[0];
  if (Same(tag, atom_trace_status)) return atom_trace;
  if (Same(tag, atom_send) || Same(tag, atom_receive) || Same(tag, atom_exit) ||
      Same(tag, atom_gc_minor_end) || Same(tag, atom_gc_major_end) || Same(tag, atom_in) ||
      Same(tag, atom_out) || Same(tag, atom_call) || Same(tag, atom_return_from) ||
      Same(tag, atom_exception_from) || Same(tag, atom_spawn))
    return atom_trace;
  return atom_discard;
}

/* A process's message: one line per driver binary it carries. */
typedef struct {
  const char* op; /* "receive" or "send" */
  const char* actor;
  const char* to; /* send only */
} MessageEvent;

static void RecordBinary(void* context, const ErlNifBinary* bin) {
  const MessageEvent* event = context;
  uintptr_t id;
  size_t orig_size;
  if (bin->size == 0) return;
  for (int i = 0, n = RecorderCount(); i < n; ++i) {
    const RefctraceRecorder* r = recorders[i];
    if (!r->find_binary(bin->data, bin->size, &id, &orig_size)) continue;
    int received = strcmp(event->op, "receive") == 0;
    /* The message being received holds the binary: its count can be read. */
    r->process_event(event->op, id, event->actor, event->to, received);
    if (received) r->note_holder("receive", event->actor, id, orig_size);
    return;
  }
}

/* The bytes of every binary of a command's data. */
enum { kMaxCommandBinaries = 1024 };
typedef struct {
  const void* data[kMaxCommandBinaries];
  size_t sizes[kMaxCommandBinaries];
  int count;    /* -1: more than kMaxCommandBinaries, not known */
  size_t total; /* the data's size in bytes (iodata_size) */
} CommandBytes;

/* iodata_size of `term` as far as it is iodata: bytes and binaries. */
static size_t IodataSize(ErlNifEnv* env, ERL_NIF_TERM term, int depth) {
  ErlNifBinary bin;
  ERL_NIF_TERM head, tail;
  if (depth > 100) return 0;
  if (enif_is_binary(env, term)) return enif_inspect_binary(env, term, &bin) ? bin.size : 0;
  size_t size = 0;
  while (enif_get_list_cell(env, term, &head, &tail)) {
    int byte;
    size += enif_get_int(env, head, &byte) ? 1 : IodataSize(env, head, depth + 1);
    term = tail;
  }
  return size + (enif_is_empty_list(env, term) ? 0 : IodataSize(env, term, depth + 1));
}

static void CollectBytes(void* context, const ErlNifBinary* bin) {
  CommandBytes* bytes = context;
  if (bin->size == 0 || bytes->count < 0) return;
  if (bytes->count == kMaxCommandBinaries) {
    bytes->count = -1;
    return;
  }
  bytes->data[bytes->count] = bin->data;
  bytes->sizes[bytes->count] = bin->size;
  ++bytes->count;
}

/* The binaries of a command's data and its size. */
static void CollectCommand(ErlNifEnv* env, ERL_NIF_TERM data, CommandBytes* bytes) {
  bytes->count = 0;
  VisitBinaries(env, data, 0, CollectBytes, bytes);
  bytes->total = IodataSize(env, data, 0);
}

static void CommandSent(ErlNifEnv* env, const char* caller, ERL_NIF_TERM port, ERL_NIF_TERM data) {
  char port_name[64];
  Name(env, port, port_name, sizeof port_name);
  static __thread CommandBytes bytes;
  CollectCommand(env, data, &bytes);
  refctrace_internal_command_sent(caller, port_name, bytes.data, bytes.sizes, bytes.count,
                                  bytes.total);
}

/* erlang:port_command(Port, Data) and (Port, Data, Options), the documented
 * functions: their call, and their return or exception. They return when the
 * command was handled (a scheduled command included: they wait for its
 * result), true when it was sent, false when it was not (busy, nosuspend). */
static void PortCommandCall(ErlNifEnv* env, const char* caller, ERL_NIF_TERM tag,
                            ERL_NIF_TERM message, ERL_NIF_TERM opts) {
  int arity;
  const ERL_NIF_TERM* mfa;
  if (!enif_get_tuple(env, message, &arity, &mfa) || arity != 3) return;
  if (!Same(mfa[0], atom_erlang) || !Same(mfa[1], atom_port_command)) return;
  if (Same(tag, atom_call)) {
    ERL_NIF_TERM port, rest, data;
    if (enif_get_list_cell(env, mfa[2], &port, &rest) && enif_is_port(env, port) &&
        enif_get_list_cell(env, rest, &data, &rest))
      CommandSent(env, caller, port, data);
  } else if (Same(tag, atom_return_from)) {
    ERL_NIF_TERM result;
    if (enif_get_map_value(env, opts, atom_extra, &result) && !Same(result, atom_true))
      refctrace_internal_command_unsent(caller);
  } else if (Same(tag, atom_exception_from)) {
    refctrace_internal_command_unsent(caller);
  }
}

static void ProcessEvent(ErlNifEnv* env, ERL_NIF_TERM tag, ERL_NIF_TERM state, ERL_NIF_TERM pid,
                         ERL_NIF_TERM message, ERL_NIF_TERM opts) {
  char actor[64];
  Name(env, pid, actor, sizeof actor);
  if (Same(tag, atom_receive)) {
    MessageEvent event = {"receive", actor, NULL};
    VisitBinaries(env, message, 0, RecordBinary, &event);
  } else if (Same(tag, atom_call) || Same(tag, atom_return_from) ||
             Same(tag, atom_exception_from)) {
    PortCommandCall(env, actor, tag, message, opts);
  } else if (Same(tag, atom_send)) {
    ERL_NIF_TERM to;
    if (!enif_get_map_value(env, opts, atom_extra, &to)) return;
    int arity;
    const ERL_NIF_TERM *outer, *inner;
    /* Port ! {Pid, {command, Data}}: a command. */
    if (enif_is_port(env, to) && enif_get_tuple(env, message, &arity, &outer) && arity == 2 &&
        enif_get_tuple(env, outer[1], &arity, &inner) && arity == 2 &&
        Same(inner[0], atom_command)) {
      CommandSent(env, actor, to, inner[1]);
      return;
    }
    /* A registered name or a port holds no wrapper the model follows. */
    if (!enif_is_pid(env, to)) return;
    char receiver[64];
    Name(env, to, receiver, sizeof receiver);
    MessageEvent event = {"send", actor, receiver};
    VisitBinaries(env, message, 0, RecordBinary, &event);
  } else if (Same(tag, atom_exit)) {
    if (RecorderCount() > 0) recorders[0]->process_event("exit", 0, actor, NULL, 0);
  } else if (Same(tag, atom_gc_minor_end) || Same(tag, atom_gc_major_end)) {
    ErlNifPid tracer;
    if (enif_get_local_pid(env, state, &tracer))
      enif_send(env, &tracer, NULL, enif_make_tuple2(env, atom_refctrace_gc, pid));
  } else if (Same(tag, atom_spawn)) {
    /* A process traced with set_on_spawn started one: the child is traced
     * from its first instruction, and the Erlang tracer must look at its
     * binaries from an empty start (refctrace_tracer:trace/2). */
    ErlNifPid tracer;
    if (enif_is_pid(env, message) && enif_get_local_pid(env, state, &tracer))
      enif_send(env, &tracer, NULL, enif_make_tuple2(env, atom_refctrace_spawned, message));
  }
}

static void PortEvent(ErlNifEnv* env, ERL_NIF_TERM tag, ERL_NIF_TERM port, ERL_NIF_TERM message,
                      ERL_NIF_TERM opts) {
  char pid[64];
  if (Same(tag, atom_in)) {
    /* running_ports: `in` with the operation (an atom) for an immediate
     * driver call, with 0 when a scheduled port task runs. */
    refctrace_internal_port_running(enif_is_atom(env, message) ? kRunningImmediate : kRunningTask);
  } else if (Same(tag, atom_out)) {
    refctrace_internal_port_running(kRunningUnknown);
  } else if (Same(tag, atom_send)) {
    ERL_NIF_TERM to;
    if (!enif_get_map_value(env, opts, atom_extra, &to) || !enif_is_pid(env, to)) return;
    Name(env, to, pid, sizeof pid);
    refctrace_internal_delivered_to(pid);
  } else if (Same(tag, atom_receive)) {
    /* {Caller, {command | control | call, _}}: the callback that follows
     * serves Caller. */
    int arity, inner_arity;
    const ERL_NIF_TERM *outer, *inner;
    if (!enif_get_tuple(env, message, &arity, &outer) || arity != 2) return;
    if (!enif_is_pid(env, outer[0])) return;
    if (!enif_get_tuple(env, outer[1], &inner_arity, &inner) || inner_arity != 2) return;
    if (!Same(inner[0], atom_command) && !Same(inner[0], atom_control) &&
        !Same(inner[0], atom_call))
      return;
    Name(env, outer[0], pid, sizeof pid);
    refctrace_internal_command_from(pid);
    if (Same(inner[0], atom_command)) {
      char port_name[64];
      Name(env, port, port_name, sizeof port_name);
      /* The data the callback gets (an outputv's entries), to tell which
       * of the sender's pending commands this is. */
      static __thread CommandBytes served;
      CollectCommand(env, inner[1], &served);
      refctrace_internal_command_served(pid, port_name, served.data, served.sizes, served.count,
                                        served.total);
    }
  }
}

/* trace(Tag, State, Tracee, Message, Opts) */
static ERL_NIF_TERM Trace(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  (void)argc;
  if (enif_is_port(env, argv[2]))
    PortEvent(env, argv[0], argv[2], argv[3], argv[4]);
  else if (enif_is_pid(env, argv[2]))
    ProcessEvent(env, argv[0], argv[1], argv[2], argv[3], argv[4]);
  return atom_ok;
}

/* recording() -> true | {false, Why} */
static ERL_NIF_TERM Recording(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  (void)argc, (void)argv;
  const char* why = "no recorder";
  const int n = RecorderCount();
  /* Built alone and started before any NIF library was loaded (attach/1). */
  if (n == 0) return enif_make_tuple2(env, enif_make_atom(env, "false"), atom_no_recorder);
  for (int i = 0; i < n; ++i)
    if (recorders[i]->recording(&why)) return enif_make_atom(env, "true");
  return enif_make_tuple2(env, enif_make_atom(env, "false"),
                          enif_make_string(env, why, ERL_NIF_LATIN1));
}

/* write(Line :: binary()): one whole line from the Erlang tracer. */
static ERL_NIF_TERM Write(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  (void)argc;
  ErlNifBinary line;
  if (!enif_inspect_iolist_as_binary(env, argv[0], &line)) return enif_make_badarg(env);
  if (RecorderCount() > 0) recorders[0]->write_line((const char*)line.data, line.size);
  return atom_ok;
}

typedef struct {
  ErlNifEnv* env;
  ERL_NIF_TERM list;
} NewsList;

static void AddNewsItem(void* context, const char* kind, const char* pid, uintptr_t id,
                        size_t orig_size) {
  NewsList* news = context;
  char text[2 + 2 * sizeof id + 1];
  snprintf(text, sizeof text, "0x%" PRIxPTR, id);
  ERL_NIF_TERM item = enif_make_tuple4(
      news->env, enif_make_atom(news->env, kind), enif_make_string(news->env, pid, ERL_NIF_LATIN1),
      enif_make_string(news->env, text, ERL_NIF_LATIN1), enif_make_uint64(news->env, orig_size));
  news->list = enif_make_list_cell(news->env, item, news->list);
}

/* take_news() -> [{receive | borrow | made | gone, Pid, Id, OrigSize}], oldest
 * first (Pid and Id as strings). */
static ERL_NIF_TERM TakeNews(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  (void)argc, (void)argv;
  NewsList news = {env, enif_make_list(env, 0)};
  for (int i = 0, n = RecorderCount(); i < n; ++i)
    recorders[i]->take_news(AddNewsItem, &news);
  ERL_NIF_TERM oldest_first;
  enif_make_reverse_list(env, news.list, &oldest_first);
  return oldest_first;
}

/* released(Id :: string(), Count): processes released Count references. */
static ERL_NIF_TERM Released(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  (void)argc;
  char text[40];
  long count;
  uintptr_t id = 0;
  if (enif_get_string(env, argv[0], text, sizeof text, ERL_NIF_LATIN1) <= 0 ||
      !enif_get_long(env, argv[1], &count) || sscanf(text, "0x%" SCNxPTR, &id) != 1)
    return enif_make_badarg(env);
  for (int i = 0, n = RecorderCount(); i < n; ++i)
    recorders[i]->released(id, count);
  return atom_ok;
}

/* held() -> ok: every NIF recorder writes its held lines now (the Common
 * Test hook's end of run; refctrace_held.h). */
static ERL_NIF_TERM Held(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  (void)env, (void)argc, (void)argv;
  for (int i = 0, n = RecorderCount(); i < n; ++i)
    if (recorders[i]->write_held != NULL) recorders[i]->write_held();
  return atom_ok;
}

/* attach(Path :: string()) -> ok | {error, not_loaded | no_recorder | too_many}:
 * also serve the recorder of NIF library Path (without ".so"), loaded since
 * load/2. Attaching one twice is ok. The tracer process calls it, so calls
 * never race one another; trace callbacks read the table meanwhile. */
static ERL_NIF_TERM Attach(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  (void)argc;
  char path[4096];
  int loaded;
  if (enif_get_string(env, argv[0], path, sizeof path, ERL_NIF_LATIN1) <= 0)
    return enif_make_badarg(env);
  const RefctraceRecorder* recorder = NifRecorder(path, &loaded);
  if (recorder == NULL)
    return enif_make_tuple2(env, atom_error, loaded ? atom_no_recorder : atom_not_loaded);
  for (int i = 0; i < recorder_count; ++i)
    if (recorders[i] == recorder) return atom_ok;
  if (recorder_count == kMaxRecorders) return enif_make_tuple2(env, atom_error, atom_too_many);
  recorder->attach();
  AddRecorder(recorder);
  return atom_ok;
}

static ErlNifFunc functions[] = {
    {"enabled", 3, Enabled, 0}, {"trace", 5, Trace, 0},        {"recording", 0, Recording, 0},
    {"write", 1, Write, 0},     {"take_news", 0, TakeNews, 0}, {"released", 2, Released, 0},
    {"attach", 1, Attach, 0},   {"held", 0, Held, 0},
};

ERL_NIF_INIT(refctrace_tracer_nif, functions, Load, NULL, Upgrade, NULL)

#else
/* Not recording: an empty translation unit is not valid ISO C. */
typedef int refctrace_tracer_nif_disabled;
#endif /* REFCTRACE */
