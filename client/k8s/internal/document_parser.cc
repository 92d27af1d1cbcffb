#include "client/k8s/internal/document_parser.h"

#include <yaml-cpp/yaml.h>

#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace dsd::client::internal {
namespace {

using Json = nlohmann::json;

// Deeper than any Kubernetes object; yaml-cpp lets an alias point at an
// enclosing anchor (`a: &x [*x]`), which would otherwise recurse forever.
constexpr int kMaxDepth = 200;

// yaml-cpp's tag for an untagged plain scalar (quoted ones get "!").
constexpr std::string_view kPlainTag = "?";
constexpr std::string_view kYamlTagPrefix = "tag:yaml.org,2002:";

// Thrown inside the converter only; ParseDocuments turns it into an error.
struct YamlShapeError {
  std::string message;
  YAML::Mark mark;
};

std::string At(const YAML::Mark& mark) {
  if (mark.is_null()) return "";
  return " at line " + std::to_string(mark.line + 1) + ", column " +
         std::to_string(mark.column + 1);
}

bool IsDigitIn(char c, int base) {
  if (c >= '0' && c <= '9') return c - '0' < base;
  if (base != 16) return false;
  return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// go-yaml v2 resolves plain integers with strconv.ParseInt(s, 0, 64) after
// dropping '_': an optional sign, then 0x/0o/0b or a leading 0 (octal), or
// decimal. Out of int64 range but within uint64: unsigned.
std::optional<Json> ResolveInteger(std::string_view text) {
  std::string plain;
  for (char c : text) {
    if (c != '_') plain += c;
  }
  std::string_view s = plain;
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  int base = 10;
  if (s.size() > 2 && s[0] == '0') {
    const char prefix = s[1];
    if (prefix == 'x' || prefix == 'X') base = 16;
    if (prefix == 'o' || prefix == 'O') base = 8;
    if (prefix == 'b' || prefix == 'B') base = 2;
    if (base != 10) s.remove_prefix(2);
  }
  if (base == 10 && s.size() > 1 && s[0] == '0') {
    base = 8;  // a leading 0 means octal, as in Go
    s.remove_prefix(1);
  }
  if (s.empty()) return std::nullopt;
  for (char c : s) {
    if (!IsDigitIn(c, base)) return std::nullopt;
  }
  uint64_t magnitude = 0;
  const auto [end, ec] =
      std::from_chars(s.data(), s.data() + s.size(), magnitude, base);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  constexpr uint64_t kMaxInt64 =
      static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (!negative) {
    if (magnitude <= kMaxInt64) return Json(static_cast<int64_t>(magnitude));
    return Json(magnitude);
  }
  if (magnitude <= kMaxInt64) return Json(-static_cast<int64_t>(magnitude));
  if (magnitude == kMaxInt64 + 1) {
    return Json(std::numeric_limits<int64_t>::min());
  }
  return std::nullopt;
}

// go-yaml v2's float syntax:
// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? plus .inf/.nan spellings
// (which JSON cannot carry: kept as strings).
std::optional<Json> ResolveFloat(std::string_view s) {
  size_t i = 0;
  auto digits = [&]() {
    const size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i - start;
  };
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (digits() == 0) return std::nullopt;
  } else {
    if (digits() == 0) return std::nullopt;
    if (i < s.size() && s[i] == '.') {
      ++i;
      digits();
    }
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (digits() == 0) return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  std::string_view number = s;
  if (!number.empty() && number[0] == '+') number.remove_prefix(1);
  double value = 0;
  const auto [end, ec] =
      std::from_chars(number.data(), number.data() + number.size(), value);
  if (ec != std::errc() || end != number.data() + number.size()) {
    return std::nullopt;
  }
  return Json(value);
}

// go-yaml v2 (YAML 1.1) booleans, which kubectl applies to plain scalars:
// `gpu: yes` is a boolean there, and Kubernetes then rejects it as a label
// value. Matching that keeps YAML and `kubectl apply` in agreement.
std::optional<bool> ResolveBool(std::string_view s) {
  static constexpr std::array<std::string_view, 11> kTrue = {
      "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"};
  static constexpr std::array<std::string_view, 11> kFalse = {
      "n",     "N",     "no",  "No",  "NO", "false",
      "False", "FALSE", "off", "Off", "OFF"};
  for (std::string_view t : kTrue) {
    if (s == t) return true;
  }
  for (std::string_view f : kFalse) {
    if (s == f) return false;
  }
  return std::nullopt;
}

bool IsNullSpelling(std::string_view s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

Json ResolvePlain(const std::string& s) {
  if (IsNullSpelling(s)) return Json(nullptr);
  if (std::optional<bool> b = ResolveBool(s)) return Json(*b);
  if (std::optional<Json> i = ResolveInteger(s)) return *std::move(i);
  if (std::optional<Json> f = ResolveFloat(s)) return *std::move(f);
  return Json(s);
}

Json ResolveScalar(const YAML::Node& node) {
  const std::string& tag = node.Tag();
  const std::string& text = node.Scalar();
  if (tag == kPlainTag) return ResolvePlain(text);
  if (std::string_view(tag).substr(0, kYamlTagPrefix.size()) ==
      kYamlTagPrefix) {
    const std::string_view type =
        std::string_view(tag).substr(kYamlTagPrefix.size());
    if (type == "int") {
      if (std::optional<Json> i = ResolveInteger(text)) return *std::move(i);
      throw YamlShapeError{"!!int " + text + " is not an integer", node.Mark()};
    }
    if (type == "float") {
      if (std::optional<Json> f = ResolveFloat(text)) return *std::move(f);
      if (std::optional<Json> i = ResolveInteger(text)) return *std::move(i);
      throw YamlShapeError{"!!float " + text + " is not a number", node.Mark()};
    }
    if (type == "bool") {
      if (std::optional<bool> b = ResolveBool(text)) return Json(*b);
      throw YamlShapeError{"!!bool " + text + " is not a boolean", node.Mark()};
    }
    if (type == "null") return Json(nullptr);
  }
  // Quoted, block (| >) and otherwise tagged scalars are strings.
  return Json(text);
}

class Converter {
 public:
  explicit Converter(size_t budget) : budget_(budget) {}

  Json Convert(const YAML::Node& node, int depth) {
    if (depth > kMaxDepth) {
      throw YamlShapeError{"nesting deeper than " + std::to_string(kMaxDepth) +
                               " levels (a recursive alias?)",
                           node.Mark()};
    }
    // Each node needs at least one byte of text unless it is an alias, so
    // a count beyond the budget means aliases multiplying ("billion
    // laughs").
    if (++converted_ > budget_) {
      throw YamlShapeError{"too many nodes after expanding aliases",
                           node.Mark()};
    }
    switch (node.Type()) {
      case YAML::NodeType::Null:
      case YAML::NodeType::Undefined:
        return Json(nullptr);
      case YAML::NodeType::Scalar:
        return ResolveScalar(node);
      case YAML::NodeType::Sequence: {
        Json out = Json::array();
        for (const YAML::Node& item : node) {
          out.push_back(Convert(item, depth + 1));
        }
        return out;
      }
      case YAML::NodeType::Map: {
        Json out = Json::object();
        for (const auto& entry : node) {
          const YAML::Node& key = entry.first;
          std::string name;
          if (key.Type() == YAML::NodeType::Scalar) {
            name = key.Scalar();
          } else if (key.Type() == YAML::NodeType::Null) {
            name = "null";  // as sigs.k8s.io/yaml renders a nil key
          } else {
            throw YamlShapeError{"a map key must be a scalar", key.Mark()};
          }
          // A repeated key: the last one wins, as in encoding/json.
          out[name] = Convert(entry.second, depth + 1);
        }
        return out;
      }
    }
    return Json(nullptr);
  }

 private:
  size_t budget_;
  size_t converted_ = 0;
};

ParsedText ParseJson(std::string_view text) {
  ParsedText out;
  try {
    out.documents.push_back(Json::parse(text.begin(), text.end()));
  } catch (const Json::parse_error& e) {
    // what(): "[json.exception.parse_error.101] parse error at line 3,
    // column 8: syntax error while parsing value - unexpected '}'; ..."
    const std::string what = e.what();
    constexpr std::string_view kMarker = "parse error ";
    const size_t at = what.find(kMarker);
    out.error = at == std::string::npos
                    ? "invalid JSON: " + what
                    : "invalid JSON " + what.substr(at + kMarker.size());
  } catch (const std::exception& e) {
    out.error = std::string("invalid JSON: ") + e.what();
  }
  return out;
}

ParsedText ParseYaml(std::string_view text) {
  ParsedText out;
  try {
    const std::vector<YAML::Node> nodes = YAML::LoadAll(std::string(text));
    out.multi_document = nodes.size() > 1;
    Converter converter(2 * text.size() + 1024);
    for (const YAML::Node& node : nodes) {
      out.documents.push_back(converter.Convert(node, 0));
    }
  } catch (const YamlShapeError& e) {
    out.documents.clear();
    out.error = "invalid YAML" + At(e.mark) + ": " + e.message;
  } catch (const YAML::Exception& e) {
    out.documents.clear();
    out.error = "invalid YAML" + At(e.mark) + ": " + e.msg;
  } catch (const std::exception& e) {
    out.documents.clear();
    out.error = std::string("invalid YAML: ") + e.what();
  }
  return out;
}

}  // namespace

ParsedText ParseDocuments(std::string_view text) {
  // A UTF-8 byte order mark is not content.
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  if (text.substr(0, kBom.size()) == kBom) text.remove_prefix(kBom.size());
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos &&
      (text[first] == '{' || text[first] == '[')) {
    return ParseJson(text);
  }
  return ParseYaml(text);
}

}  // namespace dsd::client::internal
