// A binary's bounded history (model/history.h), fed entries that pack into 32 bytes and entries
// that do not (a note, a realloc's size beside its new id, values past what the packed form
// holds): every kept entry reads back as it was added, wherever it sits.
#include "model/history.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace refctrace::model {
namespace {

using trace::Op;

std::string Describe(const HistoryEntry& e) {
  return "event " + std::to_string(e.event) + " line " + std::to_string(e.line) + " vm_refc " +
         std::to_string(e.vm_refc) + " size " + std::to_string(e.size) + " actor " +
         std::to_string(e.actor) + " to " + std::to_string(e.to) + " src " + std::to_string(e.src) +
         " func " + std::to_string(e.func) + " note " + std::to_string(e.note) + " op " +
         std::to_string(static_cast<int>(e.op)) + " copied " + std::to_string(e.copied) +
         " has_size " + std::to_string(e.has_size);
}

void CheckSame(const HistoryEntry& got, const HistoryEntry& want) {
  CHECK(Describe(got) == Describe(want));
}

// An ordinary entry: every value fits the packed form.
HistoryEntry Plain(uint64_t event) {
  HistoryEntry e;
  e.event = event;
  e.line = event + 2;
  e.vm_refc = static_cast<int64_t>(event % 5);
  e.actor = 1;
  e.to = static_cast<StrRef>(event % 3);
  e.src = 7;
  e.func = 9;
  e.op = event % 2 ? Op::kOutput : Op::kRead;
  e.copied = event % 4 == 0;
  return e;
}

// Entries the packed form cannot hold, one reason each, and ones at its edges that it can.
std::vector<HistoryEntry> Unusual() {
  std::vector<HistoryEntry> out;
  HistoryEntry e = Plain(10);
  e.note = 4;  // a note
  out.push_back(e);
  e = Plain(11);
  e.op = Op::kRealloc;  // a size beside a `to`
  e.has_size = true;
  e.size = 3030;
  e.to = 12;
  out.push_back(e);
  e = Plain(12);
  e.op = Op::kAlloc;  // a size alone, the largest that packs ...
  e.has_size = true;
  e.size = UINT32_MAX;
  e.to = 0;
  out.push_back(e);
  e.size = uint64_t{UINT32_MAX} + 1;  // ... and one past it
  out.push_back(e);
  e = Plain((uint64_t{1} << 48) - 1);  // the last event that packs ...
  out.push_back(e);
  e = Plain(uint64_t{1} << 48);  // ... and the first that does not
  out.push_back(e);
  e = Plain(13);
  e.line = UINT32_MAX;  // the last line that packs ...
  out.push_back(e);
  e.line = uint64_t{UINT32_MAX} + 1;  // ... and one past it
  out.push_back(e);
  e = Plain(14);
  e.vm_refc = INT32_MIN;  // counts at the packed form's ends ...
  out.push_back(e);
  e.vm_refc = INT32_MAX;
  out.push_back(e);
  e.vm_refc = int64_t{INT32_MAX} + 1;  // ... and past them
  out.push_back(e);
  e.vm_refc = int64_t{INT32_MIN} - 1;
  out.push_back(e);
  e = Plain(15);
  e.op = Op::kAlloc;  // a size of 0 is a size
  e.has_size = true;
  e.size = 0;
  e.to = 0;
  out.push_back(e);
  return out;
}

// All the entries the history should keep of `added`, in order: the first `head`, the last
// `tail` of the rest.
std::vector<HistoryEntry> Kept(const std::vector<HistoryEntry>& added, size_t head, size_t tail) {
  const size_t n = added.size();
  const size_t tail_from = n > head + tail ? n - tail : head;
  std::vector<HistoryEntry> kept;
  for (size_t i = 0; i < n; ++i) {
    if (i < head || i >= tail_from) kept.push_back(added[i]);
  }
  return kept;
}

void CheckHistory(const History& history, const std::vector<HistoryEntry>& added, size_t head,
                  size_t tail) {
  std::vector<HistoryEntry> got = history.Head();
  for (const HistoryEntry& e : history.Tail())
    got.push_back(e);
  const std::vector<HistoryEntry> want = Kept(added, head, tail);
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    CAPTURE(i);
    CheckSame(got[i], want[i]);
  }
  CHECK(history.total() == added.size());
  CHECK(history.omitted() == added.size() - want.size());
  CheckSame(history.front(), added.front());
  CheckSame(history.back(), added.back());
}

