/* sample_nif: a NIF library that uses every erl_nif call the NIF recorder
 * writes (binaries, environments, resources), built with refctrace_nif.h.
 * refctrace_nif_e2e.erl drives it. sample_nif:set_bug(BUG) seeds one bug,
 * each modelled on a real one (docs/spec/nif.md names them); `none` seeds
 * nothing. The comment "seed-BUG:CODE" marks the line where the test
 * expects `refctrace check` to report CODE for that seed, and no other
 * finding. A seed that would corrupt the emulator (a double release, a
 * keep after the end) is defused: written to the trace, not made.
 *
 * The library also keeps objects for its whole life, as real ones do (a
 * message environment for sends from outside a call, a resource, a cached
 * binary, a resource reached only through the C library's heap): at the
 * emulator's exit the recorder's scan finds them still
 * held (trace format 1.6 `held`), so a clean run has no finding. */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "refctrace_nif.h"

typedef enum {
  kNone,
  kBinLeak,            /* erlang-xxhash#2: allocated, never released nor made */
  kReleaseAfterMake,   /* erlang/otp#2511: released after enif_make_binary */
  kWriteAfterMake,     /* circuits_spi#23: bytes written after the term owns them */
  kBinDoubleRelease,   /* released twice through two copies of the struct */
  kUseAfterRelease,    /* hierdis#5, on a binary: read after its release */
  kReallocInspected,   /* crypt#13: realloc of an inspected binary never released */
  kInspectKept,        /* erlang/otp#9447: inspected bytes used in a later call */
  kEnvNotCleared,      /* rustler#291, circuits_gpio#252: no clear after enif_send */
  kEnvLeak,            /* a process-independent environment never freed */
  kResLeak,            /* hyper#10, exmagick#9: a resource never released */
  kResDoubleRelease,   /* hdr_histogram_erl#16: one release too many */
  kResUseAfterRelease, /* hierdis#5, erlang/otp#7193: used after the last release */
  kSelectNeverStopped, /* erl_nif's rule for enif_select: the fd closed with close(2)
                          instead of ERL_NIF_SELECT_STOP; the emulator keeps the object */
  kRememberLost,       /* hyper#10: a kept resource's only pointer overwritten, never
                          released, while the library still holds others */
  kStashLost,          /* a malloc'd node freed with the resource it kept never
                          released (the node's only holder) */
  kIovKept             /* erlang/otp#9447 through an iovec: an element's bytes read in a
                          later call */
} SeededBug;

static const char* const kBugNames[] = {"none",
                                        "bin-leak",
                                        "release-after-make",
                                        "write-after-make",
                                        "bin-double-release",
                                        "use-after-release",
                                        "realloc-inspected",
                                        "inspect-kept",
                                        "env-not-cleared",
                                        "env-leak",
                                        "res-leak",
                                        "res-double-release",
                                        "res-use-after-release",
                                        "select-never-stopped",
                                        "remember-lost",
                                        "stash-lost",
                                        "iov-kept"};

static SeededBug bug = kNone;

static ErlNifResourceType* buffer_type;  /* enif_open_resource_type */
static ErlNifResourceType* watcher_type; /* enif_open_resource_type_x, with down */
static ErlNifResourceType* pipe_type;    /* enif_open_resource_type_x, with stop */
static ErlNifResourceType* kept_type;    /* the library's own, never a term */
static atomic_long live_resources;       /* buffers, watchers, pipes: allocated minus destroyed */
static atomic_long downs;

typedef struct {
  unsigned char bytes[128];
} Buffer;

/* Kept for the library's life, from load() on: priv_data is an enif_alloc
 * block with a resource of its own, whose data holds the environment
 * send_kept/1 builds its messages in; a static global holds a binary the
 * library owns (a cache). At exit they are held, not leaked. */
typedef struct {
  ErlNifEnv* msg_env;
  unsigned char bytes[64];
} Kept;

/* stash/0's node, from the C library's heap (malloc, not enif_alloc). The
 * resource is not its first field: a node freed (the stash-lost seed)
 * keeps it, past the free list's words, in memory that stays mapped and
 * that its slot still points at, so only free's leaving the scan's table
 * shows the loss. */
typedef struct {
  char* label;
  size_t uses;
  Buffer* buffer;
} StashNode;

typedef struct {
  Kept* kept;
  void* remembered;  /* remember/0's latest resource */
  StashNode** stash; /* stash/0's calloc'd slots; [1]: the node */
  void* in_cxx;      /* stash_in_cxx/0's object (sample_nif_cxx.cc) */
} Priv;

void* sample_nif_keep_in_cxx(void* resource); /* sample_nif_cxx.cc */

