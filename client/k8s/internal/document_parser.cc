#include "client/k8s/internal/document_parser.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <istream>
#include <limits>
#include <new>
#include <optional>
#include <stdexcept>
#include <streambuf>
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
  bool whole_message = false;  // the message is the whole error
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
  // `budget_bytes`: how much the converted documents may hold, counted as
  // one byte per node plus its scalar's or key's bytes.
  explicit Converter(size_t budget_bytes) : budget_(budget_bytes) {}

  // Converts `node`, the document `document`; `where` is its path there.
  Json Convert(const YAML::Node& node, int depth, size_t document,
               Json::json_pointer& where) {
    if (depth > kMaxDepth) {
      throw YamlShapeError{"nesting deeper than " + std::to_string(kMaxDepth) +
                               " levels (a recursive alias?)",
                           node.Mark()};
    }
    Charge(node.Type() == YAML::NodeType::Scalar ? node.Scalar().size() : 0,
           node.Mark());
    switch (node.Type()) {
      case YAML::NodeType::Null:
      case YAML::NodeType::Undefined:
        return Json(nullptr);
      case YAML::NodeType::Scalar: {
        Json value = ResolveScalar(node);
        if (value.is_number() && value.dump() != node.Scalar()) {
          number_texts_.push_back({document, where, node.Scalar()});
        }
        return value;
      }
      case YAML::NodeType::Sequence: {
        Json out = Json::array();
        size_t index = 0;
        for (const YAML::Node& item : node) {
          where.push_back(std::to_string(index++));
          out.push_back(Convert(item, depth + 1, document, where));
          where.pop_back();
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
          Charge(name.size(), key.Mark());
          // A repeated key: the last one wins, as in encoding/json.
          where.push_back(name);
          out[name] = Convert(entry.second, depth + 1, document, where);
          where.pop_back();
        }
        return out;
      }
    }
    return Json(nullptr);
  }

  std::vector<NumberText>& number_texts() { return number_texts_; }

 private:
  // Without aliases every node and every scalar byte stands on at least
  // one byte of text, so twice the text is never reached unless aliases
  // multiply it ("billion laughs", or a 1 MB scalar aliased 1,000 times).
  void Charge(size_t scalar_bytes, const YAML::Mark& mark) {
    used_ += 1 + scalar_bytes;
    if (used_ > budget_) {
      throw YamlShapeError{"too large to load (YAML aliases expand it past " +
                               HumanBytes(budget_) +
                               ", twice its size, by the node" + At(mark) + ")",
                           YAML::Mark::null_mark(), /*whole_message=*/true};
    }
  }

  size_t budget_;
  size_t used_ = 0;
  std::vector<NumberText> number_texts_;
};

constexpr char kOutOfMemory[] = "too large to load (out of memory while ";

// nlohmann::json's DOM built through its SAX interface, to keep the text
// of numbers whose value prints differently (number_float gets the text).
class JsonDomBuilder {
 public:
  using number_integer_t = Json::number_integer_t;
  using number_unsigned_t = Json::number_unsigned_t;
  using number_float_t = Json::number_float_t;
  using string_t = Json::string_t;
  using binary_t = Json::binary_t;

  bool null() { return Put(Json(nullptr)); }
  bool boolean(bool value) { return Put(Json(value)); }
  bool number_integer(number_integer_t value) { return Put(Json(value)); }
  bool number_unsigned(number_unsigned_t value) { return Put(Json(value)); }
  bool number_float(number_float_t value, const string_t& text) {
    Json json(value);
    if (json.dump() != text) {
      Json::json_pointer where = path_;
      where.push_back(NextToken());
      number_texts_.push_back({0, std::move(where), text});
    }
    return Put(std::move(json));
  }
  bool string(string_t& value) { return Put(Json(std::move(value))); }
  bool binary(binary_t& value) { return Put(Json::binary(std::move(value))); }
  bool start_object(size_t /*elements*/) { return Open(Json::object()); }
  bool key(string_t& name) {
    key_ = std::move(name);
    return true;
  }
  bool end_object() { return Close(); }
  bool start_array(size_t /*elements*/) { return Open(Json::array()); }
  bool end_array() { return Close(); }
  bool parse_error(size_t position, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& e) {
    error_ = e.what();
    error_position_ = position;
    return false;
  }

  Json& root() { return root_; }
  const std::string& error() const { return error_; }
  size_t error_position() const { return error_position_; }
  std::vector<NumberText>& number_texts() { return number_texts_; }

