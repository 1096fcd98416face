/* refctrace_malloc_wrap.h: the C library's allocators as macros in a NIF
 * library's own source, so the held scan at exit (refctrace_held.h)
 * follows the blocks the library got from malloc, calloc, realloc, strdup,
 * strndup, posix_memalign and aligned_alloc, as it follows enif_alloc's: a
 * resource, binary or environment kept only through such a block is held,
 * not a leak. No line is written for them. Included by refctrace_nif.h
 * (with -DREFCTRACE only, never in refctrace_nif.c); not a header of its
 * own.
 *
 * Function-like macros: `malloc(n)` is replaced, `malloc` alone (a
 * function pointer, `(malloc)(n)`, `using ::malloc`) is not, and a block
 * freed through the real free stays followed (read with process_vm_readv,
 * so never faulted on). The headers that declare these functions come
 * first, so including them again later finds their guards, not the
 * macros. A name already defined as a macro (an allocator's prefix, a
 * libc's own) is left as it is. The inline code of a header read before
 * this one (std::malloc in a C++ standard header) keeps the C library's
 * calls: include refctrace_nif.h first, or force it (-include).
 *
 * A file where such a macro breaks the code (a struct member or method
 * named free or malloc called as one, `ops->free(p)`; a function of its
 * own named strdup, a portability shim) defines REFCTRACE_NO_MALLOC_WRAP
 * before the include (or -DREFCTRACE_NO_MALLOC_WRAP for the library):
 * that file's blocks are then not followed (a block it frees that another
 * file allocated just stays followed). */
#ifndef REFCTRACE_MALLOC_WRAP_H
#define REFCTRACE_MALLOC_WRAP_H

#ifndef REFCTRACE_NO_MALLOC_WRAP

#ifdef __cplusplus
#include <cstdlib> /* it #undefs malloc & co.: before the macros */
#include <cstring>
#else
#include <stdlib.h>
#include <string.h>
#endif
#if defined(__has_include)
#if __has_include(<malloc.h>)
#include <malloc.h> /* declares malloc again (glibc, musl) */
#endif
#endif

#ifdef __cplusplus
/* std::malloc(n) becomes std::refctrace_malloc((n)). */
namespace std {
using ::refctrace_aligned_alloc;
using ::refctrace_calloc;
using ::refctrace_free;
using ::refctrace_malloc;
using ::refctrace_realloc;
}  // namespace std
#endif

#ifndef malloc
#define malloc(size) refctrace_malloc((size))
#endif
#ifndef calloc
#define calloc(count, size) refctrace_calloc((count), (size))
#endif
#ifndef realloc
#define realloc(ptr, size) refctrace_realloc((ptr), (size))
#endif
#ifndef free
#define free(ptr) refctrace_free((ptr))
#endif
#ifndef strdup
#define strdup(text) refctrace_strdup((text))
#endif
#ifndef strndup
#define strndup(text, size) refctrace_strndup((text), (size))
#endif
#ifndef posix_memalign
#define posix_memalign(block, alignment, size) \
  refctrace_posix_memalign((block), (alignment), (size))
#endif
#ifndef aligned_alloc
#define aligned_alloc(alignment, size) refctrace_aligned_alloc((alignment), (size))
#endif

#endif /* REFCTRACE_NO_MALLOC_WRAP */

#endif /* REFCTRACE_MALLOC_WRAP_H */
