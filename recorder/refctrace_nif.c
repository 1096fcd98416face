/* refctrace_nif.c: the recording side of refctrace_nif.h. Compile it into
 * the NIF library with -DREFCTRACE (without it this file is empty).
 *
 * Every entry point makes the real call and, when REFCTRACE_TRACE is open,
 * writes its line under the writer's lock, which it holds across the call
 * too, so the order of the lines is the order of the calls. The trace file,
 * the lock, the guarded entry of a recorded call and the line builder are
 * the driver recorder's (refctrace_trace_writer.h): each line is copied
 * into a shared mapping of the file, so a crash loses at most the call it
 * happens in.
 *
 * Ids (docs/spec/nif.md): `bin` is ErlNifBinary.ref_bin (the emulator's
 * Binary), `data` its bytes, `res` the object enif_alloc_resource returned,
 * `env` the ErlNifEnv*. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* dladdr1 */
#endif
#define REFCTRACE_NIF_IMPLEMENTATION
#include "refctrace_nif.h"

#ifdef REFCTRACE

/* The trace file, the lock and the line builder, shared with the driver
 * recorder; what the writer asks of the emulator comes from erl_nif. */
#define REFCTRACE_WRITER_SOURCE "refctrace_nif"
#include "refctrace_trace_writer.h"

/* The process side: the binaries the NIF made into terms, for the Erlang
 * tracer (refctrace_tracer_nif.c reaches them through refctrace_nif_recorder,
 * below). */
#include "refctrace_internal.h"
#include "refctrace_live_binaries.h"
#include "refctrace_term_binaries.h"

/* What the library still holds at a clean exit: the held lines. */
#include "refctrace_held.h"

static void RecorderOtpRelease(char* text, size_t size) {
  ErlNifSysInfo info;
  memset(&info, 0, sizeof info);
  enif_system_info(&info, sizeof info);
  if (info.otp_release != NULL) snprintf(text, size, "%s", info.otp_release);
}

/* The emulator answers on its scheduler threads only (see RecorderNow). */
static long long RecorderEmulatorNow(void) {
  ErlNifTime now = enif_monotonic_time(ERL_NIF_NSEC);
  return now == ERL_NIF_TIME_ERROR ? LLONG_MIN : (long long)now;
}

/* A function REFCTRACE_NIF(name) defined runs in refctrace_body_NAME: the
 * trace names it `name`, as the NIF's source does. */
static const char* PlainName(const char* func) {
  static const char kBody[] = "refctrace_body_";
  if (func != NULL && strncmp(func, kBody, sizeof kBody - 1) == 0) return func + sizeof kBody - 1;
  return func;
}

/* The return address into the NIF function that made the call; the entry
 * points are never inlined into it (another translation unit). */
#define CALLER __builtin_return_address(0)
#define AT(file, line, func) ((Site){(file), (line), PlainName(func), CALLER, NULL, 0, {{0}}})

static void WriteDeferredEnters(void);

/* Starts a recorded call's line: the writer's guarded entry
 * (StartRecordedCall: lock taken, stack captured), and first the nif_enter
 * of the table call it happens in if that is not written yet (see "the
 * function table"). Returns 0 when not recording (then nothing is to be
 * written and the lock is not held). */
static int Start(Site* site) {
  if (!StartRecordedCall(site)) return 0;
  WriteDeferredEnters();
  return 1;
}

/* The line of a recorded call, written and the lock released. */
static void End(Line* line, const Site* site) {
  FinishLine(line, site);
  EndRecordedCall();
}

static void AddPointer(Line* line, const char* key, const void* id) {
  AddId(line, key, (uintptr_t)id);
}

/* bin (ref_bin; absent when NULL) and data (absent when NULL). */
static void AddBinary(Line* line, const void* ref_bin, const void* data) {
  if (ref_bin != NULL) AddPointer(line, "bin", ref_bin);
  if (data != NULL) AddPointer(line, "data", data);
}

/* A pid term as pid_to_list/1 prints it (enif_snprintf's %T). */
static void AddPid(Line* line, const char* key, ERL_NIF_TERM pid) {
  char text[64];
  if (enif_snprintf(text, sizeof text, "%T", pid) > 0) AddString(line, key, text);
}

/* ---- seeded-bug tests: the next release/keep/make is written only ---- */

static __thread int defuse_next;

void refctrace_defuse_next(void) {
  defuse_next = 1;
}

static int TakeDefuse(void) {
  int defuse = defuse_next;
  defuse_next = 0;
  return defuse;
}

static void AddDefused(Line* line, int defused) {
  if (defused) AddString(line, "note", "defused: written, not made (seeded-bug test)");
}

/* ---- NIF functions: module:function/arity by function pointer -------- */

typedef ERL_NIF_TERM (*NifFunction)(ErlNifEnv*, int, const ERL_NIF_TERM[]);

typedef struct {
  NifFunction fptr;
  char name[128]; /* module:function/arity */
} RegisteredNif;

static RegisteredNif* registered;
static size_t registered_count;

void refctrace_nif_register(const char* module, const ErlNifFunc* funcs, size_t count) {
  RegisteredNif* table = calloc(count, sizeof *table);
  if (table == NULL) return;
  for (size_t i = 0; i < count; ++i) {
    table[i].fptr = funcs[i].fptr;
    snprintf(table[i].name, sizeof table[i].name, "%s:%s/%u", module, funcs[i].name,
             funcs[i].arity);
  }
  Lock();
  free(registered);
  registered = table;
  registered_count = count;
  Unlock();
}

/* The registered name of fptr, else "?:C_NAME/ARGC" (REFCTRACE_NIF_INIT was
 * not used, or the function is not in the table). */
static void NifName(NifFunction fptr, int argc, const char* c_name, char* text, size_t size) {
  for (size_t i = 0; i < registered_count; ++i) {
    if (registered[i].fptr == fptr) {
      snprintf(text, size, "%s", registered[i].name);
      return;
    }
  }
  snprintf(text, size, "?:%s/%d", c_name, argc);
}

