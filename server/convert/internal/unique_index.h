// UniqueIndex: detects repeated identities (names, uids) among the objects
// of one request. Internal to convert; C++ and Abseil only.
#ifndef DSD_SERVER_CONVERT_INTERNAL_UNIQUE_INDEX_H_
#define DSD_SERVER_CONVERT_INTERNAL_UNIQUE_INDEX_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/common/hash.h"

namespace dsd::convert::internal {

// Detects repeated identities (names, uids) among the objects of one
// request: an open-addressing table of object indices, each slot holding
// the index and 32 bits of its key's hash. The key is read through
// `key_of` only when those 32 bits match (practically only for a real
// duplicate): reading an earlier object's key means several cache misses
// into the request, and Abseil's 7-bit tags made that happen on about one
// insert in ten. Half empty at most: sized up front for the objects the
// caller expects (pods: their count is known), doubled when more arrive
// (nodes and DaemonSets, streamed before their count is known).
//
// A 150,000-pod table is far from the cache: the caller announces an
// object before checking its other fields (Announce hashes the key and
// prefetches its slot) and inserts it after them, when the slot has
// arrived. Announcing objects further ahead measured slower: reading ahead
// of the pass over the request defeats the hardware's sequential
// prefetching, which costs more than the table.
template <typename KeyOf>
class UniqueIndex {
 public:
  UniqueIndex(int n, KeyOf key_of) : key_of_(key_of) {
    size_t capacity = 16;
    while (capacity < 2 * static_cast<size_t>(n)) capacity *= 2;
    slots_.assign(capacity, 0);
    mask_ = capacity - 1;
  }

  // The hash to insert object `index` with; prefetches its slot.
  uint64_t Announce(int index) {
    return AnnounceKey(key_of_(static_cast<uint32_t>(index)));
  }
  // The same for an object whose key `key_of` cannot read yet.
  template <typename Key>
  uint64_t AnnounceKey(const Key& key) {
    const uint64_t hash = HashKey(key);
    __builtin_prefetch(&slots_[hash & mask_]);
    return hash;
  }

  // The index of the object with `key`, or -1.
  template <typename Key>
  int Find(const Key& key) {
    const uint64_t hash = HashKey(key);
    for (size_t pos = hash & mask_;; pos = (pos + 1) & mask_) {
      const uint64_t slot = slots_[pos];
      if (slot == 0) return -1;
      if (Tag(slot) == Tag(hash) && KeyEqual(key_of_(Index(slot)), key)) {
        return static_cast<int>(Index(slot));
      }
    }
  }

  // Room for `n` objects in all, so that inserting them never doubles the
  // table on the way (for a count that becomes known before the objects).
  void Reserve(int n) {
    while (slots_.size() < 2 * static_cast<size_t>(n)) Grow();
  }

  // False when an earlier object had the same key.
  bool Insert(int index) { return Insert(index, Announce(index)); }
  bool Insert(int index, uint64_t hash) {
    if (2 * (size_ + 1) > slots_.size()) Grow();
    const auto i = static_cast<uint32_t>(index);
    for (size_t pos = hash & mask_;; pos = (pos + 1) & mask_) {
      const uint64_t slot = slots_[pos];
      if (slot == 0) {
        slots_[pos] = (Tag(hash) << 32) | (uint64_t{i} + 1);
        ++size_;
        return true;
      }
      if (Tag(slot) == Tag(hash) &&
          KeyEqual(key_of_(Index(slot)), key_of_(i))) {
        return false;
      }
    }
  }

 private:
  // Slot layout: tag (hash bits 32-63) above index + 1; 0 is empty. The
  // position comes from the low bits, so tag and position are independent.
  static uint64_t Tag(uint64_t hash_or_slot) { return hash_or_slot >> 32; }
  static uint32_t Index(uint64_t slot) {
    return static_cast<uint32_t>(slot & 0xffffffffu) - 1;
  }

  // Doubles the table, placing every object again by its key's hash (the
  // slots keep only its high bits).
  void Grow() {
    std::vector<uint64_t> old(2 * slots_.size(), 0);
    old.swap(slots_);
    mask_ = slots_.size() - 1;
    for (const uint64_t slot : old) {
      if (slot == 0) continue;
      const uint64_t hash = HashKey(key_of_(Index(slot)));
      size_t pos = hash & mask_;
      while (slots_[pos] != 0) pos = (pos + 1) & mask_;
      slots_[pos] = slot;
    }
  }

  static bool KeyEqual(std::string_view a, std::string_view b) {
    return common::Equal(a, b);
  }
  static bool KeyEqual(const std::pair<std::string_view, std::string_view>& a,
                       const std::pair<std::string_view, std::string_view>& b) {
    return common::Equal(a.first, b.first) && common::Equal(a.second, b.second);
  }
  uint64_t HashKey(std::string_view s) { return common::HashString(s); }
  uint64_t HashKey(const std::pair<std::string_view, std::string_view>& p) {
    // Consecutive objects mostly share a namespace: hash it once.
    if (!common::Equal(p.first, first_) || first_hash_ == 0) {
      first_.assign(p.first);  // a copy: the key may be a streamed pod's
      first_hash_ = common::HashString(p.first) | 1;
    }
    return common::HashString(p.second, first_hash_);
  }

  KeyOf key_of_;
  std::vector<uint64_t> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;    // objects inserted
  std::string first_;  // HashKey's memo
  uint64_t first_hash_ = 0;
};

template <typename KeyOf>
UniqueIndex<KeyOf> MakeUniqueIndex(int n, KeyOf key_of) {
  return UniqueIndex<KeyOf>(n, key_of);
}

}  // namespace dsd::convert::internal

#endif  // DSD_SERVER_CONVERT_INTERNAL_UNIQUE_INDEX_H_
