// A finding's identity across runs: the same bug in the driver gets the same
// fingerprint when the trace is recorded again, although addresses, process
// ids and event positions all change. SARIF's partialFingerprints and
// `check --baseline` both match findings by it.
#pragma once

#include <string>

#include "model/finding.h"

namespace refctrace::model {

// The fingerprint scheme. Version 2 added the functions (`func`) of the
// anchor and of the event that began the binary; fingerprints of different
// versions never match, and a baseline says which version it holds.
inline constexpr int kFingerprintVersion = 2;
// SARIF's partialFingerprints key for this version.
inline constexpr const char* kSarifFingerprintKey = "refctrace/v2";

// 16 lowercase hex digits. Built from the code, the anchor's operation, the
// anchor's `src` file, `func` and `stack` frames, and the file and function
// where the binary's life began (the first history step's `src` and `func`),
// all without line numbers or addresses, so editing the driver elsewhere
// leaves fingerprints alone. A trace without `src` falls back to the
// sequence of driver operations in the history, which is still free of
// addresses and timing.
std::string Fingerprint(const Finding& finding);

}  // namespace refctrace::model
