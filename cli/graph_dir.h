// `check --graph-dir DIR`: one SVG per binary incarnation with a finding.
#pragma once

#include <ostream>
#include <string>

#include "model/model.h"
#include "render/report.h"

namespace refctrace::cli {

// Replays `report`'s input again (a file; standard input cannot be read
// twice) and writes the pictures into `dir`, created if missing. Names each
// file on `names`; problems go to `errors`. Returns false if a file could not
// be written. `input_prefix`: start file names with the input's name (for
// several inputs).
bool WriteFindingGraphs(const render::InputReport& report, const std::string& dir,
                        bool input_prefix, const model::ModelOptions& options, std::ostream& names,
                        std::ostream& errors);

}  // namespace refctrace::cli
