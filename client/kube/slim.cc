#include "client/kube/slim.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <utility>

#include "client/kube/client.h"

namespace dsd::kube {
namespace {

constexpr char kLastApplied[] =
    "kubectl.kubernetes.io/last-applied-configuration";

void Erase(nlohmann::json& object, const char* key) {
  if (object.is_object()) object.erase(key);
}

std::string ApiVersion(const Resource& resource) {
  return resource.api_path == "/api/v1" ? "v1" : "apps/v1";
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

using simdjson::dom::element;
using simdjson::dom::element_type;

// The bytes nlohmann's dump() escapes: below 0x20, '"' and '\\'.
constexpr std::array<bool, 256> kEscaped = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 0x20; ++c) table[static_cast<size_t>(c)] = true;
  table['"'] = true;
  table['\\'] = true;
  return table;
}();

// Writes compact JSON as nlohmann::json::dump() does: object keys sorted
// by their bytes (nlohmann::json keeps objects in a std::map), a
// duplicate key's last value (operator[] assigns), strings escaped as
// dump's ensure_ascii=false (", \, \b \f \n \r \t, other bytes below
// 0x20 as \u00xx), integers as their digits, doubles by nlohmann itself.
class Writer {
 public:
  struct Entry {
    std::string_view key;
    element value;
    std::string_view literal;  // already JSON; used when not empty
  };

  explicit Writer(size_t max_depth) : scratch_(max_depth + 2) {}

  std::string& out() { return out_; }

  void Value(element e, const Rule* rule, size_t depth) {
    switch (e.type()) {
      case element_type::OBJECT:
        Object(e, rule, depth, {});
        return;
      case element_type::ARRAY: {
        out_ += '[';
        bool first = true;
        const simdjson::dom::array array = e.get_array().value_unsafe();
        for (element child : array) {
          if (!first) out_ += ',';
          first = false;
          Value(child, nullptr, depth + 1);
        }
        out_ += ']';
        return;
      }
      case element_type::STRING:
        String(e.get_string().value_unsafe());
        return;
      case element_type::INT64:
        Integer(e.get_int64().value_unsafe());
        return;
      case element_type::UINT64:
        Integer(e.get_uint64().value_unsafe());
        return;
      case element_type::DOUBLE:
        out_ += nlohmann::json(e.get_double().value_unsafe()).dump();
        return;
      case element_type::BOOL:
        out_ += e.get_bool().value_unsafe() ? "true" : "false";
        return;
      case element_type::NULL_VALUE:
        out_ += "null";
        return;
    }
  }

  // `extra`: members to add (their values already JSON), as the item's
  // kind and apiVersion.
  void Object(
      element e, const Rule* rule, size_t depth,
      std::initializer_list<std::pair<std::string_view, std::string_view>>
          extra) {
    std::vector<Entry>& entries = scratch_[depth];
    entries.clear();
    const simdjson::dom::object object = e.get_object().value_unsafe();
    for (const simdjson::dom::key_value_pair field : object) {
      if (rule != nullptr && rule->Drops(field.key)) continue;
      entries.push_back({field.key, field.value, {}});
    }
    for (const auto& [key, literal] : extra) {
      entries.push_back({key, element(), literal});
    }
    const auto by_key = [](const Entry& a, const Entry& b) {
      // As std::string_view's operator< (unsigned bytes), the first byte
      // compared inline: most keys differ there.
      if (!a.key.empty() && !b.key.empty() && a.key[0] != b.key[0]) {
        return static_cast<unsigned char>(a.key[0]) <
               static_cast<unsigned char>(b.key[0]);
      }
      return a.key < b.key;
    };
    // Insertion sort: stable (of equal keys the last one given stays
    // last), no allocation, and fast on the few members of most objects.
    for (size_t i = 1; i < entries.size(); ++i) {
      if (!by_key(entries[i], entries[i - 1])) continue;
      Entry moving = entries[i];
      size_t j = i;
      for (; j > 0 && by_key(moving, entries[j - 1]); --j) {
        entries[j] = entries[j - 1];
      }
      entries[j] = moving;
    }
    out_ += '{';
    bool first = true;
    for (size_t i = 0; i < entries.size(); ++i) {
      if (i + 1 < entries.size() && entries[i + 1].key == entries[i].key) {
        continue;  // a later duplicate wins
      }
      if (!first) out_ += ',';
      first = false;
      String(entries[i].key);
      out_ += ':';
      if (!entries[i].literal.empty()) {
        out_ += entries[i].literal;
      } else {
        Value(entries[i].value,
              rule != nullptr ? rule->Child(entries[i].key) : nullptr,
              depth + 1);
      }
    }
    out_ += '}';
  }

