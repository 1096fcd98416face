// The one error value of refctrace's modules: something it was given (a
// trace, a suppressions or baseline file, an output path) that it cannot
// use, with where and what. Every module boundary returns failures as an
// InputError, through MaybeError (nothing or an error) or ErrorOr<T> (a
// value or an error); all three are [[nodiscard]], so a failure cannot be
// dropped by accident.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace refctrace::trace {

struct [[nodiscard]] InputError {
  uint64_t line = 0;    // 1-based; 0 when not tied to a line (cannot open)
  uint64_t column = 0;  // 1-based byte column; 0 when unknown
  std::string message;  // e.g. `unknown op "frobnicate"`
  // The offending line, shortened around the column if long, with
  // non-printable bytes escaped as \xNN. Empty when there is no line.
  std::string excerpt;
  uint64_t excerpt_caret = 0;  // 1-based caret column within excerpt; 0 = none
  // The file it is in, as given (`-`: standard input); empty for input
  // that has no name (a trace read from memory).
  std::string file;
};

// An error in `file` (empty: no name) at a 1-based line and column, or at
// none (0, 0).
inline InputError FileError(std::string file, std::string message, uint64_t line = 0,
                            uint64_t column = 0) {
  InputError error;
  error.file = std::move(file);
  error.line = line;
  error.column = column;
  error.message = std::move(message);
  return error;
}

// What a step that can fail returns: empty on success, else the error.
// Tested like an optional: `if (auto error = Load(...)) Print(*error);`.
class [[nodiscard]] MaybeError : public std::optional<InputError> {
 public:
  using std::optional<InputError>::optional;
};

// A value, or the error that prevented it.
template <class T>
class [[nodiscard]] ErrorOr {
 public:
  ErrorOr(T value) : value_(std::move(value)) {}           // NOLINT: implicit, like std::expected
  ErrorOr(InputError error) : error_(std::move(error)) {}  // NOLINT
  bool ok() const { return !error_; }
  const InputError& error() const { return *error_; }
  T& operator*() { return *value_; }
  T* operator->() { return &*value_; }

 private:
  std::optional<T> value_;
  MaybeError error_;
};

}  // namespace refctrace::trace
