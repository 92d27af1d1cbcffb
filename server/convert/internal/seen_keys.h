// SeenKeys: the keys met so far in one object's list, to flag repeats.
// Internal to convert's validation; C++ and Abseil only.
#ifndef DSD_SERVER_CONVERT_INTERNAL_SEEN_KEYS_H_
#define DSD_SERVER_CONVERT_INTERNAL_SEEN_KEYS_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "server/common/hash.h"

namespace dsd::convert::internal {

// The keys met so far in one object's list (taints by key and effect,
// back-off entries by node), to flag repeats: a scan while the list is
// short (the usual handful costs no allocation of a set), a hash set past
// kScanUpTo keys, so that a hostile list of a million entries costs linear
// time, not quadratic.
template <typename Key>
class SeenKeys {
 public:
  // `expected`: how many keys the list holds, when known. The set is then
  // sized for them once, not grown (and rehashed) as they come: with a
  // node's 1,000 taints, growing took about a twentieth of the handler.
  explicit SeenKeys(size_t expected = 0) : expected_(expected) {}

  // Whether `key` was inserted before; inserts it.
  bool Insert(const Key& key) {
    if (set_) return !set_->insert(key).second;
    if (std::find(keys_.begin(), keys_.end(), key) != keys_.end()) return true;
    keys_.push_back(key);
    if (keys_.size() > kScanUpTo) {
      set_.emplace();
      set_->reserve(std::max(expected_, 2 * keys_.size()));
      set_->insert(keys_.begin(), keys_.end());
      keys_.clear();
    }
    return false;
  }

 private:
  // common/hash.h's string hash (Abseil's falls back to std::hash here).
  struct Hash {
    size_t operator()(std::string_view s) const {
      return common::HashString(s);
    }
    size_t operator()(const std::pair<std::string_view, int>& p) const {
      return common::HashString(p.first, static_cast<uint64_t>(p.second) + 1);
    }
  };
  static constexpr size_t kScanUpTo = 32;
  size_t expected_;
  std::vector<Key> keys_;
  std::optional<absl::flat_hash_set<Key, Hash>> set_;
};

}  // namespace dsd::convert::internal

#endif  // DSD_SERVER_CONVERT_INTERNAL_SEEN_KEYS_H_
