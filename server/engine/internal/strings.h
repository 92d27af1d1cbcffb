// String building for engine messages. Debian 12's Abseil is built with its
// own absl::string_view (ABSL_OPTION_USE_STD_STRING_VIEW 0), so absl::StrCat
// does not take the std::string_view the engine uses; these helpers do.
#ifndef DSD_SERVER_ENGINE_INTERNAL_STRINGS_H_
#define DSD_SERVER_ENGINE_INTERNAL_STRINGS_H_

#include <concepts>
#include <string>
#include <string_view>

namespace dsd::engine::internal {

inline void AppendPiece(std::string& out, std::string_view s) { out += s; }
inline void AppendPiece(std::string& out, char c) { out += c; }
template <std::integral T>
requires(!std::same_as<T, char> &&
         !std::same_as<T, bool>) void AppendPiece(std::string& out, T v) {
  out += std::to_string(v);
}

// Concatenates strings, string views, chars and integers.
template <typename... Args>
std::string Cat(const Args&... args) {
  std::string out;
  (AppendPiece(out, args), ...);
  return out;
}

// Joins `items` (anything convertible to std::string_view) with `sep`.
template <typename Range>
std::string Join(const Range& items, std::string_view sep) {
  std::string out;
  bool first = true;
  for (const auto& item : items) {
    if (!first) out += sep;
    first = false;
    out += std::string_view(item);
  }
  return out;
}

}  // namespace dsd::engine::internal

#endif  // DSD_SERVER_ENGINE_INTERNAL_STRINGS_H_
