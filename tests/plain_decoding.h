// The full decoder's side of the plain parser's contract, shared by the unit tests
// (tests/trace_reader_test.cpp) and the differential fuzz target
// (tests/fuzz/plain_parser_diff_fuzz.cpp): what simdjson and DecodeEvent make of one line, and
// whether two decodings of a line agree on every field.
#pragma once

#include <simdjson.h>

#include <cstring>
#include <optional>
#include <string_view>

#include "trace/event.h"
#include "trace/event_decoder.h"

namespace refctrace::trace {

// Two decodings of one line agree on every field (`t` bit for bit, so -0.0 differs from 0.0).
// The position is not compared.
inline bool SameDecoding(const Event& x, const Event& y) {
  auto same_t = [](std::optional<double> a, std::optional<double> b) {
    if (a.has_value() != b.has_value()) return false;
    return !a || std::memcmp(&*a, &*b, sizeof(double)) == 0;
  };
  // An id of the other kind must not keep a value either (Event::Clear leaves none).
  auto same_id = [](const BinId& a, const BinId& b) {
    return a.kind == b.kind && a.num == b.num && a.str == b.str;
  };
  return x.op == y.op && same_id(x.bin, y.bin) && same_id(x.new_bin, y.new_bin) &&
         x.actor == y.actor && x.to == y.to && x.size == y.size && x.refc == y.refc &&
         x.count == y.count && x.copied == y.copied && x.port == y.port && x.from == y.from &&
         x.gathered == y.gathered && x.task == y.task && x.copy == y.copy &&
         same_id(x.env, y.env) && same_id(x.res, y.res) && same_id(x.data, y.data) &&
         x.callback == y.callback && x.rtype == y.rtype && x.nif == y.nif && x.write == y.write &&
         x.readonly == y.readonly && x.failed == y.failed && x.in == y.in && x.among == y.among &&
         same_t(x.t, y.t) && x.seq == y.seq && x.src == y.src && x.func == y.func &&
         x.stack == y.stack && x.note == y.note;
}

// What simdjson and the full decoder make of an NDJSON event line (not a first line, so never
// a header), as NdjsonReader::DecodeLine runs them; nullopt when they report a problem.
inline std::optional<Event> FullDecode(std::string_view line) {
  static simdjson::ondemand::parser parser;
  simdjson::padded_string padded(line);
  simdjson::ondemand::document doc;
  if (parser.iterate(padded).get(doc)) return std::nullopt;
  simdjson::ondemand::object object;
  if (doc.get_object().get(object)) return std::nullopt;
  Event event;
  DecodeProblem problem;
  if (DecodeEvent(object, padded.data(), false, &event, &problem) != DecodeOutcome::kEvent) {
    return std::nullopt;
  }
  if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS) return std::nullopt;
  return event;
}

}  // namespace refctrace::trace
