// sample_nif_cxx.cc: sample_nif's C++ part. A resource the library keeps only
// through objects from C++ `new`: priv_data -> a KeptInCxx -> its vector's
// buffer -> the resource. recorder/refctrace_nif_new.cc, linked into the
// library, follows both blocks, so the resource is held at exit, not a leak.
// KeptInCxx is over-aligned, so `new` takes the std::align_val_t form (the
// vector's buffer takes the plain one): both forms are on the path.
#include <string>
#include <vector>

namespace {

struct alignas(64) KeptInCxx {
  std::string label;
  std::vector<void*> resources;  // the buffer comes from std::allocator: new
};

}  // namespace

extern "C" void* sample_nif_keep_in_cxx(void* resource) {
  auto* kept = new KeptInCxx{"kept through C++ new (longer than a short string)", {}};
  kept->resources.push_back(resource);
  return kept;
}
