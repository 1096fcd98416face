#include "cli/exit_status.h"

namespace refctrace::cli {

int CheckExitStatus(const render::Totals& totals, FailOn fail_on, bool run_failed) {
  if (totals.input_errors || run_failed) return kExitInputError;
  if (totals.errors || (fail_on == FailOn::kWarning && totals.warnings)) return kExitFindings;
  return kExitClean;
}

}  // namespace refctrace::cli