static ErlNifBinary cache;

static ERL_NIF_TERM Ok(ErlNifEnv* env) {
  return enif_make_atom(env, "ok");
}

static void Fill(ErlNifBinary* bin, unsigned char value) {
  memset(bin->data, value, bin->size);
  REFCTRACE_BIN_WRITE(bin);
}

/* ---- binaries -------------------------------------------------------- */

REFCTRACE_NIF(set_bug) {
  (void)argc;
  char name[64];
  if (!enif_get_atom(env, argv[0], name, sizeof name, ERL_NIF_LATIN1)) return enif_make_badarg(env);
  for (size_t i = 0; i < sizeof kBugNames / sizeof kBugNames[0]; ++i) {
    if (strcmp(name, kBugNames[i]) == 0) {
      bug = (SeededBug)i;
      return Ok(env);
    }
  }
  return enif_make_badarg(env);
}

/* make_bin(Size): a new binary term of Size bytes. The seeds apply to
 * binaries above the heap limit (64 bytes) only: one finding per run. */
REFCTRACE_NIF(make_bin) {
  (void)argc;
  unsigned size;
  if (!enif_get_uint(env, argv[0], &size)) return enif_make_badarg(env);
  int seeded = size > 64;
  ErlNifBinary bin;
  if (!enif_alloc_binary(size, &bin)) return enif_make_badarg(env); /* seed-bin-leak:leak */
  Fill(&bin, 'm');
  if (seeded && bug == kBinLeak) return Ok(env);
  ERL_NIF_TERM term = enif_make_binary(env, &bin);
  if (seeded && bug == kReleaseAfterMake)
    enif_release_binary(&bin); /* seed-release-after-make:double-free */
  if (seeded && bug == kWriteAfterMake) {
    bin.data[0] = 'w';
    REFCTRACE_BIN_WRITE(&bin); /* seed-write-after-make:mutate-after-output */
  }
  return term;
}

/* scratch(Size): a binary used inside the call and released. */
REFCTRACE_NIF(scratch) {
  (void)argc;
  unsigned size;
  if (!enif_get_uint(env, argv[0], &size)) return enif_make_badarg(env);
  ErlNifBinary bin;
  if (!enif_alloc_binary(size, &bin)) return enif_make_badarg(env);
  Fill(&bin, 's');
  ErlNifBinary copy = bin;
  enif_release_binary(&bin);
  if (bug == kBinDoubleRelease) {
    REFCTRACE_DEFUSE_NEXT();
    enif_release_binary(&copy); /* seed-bin-double-release:double-free */
  }
  if (bug == kUseAfterRelease)
    REFCTRACE_BIN_READ(&copy); /* seed-use-after-release:use-after-free */
  return Ok(env);
}

/* grow(Bin): Bin's bytes followed by as many zeros, through
 * enif_realloc_binary of the inspected (read-only) struct, which makes a new
 * binary the NIF owns. */
REFCTRACE_NIF(grow) {
  (void)argc;
  ErlNifBinary bin;
  if (!enif_inspect_binary(env, argv[0], &bin)) return enif_make_badarg(env);
  REFCTRACE_BIN_READ(&bin);
  size_t size = bin.size;
  if (!enif_realloc_binary(&bin, 2 * size)) /* seed-realloc-inspected:leak */
    return enif_make_badarg(env);
  memset(bin.data + size, 0, size);
  REFCTRACE_BIN_WRITE(&bin);
  if (bug == kReallocInspected) return Ok(env);
  return enif_make_binary(env, &bin);
}

/* grow_owned(): an owned binary grown by enif_realloc_binary (the block
 * may move), then made. */
REFCTRACE_NIF(grow_owned) {
  (void)argc, (void)argv;
  ErlNifBinary bin;
  if (!enif_alloc_binary(100, &bin)) return enif_make_badarg(env);
  Fill(&bin, 'g');
  if (!enif_realloc_binary(&bin, 100000)) {
    enif_release_binary(&bin);
    return enif_make_badarg(env);
  }
  Fill(&bin, 'G');
  return enif_make_binary(env, &bin);
}

/* checksum(IoList): the sum of its bytes (enif_inspect_iolist_as_binary). */
REFCTRACE_NIF(checksum) {
  (void)argc;
  ErlNifBinary bin;
  if (!enif_inspect_iolist_as_binary(env, argv[0], &bin)) return enif_make_badarg(env);
  REFCTRACE_BIN_READ(&bin);
  unsigned long sum = 0;
  for (size_t i = 0; i < bin.size; ++i)
    sum += bin.data[i];
  return enif_make_ulong(env, sum);
}

