// An incarnation's life as `show` and `graph` tell it: its rows (recorded
// steps plus the events only its findings know) and how it ended. Both
// renderers read these, so the two never disagree.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "model/finding.h"
#include "model/lifetime_recorder.h"

namespace refctrace::render {

// A recorded step, plus events the model kept no step for but a finding has
// as evidence (a double-free on the id after the incarnation ended; the end
// of the trace for a leak).
struct LifetimeRow {
  model::LifetimeStep step;
  uint64_t omitted_before = 0;  // steps left out just before this one
  bool after_end = false;       // an event on the id after this incarnation ended
};
std::vector<LifetimeRow> RowsOf(const model::Lifetime& life,
                                const std::vector<const model::Finding*>& findings);

// Findings that belong to `life` (by any of its names), in the order given.
std::vector<const model::Finding*> FindingsOf(const model::Lifetime& life,
                                              const std::vector<model::Finding>& findings);

// How an incarnation's life ended.
enum class LifeEnd : uint8_t {
  kNeverFreed,  // a leak: the driver's reference is never released
  kFreed,       // refc reached 0
  kAbandoned,   // ended with references still held (alloc-live, realloc onto a live id)
  kStillHeld,   // held by someone when the trace (or the readable part of it) ended
};
struct LifeEnding {
  LifeEnd how = LifeEnd::kStillHeld;
  // kFreed, kAbandoned: the row that ended it; kStillHeld: the last row;
  // null when there are no rows.
  const LifetimeRow* at = nullptr;
  const model::Finding* leak = nullptr;  // kNeverFreed: the leak finding
};
// `rows` and `findings` as RowsOf and FindingsOf give them for `life`.
LifeEnding EndingOf(const model::Lifetime& life, const std::vector<LifetimeRow>& rows,
                    const std::vector<const model::Finding*>& findings);

// What the incarnation is, as `show` and `graph` name it: "binary" (a driver's), "NIF binary",
// "view", "resource", "environment".
std::string_view ObjectNoun(const model::Lifetime& life);
// Whose references it is about: "driver" or "NIF" (its first lane, and "the NIF's reference").
std::string_view OwnerNoun(const model::Lifetime& life);

// A step as its row's op cell (show) or its node's headline (graph) says it: the event's
// summary, or for an uncertain release (a gc with `among`) "perhaps released (one of N)".
std::string StepSummary(const model::LifetimeStep& step);
// How a later event decided an uncertain release: "decided at #9 by its recorded count: 1
// reference released"; empty when the step is no uncertain release or was never decided.
std::string DecisionText(const model::LifetimeStep& step);

// Who holds the incarnation after `step`, as `show`'s cells and ending and `graph`'s tooltips
// say it: the listed holders, then the processes the model counted without listing them
// ("; 19992 more processes hold 19992").
std::string HoldersText(const model::LifetimeStep& step);
// Whether anyone holds it, or the driver borrows it, after `step`.
bool AnyHolders(const model::LifetimeStep& step);

// "0x7f3a10#2": the id and incarnation, as `--bin` accepts it.
std::string IncarnationName(const model::IncarnationKey& key);

}  // namespace refctrace::render
