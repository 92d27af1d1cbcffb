// SelectorValues (server/convert/selector_values.h) against protobuf's own
// parser: for every DaemonSet encoding, taking the requirement values out
// and parsing the rest accepts exactly what protobuf accepts, and the values
// read back, requirement by requirement, are those protobuf parses.
#include "server/convert/selector_values.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "dsd/v1/dsd.pb.h"
#include "google/protobuf/descriptor.h"
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
using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using google::protobuf::util::MessageDifferencer;
using ::testing::IsEmpty;

std::string Values(std::initializer_list<std::string_view> values) {
  std::string out;
  for (std::string_view v : values) out += Field(3, std::string(v));
  return out;
}
// A requirement: key, operator In, then `rest` (its values and more).
std::string Requirement(const std::string& rest) {
  return Field(1, "zone") + Tag(2, 0) + Varint(1) + rest;
}
// A DaemonSet holding `content` after its name.
std::string DaemonSet(const std::string& content) {
  return Field(2, "ds") + content;
}
// DaemonSet.template.required_node_affinity.node_selector_terms[0], with
// `expressions` as its match_expressions' bytes (each a requirement).
std::string Term(const std::vector<std::string>& expressions,
                 const std::vector<std::string>& fields = {}) {
  std::string term;
  for (const std::string& e : expressions) term += Field(1, e);
  for (const std::string& f : fields) term += Field(2, f);
  return Field(10, Field(4, Field(1, term)));
}

// What taking the values out and parsing the rest makes of `bytes`,
// values put back: nullopt when it rejects them. Also checks that each
// requirement's values are read through Of, not left in the message.
std::optional<v1::DaemonSet> ByTaking(const std::string& bytes) {
  std::string taken = bytes;
  SelectorValues values;
  v1::DaemonSet ds;
  if (!values.Take(taken) || !ds.ParsePartialFromString(taken)) {
    return std::nullopt;
  }
  EXPECT_TRUE(values.Bind(ds));
  v1::DaemonSet restored = ds;
  values.Restore(restored);
  // Bound: every requirement's values, by Of, are those restored.
  const auto check = [&](const v1::SelectorRequirement& r,
                         const v1::SelectorRequirement& whole) {
    EXPECT_THAT(r.values(), IsEmpty());
    const engine::RequirementValues list = values.Of(r);
    std::vector<std::string> read;
    for (size_t i = 0; i < list.size(); ++i) read.emplace_back(list[i]);
    EXPECT_THAT(read, ::testing::ElementsAreArray(whole.values()));
  };
  for (int i = 0; i < ds.selector().match_expressions_size(); ++i) {
    check(ds.selector().match_expressions(i),
          restored.selector().match_expressions(i));
  }
  const auto& terms = ds.template_().required_node_affinity();
  const auto& whole_terms = restored.template_().required_node_affinity();
  for (int t = 0; t < terms.node_selector_terms_size(); ++t) {
    const v1::NodeSelectorTerm& term = terms.node_selector_terms(t);
    const v1::NodeSelectorTerm& whole = whole_terms.node_selector_terms(t);
    for (int i = 0; i < term.match_expressions_size(); ++i) {
      check(term.match_expressions(i), whole.match_expressions(i));
    }
    for (int i = 0; i < term.match_fields_size(); ++i) {
      check(term.match_fields(i), whole.match_fields(i));
    }
  }
  const auto& rollout = ds.update_strategy().rollout_node_selector();
  for (int i = 0; i < rollout.match_expressions_size(); ++i) {
    check(rollout.match_expressions(i),
          restored.update_strategy().rollout_node_selector().match_expressions(
              i));
  }
  return restored;
}

std::optional<v1::DaemonSet> ByProtobuf(const std::string& bytes) {
  v1::DaemonSet ds;
  if (!ds.ParsePartialFromString(bytes)) return std::nullopt;
  return ds;
}
bool Accepts(const std::string& bytes) { return ByProtobuf(bytes).has_value(); }

// Both agree: the same verdict, and the same message (unknown fields too).
void ExpectAgreement(const std::string& bytes) {
  const std::optional<v1::DaemonSet> expected = ByProtobuf(bytes);
  const std::optional<v1::DaemonSet> actual = ByTaking(bytes);
  ASSERT_EQ(actual.has_value(), expected.has_value());
  if (expected) {
    EXPECT_TRUE(MessageDifferencer::Equals(*actual, *expected))
        << "taken:\n"
        << actual->DebugString() << "protobuf:\n"
        << expected->DebugString();
    EXPECT_EQ(actual->SerializeAsString(), expected->SerializeAsString());
  }
}