/* nif_enter of a call or a callback; actor: its process, when it has one. */
static void WriteEnter(ErlNifEnv* env, const char* kind, const char* nif, const Site* site) {
  Line line;
  Begin(&line, "nif_enter");
  AddPointer(&line, "env", env);
  if (strcmp(kind, "call") != 0) AddString(&line, "env_kind", kind);
  AddString(&line, "nif", nif);
  ErlNifPid self;
  if (env != NULL && strcmp(kind, "call") == 0 && enif_self(env, &self) != NULL)
    AddPid(&line, "actor", self.pid);
  FinishLine(&line, site);
}

static void WriteReturn(ErlNifEnv* env, const Site* site) {
  Line line;
  Begin(&line, "nif_return");
  AddPointer(&line, "env", env);
  FinishLine(&line, site);
}

/* ---- the function table: every NIF call between nif_enter/nif_return -- */

/* A NIF call that came in through the wrapped table (below), innermost
 * first. Its nif_enter is written when the call records its first line (a
 * call that records nothing leaves no line), unless the function is a
 * REFCTRACE_NIF wrapper: that one writes its own pair, at its own line. */
typedef struct TableCall {
  NifFunction fptr;
  ErlNifEnv* env;
  const char* nif;    /* module:function/arity */
  const char* c_name; /* the function's name in the table */
  int entered;        /* its nif_enter is written */
  int marked;         /* a REFCTRACE_NIF wrapper writes the pair */
  struct TableCall* outer;
} TableCall;

static __thread TableCall* table_call;

static void WriteDeferredEntersFrom(TableCall* call) {
  if (call == NULL || call->entered || call->marked) return;
  WriteDeferredEntersFrom(call->outer);
  Site site = {NULL, 0, call->c_name, NULL, NULL, 0, {{0}}};
  WriteEnter(call->env, "call", call->nif, &site);
  call->entered = 1;
}

static void WriteDeferredEnters(void) {
  WriteDeferredEntersFrom(table_call);
}

void refctrace_nif_enter(ErlNifEnv* env, NifFunction fptr, int argc, const char* file, int line,
                         const char* func) {
  /* Called by the table's trampoline for this very function: the wrapper's
   * pair, with its source line, stands for the call. */
  if (table_call != NULL && table_call->fptr == fptr && !table_call->entered)
    table_call->marked = 1;
  Site site = AT(file, line, func);
  if (!Start(&site)) return;
  char name[128];
  NifName(fptr, argc, func, name, sizeof name);
  WriteEnter(env, "call", name, &site);
  Unlock();
}

void refctrace_nif_return(ErlNifEnv* env, const char* file, int line, const char* func) {
  Site site = AT(file, line, func);
  if (!Start(&site)) return;
  WriteReturn(env, &site);
  Unlock();
}

/* The library's table is wrapped when the library is loaded, before the
 * emulator asks for it: ERL_NIF_INIT's nif_init() returns a pointer to a
 * static ErlNifEntry, which a constructor (run by dlopen, before the
 * emulator calls nif_init) points at a copy of the table whose functions
 * are numbered trampolines. So every NIF call is recorded with no mark in
 * the NIF's source; REFCTRACE_NIF adds the function's own line. Weak: a
 * library built with STATIC_ERLANG_NIF_LIBNAME has no nif_init. */
extern ErlNifEntry* nif_init(void) __attribute__((weak));

enum { kTableSlots = 128 };
static ErlNifFunc wrapped_table[kTableSlots];
static NifFunction table_functions[kTableSlots];
static char table_names[kTableSlots][128];

static ERL_NIF_TERM RunTableCall(int slot, ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  NifFunction fptr = table_functions[slot];
  if (!Enabled()) return fptr(env, argc, argv);
  TableCall call = {fptr, env, table_names[slot], wrapped_table[slot].name, 0, 0, table_call};
  table_call = &call;
  ERL_NIF_TERM result = fptr(env, argc, argv);
  table_call = call.outer;
  Site site = {NULL, 0, call.c_name, NULL, NULL, 0, {{0}}};
  if (call.entered && StartRecordedCall(&site)) {
    WriteReturn(env, &site);
    EndRecordedCall();
  }
  return result;
}

/* Slot 8 * group + k. */
#define TABLE_TRAMPOLINE(group, k)                                         \
  static ERL_NIF_TERM TableCall_##group##_##k(ErlNifEnv* env, int argc,    \
                                              const ERL_NIF_TERM argv[]) { \
    return RunTableCall(8 * group + k, env, argc, argv);                   \
  }
#define TABLE_TRAMPOLINES(group) \
  TABLE_TRAMPOLINE(group, 0)     \
  TABLE_TRAMPOLINE(group, 1)     \
  TABLE_TRAMPOLINE(group, 2)     \
  TABLE_TRAMPOLINE(group, 3)     \
  TABLE_TRAMPOLINE(group, 4)     \
  TABLE_TRAMPOLINE(group, 5)     \
  TABLE_TRAMPOLINE(group, 6)     \
  TABLE_TRAMPOLINE(group, 7)
TABLE_TRAMPOLINES(0)
TABLE_TRAMPOLINES(1)
TABLE_TRAMPOLINES(2)
TABLE_TRAMPOLINES(3)
TABLE_TRAMPOLINES(4)
TABLE_TRAMPOLINES(5)
TABLE_TRAMPOLINES(6)
TABLE_TRAMPOLINES(7)
TABLE_TRAMPOLINES(8)
TABLE_TRAMPOLINES(9)
TABLE_TRAMPOLINES(10)
TABLE_TRAMPOLINES(11)
TABLE_TRAMPOLINES(12)
TABLE_TRAMPOLINES(13)
TABLE_TRAMPOLINES(14)
TABLE_TRAMPOLINES(15)
#undef TABLE_TRAMPOLINES
#undef TABLE_TRAMPOLINE

#define TABLE_GROUP(group)                                                                    \
  TableCall_##group##_0, TableCall_##group##_1, TableCall_##group##_2, TableCall_##group##_3, \
      TableCall_##group##_4, TableCall_##group##_5, TableCall_##group##_6, TableCall_##group##_7
static const NifFunction kTableTrampolines[kTableSlots] = {
    TABLE_GROUP(0),  TABLE_GROUP(1),  TABLE_GROUP(2),  TABLE_GROUP(3),
    TABLE_GROUP(4),  TABLE_GROUP(5),  TABLE_GROUP(6),  TABLE_GROUP(7),
    TABLE_GROUP(8),  TABLE_GROUP(9),  TABLE_GROUP(10), TABLE_GROUP(11),
    TABLE_GROUP(12), TABLE_GROUP(13), TABLE_GROUP(14), TABLE_GROUP(15)};
