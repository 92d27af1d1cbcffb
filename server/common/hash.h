// Hashing and comparing the short strings of a request (names, uids, label
// keys and values: 3-60 bytes) on the per-pod paths: uniqueness checks and
// string canonicalization in convert, claiming and grouping in the engine
// (both layers use it, hence server/common; header-only, Abseil only, so
// the engine may include it).
//
// Debian 12's Abseil has its own absl::string_view (
// ABSL_OPTION_USE_STD_STRING_VIEW 0), so absl::Hash<std::string_view> falls
// back to std::hash (libstdc++'s murmur) and mixes again; even Abseil's own
// string hash is an out-of-line call. These are inline, word-at-a-time
// versions (the hash follows wyhash's structure); in profiles of the
// Decide handler they replaced a double-digit share spent in std::hash and
// memcmp.
#ifndef DSD_SERVER_COMMON_HASH_H_
#define DSD_SERVER_COMMON_HASH_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "absl/base/attributes.h"
#include "absl/numeric/int128.h"

namespace dsd::common {

inline uint64_t Load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

inline uint64_t Load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// a == b without a call to memcmp: word loads, the last one overlapping.
// Always inlined: called per label and per name, where the call cost as
// much as the compare.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool Equal(std::string_view a,
                                               std::string_view b) {
  const size_t n = a.size();
  if (n != b.size()) return false;
  const char* p = a.data();
  const char* q = b.data();
  if (p == q) return true;  // canonical views share their bytes
  if (n >= 8) {
    for (size_t i = 0; i + 8 < n; i += 8) {
      if (Load64(p + i) != Load64(q + i)) return false;
    }
    return Load64(p + n - 8) == Load64(q + n - 8);
  }
  if (n >= 4) {
    return Load32(p) == Load32(q) && Load32(p + n - 4) == Load32(q + n - 4);
  }
  for (size_t i = 0; i < n; ++i) {
    if (p[i] != q[i]) return false;
  }
  return true;
}

inline uint64_t MulFold(uint64_t a, uint64_t b) {
  const absl::uint128 r = absl::uint128(a) * b;
  return absl::Uint128Low64(r) ^ absl::Uint128High64(r);
}

// 64-bit hash of `s` (chained through `seed` for tuples).
inline uint64_t HashString(std::string_view s, uint64_t seed = 0) {
  constexpr uint64_t k0 = 0xa0761d6478bd642full;
  constexpr uint64_t k1 = 0xe7037ed1a0b428dbull;
  const char* p = s.data();
  const size_t n = s.size();
  seed ^= k0;
  uint64_t a = 0;
  uint64_t b = 0;
  if (n <= 16) {
    if (n >= 4) {
      const size_t mid = (n >> 3) << 2;
      a = (Load32(p) << 32) | Load32(p + mid);
      b = (Load32(p + n - 4) << 32) | Load32(p + n - 4 - mid);
    } else if (n > 0) {
      a = (uint64_t{static_cast<unsigned char>(p[0])} << 16) |
          (uint64_t{static_cast<unsigned char>(p[n >> 1])} << 8) |
          static_cast<unsigned char>(p[n - 1]);
    }
  } else {
    size_t i = n;
    while (i > 16) {
      seed = MulFold(Load64(p) ^ k1, Load64(p + 8) ^ seed);
      p += 16;
      i -= 16;
    }
    a = Load64(p + i - 16);
    b = Load64(p + i - 8);
  }
  return MulFold(k1 ^ n, MulFold(a ^ k1, b ^ seed));
}

struct StringViewHash {
  size_t operator()(std::string_view s) const { return HashString(s); }
};

struct StringViewEq {
  bool operator()(std::string_view a, std::string_view b) const {
    return Equal(a, b);
  }
};

}  // namespace dsd::common

#endif  // DSD_SERVER_COMMON_HASH_H_
