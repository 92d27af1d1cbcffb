// Mirrors apimachinery/pkg/util/validation (IsQualifiedName, IsValidLabelValue,
// IsDNS1123Subdomain, IsDNS1123Label) and Go's strconv.ParseInt. Hand-written
// scanners rather than std::regex: these run per label in hot paths.
#include "server/engine/k8s_names.h"

#include <array>
#include <cstddef>
#include <limits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace dsd::engine {
namespace {

// Character classes as one table lookup per character: request validation
// scans every name and label of every object, so these loops are hot.
enum : uint8_t {
  kLower = 1,    // a-z 0-9
  kUpper = 2,    // A-Z
  kDash = 4,     // -
  kDot = 8,      // .
  kUnder = 16,   // _
  kOther = 128,  // anything else
};

constexpr std::array<uint8_t, 256> MakeClasses() {
  std::array<uint8_t, 256> t{};
  for (uint8_t& k : t) k = kOther;
  for (int c = 'a'; c <= 'z'; ++c) t[static_cast<size_t>(c)] = kLower;
  for (int c = '0'; c <= '9'; ++c) t[static_cast<size_t>(c)] = kLower;
  for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<size_t>(c)] = kUpper;
  t['-'] = kDash;
  t['.'] = kDot;
  t['_'] = kUnder;
  return t;
}
constexpr std::array<uint8_t, 256> kClasses = MakeClasses();

uint8_t ClassOf(char c) { return kClasses[static_cast<unsigned char>(c)]; }

bool IsLowerAlnum(char c) { return ClassOf(c) == kLower; }
bool IsAlnum(char c) { return (ClassOf(c) & (kLower | kUpper)) != 0; }

#if defined(__SSE2__)
// The classes present among 16 characters. Signed compares: bytes from
// 0x80 up are negative, so they fall in no range and count as kOther.
uint8_t ClassesOf16(__m128i v) {
  const auto in = [v](char lo, char hi) {
    return _mm_and_si128(
        _mm_cmpgt_epi8(v, _mm_set1_epi8(static_cast<char>(lo - 1))),
        _mm_cmplt_epi8(v, _mm_set1_epi8(static_cast<char>(hi + 1))));
  };
  const auto is = [v](char c) { return _mm_cmpeq_epi8(v, _mm_set1_epi8(c)); };
  const __m128i lower = _mm_or_si128(in('a', 'z'), in('0', '9'));
  const __m128i upper = in('A', 'Z');
  const __m128i dash = is('-');
  const __m128i dot = is('.');
  const __m128i under = is('_');
  const __m128i known = _mm_or_si128(
      _mm_or_si128(lower, upper), _mm_or_si128(_mm_or_si128(dash, dot), under));
  const auto bit = [](__m128i m, uint8_t k) {
    return _mm_movemask_epi8(m) != 0 ? k : uint8_t{0};
  };
  return static_cast<uint8_t>(
      bit(lower, kLower) | bit(upper, kUpper) | bit(dash, kDash) |
      bit(dot, kDot) | bit(under, kUnder) |
      (_mm_movemask_epi8(known) != 0xffff ? kOther : 0));
}
#endif

// The classes present in `s`. Names of 16 characters and more (pod names,
// uids, long label keys) are scanned 16 at a time: the scan of every name
// of every object was a visible part of request validation.
uint8_t ClassesOf(std::string_view s) {
  uint8_t seen = 0;
#if defined(__SSE2__)
  if (s.size() >= 16) {
    const auto load = [&s](size_t i) {
      return _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
    };
    size_t i = 0;
    for (; i + 16 <= s.size(); i += 16) seen |= ClassesOf16(load(i));
    // The last, partial chunk: the last 16 characters (overlapping ones
    // already seen change nothing).
    if (i < s.size()) seen |= ClassesOf16(load(s.size() - 16));
    return seen;
  }
#endif
  // Accumulate without branching: names are short and almost always valid.
  for (char c : s) seen |= ClassOf(c);
  return seen;
}

#if defined(__SSE2__)
// For subdomains, the common case, only two questions per 16 characters:
// all in [a-z0-9.-]? any '.'? Returns false when some character is outside
// the alphabet; sets `dot` when there is a '.'.
bool SubdomainChars16(__m128i v, bool& dot) {
  const auto in = [v](char lo, char hi) {
    return _mm_and_si128(
        _mm_cmpgt_epi8(v, _mm_set1_epi8(static_cast<char>(lo - 1))),
        _mm_cmplt_epi8(v, _mm_set1_epi8(static_cast<char>(hi + 1))));
  };
  const __m128i dots = _mm_cmpeq_epi8(v, _mm_set1_epi8('.'));
  const __m128i ok =
      _mm_or_si128(_mm_or_si128(in('a', 'z'), in('0', '9')),
                   _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('-')), dots));
  dot = dot || _mm_movemask_epi8(dots) != 0;
  return _mm_movemask_epi8(ok) == 0xffff;
}
#endif

