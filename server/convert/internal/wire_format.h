// Reading the protobuf wire format exactly as protobuf's parser does, for
// the readers that walk a request's bytes themselves (wire.h,
// selector_values.h): what these reject is what protobuf rejects. Internal
// to convert.
#ifndef DSD_SERVER_CONVERT_INTERNAL_WIRE_FORMAT_H_
#define DSD_SERVER_CONVERT_INTERNAL_WIRE_FORMAT_H_

#include <cstdint>
#include <limits>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"

namespace dsd::convert::internal {

using google::protobuf::internal::WireFormatLite;

constexpr uint32_t LengthDelimited(int number) {
  return WireFormatLite::MakeTag(number,
                                 WireFormatLite::WIRETYPE_LENGTH_DELIMITED);
}

// protobuf's parser (ReadSize) rejects a length of more than 5 bytes or
// above INT_MAX less its 16 slop bytes; and a tag of more than 5 bytes.
constexpr uint64_t kMaxLength = std::numeric_limits<int32_t>::max() - 16;
constexpr int kMaxVarint32Bytes = 5;

// Reads a tag as protobuf's parser does: 0 at the end (or a limit), and
// for bytes protobuf rejects (a tag of more than 5 bytes, field number 0;
// `bad` is then set).
uint32_t ReadTag(google::protobuf::io::CodedInputStream& in, bool& bad);

// Reads a length-delimited field's length (its tag read) as protobuf's
// parser does: at most 5 bytes, at most kMaxLength, and within the
// enclosing field and the bytes.
bool ReadLength(google::protobuf::io::CodedInputStream& in, int& length);

// Pushes a length-delimited field's length (its tag read) as the limit.
// False where ReadLength is (PushLimit would silently keep an enclosing
// limit shorter than the length).
bool PushLength(google::protobuf::io::CodedInputStream& in,
                google::protobuf::io::CodedInputStream::Limit& limit);

// Skips a field (its tag read) as protobuf's parser reads an unknown field,
// copying it to `copy` when given. False for bytes protobuf rejects.
bool SkipField(google::protobuf::io::CodedInputStream& in, uint32_t tag,
               google::protobuf::io::CodedOutputStream* copy, int depth = 0);

// Whether a message read up to a 0 tag ended where it should: at its
// limit, or the bytes' end (not at a 0 byte, which protobuf rejects).
inline bool Ended(google::protobuf::io::CodedInputStream& in) {
  return in.ConsumedEntireMessage() && in.BytesUntilLimit() <= 0;
}

}  // namespace dsd::convert::internal

#endif  // DSD_SERVER_CONVERT_INTERNAL_WIRE_FORMAT_H_