#undef TABLE_GROUP

/* The library's load, upgrade and unload, wrapped (below) so that the
 * recorder knows each live load's priv_data, the roots of the held scan,
 * and when the library is unloaded (what it held is then lost). */
static int (*library_load)(ErlNifEnv*, void**, ERL_NIF_TERM);
static int (*library_upgrade)(ErlNifEnv*, void**, void**, ERL_NIF_TERM);
static void (*library_unload)(ErlNifEnv*, void*);

static int RecordedLoad(ErlNifEnv* env, void** priv_data, ERL_NIF_TERM load_info) {
  int result = library_load != NULL ? library_load(env, priv_data, load_info) : 0;
  if (result == 0) HeldLoaded(*priv_data);
  return result;
}

static int RecordedUpgrade(ErlNifEnv* env, void** priv_data, void** old_priv_data,
                           ERL_NIF_TERM load_info) {
  int result = library_upgrade(env, priv_data, old_priv_data, load_info);
  if (result == 0) HeldLoaded(*priv_data);
  return result;
}

static void RecordedUnload(ErlNifEnv* env, void* priv_data) {
  HeldUnloaded(priv_data);
  if (library_unload != NULL) library_unload(env, priv_data);
}

/* Run by dlopen, before the emulator reads the entry: the held lines are
 * written at the clean exit, and the library's callbacks are wrapped (an
 * upgrade only where the library has one: without it the emulator refuses
 * an upgrade, and must still). A library built with
 * STATIC_ERLANG_NIF_LIBNAME has no nif_init: no load is known, no scan. */
static void WrapLifeCallbacks(ErlNifEntry* entry) {
  before_close = WriteHeld;
  library_load = entry->load;
  library_upgrade = entry->upgrade;
  library_unload = entry->unload;
  entry->load = RecordedLoad;
  if (entry->upgrade != NULL) entry->upgrade = RecordedUpgrade;
  entry->unload = RecordedUnload;
}

__attribute__((constructor)) static void WrapFunctionTable(void) {
  if (nif_init == NULL) return;
  ErlNifEntry* entry = nif_init();
  if (entry == NULL) return;
  WrapLifeCallbacks(entry);
  if (entry->funcs == NULL || entry->num_of_funcs <= 0) return;
  if (entry->num_of_funcs > kTableSlots) {
    fprintf(stderr,
            "refctrace: %s has %d NIF functions, more than %d; calls are recorded only "
            "in functions defined with REFCTRACE_NIF\n",
            entry->name, entry->num_of_funcs, kTableSlots);
    return;
  }
  refctrace_nif_register(entry->name, entry->funcs, (size_t)entry->num_of_funcs);
  for (int i = 0; i < entry->num_of_funcs; ++i) {
    wrapped_table[i] = entry->funcs[i];
    table_functions[i] = entry->funcs[i].fptr;
    snprintf(table_names[i], sizeof table_names[i], "%s:%s/%u", entry->name, entry->funcs[i].name,
             entry->funcs[i].arity);
    wrapped_table[i].fptr = kTableTrampolines[i];
  }
  entry->funcs = wrapped_table;
}

/* The scheduled call runs after this one has returned, as a call of its
 * own: through its trampoline when the function is in the table. */
ERL_NIF_TERM refctrace_enif_schedule_nif(ErlNifEnv* env, const char* fun_name, int flags,
                                         NifFunction fp, int argc, const ERL_NIF_TERM argv[]) {
  for (int i = 0; i < kTableSlots && table_functions[i] != NULL; ++i) {
    if (table_functions[i] == fp) {
      fp = kTableTrampolines[i];
      break;
    }
  }
  return enif_schedule_nif(env, fun_name, flags, fp, argc, argv);
}

/* ---- the process side: binaries held by terms ------------------------ */

/* A binary term of a process-independent environment: its reference goes
 * with the environment's terms (env_clear, env_free) unless enif_send moved
 * them into a message first. */
typedef struct {
  ErlNifEnv* env;
  uintptr_t id;
} EnvTerm;

static EnvTerm* env_terms;
static size_t env_term_count, env_term_capacity;

/* A term of `env` now holds one reference of binary `id` (enif_make_binary,
 * enif_make_copy): a call's term is its process's (news "made": the tracer
 * relates the process's new wrapper of that size to it), an independent
 * environment's is the environment's until it is sent. Under the lock. */
static void TermHolds(ErlNifEnv* env, uintptr_t id, const void* data, size_t size) {
  /* Without the tracer nobody releases them: the table would keep binaries
   * the emulator freed, whose bytes a later copy could be taken for. */
  if (!tracer_attached) return;
  if (FindLive(id) == NULL) {
    TrackBytes(id, data, size);
    SetCount(id, 1);
  } else {
    AddToCount(id, 1);
  }
  ErlNifPid self;
  if (enif_self(env, &self) != NULL) {
    char pid[64];
    if (enif_snprintf(pid, sizeof pid, "%T", self.pid) > 0) AddNews("made", pid, id, size);
    return;
  }
  if (!Grow((void**)&env_terms, &env_term_capacity, env_term_count, sizeof *env_terms)) return;
  env_terms[env_term_count++] = (EnvTerm){env, id};
}

/* `env`'s terms went: into a message (sent; their references move with it)
 * or away (their references are released). Under the lock. */
static void EnvTermsGone(ErlNifEnv* env, int sent) {
  size_t kept = 0;
  for (size_t i = 0; i < env_term_count; ++i) {
    if (env_terms[i].env != env) {
      env_terms[kept++] = env_terms[i];
    } else if (!sent) {
      Released(env_terms[i].id, 1);
    }
  }
  env_term_count = kept;
}

/* ---- the recorder's table for the tracer module (refctrace_internal.h) */

static int NifRecording(const char** why) {
  if (Enabled()) return 1;
  *why = not_recording_why;
  return 0;
}

static void NifWriteLine(const char* text, size_t len) {
  if (Enabled()) AppendLine(text, len);
}

/* Set on this thread while a recorded enif_send runs: the emulator traces
 * the calling process's `send` of the message, whose references are the
 * message environment's (env_send moves them), not a copy by the process. */
