#include "server/convert/wire_node.h"

#include "google/protobuf/stubs/common.h"
#include "server/convert/internal/wire_format.h"

namespace dsd::convert {
namespace {

using google::protobuf::io::CodedInputStream;
using internal::LengthDelimited;
using internal::WireFormatLite;

constexpr uint32_t Varint(int number) {
  return WireFormatLite::MakeTag(number, WireFormatLite::WIRETYPE_VARINT);
}

// dsd.v1.Node: name 1, labels 2, taints 3. Label: key 1, value 2. Taint:
// key 1, value 2, effect 3, time_added 4. Timestamp: seconds 1, nanos 2.
// A field of another wire type than its own is an unknown field to
// protobuf's parser, as here.
constexpr uint32_t kNameTag = LengthDelimited(1);
constexpr uint32_t kLabelsTag = LengthDelimited(2);
constexpr uint32_t kTaintsTag = LengthDelimited(3);
constexpr uint32_t kKeyTag = LengthDelimited(1);
constexpr uint32_t kValueTag = LengthDelimited(2);
constexpr uint32_t kEffectTag = Varint(3);
constexpr uint32_t kTimeAddedTag = LengthDelimited(4);
constexpr uint32_t kSecondsTag = Varint(1);
constexpr uint32_t kNanosTag = Varint(2);

// The bytes of one message, read from the front. The same rules as
// internal/wire_format.h's readers (which go through CodedInputStream, a
// call or more a field: a node's 1,000 labels made that a tenth of the
// handler), inline for the fields a node has; unknown fields go to
// internal::SkipField.
struct Bytes {
  const char* p;
  const char* end;

  // A varint of at most 10 bytes, as protobuf's parser reads it (the bits
  // past 64 dropped).
  bool Varint64(uint64_t& v) {
    uint64_t result = 0;
    for (int i = 0; i < 10 && p != end; ++i) {
      const auto b = static_cast<uint8_t>(*p++);
      result |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
      if (b < 0x80) {
        v = result;
        return true;
      }
    }
    return false;
  }

  // The next tag: 0 at the end, and for bytes protobuf rejects (a tag of
  // more than 5 bytes or cut short, field number 0: `bad` is then set).
  uint32_t Tag(bool& bad) {
    if (p == end) return 0;
    if (static_cast<uint8_t>(*p) < 0x80 && *p >= 8) {  // one byte
      return static_cast<uint8_t>(*p++);
    }
    const char* start = p;
    uint64_t v = 0;
    if (!Varint64(v) || p - start > internal::kMaxVarint32Bytes ||
        WireFormatLite::GetTagFieldNumber(static_cast<uint32_t>(v)) == 0) {
      bad = true;
      return 0;
    }
    return static_cast<uint32_t>(v);
  }

  // A length-delimited field's length (its tag read): at most 5 bytes, at
  // most internal::kMaxLength, and within the bytes.
  bool Length(size_t& length) {
    const char* start = p;
    uint64_t v = 0;
    if (!Varint64(v) || p - start > internal::kMaxVarint32Bytes ||
        v > internal::kMaxLength || v > static_cast<uint64_t>(end - p)) {
      return false;
    }
    length = static_cast<size_t>(v);
    return true;
  }

  // A string field (its tag read), UTF-8 as protobuf checks a proto3
  // string.
  bool String(std::string_view& out) {
    size_t length = 0;
    if (!Length(length)) return false;
    out = std::string_view(p, length);
    p += length;
    return google::protobuf::internal::IsStructurallyValidUTF8(
        out.data(), static_cast<int>(length));
  }

  // A varint field, truncated to its type as protobuf's parser does.
  template <typename T>
  bool Number(T& out) {
    uint64_t v = 0;
    if (!Varint64(v)) return false;
    out = static_cast<T>(v);
    return true;
  }

  // A field nobody reads (its tag read), at `depth` messages down.
  bool Skip(uint32_t tag, int depth) {
    CodedInputStream in(reinterpret_cast<const uint8_t*>(p),
                        static_cast<int>(end - p));
    if (!internal::SkipField(in, tag, nullptr, depth)) return false;
    p += in.CurrentPosition();
    return true;
  }

  // A message field (its tag read), each of its fields handed to `field`
  // with the message's bytes (which skips those it does not know).
  template <typename Field>
  bool Message(Field field) {
    size_t length = 0;
    if (!Length(length)) return false;
    Bytes inner{p, p + length};
    p += length;
    bool bad = false;
    while (const uint32_t tag = inner.Tag(bad)) {
      if (!field(inner, tag)) return false;
    }
    return !bad;
  }
};

bool ReadLabel(Bytes& in, WireNode::Label& l) {
  return in.Message([&l](Bytes& b, uint32_t tag) {
    switch (tag) {
      case kKeyTag:
        return b.String(l.key_);
      case kValueTag:
        return b.String(l.value_);
      default:
        return b.Skip(tag, 1);
    }
  });
}

bool ReadTime(Bytes& in, WireNode::Timestamp& t) {  // merged into `t`
  return in.Message([&t](Bytes& b, uint32_t tag) {
    switch (tag) {
      case kSecondsTag:
        return b.Number(t.seconds_);
      case kNanosTag:
        return b.Number(t.nanos_);
      default:
        return b.Skip(tag, 2);
    }
  });
}

bool ReadTaint(Bytes& in, WireNode::Taint& t) {
  return in.Message([&t](Bytes& b, uint32_t tag) {
    switch (tag) {
      case kKeyTag:
        return b.String(t.key_);
      case kValueTag:
        return b.String(t.value_);
      case kEffectTag:
        return b.Number(t.effect_);
      case kTimeAddedTag:
        t.has_time_added_ = true;
        return ReadTime(b, t.time_added_);
      default:
        return b.Skip(tag, 1);
    }
  });
}

}  // namespace

bool WireNode::Read(std::string_view bytes) {
  name_ = {};
  labels_.clear();
  taints_.clear();
  Bytes in{bytes.data(), bytes.data() + bytes.size()};
  bool bad = false;
  while (const uint32_t tag = in.Tag(bad)) {
    bool ok = false;
    switch (tag) {
      case kNameTag:
        ok = in.String(name_);
        break;
      case kLabelsTag:
        ok = ReadLabel(in, labels_.emplace_back());
        break;
      case kTaintsTag:
        ok = ReadTaint(in, taints_.emplace_back());
        break;
      default:
        ok = in.Skip(tag, 0);
    }
    if (!ok) return false;
  }
  return !bad;
}

void WireNode::CopyTo(v1::Node& node) const {
  node.Clear();
  node.set_name(name_.data(), name_.size());
  node.mutable_labels()->Reserve(static_cast<int>(labels_.size()));
  for (const Label& l : labels_) {
    v1::Label& out = *node.add_labels();
    out.set_key(l.key_.data(), l.key_.size());
    out.set_value(l.value_.data(), l.value_.size());
  }
  node.mutable_taints()->Reserve(taints_size());
  for (const Taint& t : taints_) {
    v1::Taint& out = *node.add_taints();
    out.set_key(t.key_.data(), t.key_.size());
    out.set_value(t.value_.data(), t.value_.size());
    out.set_effect(t.effect());
    if (t.has_time_added_) {
      out.mutable_time_added()->set_seconds(t.time_added_.seconds_);
      out.mutable_time_added()->set_nanos(t.time_added_.nanos_);
    }
  }
}

}  // namespace dsd::convert
