// A scanner for valid JSON: it only has to find where each value ends, so
// it tracks strings (with their escapes) and bracket depth; everything else
// was checked by the parser that accepted the text.
#include "client/extender/json_spans.h"

#include <array>
#include <cstddef>
#include <cstring>

namespace dsd::extender {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

size_t SkipSpace(std::string_view s, size_t i) {
  while (i < s.size() && IsSpace(s[i])) ++i;
  return i;
}

// `i` at an opening quote: the index just past the closing one: the first
// quote after it not escaped, i.e. not after an odd run of backslashes
// (\uXXXX needs no care).
size_t SkipString(std::string_view s, size_t i) {
  for (++i; i < s.size();) {
    const void* quote = std::memchr(s.data() + i, '"', s.size() - i);
    if (quote == nullptr) return s.size();
    const size_t q =
        static_cast<size_t>(static_cast<const char*>(quote) - s.data());
    size_t backslashes = 0;
    while (q - backslashes > i && s[q - backslashes - 1] == '\\') {
      ++backslashes;
    }
    if (backslashes % 2 == 0) return q + 1;
    i = q + 1;
  }
  return s.size();
}

// The bytes SkipValue stops at inside a container: quotes and brackets.
constexpr std::array<bool, 256> kStructural = [] {
  std::array<bool, 256> table{};
  for (const char c : {'"', '{', '[', '}', ']'}) {
    table[static_cast<unsigned char>(c)] = true;
  }
  return table;
}();

// `i` at the first byte of a value: the index just past it.
size_t SkipValue(std::string_view s, size_t i) {
  if (i >= s.size()) return i;
  if (s[i] == '"') return SkipString(s, i);
  if (s[i] == '{' || s[i] == '[') {
    int depth = 0;
    while (i < s.size()) {
      const char c = s[i];
      if (!kStructural[static_cast<unsigned char>(c)]) {
        ++i;
        continue;
      }
      if (c == '"') {
        i = SkipString(s, i);
        continue;
      }
      if (c == '{' || c == '[') ++depth;
      if (c == '}' || c == ']') {
        if (--depth == 0) return i + 1;
      }
      ++i;
    }
    return i;
  }
  // A number, true, false or null: up to the next delimiter.
  while (i < s.size() && !IsSpace(s[i]) && s[i] != ',' && s[i] != '}' &&
         s[i] != ']') {
    ++i;
  }
  return i;
}

char Lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

std::string_view TrimJson(std::string_view text) {
  size_t begin = SkipSpace(text, 0);
  size_t end = text.size();
  while (end > begin && IsSpace(text[end - 1])) --end;
  return text.substr(begin, end - begin);
}

std::vector<JsonMember> ObjectMembers(std::string_view object) {
  std::vector<JsonMember> out;
  const std::string_view s = TrimJson(object);
  if (s.empty() || s.front() != '{') return out;
  size_t i = SkipSpace(s, 1);
  while (i < s.size() && s[i] == '"') {
    const size_t key_end = SkipString(s, i);
    const std::string_view key = s.substr(i + 1, key_end - i - 2);
    i = SkipSpace(s, key_end) + 1;  // past ':'
    i = SkipSpace(s, i);
    const size_t value_end = SkipValue(s, i);
    out.push_back({key, s.substr(i, value_end - i)});
    i = SkipSpace(s, value_end);
    if (i < s.size() && s[i] == ',') i = SkipSpace(s, i + 1);
  }
  return out;
}

std::vector<std::string_view> ArrayElements(std::string_view array) {
  std::vector<std::string_view> out;
  const std::string_view s = TrimJson(array);
  if (s.empty() || s.front() != '[') return out;
  size_t i = SkipSpace(s, 1);
  while (i < s.size() && s[i] != ']') {
    const size_t end = SkipValue(s, i);
    out.push_back(s.substr(i, end - i));
    i = SkipSpace(s, end);
    if (i < s.size() && s[i] == ',') i = SkipSpace(s, i + 1);
  }
  return out;
}

std::string_view FindMemberIgnoringCase(const std::vector<JsonMember>& members,
                                        std::string_view key) {
  std::string_view found;
  for (const JsonMember& m : members) {
    if (m.key.size() != key.size()) continue;
    bool equal = true;
    for (size_t i = 0; i < key.size() && equal; ++i) {
      equal = Lower(m.key[i]) == Lower(key[i]);
    }
    if (equal) found = m.value;
  }
  return found;
}

}  // namespace dsd::extender