static __thread int in_enif_send;

/* A process's line; erl_nif reads no binary's count, so none is written
 * (the tracer's gc lines carry process_info's). */
static void NifProcessEvent(const char* op, uintptr_t bin, const char* actor, const char* to,
                            int counted) {
  (void)counted;
  if (!Enabled() || (in_enif_send && strcmp(op, "send") == 0)) return;
  Lock();
  Line line;
  Begin(&line, op);
  if (bin != 0) AddId(&line, "bin", bin);
  AddString(&line, "actor", actor);
  if (to != NULL) AddString(&line, "to", to);
  if (strcmp(op, "send") == 0) AddToCount(bin, 1);
  AddTime(&line);
  WriteLine(&line);
  Unlock();
}

/* The NIF's binaries have no public layout: only their bytes find them. */
static int NifFindBinary(const void* data, size_t size, uintptr_t* id, size_t* orig_size) {
  return FindByBytes(data, size, 0, id, orig_size);
}

__attribute__((visibility("default"))) const RefctraceRecorder refctrace_nif_recorder = {
    NifRecording, AttachTracer, NifWriteLine, NifProcessEvent, NifFindBinary,
    NoteHolder,   TakeNews,     Released,     HeldNow,
};

/* ---- binaries -------------------------------------------------------- */

/* bin_alloc: a new binary the NIF owns (enif_alloc_binary,
 * enif_term_to_binary). */
static void WriteAlloc(const ErlNifBinary* bin, Site* site) {
  /* A binary the tracer still follows at this address ended untold. */
  if (FindLive((uintptr_t)bin->ref_bin) != NULL) Untrack((uintptr_t)bin->ref_bin);
  HeldPut(&held_bins, (uintptr_t)bin->ref_bin, (uintptr_t)bin->data);
  Line text;
  Begin(&text, "bin_alloc");
  AddBinary(&text, bin->ref_bin, bin->data);
  AddUnsignedField(&text, "size", bin->size);
  End(&text, site);
}

int refctrace_enif_alloc_binary(size_t size, ErlNifBinary* bin, const char* file, int line,
                                const char* func) {
  Site site = AT(file, line, func);
  if (!Start(&site)) return enif_alloc_binary(size, bin);
  int ok = enif_alloc_binary(size, bin);
  if (!ok) {
    Unlock();
    return ok;
  }
  WriteAlloc(bin, &site);
  return ok;
}

/* An owned struct: the binary continues (new_bin when the block moved). A
 * read-only one (ref_bin NULL, e.g. inspected): a new owned binary. */
int refctrace_enif_realloc_binary(ErlNifBinary* bin, size_t size, const char* file, int line,
                                  const char* func) {
  Site site = AT(file, line, func);
  if (!Start(&site)) return enif_realloc_binary(bin, size);
  void* old_ref = bin->ref_bin;
  int ok = enif_realloc_binary(bin, size);
  if (!ok) {
    Unlock();
    return ok;
  }
  /* A new binary at an address the tracer still follows: that one ended
   * untold (as for WriteAlloc). */
  if (bin->ref_bin != old_ref && FindLive((uintptr_t)bin->ref_bin) != NULL)
    Untrack((uintptr_t)bin->ref_bin);
  if (old_ref != NULL && bin->ref_bin != old_ref) HeldRemove(&held_bins, (uintptr_t)old_ref);
  HeldPut(&held_bins, (uintptr_t)bin->ref_bin, (uintptr_t)bin->data);
  Line text;
  Begin(&text, "bin_realloc");
  if (old_ref == NULL) {
    AddBinary(&text, bin->ref_bin, bin->data);
    AddTrueField(&text, "readonly");
  } else {
    AddPointer(&text, "bin", old_ref);
    if (bin->ref_bin != old_ref) AddPointer(&text, "new_bin", bin->ref_bin);
    AddPointer(&text, "data", bin->data);
  }
  AddUnsignedField(&text, "size", size);
  End(&text, &site);
  return ok;
}

void refctrace_enif_release_binary(ErlNifBinary* bin, const char* file, int line,
                                   const char* func) {
  Site site = AT(file, line, func);
  if (!Start(&site)) {
    enif_release_binary(bin);
    return;
  }
  int defused = TakeDefuse();
  const void* ref_bin = bin->ref_bin;
  const void* data = bin->data;
  if (!defused) enif_release_binary(bin);
  HeldRemove(&held_bins, (uintptr_t)ref_bin);
  Line text;
  Begin(&text, "bin_release");
  AddBinary(&text, ref_bin, data);
  AddDefused(&text, defused);
  End(&text, &site);
}

/* Ownership moves to the term (no new reference); 64 bytes or less
 * (ERL_ONHEAP_BINARY_LIMIT) become a heap copy. */
ERL_NIF_TERM refctrace_enif_make_binary(ErlNifEnv* env, ErlNifBinary* bin, const char* file,
                                        int line, const char* func) {
  Site site = AT(file, line, func);
  if (!Start(&site)) return enif_make_binary(env, bin);
  const void* ref_bin = bin->ref_bin;
  const void* data = bin->data;
  size_t size = bin->size;
  ERL_NIF_TERM term = enif_make_binary(env, bin);
  HeldRemove(&held_bins, (uintptr_t)ref_bin);
  if (ref_bin != NULL) TermHolds(env, (uintptr_t)ref_bin, data, size);
  Line text;
  Begin(&text, "bin_make");
  AddPointer(&text, "env", env);
  AddBinary(&text, ref_bin, data);
  AddUnsignedField(&text, "size", size);
  if (ref_bin != NULL && size <= 64) AddTrueField(&text, "copied");
  End(&text, &site);
  return term;
}

unsigned char* refctrace_enif_make_new_binary(ErlNifEnv* env, size_t size, ERL_NIF_TERM* termp,
                                              const char* file, int line, const char* func) {
  Site site = AT(file, line, func);
  if (!Start(&site)) return enif_make_new_binary(env, size, termp);
  unsigned char* data = enif_make_new_binary(env, size, termp);
  if (data == NULL) {
    Unlock();
    return data;
  }
  Line text;
  Begin(&text, "bin_make_new");
  AddPointer(&text, "env", env);
  AddPointer(&text, "data", data);
  AddUnsignedField(&text, "size", size);
  End(&text, &site);
  return data;
}

