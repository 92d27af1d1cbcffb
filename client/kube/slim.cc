#include "client/kube/slim.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <utility>

#include "client/kube/client.h"

namespace dsd::kube {
namespace {

constexpr char kLastApplied[] =
    "kubectl.kubernetes.io/last-applied-configuration";

void Erase(nlohmann::json& object, const char* key) {
  if (object.is_object()) object.erase(key);
}

// What SlimObject drops, as a tree of rules the simdjson writer follows:
// at an object, the keys to leave out and the rules of its children. A
// rule applies only where the value is an object, as SlimObject's erase.
struct Rule {
  std::vector<std::string_view> drop;
  std::vector<std::pair<std::string_view, const Rule*>> children;

  bool Drops(std::string_view key) const {
    return std::find(drop.begin(), drop.end(), key) != drop.end();
  }
  const Rule* Child(std::string_view key) const {
    for (const auto& [k, rule] : children) {
      if (k == key) return rule;
    }
    return nullptr;
  }
};

// The rule of an item of `kind`; it also drops the item's own kind and
// apiVersion, which the writer sets from the resource (as Client::List).
const Rule* ItemRule(const std::string& kind) {
  static const Rule annotations{{kLastApplied}, {}};
  static const Rule metadata{{"managedFields"},
                             {{"annotations", &annotations}}};
  static const Rule pod_spec{
      {"containers", "initContainers", "ephemeralContainers", "volumes"}, {}};
  static const Rule pod_status{{"containerStatuses", "initContainerStatuses",
                                "ephemeralContainerStatuses"},
                               {}};
  static const Rule pod{
      {"kind", "apiVersion"},
      {{"metadata", &metadata}, {"spec", &pod_spec}, {"status", &pod_status}}};
  static const Rule ds_template{{}, {{"spec", &pod_spec}}};
  static const Rule ds_spec{{}, {{"template", &ds_template}}};
  static const Rule daemon_set{{"kind", "apiVersion"},
                               {{"metadata", &metadata}, {"spec", &ds_spec}}};
  static const Rule revision{{"kind", "apiVersion", "data"},
                             {{"metadata", &metadata}}};
  static const Rule node_status{{"images", "volumesInUse", "volumesAttached"},
                                {}};
  static const Rule node{{"kind", "apiVersion"},
                         {{"metadata", &metadata}, {"status", &node_status}}};
  static const Rule other{{"kind", "apiVersion"}, {{"metadata", &metadata}}};
  if (kind == "Pod") return &pod;
  if (kind == "DaemonSet") return &daemon_set;
  if (kind == "ControllerRevision") return &revision;
  if (kind == "Node") return &node;
  return &other;
}

// The bytes nlohmann's dump() escapes: below 0x20, '"' and '\\'.
constexpr std::array<bool, 256> kEscaped = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 0x20; ++c) table[static_cast<size_t>(c)] = true;
  table['"'] = true;
  table['\\'] = true;
  return table;
}();

