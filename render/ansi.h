// ANSI colours for terminal text, as gcc and clang colour their diagnostics.
#pragma once

#include <string>
#include <string_view>

namespace refctrace::render {

inline constexpr std::string_view kBold = "\033[1m";
inline constexpr std::string_view kRed = "\033[1;31m";
inline constexpr std::string_view kMagenta = "\033[1;35m";
inline constexpr std::string_view kCyan = "\033[1;36m";
inline constexpr std::string_view kGreen = "\033[1;32m";
inline constexpr std::string_view kDim = "\033[2m";
inline constexpr std::string_view kReset = "\033[0m";

// Wraps text in an SGR sequence when colour is on; plain text otherwise.
class Painter {
 public:
  explicit Painter(bool color) : color_(color) {}
  std::string operator()(std::string_view sgr, std::string_view text) const {
    if (!color_) return std::string(text);
    std::string s(sgr);
    s += text;
    s += kReset;
    return s;
  }

 private:
  bool color_;
};

}  // namespace refctrace::render