// A DaemonSet with values in every list, in the shapes protobuf merges:
// singular messages given twice, values between other fields, requirements
// without values among those with.
std::string EveryList() {
  const std::string selector = Field(
      9, Field(2, Requirement(Values({"a", "b"}))) + Field(2, Requirement("")));
  const std::string rollout =
      Field(11, Field(12, Field(2, Requirement(Values({"r1"})))));
  const std::string term =
      Term({Requirement(Values({"x"}) + Field(1, "zone2") + Values({"y"})),
            Requirement(Values({"z"}))},
           {Field(1, "metadata.name") + Values({"node-1"})});
  return DaemonSet(selector + term + rollout +
                   Term({Requirement(Values({"second"}))}) +
                   Field(9, Field(2, Requirement(Values({"c"})))));
}

TEST(SelectorValuesTest, AgreesWithProtobufOnEncodings) {
  const google::protobuf::LogSilencer quiet;  // protobuf logs bad UTF-8
  const std::string long_value(300, 'v');     // a 2-byte length
  const std::string not_utf8("\xc3\x28", 2);
  const std::string affinity =
      Field(4, Field(1, Field(1, Requirement(Values({"a", "b"})))));
  struct Case {
    const char* name;
    std::string bytes;
    bool protobuf_accepts;
  };
  const Case cases[] = {
      {"no values", DaemonSet(Field(9, Field(2, Requirement("")))), true},
      {"every list, merged occurrences", EveryList(), true},
      {"a long value: the messages around it shrink by more than it",
       DaemonSet(Term({Requirement(Values({long_value, "b"}))})), true},
      {"a value that is not UTF-8",
       DaemonSet(Term({Requirement(Values({"a", not_utf8}))})), false},
      {"a value that is not UTF-8 in the rollout selector",
       DaemonSet(
           Field(11, Field(12, Field(2, Requirement(Values({not_utf8})))))),
       false},
      {"field 3 as a varint: an unknown field, kept",
       DaemonSet(Term({Requirement(Tag(3, 0) + Varint(7) + Values({"a"}))})),
       true},
      {"the numbers of fields on the way, as other wire types: unknown fields",
       DaemonSet(
           Tag(9, 0) + Varint(3) + Tag(10, 5) + std::string(4, '\x01') +
           Field(10,
                 Field(4, Tag(1, 1) + std::string(8, '\x02') +
                              Field(1, Field(1, Requirement(Values({"a"})))))) +
           Field(9, Field(2, Requirement(Values({"b"}))))),
       true},
      {"unknown fields and groups on the way",
       DaemonSet(
           Field(10, Tag(99, 3) + Tag(1, 0) + Varint(1) + Tag(99, 4) +
                         Field(4, Field(1, Field(1, Requirement(Values({"a"})) +
                                                        Field(77, "u"))))) +
           Tag(55, 0) + Varint(5)),
       true},
      {"a padded tag and a padded length on the way",
       DaemonSet(Padded((10 << 3) | 2, 3) + Padded(affinity.size(), 5) +
                 affinity),
       true},
      {"a length of 6 bytes on the way",
       DaemonSet(Tag(10, 2) + std::string("\x80\x80\x80\x80\x80\x00", 6)),
       false},
      {"a value's length past its requirement",
       DaemonSet(Field(9, Field(2, Field(1, "k") + Tag(3, 2) + Varint(40)))),
       false},
      {"a value's length of 6 bytes",
       DaemonSet(Field(
           9, Field(2, Tag(3, 2) + std::string("\x81\x80\x80\x80\x80\x00", 6) +
                           "a"))),
       false},
      {"a 0 tag in a requirement",
       DaemonSet(Field(9, Field(2, Values({"a"}) + std::string("\x00", 1)))),
       false},
      {"an end-group tag in a term",
       DaemonSet(Field(10, Field(4, Field(1, Tag(5, 4))))), false},
      {"field number 0 in the selector",
       DaemonSet(Field(9, std::string("\x02\x00", 2))), false},
      {"a requirement cut short",
       DaemonSet(Tag(9, 2) + Varint(10) + Field(2, "ab")), false},
      {"a string elsewhere that is not UTF-8 (protobuf's to reject)",
       DaemonSet(Field(9, Field(2, Requirement(Values({"a"})))) +
                 Field(1, not_utf8)),
       false},
  };
  testing::ForEachEncoding(cases, Accepts, ExpectAgreement);
}

