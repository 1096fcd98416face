#pragma once

// What an option's value is, as its CLI11 type name: --help shows it
// ("--baseline FILE"), and the bash completion chooses from it how to
// complete the value (file names, directory names, diagnostic codes, or
// nothing for an id or a number). One name per kind, so the two cannot drift.

namespace refctrace::cli {

inline constexpr const char* kFileValue = "FILE";   // a path to read or write ("-": a stream)
inline constexpr const char* kDirValue = "DIR";     // a directory
inline constexpr const char* kTraceValue = "PATH";  // a trace file or a directory of them
inline constexpr const char* kIdValue = "ID";       // a binary id from the trace
inline constexpr const char* kCodeValue = "CODE";   // a diagnostic code

}  // namespace refctrace::cli
