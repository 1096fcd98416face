/* malloc_wrap_opt_out.c: a file whose struct has members named malloc and
 * free, called as such: with REFCTRACE_NO_MALLOC_WRAP before the include it
 * compiles, and its calls stay the C library's. Compiled only;
 * malloc_wrap.cmake checks the symbols (docs/decisions.md 191). */
#define REFCTRACE_NO_MALLOC_WRAP
#include <stdlib.h>

#include "refctrace_nif.h"

typedef struct {
  void* (*malloc)(size_t size);
  void (*free)(void* block);
} Allocator;

void* malloc_wrap_opt_out(const Allocator* with, size_t size) {
  void* block = with->malloc(size);
  with->free(block);
  return malloc(size);
}