TEST(SelectorValuesTest, AgreesWithProtobufOnCorruptedBytes) {
  const google::protobuf::LogSilencer quiet;
  const testing::Verdicts verdicts = testing::AgreementOnPrefixesAndMutations(
      EveryList(), 4000, 20261205, Accepts, ExpectAgreement);
  EXPECT_GT(verdicts.accepted, 200);
  EXPECT_GT(verdicts.rejected, 200);
}

// What taking a Pod's values out and parsing the rest makes of `bytes`,
// values put back (nullopt when it rejects them); each requirement's
// values are read through Of, not left in the message.
std::optional<v1::Pod> PodByTaking(const std::string& bytes) {
  std::string taken = bytes;
  SelectorValues values;
  v1::Pod pod;
  if (!values.TakeFromPod(taken) || !pod.ParsePartialFromString(taken)) {
    return std::nullopt;
  }
  EXPECT_TRUE(values.Bind(pod));
  v1::Pod restored = pod;
  values.Restore(restored);
  const auto& terms = pod.required_node_affinity().node_selector_terms();
  for (int t = 0; t < terms.size(); ++t) {
    const v1::NodeSelectorTerm& whole =
        restored.required_node_affinity().node_selector_terms(t);
    for (const auto* lists :
         {&terms[t].match_expressions(), &terms[t].match_fields()}) {
      const bool fields = lists == &terms[t].match_fields();
      for (int i = 0; i < lists->size(); ++i) {
        const v1::SelectorRequirement& r = (*lists)[i];
        EXPECT_THAT(r.values(), IsEmpty());
        const engine::RequirementValues list = values.Of(r);
        std::vector<std::string> read;
        for (size_t j = 0; j < list.size(); ++j) read.emplace_back(list[j]);
        EXPECT_THAT(read, ::testing::ElementsAreArray(
                              (fields ? whole.match_fields(i)
                                      : whole.match_expressions(i))
                                  .values()));
      }
    }
  }
  return restored;
}

// A Pod's required node affinity is taken out as a DaemonSet's is: the
// same verdict as protobuf's and the same message, on merged occurrences,
// every prefix and corrupted bytes.
TEST(SelectorValuesTest, APodsValuesAgreeWithProtobuf) {
  const google::protobuf::LogSilencer quiet;
  const auto affinity = [](const std::string& terms) {
    return Field(v1::Pod::kRequiredNodeAffinityFieldNumber, terms);
  };
  const std::string good =
      Field(2, "p") +
      affinity(Field(
          1, Field(1, Requirement(Values({"a", "b"}))) +
                 Field(2, Field(1, "metadata.name") + Values({"node-1"})))) +
      Field(8, "") + affinity(Field(1, Field(1, Requirement(Values({"c"})))));
  int accepted = 0;
  int rejected = 0;
  const auto check = [&](const std::string& bytes) {
    v1::Pod expected;
    const bool by_protobuf = expected.ParsePartialFromString(bytes);
    const std::optional<v1::Pod> actual = PodByTaking(bytes);
    ASSERT_EQ(actual.has_value(), by_protobuf);
    (by_protobuf ? accepted : rejected) += 1;
    if (by_protobuf) {
      EXPECT_TRUE(MessageDifferencer::Equals(*actual, expected));
      EXPECT_EQ(actual->SerializeAsString(), expected.SerializeAsString());
    }
  };
  check(good);
  ASSERT_EQ(accepted, 1);
  check(Field(2, "p") +
        affinity(Field(
            1, Field(1, Requirement(Values({std::string("\xc3\x28", 2)}))))));
  EXPECT_EQ(rejected, 1);  // a value that is not UTF-8
  testing::ForPrefixesAndMutations(good, 1, 2000, 20261206, check);
  EXPECT_GT(accepted, 100);
  EXPECT_GT(rejected, 100);
}

