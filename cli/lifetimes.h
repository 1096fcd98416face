// Replays an input to collect the lifetimes `graph`, `show` and
// `check --graph-dir` draw: twice for a file (the first pass picks them),
// once for standard input.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/lifetime_recorder.h"
#include "model/model.h"
#include "render/report.h"

namespace refctrace::cli {

struct LifetimeRequest {
  std::vector<model::BinSelector> bins;  // empty: any binary
  bool only_findings = false;
  size_t max_lifetimes = 12;
  size_t head_steps = 16;  // steps kept per incarnation: first ...
  size_t tail_steps = 32;  // ... and last
};

struct CollectedLifetimes {
  render::InputReport report;
  std::vector<model::Lifetime> lifetimes;  // in start order
  uint64_t candidates = 0;                 // incarnations the request selects
  uint64_t left_out = 0;                   // of those, not collected (max_lifetimes)
  uint64_t left_out_with_findings = 0;
  bool one_pass = false;  // standard input: picked in start order, not by findings
};

CollectedLifetimes CollectLifetimes(const std::string& path, const LifetimeRequest& request,
                                    const model::ModelOptions& options);

// "12 of 340 binaries drawn; 328 left out (5 with findings): ..." or empty.
std::string LeftOutMessage(const CollectedLifetimes& collected, const LifetimeRequest& request,
                           std::string_view verb);

}  // namespace refctrace::cli
