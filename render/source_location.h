// A trace's `src` string ("my_drv.c:88", "src/x.c:12:5", "x.c") split into
// file, line and column, for formats that link to code (SARIF, GitHub).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace refctrace::render {

struct SourceLocation {
  std::string file;     // empty: the src was empty
  uint64_t line = 0;    // 0: unknown
  uint64_t column = 0;  // 0: unknown
};

SourceLocation ParseSrc(std::string_view src);

}  // namespace refctrace::render