/* keep_view(Bin) then use_view(): the first byte of Bin, read in a later
 * call. Correct: keep a copy the NIF owns. Seeded: keep the inspected
 * struct, whose bytes are only borrowed for the call (the test keeps Bin
 * alive, so the real read stays safe). */
static ErlNifBinary kept;

REFCTRACE_NIF(keep_view) {
  (void)argc;
  ErlNifBinary view;
  if (!enif_inspect_binary(env, argv[0], &view) || view.size == 0) return enif_make_badarg(env);
  if (bug == kInspectKept) {
    kept = view;
    return Ok(env);
  }
  if (!enif_alloc_binary(view.size, &kept)) return enif_make_badarg(env);
  REFCTRACE_BIN_READ(&view);
  memcpy(kept.data, view.data, view.size);
  REFCTRACE_BIN_WRITE(&kept);
  return Ok(env);
}

REFCTRACE_NIF(use_view) {
  (void)argc, (void)argv;
  REFCTRACE_BIN_READ(&kept); /* seed-inspect-kept:borrow-expired */
  unsigned first = kept.data[0];
  if (bug != kInspectKept) enif_release_binary(&kept);
  /* No stale pointer left in a global: the held scan at exit would take it
   * for a reference to whatever the allocator later puts at that address
   * (on OTP 25, stash's resource: resources and binaries share binary_alloc),
   * and the stash-lost seed's leak would be hidden (docs/recording.md). */
  memset(&kept, 0, sizeof kept);
  return enif_make_uint(env, first);
}

/* new_bin(Size): enif_make_new_binary, written during the call. */
REFCTRACE_NIF(new_bin) {
  (void)argc;
  unsigned size;
  if (!enif_get_uint(env, argv[0], &size)) return enif_make_badarg(env);
  ERL_NIF_TERM term;
  unsigned char* data = enif_make_new_binary(env, size, &term);
  ErlNifBinary view = {.size = size, .data = data};
  Fill(&view, 'n');
  return term;
}

/* t2b(Term): term_to_binary in C (enif_term_to_binary), then made. */
REFCTRACE_NIF(t2b) {
  (void)argc;
  ErlNifBinary bin;
  if (!enif_term_to_binary(env, argv[0], &bin)) return enif_make_badarg(env);
  REFCTRACE_BIN_READ(&bin);
  return enif_make_binary(env, &bin);
}

/* ioq(Size): a binary handed to an I/O queue, which the queue frees. */
REFCTRACE_NIF(ioq) {
  (void)argc;
  unsigned size;
  if (!enif_get_uint(env, argv[0], &size)) return enif_make_badarg(env);
  ErlNifIOQueue* q = enif_ioq_create(ERL_NIF_IOQ_NORMAL);
  if (q == NULL) return enif_make_badarg(env);
  ErlNifBinary bin;
  if (!enif_alloc_binary(size, &bin)) {
    enif_ioq_destroy(q);
    return enif_make_badarg(env);
  }
  Fill(&bin, 'q');
  int ok = enif_ioq_enq_binary(q, &bin, 0);
  size_t queued = enif_ioq_size(q);
  enif_ioq_destroy(q);
  return ok ? enif_make_uint64(env, queued) : enif_make_badarg(env);
}

/* ---- iovecs ---------------------------------------------------------- */

/* iov_sum(IoList): the sum of the bytes of a list of binaries, read three
 * ways: enif_inspect_iovec with the call's environment (one view per
 * element: a large binary's own bytes, the small ones copied into a buffer
 * the environment holds), the same elements through an I/O queue
 * (enif_ioq_enqv takes the queue's own references, enif_ioq_peek reads
 * them, enif_ioq_deq drops them), and an iovec made without an environment,
 * which holds its own references until enif_free_iovec. Each sum must be
 * the same. */
static unsigned long SumElement(const SysIOVec* element) {
  unsigned long sum = 0;
  for (size_t i = 0; i < element->iov_len; ++i)
    sum += ((const unsigned char*)element->iov_base)[i];
  return sum;
}