int refctrace_enif_term_to_binary(ErlNifEnv* env, ERL_NIF_TERM term, ErlNifBinary* bin,
                                  const char* file, int line, const char* func) {
  Site site = AT(file, line, func);
  if (!Start(&site)) return enif_term_to_binary(env, term, bin);
  int ok = enif_term_to_binary(env, term, bin);
  if (!ok) {
    Unlock();
    return ok;
  }
  WriteAlloc(bin, &site);
  return ok;
}

/* A view of `size` bytes at `data` in `env`: one bin_inspect line (its
 * caller holds the writer's lock). */
static void WriteInspected(ErlNifEnv* env, const void* data, size_t size, const Site* site) {
  Line text;
  Begin(&text, "bin_inspect");
  AddPointer(&text, "env", env);
  AddPointer(&text, "data", data);
  AddUnsignedField(&text, "size", size);
  FinishLine(&text, site);
}

/* enif_inspect_binary and enif_inspect_iolist_as_binary: one line, a view. */
typedef int (*Inspection)(ErlNifEnv*, ERL_NIF_TERM, ErlNifBinary*);

static int Inspect(Inspection inspect, ErlNifEnv* env, ERL_NIF_TERM term, ErlNifBinary* bin,
                   Site* site) {
  if (!Start(site)) return inspect(env, term, bin);
  int ok = inspect(env, term, bin);
  if (!ok) {
    Unlock();
    return ok;
  }
  WriteInspected(env, bin->data, bin->size, site);
  EndRecordedCall();
  return ok;
}

int refctrace_enif_inspect_binary(ErlNifEnv* env, ERL_NIF_TERM term, ErlNifBinary* bin,
                                  const char* file, int line, const char* func) {
  Site site = AT(file, line, func);
  return Inspect(enif_inspect_binary, env, term, bin, &site);
}

int refctrace_enif_inspect_iolist_as_binary(ErlNifEnv* env, ERL_NIF_TERM term, ErlNifBinary* bin,
                                            const char* file, int line, const char* func) {
  Site site = AT(file, line, func);
  return Inspect(enif_inspect_iolist_as_binary, env, term, bin, &site);
}

int refctrace_enif_ioq_enq_binary(ErlNifIOQueue* q, ErlNifBinary* bin, size_t skip,
                                  const char* file, int line, const char* func) {
  Site site = AT(file, line, func);
  if (!Start(&site)) return enif_ioq_enq_binary(q, bin, skip);
  const void* ref_bin = bin->ref_bin;
  const void* data = bin->data;
  int ok = enif_ioq_enq_binary(q, bin, skip);
  if (!ok) {
    Unlock();
    return ok;
  }
  HeldRemove(&held_bins, (uintptr_t)ref_bin);
  Line text;
  Begin(&text, "ioq_enq");
  AddBinary(&text, ref_bin, data);
  End(&text, &site);
  return ok;
}

void refctrace_bin_use(const ErlNifBinary* bin, int write, const char* file, int line,
                       const char* func) {
  Site site = AT(file, line, func);
  if (!Start(&site)) return;
  Line text;
  Begin(&text, "bin_use");
  AddBinary(&text, bin->ref_bin, bin->data);
  if (write) AddTrueField(&text, "write");
  End(&text, &site);
}

/* ---- iovecs ------------------------------------------------------------ */

/* enif_inspect_iovec with an environment: one bin_inspect per element, a
 * view of the element's bytes in `env` (data = iov_base, size = iov_len).
 * The emulator takes no reference for them: the bytes are the terms' (or a
 * copy buffer attached to `env` for heap and unaligned binaries) and the
 * ErlNifIOVec itself is a temporary of `env`, all gone when `env` ends its
 * terms, as inspected bytes are (docs/decisions.md 210). With a NULL
 * environment the iovec holds its own references until enif_free_iovec:
 * nothing is written (decision 211). */
int refctrace_enif_inspect_iovec(ErlNifEnv* env, size_t max_elements, ERL_NIF_TERM list,
                                 ERL_NIF_TERM* tail, ErlNifIOVec** iovec, const char* file,
                                 int line, const char* func) {
  Site site = AT(file, line, func);
  if (env == NULL || !Start(&site)) return enif_inspect_iovec(env, max_elements, list, tail, iovec);
  int ok = enif_inspect_iovec(env, max_elements, list, tail, iovec);
  for (int i = 0; ok && i < (*iovec)->iovcnt; ++i)
    WriteInspected(env, (*iovec)->iov[i].iov_base, (*iovec)->iov[i].iov_len, &site);
  Unlock();
  return ok;
}

/* A read of one iovec element's bytes: bin_use naming them by data. */
void refctrace_iov_use(const SysIOVec* element, const char* file, int line, const char* func) {
  Site site = AT(file, line, func);
  if (!Start(&site)) return;
  Line text;
  Begin(&text, "bin_use");
  AddPointer(&text, "data", element->iov_base);
  End(&text, &site);
}

/* ---- environments ---------------------------------------------------- */

/* A line naming one environment, after a call that returns nothing. */
static void WriteEnv(const char* op, ErlNifEnv* env, Site* site) {
  Line text;
  Begin(&text, op);
  AddPointer(&text, "env", env);
  End(&text, site);
}

ErlNifEnv* refctrace_enif_alloc_env(const char* file, int line, const char* func) {
  Site site = AT(file, line, func);
  if (!Start(&site)) return enif_alloc_env();
  ErlNifEnv* env = enif_alloc_env();
  if (env == NULL) {
    Unlock();
    return env;
  }
  HeldPut(&held_envs, (uintptr_t)env, 0);
  WriteEnv("env_alloc", env, &site);
  return env;
}

void refctrace_enif_clear_env(ErlNifEnv* env, const char* file, int line, const char* func) {
  Site site = AT(file, line, func);
  if (!Start(&site)) {
    enif_clear_env(env);
    return;
  }
  enif_clear_env(env);
  EnvTermsGone(env, 0);
  WriteEnv("env_clear", env, &site);
}

