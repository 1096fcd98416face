#include "cli/commands.h"

namespace refctrace::cli {

const std::vector<Command>& Commands() {
  static const std::vector<Command> commands = {
      {"check", "Replay traces against the refcount model and report every violation", SetupCheck},
  };
  return commands;
}

}  // namespace refctrace::cli
