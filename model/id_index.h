// Numbers the binary ids the model knows (0, 1, 2, ...), so that per-id state can live in a
// plain array indexed by that number.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "trace/event.h"

namespace refctrace::model {

// Open addressing with linear probing over 32-byte entries that hold short ids (integers,
// strings up to kInlineBytes) themselves: a lookup reads one or two cache lines of a small
// table and nothing else. Every binary event looks its id up, so this lookup's cache misses,
// not its instructions, set much of the model's speed; a node-based map would add a pointer
// chase per lookup.
class IdIndex {
 public:
  static constexpr uint32_t kAbsent = UINT32_MAX;

  // The id's number, or kAbsent.
  uint32_t Find(const trace::BinId& id) const;
  // The id's number, giving it one when absent (*added then true). A new number is either
  // size() before the call or one freed by Erase.
  uint32_t FindOrAdd(const trace::BinId& id, bool* added);
  // For prefetch hints (changes nothing): the hash Find would place `id` by, the entry where
  // a lookup of that hash begins, and Find with the hash already known.
  static uint64_t HashOf(const trace::BinId& id) { return Hash(id); }
  void Prefetch(uint64_t hash) const {
    if (!table_.empty()) __builtin_prefetch(&table_[hash & (table_.size() - 1)]);
  }
  uint32_t FindHashed(const trace::BinId& id, uint64_t hash) const {
    if (count_ == 0) return kAbsent;
    return table_[Probe(id, hash, KeyOf(id))].number;
  }
  // Forgets the id numbered `number`; the number may be given to another id later.
  void Erase(uint32_t number);
  // Erase calls so far. While it stays the same, every number keeps naming the same id (a
  // number is given again only after Erase frees it): a number found earlier is still good.
  uint64_t erasures() const { return erasures_; }

  const trace::BinId& id(uint32_t number) const { return ids_[number]; }
  // Numbers handed out so far, freed ones included.
  size_t size() const { return ids_.size(); }
  // Ids currently known.
  size_t count() const { return count_; }

 private:
  static constexpr size_t kInlineBytes = 17;
  // What an entry holds of its id, compared as plain bytes.
  struct Key {
    uint8_t is_inline = 0;  // 0: the id is longer, compare ids_[number] as well
    uint8_t kind = 0;       // trace::BinId::Kind
    uint8_t size = 0;
    char bytes[kInlineBytes] = {};  // an integer id: its 8 bytes
  };
  struct Entry {
    uint64_t hash = 0;
    uint32_t number = kAbsent;  // kAbsent: empty
    Key key;
  };
  static_assert(sizeof(Entry) == 32);
  static Key KeyOf(const trace::BinId& id);
  static uint64_t Hash(const trace::BinId& id) { return trace::BinIdHash{}(id); }
  // The entry holding `id` (hash `hash`, key `key`), or the empty entry where it would go.
  size_t Probe(const trace::BinId& id, uint64_t hash, const Key& key) const;
  void Grow();

  std::vector<Entry> table_;  // size 0 or a power of two, at most half full
  std::vector<trace::BinId> ids_;
  std::vector<uint32_t> free_numbers_;
  size_t count_ = 0;
  uint64_t erasures_ = 0;
};

}  // namespace refctrace::model