void refctrace_enif_free_env(ErlNifEnv* env, const char* file, int line, const char* func) {
  Site site = AT(file, line, func);
  if (!Start(&site)) {
    enif_free_env(env);
    return;
  }
  enif_free_env(env);
  HeldRemove(&held_envs, (uintptr_t)env);
  EnvTermsGone(env, 0);
  WriteEnv("env_free", env, &site);
}

/* With a message environment only: a NULL one copies the message and moves
 * nothing (docs/spec/nif.md). */
int refctrace_enif_send(ErlNifEnv* caller_env, const ErlNifPid* to, ErlNifEnv* msg_env,
                        ERL_NIF_TERM msg, const char* file, int line, const char* func) {
  Site site = AT(file, line, func);
  if (msg_env == NULL || !Start(&site)) return enif_send(caller_env, to, msg_env, msg);
  ERL_NIF_TERM receiver = to->pid; /* read before the call: `to` may be in msg_env */
  in_enif_send = 1;
  int ok = enif_send(caller_env, to, msg_env, msg);
  in_enif_send = 0;
  if (ok) EnvTermsGone(msg_env, 1);
  Line text;
  Begin(&text, "env_send");
  AddPointer(&text, "env", msg_env);
  AddPid(&text, "to", receiver);
  if (!ok) AddTrueField(&text, "failed");
  End(&text, &site);
  return ok;
}

/* ---- resource types: the callbacks go through numbered trampolines --- */

/* One opened resource type; a slot's trampolines know their slot by
 * number, since the emulator hands a callback only (env, obj, ...). */
typedef struct {
  ErlNifResourceType* type;
  char name[64];
  ErlNifResourceDtor* dtor;
  ErlNifResourceDown* down;
  ErlNifResourceStop* stop; /* enif_select's stop callback (trace format 1.5) */
  Site opened;              /* the enif_open_resource_type call: the callbacks' src */
} TypeSlot;

enum { kTypeSlots = 16 };
static TypeSlot type_slots[kTypeSlots];
static int type_slot_count;

/* The slot's name for a type, "?" for one not opened through the wrapper. */
static const char* TypeName(const ErlNifResourceType* type) {
  for (int i = 0; i < type_slot_count; ++i)
    if (type_slots[i].type == type) return type_slots[i].name;
  return "?";
}

/* Opened through the wrapper: its destructor is recorded. */
static int TypeRecorded(const ErlNifResourceType* type) {
  for (int i = 0; i < type_slot_count; ++i)
    if (type_slots[i].type == type) return 1;
  return 0;
}

/* nif_enter, the NIF's callback, the callback's own line, nif_return. */
static void RunDtor(int slot, ErlNifEnv* env, void* obj) {
  TypeSlot* t = &type_slots[slot];
  Site site = t->opened;
  if (!Start(&site)) {
    if (t->dtor != NULL) t->dtor(env, obj);
    return;
  }
  /* Out of the held table before the emulator frees the object. */
  HeldRemove(&held_resources, (uintptr_t)obj);
  WriteEnter(env, "callback", "dtor", &site);
  Unlock();
  if (t->dtor != NULL) t->dtor(env, obj);
  Lock();
  Line text;
  Begin(&text, "res_dtor");
  AddPointer(&text, "res", obj);
  FinishLine(&text, &site);
  WriteReturn(env, &site);
  Unlock();
}

static void RunDown(int slot, ErlNifEnv* env, void* obj, ErlNifPid* pid, ErlNifMonitor* mon) {
  TypeSlot* t = &type_slots[slot];
  Site site = t->opened;
  if (!Start(&site)) {
    t->down(env, obj, pid, mon);
    return;
  }
  WriteEnter(env, "callback", "down", &site);
  Line text;
  Begin(&text, "res_down");
  AddPointer(&text, "res", obj);
  /* The emulator holds the resource until this environment's nif_return. */
  AddPointer(&text, "env", env);
  if (pid != NULL) AddPid(&text, "actor", pid->pid);
  FinishLine(&text, &site);
  Unlock();
  t->down(env, obj, pid, mon);
  Lock();
  WriteReturn(env, &site);
  Unlock();
}

/* enif_select's stop callback: the select's reference ends when it returns. */
static void RunStop(int slot, ErlNifEnv* env, void* obj, ErlNifEvent event, int is_direct_call) {
  TypeSlot* t = &type_slots[slot];
  Site site = t->opened;
  if (!Start(&site)) {
    t->stop(env, obj, event, is_direct_call);
    return;
  }
  WriteEnter(env, "callback", "stop", &site);
  Line text;
  Begin(&text, "res_stop");
  AddPointer(&text, "res", obj);
  AddPointer(&text, "env", env);
  FinishLine(&text, &site);
  Unlock();
  t->stop(env, obj, event, is_direct_call);
  Lock();
  WriteReturn(env, &site);
  Unlock();
}

#define TRAMPOLINES(n)                                                                 \
  static void Dtor##n(ErlNifEnv* env, void* obj) {                                     \
    RunDtor(n, env, obj);                                                              \
  }                                                                                    \
  static void Down##n(ErlNifEnv* env, void* obj, ErlNifPid* pid, ErlNifMonitor* mon) { \
    RunDown(n, env, obj, pid, mon);                                                    \
  }                                                                                    \
  static void Stop##n(ErlNifEnv* env, void* obj, ErlNifEvent event, int direct) {      \
    RunStop(n, env, obj, event, direct);                                               \
  }
TRAMPOLINES(0)
TRAMPOLINES(1)
TRAMPOLINES(2)
TRAMPOLINES(3)
TRAMPOLINES(4)
TRAMPOLINES(5)
TRAMPOLINES(6)
TRAMPOLINES(7)
TRAMPOLINES(8)
TRAMPOLINES(9)
TRAMPOLINES(10)
TRAMPOLINES(11)
TRAMPOLINES(12)
TRAMPOLINES(13)
TRAMPOLINES(14)
TRAMPOLINES(15)
#undef TRAMPOLINES

static ErlNifResourceDtor* const kDtors[kTypeSlots] = {
    Dtor0, Dtor1, Dtor2,  Dtor3,  Dtor4,  Dtor5,  Dtor6,  Dtor7,
    Dtor8, Dtor9, Dtor10, Dtor11, Dtor12, Dtor13, Dtor14, Dtor15};
