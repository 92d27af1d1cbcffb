#include "server/convert/limits.h"

#include <array>
#include <cstdint>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
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

// The caps by field, and which message types have a capped field anywhere
// below them: looked up per element, so computed once.
struct CapIndex {
  absl::flat_hash_map<const FieldDescriptor*, int> caps;
  absl::flat_hash_set<const Descriptor*> with_caps;
};

bool HasCapsBelow(const Descriptor& type, const CapIndex& index, int depth) {
  if (depth > 16) return false;
  for (int i = 0; i < type.field_count(); ++i) {
    const FieldDescriptor& f = *type.field(i);
    if (index.caps.contains(&f)) return true;
    if (f.type() == FieldDescriptor::TYPE_MESSAGE &&
        HasCapsBelow(*f.message_type(), index, depth + 1)) {
      return true;
    }
  }
  return false;
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
    for (int i = 0; file != nullptr && i < file->message_type_count(); ++i) {
      const Descriptor* type = file->message_type(i);
      if (HasCapsBelow(*type, *out, 0)) out->with_caps.insert(type);
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

// Elements counted per capped field of one object. Protobuf merges every
// occurrence of a singular message field, so such a field's elements are
// counted across its occurrences: the key is the field numbers of the
// singular fields from the object down, then the capped field's.
using Counts = absl::flat_hash_map<std::string, int>;

absl::Status Scan(const Descriptor& type, CodedInputStream& in,
                  std::string_view path, Counts& counts,
                  const std::string& prefix) {
  const CapIndex& index = Index();
  while (const uint32_t tag = in.ReadTag()) {
    const int number = WireFormatLite::GetTagFieldNumber(tag);
    const FieldDescriptor* field = type.FindFieldByNumber(number);
    const bool delimited = WireFormatLite::GetTagWireType(tag) ==
                           WireFormatLite::WIRETYPE_LENGTH_DELIMITED;
    const auto cap =
        field != nullptr ? index.caps.find(field) : index.caps.end();
    const bool descend = field != nullptr && delimited &&
                         field->type() == FieldDescriptor::TYPE_MESSAGE &&
                         index.with_caps.contains(field->message_type());
    int count = 0;
    if (delimited && cap != index.caps.end()) {
      count = ++counts[prefix + std::to_string(number)];
      if (count > cap->second) return OverCap(path, *field, count, cap->second);
    }
    if (!descend) {
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
    std::string sub = Join(path, field->name());
    absl::Status st;
    if (field->is_repeated()) {
      sub += '[' + std::to_string(count - 1) + ']';
      Counts element;  // a new object
      st = Scan(*field->message_type(), in, sub, element, "");
    } else {
      st = Scan(*field->message_type(), in, sub, counts,
                prefix + std::to_string(number) + ".");
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

int RepeatedFieldCap(const FieldDescriptor& field) {
  const CapIndex& index = Index();
  const auto it = index.caps.find(&field);
  return it == index.caps.end() ? 0 : it->second;
}

absl::Status ScanRepeatedCaps(const Descriptor& type, CodedInputStream& in,
                              std::string_view path) {
  Counts counts;
  return Scan(type, in, path, counts, "");
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
        !Index().with_caps.contains(f.message_type())) {
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