 private:
  template <typename Int>
  void Integer(Int v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof(buf), v);
    out_.append(buf, r.ptr);
  }

  void String(std::string_view s) {
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

  std::string out_;
  // One list of members per depth, reused from object to object.
  std::vector<std::vector<Entry>> scratch_;
};

// The last member `key` of object `e` (nlohmann and Go keep the last of
// duplicates), or false.
bool LastMember(element e, std::string_view key, element* out) {
  bool found = false;
  const simdjson::dom::object object = e.get_object().value_unsafe();
  for (const simdjson::dom::key_value_pair field : object) {
    if (field.key == key) {
      *out = field.value;
      found = true;
    }
  }
  return found;
}

std::string LastString(element object, std::string_view key) {
  element v;
  if (!LastMember(object, key, &v) || !v.is_string()) return "";
  return std::string(v.get_string().value_unsafe());
}

// ObjectKey of the item, read from the simdjson document.
std::string KeyOf(element item) {
  element meta;
  if (!LastMember(item, "metadata", &meta) || !meta.is_object()) return "";
  const std::string name = LastString(meta, "name");
  if (name.empty()) return "";
  return LastString(meta, "namespace") + "/" + name;
}

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

nlohmann::json SlimObject(const nlohmann::json& object) {
  nlohmann::json slim = object;
  if (auto meta = slim.find("metadata"); meta != slim.end()) {
    Erase(*meta, "managedFields");
    if (auto a = meta->find("annotations");
        a != meta->end() && a->is_object()) {
      a->erase(kLastApplied);
    }
  }
  const std::string kind = slim.value("kind", "");
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
  simdjson::dom::parser parser;
  Writer writer{simdjson::DEFAULT_MAX_DEPTH};
};

PageDecoder::PageDecoder() : impl_(std::make_unique<Impl>()) {}
PageDecoder::~PageDecoder() = default;

bool PageDecoder::DecodeSimdjson(std::string& body, const Resource& resource,
                                 const std::string& what, SlimPage* page,
                                 absl::Status* status) {
  simdjson::dom::parser& parser = impl_->parser;
  const size_t size = body.size();
  body.resize(size + simdjson::SIMDJSON_PADDING, ' ');
  const simdjson::simdjson_result<element> doc =
      parser.parse(body.data(), size, /*realloc_if_needed=*/false);
  body.resize(size);
  if (doc.error() != simdjson::SUCCESS) return false;
  const element list = doc.value_unsafe();
  if (!list.is_object()) {
    *status = NotObject(what);
    return true;
  }
  element items, meta;
  if (!LastMember(list, "items", &items) ||
      !(items.is_array() || items.is_null()) ||
      !LastMember(list, "metadata", &meta) || !meta.is_object()) {
    *status = NotList(what);
    return true;
  }
  if (items.is_array()) {
    const simdjson::dom::array array = items.get_array().value_unsafe();
    for (element item : array) {
      if (!item.is_object()) {
        *status = ItemNotObject(what);
        return true;
      }
    }
    const Rule* rule = ItemRule(resource.kind);
    const std::string kind = nlohmann::json(resource.kind).dump();
    const std::string api_version = nlohmann::json(ApiVersion(resource)).dump();
    Writer& writer = impl_->writer;
    page->items.reserve(array.size());
    for (element item : array) {
      writer.out().clear();
      writer.Object(item, rule, 0,
                    {{"apiVersion", api_version}, {"kind", kind}});
      page->items.push_back({KeyOf(item), writer.out()});
    }
  }
  page->resource_version = LastString(meta, "resourceVersion");
  page->continue_token = LastString(meta, "continue");
  *status = absl::OkStatus();
  return true;
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
