#include "server/convert/field_path.h"

namespace dsd::convert {

std::string FieldPath::Render(std::string_view leaf) const {
  std::string out;
  for (const Segment& s : segments_) {
    if (!out.empty() && !s.name.empty()) out += '.';
    out += s.name;
    if (s.index >= 0) {
      out += '[';
      out += std::to_string(s.index);
      out += ']';
    }
    if (s.keyed) {
      out += "[\"";
      out += s.key;
      out += "\"]";
    }
  }
  if (!leaf.empty()) {
    if (!out.empty()) out += '.';
    out += leaf;
  }
  return out;
}

}  // namespace dsd::convert
