/* refctrace_nif.h: records a NIF library's binary, environment and resource
 * calls as a refctrace trace (trace format 1.4 NDJSON, docs/spec/nif.md).
 * See README "Recording a trace from your NIF".
 *
 * Include it instead of (or after) <erl_nif.h> in every NIF source file and
 * compile refctrace_nif.c into the library (and refctrace_nif_new.cc too
 * into a C++ library, so that its objects from new are followed). Compiled with -DREFCTRACE, the
 * erl_nif calls below become macros that call the real function and append
 * one event line, with the caller's file:line and function, to the file
 * named by the environment variable REFCTRACE_TRACE (REFCTRACE_STACK=N adds
 * N frames of call stack; REFCTRACE_APPEND=1 adds to a non-empty file).
 * Without -DREFCTRACE nothing is redefined, every REFCTRACE_* macro is the
 * plain code it stands for, and refctrace_nif.c is empty: the recorder is
 * compiled out entirely.
 *
 * Recorded calls: enif_alloc_binary, enif_realloc_binary,
 * enif_release_binary, enif_make_binary, enif_make_new_binary,
 * enif_term_to_binary, enif_inspect_binary, enif_inspect_iolist_as_binary,
 * enif_ioq_enq_binary, enif_inspect_iovec (with an environment: one view per
 * element; not with NULL), enif_alloc_env, enif_clear_env, enif_free_env,
 * enif_send (with a message environment), enif_make_copy,
 * enif_alloc_resource, enif_keep_resource, enif_release_resource,
 * enif_make_resource, enif_make_resource_binary, enif_monitor_process,
 * enif_demonitor_process, enif_select (not the enif_select_read/_write
 * variants); enif_open_resource_type, enif_open_resource_type_x and
 * enif_init_resource_type put recording wrappers around the type's
 * destructor, down and stop callbacks (nif_enter, res_dtor, res_down or
 * res_stop, nif_return around the NIF's own callback).
 *
 * Every call of a function in the library's ErlNifFunc table is written
 * between nif_enter and nif_return (the table is wrapped when the library
 * is loaded; a call that records nothing leaves no line), and so is a call
 * enif_schedule_nif makes of a function in the table.
 *
 * What the recorder cannot see by itself, the NIF marks:
 *   REFCTRACE_NIF(name)            defines NIF function `name` with the
 *                                  parameters (env, argc, argv): its calls'
 *                                  nif_enter and nif_return name its line,
 *                                  and are written also when it is called
 *                                  from outside the table
 *   REFCTRACE_NIF_INIT(...)        instead of ERL_NIF_INIT, same arguments:
 *                                  names each function module:name/arity
 *                                  for a library built with
 *                                  STATIC_ERLANG_NIF_LIBNAME (otherwise the
 *                                  table already names them)
 *   REFCTRACE_BIN_READ(binp)       before reading an ErlNifBinary's bytes
 *   REFCTRACE_BIN_WRITE(binp)      after storing into them
 *   REFCTRACE_IOV_READ(elementp)   before reading the bytes of an iovec
 *                                  element (a SysIOVec* of an ErlNifIOVec
 *                                  enif_inspect_iovec filled in with an
 *                                  environment, or a copy of one)
 *   REFCTRACE_RES_USE(obj)         before reading or writing a resource
 *   REFCTRACE_HELD_ROOT(p, n)      the n bytes at p keep objects for the
 *                                  library's life: the held scan at exit
 *                                  reads them as a root (memory it cannot
 *                                  find by itself); REFCTRACE_HELD_ROOT_DROP(p)
 *                                  before they are freed
 *   REFCTRACE_NO_MALLOC_WRAP       defined before the include: malloc,
 *                                  calloc, realloc, free, strdup, strndup,
 *                                  posix_memalign and aligned_alloc stay
 *                                  the C library's in that file (see
 *                                  refctrace_malloc_wrap.h)
 *   REFCTRACE_DEFUSE_NEXT()        seeded-bug tests only: the next recorded
 *                                  enif_release_binary, enif_release_resource,
 *                                  enif_keep_resource or enif_make_resource on
 *                                  this thread is written but not made, so a
 *                                  deliberate double release or use after
 *                                  free cannot corrupt the emulator
 *                                  (enif_make_resource then returns the atom
 *                                  refctrace_defused)
 */
#ifndef REFCTRACE_NIF_H
#define REFCTRACE_NIF_H

#include <erl_nif.h>

#ifdef REFCTRACE

