// StringCache: one canonical view per distinct repeated string of a
// request. Internal to convert; C++ and Abseil only.
#ifndef DSD_SERVER_CONVERT_INTERNAL_STRING_CACHE_H_
#define DSD_SERVER_CONVERT_INTERNAL_STRING_CACHE_H_

#include <array>
#include <cstddef>
#include <string_view>

#include "server/common/hash.h"

namespace dsd::convert::internal {

// One view per distinct string among those that repeat across a request's
// objects (label keys and values, namespaces, controller uids): an equal
// string seen before replaces the view, so that the engine's many compares
// and hashes of these strings read a few hot cache lines rather than every
// pod's own request memory. Validation uses it too: a string equal to one
// that already passed a check needs no second scan. Direct mapped on a few
// characters. `keep` turns a view into one that outlives the object it came
// from (identity for a parsed request; a copy for streamed pods).
class StringCache {
 public:
  // Replaces `s` by an earlier equal string, or remembers (a kept) `s`.
  template <typename Keep>
  void Canonical(std::string_view& s, Keep keep) {
    if (s.empty()) return;
    std::string_view& slot = Slot(s);
    if (common::Equal(slot, s)) {
      s = slot;
    } else {
      slot = s = keep(s);
    }
  }

  // Whether `s` passes `check`; if it does, replaces `s` by an earlier equal
  // string that passed it (then without checking again), or by a kept copy.
  template <typename Check, typename Keep>
  bool Valid(std::string_view& s, Check check, Keep keep) {
    if (s.empty()) return check(s);
    std::string_view& slot = Slot(s);
    if (common::Equal(slot, s)) {
      s = slot;
      return true;
    }
    if (!check(s)) return false;
    slot = s = keep(s);
    return true;
  }

 private:
  std::string_view& Slot(std::string_view s) {
    const auto at = [&](size_t i) {
      return static_cast<size_t>(static_cast<unsigned char>(s[i]));
    };
    const size_t n = s.size();
    return slots_[(n * 31 + at(0) * 7 + at(n / 2) * 3 + at(n - 2 + (n < 2)) +
                   at(n - 1) * 5) %
                  slots_.size()];
  }

  std::array<std::string_view, 128> slots_{};
};

}  // namespace dsd::convert::internal

#endif  // DSD_SERVER_CONVERT_INTERNAL_STRING_CACHE_H_