static ErlNifResourceDown* const kDowns[kTypeSlots] = {
    Down0, Down1, Down2,  Down3,  Down4,  Down5,  Down6,  Down7,
    Down8, Down9, Down10, Down11, Down12, Down13, Down14, Down15};
static ErlNifResourceStop* const kStops[kTypeSlots] = {
    Stop0, Stop1, Stop2,  Stop3,  Stop4,  Stop5,  Stop6,  Stop7,
    Stop8, Stop9, Stop10, Stop11, Stop12, Stop13, Stop14, Stop15};

/* A slot for a type about to be opened, or -1 (all taken: the type's
 * callbacks are then not recorded, which is said once on stderr). Types are
 * opened only while the library loads, one load at a time. */
static int TakeSlot(const char* name, ErlNifResourceDtor* dtor, ErlNifResourceDown* down,
                    const Site* opened) {
  if (type_slot_count == kTypeSlots) {
    fprintf(stderr,
            "refctrace: more than %d resource types; the callbacks of %s are not recorded\n",
            kTypeSlots, name);
    return -1;
  }
  TypeSlot* t = &type_slots[type_slot_count];
  memset(t, 0, sizeof *t);
  snprintf(t->name, sizeof t->name, "%s", name);
  t->dtor = dtor;
  t->down = down;
  t->opened = *opened;
  return type_slot_count++;
}

/* The type the emulator returned for a slot (NULL: not opened, slot freed). */
static ErlNifResourceType* Opened(int slot, ErlNifResourceType* type) {
  if (slot < 0) return type;
  if (type == NULL && slot == type_slot_count - 1) --type_slot_count;
  if (type != NULL) type_slots[slot].type = type;
  return type;
}

ErlNifResourceType* refctrace_enif_open_resource_type(ErlNifEnv* env, const char* module_str,
                                                      const char* name, ErlNifResourceDtor* dtor,
                                                      ErlNifResourceFlags flags,
                                                      ErlNifResourceFlags* tried, const char* file,
                                                      int line, const char* func) {
  Site site = AT(file, line, func);
  int slot = TakeSlot(name, dtor, NULL, &site);
  return Opened(slot, enif_open_resource_type(env, module_str, name, slot < 0 ? dtor : kDtors[slot],
                                              flags, tried));
}

/* The init struct with the recording callbacks in place of the NIF's. */
static ErlNifResourceTypeInit Wrapped(const ErlNifResourceTypeInit* init, int slot) {
  ErlNifResourceTypeInit wrapped = *init;
  if (slot >= 0) {
    wrapped.dtor = kDtors[slot];
    if (init->down != NULL) wrapped.down = kDowns[slot];
    /* A stop callback only where the NIF gave one: enif_select needs it. */
    type_slots[slot].stop = init->stop;
    if (init->stop != NULL) wrapped.stop = kStops[slot];
  }
  return wrapped;
}

ErlNifResourceType* refctrace_enif_open_resource_type_x(
    ErlNifEnv* env, const char* name, const ErlNifResourceTypeInit* init, ErlNifResourceFlags flags,
    ErlNifResourceFlags* tried, const char* file, int line, const char* func) {
  Site site = AT(file, line, func);
  int slot = TakeSlot(name, init->dtor, init->down, &site);
  ErlNifResourceTypeInit wrapped = Wrapped(init, slot);
  return Opened(slot, enif_open_resource_type_x(env, name, &wrapped, flags, tried));
}

ErlNifResourceType* refctrace_enif_init_resource_type(ErlNifEnv* env, const char* name,
                                                      const ErlNifResourceTypeInit* init,
                                                      ErlNifResourceFlags flags,
                                                      ErlNifResourceFlags* tried, const char* file,
                                                      int line, const char* func) {
  Site site = AT(file, line, func);
  int slot = TakeSlot(name, init->dtor, init->down, &site);
  ErlNifResourceTypeInit wrapped = Wrapped(init, slot);
  return Opened(slot, enif_init_resource_type(env, name, &wrapped, flags, tried));
}

/* ---- resources ------------------------------------------------------- */

void* refctrace_enif_alloc_resource(ErlNifResourceType* type, size_t size, const char* file,
                                    int line, const char* func) {
  Site site = AT(file, line, func);
  if (!Start(&site)) return enif_alloc_resource(type, size);
  void* obj = enif_alloc_resource(type, size);
  if (obj == NULL) {
    Unlock();
    return obj;
  }
  /* Followed only when its destructor is recorded (it leaves the table
   * there): a type not opened through the wrapper may free it unseen. */
  if (TypeRecorded(type)) HeldPut(&held_resources, (uintptr_t)obj, size);
  Line text;
  Begin(&text, "res_alloc");
  AddPointer(&text, "res", obj);
  AddString(&text, "rtype", TypeName(type));
  AddUnsignedField(&text, "size", size);
  End(&text, &site);
  return obj;
}

/* res_keep, res_release, res_use: the object only. */
static void WriteRes(const char* op, const void* obj, int defused, Site* site) {
  Line text;
  Begin(&text, op);
  AddPointer(&text, "res", obj);
  AddDefused(&text, defused);
  End(&text, site);
}

void refctrace_enif_keep_resource(void* obj, const char* file, int line, const char* func) {
  Site site = AT(file, line, func);
  if (!Start(&site)) {
    enif_keep_resource(obj);
    return;
  }
  int defused = TakeDefuse();
  if (!defused) enif_keep_resource(obj);
  WriteRes("res_keep", obj, defused, &site);
}

/* Written before the call: if the count reaches 0 there and the emulator
 * runs the destructor at once (on this thread, under the lock this thread
 * holds), res_dtor still comes after res_release in the trace. */
void refctrace_enif_release_resource(void* obj, const char* file, int line, const char* func) {
  Site site = AT(file, line, func);
  if (!Start(&site)) {
    enif_release_resource(obj);
    return;
  }
  int defused = TakeDefuse();
  Line text;
  Begin(&text, "res_release");
  AddPointer(&text, "res", obj);
  AddDefused(&text, defused);
  FinishLine(&text, &site);
  if (!defused) enif_release_resource(obj);
  Unlock();
}

void refctrace_res_use(const void* obj, const char* file, int line, const char* func) {
  Site site = AT(file, line, func);
  if (!Start(&site)) return;
  WriteRes("res_use", obj, 0, &site);
}