 private:
  // The reference token of the next value within the current container.
  std::string NextToken() const {
    if (stack_.empty()) return "";
    const Json& parent = *stack_.back();
    return parent.is_array() ? std::to_string(parent.size()) : key_;
  }
  Json* Place(Json&& value) {
    if (stack_.empty()) {
      root_ = std::move(value);
      return &root_;
    }
    Json& parent = *stack_.back();
    if (parent.is_array()) {
      parent.push_back(std::move(value));
      return &parent.back();
    }
    Json& slot = parent[key_];  // a repeated key: the last one wins
    slot = std::move(value);
    return &slot;
  }
  bool Put(Json&& value) {
    Place(std::move(value));
    return true;
  }
  bool Open(Json&& container) {
    if (!stack_.empty()) path_.push_back(NextToken());
    stack_.push_back(Place(std::move(container)));
    return true;
  }
  bool Close() {
    stack_.pop_back();
    if (!stack_.empty()) path_.pop_back();
    return true;
  }

  Json root_;
  std::vector<Json*> stack_;  // open containers, innermost last
  Json::json_pointer path_;   // of the innermost open container
  std::string key_;
  std::string error_;
  size_t error_position_ = 0;
  std::vector<NumberText> number_texts_;
};

// `error_position`: how far the parser read before failing (0 if it did
// not fail on the text).
ParsedText ParseJson(std::string_view text, size_t& error_position) {
  ParsedText out;
  error_position = 0;
  try {
    JsonDomBuilder builder;
    if (Json::sax_parse(text.begin(), text.end(), &builder)) {
      out.documents.push_back(std::move(builder.root()));
      out.number_texts = std::move(builder.number_texts());
      return out;
    }
    // what(): "[json.exception.parse_error.101] parse error at line 3,
    // column 8: syntax error while parsing value - unexpected '}'; ..."
    const std::string& what = builder.error();
    error_position = builder.error_position();
    constexpr std::string_view kMarker = "parse error ";
    const size_t at = what.find(kMarker);
    out.error = at == std::string::npos
                    ? "invalid JSON: " + what
                    : "invalid JSON " + what.substr(at + kMarker.size());
  } catch (const std::bad_alloc&) {
    out = ParsedText();
    out.error = std::string(kOutOfMemory) + "parsing JSON)";
  } catch (const std::length_error&) {
    out = ParsedText();
    out.error = std::string(kOutOfMemory) + "parsing JSON)";
  } catch (const std::exception& e) {
    out = ParsedText();
    out.error = std::string("invalid JSON: ") + e.what();
  }
  return out;
}

// An istream over `text` without copying it.
class ViewBuffer : public std::streambuf {
 public:
  explicit ViewBuffer(std::string_view text) {
    // std::streambuf wants char*; it is only read from.
    char* begin = const_cast<char*>(text.data());
    setg(begin, begin, begin + text.size());
  }
};

// YAML allows no C0 control character but tab, line feed and carriage
// return, nor DEL (YAML 1.2 c-printable; go-yaml, and so kubectl, reject
// them as "control characters are not allowed"); yaml-cpp reads them as
// text. "" or the error naming the first one. UTF-16 and UTF-32 text
// (with a byte order mark) is left to yaml-cpp.
std::string ControlCharacterError(std::string_view text, size_t& position) {
  if (text.starts_with("\xFE\xFF") || text.starts_with("\xFF\xFE") ||
      text.starts_with(std::string_view("\0\0\xFE\xFF", 4))) {
    return "";
  }
  size_t line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++line;
      line_start = i + 1;
      continue;
    }
    if ((c >= 0x20 && c != 0x7F) || c == '\t' || c == '\r') continue;
    position = i;
    char byte[8];
    std::snprintf(byte, sizeof byte, "0x%02X", static_cast<unsigned>(c));
    return "invalid YAML at line " + std::to_string(line) + ", column " +
           std::to_string(i - line_start + 1) + ": control character " + byte +
           " is not allowed (binary input?)";
  }
  return "";
}

// yaml-cpp 0.7's LoadAll never ends on a ',' outside a flow collection at
// the top level ("," or "[a] ,"): each document it reads there is an empty
// one that does not consume the ','. It collects such documents until
// memory runs out. This event pass (no nodes built) stops there instead:
// every real document consumes input, so a document that starts where the
// one before it started is that loop.
class StuckDocumentCheck : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override {
    if (documents_++ > 0 && mark.pos == last_start_.pos) {
      throw YamlShapeError{"',' outside a flow collection ([...] or {...})",
                           mark};
    }
    last_start_ = mark;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

 private:
  size_t documents_ = 0;
  YAML::Mark last_start_;
};

