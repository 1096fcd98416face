// refctrace_nif_new.cc: C++ `new` and `delete` for a NIF library's own code,
// so the held scan at exit (refctrace_held.h) follows the blocks they give
// as it follows malloc's (docs/recording.md "C++ new"). Compiled into a
// C++ NIF library next to refctrace_nif.c, with -DREFCTRACE; without it
// this file is empty.
//
// The replacements are hidden: the static linker binds the library's own
// calls to them, and the emulator and every other C++ library keep the
// global ones. Both sides are malloc and free underneath (as libstdc++'s),
// so a block libstdc++'s compiled code allocated and the library's inline
// code deletes (or the other way round) is freed correctly: a delete of a
// block the table does not know just frees it, and a block deleted by the
// global operator stays followed, read safely, as a block freed behind the
// malloc wrappers' back. The aligned forms (std::align_val_t, C++17) are
// replaced too, over posix_memalign: libstdc++'s own aligned forms are
// aligned_alloc and free underneath, so they pair with these either way.
#ifdef REFCTRACE

#include <cstddef>
#include <cstdlib>
#include <new>

extern "C" {
void* refctrace_malloc(std::size_t size);
void refctrace_free(void* ptr);
int refctrace_posix_memalign(void** block, std::size_t alignment, std::size_t size);
}

// <new> declares these with default visibility, and GCC ignores a later
// visibility attribute on them; the assembler's .hidden applies whatever
// the declarations said. Names for a 64-bit size_t (unsigned long: `m`).

__asm__(
    ".hidden _Znwm\n.hidden _Znam\n.hidden _ZnwmRKSt9nothrow_t\n.hidden _ZnamRKSt9nothrow_t\n"
    ".hidden _ZdlPv\n.hidden _ZdaPv\n.hidden _ZdlPvm\n.hidden _ZdaPvm\n"
    ".hidden _ZdlPvRKSt9nothrow_t\n.hidden _ZdaPvRKSt9nothrow_t\n");
#if defined(__cpp_aligned_new)
__asm__(
    ".hidden _ZnwmSt11align_val_t\n.hidden _ZnamSt11align_val_t\n"
    ".hidden _ZnwmSt11align_val_tRKSt9nothrow_t\n.hidden _ZnamSt11align_val_tRKSt9nothrow_t\n"
    ".hidden _ZdlPvSt11align_val_t\n.hidden _ZdaPvSt11align_val_t\n"
    ".hidden _ZdlPvmSt11align_val_t\n.hidden _ZdaPvmSt11align_val_t\n"
    ".hidden _ZdlPvSt11align_val_tRKSt9nothrow_t\n.hidden _ZdaPvSt11align_val_tRKSt9nothrow_t\n");
#endif
static_assert(sizeof(std::size_t) == sizeof(unsigned long), "the .hidden names above");

namespace {

// One followed block: malloc's, or posix_memalign's for an `alignment`
// (a power of two, as std::align_val_t always is) above malloc's own.
void* FollowedBlock(std::size_t size, std::size_t alignment) {
  if (alignment <= alignof(std::max_align_t)) return refctrace_malloc(size);
  void* block = nullptr;
  return refctrace_posix_memalign(&block, alignment, size) == 0 ? block : nullptr;
}

// As the standard's operator new: retry through the new-handler, else throw
// (abort in a library built with -fno-exceptions).
void* AllocateFollowed(std::size_t size, std::size_t alignment = 0) {
  if (size == 0) size = 1;
  for (;;) {
    if (void* block = FollowedBlock(size, alignment)) return block;
    std::new_handler handler = std::get_new_handler();
#if defined(__cpp_exceptions)
    if (handler == nullptr) throw std::bad_alloc();
#else
    if (handler == nullptr) std::abort();
#endif
    handler();
  }
}

void* AllocateFollowedOrNull(std::size_t size, std::size_t alignment = 0) noexcept {
#if defined(__cpp_exceptions)
  try {
    return AllocateFollowed(size, alignment);
  } catch (...) {
    return nullptr;
  }
#else
  if (size == 0) size = 1;
  return FollowedBlock(size, alignment);
#endif
}

}  // namespace

void* operator new(std::size_t size) {
  return AllocateFollowed(size);
}
void* operator new[](std::size_t size) {
  return AllocateFollowed(size);
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return AllocateFollowedOrNull(size);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return AllocateFollowedOrNull(size);
}

void operator delete(void* block) noexcept {
  refctrace_free(block);
}
void operator delete[](void* block) noexcept {
  refctrace_free(block);
}
void operator delete(void* block, std::size_t) noexcept {
  refctrace_free(block);
}
void operator delete[](void* block, std::size_t) noexcept {
  refctrace_free(block);
}
void operator delete(void* block, const std::nothrow_t&) noexcept {
  refctrace_free(block);
}
void operator delete[](void* block, const std::nothrow_t&) noexcept {
  refctrace_free(block);
}

#if defined(__cpp_aligned_new)
void* operator new(std::size_t size, std::align_val_t alignment) {
  return AllocateFollowed(size, static_cast<std::size_t>(alignment));
}
void* operator new[](std::size_t size, std::align_val_t alignment) {
  return AllocateFollowed(size, static_cast<std::size_t>(alignment));
}
void* operator new(std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  return AllocateFollowedOrNull(size, static_cast<std::size_t>(alignment));
}
void* operator new[](std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  return AllocateFollowedOrNull(size, static_cast<std::size_t>(alignment));
}

void operator delete(void* block, std::align_val_t) noexcept {
  refctrace_free(block);
}
void operator delete[](void* block, std::align_val_t) noexcept {
  refctrace_free(block);
}
void operator delete(void* block, std::size_t, std::align_val_t) noexcept {
  refctrace_free(block);
}
void operator delete[](void* block, std::size_t, std::align_val_t) noexcept {
  refctrace_free(block);
}
void operator delete(void* block, std::align_val_t, const std::nothrow_t&) noexcept {
  refctrace_free(block);
}
void operator delete[](void* block, std::align_val_t, const std::nothrow_t&) noexcept {
  refctrace_free(block);
}
#endif  // __cpp_aligned_new

#endif  // REFCTRACE
