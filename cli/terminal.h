// Decides whether output to a terminal gets colour (--color auto|always|never).
#pragma once

#include <cstdint>

#include "cli/word_option.h"

namespace refctrace::cli {

enum class ColorMode : uint8_t { kAuto, kAlways, kNever };

inline const WordTable<ColorMode> kColorWords = {
    {"auto", ColorMode::kAuto}, {"always", ColorMode::kAlways}, {"never", ColorMode::kNever}};

// kAuto colours a terminal unless NO_COLOR is set or TERM is "dumb".
bool UseColor(ColorMode mode, int fd);

}  // namespace refctrace::cli