// Whether every character is in [a-z0-9.-]; sets `dot` when one is '.'.
bool SubdomainChars(std::string_view s, bool& dot) {
#if defined(__SSE2__)
  if (s.size() >= 16) {
    const auto load = [&s](size_t i) {
      return _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
    };
    size_t i = 0;
    for (; i + 16 <= s.size(); i += 16) {
      if (!SubdomainChars16(load(i), dot)) return false;
    }
    return i == s.size() || SubdomainChars16(load(s.size() - 16), dot);
  }
#endif
  const uint8_t seen = ClassesOf(s);
  dot = (seen & kDot) != 0;
  return (seen & ~(kLower | kDash | kDot)) == 0;
}

// True when every character's class is in `allowed`.
bool AllOf(std::string_view s, uint8_t allowed) {
  return (ClassesOf(s) & ~allowed) == 0;
}

// ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9], 1..63 chars.
bool IsQualifiedNamePart(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  if (!IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  return AllOf(s, kLower | kUpper | kDash | kUnder | kDot);
}

// [a-z0-9]([-a-z0-9]*[a-z0-9])?
bool IsDns1123LabelChars(std::string_view s) {
  if (s.empty()) return false;
  if (!IsLowerAlnum(s.front()) || !IsLowerAlnum(s.back())) return false;
  return AllOf(s, kLower | kDash);
}

}  // namespace

bool IsDns1123Label(std::string_view s) {
  return s.size() <= 63 && IsDns1123LabelChars(s);
}

// Dot-separated DNS-1123 labels in one pass: the ends are alphanumeric and
// every '.' sits between two alphanumerics, which is what splitting at the
// dots and checking each part for [a-z0-9]([-a-z0-9]*[a-z0-9])? amounts to.
bool IsDns1123Subdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  if (!IsLowerAlnum(s.front()) || !IsLowerAlnum(s.back())) return false;
  bool dot = false;
  if (!SubdomainChars(s, dot)) return false;
  if (!dot) return true;
  // Dots are rarer: only then look at their neighbours (the ends are
  // alphanumeric, so s[i - 1] and s[i + 1] exist).
  for (size_t i = s.find('.'); i != std::string_view::npos;
       i = s.find('.', i + 1)) {
    if (!IsLowerAlnum(s[i - 1]) || !IsLowerAlnum(s[i + 1])) return false;
  }
  return true;
}

bool IsLabelKey(std::string_view s) {
  const size_t slash = s.find('/');
  if (slash == std::string_view::npos) return IsQualifiedNamePart(s);
  const std::string_view prefix = s.substr(0, slash);
  const std::string_view name = s.substr(slash + 1);
  return !prefix.empty() && IsDns1123Subdomain(prefix) &&
         IsQualifiedNamePart(name);  // a second '/' fails here
}

bool IsLabelValue(std::string_view s) {
  return s.empty() || IsQualifiedNamePart(s);
}

std::optional<int64_t> ParseInt64(std::string_view s) {
  if (s.empty()) return std::nullopt;
  bool negative = false;
  if (s.front() == '+' || s.front() == '-') {
    negative = s.front() == '-';
    s.remove_prefix(1);
    if (s.empty()) return std::nullopt;
  }
  // Accumulate as a negative number so that INT64_MIN fits.
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  int64_t acc = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const int digit = c - '0';
    if (acc < (kMin + digit) / 10) return std::nullopt;
    acc = acc * 10 - digit;
  }
  if (negative) return acc;
  if (acc == kMin) return std::nullopt;
  return -acc;
}

std::optional<int64_t> ParseCanonicalInt64(std::string_view s) {
  std::string_view digits = s;
  if (!digits.empty() && digits.front() == '-') digits.remove_prefix(1);
  if (digits.empty() || s.front() == '+') return std::nullopt;
  if (digits.front() == '0' && (digits.size() > 1 || s.front() == '-')) {
    return std::nullopt;  // "007", "-0" are not canonical
  }
  return ParseInt64(s);
}

}  // namespace dsd::engine
