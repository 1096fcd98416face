// How `check` prints an error in a file the user named (a suppressions file,
// a directory argument): compiler style, so editors can jump to it.
#pragma once

#include <ostream>

#include "trace/input_error.h"

namespace refctrace::cli {

// "FILE:LINE:COLUMN: error: MESSAGE", or "FILE: error: MESSAGE" when the
// error is not tied to a line.
void PrintFileError(const trace::InputError& error, std::ostream& out);

}  // namespace refctrace::cli
