// Decides whether output to a terminal gets colour (--color auto|always|never).
#pragma once

#include <string>

namespace refctrace::cli {

// "auto" colours a terminal unless NO_COLOR is set or TERM is "dumb".
bool UseColor(const std::string& mode, int fd);

}  // namespace refctrace::cli
