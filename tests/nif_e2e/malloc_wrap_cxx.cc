// malloc_wrap_cxx.cc: refctrace_nif.h included from C++ before the standard
// headers (a forced include, -include refctrace_nif.h, as tests/realnif
// records jiffy), then the C library's allocators called the ways C++ code
// calls them. Compiled only; malloc_wrap.cmake checks that each call
// reached the recorder's wrapper (refctrace_malloc_wrap.h,
// docs/decisions.md 191).
#include <cstdlib>
#include <cstring>
#include <ext/malloc_allocator.h>
#include <map>
#include <memory>
#include <string>
#include <vector>

extern "C" void* malloc_wrap_cxx(std::size_t size) {
  std::vector<int, __gnu_cxx::malloc_allocator<int>> through_allocator(4);
  std::map<std::string, int> unrelated{{"kept", 1}};
  void* block = std::malloc(size);
  block = std::realloc(block, 2 * size);
  std::free(block);
  char* copy = strdup("kept");
  ::free(copy);
  return std::calloc(unrelated.size() + through_allocator.size(), size);
}