// Every SelectorRequirement a DaemonSet can hold, found through the
// descriptors: each gets two values, and each has them taken out. A field
// added to dsd.proto on a new way to a requirement fails here until
// SelectorValues knows the way.
void FillRequirements(Message& m, int depth, int& filled) {
  const Descriptor& type = *m.GetDescriptor();
  const Reflection& reflection = *m.GetReflection();
  if (type.full_name() == "dsd.v1.SelectorRequirement") {
    reflection.AddString(&m, type.FindFieldByName("values"),
                         "v" + std::to_string(filled));
    reflection.AddString(&m, type.FindFieldByName("values"), "w");
    ++filled;
    return;
  }
  if (depth > 6) return;
  for (int i = 0; i < type.field_count(); ++i) {
    const FieldDescriptor& f = *type.field(i);
    if (f.type() != FieldDescriptor::TYPE_MESSAGE) continue;
    Message& child = f.is_repeated() ? *reflection.AddMessage(&m, &f)
                                     : *reflection.MutableMessage(&m, &f);
    FillRequirements(child, depth + 1, filled);
  }
}

TEST(SelectorValuesTest, EveryWayToARequirementIsTaken) {
  v1::DaemonSet whole;
  int filled = 0;
  FillRequirements(whole, 0, filled);
  EXPECT_EQ(filled, 4);  // selector, terms' expressions and fields, rollout
  std::string bytes = whole.SerializeAsString();
  SelectorValues values;
  ASSERT_TRUE(values.Take(bytes));
  v1::DaemonSet ds;
  ASSERT_TRUE(ds.ParseFromString(bytes));
  ASSERT_TRUE(values.Bind(ds));
  int seen = 0;
  std::function<void(const Message&)> walk = [&](const Message& m) {
    if (const auto* r = dynamic_cast<const v1::SelectorRequirement*>(&m)) {
      EXPECT_THAT(r->values(), IsEmpty());
      const engine::RequirementValues list = values.Of(*r);
      ASSERT_EQ(list.size(), 2u);
      EXPECT_EQ(list[0], "v" + std::to_string(seen));
      EXPECT_EQ(list[1], "w");
      ++seen;
      return;
    }
    const Reflection& reflection = *m.GetReflection();
    std::vector<const FieldDescriptor*> fields;
    reflection.ListFields(m, &fields);
    for (const FieldDescriptor* f : fields) {
      if (f->type() != FieldDescriptor::TYPE_MESSAGE) continue;
      if (f->is_repeated()) {
        for (int i = 0; i < reflection.FieldSize(m, f); ++i) {
          walk(reflection.GetRepeatedMessage(m, f, i));
        }
      } else {
        walk(reflection.GetMessage(m, f));
      }
    }
  };
  walk(ds);
  EXPECT_EQ(seen, filled);
}

TEST(SelectorValuesTest, ValuesMovedIntoASnapshotLiveThere) {
  std::string bytes =
      DaemonSet(Term({Requirement(Values({"first-value", "second-value"}))}));
  engine::Snapshot storage;
  v1::DaemonSet ds;
  engine::RequirementValues kept_values;
  {
    SelectorValues values;
    ASSERT_TRUE(values.Take(bytes));
    ASSERT_TRUE(ds.ParseFromString(bytes));
    ASSERT_TRUE(values.Bind(ds));
    values.MoveInto(storage);
    const v1::SelectorRequirement& r = ds.template_()
                                           .required_node_affinity()
                                           .node_selector_terms(0)
                                           .match_expressions(0);
    const engine::RequirementValues list = values.Of(r);
    ASSERT_EQ(list.size(), 2u);
    ASSERT_EQ(storage.strings.size(), 1u);
    const std::string& kept = storage.strings.front();
    EXPECT_EQ(kept, "first-valuesecond-value");
    EXPECT_EQ(list[0].data(), kept.data());
    EXPECT_EQ(list[1].data(), kept.data() + 11);
    EXPECT_EQ(list[1], "second-value");
    // The engine's form: references kept in the snapshot too.
    kept_values = values.Of(r);
    ASSERT_EQ(kept_values.size(), 2u);
    ASSERT_EQ(storage.value_refs.size(), 1u);
    EXPECT_EQ(kept_values[0].data(), kept.data());
    EXPECT_EQ(kept_values[1], "second-value");
    EXPECT_EQ(kept_values,
              (engine::RequirementValues{"first-value", "second-value"}));
  }
  EXPECT_EQ(storage.strings.front(), "first-valuesecond-value");
  // They outlive the SelectorValues (under ASan, a reference left in it is
  // a use after free here).
  EXPECT_EQ(kept_values,
            (engine::RequirementValues{"first-value", "second-value"}));
  ASSERT_EQ(storage.value_refs.front().size(), 2u);
  EXPECT_EQ(storage.value_refs.front()[1].offset, 11u);
}

}  // namespace
}  // namespace dsd::convert