#ifdef __cplusplus
extern "C" {
#endif

int refctrace_enif_alloc_binary(size_t size, ErlNifBinary* bin, const char* file, int line,
                                const char* func);
int refctrace_enif_realloc_binary(ErlNifBinary* bin, size_t size, const char* file, int line,
                                  const char* func);
void refctrace_enif_release_binary(ErlNifBinary* bin, const char* file, int line, const char* func);
ERL_NIF_TERM refctrace_enif_make_binary(ErlNifEnv* env, ErlNifBinary* bin, const char* file,
                                        int line, const char* func);
unsigned char* refctrace_enif_make_new_binary(ErlNifEnv* env, size_t size, ERL_NIF_TERM* termp,
                                              const char* file, int line, const char* func);
int refctrace_enif_term_to_binary(ErlNifEnv* env, ERL_NIF_TERM term, ErlNifBinary* bin,
                                  const char* file, int line, const char* func);
int refctrace_enif_inspect_binary(ErlNifEnv* env, ERL_NIF_TERM term, ErlNifBinary* bin,
                                  const char* file, int line, const char* func);
int refctrace_enif_inspect_iolist_as_binary(ErlNifEnv* env, ERL_NIF_TERM term, ErlNifBinary* bin,
                                            const char* file, int line, const char* func);
int refctrace_enif_ioq_enq_binary(ErlNifIOQueue* q, ErlNifBinary* bin, size_t skip,
                                  const char* file, int line, const char* func);
ErlNifEnv* refctrace_enif_alloc_env(const char* file, int line, const char* func);
void refctrace_enif_clear_env(ErlNifEnv* env, const char* file, int line, const char* func);
void refctrace_enif_free_env(ErlNifEnv* env, const char* file, int line, const char* func);
int refctrace_enif_send(ErlNifEnv* caller_env, const ErlNifPid* to, ErlNifEnv* msg_env,
                        ERL_NIF_TERM msg, const char* file, int line, const char* func);
ERL_NIF_TERM refctrace_enif_make_copy(ErlNifEnv* dst_env, ERL_NIF_TERM src_term, const char* file,
                                      int line, const char* func);
ErlNifResourceType* refctrace_enif_open_resource_type(ErlNifEnv* env, const char* module_str,
                                                      const char* name, ErlNifResourceDtor* dtor,
                                                      ErlNifResourceFlags flags,
                                                      ErlNifResourceFlags* tried, const char* file,
                                                      int line, const char* func);
ErlNifResourceType* refctrace_enif_open_resource_type_x(
    ErlNifEnv* env, const char* name, const ErlNifResourceTypeInit* init, ErlNifResourceFlags flags,
    ErlNifResourceFlags* tried, const char* file, int line, const char* func);
ErlNifResourceType* refctrace_enif_init_resource_type(ErlNifEnv* env, const char* name,
                                                      const ErlNifResourceTypeInit* init,
                                                      ErlNifResourceFlags flags,
                                                      ErlNifResourceFlags* tried, const char* file,
                                                      int line, const char* func);
void* refctrace_enif_alloc_resource(ErlNifResourceType* type, size_t size, const char* file,
                                    int line, const char* func);
void refctrace_enif_keep_resource(void* obj, const char* file, int line, const char* func);
void refctrace_enif_release_resource(void* obj, const char* file, int line, const char* func);
ERL_NIF_TERM refctrace_enif_make_resource(ErlNifEnv* env, void* obj, const char* file, int line,
                                          const char* func);
ERL_NIF_TERM refctrace_enif_make_resource_binary(ErlNifEnv* env, void* obj, const void* data,
                                                 size_t size, const char* file, int line,
                                                 const char* func);
int refctrace_enif_monitor_process(ErlNifEnv* env, void* obj, const ErlNifPid* target,
                                   ErlNifMonitor* mon, const char* file, int line,
                                   const char* func);
int refctrace_enif_demonitor_process(ErlNifEnv* env, void* obj, const ErlNifMonitor* mon,
                                     const char* file, int line, const char* func);
int refctrace_enif_select(ErlNifEnv* env, ErlNifEvent event, enum ErlNifSelectFlags mode, void* obj,
                          const ErlNifPid* pid, ERL_NIF_TERM ref, const char* file, int line,
                          const char* func);

void refctrace_nif_enter(ErlNifEnv* env,
                         ERL_NIF_TERM (*fptr)(ErlNifEnv*, int, const ERL_NIF_TERM[]), int argc,
                         const char* file, int line, const char* func);
void refctrace_nif_return(ErlNifEnv* env, const char* file, int line, const char* func);
void refctrace_nif_register(const char* module, const ErlNifFunc* funcs, size_t count);
ERL_NIF_TERM refctrace_enif_schedule_nif(ErlNifEnv* env, const char* fun_name, int flags,
                                         ERL_NIF_TERM (*fp)(ErlNifEnv*, int, const ERL_NIF_TERM[]),
                                         int argc, const ERL_NIF_TERM argv[]);
void refctrace_bin_use(const ErlNifBinary* bin, int write, const char* file, int line,
                       const char* func);
int refctrace_enif_inspect_iovec(ErlNifEnv* env, size_t max_elements, ERL_NIF_TERM list,
                                 ERL_NIF_TERM* tail, ErlNifIOVec** iovec, const char* file,
                                 int line, const char* func);
void refctrace_iov_use(const SysIOVec* element, const char* file, int line, const char* func);
void refctrace_res_use(const void* obj, const char* file, int line, const char* func);
void refctrace_defuse_next(void);
void refctrace_held_root(const void* start, size_t size);
void refctrace_held_root_drop(const void* start);
void* refctrace_enif_alloc(size_t size);
void* refctrace_enif_realloc(void* ptr, size_t size);
void refctrace_enif_free(void* ptr);
void* refctrace_malloc(size_t size);
void* refctrace_calloc(size_t count, size_t size);
void* refctrace_realloc(void* ptr, size_t size);
void refctrace_free(void* ptr);
char* refctrace_strdup(const char* text);
char* refctrace_strndup(const char* text, size_t size);
int refctrace_posix_memalign(void** block, size_t alignment, size_t size);
void* refctrace_aligned_alloc(size_t alignment, size_t size);

#ifdef __cplusplus
}
#endif

