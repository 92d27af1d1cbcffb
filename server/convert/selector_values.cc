#include "server/convert/selector_values.h"

#include "google/protobuf/stubs/common.h"
#include "server/convert/internal/wire_format.h"

namespace dsd::convert {

using google::protobuf::io::CodedInputStream;
using google::protobuf::io::CodedOutputStream;
using internal::Ended;
using internal::PushLength;
using internal::ReadLength;
using internal::ReadTag;
using internal::SkipField;
using internal::WireFormatLite;

// The messages on the way from a DaemonSet to its requirements' values.
enum class SelectorValues::Kind : uint8_t {
  kDaemonSet,
  kPod,
  kLabelSelector,
  kTemplate,
  kAffinity,
  kTerm,
  kStrategy,
  kRequirement,
  kOther,  // a field on no such way
};

struct SelectorValues::Child {
  Kind kind;
  ListId list;
};

struct SelectorValues::Next {
  int start;     // where the field's tag is
  uint32_t tag;  // 0: the message's end
  bool value;    // a SelectorRequirement's value
  Child child;   // else a message on the way, or kOther
};

// The message a length-delimited field `number` of a `parent` message (on
// the way to requirements of `list`) holds: the ways from a DaemonSet to
// its requirements, one row each.
SelectorValues::Child SelectorValues::ChildOf(Kind parent, int number,
                                              ListId list) {
  constexpr int kSameList = -1;  // the parent's list
  struct Way {
    Kind parent;
    int number;
    Kind child;
    int list;
  };
  static constexpr Way kWays[] = {
      {Kind::kDaemonSet, v1::DaemonSet::kSelectorFieldNumber,
       Kind::kLabelSelector, kSelector},
      {Kind::kDaemonSet, v1::DaemonSet::kTemplateFieldNumber, Kind::kTemplate,
       kSameList},
      {Kind::kDaemonSet, v1::DaemonSet::kUpdateStrategyFieldNumber,
       Kind::kStrategy, kSameList},
      {Kind::kPod, v1::Pod::kRequiredNodeAffinityFieldNumber, Kind::kAffinity,
       kSameList},
      {Kind::kLabelSelector, v1::LabelSelector::kMatchExpressionsFieldNumber,
       Kind::kRequirement, kSameList},
      {Kind::kTemplate, v1::PodTemplate::kRequiredNodeAffinityFieldNumber,
       Kind::kAffinity, kSameList},
      {Kind::kAffinity, v1::RequiredNodeAffinity::kNodeSelectorTermsFieldNumber,
       Kind::kTerm, kSameList},
      {Kind::kTerm, v1::NodeSelectorTerm::kMatchExpressionsFieldNumber,
       Kind::kRequirement, kTermExpressions},
      {Kind::kTerm, v1::NodeSelectorTerm::kMatchFieldsFieldNumber,
       Kind::kRequirement, kTermFields},
      {Kind::kStrategy, v1::UpdateStrategy::kRolloutNodeSelectorFieldNumber,
       Kind::kLabelSelector, kRollout},
  };
  for (const Way& way : kWays) {
    if (way.parent == parent && way.number == number) {
      return {way.child,
              way.list == kSameList ? list : static_cast<ListId>(way.list)};
    }
  }
  return {Kind::kOther, list};
}

template <typename F>
void SelectorValues::ForEachRequirement(
    const v1::RequiredNodeAffinity& affinity, F&& f) {
  for (const v1::NodeSelectorTerm& t : affinity.node_selector_terms()) {
    for (const v1::SelectorRequirement& r : t.match_expressions()) {
      f(kTermExpressions, r);
    }
    for (const v1::SelectorRequirement& r : t.match_fields()) {
      f(kTermFields, r);
    }
  }
}

template <typename F>
void SelectorValues::ForEachRequirement(const v1::DaemonSet& ds, F&& f) {
  for (const v1::SelectorRequirement& r : ds.selector().match_expressions()) {
    f(kSelector, r);
  }
  ForEachRequirement(ds.template_().required_node_affinity(), f);
  for (const v1::SelectorRequirement& r :
       ds.update_strategy().rollout_node_selector().match_expressions()) {
    f(kRollout, r);
  }
}

namespace {

constexpr int kValuesField = v1::SelectorRequirement::kValuesFieldNumber;

bool Delimited(uint32_t tag) {
  return WireFormatLite::GetTagWireType(tag) ==
         WireFormatLite::WIRETYPE_LENGTH_DELIMITED;
}

void AppendVarint(std::string& out, uint32_t v) {
  uint8_t bytes[internal::kMaxVarint32Bytes];
  const uint8_t* end = CodedOutputStream::WriteVarint32ToArray(v, bytes);
  out.append(reinterpret_cast<const char*>(bytes),
             static_cast<size_t>(end - bytes));
}

}  // namespace

// The next field of a `kind` message on the way to requirements of
// `list`: where it starts, its tag (0 at the message's end, or for bytes
// protobuf rejects: `bad` is then set), and whether it is a value or a
// message on the way (else kOther).
SelectorValues::Next SelectorValues::NextField(CodedInputStream& in, Kind kind,
                                               ListId list, bool& bad) {
  Next next{
      in.CurrentPosition(), ReadTag(in, bad), false, {Kind::kOther, list}};
  if (next.tag == 0 || !Delimited(next.tag)) return next;
  const int number = WireFormatLite::GetTagFieldNumber(next.tag);
  next.value = kind == Kind::kRequirement && number == kValuesField;
  if (!next.value) next.child = ChildOf(kind, number, list);
  return next;
}

bool SelectorValues::Scan(CodedInputStream& in, std::string_view bytes,
                          Kind kind, ListId list, uint32_t& size) {
  uint64_t kept = 0;
  bool bad = false;
  for (Next f = NextField(in, kind, list, bad); f.tag != 0;
       f = NextField(in, kind, list, bad)) {
    if (f.value) {
      int length = 0;
      const bool read = ReadLength(in, length);
      const int at = in.CurrentPosition();
      if (!read || !in.Skip(length) ||
          !google::protobuf::internal::IsStructurallyValidUTF8(
              bytes.data() + at, length)) {
        return false;
      }
      ++value_count_;
      value_bytes_ += static_cast<size_t>(length);
    } else if (f.child.kind == Kind::kOther) {
      if (!SkipField(in, f.tag, nullptr)) return false;
      kept += static_cast<uint64_t>(in.CurrentPosition() - f.start);
    } else {
      const int tag_bytes = in.CurrentPosition() - f.start;
      CodedInputStream::Limit limit;
      if (!PushLength(in, limit)) return false;
      const size_t slot = sizes_.size();
      sizes_.push_back(0);
      uint32_t child_size = 0;
      if (!Scan(in, bytes, f.child.kind, f.child.list, child_size) ||
          !Ended(in)) {
        return false;
      }
      in.PopLimit(limit);
      sizes_[slot] = child_size;
      kept += static_cast<uint64_t>(tag_bytes) +
              CodedOutputStream::VarintSize32(child_size) + child_size;
    }
  }
  if (bad) return false;
  // Without its values a message is never longer than with them.
  size = static_cast<uint32_t>(kept);
  return true;
}

void SelectorValues::Write(CodedInputStream& in, std::string_view bytes,
                           Kind kind, ListId list, std::string& out,
                           size_t& next_size) {
  // Scan read these bytes: they are well formed.
  const auto first = static_cast<uint32_t>(refs_.size());
  const auto since = [&](int start) {
    return bytes.substr(static_cast<size_t>(start),
                        static_cast<size_t>(in.CurrentPosition() - start));
  };
  bool bad = false;
  for (Next f = NextField(in, kind, list, bad); f.tag != 0;
       f = NextField(in, kind, list, bad)) {
    if (f.value) {
      int length = 0;
      ReadLength(in, length);
      const int at = in.CurrentPosition();
      in.Skip(length);
      refs_.push_back({static_cast<uint32_t>(buffer_.size()),
                       static_cast<uint32_t>(length)});
      buffer_.append(since(at));
    } else if (f.child.kind == Kind::kOther) {
      SkipField(in, f.tag, nullptr);
      out.append(since(f.start));
    } else {
      // The tag as it came (protobuf accepts a padded one), the new length.
      out.append(since(f.start));
      CodedInputStream::Limit limit;
      PushLength(in, limit);
      AppendVarint(out, sizes_[next_size++]);
      Write(in, bytes, f.child.kind, f.child.list, out, next_size);
      in.PopLimit(limit);
    }
  }
  if (kind == Kind::kRequirement) {
    ranges_[list].emplace_back(first, static_cast<uint32_t>(refs_.size()));
  }
}

bool SelectorValues::Take(std::string& bytes) {
  return Take(bytes, Kind::kDaemonSet);
}

bool SelectorValues::TakeFromPod(std::string& bytes) {
  return Take(bytes, Kind::kPod);
}

bool SelectorValues::Take(std::string& bytes, Kind root) {
  *this = SelectorValues();
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  const int length = static_cast<int>(bytes.size());
  uint32_t size = 0;
  {
    CodedInputStream in(data, length);
    if (!Scan(in, bytes, root, kSelector, size) || !Ended(in)) {
      return false;
    }
  }
  if (value_count_ == 0) return true;
  buffer_.reserve(value_bytes_);
  refs_.reserve(value_count_);
  std::string stripped;
  stripped.reserve(size);
  CodedInputStream in(data, length);
  size_t next_size = 0;
  Write(in, bytes, root, kSelector, stripped, next_size);
  base_ = buffer_.data();
  refs_data_ = refs_.data();
  bytes.swap(stripped);
  sizes_ = {};
  return true;
}

bool SelectorValues::Bind(const v1::DaemonSet& ds) { return BindTo(ds); }

bool SelectorValues::Bind(const v1::Pod& pod) {
  return BindTo(pod.required_node_affinity());
}

template <typename Message>
bool SelectorValues::BindTo(const Message& message) {
  bound_.clear();
  std::array<size_t, kLists> next{};
  bool same = true;
  ForEachRequirement(message,
                     [&](ListId list, const v1::SelectorRequirement& r) {
                       const auto& ranges = ranges_[list];
                       if (next[list] >= ranges.size()) {
                         same = same && ranges.empty();
                         return;
                       }
                       const auto range = ranges[next[list]++];
                       if (range.first != range.second)
                         bound_.emplace(&r, range);
                     });
  for (size_t list = 0; list < kLists; ++list) {
    same =
        same && (ranges_[list].empty() || next[list] == ranges_[list].size());
  }
  return same;
}

std::pair<uint32_t, uint32_t> SelectorValues::RangeOf(
    const v1::SelectorRequirement& r) const {
  const auto it = bound_.find(&r);
  return it == bound_.end() ? std::pair<uint32_t, uint32_t>{0, 0} : it->second;
}

engine::RequirementValues SelectorValues::Of(
    const v1::SelectorRequirement& r) const {
  const auto [first, end] = RangeOf(r);
  if (first == end) return {};
  return {base_, std::span<const Ref>(refs_data_ + first, end - first)};
}

void SelectorValues::MoveInto(engine::Snapshot& storage) {
  if (refs_.empty()) return;
  base_ = storage.strings.emplace_back(std::move(buffer_)).data();
  refs_data_ = storage.value_refs.emplace_back(std::move(refs_)).data();
  buffer_ = {};
  refs_ = {};
}

void SelectorValues::Restore(v1::DaemonSet& ds) const { RestoreTo(ds); }

void SelectorValues::Restore(v1::Pod& pod) const {
  if (pod.has_required_node_affinity()) {
    RestoreTo(*pod.mutable_required_node_affinity());
  }
}

template <typename Message>
void SelectorValues::RestoreTo(Message& message) const {
  std::array<size_t, kLists> next{};
  // `message` is not const: its requirements may be changed through the
  // const walk's references.
  ForEachRequirement(message, [&](ListId list,
                                  const v1::SelectorRequirement& r) {
    const auto& ranges = ranges_[list];
    if (next[list] >= ranges.size()) return;
    const auto [first, end] = ranges[next[list]++];
    auto& values = *const_cast<v1::SelectorRequirement&>(r).mutable_values();
    for (uint32_t i = first; i < end; ++i) {
      values.Add(std::string(base_ + refs_data_[i].offset, refs_data_[i].size));
    }
  });
}

}  // namespace dsd::convert
