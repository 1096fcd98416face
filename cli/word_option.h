// An option that takes one of a fixed set of words (--format text|json|...)
// and stores it as an enum, through a CLI11 transformer: the command's code
// compares enums, never strings, and a word outside the set is a usage error
// that lists the set ("--format: xml not in {text,json,sarif,github}").
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace refctrace::cli {

template <class Enum>
using WordTable = std::vector<std::pair<std::string, Enum>>;

// Adds option `name` storing into `*into`. Several words may name one value
// (aliases); the help shows the set, and the default is the first word for
// the value `*into` holds when the option is added (unless `show_default` is
// false: a default that depends on other options).
template <class Enum>
CLI::Option* AddWordOption(CLI::App& app, const std::string& name, Enum* into,
                           const WordTable<Enum>& words, const std::string& description,
                           bool show_default = true) {
  static_assert(std::is_enum_v<Enum>);
  std::string set = "{";
  for (const auto& [word, value] : words)
    set += (set.size() > 1 ? "," : "") + word;
  set += "}";
  CLI::Option* option = app.add_option(name, *into, description);
  // CLI11 reads an enum as its number: the transformer turns the word into it.
  option->transform(CLI::Validator(
      [words, set](std::string& text) -> std::string {
        for (const auto& [word, value] : words) {
          if (text == word) {
            text = std::to_string(static_cast<std::underlying_type_t<Enum>>(value));
            return {};
          }
        }
        return text + " not in " + set;
      },
      set, "word"));
  option->type_name("TEXT");
  if (show_default) {
    for (const auto& [word, value] : words) {
      if (value == *into) {
        option->default_str(word);
        break;
      }
    }
  }
  return option;
}

}  // namespace refctrace::cli
