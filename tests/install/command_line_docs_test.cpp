// The man page and the bash completion are written from the App the tool parses with: an
// option added to a command appears in `--help`, in the man page and in the completion, and
// every option the tool has is in all three.
#include <doctest/doctest.h>

#include <CLI/CLI.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli/bash_completion.h"
#include "cli/command_line.h"
#include "cli/manual_page.h"
#include "cli/value_kind.h"
#include "cli/word_option.h"

namespace refctrace::cli {
namespace {

std::string ManualOf(const CLI::App& app) {
  std::ostringstream out;
  WriteManualPage(app, VersionText(), {}, out);
  return out.str();
}

std::string CompletionOf(const CLI::App& app) {
  std::ostringstream out;
  WriteBashCompletion(app, out);
  return out.str();
}

// "--max-live" as the man page spells it: bold, hyphens as minus signs.
std::string RoffName(const std::string& name) {
  std::string out = "\\fB";
  for (char c : name)
    out += c == '-' ? std::string("\\-") : std::string(1, c);
  return out + "\\fR";
}

enum class Shape { kRound, kSquare };

TEST_CASE(
    "command line docs: an option added to a command is in --help, the man page and the "
    "completion") {
  CLI::App app;
  DefineCommandLine(app);
  CLI::App* check = app.get_subcommand("check");
  const std::string before_man = ManualOf(app);
  const std::string before_completion = CompletionOf(app);
  CHECK(before_man.find(RoffName("--brand-new-option")) == std::string::npos);

  std::string value;
  check->add_option("--brand-new-option", value, "A brand new option's description")
      ->type_name(kFileValue);
  std::string id;
  check->add_option("--brand-new-id", id, "A brand new id option");
  Shape shape = Shape::kRound;
  AddWordOption(*check, "--brand-new-shape", &shape,
                WordTable<Shape>{{"round", Shape::kRound}, {"square", Shape::kSquare}},
                "A brand new word option");
  const std::string man = ManualOf(app);
  const std::string completion = CompletionOf(app);
  const std::string help = check->help();

  CHECK(help.find("--brand-new-option") != std::string::npos);
  CHECK(man.find(RoffName("--brand-new-option")) != std::string::npos);
  CHECK(man.find("A brand new option's description") != std::string::npos);
  CHECK(completion.find("--brand-new-option") != std::string::npos);
  CHECK(before_completion.find("--brand-new-option") == std::string::npos);
  // A FILE value completes to file names, a plain value to nothing, a word option to its words.
  CHECK(completion.find("--brand-new-option) COMPREPLY=($(compgen -f") != std::string::npos);
  CHECK(completion.find("--brand-new-id) :; return ;;") != std::string::npos);
  CHECK(completion.find("--brand-new-shape) COMPREPLY=($(compgen -W \"round square\"") !=
        std::string::npos);
}

TEST_CASE(
    "command line docs: every command and option of the tool is in the man page and the "
    "completion") {
  CLI::App app;
  DefineCommandLine(app);
  const std::string man = ManualOf(app);
  const std::string completion = CompletionOf(app);
  const auto commands = app.get_subcommands([](const CLI::App*) { return true; });
  REQUIRE(commands.size() >= 4);
  for (const CLI::App* command : commands) {
    CAPTURE(command->get_name());
    CHECK(man.find(".SS \"refctrace " + command->get_name() + "\"") != std::string::npos);
    CHECK(completion.find(command->get_name() + ")\n") != std::string::npos);
    for (const CLI::Option* option : command->get_options()) {
      for (const std::string& name : option->get_lnames()) {
        CAPTURE(name);
        CHECK(man.find(RoffName("--" + name)) != std::string::npos);
        CHECK(completion.find("--" + name) != std::string::npos);
      }
    }
  }
  CHECK(man.find(RoffName("--version")) != std::string::npos);
}

TEST_CASE("command line docs: the man page has no date, so the build is reproducible") {
  CLI::App app;
  DefineCommandLine(app);
  const std::string man = ManualOf(app);
  const size_t th = man.find("\n.TH REFCTRACE 1 \"\" ");
  CHECK(th != std::string::npos);
  CLI::App again;
  DefineCommandLine(again);
  CHECK(ManualOf(again) == man);
}

}  // namespace
}  // namespace refctrace::cli
