// WireNode (server/convert/wire_node.h) against protobuf's own parser: for
// every Node encoding, the reader accepts exactly what protobuf accepts,
// and what it reads is the message protobuf parses (unknown fields aside,
// which the server drops either way).
#include "server/convert/wire_node.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "dsd/v1/dsd.pb.h"
#include "google/protobuf/stubs/logging.h"
#include "google/protobuf/util/message_differencer.h"
#include "tests/testing/mutate.h"
#include "tests/testing/wire_bytes.h"

namespace dsd::convert {
namespace {

using ::dsd::testing::Field;
using ::dsd::testing::Padded;
using ::dsd::testing::Tag;
using ::dsd::testing::Varint;
using google::protobuf::util::MessageDifferencer;

std::optional<v1::Node> ByProtobuf(const std::string& bytes) {
  v1::Node node;
  if (!node.ParsePartialFromString(bytes)) return std::nullopt;
  node.DiscardUnknownFields();
  return node;
}
bool Accepts(const std::string& bytes) { return ByProtobuf(bytes).has_value(); }

// The reader and protobuf agree on `bytes`: both reject them, or both
// accept them and read the same node.
void ExpectAgreement(const std::string& bytes) {
  const std::optional<v1::Node> want = ByProtobuf(bytes);
  WireNode node;
  ASSERT_EQ(node.Read(bytes), want.has_value())
      << "protobuf " << (want ? "accepts" : "rejects") << " the bytes";
  if (!want) return;
  v1::Node got;
  node.CopyTo(got);
  EXPECT_TRUE(MessageDifferencer::Equals(got, *want))
      << "read:\n"
      << got.DebugString() << "protobuf:\n"
      << want->DebugString();
  ASSERT_EQ(static_cast<int>(node.labels().size()), want->labels_size());
  for (int i = 0; i < want->labels_size(); ++i) {
    EXPECT_EQ(node.labels()[static_cast<size_t>(i)].key(),
              want->labels(i).key());
  }
}

std::string Label(const std::string& key, const std::string& value) {
  return Field(2, Field(1, key) + Field(2, value));
}
// A taint: key, value, effect, and `time` (a Timestamp's bytes) if given.
std::string Taint(const std::string& key, const std::string& value,
                  uint64_t effect, std::optional<std::string> time = {}) {
  std::string t = Field(1, key) + Field(2, value) + Tag(3, 0) + Varint(effect);
  if (time) t += Field(4, *time);
  return Field(3, t);
}
std::string Time(uint64_t seconds, uint64_t nanos) {
  return Tag(1, 0) + Varint(seconds) + Tag(2, 0) + Varint(nanos);
}

// Every field of a node, some more than once.
std::string EveryField() {
  return Field(1, "first-name") + Label("kubernetes.io/os", "linux") +
         Taint("dedicated", "gpu", 1, Time(1767225600, 5)) + Label("a", "") +
         Field(1, "node-1") + Taint("spot", "", 2) +
         Taint("late", "x", 3, Time(253402300799, 999999999)) +
         Label("zone", "z1");
}

TEST(WireNodeTest, AgreesWithProtobufOnEncodings) {
  const google::protobuf::LogSilencer quiet;  // protobuf logs bad UTF-8
  const std::string not_utf8("\xc3\x28", 2);
  const std::string long_key(300, 'k');  // a 2-byte length
  struct Case {
    const char* name;
    std::string bytes;
    bool protobuf_accepts;
  };
  const Case cases[] = {
      {"empty", "", true},
      {"every field, names repeated: the last wins", EveryField(), true},
      {"a long key", Label(long_key, "v"), true},
      {"a label's key twice: the last wins",
       Field(2, Field(1, "a") + Field(1, "b") + Field(2, "v")), true},
      {"a taint's time in two pieces: merged",
       Field(3, Field(1, "k") + Field(4, Tag(1, 0) + Varint(100)) +
                    Field(4, Tag(2, 0) + Varint(7))),
       true},
      {"an empty time: present", Taint("k", "", 3, std::string()), true},
      {"an effect out of the enum, a negative one, one of 10 bytes",
       Taint("a", "", 99) + Taint("b", "", ~uint64_t{0}) +
           Field(3, Tag(3, 0) + Padded(2, 10)),
       true},
      {"an effect of 11 bytes", Field(3, Tag(3, 0) + Padded(2, 11)), false},
      {"seconds and nanos past their ranges (validation's to reject)",
       Taint("k", "", 1, Time(~uint64_t{0}, uint64_t{1} << 40)), true},
      {"a key that is not UTF-8", Label(not_utf8, "v"), false},
      {"a value that is not UTF-8", Taint("k", not_utf8, 1), false},
      {"a name that is not UTF-8", Field(1, not_utf8), false},
      {"the fields as other wire types: unknown fields",
       Tag(1, 0) + Varint(3) + Tag(2, 5) + std::string(4, '\x01') + Tag(3, 1) +
           std::string(8, '\x02') +
           Field(2, Tag(1, 0) + Varint(1) + Field(2, "v")) +
           Field(3, Field(3, "as a string") + Field(1, "k")),
       true},
      {"unknown fields and groups at every level",
       Tag(99, 3) + Tag(1, 0) + Varint(1) + Tag(99, 4) +
           Field(2, Field(7, "u") + Field(1, "k")) +
           Field(3, Field(1, "k") + Tag(8, 3) + Tag(8, 4) +
                        Field(4, Tag(9, 5) + std::string(4, 'x'))) +
           Tag(55, 0) + Varint(5),
       true},
      {"padded tags and lengths",
       Padded((2 << 3) | 2, 5) + Padded(7, 5) + Padded((1 << 3) | 2, 3) +
           Varint(1) + "k" + std::string("\x12\x00", 2),
       true},
      {"a tag of 6 bytes", Padded((1 << 3) | 2, 6) + Varint(0), false},
      {"a length of 6 bytes", Tag(1, 2) + Padded(1, 6) + "n", false},
      {"a length past the bytes", Tag(2, 2) + Varint(40) + Field(1, "k"),
       false},
      {"a label's key past its label",
       Tag(2, 2) + Varint(3) + Tag(1, 2) + Varint(5) + "k" + Field(1, "n"),
       false},
      {"a 0 tag in a label", Field(2, Field(1, "k") + std::string(1, '\0')),
       false},
      {"a 0 tag in a node", Field(1, "n") + std::string(1, '\0'), false},
      {"an end-group tag in a taint", Field(3, Tag(5, 4)), false},
      {"an end-group tag in a node", Tag(5, 4), false},
      {"wire types 6 and 7", Tag(9, 6) + Varint(0), false},
      {"a group left open in a label", Field(2, Tag(9, 3) + Field(1, "k")),
       false},
  };
  testing::ForEachEncoding(cases, Accepts, ExpectAgreement);
}

TEST(WireNodeTest, AgreesWithProtobufOnCorruptedBytes) {
  const google::protobuf::LogSilencer quiet;
  const testing::Verdicts verdicts = testing::AgreementOnPrefixesAndMutations(
      EveryField(), 6000, 20261206, Accepts, ExpectAgreement);
  EXPECT_GT(verdicts.accepted, 300);
  EXPECT_GT(verdicts.rejected, 300);
}

// A reader is reused node after node: nothing of the one before is left.
TEST(WireNodeTest, TheNextReadForgetsTheNodeBefore) {
  WireNode node;
  const std::string first = EveryField();  // the views point into it
  ASSERT_TRUE(node.Read(first));
  EXPECT_EQ(node.name(), "node-1");
  EXPECT_EQ(node.labels().size(), 3u);
  EXPECT_EQ(node.taints_size(), 3);
  EXPECT_EQ(node.taints(0).time_added().nanos(), 5);
  const std::string second = Field(1, "n2") + Taint("k", "", 1);
  ASSERT_TRUE(node.Read(second));
  EXPECT_EQ(node.name(), "n2");
  EXPECT_TRUE(node.labels().empty());
  ASSERT_EQ(node.taints_size(), 1);
  EXPECT_FALSE(node.taints(0).has_time_added());
  ASSERT_TRUE(node.Read(std::string_view()));
  EXPECT_EQ(node.name(), "");
}

}  // namespace
}  // namespace dsd::convert