REFCTRACE_NIF(iov_sum) {
  (void)argc;
  ErlNifIOVec* iovec = NULL;
  ERL_NIF_TERM tail;
  if (!enif_inspect_iovec(env, 64, argv[0], &tail, &iovec) || !enif_is_empty_list(env, tail))
    return enif_make_badarg(env);
  unsigned long sum = 0;
  for (int i = 0; i < iovec->iovcnt; ++i) {
    REFCTRACE_IOV_READ(&iovec->iov[i]);
    sum += SumElement(&iovec->iov[i]);
  }
  ErlNifIOQueue* q = enif_ioq_create(ERL_NIF_IOQ_NORMAL);
  if (q == NULL) return enif_make_badarg(env);
  unsigned long queued_sum = 0;
  if (enif_ioq_enqv(q, iovec, 0)) {
    int count;
    SysIOVec* queued = enif_ioq_peek(q, &count);
    for (int i = 0; i < count; ++i)
      queued_sum += SumElement(&queued[i]);
    enif_ioq_deq(q, enif_ioq_size(q), NULL);
  }
  enif_ioq_destroy(q);
  ErlNifIOVec* owned = NULL;
  unsigned long owned_sum = 0;
  if (enif_inspect_iovec(NULL, 64, argv[0], &tail, &owned)) {
    for (int i = 0; i < owned->iovcnt; ++i)
      owned_sum += SumElement(&owned->iov[i]);
    enif_free_iovec(owned);
  }
  if (queued_sum != sum || owned_sum != sum) return enif_make_badarg(env);
  return enif_make_ulong(env, sum);
}

/* iov_keep(IoList) then iov_first(): the first byte of the list's first
 * element, read in a later call. Correct: keep the byte. Seeded: keep the
 * element, whose bytes are only borrowed for the call (the test keeps the
 * list's large first binary alive, so the real read stays safe). */
static SysIOVec kept_element;
static unsigned char kept_first;

REFCTRACE_NIF(iov_keep) {
  (void)argc;
  ErlNifIOVec* iovec = NULL;
  ERL_NIF_TERM tail;
  if (!enif_inspect_iovec(env, 64, argv[0], &tail, &iovec) || iovec->iovcnt == 0)
    return enif_make_badarg(env);
  if (bug == kIovKept) {
    kept_element = iovec->iov[0];
    return Ok(env);
  }
  REFCTRACE_IOV_READ(&iovec->iov[0]);
  kept_first = ((const unsigned char*)iovec->iov[0].iov_base)[0];
  return Ok(env);
}

REFCTRACE_NIF(iov_first) {
  (void)argc, (void)argv;
  if (bug != kIovKept) return enif_make_uint(env, kept_first);
  REFCTRACE_IOV_READ(&kept_element); /* seed-iov-kept:borrow-expired */
  return enif_make_uint(env, ((const unsigned char*)kept_element.iov_base)[0]);
}

/* ---- environments ---------------------------------------------------- */

/* notify(Pid, N): N messages {tick, I} to Pid through one message
 * environment, cleared after each send. */
REFCTRACE_NIF(notify) {
  (void)argc;
  ErlNifPid to;
  unsigned count;
  if (!enif_get_local_pid(env, argv[0], &to) || !enif_get_uint(env, argv[1], &count))
    return enif_make_badarg(env);
  ErlNifEnv* msg_env = enif_alloc_env();
  for (unsigned i = 0; i < count; ++i) {
    ERL_NIF_TERM msg =
        enif_make_tuple2(msg_env, enif_make_atom(msg_env, "tick"), enif_make_uint(msg_env, i));
    enif_send(env, &to, msg_env, msg); /* seed-env-not-cleared:env-reused */
    if (bug != kEnvNotCleared) enif_clear_env(msg_env);
  }
  enif_free_env(msg_env);
  return Ok(env);
}

/* send_bin(Pid, Size): {bin, Binary} to Pid, the binary made into a
 * message environment and sent with enif_send (its reference moves into the
 * message; the receiver holds it from then on). */
REFCTRACE_NIF(send_bin) {
  (void)argc;
  ErlNifPid to;
  unsigned size;
  if (!enif_get_local_pid(env, argv[0], &to) || !enif_get_uint(env, argv[1], &size))
    return enif_make_badarg(env);
  ErlNifEnv* msg_env = enif_alloc_env();
  ErlNifBinary bin;
  if (!enif_alloc_binary(size, &bin)) {
    enif_free_env(msg_env);
    return enif_make_badarg(env);
  }
  Fill(&bin, 'e');
  ERL_NIF_TERM msg =
      enif_make_tuple2(msg_env, enif_make_atom(msg_env, "bin"), enif_make_binary(msg_env, &bin));
  int sent = enif_send(env, &to, msg_env, msg);
  enif_free_env(msg_env);
  return sent ? Ok(env) : enif_make_badarg(env);
}

/* copy_send(Term, Pid): {copy, Term} to Pid, Term copied with
 * enif_make_copy into a message environment (a binary in it gets one more
 * reference, the copy's). */
