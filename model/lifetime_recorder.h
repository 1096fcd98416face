// Keeps the steps of a few chosen binary incarnations (for `graph` and
// `show`) and finds which to choose, so memory stays bounded on any trace.
#pragma once

#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "model/finding.h"
#include "model/lifetime.h"
#include "trace/event.h"

namespace refctrace::model {

// An incarnation's name: its id and 1-based incarnation number. A realloc
// that moves the binary gives it a new name; the first is its start name.
struct IncarnationKey {
  trace::BinId bin;
  uint32_t incarnation = 0;

  friend bool operator==(const IncarnationKey& a, const IncarnationKey& b) {
    return a.incarnation == b.incarnation && a.bin == b.bin;
  }
  friend bool operator<(const IncarnationKey& a, const IncarnationKey& b) {
    if (!(a.bin == b.bin)) return a.bin < b.bin;
    return a.incarnation < b.incarnation;
  }
};

// `--bin` as the user wrote it: an id as displayed ("0x7f3a10", "42"),
// optionally with "#N" for one incarnation of it.
struct BinSelector {
  std::string id;
  std::optional<uint32_t> incarnation;

  static BinSelector Parse(std::string_view text);
  bool Matches(const trace::BinId& bin, uint32_t incarnation) const;
};

bool AnyMatches(const std::vector<BinSelector>& selectors, const trace::BinId& bin,
                uint32_t incarnation);

// One incarnation's life as recorded.
struct Lifetime {
  uint64_t serial = 0;                // start order within the replay
  std::vector<IncarnationKey> names;  // names[0] is the start name
  bool adopted = false;
  ObjectKind object = ObjectKind::kBinary;  // as its steps say
  bool nif = false;                         // a NIF's object
  std::vector<LifetimeStep> steps;          // in event order
  // omitted_before[i]: steps left out between steps[i - 1] and steps[i].
  std::vector<uint64_t> omitted_before;

  bool Ended() const { return !steps.empty() && steps.back().ended; }
  bool HasName(const trace::BinId& bin, uint32_t incarnation) const;
  uint64_t Omitted() const;
};

struct RecorderOptions {
  // Keep only incarnations whose start name is listed (the second pass of a
  // two-pass replay); unset: any incarnation that `bins` allows.
  std::optional<std::set<IncarnationKey>> starts;
  // Keep only incarnations that have a selected name at some step; empty: any.
  std::vector<BinSelector> bins;
  // Incarnations beyond this many are counted in left_out(), not kept.
  size_t max_lifetimes = std::numeric_limits<size_t>::max();
  // Per incarnation, the first `head_steps` and last `tail_steps` steps are
  // kept, and those at `pinned_events` (finding anchors); the rest are counted.
  size_t head_steps = 16;
  size_t tail_steps = 32;
  std::set<uint64_t> pinned_events;
};

class LifetimeRecorder : public LifetimeObserver {
 public:
  explicit LifetimeRecorder(RecorderOptions options) : options_(std::move(options)) {}

  void OnStep(uint64_t serial, const trace::BinId& bin, uint32_t incarnation, bool adopted,
              LifetimeStep&& step) override;
  // Only for the steps it keeps.
  bool WantsHolders(uint64_t serial, const trace::BinId& bin, uint32_t incarnation,
                    const LifetimeStep& step) const override;
  void OnUncertainDecided(uint64_t serial, uint64_t release_event,
                          const UncertainDecision& decision) override;

  // The kept lifetimes in start order; the recorder is empty afterwards.
  std::vector<Lifetime> Take();
  // Incarnations that were selected but not kept because of max_lifetimes.
  uint64_t left_out() const { return left_out_; }

 private:
  struct Recording {
    Lifetime life;  // head and pinned middle steps
    std::deque<LifetimeStep> tail;
    uint64_t pending_omitted = 0;  // left out since the last kept step
  };
  bool Wanted(const IncarnationKey& key, bool first_step) const;
  // Whether an incarnation not kept so far is selected at this step (its first, or a realloc
  // that moves it onto a selected id).
  bool Selects(const IncarnationKey& key, const LifetimeStep& step, bool first_step) const;
  void Add(Recording& rec, LifetimeStep&& step);

  RecorderOptions options_;
  std::map<uint64_t, Recording> recording_;  // by serial
  uint64_t last_serial_ = 0;
  uint64_t left_out_ = 0;
};

// The first pass of a two-pass replay: follows incarnations' names without
// keeping their steps, so a finding's (bin, incarnation) leads back to the
// incarnation's start name, and the ones `--bin` selects are known in order.
class IncarnationIndex : public LifetimeObserver {
 public:
  // Remembers the start names of the first `keep` incarnations `bins` selects
  // (all incarnations when empty); counts the rest.
  IncarnationIndex(std::vector<BinSelector> bins, size_t keep)
      : bins_(std::move(bins)), keep_(keep) {}

  void OnStep(uint64_t serial, const trace::BinId& bin, uint32_t incarnation, bool adopted,
              LifetimeStep&& step) override;
  // It follows names only.
  bool WantsHolders(uint64_t, const trace::BinId&, uint32_t, const LifetimeStep&) const override {
    return false;
  }

  // The start name of the incarnation that was called `name` at some step.
  IncarnationKey StartOf(const IncarnationKey& name) const;
  const std::vector<IncarnationKey>& selected() const { return selected_; }
  uint64_t selected_total() const { return selected_total_; }

 private:
  struct Live {
    IncarnationKey start;
    IncarnationKey current;
    bool selected = false;
  };
  void Select(Live& live);

  std::vector<BinSelector> bins_;
  size_t keep_;
  std::unordered_map<uint64_t, Live> live_;         // by serial, until the incarnation ends
  std::map<IncarnationKey, IncarnationKey> moved_;  // later name -> start name
  std::vector<IncarnationKey> selected_;
  uint64_t selected_total_ = 0;
};

// Which incarnations to draw or show, decided after the first pass.
struct LifetimeChoice {
  std::set<IncarnationKey> starts;  // for RecorderOptions::starts
  std::set<uint64_t> anchors;       // finding anchor events of the chosen ones
  uint64_t candidates = 0;          // incarnations the request selects
  uint64_t left_out = 0;            // of those, not chosen because of `max`
  uint64_t left_out_with_findings = 0;
};

// Incarnations with findings come first (in report order), then, unless
// `only_findings`, the others in start order; at most `max` in all.
LifetimeChoice ChooseLifetimes(const std::vector<Finding>& findings, const IncarnationIndex& index,
                               const std::vector<BinSelector>& bins, bool only_findings,
                               size_t max);

}  // namespace refctrace::model
