// Pull-style reader: bytes (file, stdin or string) in, one Event per Next().
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "trace/event.h"
#include "trace/input_error.h"
#include "trace/trace_header.h"

namespace refctrace::trace {

// How the input was written; decided from the content, never the file name.
enum class Encoding : uint8_t { kUnknown, kNdjson, kDocument, kArray };

// Limits and buffer sizes; the defaults are what the tool uses. Tests shrink them.
struct ReaderOptions {
  // An NDJSON line longer than this (newline excluded) is an input error.
  size_t max_line_bytes = size_t{64} << 20;
  // How much is asked of the Source per read: small enough that the bytes read() copies
  // in are still in a core's L2 cache, next to the model's tables, when they are parsed.
  size_t chunk_bytes = size_t{128} << 10;
};

enum class ReadStatus : uint8_t {
  kEvent,  // *event holds the next event
  kEnd,    // input complete (an `end` event, if any, was already delivered)
  kError,  // error() describes it; every later Next() returns kError too
};

class TraceReader {
 public:
  // Bytes come from here; a file, stdin or memory. Returns 0 at end of input,
  // or -1 with *error set.
  class Source {
   public:
    virtual ~Source() = default;
    virtual long Read(char* buf, size_t len, std::string* error) = 0;
  };

  // `path` "-" reads standard input. A gzip or zstd file (or standard input), known by its
  // first bytes, is decompressed as it is read (trace/compressed_input.h); positions in events
  // and errors are in the decompressed text. A file that cannot be opened surfaces as
  // the first Next() returning kError (line 0). Errors name `path` as their
  // file; those of the other readers name none.
  static std::unique_ptr<TraceReader> OpenPath(const std::string& path,
                                               const ReaderOptions& options = {});
  // Memory and sources are read as they are: wrap a Source in DecompressIfCompressed to read
  // compressed bytes.
  static std::unique_ptr<TraceReader> FromString(std::string text,
                                                 const ReaderOptions& options = {});
  static std::unique_ptr<TraceReader> FromSource(std::unique_ptr<Source> source,
                                                 const ReaderOptions& options = {});

  virtual ~TraceReader() = default;

  // Fills *event (reusing its storage) and returns kEvent, or kEnd / kError.
  virtual ReadStatus Next(Event* event) = 0;
  virtual const InputError& error() const = 0;
  virtual Encoding encoding() const = 0;
  // What the header says about the run this trace is a part of (trace format 1.5). Known once
  // Next() has returned for the first time, even when the first event was malformed (the
  // header before it was read); empty for a trace without header or parts fields.
  virtual const TraceHeader& header() const = 0;
  // Events delivered so far.
  virtual uint64_t events_read() const = 0;
  // Input bytes consumed so far (for throughput figures).
  virtual uint64_t bytes_read() const = 0;
};

}  // namespace refctrace::trace
