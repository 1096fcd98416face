/* recorder_bench_nif.c: the NIF half of the recorder's benchmark
 * (recorder_bench.sh). loop(K): K times enif_alloc_binary(64) then
 * enif_release_binary, each call timed alone (CLOCK_MONOTONIC around it);
 * returns the 2K durations in ns as a binary of native 32-bit integers
 * (made by the real enif_make_new_binary, unrecorded). malloc_loop(K): K
 * times malloc(64) then free, each pair timed as one (the held scan's
 * tracking of the C library's blocks, refctrace_malloc_wrap.h); K
 * durations. Built with or without -DREFCTRACE and the recorder. */
#include <stdlib.h>

#include "recorder_bench_clock.h"

#ifdef REFCTRACE
#include "refctrace_nif.h"
#else
#include <erl_nif.h>
#endif

static ERL_NIF_TERM Loop(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  (void)argc;
  long k;
  if (!enif_get_long(env, argv[0], &k) || k <= 0) return enif_make_badarg(env);
  ERL_NIF_TERM result;
  /* (name)(...): the function itself, not the recorder's macro. */
  uint32_t* samples =
      (uint32_t*)(enif_make_new_binary)(env, sizeof(uint32_t) * 2 * (size_t)k, &result);
  for (long i = 0; i < k; ++i) {
    struct timespec t;
    ErlNifBinary bin;
    clock_gettime(CLOCK_MONOTONIC, &t);
    enif_alloc_binary(64, &bin);
    samples[2 * i] = Since(&t);
    clock_gettime(CLOCK_MONOTONIC, &t);
    enif_release_binary(&bin);
    samples[2 * i + 1] = Since(&t);
  }
  return result;
}

static ERL_NIF_TERM MallocLoop(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  (void)argc;
  long k;
  if (!enif_get_long(env, argv[0], &k) || k <= 0) return enif_make_badarg(env);
  ERL_NIF_TERM result;
  uint32_t* samples = (uint32_t*)(enif_make_new_binary)(env, sizeof(uint32_t) * (size_t)k, &result);
  for (long i = 0; i < k; ++i) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    void* volatile block = malloc(64);
    free(block);
    samples[i] = Since(&t);
  }
  return result;
}

static ErlNifFunc functions[] = {{"loop", 1, Loop, 0}, {"malloc_loop", 1, MallocLoop, 0}};

ERL_NIF_INIT(recorder_bench_nif, functions, NULL, NULL, NULL, NULL)