/* Where a call is made: file, line and the enclosing function. */
#define REFCTRACE_NIF_SITE __FILE__, __LINE__, __func__

/* refctrace_nif.c itself calls the real functions. */
#ifndef REFCTRACE_NIF_IMPLEMENTATION
#define enif_alloc_binary(size, bin) refctrace_enif_alloc_binary((size), (bin), REFCTRACE_NIF_SITE)
#define enif_realloc_binary(bin, size) \
  refctrace_enif_realloc_binary((bin), (size), REFCTRACE_NIF_SITE)
#define enif_release_binary(bin) refctrace_enif_release_binary((bin), REFCTRACE_NIF_SITE)
#define enif_make_binary(env, bin) refctrace_enif_make_binary((env), (bin), REFCTRACE_NIF_SITE)
#define enif_make_new_binary(env, size, termp) \
  refctrace_enif_make_new_binary((env), (size), (termp), REFCTRACE_NIF_SITE)
#define enif_term_to_binary(env, term, bin) \
  refctrace_enif_term_to_binary((env), (term), (bin), REFCTRACE_NIF_SITE)
#define enif_inspect_binary(env, term, bin) \
  refctrace_enif_inspect_binary((env), (term), (bin), REFCTRACE_NIF_SITE)
#define enif_inspect_iolist_as_binary(env, term, bin) \
  refctrace_enif_inspect_iolist_as_binary((env), (term), (bin), REFCTRACE_NIF_SITE)
#define enif_ioq_enq_binary(q, bin, skip) \
  refctrace_enif_ioq_enq_binary((q), (bin), (skip), REFCTRACE_NIF_SITE)
#define enif_inspect_iovec(env, max_elements, list, tail, iovec) \
  refctrace_enif_inspect_iovec((env), (max_elements), (list), (tail), (iovec), REFCTRACE_NIF_SITE)
#define enif_alloc_env() refctrace_enif_alloc_env(REFCTRACE_NIF_SITE)
#define enif_clear_env(env) refctrace_enif_clear_env((env), REFCTRACE_NIF_SITE)
#define enif_free_env(env) refctrace_enif_free_env((env), REFCTRACE_NIF_SITE)
#define enif_send(caller_env, to, msg_env, msg) \
  refctrace_enif_send((caller_env), (to), (msg_env), (msg), REFCTRACE_NIF_SITE)
#define enif_make_copy(dst_env, term) \
  refctrace_enif_make_copy((dst_env), (term), REFCTRACE_NIF_SITE)
#define enif_open_resource_type(env, module_str, name, dtor, flags, tried)                 \
  refctrace_enif_open_resource_type((env), (module_str), (name), (dtor), (flags), (tried), \
                                    REFCTRACE_NIF_SITE)
#define enif_open_resource_type_x(env, name, init, flags, tried) \
  refctrace_enif_open_resource_type_x((env), (name), (init), (flags), (tried), REFCTRACE_NIF_SITE)
#define enif_init_resource_type(env, name, init, flags, tried) \
  refctrace_enif_init_resource_type((env), (name), (init), (flags), (tried), REFCTRACE_NIF_SITE)
#define enif_alloc_resource(type, size) \
  refctrace_enif_alloc_resource((type), (size), REFCTRACE_NIF_SITE)
#define enif_keep_resource(obj) refctrace_enif_keep_resource((obj), REFCTRACE_NIF_SITE)
#define enif_release_resource(obj) refctrace_enif_release_resource((obj), REFCTRACE_NIF_SITE)
#define enif_make_resource(env, obj) refctrace_enif_make_resource((env), (obj), REFCTRACE_NIF_SITE)
#define enif_make_resource_binary(env, obj, data, size) \
  refctrace_enif_make_resource_binary((env), (obj), (data), (size), REFCTRACE_NIF_SITE)
