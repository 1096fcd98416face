// What a `check` run found, per input: the data every renderer reads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/finding.h"
#include "model/model.h"
#include "trace/input_error.h"

namespace refctrace::render {

struct InputReport {
  std::string path;  // as given on the command line; "-" for stdin
  uint64_t events = 0;
  bool complete = true;  // false when an input error cut it short
  std::optional<trace::InputError> error;
  std::vector<model::Finding> findings;  // in report order
  model::ModelStats stats;
};

struct Totals {
  uint64_t errors = 0;
  uint64_t warnings = 0;
  uint64_t binaries = 0;
  uint64_t leaked_bytes = 0;
  uint64_t held_by_processes = 0;
  uint64_t input_errors = 0;
  uint64_t events = 0;
};

Totals ComputeTotals(const std::vector<InputReport>& inputs);

}  // namespace refctrace::render