static void WriteResMake(ErlNifEnv* env, const void* obj, int defused, Site* site) {
  Line text;
  Begin(&text, "res_make");
  AddPointer(&text, "env", env);
  AddPointer(&text, "res", obj);
  AddDefused(&text, defused);
  End(&text, site);
}

ERL_NIF_TERM refctrace_enif_make_resource(ErlNifEnv* env, void* obj, const char* file, int line,
                                          const char* func) {
  Site site = AT(file, line, func);
  if (!Start(&site)) return enif_make_resource(env, obj);
  int defused = TakeDefuse();
  ERL_NIF_TERM term =
      defused ? enif_make_atom(env, "refctrace_defused") : enif_make_resource(env, obj);
  WriteResMake(env, obj, defused, &site);
  return term;
}

ERL_NIF_TERM refctrace_enif_make_resource_binary(ErlNifEnv* env, void* obj, const void* data,
                                                 size_t size, const char* file, int line,
                                                 const char* func) {
  Site site = AT(file, line, func);
  if (!Start(&site)) return enif_make_resource_binary(env, obj, data, size);
  ERL_NIF_TERM term = enif_make_resource_binary(env, obj, data, size);
  WriteResMake(env, obj, 0, &site);
  return term;
}

/* ---- monitors and enif_select (trace format 1.5) ----------------------- */

int refctrace_enif_monitor_process(ErlNifEnv* env, void* obj, const ErlNifPid* target,
                                   ErlNifMonitor* mon, const char* file, int line,
                                   const char* func) {
  Site site = AT(file, line, func);
  if (!Start(&site)) return enif_monitor_process(env, obj, target, mon);
  int result = enif_monitor_process(env, obj, target, mon);
  Line text;
  Begin(&text, "res_monitor");
  AddPointer(&text, "res", obj);
  if (target != NULL) AddPid(&text, "to", target->pid);
  if (result != 0) AddTrueField(&text, "failed");
  End(&text, &site);
  return result;
}

int refctrace_enif_demonitor_process(ErlNifEnv* env, void* obj, const ErlNifMonitor* mon,
                                     const char* file, int line, const char* func) {
  Site site = AT(file, line, func);
  if (!Start(&site)) return enif_demonitor_process(env, obj, mon);
  int result = enif_demonitor_process(env, obj, mon);
  Line text;
  Begin(&text, "res_demonitor");
  AddPointer(&text, "res", obj);
  if (result != 0) AddTrueField(&text, "failed");
  End(&text, &site);
  return result;
}

/* ERL_NIF_SELECT_STOP is written before the call, which may run the stop
 * callback at once (on this thread: the lock is this thread's); CANCEL is a
 * use of the object (no reference moves); turning events on is res_select. */
int refctrace_enif_select(ErlNifEnv* env, ErlNifEvent event, enum ErlNifSelectFlags mode, void* obj,
                          const ErlNifPid* pid, ERL_NIF_TERM ref, const char* file, int line,
                          const char* func) {
  Site site = AT(file, line, func);
  if (!Start(&site)) return enif_select(env, event, mode, obj, pid, ref);
  Line text;
  if (mode & ERL_NIF_SELECT_STOP) {
    Begin(&text, "res_select_stop");
    AddPointer(&text, "res", obj);
    FinishLine(&text, &site);
    int result = enif_select(env, event, mode, obj, pid, ref);
    Unlock();
    return result;
  }
  int result = enif_select(env, event, mode, obj, pid, ref);
  const int cancel = (mode & ERL_NIF_SELECT_CANCEL) != 0;
  Begin(&text, cancel ? "res_use" : "res_select");
  AddPointer(&text, "res", obj);
  if (cancel) AddString(&text, "note", "enif_select cancel");
  if (!cancel && result < 0) AddTrueField(&text, "failed");
  End(&text, &site);
  return result;
}

/* The binaries a copied term holds that the NIF made (found by their bytes
 * in the table of followed binaries), each with one more reference: the
 * copy's wrapper. */
enum { kMaxCopiedBinaries = 64 };
typedef struct {
  ErlNifEnv* env;
  uintptr_t ids[kMaxCopiedBinaries];
  int count;
} CopiedBinaries;

static void CollectCopied(void* context, const ErlNifBinary* bin) {
  CopiedBinaries* copied = context;
  uintptr_t id;
  size_t orig_size;
  if (bin->size == 0 || copied->count == kMaxCopiedBinaries ||
      !FindByBytes(bin->data, bin->size, 0, &id, &orig_size))
    return;
  copied->ids[copied->count++] = id;
  const LiveBinary* b = FindLive(id);
  if (b != NULL) TermHolds(copied->env, id, b->bytes, b->size);
}

/* make_copy names the resource a copied term holds when its type was opened
 * through the wrapper, and each binary of it the NIF made (one line per
 * binary, the first with the resource): the copy references the same
 * Binary, one reference more (docs/decisions.md 108). */
ERL_NIF_TERM refctrace_enif_make_copy(ErlNifEnv* dst_env, ERL_NIF_TERM src_term, const char* file,
                                      int line, const char* func) {
  Site site = AT(file, line, func);
  if (!Start(&site)) return enif_make_copy(dst_env, src_term);
  ERL_NIF_TERM copy = enif_make_copy(dst_env, src_term);
  void* obj = NULL;
  for (int i = 0; i < type_slot_count && obj == NULL; ++i)
    if (type_slots[i].type != NULL && !enif_get_resource(dst_env, copy, type_slots[i].type, &obj))
      obj = NULL;
  static __thread CopiedBinaries copied;
  copied.env = dst_env;
  copied.count = 0;
  VisitBinaries(dst_env, copy, 0, CollectCopied, &copied);
  int i = 0;
  do {
    Line text;
    Begin(&text, "make_copy");
    AddPointer(&text, "env", dst_env);
    if (i == 0 && obj != NULL) AddPointer(&text, "res", obj);
    if (i < copied.count) AddId(&text, "bin", copied.ids[i]);
    FinishLine(&text, &site);
  } while (++i < copied.count);
  Unlock();
  return copy;
}

#else
/* Not recording: an empty translation unit is not valid ISO C. */
typedef int refctrace_nif_disabled;
#endif /* REFCTRACE */
