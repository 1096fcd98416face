#include "cli/file_error.h"

namespace refctrace::cli {

void PrintFileError(const trace::InputError& error, std::ostream& out) {
  out << error.file;
  if (error.line) out << ":" << error.line << ":" << error.column;
  out << ": error: " << error.message << "\n";
}

}  // namespace refctrace::cli