TEST_CASE("entries that pack and entries that do not read back as added, in head and tail") {
  for (size_t before = 0; before < 20; before += 3) {
    CAPTURE(before);
    History history(4, 5);
    std::vector<HistoryEntry> added;
    for (uint64_t i = 0; i < before; ++i)
      added.push_back(Plain(i));
    for (const HistoryEntry& e : Unusual())
      added.push_back(e);
    for (uint64_t i = 0; i < 7; ++i)
      added.push_back(Plain(100 + i));
    for (size_t n = 0; n < added.size(); ++n) {
      history.Add(added[n]);
      const std::vector<HistoryEntry> so_far(added.begin(), added.begin() + n + 1);
      CheckHistory(history, so_far, 4, 5);
    }
  }
}

TEST_CASE("a ring of unusual entries overwritten many times keeps only the newest") {
  // Every other entry does not pack, so the tail ring overwrites wide entries with packed ones
  // and the reverse, many times over.
  History history(2, 3);
  std::vector<HistoryEntry> added;
  const std::vector<HistoryEntry> unusual = Unusual();
  for (uint64_t i = 0; i < 200; ++i) {
    HistoryEntry e = i % 2 ? unusual[i / 2 % unusual.size()] : Plain(i);
    added.push_back(e);
    history.Add(e);
  }
  CheckHistory(history, added, 2, 3);
}

TEST_CASE("the newest entry's count is set after its event, past what packs and back") {
  History history(2, 2);
  std::vector<HistoryEntry> added;
  const int64_t counts[] = {3, int64_t{INT32_MAX} + 5, -2, int64_t{INT32_MIN} - 1, 0, 7};
  for (uint64_t i = 0; i < 12; ++i) {
    HistoryEntry e = i == 5 ? Unusual()[1] : Plain(i);
    history.Add(e);
    e.vm_refc = counts[i % 6];
    history.SetBackVmRefc(e.vm_refc);
    added.push_back(e);
    CheckSame(history.back(), e);
  }
  CheckHistory(history, added, 2, 2);
}

TEST_CASE("Reset empties a history that held unusual entries") {
  History history(2, 2);
  for (const HistoryEntry& e : Unusual())
    history.Add(e);
  history.Reset(3, 1);
  CHECK(history.total() == 0);
  CHECK(history.Head().empty());
  CHECK(history.Tail().empty());
  std::vector<HistoryEntry> added;
  for (uint64_t i = 0; i < 6; ++i) {
    added.push_back(Plain(i));
    history.Add(added.back());
  }
  CheckHistory(history, added, 3, 1);
}

TEST_CASE("a copy keeps its own entries that do not pack") {
  // The NIF model copies a binary's object, history included, when a realloc moves it.
  History history(2, 2);
  std::vector<HistoryEntry> added;
  for (const HistoryEntry& e : Unusual()) {
    added.push_back(e);
    history.Add(e);
  }
  History copy = history;
  History assigned(5, 5);
  assigned = copy;
  history.Reset(2, 2);  // the original's entries go; the copies' stay
  history.Add(Plain(1));
  CheckHistory(copy, added, 2, 2);
  CheckHistory(assigned, added, 2, 2);
  HistoryEntry last = Unusual()[0];
  last.event = 99;
  copy.Add(last);
  added.push_back(last);
  CheckHistory(copy, added, 2, 2);
  CheckHistory(assigned, std::vector<HistoryEntry>(added.begin(), added.end() - 1), 2, 2);
}

TEST_CASE("FindLastOp gives the newest entry of an op and its place among all the entries") {
  History history(2, 3);
  for (uint64_t i = 1; i <= 9; ++i) {
    HistoryEntry e = Plain(i);
    e.op = i == 2 || i == 7 ? Op::kFree : i == 1 ? Op::kAlloc : i == 4 ? Op::kDec : Op::kRead;
    if (i == 7) e.note = 1;  // a wide one
    history.Add(e);
  }
  HistoryEntry found;
  CHECK(history.FindLastOp([](Op op) { return op == Op::kFree; }, &found) == 7);
  CheckSame(found, [] {
    HistoryEntry e = Plain(7);
    e.op = Op::kFree;
    e.note = 1;
    return e;
  }());
  // Entry 1 is in the head; entries 3 to 6 were omitted, the dec among them.
  CHECK(history.FindLastOp([](Op op) { return op == Op::kAlloc; }, &found) == 1);
  CHECK(found.event == 1);
  CHECK(history.FindLastOp([](Op op) { return op == Op::kDec; }, &found) == 0);
}

}  // namespace
}  // namespace refctrace::model
