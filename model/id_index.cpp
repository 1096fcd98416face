#include "model/id_index.h"

#include <cstdint>
#include <cstring>
#include <utility>

namespace refctrace::model {

IdIndex::Key IdIndex::KeyOf(const trace::BinId& id) {
  Key key;
  key.kind = static_cast<uint8_t>(id.kind);
  if (id.kind == trace::BinId::Kind::kStr) {
    const size_t n = id.str.size();
    if (n > kInlineBytes) return key;
    key.size = static_cast<uint8_t>(n);
    if (n >= 8 && n <= 16) {
      // Most ids ("0x7f3a1c0042e8"): two words that may overlap, instead of a memcpy call.
      uint64_t head, tail;
      std::memcpy(&head, id.str.data(), 8);
      std::memcpy(&tail, id.str.data() + n - 8, 8);
      std::memcpy(key.bytes, &head, 8);
      std::memcpy(key.bytes + n - 8, &tail, 8);
    } else {
      std::memcpy(key.bytes, id.str.data(), n);
    }
  } else {
    key.size = sizeof id.num;
    std::memcpy(key.bytes, &id.num, sizeof id.num);
  }
  key.is_inline = 1;
  return key;
}

size_t IdIndex::Probe(const trace::BinId& id, uint64_t hash, const Key& key) const {
  const size_t mask = table_.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const Entry& e = table_[i];
    if (e.number == kAbsent) return i;
    if (e.hash == hash && std::memcmp(&e.key, &key, sizeof key) == 0 &&
        (key.is_inline || ids_[e.number] == id)) {
      return i;
    }
  }
}

uint32_t IdIndex::Find(const trace::BinId& id) const {
  return FindHashed(id, Hash(id));
}

uint32_t IdIndex::FindOrAdd(const trace::BinId& id, bool* added) {
  // At most half full, so probes stay short and an empty entry always ends them.
  if (2 * (count_ + 1) > table_.size()) Grow();
  const uint64_t hash = Hash(id);
  const Key key = KeyOf(id);
  Entry& e = table_[Probe(id, hash, key)];
  *added = e.number == kAbsent;
  if (!*added) return e.number;
  uint32_t number;
  if (!free_numbers_.empty()) {
    number = free_numbers_.back();
    free_numbers_.pop_back();
    ids_[number] = id;
  } else {
    number = static_cast<uint32_t>(ids_.size());
    ids_.push_back(id);
  }
  e = Entry{hash, number, key};
  ++count_;
  return number;
}

void IdIndex::Erase(uint32_t number) {
  const size_t mask = table_.size() - 1;
  const trace::BinId& id = ids_[number];
  size_t hole = Probe(id, Hash(id), KeyOf(id));
  // Backward-shift deletion: move later entries of the same probe run into the hole when
  // their home position is not between the hole and where they sit, so no probe that
  // passes through the hole is cut short.
  for (size_t j = (hole + 1) & mask; table_[j].number != kAbsent; j = (j + 1) & mask) {
    const size_t home = table_[j].hash & mask;
    const bool stays = hole < j ? (hole < home && home <= j) : (hole < home || home <= j);
    if (!stays) {
      table_[hole] = table_[j];
      hole = j;
    }
  }
  table_[hole] = Entry{};
  ids_[number].clear();
  free_numbers_.push_back(number);
  --count_;
  ++erasures_;
}

void IdIndex::Grow() {
  std::vector<Entry> old = std::move(table_);
  table_.assign(old.empty() ? 64 : old.size() * 2, Entry{});
  const size_t mask = table_.size() - 1;
  for (const Entry& e : old) {
    if (e.number == kAbsent) continue;
    size_t i = e.hash & mask;
    while (table_[i].number != kAbsent)
      i = (i + 1) & mask;
    table_[i] = e;
  }
}

}  // namespace refctrace::model