REFCTRACE_NIF(copy_send) {
  (void)argc;
  ErlNifPid to;
  if (!enif_get_local_pid(env, argv[1], &to)) return enif_make_badarg(env);
  ErlNifEnv* msg_env = enif_alloc_env();
  ERL_NIF_TERM copy = enif_make_copy(msg_env, argv[0]);
  int sent = enif_send(env, &to, msg_env,
                       enif_make_tuple2(msg_env, enif_make_atom(msg_env, "copy"), copy));
  enif_free_env(msg_env);
  return sent ? Ok(env) : enif_make_badarg(env);
}

/* env_scratch(): a process-independent environment used and freed. */
REFCTRACE_NIF(env_scratch) {
  (void)argc, (void)argv;
  ErlNifEnv* scratch = enif_alloc_env(); /* seed-env-leak:leak */
  ERL_NIF_TERM list =
      enif_make_list2(scratch, enif_make_int(scratch, 1), enif_make_int(scratch, 2));
  unsigned length = 0;
  enif_get_list_length(scratch, list, &length);
  if (bug != kEnvLeak) enif_free_env(scratch);
  return enif_make_uint(env, length);
}

/* copy_to_env(Res): a resource term copied into an environment of its own. */
REFCTRACE_NIF(copy_to_env) {
  (void)argc;
  ErlNifEnv* holder = enif_alloc_env();
  ERL_NIF_TERM copy = enif_make_copy(holder, argv[0]);
  Buffer* buffer;
  int found = enif_get_resource(holder, copy, buffer_type, (void**)&buffer);
  enif_free_env(holder);
  return found ? Ok(env) : enif_make_badarg(env);
}

/* ---- resources ------------------------------------------------------- */

static void BufferDtor(ErlNifEnv* env, void* obj) {
  (void)env, (void)obj;
  atomic_fetch_sub(&live_resources, 1);
}

static void WatcherDtor(ErlNifEnv* env, void* obj) {
  (void)env, (void)obj;
  atomic_fetch_sub(&live_resources, 1);
}

static void WatcherDown(ErlNifEnv* env, void* obj, ErlNifPid* pid, ErlNifMonitor* mon) {
  (void)env, (void)obj, (void)pid, (void)mon;
  atomic_fetch_add(&downs, 1);
}

/* res_new(): a buffer resource; the term holds it, the NIF lets go. */
REFCTRACE_NIF(res_new) {
  (void)argc, (void)argv;
  Buffer* buffer = enif_alloc_resource(buffer_type, sizeof *buffer); /* seed-res-leak:leak */
  atomic_fetch_add(&live_resources, 1);
  REFCTRACE_RES_USE(buffer);
  memset(buffer->bytes, 'r', sizeof buffer->bytes);
  ERL_NIF_TERM term = enif_make_resource(env, buffer);
  if (bug == kResLeak) return term;
  enif_release_resource(buffer);
  if (bug == kResDoubleRelease) {
    REFCTRACE_DEFUSE_NEXT();
    enif_release_resource(buffer); /* seed-res-double-release:double-free */
  }
  return term;
}

/* res_bin(Res): a binary term over the resource's bytes. */
REFCTRACE_NIF(res_bin) {
  (void)argc;
  Buffer* buffer;
  if (!enif_get_resource(env, argv[0], buffer_type, (void**)&buffer)) return enif_make_badarg(env);
  REFCTRACE_RES_USE(buffer);
  return enif_make_resource_binary(env, buffer, buffer->bytes, sizeof buffer->bytes);
}

/* keep_release(Res): a reference of the NIF's own for a while. */
REFCTRACE_NIF(keep_release) {
  (void)argc;
  Buffer* buffer;
  if (!enif_get_resource(env, argv[0], buffer_type, (void**)&buffer)) return enif_make_badarg(env);
  enif_keep_resource(buffer);
  REFCTRACE_RES_USE(buffer);
  unsigned first = buffer->bytes[0];
  enif_release_resource(buffer);
  return enif_make_uint(env, first);
}

/* res_temp(): a resource used only inside the call, never a term. */
REFCTRACE_NIF(res_temp) {
  (void)argc, (void)argv;
  Buffer* buffer = enif_alloc_resource(buffer_type, sizeof *buffer);
  atomic_fetch_add(&live_resources, 1);
  memset(buffer->bytes, 't', sizeof buffer->bytes);
  REFCTRACE_RES_USE(buffer);
  enif_release_resource(buffer);
  /* Seeded: the use after the release is only marked, not made (the
   * emulator frees the object once its destructor has run). */
  if (bug == kResUseAfterRelease)
    REFCTRACE_RES_USE(buffer); /* seed-res-use-after-release:use-after-free */
  return Ok(env);
}

/* watch(Pid): a watcher resource monitoring Pid (its down callback runs
 * when Pid exits). */
