// Mirrors apimachinery/pkg/util/validation (IsQualifiedName, IsValidLabelValue,
// IsDNS1123Subdomain, IsDNS1123Label) and Go's strconv.ParseInt. Hand-written
// scanners rather than std::regex: these run per label in hot paths.
#include "server/engine/k8s_names.h"

#include <limits>

namespace dsd::engine {
namespace {

bool IsLowerAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool IsAlnum(char c) { return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }

// ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9], 1..63 chars.
bool IsQualifiedNamePart(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  if (!IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  for (char c : s) {
    if (!IsAlnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

// [a-z0-9]([-a-z0-9]*[a-z0-9])?
bool IsDns1123LabelChars(std::string_view s) {
  if (s.empty()) return false;
  if (!IsLowerAlnum(s.front()) || !IsLowerAlnum(s.back())) return false;
  for (char c : s) {
    if (!IsLowerAlnum(c) && c != '-') return false;
  }
  return true;
}

}  // namespace

bool IsDns1123Label(std::string_view s) {
  return s.size() <= 63 && IsDns1123LabelChars(s);
}

bool IsDns1123Subdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (true) {
    const size_t dot = s.find('.', start);
    const std::string_view part = s.substr(start, dot - start);
    if (!IsDns1123LabelChars(part)) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
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
