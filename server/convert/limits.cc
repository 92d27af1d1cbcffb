#include "server/convert/limits.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "google/protobuf/wire_format_lite.h"
#include "server/convert/errors.h"

namespace dsd::convert {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedInputStream;

struct Cap {
  std::string_view field;
  int max;
};

// Keep in step with the comments in proto/dsd/v1/dsd.proto.
constexpr int kMaxLabels = 1'000;
constexpr int kMaxListEntries = 1'000;  // taints, tolerations, expressions
constexpr int kMaxValues = 100'000;     // values of one requirement
constexpr std::array<Cap, 13> kCaps = {{
    {"dsd.v1.Node.labels", kMaxLabels},
    {"dsd.v1.Node.taints", kMaxListEntries},
    {"dsd.v1.Pod.labels", kMaxLabels},
    {"dsd.v1.PodTemplate.labels", kMaxLabels},
    {"dsd.v1.PodTemplate.node_selector", kMaxLabels},
    {"dsd.v1.PodTemplate.tolerations", kMaxListEntries},
    {"dsd.v1.LabelSelector.match_labels", kMaxLabels},
    {"dsd.v1.LabelSelector.match_expressions", kMaxListEntries},
    {"dsd.v1.NodeSelectorTerm.match_expressions", kMaxListEntries},
    {"dsd.v1.NodeSelectorTerm.match_fields", kMaxListEntries},
    {"dsd.v1.RequiredNodeAffinity.node_selector_terms", kMaxListEntries},
    {"dsd.v1.SelectorRequirement.values", kMaxValues},
    {"dsd.v1.DaemonSet.failed_pod_backoffs", 100'000},
}};

// What the scan needs to know of one field of a message type with caps
// below it, by field number: looked up per element, so computed once.
struct FieldInfo {
  const FieldDescriptor* field = nullptr;  // null: not a field of the type
  int cap = 0;                             // 0: not capped
  bool descend = false;                    // a message type with caps below it
};

struct CapIndex {
  absl::flat_hash_map<const FieldDescriptor*, int> caps;
  // Message types with a capped field anywhere below them, with their
  // fields by number (numbers up to kMaxFieldNumber; larger ones are
  // unknown to every dsd.v1 message).
  absl::flat_hash_map<const Descriptor*, std::vector<FieldInfo>> types;
  // The smallest cap anywhere below each of those types.
  absl::flat_hash_map<const Descriptor*, int> smallest_cap;
};

constexpr int kMaxFieldNumber = 64;

// The smallest cap of a field of `type` or anywhere below it; 0 for none.
int SmallestCapBelow(const Descriptor& type, const CapIndex& index, int depth) {
  if (depth > 16) return 0;
  int smallest = 0;
  const auto keep = [&smallest](int cap) {
    if (cap > 0 && (smallest == 0 || cap < smallest)) smallest = cap;
  };
  for (int i = 0; i < type.field_count(); ++i) {
    const FieldDescriptor& f = *type.field(i);
    if (const auto it = index.caps.find(&f); it != index.caps.end()) {
      keep(it->second);
    }
    if (f.type() == FieldDescriptor::TYPE_MESSAGE) {
      keep(SmallestCapBelow(*f.message_type(), index, depth + 1));
    }
  }
  return smallest;
}

const CapIndex& Index() {
  static const CapIndex* const index = [] {
    auto* out = new CapIndex;
    const auto* pool = google::protobuf::DescriptorPool::generated_pool();
    for (const Cap& cap : kCaps) {
      if (const FieldDescriptor* f =
              pool->FindFieldByName(std::string(cap.field))) {
        out->caps.emplace(f, cap.max);
      }
    }
    const google::protobuf::FileDescriptor* file =
        pool->FindFileByName("dsd/v1/dsd.proto");
    std::vector<const Descriptor*> with_caps;
    for (int i = 0; file != nullptr && i < file->message_type_count(); ++i) {
      const Descriptor* type = file->message_type(i);
      if (const int cap = SmallestCapBelow(*type, *out, 0); cap > 0) {
        with_caps.push_back(type);
        out->smallest_cap.emplace(type, cap);
      }
    }
    for (const Descriptor* type : with_caps) {
      std::vector<FieldInfo>& fields = out->types[type];
      fields.resize(kMaxFieldNumber + 1);
      for (int i = 0; i < type->field_count(); ++i) {
        const FieldDescriptor* f = type->field(i);
        if (f->number() > kMaxFieldNumber) continue;
        FieldInfo& info = fields[static_cast<size_t>(f->number())];
        info.field = f;
        if (const auto it = out->caps.find(f); it != out->caps.end()) {
          info.cap = it->second;
        }
        info.descend = f->type() == FieldDescriptor::TYPE_MESSAGE &&
                       std::find(with_caps.begin(), with_caps.end(),
                                 f->message_type()) != with_caps.end();
      }
    }
    return out;
  }();
  return *index;
}

std::string Join(std::string_view path, std::string_view name) {
  std::string out(path);
  if (!out.empty()) out += '.';
  out += name;
  return out;
}

absl::Status OverCap(std::string_view path, const FieldDescriptor& field,
                     int count, int cap) {
  return LimitExceeded(Join(path, field.name()),
                       std::to_string(count) + " entries exceed the limit of " +
                           std::to_string(cap) + " per object");
}

absl::Status NotWireFormat(std::string_view path) {
  return absl::InvalidArgumentError(
      std::string(path) +
      " is not in the protobuf wire format (truncated or corrupt bytes)");
}

// Elements counted per field number in one object. Protobuf merges every
// occurrence of a singular message field, so such a field's counts are
// kept across its occurrences, in `singular`.
struct Counts {
  std::array<int, kMaxFieldNumber + 1> elements{};
  std::vector<std::pair<int, std::unique_ptr<Counts>>> singular;

  Counts& Singular(int number) {
    for (auto& [n, counts] : singular) {
      if (n == number) return *counts;
    }
    return *singular.emplace_back(number, std::make_unique<Counts>()).second;
  }
};

absl::Status Scan(const std::vector<FieldInfo>& fields, CodedInputStream& in,
                  std::string_view path, Counts& counts) {
  const CapIndex& index = Index();
  while (const uint32_t tag = in.ReadTag()) {
    const int number = WireFormatLite::GetTagFieldNumber(tag);
    const FieldInfo* info = number <= kMaxFieldNumber
                                ? &fields[static_cast<size_t>(number)]
                                : nullptr;
    const bool delimited = WireFormatLite::GetTagWireType(tag) ==
                           WireFormatLite::WIRETYPE_LENGTH_DELIMITED;
    if (info == nullptr || info->field == nullptr || !delimited ||
        (info->cap == 0 && !info->descend)) {
      if (!WireFormatLite::SkipField(&in, tag)) return NotWireFormat(path);
      continue;
    }
    int& count = counts.elements[static_cast<size_t>(number)];
    ++count;
    if (info->cap > 0 && count > info->cap) {
      return OverCap(path, *info->field, count, info->cap);
    }
    if (!info->descend) {
      if (!WireFormatLite::SkipField(&in, tag)) return NotWireFormat(path);
      continue;
    }
    uint32_t length = 0;
    if (!in.ReadVarint32(&length) || length > INT32_MAX) {
      return NotWireFormat(path);
    }
    const int room = in.BytesUntilLimit();
    if (room >= 0 && static_cast<int64_t>(length) > room) {
      return NotWireFormat(path);
    }
    const CodedInputStream::Limit limit =
        in.PushLimit(static_cast<int>(length));
    std::string sub = Join(path, info->field->name());
    const std::vector<FieldInfo>& below =
        index.types.at(info->field->message_type());
    absl::Status st;
    if (info->field->is_repeated()) {
      sub += '[' + std::to_string(count - 1) + ']';
      Counts element;  // a new object
      st = Scan(below, in, sub, element);
    } else {
      st = Scan(below, in, sub, counts.Singular(number));
    }
    if (!st.ok()) return st;
    if (!in.ConsumedEntireMessage() || in.BytesUntilLimit() != 0) {
      return NotWireFormat(path);
    }
    in.PopLimit(limit);
  }
  return absl::OkStatus();
}

}  // namespace

size_t SmallestOverACap(const Descriptor& type) {
  const auto it = Index().smallest_cap.find(&type);
  if (it == Index().smallest_cap.end()) return SIZE_MAX;
  return 2 * (static_cast<size_t>(it->second) + 1);
}

int RepeatedFieldCap(const FieldDescriptor& field) {
  const CapIndex& index = Index();
  const auto it = index.caps.find(&field);
  return it == index.caps.end() ? 0 : it->second;
}

absl::Status ScanRepeatedCaps(const Descriptor& type, CodedInputStream& in,
                              std::string_view path) {
  const auto it = Index().types.find(&type);
  Counts counts;
  if (it == Index().types.end()) {
    // Nothing capped below: only the structure to check.
    while (const uint32_t tag = in.ReadTag()) {
      if (!WireFormatLite::SkipField(&in, tag)) return NotWireFormat(path);
    }
    return absl::OkStatus();
  }
  return Scan(it->second, in, path, counts);
}

absl::Status CheckRepeatedCaps(const google::protobuf::Message& message,
                               std::string_view path) {
  const Descriptor& type = *message.GetDescriptor();
  const google::protobuf::Reflection& reflection = *message.GetReflection();
  for (int i = 0; i < type.field_count(); ++i) {
    const FieldDescriptor& f = *type.field(i);
    if (f.type() != FieldDescriptor::TYPE_MESSAGE && !f.is_repeated()) {
      continue;
    }
    const std::string sub = Join(path, f.name());
    if (!f.is_repeated()) {
      if (!reflection.HasField(message, &f)) continue;
      if (auto st = CheckRepeatedCaps(reflection.GetMessage(message, &f), sub);
          !st.ok()) {
        return st;
      }
      continue;
    }
    const int n = reflection.FieldSize(message, &f);
    if (const int cap = RepeatedFieldCap(f); cap > 0 && n > cap) {
      return OverCap(path, f, n, cap);
    }
    if (f.type() != FieldDescriptor::TYPE_MESSAGE ||
        !Index().types.contains(f.message_type())) {
      continue;
    }
    for (int j = 0; j < n; ++j) {
      if (auto st =
              CheckRepeatedCaps(reflection.GetRepeatedMessage(message, &f, j),
                                sub + "[" + std::to_string(j) + "]");
          !st.ok()) {
        return st;
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace dsd::convert
