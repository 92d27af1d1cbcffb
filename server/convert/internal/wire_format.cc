#include "server/convert/internal/wire_format.h"

#include <string>

namespace dsd::convert::internal {

using google::protobuf::io::CodedInputStream;
using google::protobuf::io::CodedOutputStream;

// protobuf's default recursion limit, for groups in unknown fields.
constexpr int kMaxGroupDepth = 100;

uint32_t ReadTag(CodedInputStream& in, bool& bad) {
  const int before = in.CurrentPosition();
  const uint32_t tag = in.ReadTag();
  if (tag == 0) return 0;
  if (in.CurrentPosition() - before > kMaxVarint32Bytes ||
      WireFormatLite::GetTagFieldNumber(tag) == 0) {
    bad = true;
    return 0;
  }
  return tag;
}

bool ReadLength(CodedInputStream& in, int& length) {
  const int before = in.CurrentPosition();
  uint64_t value = 0;
  if (!in.ReadVarint64(&value) ||
      in.CurrentPosition() - before > kMaxVarint32Bytes || value > kMaxLength) {
    return false;
  }
  length = static_cast<int>(value);
  const int room = in.BytesUntilLimit();  // -1: no enclosing limit
  return room < 0 || length <= room;
}

bool PushLength(CodedInputStream& in, CodedInputStream::Limit& limit) {
  int length = 0;
  if (!ReadLength(in, length)) return false;
  limit = in.PushLimit(length);
  return true;
}

bool SkipField(CodedInputStream& in, uint32_t tag, CodedOutputStream* copy,
               int depth) {
  switch (WireFormatLite::GetTagWireType(tag)) {
    case WireFormatLite::WIRETYPE_LENGTH_DELIMITED: {
      int length = 0;
      if (!ReadLength(in, length)) return false;
      if (copy == nullptr) return in.Skip(length);
      std::string bytes;
      if (!in.ReadString(&bytes, length)) return false;
      copy->WriteTag(tag);
      copy->WriteVarint32(static_cast<uint32_t>(length));
      copy->WriteString(bytes);
      return true;
    }
    case WireFormatLite::WIRETYPE_START_GROUP: {
      if (depth >= kMaxGroupDepth) return false;
      if (copy != nullptr) copy->WriteTag(tag);
      bool bad = false;
      while (const uint32_t inner = ReadTag(in, bad)) {
        if (WireFormatLite::GetTagWireType(inner) ==
            WireFormatLite::WIRETYPE_END_GROUP) {
          if (WireFormatLite::GetTagFieldNumber(inner) !=
              WireFormatLite::GetTagFieldNumber(tag)) {
            return false;
          }
          if (copy != nullptr) copy->WriteTag(inner);
          return true;
        }
        if (!SkipField(in, inner, copy, depth + 1)) return false;
      }
      return false;  // the end before the group's end
    }
    case WireFormatLite::WIRETYPE_END_GROUP:
      return false;
    default:  // varint, fixed32, fixed64: as protobuf reads them
      return copy != nullptr ? WireFormatLite::SkipField(&in, tag, copy)
                             : WireFormatLite::SkipField(&in, tag);
  }
}

}  // namespace dsd::convert::internal
