// Which trace format this reader reads (docs/spec/trace-format.md). `refctrace --version` prints
// both numbers; the test install/version-names-format checks the revision against the "Version
// X.Y." line at the top of the spec, so a format change that forgets this file fails.
#pragma once

#include <string_view>

namespace refctrace::trace {

// The integer a trace's header carries as "refctrace": the only one this reader accepts.
inline constexpr int kSupportedFormatVersion = 1;

// The spec's revision: every revision of the same header version is read (additive changes or
// stricter checks; the spec's "Changes" list says which).
inline constexpr std::string_view kFormatRevision = "1.6";

}  // namespace refctrace::trace