REFCTRACE_NIF(watch) {
  (void)argc;
  ErlNifPid pid;
  if (!enif_get_local_pid(env, argv[0], &pid)) return enif_make_badarg(env);
  void* watcher = enif_alloc_resource(watcher_type, 16);
  atomic_fetch_add(&live_resources, 1);
  int monitored = enif_monitor_process(env, watcher, &pid, NULL) == 0;
  ERL_NIF_TERM term = enif_make_resource(env, watcher);
  enif_release_resource(watcher);
  return monitored ? term : enif_make_badarg(env);
}

/* A pipe whose read end is selected for input (enif_select). */
typedef struct {
  int fds[2];
} Pipe;

static void PipeDtor(ErlNifEnv* env, void* obj) {
  (void)env, (void)obj;
  atomic_fetch_sub(&live_resources, 1);
}

/* The stop callback: the emulator no longer polls the fd, so it may close. */
static void PipeStop(ErlNifEnv* env, void* obj, ErlNifEvent event, int is_direct_call) {
  (void)env, (void)event, (void)is_direct_call;
  Pipe* pipe_ends = obj;
  REFCTRACE_RES_USE(pipe_ends);
  close(pipe_ends->fds[0]);
  close(pipe_ends->fds[1]);
}

/* pipe_open(): a pipe resource selected for input; the term and the
 * select hold it, the NIF lets go. */
REFCTRACE_NIF(pipe_open) {
  (void)argc, (void)argv;
  Pipe* pipe_ends =
      enif_alloc_resource(pipe_type, sizeof *pipe_ends); /* seed-select-never-stopped:leak */
  atomic_fetch_add(&live_resources, 1);
  REFCTRACE_RES_USE(pipe_ends);
  if (pipe(pipe_ends->fds) != 0) {
    pipe_ends->fds[0] = pipe_ends->fds[1] = -1;
    enif_release_resource(pipe_ends);
    return enif_make_badarg(env);
  }
  int selected = enif_select(env, (ErlNifEvent)pipe_ends->fds[0], ERL_NIF_SELECT_READ, pipe_ends,
                             NULL, enif_make_atom(env, "undefined")) >= 0;
  ERL_NIF_TERM term = enif_make_resource(env, pipe_ends);
  enif_release_resource(pipe_ends);
  return selected ? term : enif_make_badarg(env);
}

/* pipe_close(Pipe): stops the select; the stop callback closes the fds. */
REFCTRACE_NIF(pipe_close) {
  (void)argc;
  Pipe* pipe_ends;
  if (!enif_get_resource(env, argv[0], pipe_type, (void**)&pipe_ends)) return enif_make_badarg(env);
  REFCTRACE_RES_USE(pipe_ends);
  if (bug == kSelectNeverStopped) {
    /* Seeded: closed behind the emulator's back; the select keeps the object. */
    close(pipe_ends->fds[0]);
    close(pipe_ends->fds[1]);
    return Ok(env);
  }
  int stopped = enif_select(env, (ErlNifEvent)pipe_ends->fds[0], ERL_NIF_SELECT_STOP, pipe_ends,
                            NULL, enif_make_atom(env, "undefined")) >= 0;
  return stopped ? Ok(env) : enif_make_badarg(env);
}

/* ---- state kept for the library's life ------------------------------ */

static void KeptDtor(ErlNifEnv* env, void* obj) {
  (void)env, (void)obj;
}

/* send_kept(Pid): {kept, C} to Pid, built in the kept environment (C: the
 * cache's first byte); the environment is cleared for the next one. */
REFCTRACE_NIF(send_kept) {
  (void)argc;
  ErlNifPid to;
  if (!enif_get_local_pid(env, argv[0], &to)) return enif_make_badarg(env);
  Priv* priv = enif_priv_data(env);
  ErlNifEnv* msg_env = priv->kept->msg_env;
  REFCTRACE_RES_USE(priv->kept);
  REFCTRACE_BIN_READ(&cache);
  ERL_NIF_TERM msg = enif_make_tuple2(msg_env, enif_make_atom(msg_env, "kept"),
                                      enif_make_uint(msg_env, cache.data[0]));
  int sent = enif_send(env, &to, msg_env, msg);
  enif_clear_env(msg_env);
  return sent ? Ok(env) : enif_make_badarg(env);
}

/* remember(): a new resource the library keeps, in place of the last one,
 * which it lets go. Seeded: the last one's pointer is overwritten without
 * its release (lost: a leak, not held). */
