// sample_nif_cxx.cc: sample_nif's C++ part. A resource the library keeps only
// through objects from C++ `new`: priv_data -> a KeptInCxx -> its vector's
// buffer -> the resource. recorder/refctrace_nif_new.cc, linked into the
// library, follows both blocks, so the resource is held at exit, not a leak.
#include <string>
#include <vector>

namespace {

struct KeptInCxx {
  std::string label;
  std::vector<void*> resources;  // the buffer comes from std::allocator: new
};

}  // namespace

extern "C" void* sample_nif_keep_in_cxx(void* resource) {
  auto* kept = new KeptInCxx{"kept through C++ new (longer than a short string)", {}};
  kept->resources.push_back(resource);
  return kept;
}
