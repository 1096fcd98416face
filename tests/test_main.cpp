// The unit tests' main: installs what the tool's main() installs that the
// tests rely on, then runs doctest.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "render/graphviz.h"

int main(int argc, char** argv) {
  // Graphviz's messages go into RenderGraph's errors, not onto stderr.
  refctrace::render::CaptureGraphvizMessages();
  doctest::Context context(argc, argv);
  return context.run();
}