REFCTRACE_NIF(remember) {
  (void)argc, (void)argv;
  Priv* priv = enif_priv_data(env);
  Buffer* buffer = enif_alloc_resource(kept_type, sizeof *buffer); /* seed-remember-lost:leak */
  REFCTRACE_RES_USE(buffer);
  memset(buffer->bytes, 'k', sizeof buffer->bytes);
  if (priv->remembered != NULL && bug != kRememberLost) enif_release_resource(priv->remembered);
  priv->remembered = buffer;
  return Ok(env);
}

/* stash(): a resource the library keeps only through the C library's heap:
 * priv_data (enif_alloc) -> slots (calloc) -> node (realloc(NULL), then
 * grown by realloc) -> resource, held at exit. On the way, the calls the
 * recorder's malloc wrappers must get right: a realloc the C library
 * refuses (the node stays, followed), realloc(p, 0), a free of a block
 * allocated around the wrapper. Seeded: the node is freed (the slot still
 * points at it) and the resource never released: lost, a leak, not held. */
REFCTRACE_NIF(stash) {
  (void)argc, (void)argv;
  Priv* priv = enif_priv_data(env);
  StashNode** slots = calloc(4, sizeof *slots);
  StashNode* node = realloc(NULL, sizeof *node);
  if (slots == NULL || node == NULL) return enif_make_badarg(env);
  node->buffer = enif_alloc_resource(kept_type, sizeof *node->buffer); /* seed-stash-lost:leak */
  REFCTRACE_RES_USE(node->buffer);
  memset(node->buffer->bytes, 's', sizeof node->buffer->bytes);
  node->label = strdup("stash");
  node->uses = 1;
  StashNode* grown = realloc(node, 4 * sizeof *node);
  if (grown == NULL) return enif_make_badarg(env);
  node = grown;
  volatile size_t too_big = SIZE_MAX - 1; /* refused: past PTRDIFF_MAX */
  if (realloc(node, too_big) != NULL) abort();
  free(realloc(malloc(16), 0));
  free((malloc)(32)); /* (malloc): not the macro, a block the recorder never saw */
  slots[1] = node;
  if (bug == kStashLost) {
    free(node->label);
    free(node); /* its slot left dangling, as such a bug goes */
  }
  priv->stash = slots;
  return Ok(env);
}

/* stash_in_cxx(): a resource the library keeps only through objects from
 * C++ new (sample_nif_cxx.cc): held at exit, since the recorder's
 * refctrace_nif_new.cc follows them. */
REFCTRACE_NIF(stash_in_cxx) {
  (void)argc, (void)argv;
  Priv* priv = enif_priv_data(env);
  Buffer* buffer = enif_alloc_resource(kept_type, sizeof *buffer);
  memset(buffer->bytes, 'x', sizeof buffer->bytes);
  priv->in_cxx = sample_nif_keep_in_cxx(buffer);
  return Ok(env);
}

/* stash_in_mapping(): a resource the library keeps only in memory the
 * recorder cannot find by itself (a page of its own mapping, whose address
 * it keeps only XORed): named to the scan with REFCTRACE_HELD_ROOT, so it
 * is held at exit ("static"), not a leak. */
static uintptr_t mapping_disguised;
REFCTRACE_NIF(stash_in_mapping) {
  (void)argc, (void)argv;
  void** page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) return enif_make_badarg(env);
  Buffer* buffer = enif_alloc_resource(kept_type, sizeof *buffer);
  memset(buffer->bytes, 'm', sizeof buffer->bytes);
  page[3] = buffer;
  mapping_disguised = (uintptr_t)page ^ (uintptr_t)0x5a5a5a5a5a5a5a5aull;
  REFCTRACE_HELD_ROOT(page, 4096);
  return Ok(env);
}

/* fork_exit(): a child of the emulator makes a call and exits (exit(3):
 * the recorder's clean exit runs in it); ok once it is gone (the emulator
 * may reap it first: its end is the pipe's). The child writes nothing: no
 * line, no held line, no cut of the parent's file. */
REFCTRACE_NIF(fork_exit) {
  (void)argc, (void)argv;
  int ends[2];
  if (pipe2(ends, O_CLOEXEC) != 0) return enif_make_badarg(env);
  pid_t child = fork();
  if (child == 0) {
    ErlNifBinary bin;
    if (enif_alloc_binary(100, &bin)) Fill(&bin, 'f');
    exit(0);
  }
  close(ends[1]);
  char byte;
  while (child > 0 && read(ends[0], &byte, 1) != 0 && errno == EINTR) {
  }
  close(ends[0]);
  if (child > 0) waitpid(child, NULL, 0);
  return child > 0 ? Ok(env) : enif_make_badarg(env);
}

