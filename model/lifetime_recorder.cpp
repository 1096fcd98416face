#include "model/lifetime_recorder.h"

#include <algorithm>
#include <charconv>

namespace refctrace::model {

BinSelector BinSelector::Parse(std::string_view text) {
  BinSelector s;
  s.id = std::string(text);
  // "ID#N": one incarnation. An id that itself contains '#' still matches
  // as a whole (Matches tries both).
  const size_t hash = text.rfind('#');
  if (hash != std::string_view::npos && hash > 0 && hash + 1 < text.size()) {
    uint32_t n = 0;
    const char* first = text.data() + hash + 1;
    const char* last = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(first, last, n);
    if (ec == std::errc() && ptr == last && n > 0) {
      s.id = std::string(text.substr(0, hash));
      s.incarnation = n;
    }
  }
  return s;
}

bool BinSelector::Matches(const trace::BinId& bin, uint32_t number) const {
  const std::string shown = bin.ToDisplay();
  if (!incarnation) return shown == id;
  if (shown == id && *incarnation == number) return true;
  // The whole text was the id after all ("a#2" is a string id).
  return shown == id + "#" + std::to_string(*incarnation);
}

bool AnyMatches(const std::vector<BinSelector>& selectors, const trace::BinId& bin,
                uint32_t incarnation) {
  return std::any_of(selectors.begin(), selectors.end(),
                     [&](const BinSelector& s) { return s.Matches(bin, incarnation); });
}

bool Lifetime::HasName(const trace::BinId& bin, uint32_t incarnation) const {
  return std::any_of(names.begin(), names.end(), [&](const IncarnationKey& k) {
    return k.incarnation == incarnation && k.bin == bin;
  });
}

uint64_t Lifetime::Omitted() const {
  uint64_t n = 0;
  for (uint64_t o : omitted_before)
    n += o;
  return n;
}

// ---------------------------------------------------------------------------
// LifetimeRecorder

bool LifetimeRecorder::Wanted(const IncarnationKey& key, bool first_step) const {
  if (options_.starts) return first_step && options_.starts->count(key);
  return options_.bins.empty() || AnyMatches(options_.bins, key.bin, key.incarnation);
}

void LifetimeRecorder::OnStep(uint64_t serial, const trace::BinId& bin, uint32_t incarnation,
                              bool adopted, LifetimeStep&& step) {
  // Serials are handed out in start order, so a serial above every one seen
  // is an incarnation's first step.
  const bool first_step = serial > last_serial_;
  if (first_step) last_serial_ = serial;

  auto it = recording_.find(serial);
  if (it == recording_.end()) {
    IncarnationKey key{bin, incarnation};
    if (!Selects(key, step, first_step)) return;
    if (recording_.size() >= options_.max_lifetimes) {
      ++left_out_;
      return;
    }
    it = recording_.emplace(serial, Recording{}).first;
    Lifetime& life = it->second.life;
    life.serial = serial;
    life.adopted = adopted;
    life.object = step.object;
    life.nif = step.nif;
    life.names.push_back(std::move(key));
  } else {
    Lifetime& life = it->second.life;
    const IncarnationKey& last = life.names.back();
    if (!(last.incarnation == incarnation && last.bin == bin)) {
      life.names.push_back({bin, incarnation});
    }
  }
  Add(it->second, std::move(step));
}

// Not kept so far: decided at its first step, unless a realloc moves it onto a selected id
// later (then it is kept from there on).
bool LifetimeRecorder::Selects(const IncarnationKey& key, const LifetimeStep& step,
                               bool first_step) const {
  const bool moved = step.step.op == trace::Op::kRealloc && !step.step.to.empty();
  if (!first_step && !(moved && !options_.bins.empty())) return false;
  return Wanted(key, first_step);
}

bool LifetimeRecorder::WantsHolders(uint64_t serial, const trace::BinId& bin, uint32_t incarnation,
                                    const LifetimeStep& step) const {
  if (recording_.count(serial)) return true;
  return recording_.size() < options_.max_lifetimes &&
         Selects({bin, incarnation}, step, /*first_step=*/serial > last_serial_);
}

void LifetimeRecorder::OnUncertainDecided(uint64_t serial, uint64_t release_event,
                                          const UncertainDecision& decision) {
  auto it = recording_.find(serial);
  if (it == recording_.end()) return;
  auto decide = [&](LifetimeStep& step) {
    if (step.among && step.step.event == release_event) step.decided = decision;
  };
  for (LifetimeStep& step : it->second.life.steps)
    decide(step);
  for (LifetimeStep& step : it->second.tail)
    decide(step);
}

void LifetimeRecorder::Add(Recording& rec, LifetimeStep&& step) {
  Lifetime& life = rec.life;
  if (life.steps.size() < options_.head_steps && rec.tail.empty() && rec.pending_omitted == 0) {
    life.steps.push_back(std::move(step));
    life.omitted_before.push_back(0);
    return;
  }
  rec.tail.push_back(std::move(step));
  if (rec.tail.size() <= options_.tail_steps) return;
  // The oldest tail step leaves the tail: kept if pinned, else counted.
  LifetimeStep& oldest = rec.tail.front();
  if (options_.pinned_events.count(oldest.step.event)) {
    life.steps.push_back(std::move(oldest));
    life.omitted_before.push_back(rec.pending_omitted);
    rec.pending_omitted = 0;
  } else {
    ++rec.pending_omitted;
  }
  rec.tail.pop_front();
}

std::vector<Lifetime> LifetimeRecorder::Take() {
  std::vector<Lifetime> out;
  out.reserve(recording_.size());
  for (auto& [serial, rec] : recording_) {
    Lifetime& life = rec.life;
    bool first = true;
    for (LifetimeStep& step : rec.tail) {
      life.steps.push_back(std::move(step));
      life.omitted_before.push_back(first ? rec.pending_omitted : 0);
      first = false;
    }
    out.push_back(std::move(life));
  }
  recording_.clear();
  return out;
}

// ---------------------------------------------------------------------------
// IncarnationIndex

void IncarnationIndex::Select(Live& live) {
  live.selected = true;
  ++selected_total_;
  if (selected_.size() < keep_) selected_.push_back(live.start);
}

void IncarnationIndex::OnStep(uint64_t serial, const trace::BinId& bin, uint32_t incarnation,
                              bool /*adopted*/, LifetimeStep&& step) {
  IncarnationKey key{bin, incarnation};
  auto [it, inserted] = live_.try_emplace(serial);
  Live& live = it->second;
  if (inserted) {
    live.start = key;
    live.current = key;
  } else if (!(live.current == key)) {
    moved_[key] = live.start;
    live.current = key;
  }
  if (!live.selected && (bins_.empty() || AnyMatches(bins_, bin, incarnation))) Select(live);
  if (step.ended) live_.erase(it);
}

IncarnationKey IncarnationIndex::StartOf(const IncarnationKey& name) const {
  auto it = moved_.find(name);
  return it == moved_.end() ? name : it->second;
}

// ---------------------------------------------------------------------------
// Choosing

LifetimeChoice ChooseLifetimes(const std::vector<Finding>& findings, const IncarnationIndex& index,
                               const std::vector<BinSelector>& bins, bool only_findings,
                               size_t max) {
  LifetimeChoice choice;
  std::vector<IncarnationKey> order;
  std::set<IncarnationKey> with_findings;
  for (const Finding& f : findings) {
    const IncarnationKey start = index.StartOf({f.bin, f.incarnation});
    if (!bins.empty() && !AnyMatches(bins, f.bin, f.incarnation) &&
        !AnyMatches(bins, start.bin, start.incarnation)) {
      continue;
    }
    if (with_findings.insert(start).second) order.push_back(start);
  }
  if (only_findings) {
    choice.candidates = order.size();
  } else {
    for (const IncarnationKey& key : index.selected()) {
      if (!with_findings.count(key)) order.push_back(key);
    }
    choice.candidates = std::max<uint64_t>(index.selected_total(), with_findings.size());
  }
  for (const IncarnationKey& key : order) {
    if (choice.starts.size() >= max) {
      if (with_findings.count(key)) ++choice.left_out_with_findings;
      continue;
    }
    choice.starts.insert(key);
  }
  choice.left_out = choice.candidates - std::min<uint64_t>(choice.candidates, choice.starts.size());
  for (const Finding& f : findings) {
    if (choice.starts.count(index.StartOf({f.bin, f.incarnation}))) choice.anchors.insert(f.event);
  }
  return choice;
}

}  // namespace refctrace::model
