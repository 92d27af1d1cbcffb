// Protobuf wire-format pieces for hand-made encodings: what a test needs
// to write bytes protobuf's own serializer never would (padded varints,
// fields in any order, wrong wire types). Header-only.
#ifndef DSD_TESTS_TESTING_WIRE_BYTES_H_
#define DSD_TESTS_TESTING_WIRE_BYTES_H_

#include <cstdint>
#include <string>

namespace dsd::testing {

inline std::string Varint(uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
  return out;
}

// `v` as a varint of exactly `bytes` bytes, padded with continuation
// bytes (protobuf accepts up to 5 for a tag or a length, 10 for a number).
inline std::string Padded(uint64_t v, int bytes) {
  std::string out;
  for (int i = 0; i + 1 < bytes; ++i) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
  return out;
}

// A tag of field `number` with `wire_type` (0 varint, 1 fixed64, 2
// length-delimited, 3 and 4 group start and end, 5 fixed32).
inline std::string Tag(int number, int wire_type) {
  return Varint(static_cast<uint64_t>(number) << 3 |
                static_cast<uint64_t>(wire_type));
}

// A length-delimited field.
inline std::string Field(int number, const std::string& payload) {
  return Tag(number, 2) + Varint(payload.size()) + payload;
}

}  // namespace dsd::testing

#endif  // DSD_TESTS_TESTING_WIRE_BYTES_H_
