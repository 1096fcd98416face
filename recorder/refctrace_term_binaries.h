/* refctrace_term_binaries.h: every binary in a term, for the tracer module
 * (the binaries of a message or a port command, refctrace_tracer_nif.c) and
 * the NIF recorder (the binaries of a term enif_make_copy copied,
 * refctrace_nif.c). Not a public header: a static function, included once
 * by each. */
#ifndef REFCTRACE_TERM_BINARIES_H
#define REFCTRACE_TERM_BINARIES_H

#include <erl_nif.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"

/* Calls `visit` for every binary in `term` (tuples, lists, maps), depth
 * first, in the order the term shows them. */
typedef void (*BinaryVisitor)(void* context, const ErlNifBinary* bin);

static void VisitBinaries(ErlNifEnv* env, ERL_NIF_TERM term, int depth, BinaryVisitor visit,
                          void* context) {
  if (depth > 100) return;
  ErlNifBinary bin;
  int arity;
  const ERL_NIF_TERM* elements;
  ERL_NIF_TERM head, tail;
  if (enif_is_binary(env, term)) {
    if (enif_inspect_binary(env, term, &bin)) visit(context, &bin);
  } else if (enif_get_tuple(env, term, &arity, &elements)) {
    for (int i = 0; i < arity; ++i)
      VisitBinaries(env, elements[i], depth + 1, visit, context);
  } else if (enif_is_list(env, term)) {
    while (enif_get_list_cell(env, term, &head, &tail)) {
      VisitBinaries(env, head, depth + 1, visit, context);
      term = tail;
    }
    if (!enif_is_empty_list(env, term)) VisitBinaries(env, term, depth + 1, visit, context);
  } else if (enif_is_map(env, term)) {
    ErlNifMapIterator it;
    if (!enif_map_iterator_create(env, term, &it, ERL_NIF_MAP_ITERATOR_FIRST)) return;
    ERL_NIF_TERM key, value;
    while (enif_map_iterator_get_pair(env, &it, &key, &value)) {
      VisitBinaries(env, key, depth + 1, visit, context);
      VisitBinaries(env, value, depth + 1, visit, context);
      enif_map_iterator_next(env, &it);
    }
    enif_map_iterator_destroy(env, &it);
  }
}

#pragma GCC diagnostic pop

#endif /* REFCTRACE_TERM_BINARIES_H */