ParsedText ParseYaml(std::string_view text, size_t& error_position) {
  ParsedText out;
  error_position = 0;
  if (std::string error = ControlCharacterError(text, error_position);
      !error.empty()) {
    out.error = std::move(error);
    return out;
  }
  const auto fail = [&](const std::string& error, const YAML::Mark& mark) {
    out = ParsedText();
    out.error = error;
    error_position = mark.is_null() ? 0 : static_cast<size_t>(mark.pos);
  };
  try {
    {
      ViewBuffer check_buffer(text);
      std::istream check_in(&check_buffer);
      YAML::Parser parser(check_in);
      StuckDocumentCheck check;
      while (parser.HandleNextDocument(check)) {
      }
    }
    ViewBuffer buffer(text);
    std::istream in(&buffer);
    const std::vector<YAML::Node> nodes = YAML::LoadAll(in);
    out.multi_document = nodes.size() > 1;
    Converter converter(2 * text.size() + 4096);
    for (size_t i = 0; i < nodes.size(); ++i) {
      Json::json_pointer where;
      out.documents.push_back(converter.Convert(nodes[i], 0, i, where));
    }
    out.number_texts = std::move(converter.number_texts());
  } catch (const YamlShapeError& e) {
    fail(e.whole_message ? e.message
                         : "invalid YAML" + At(e.mark) + ": " + e.message,
         e.mark);
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp's message for this is "bad file".
    fail("invalid YAML" + At(e.mark) +
             ": nested too deeply to parse (Kubernetes objects nest a few "
             "dozen levels)",
         e.mark);
  } catch (const YAML::Exception& e) {
    fail("invalid YAML" + At(e.mark) + ": " + e.msg, e.mark);
  } catch (const std::bad_alloc&) {
    fail(std::string(kOutOfMemory) + "parsing YAML)", YAML::Mark::null_mark());
  } catch (const std::length_error&) {
    fail(std::string(kOutOfMemory) + "parsing YAML)", YAML::Mark::null_mark());
  } catch (const std::exception& e) {
    fail(std::string("invalid YAML: ") + e.what(), YAML::Mark::null_mark());
  }
  return out;
}

bool OutOfMemory(const ParsedText& parsed) {
  return parsed.error.starts_with(kOutOfMemory);
}

}  // namespace

// Bytes as people read them: "2 MiB", "1.5 GiB", "123 bytes".
std::string HumanBytes(size_t bytes) {
  constexpr std::array<std::string_view, 3> kUnits = {"KiB", "MiB", "GiB"};
  double value = static_cast<double>(bytes);
  std::string_view unit = "bytes";
  for (std::string_view u : kUnits) {
    if (value < 1024) break;
    value /= 1024;
    unit = u;
  }
  if (unit == "bytes") return std::to_string(bytes) + " bytes";
  char buffer[32];
  std::snprintf(
      buffer, sizeof buffer, "%.*f %s",
      value == static_cast<double>(static_cast<int64_t>(value)) ? 0 : 1, value,
      std::string(unit).c_str());
  return buffer;
}

ParsedText ParseDocuments(std::string_view text) {
  // A UTF-8 byte order mark is not content.
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  if (text.substr(0, kBom.size()) == kBom) text.remove_prefix(kBom.size());
  const size_t first = text.find_first_not_of(" \t\r\n");
  size_t yaml_error_at = 0;
  if (first == std::string_view::npos ||
      (text[first] != '{' && text[first] != '[')) {
    return ParseYaml(text, yaml_error_at);
  }
  // JSON is YAML, but YAML's flow style (`{kind: Node}`) is not JSON: try
  // JSON first for its exact error positions, then YAML.
  size_t json_error_at = 0;
  ParsedText json = ParseJson(text, json_error_at);
  if (json.error.empty() || OutOfMemory(json)) return json;
  ParsedText yaml = ParseYaml(text, yaml_error_at);
  if (yaml.error.empty() || OutOfMemory(yaml)) return yaml;
  // Both failed: the parser that got further understood the text better
  // (a JSON document fails both near the same place; flow-style YAML fails
  // JSON at its first unquoted key). JSON counts bytes read, from 1.
  return yaml_error_at + 1 > json_error_at ? yaml : json;
}

void AddNumberTexts(const ParsedText& parsed, NumberTexts& out) {
  for (const NumberText& n : parsed.number_texts) {
    if (n.document >= parsed.documents.size()) continue;
    const Json& document = parsed.documents[n.document];
    // A repeated key may have replaced the number since; then it is gone.
    if (!document.contains(n.where)) continue;
    const Json& value = document.at(n.where);
    if (value.is_number()) out[&value] = n.text;
  }
}

}  // namespace dsd::client::internal