bool IsSpace(uint8_t c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

// true, false or null; compared at a fixed size, which compilers inline.
bool IsLiteral(std::string_view t) {
  switch (t.size()) {
    case 4:
      return std::memcmp(t.data(), "true", 4) == 0 ||
             std::memcmp(t.data(), "null", 4) == 0;
    case 5:
      return std::memcmp(t.data(), "false", 5) == 0;
    default:
      return false;
  }
}

// JSON's number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
bool IsNumber(std::string_view t) {
  size_t i = 0;
  const auto digits = [&] {
    const size_t from = i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
    return i > from;
  };
  if (i < t.size() && t[i] == '-') ++i;
  if (i < t.size() && t[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < t.size() && t[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == t.size();
}

// An integer of up to 18 digits: an int64 to nlohmann, which prints it as
// written, but for "-0" ("0").
bool IsShortInteger(std::string_view t) {
  const bool minus = !t.empty() && t[0] == '-';
  const std::string_view digits = t.substr(minus ? 1 : 0);
  if (digits.empty() || digits.size() > 18 || (minus && digits[0] == '0') ||
      (digits[0] == '0' && digits.size() > 1)) {
    return false;
  }
  return std::all_of(digits.begin(), digits.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

// Whether nlohmann, the reference, takes the number: JSON's grammar, and
// a value that is finite as a double where it is not an integer (it
// refuses 1e400 and 400-digit integers as overflows). Other than short
// integers, numbers are rare in Kubernetes objects (quantities are
// strings), so nlohmann itself decides those.
bool NlohmannTakesNumber(std::string_view t) {
  return IsShortInteger(t) ||
         (IsNumber(t) &&
          !nlohmann::json::parse(t, nullptr, false).is_discarded());
}

// An output buffer whose appends are inline (std::string's are calls,
// which showed in the profile: most appends are a byte or a short key).
class Out {
 public:
  Out& operator+=(char c) {
    Reserve(1);
    data_[size_++] = c;
    return *this;
  }
  Out& operator+=(std::string_view s) {
    append(s.data(), s.size());
    return *this;
  }
  void append(const char* p, size_t n) {
    Reserve(n);
    std::memcpy(data_.get() + size_, p, n);
    size_ += n;
  }
  void Quoted(std::string_view s) {  // "s", its bytes as they are
    Reserve(s.size() + 2);
    char* to = data_.get() + size_;
    *to = '"';
    std::memcpy(to + 1, s.data(), s.size());
    to[s.size() + 1] = '"';
    size_ += s.size() + 2;
  }
  // [,]"key": with the key's bytes as they are.
  void Key(std::string_view key, bool comma) {
    Reserve(key.size() + 4);
    char* to = data_.get() + size_;
    *to = ',';
    to += comma ? 1 : 0;
    *to = '"';
    std::memcpy(to + 1, key.data(), key.size());
    to[key.size() + 1] = '"';
    to[key.size() + 2] = ':';
    size_ = static_cast<size_t>(to + key.size() + 3 - data_.get());
  }
  size_t size() const { return size_; }
  void resize(size_t n) { size_ = std::min(n, size_); }  // only shrinks
  void clear() { size_ = 0; }
  std::string_view view() const { return {data_.get(), size_}; }

 private:
  void Reserve(size_t n) {
    if (capacity_ - size_ < n) Grow(n);
  }
  [[gnu::noinline]] void Grow(size_t n) {
    capacity_ = std::max(2 * capacity_, size_ + n + 4096);
    auto bigger = std::make_unique<char[]>(capacity_);
    if (size_ > 0) std::memcpy(bigger.get(), data_.get(), size_);
    data_ = std::move(bigger);
  }

  std::unique_ptr<char[]> data_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

// The second half of a JSON parser over simdjson's first: simdjson's
// stage 1 finds the structural characters of a page (and checks its
// UTF-8, its strings' raw bytes and that they close); this walks them,
// checks the grammar, escapes and literals of every value, and writes
// the kept part of each item as compact JSON, as nlohmann::json::dump()
// does: object keys sorted by their bytes (nlohmann::json keeps objects
// in a std::map), a duplicate key's last value (operator[] assigns),
// strings escaped as dump's ensure_ascii=false (", \, \b \f \n \r \t,
// other bytes below 0x20 as \u00xx), integers as written, other numbers
// by nlohmann itself. What is dropped is checked but never copied or
// unescaped, which is what makes this faster than building simdjson's
// DOM and writing from it.
class PageParser {
 public:
  struct Capture {  // an item's metadata.name and .namespace, as read
    bool is_object = false;
    std::string name, ns;
  };

  // Stage 1 over body[0, size); body has SIMDJSON_PADDING spaces after.
  // false when simdjson refuses the bytes.
  bool Start(const std::string& body, size_t size) {
    if (size > simdjson::SIMDJSON_MAXSIZE_BYTES) return false;
    if (impl_ == nullptr) {
      if (simdjson::get_active_implementation()
              ->create_dom_parser_implementation(size, kMaxDepth, impl_) !=
          simdjson::SUCCESS) {
        return false;
      }
    } else if (impl_->capacity() < size &&
               impl_->set_capacity(size) != simdjson::SUCCESS) {
      return false;
    }
    // Unescaped strings are no longer than the page; parse_string may
    // write a block of up to 64 bytes past the end of one.
    if (strings_size_ < size + 2 * simdjson::SIMDJSON_PADDING) {
      strings_size_ = size + 2 * simdjson::SIMDJSON_PADDING;
      strings_ = std::make_unique<uint8_t[]>(strings_size_);
    }
    buf_ = reinterpret_cast<const uint8_t*>(body.data());
    if (impl_->stage1(buf_, size, simdjson::stage1_mode::regular) !=
        simdjson::SUCCESS) {
      return false;
    }
    size_ = size;
    strings_used_ = 0;
    backslash_ = 0;  // strings start after a quote: the first one searches
    index_ = impl_->structural_indexes.get();
    n_ = impl_->n_structural_indexes;
    pos_ = 0;
    return true;
  }

  // The structural character at hand; past the last one, the padding's
  // space, which no rule accepts.
  char Peek() const { return static_cast<char>(buf_[index_[pos_]]); }
  bool Take(char c) {
    if (Peek() != c) return false;
    ++pos_;
    return true;
  }
  bool AtEnd() const { return pos_ == n_; }

  // The string at hand, unescaped; `raw` when it has no escape (its bytes
  // then need none in the output either: stage 1 refused raw control
  // characters). false when an escape is invalid.
  bool String(std::string_view* s, bool* raw) {
    if (Peek() != '"') return false;
    const size_t begin = index_[pos_] + 1;
    // Only whitespace lies between the closing quote and the next
    // structural character (anything else would be one itself).
    size_t end = index_[pos_ + 1];
    ++pos_;
    while (end > begin && IsSpace(buf_[end - 1])) --end;
    if (end <= begin || buf_[end - 1] != '"') return false;
    --end;
    *raw = !HasBackslash(begin, end);
    if (*raw) {
      *s = {reinterpret_cast<const char*>(buf_ + begin), end - begin};
      return true;
    }
    uint8_t* const to = strings_.get() + strings_used_;
    const uint8_t* const to_end = impl_->parse_string(buf_ + begin, to);
    if (to_end == nullptr) return false;
    *s = {reinterpret_cast<const char*>(to), static_cast<size_t>(to_end - to)};
    strings_used_ += s->size();
    return true;
  }

  // Unescaped strings (keys among them) are kept until the next call.
  void ForgetStrings() { strings_used_ = 0; }

  // Checks the value at hand (at `depth`) and moves past it: the grammar,
  // escapes and literals of all it holds. A loop, not recursion: most of
  // a page is skipped.
  bool Skip(size_t depth) {
    size_t level = 0;  // containers open within the value; open_ says which
    while (true) {
      switch (Peek()) {  // a value
        case '{':
        case '[': {
          const char open = Peek();
          if (depth + level > kMaxDepth) return false;
          ++pos_;
          if (Take(open == '{' ? '}' : ']')) break;
          open_[level++] = open;
          if (open == '{' && !SkipKey()) return false;
          continue;
        }
        case '"':
          if (!SkipString()) return false;
          break;
        default: {
          const std::string_view t = Scalar();
          if (!IsLiteral(t) && !NlohmannTakesNumber(t)) return false;
        }
      }
      // After a value: the containers it closes, then the next member.
      for (;; --level) {
        if (level == 0) return true;
        const bool object = open_[level - 1] == '{';
        if (Take(',')) {
          if (object && !SkipKey()) return false;
          break;
        }
        if (!Take(object ? '}' : ']')) return false;
      }
    }
  }

  // The members of the object at hand, each passed to `member(key, raw)`
  // with its value at hand, which it must consume.
  template <typename OnMember>
  bool Members(size_t depth, OnMember&& member) {
    if (depth > kMaxDepth || !Take('{')) return false;
    if (Take('}')) return true;
    do {
      std::string_view key;
      bool raw;
      if (!String(&key, &raw) || !Take(':') || !member(key, raw)) {
        return false;
      }
    } while (Take(','));
    return Take('}');
  }

  template <typename OnElement>
  bool Elements(size_t depth, OnElement&& element) {
    if (depth > kMaxDepth || !Take('[')) return false;
    if (Take(']')) return true;
    do {
      if (!element()) return false;
    } while (Take(','));
    return Take(']');
  }

  // Writes the value at hand, kept under `rule` (applied where the value
  // is an object).
  bool Write(const Rule* rule, size_t depth) {
    switch (Peek()) {
      case '{':
        return WriteObject(rule, depth, {}, nullptr, nullptr);
      case '[': {
        out_ += '[';
        bool first = true;
        if (!Elements(depth, [&] {
              if (!first) out_ += ',';
              first = false;
              return Write(nullptr, depth + 1);
            })) {
          return false;
        }
        out_ += ']';
        return true;
      }
      case '"': {
        std::string_view s;
        bool raw;
        if (!String(&s, &raw)) return false;
        WriteString(s, raw);
        return true;
      }
      default:
        return WriteScalar(Scalar());
    }
  }

  // `extra`: members to add (their values already JSON), as the item's
  // kind and apiVersion. `item`: the object is an item, whose metadata's
  // name and namespace go there. `names`: the object is that metadata.
  bool WriteObject(
      const Rule* rule, size_t depth,
      std::initializer_list<std::pair<std::string_view, std::string_view>>
          extra,
      Capture* item, Capture* names) {
    const size_t open = out_.size();
    out_ += '{';
    std::vector<Member>& members = scratch_[depth];
    members.clear();
    bool sorted = true;
    const auto add = [&](std::string_view key, bool raw, auto&& value) {
      const size_t begin = out_.size() + (members.empty() ? 0 : 1);
      if (raw) {
        out_.Key(key, !members.empty());
      } else {
        if (!members.empty()) out_ += ',';
        WriteString(key, false);
        out_ += ':';
      }
      if (!value()) return false;
      if (!members.empty() && !KeyLess(members.back().key, key)) {
        sorted = false;
      }
      members.push_back({key, begin, out_.size()});
      return true;
    };
    for (const std::pair<std::string_view, std::string_view>& member : extra) {
      add(member.first, true, [&] {
        out_ += member.second;
        return true;
      });
    }
    if (!Members(depth, [&](std::string_view key, bool raw) {
          if (rule != nullptr && rule->Drops(key)) return Skip(depth + 1);
          const Rule* child = rule != nullptr ? rule->Child(key) : nullptr;
          if (item != nullptr && key == "metadata") {
            *item = Capture{Peek() == '{', {}, {}};
            if (item->is_object) {
              return add(key, raw, [&] {
                return WriteObject(child, depth + 1, {}, nullptr, item);
              });
            }
          }
          std::string* field = nullptr;
          if (names != nullptr) {
            field = key == "name"        ? &names->name
                    : key == "namespace" ? &names->ns
                                         : nullptr;
          }
          if (field == nullptr) {
            return add(key, raw, [&] { return Write(child, depth + 1); });
          }
          field->clear();  // the last one counts, and only as a string
          return add(key, raw, [&] {
            if (Peek() != '"') return Write(child, depth + 1);
            std::string_view s;
            bool raw_value;
            if (!String(&s, &raw_value)) return false;
            field->assign(s);
            WriteString(s, raw_value);
            return true;
          });
        })) {
      return false;
    }
    if (!sorted) Reorder(open + 1, members);
    out_ += '}';
    return true;
  }

  std::string_view out() const { return out_.view(); }
  void ClearOut() { out_.clear(); }

 private:
  static constexpr size_t kMaxDepth = simdjson::DEFAULT_MAX_DEPTH;

  // As std::string_view's operator< (unsigned bytes), the first byte
  // compared inline: most keys differ there.
  static bool KeyLess(std::string_view a, std::string_view b) {
    if (!a.empty() && !b.empty() && a[0] != b[0]) {
      return static_cast<unsigned char>(a[0]) <
             static_cast<unsigned char>(b[0]);
    }
    return a < b;
  }

  struct Member {
    std::string_view key;  // unescaped
    size_t begin, end;     // its "key":value in out_
  };

  // Whether body[begin, end) holds a backslash. Strings are asked about in
  // the page's order, so one memchr pass finds them all.
  bool HasBackslash(size_t begin, size_t end) {
    if (backslash_ < begin) {
      const void* next = std::memchr(buf_ + begin, '\\', size_ - begin);
      backslash_ =
          next == nullptr
              ? size_
              : static_cast<size_t>(static_cast<const uint8_t*>(next) - buf_);
    }
    return backslash_ < end;
  }

  bool SkipKey() { return Peek() == '"' && SkipString() && Take(':'); }

  // The string at hand, its escapes checked when it has any. Its end is
  // not looked for: stage 1 found it, and only whitespace follows it up
  // to the next structural character.
  bool SkipString() {
    const size_t begin = index_[pos_] + 1;
    const size_t next = index_[pos_ + 1];
    ++pos_;
    return !HasBackslash(begin, next) ||
           impl_->parse_string(buf_ + begin, strings_.get() + strings_used_) !=
               nullptr;
  }

  // The number or literal at hand, without the whitespace after it.
  std::string_view Scalar() {
    const uint8_t* begin = buf_ + index_[pos_];
    const uint8_t* end = buf_ + index_[pos_ + 1];
    ++pos_;
    while (end > begin && IsSpace(end[-1])) --end;
    return {reinterpret_cast<const char*>(begin),
            static_cast<size_t>(end - begin)};
  }

  bool WriteScalar(std::string_view t) {
    if (IsLiteral(t) || IsShortInteger(t)) {
      out_ += t;
      return true;
    }
    if (!IsNumber(t)) return false;
    const nlohmann::json number = nlohmann::json::parse(t, nullptr, false);
    if (number.is_discarded()) return false;  // 1e400: nlohmann's overflow
    out_ += number.dump();
    return true;
  }

  void WriteString(std::string_view s, bool raw) {
    if (raw) {
      out_.Quoted(s);
      return;
    }
    out_ += '"';
    size_t start = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (!kEscaped[c]) continue;
      out_.append(s.data() + start, i - start);
      start = i + 1;
      switch (c) {
        case '"':
          out_ += "\\\"";
          break;
        case '\\':
          out_ += "\\\\";
          break;
        case '\b':
          out_ += "\\b";
          break;
        case '\f':
          out_ += "\\f";
          break;
        case '\n':
          out_ += "\\n";
          break;
        case '\r':
          out_ += "\\r";
          break;
        case '\t':
          out_ += "\\t";
          break;
        default: {
          static constexpr char kHex[] = "0123456789abcdef";
          const char u[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
          out_.append(u, sizeof(u));
        }
      }
    }
    out_.append(s.data() + start, s.size() - start);
    out_ += '"';
  }

  // Puts the members written from out_[from] in key order, a duplicate
  // key's last value alone.
  void Reorder(size_t from, std::vector<Member>& members) {
    // Insertion sort: stable (of equal keys the last one given stays
    // last), no allocation, and fast on the few members of most objects.
    for (size_t i = 1; i < members.size(); ++i) {
      if (!KeyLess(members[i].key, members[i - 1].key)) continue;
      const Member moving = members[i];
      size_t j = i;
      for (; j > 0 && KeyLess(moving.key, members[j - 1].key); --j) {
        members[j] = members[j - 1];
      }
      members[j] = moving;
    }
    tmp_.assign(out_.view().substr(from));
    out_.resize(from);
    bool first = true;
    for (size_t i = 0; i < members.size(); ++i) {
      if (i + 1 < members.size() && members[i + 1].key == members[i].key) {
        continue;  // a later duplicate wins
      }
      if (!first) out_ += ',';
      first = false;
      out_.append(tmp_.data() + (members[i].begin - from),
                  members[i].end - members[i].begin);
    }
  }

  std::unique_ptr<simdjson::internal::dom_parser_implementation> impl_;
  const uint8_t* buf_ = nullptr;
  size_t size_ = 0;
  size_t backslash_ = 0;  // the next backslash at or after the last asked
  const uint32_t* index_ = nullptr;
  uint32_t n_ = 0;
  uint32_t pos_ = 0;
  std::unique_ptr<uint8_t[]> strings_;  // unescaped strings
  size_t strings_size_ = 0;
  size_t strings_used_ = 0;
  Out out_;
  std::string tmp_;
  // One list of members per depth, reused from object to object.
  std::vector<std::vector<Member>> scratch_{kMaxDepth + 2};
  std::vector<char> open_ = std::vector<char>(kMaxDepth + 2);  // for Skip
};

absl::Status NotObject(const std::string& what) {
  return absl::DataLossError(what + ": the answer is not a JSON object");
}
absl::Status NotList(const std::string& what) {
  return absl::DataLossError(
      what + ": not a Kubernetes List (needs items and metadata)");
}
absl::Status ItemNotObject(const std::string& what) {
  return absl::DataLossError(what + ": an item is not an object");
}

}  // namespace

absl::Status TooDeep(const std::string& what) {
  return absl::DataLossError(what + ": JSON nested deeper than " +
                             std::to_string(kMaxJsonNesting) + " levels");
}

bool NestedDeeperThan(std::string_view json, size_t limit) {
  size_t depth = 0;
  for (size_t i = 0; i < json.size(); ++i) {
    switch (json[i]) {
      case '"':  // to the closing quote, past escaped characters
        for (++i; i < json.size() && json[i] != '"'; ++i) {
          if (json[i] == '\\') ++i;
        }
        break;
      case '[':
      case '{':
        if (++depth > limit) return true;
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;
        break;
      default:
        break;
    }
  }
  return false;
}

nlohmann::json SlimObject(const nlohmann::json& object) {
  nlohmann::json slim = object;
  if (auto meta = slim.find("metadata"); meta != slim.end()) {
    Erase(*meta, "managedFields");
    if (auto a = meta->find("annotations");
        a != meta->end() && a->is_object()) {
      a->erase(kLastApplied);
    }
  }
  // Kept as JSON: value() with a string default throws on a kind that is
  // not a string.
  const nlohmann::json kind = slim.value("kind", nlohmann::json());
  auto strip_pod_spec = [](nlohmann::json& spec) {
    for (const char* k :
         {"containers", "initContainers", "ephemeralContainers", "volumes"}) {
      Erase(spec, k);
    }
  };
  if (kind == "Pod") {
    if (auto spec = slim.find("spec"); spec != slim.end()) {
      strip_pod_spec(*spec);
    }
    if (auto status = slim.find("status"); status != slim.end()) {
      for (const char* k : {"containerStatuses", "initContainerStatuses",
                            "ephemeralContainerStatuses"}) {
        Erase(*status, k);
      }
    }
  } else if (kind == "DaemonSet") {
    if (auto spec = slim.find("spec");
        spec != slim.end() && spec->is_object()) {
      if (auto t = spec->find("template"); t != spec->end() && t->is_object()) {
        if (auto ps = t->find("spec"); ps != t->end()) strip_pod_spec(*ps);
      }
    }
  } else if (kind == "ControllerRevision") {
    Erase(slim, "data");
  } else if (kind == "Node") {
    if (auto status = slim.find("status"); status != slim.end()) {
      for (const char* k : {"images", "volumesInUse", "volumesAttached"}) {
        Erase(*status, k);
      }
    }
  }
  return slim;
}

std::string ObjectKey(const nlohmann::json& object) {
  const auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return "";
  auto str = [&](const char* k) -> std::string {
    auto it = meta->find(k);
    return it != meta->end() && it->is_string() ? it->get<std::string>() : "";
  };
  const std::string name = str("name");
  if (name.empty()) return "";
  return str("namespace") + "/" + name;
}

namespace internal {

absl::Status DecodeListPageNlohmann(std::string_view body,
                                    const Resource& resource,
                                    const std::string& what, SlimPage* page) {
  if (NestedDeeperThan(body, kMaxJsonNesting)) return TooDeep(what);
  nlohmann::json list = nlohmann::json::parse(body, nullptr, false);
  if (!list.is_object()) return NotObject(what);
  auto items = list.find("items");
  auto meta = list.find("metadata");
  if (items == list.end() || !(items->is_array() || items->is_null()) ||
      meta == list.end() || !meta->is_object()) {
    return NotList(what);
  }
  if (items->is_array()) {
    for (const nlohmann::json& item : *items) {
      if (!item.is_object()) return ItemNotObject(what);
    }
    const std::string api_version = ApiVersion(resource);
    for (nlohmann::json& item : *items) {
      // Items of a List have no kind; the converter needs it.
      item["kind"] = resource.kind;
      item["apiVersion"] = api_version;
      page->items.push_back({ObjectKey(item), SlimObject(item).dump()});
      item = nullptr;  // what is kept is in the text now
    }
  }
  auto str = [&](const char* key) -> std::string {
    auto it = meta->find(key);
    return it != meta->end() && it->is_string() ? it->get<std::string>() : "";
  };
  page->resource_version = str("resourceVersion");
  page->continue_token = str("continue");
  return absl::OkStatus();
}

}  // namespace internal

struct PageDecoder::Impl {
  PageParser parser;
};

PageDecoder::PageDecoder() : impl_(std::make_unique<Impl>()) {}
PageDecoder::~PageDecoder() = default;

namespace {

// DecodeSimdjson on a body with simdjson's padding after `size`.
bool DecodePadded(PageParser& p, const std::string& body, size_t size,
                  const Resource& resource, const std::string& what,
                  SlimPage* page, absl::Status* status) {
  if (!p.Start(body, size)) return false;
  if (p.Peek() != '{') {
    if (!p.Skip(1) || !p.AtEnd()) return false;
    *status = NotObject(what);
    return true;
  }
  // Of duplicate members the last counts (nlohmann and Go keep it).
  enum class Items { kMissing, kNotArray, kArray, kItemNotObject };
  Items items = Items::kMissing;
  bool meta_is_object = false;
  const Rule* rule = ItemRule(resource.kind);
  const std::string kind = nlohmann::json(resource.kind).dump();
  const std::string api_version = nlohmann::json(ApiVersion(resource)).dump();
  const auto item = [&] {
    if (p.Peek() != '{') {
      items = Items::kItemNotObject;
      return p.Skip(3);
    }
    if (items != Items::kArray) return p.Skip(3);  // only checked now
    PageParser::Capture meta;
    p.ClearOut();
    p.ForgetStrings();
    if (!p.WriteObject(rule, 3, {{"apiVersion", api_version}, {"kind", kind}},
                       &meta, nullptr)) {
      return false;
    }
    std::string key;
    if (meta.is_object && !meta.name.empty()) key = meta.ns + "/" + meta.name;
    page->items.push_back({std::move(key), std::string(p.out())});
    return true;
  };
  const auto metadata = [&] {
    page->resource_version.clear();
    page->continue_token.clear();
    meta_is_object = p.Peek() == '{';
    if (!meta_is_object) return p.Skip(2);
    return p.Members(2, [&](std::string_view key, bool) {
      std::string* field = key == "resourceVersion" ? &page->resource_version
                           : key == "continue"      ? &page->continue_token
                                                    : nullptr;
      if (field == nullptr) return p.Skip(3);
      field->clear();
      if (p.Peek() != '"') return p.Skip(3);
      std::string_view s;
      bool raw;
      if (!p.String(&s, &raw)) return false;
      field->assign(s);
      return true;
    });
  };
  const auto list_items = [&] {
    page->items.clear();
    if (p.Peek() == '[') {
      items = Items::kArray;
      return p.Elements(2, item);
    }
    // null is an empty list (Skip checks the literal), all else not a List.
    items = p.Peek() == 'n' ? Items::kArray : Items::kNotArray;
    return p.Skip(2);
  };
  if (!p.Members(1,
                 [&](std::string_view key, bool) {
                   if (key == "metadata") return metadata();
                   if (key == "items") return list_items();
                   return p.Skip(2);
                 }) ||
      !p.AtEnd()) {
    return false;
  }
  if (items == Items::kMissing || items == Items::kNotArray ||
      !meta_is_object) {
    *status = NotList(what);
  } else if (items == Items::kItemNotObject) {
    *status = ItemNotObject(what);
  } else {
    *status = absl::OkStatus();
    return true;
  }
  page->items.clear();
  return true;
}

}  // namespace

bool PageDecoder::DecodeSimdjson(std::string& body, const Resource& resource,
                                 const std::string& what, SlimPage* page,
                                 absl::Status* status) {
  const size_t size = body.size();
  body.resize(size + simdjson::SIMDJSON_PADDING, ' ');
  const bool took =
      DecodePadded(impl_->parser, body, size, resource, what, page, status);
  body.resize(size);
  return took;
}

absl::Status PageDecoder::Decode(std::string& body, const Resource& resource,
                                 const std::string& what, SlimPage* page) {
  SlimPage fast;
  absl::Status status;
  if (DecodeSimdjson(body, resource, what, &fast, &status)) {
    if (status.ok()) *page = std::move(fast);
    return status;
  }
  return internal::DecodeListPageNlohmann(body, resource, what, page);
}

absl::Status DecodeListPage(std::string& body, const Resource& resource,
                            const std::string& what, SlimPage* page) {
  return PageDecoder().Decode(body, resource, what, page);
}

}  // namespace dsd::kube