#define enif_monitor_process(env, obj, target, mon) \
  refctrace_enif_monitor_process((env), (obj), (target), (mon), REFCTRACE_NIF_SITE)
#define enif_demonitor_process(env, obj, mon) \
  refctrace_enif_demonitor_process((env), (obj), (mon), REFCTRACE_NIF_SITE)
#define enif_select(env, event, mode, obj, pid, ref) \
  refctrace_enif_select((env), (event), (mode), (obj), (pid), (ref), REFCTRACE_NIF_SITE)
/* No line: the blocks are followed for the held scan at exit. */
#define enif_alloc(size) refctrace_enif_alloc((size))
#define enif_realloc(ptr, size) refctrace_enif_realloc((ptr), (size))
#define enif_free(ptr) refctrace_enif_free((ptr))
#define enif_schedule_nif(env, fun_name, flags, fp, argc, argv) \
  refctrace_enif_schedule_nif((env), (fun_name), (flags), (fp), (argc), (argv))
#include "refctrace_malloc_wrap.h"
#endif

/* REFCTRACE_NIF(name) { body } defines `name` as a wrapper that writes
 * nif_enter, runs the body (a function of its own, so a `return` anywhere
 * in it still reaches nif_return) and writes nif_return. */
#define REFCTRACE_NIF(name)                                                                       \
  static ERL_NIF_TERM refctrace_body_##name(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]); \
  static ERL_NIF_TERM name(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {                 \
    refctrace_nif_enter(env, name, argc, __FILE__, __LINE__, #name);                              \
    ERL_NIF_TERM result = refctrace_body_##name(env, argc, argv);                                 \
    refctrace_nif_return(env, __FILE__, __LINE__, #name);                                         \
    return result;                                                                                \
  }                                                                                               \
  static ERL_NIF_TERM refctrace_body_##name(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[])

/* ERL_NIF_INIT with a load callback that first gives the recorder the
 * function table (for nif_enter's module:function/arity). */
#define REFCTRACE_NIF_INIT(NAME, FUNCS, LOAD, RELOAD, UPGRADE, UNLOAD)                         \
  static int refctrace_load_##NAME(ErlNifEnv* env, void** priv_data, ERL_NIF_TERM load_info) { \
    int (*load)(ErlNifEnv*, void**, ERL_NIF_TERM) = LOAD;                                      \
    refctrace_nif_register(#NAME, FUNCS, sizeof(FUNCS) / sizeof(FUNCS[0]));                    \
    return load != NULL ? load(env, priv_data, load_info) : 0;                                 \
  }                                                                                            \
  ERL_NIF_INIT(NAME, FUNCS, refctrace_load_##NAME, RELOAD, UPGRADE, UNLOAD)

#define REFCTRACE_BIN_READ(binp) refctrace_bin_use((binp), 0, REFCTRACE_NIF_SITE)
#define REFCTRACE_BIN_WRITE(binp) refctrace_bin_use((binp), 1, REFCTRACE_NIF_SITE)
#define REFCTRACE_IOV_READ(elementp) refctrace_iov_use((elementp), REFCTRACE_NIF_SITE)
#define REFCTRACE_RES_USE(obj) refctrace_res_use((obj), REFCTRACE_NIF_SITE)
#define REFCTRACE_DEFUSE_NEXT() refctrace_defuse_next()
/* Memory the held scan at exit cannot find by itself (another allocator's
 * block, a mapping, a region holding pointers stored disguised) that the
 * library keeps objects through: read as a root, like the library's
 * globals (`held ... "in":"static"`), until dropped. */
#define REFCTRACE_HELD_ROOT(start, size) refctrace_held_root((start), (size))
#define REFCTRACE_HELD_ROOT_DROP(start) refctrace_held_root_drop((start))

#else /* !REFCTRACE: compiled out; the arguments are only named, not used */

#define REFCTRACE_NIF(name) \
  static ERL_NIF_TERM name(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[])
#define REFCTRACE_NIF_INIT ERL_NIF_INIT
#define REFCTRACE_BIN_READ(binp) ((void)(binp))
#define REFCTRACE_BIN_WRITE(binp) ((void)(binp))
#define REFCTRACE_IOV_READ(elementp) ((void)(elementp))
#define REFCTRACE_RES_USE(obj) ((void)(obj))
#define REFCTRACE_DEFUSE_NEXT() ((void)0)
#define REFCTRACE_HELD_ROOT(start, size) ((void)(start), (void)(size))
#define REFCTRACE_HELD_ROOT_DROP(start) ((void)(start))

#endif /* REFCTRACE */

#endif /* REFCTRACE_NIF_H */