/* counts(): {live resources, downs}; not recorded (plain atomics). */
REFCTRACE_NIF(counts) {
  (void)argc, (void)argv;
  return enif_make_tuple2(env, enif_make_long(env, atomic_load(&live_resources)),
                          enif_make_long(env, atomic_load(&downs)));
}

/* crash(): a call that dies inside (the trace must hold every line up to
 * the abort, the binary's allocation included). */
REFCTRACE_NIF(crash) {
  (void)env, (void)argc, (void)argv;
  ErlNifBinary bin;
  if (enif_alloc_binary(1000, &bin)) /* seed-crash:leak */
    Fill(&bin, 'c');
  abort();
}

/* load_info 0: everything kept for life; 1: no kept resource (a library
 * with none is unloaded at the purge of its module, refctrace_nif_e2e's
 * `unloaded` run; with one, the emulator waits for the resource's end); 2:
 * nothing kept (the `crash` run: a crash has no scan at exit, so what is
 * kept would be reported as leaks there). */
static int Load(ErlNifEnv* env, void** priv, ERL_NIF_TERM info) {
  int keep = 0;
  enif_get_int(env, info, &keep);
  buffer_type =
      enif_open_resource_type(env, NULL, "sample_buffer", BufferDtor, ERL_NIF_RT_CREATE, NULL);
  ErlNifResourceTypeInit init = {.dtor = WatcherDtor, .down = WatcherDown};
  watcher_type = enif_open_resource_type_x(env, "sample_watcher", &init, ERL_NIF_RT_CREATE, NULL);
  ErlNifResourceTypeInit pipe_init = {.dtor = PipeDtor, .stop = PipeStop};
  pipe_type = enif_open_resource_type_x(env, "sample_pipe", &pipe_init, ERL_NIF_RT_CREATE, NULL);
  kept_type = enif_open_resource_type(env, NULL, "sample_kept", KeptDtor, ERL_NIF_RT_CREATE, NULL);
  if (buffer_type == NULL || watcher_type == NULL || pipe_type == NULL || kept_type == NULL)
    return 1;
  Priv* state = enif_alloc(sizeof *state);
  if (state == NULL) return 1;
  state->remembered = NULL;
  state->kept = NULL;
  state->stash = NULL;
  state->in_cxx = NULL;
  if (keep == 0) {
    state->kept = enif_alloc_resource(kept_type, sizeof *state->kept);
    state->kept->msg_env = enif_alloc_env();
    memset(state->kept->bytes, 'k', sizeof state->kept->bytes);
    REFCTRACE_RES_USE(state->kept);
  }
  if (keep != 2) {
    if (!enif_alloc_binary(256, &cache)) return 1;
    Fill(&cache, 'c');
  }
  *priv = state;
  return 0;
}

static ErlNifFunc nif_funcs[] = {{"set_bug", 1, set_bug, 0},
                                 {"make_bin", 1, make_bin, 0},
                                 {"scratch", 1, scratch, 0},
                                 {"grow", 1, grow, 0},
                                 {"grow_owned", 0, grow_owned, 0},
                                 {"checksum", 1, checksum, 0},
                                 {"keep_view", 1, keep_view, 0},
                                 {"use_view", 0, use_view, 0},
                                 {"new_bin", 1, new_bin, 0},
                                 {"t2b", 1, t2b, 0},
                                 {"ioq", 1, ioq, 0},
                                 {"iov_sum", 1, iov_sum, 0},
                                 {"iov_keep", 1, iov_keep, 0},
                                 {"iov_first", 0, iov_first, 0},
                                 {"notify", 2, notify, 0},
                                 {"send_bin", 2, send_bin, 0},
                                 {"copy_send", 2, copy_send, 0},
                                 {"env_scratch", 0, env_scratch, 0},
                                 {"copy_to_env", 1, copy_to_env, 0},
                                 {"res_new", 0, res_new, 0},
                                 {"res_bin", 1, res_bin, 0},
                                 {"keep_release", 1, keep_release, 0},
                                 {"res_temp", 0, res_temp, 0},
                                 {"watch", 1, watch, 0},
                                 {"pipe_open", 0, pipe_open, 0},
                                 {"pipe_close", 1, pipe_close, 0},
                                 {"send_kept", 1, send_kept, 0},
                                 {"remember", 0, remember, 0},
                                 {"stash", 0, stash, 0},
                                 {"stash_in_cxx", 0, stash_in_cxx, 0},
                                 {"stash_in_mapping", 0, stash_in_mapping, 0},
                                 {"fork_exit", 0, fork_exit, 0},
                                 {"counts", 0, counts, 0},
                                 {"crash", 0, crash, 0}};

REFCTRACE_NIF_INIT(sample_nif, nif_funcs, Load, NULL, NULL, NULL)
