// Pins server/engine/selectors: label selectors (semantics doc section 5.1),
// nodeSelector plus required node affinity with match-time validity (3.4,
// catalogue D1-D6) and the node a pod targets (5.2, catalogue C.4).
#include "server/engine/selectors.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "server/engine/types.h"
#include "tests/testing/builders.h"
#include "tests/testing/param_name.h"

namespace dsd::engine {
namespace {

using ::dsd::testing::MakeRequirement;
using ::dsd::testing::NodeBuilder;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr SelectorOperator kIn = SelectorOperator::kIn;
constexpr SelectorOperator kNotIn = SelectorOperator::kNotIn;
constexpr SelectorOperator kExists = SelectorOperator::kExists;
constexpr SelectorOperator kDoesNotExist = SelectorOperator::kDoesNotExist;
constexpr SelectorOperator kGt = SelectorOperator::kGt;
constexpr SelectorOperator kLt = SelectorOperator::kLt;

using StringPairs = std::vector<std::pair<std::string, std::string>>;

// A requirement spelled with owned strings, so that tables can be static.
struct Req {
  std::string key;
  SelectorOperator op;
  std::vector<std::string> values;
};

struct TermSpec {
  std::vector<Req> expressions;
  std::vector<Req> fields;
};

Labels ToLabels(Snapshot& snap, const StringPairs& pairs) {
  std::vector<Label> labels;
  for (const auto& [k, v] : pairs) {
    labels.push_back(snap.MakeLabel(k, v));
  }
  return snap.InternLabels(labels);
}

Requirement ToRequirement(Snapshot& snap, const Req& r) {
  return MakeRequirement(snap, r.key, r.op, r.values);
}

std::vector<Requirement> ToRequirements(Snapshot& snap,
                                        const std::vector<Req>& reqs) {
  std::vector<Requirement> out;
  for (const Req& r : reqs) out.push_back(ToRequirement(snap, r));
  return out;
}

std::vector<NodeSelectorTerm> ToTerms(Snapshot& snap,
                                      const std::vector<TermSpec>& specs) {
  std::vector<NodeSelectorTerm> terms;
  for (const TermSpec& spec : specs) {
    terms.push_back({ToRequirements(snap, spec.expressions),
                     ToRequirements(snap, spec.fields)});
  }
  return terms;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return s;
}

// ---------------------------------------------------------------------------
// IsEmptySelector: zero requirements (section 2 step 3).
// ---------------------------------------------------------------------------

TEST(IsEmptySelectorTest, OnlyAZeroRequirementSelectorIsEmpty) {
  Snapshot snap;
  const LabelSelector empty;
  const LabelSelector with_label{ToLabels(snap, {{"app", "x"}}), {}};
  const LabelSelector with_expression{
      {}, {MakeRequirement(snap, "app", kExists, {})}};
  // No matchLabels and no matchExpressions selects everything.
  EXPECT_TRUE(IsEmptySelector(empty));
  // One requirement of either kind makes it non-empty.
  EXPECT_FALSE(IsEmptySelector(with_label));
  EXPECT_FALSE(IsEmptySelector(with_expression));
}

// ---------------------------------------------------------------------------
// SelectorMatches: matchLabels AND matchExpressions (section 5.1, operator
// meanings of section 3.4).
// ---------------------------------------------------------------------------

struct LabelSelectorCase {
  std::string name;
  StringPairs match_labels;
  std::vector<Req> match_expressions;
  StringPairs labels;  // of the pod
  bool want;
};

void PrintTo(const LabelSelectorCase& c, std::ostream* os) { *os << c.name; }

std::vector<LabelSelectorCase> LabelSelectorCases() {
  return {
      {"EmptySelectorSelectsEverything", {}, {}, {{"x", "y"}}, true},
      {"EmptySelectorSelectsUnlabelled", {}, {}, {}, true},
      {"MatchLabelsEqual", {{"app", "ds"}}, {}, {{"app", "ds"}}, true},
      {"MatchLabelsExtraPodLabelsIgnored",
       {{"app", "ds"}},
       {},
       {{"app", "ds"}, {"tier", "x"}},
       true},
      {"MatchLabelsValueDiffers", {{"app", "ds"}}, {}, {{"app", "dt"}}, false},
      {"MatchLabelsCaseSensitive", {{"app", "ds"}}, {}, {{"app", "DS"}}, false},
      {"MatchLabelsKeyAbsent", {{"app", "ds"}}, {}, {{"tier", "ds"}}, false},
      {"MatchLabelsAllRequired",
       {{"app", "ds"}, {"tier", "node"}},
       {},
       {{"app", "ds"}},
       false},
      {"MatchLabelsEmptyValueNeedsKey", {{"app", ""}}, {}, {}, false},
      {"MatchLabelsEmptyValueMatchesEmpty",
       {{"app", ""}},
       {},
       {{"app", ""}},
       true},
      {"InValueListed", {}, {{"env", kIn, {"a", "b"}}}, {{"env", "b"}}, true},
      {"InValueNotListed",
       {},
       {{"env", kIn, {"a", "b"}}},
       {{"env", "c"}},
       false},
      {"InKeyAbsent", {}, {{"env", kIn, {"a"}}}, {}, false},
      {"NotInValueListed", {}, {{"env", kNotIn, {"a"}}}, {{"env", "a"}}, false},
      {"NotInValueNotListed",
       {},
       {{"env", kNotIn, {"a"}}},
       {{"env", "b"}},
       true},
      {"NotInKeyAbsent", {}, {{"env", kNotIn, {"a"}}}, {}, true},
      {"ExistsPresent", {}, {{"env", kExists, {}}}, {{"env", "x"}}, true},
      {"ExistsPresentEmptyValue",
       {},
       {{"env", kExists, {}}},
       {{"env", ""}},
       true},
      {"ExistsAbsent", {}, {{"env", kExists, {}}}, {{"x", "env"}}, false},
      {"DoesNotExistAbsent", {}, {{"env", kDoesNotExist, {}}}, {}, true},
      {"DoesNotExistPresent",
       {},
       {{"env", kDoesNotExist, {}}},
       {{"env", "x"}},
       false},
      {"ExpressionsAnded",
       {},
       {{"env", kExists, {}}, {"tier", kIn, {"web"}}},
       {{"env", "x"}, {"tier", "db"}},
       false},
      {"LabelsAndExpressionsBothHold",
       {{"app", "ds"}},
       {{"env", kNotIn, {"prod"}}},
       {{"app", "ds"}, {"env", "dev"}},
       true},
      {"LabelsHoldExpressionFails",
       {{"app", "ds"}},
       {{"env", kNotIn, {"prod"}}},
       {{"app", "ds"}, {"env", "prod"}},
       false},
      {"ExpressionHoldsLabelsFail",
       {{"app", "ds"}},
       {{"env", kExists, {}}},
       {{"app", "other"}, {"env", "x"}},
       false},
      // A Gt/Lt or malformed expression matches nothing (header contract;
      // LabelSelector accepts only the four set operators, section 5.1).
      {"GtExpressionMatchesNothing",
       {},
       {{"n", kGt, {"1"}}},
       {{"n", "5"}},
       false},
      {"LtExpressionMatchesNothing",
       {},
       {{"n", kLt, {"9"}}},
       {{"n", "5"}},
       false},
      {"InWithoutValuesMatchesNothing",
       {},
       {{"env", kIn, {}}},
       {{"env", ""}},
       false},
      {"ExistsWithValuesMatchesNothing",
       {},
       {{"env", kExists, {"x"}}},
       {{"env", "x"}},
       false},
  };
}

class SelectorMatchesTest : public ::testing::TestWithParam<LabelSelectorCase> {
};

TEST_P(SelectorMatchesTest, Matches) {
  const LabelSelectorCase& c = GetParam();
  Snapshot snap;
  const LabelSelector selector{ToLabels(snap, c.match_labels),
                               ToRequirements(snap, c.match_expressions)};
  EXPECT_EQ(SelectorMatches(selector, ToLabels(snap, c.labels)), c.want);
}

INSTANTIATE_TEST_SUITE_P(Table, SelectorMatchesTest,
                         ::testing::ValuesIn(LabelSelectorCases()),
                         ::dsd::testing::ParamName<LabelSelectorCase>);

// ---------------------------------------------------------------------------
// NodeSelection::Matches: nodeSelector AND required node affinity (3.4).
// ---------------------------------------------------------------------------

struct NodeSelectionCase {
  std::string name;
  StringPairs node_selector;
  std::optional<std::vector<TermSpec>> required;  // nullopt: absent
  std::string node_name;
  StringPairs node_labels;
  bool want;
};

void PrintTo(const NodeSelectionCase& c, std::ostream* os) { *os << c.name; }

// Shorthand for a required affinity of one term with only expressions.
std::optional<std::vector<TermSpec>> Expr(std::vector<Req> expressions) {
  return std::vector<TermSpec>{{std::move(expressions), {}}};
}
// ... and with only fields.
std::optional<std::vector<TermSpec>> Fields(std::vector<Req> fields) {
  return std::vector<TermSpec>{{{}, std::move(fields)}};
}

constexpr char kName[] = "metadata.name";

std::vector<NodeSelectionCase> NodeSelectionCases() {
  return {
      {"NoConstraints", {}, std::nullopt, "node-1", {}, true},

      // nodeSelector: every entry present with exactly that value.
      {"NodeSelectorMatches",
       {{"disk", "ssd"}},
       std::nullopt,
       "node-1",
       {{"disk", "ssd"}, {"zone", "a"}},
       true},
      {"NodeSelectorValueDiffers",
       {{"disk", "ssd"}},
       std::nullopt,
       "node-1",
       {{"disk", "hdd"}},
       false},
      {"NodeSelectorCaseSensitive",
       {{"disk", "ssd"}},
       std::nullopt,
       "node-1",
       {{"disk", "SSD"}},
       false},
      {"NodeSelectorKeyAbsent",
       {{"disk", "ssd"}},
       std::nullopt,
       "node-1",
       {},
       false},
      {"NodeSelectorAllEntriesRequired",
       {{"disk", "ssd"}, {"zone", "a"}},
       std::nullopt,
       "node-1",
       {{"disk", "ssd"}, {"zone", "b"}},
       false},
      {"NodeSelectorEmptyValueMatchesEmptyLabel",
       {{"gpu", ""}},
       std::nullopt,
       "node-1",
       {{"gpu", ""}},
       true},
      {"NodeSelectorEmptyValueNeedsKey",
       {{"gpu", ""}},
       std::nullopt,
       "node-1",
       {},
       false},
      {"NodeSelectorEmptyValueRejectsNonEmpty",
       {{"gpu", ""}},
       std::nullopt,
       "node-1",
       {{"gpu", "a100"}},
       false},
      // No validation of nodeSelector at match time.
      {"NodeSelectorNotValidatedAtMatchTime",
       {{"bad key!", "-v"}},
       std::nullopt,
       "node-1",
       {{"bad key!", "-v"}},
       true},

      // matchExpressions operators.
      {"InMatches",
       {},
       Expr({{"type", kIn, {"test", "production"}}}),
       "node-1",
       {{"type", "production"}},
       true},
      {"InNotListed",
       {},
       Expr({{"type", kIn, {"test"}}}),
       "node-1",
       {{"type", "production"}},
       false},
      {"InKeyAbsent", {}, Expr({{"type", kIn, {"test"}}}), "node-1", {}, false},
      {"NotInListed",
       {},
       Expr({{"type", kNotIn, {"test"}}}),
       "node-1",
       {{"type", "test"}},
       false},
      {"NotInNotListed",
       {},
       Expr({{"type", kNotIn, {"test"}}}),
       "node-1",
       {{"type", "production"}},
       true},
      {"D1NotInKeyAbsentMatches",
       {},
       Expr({{"type", kNotIn, {"a"}}}),
       "node-1",
       {},
       true},
      {"ExistsPresent",
       {},
       Expr({{"gpu", kExists, {}}}),
       "node-1",
       {{"gpu", "a100"}},
       true},
      {"ExistsPresentEmptyValue",
       {},
       Expr({{"gpu", kExists, {}}}),
       "node-1",
       {{"gpu", ""}},
       true},
      {"ExistsAbsent", {}, Expr({{"gpu", kExists, {}}}), "node-1", {}, false},
      {"DoesNotExistAbsent",
       {},
       Expr({{"gpu", kDoesNotExist, {}}}),
       "node-1",
       {},
       true},
      {"DoesNotExistPresent",
       {},
       Expr({{"gpu", kDoesNotExist, {}}}),
       "node-1",
       {{"gpu", ""}},
       false},

      // Gt/Lt: label parsed with strconv.ParseInt, strictly greater/less.
      {"D2GtLeadingZerosMatch",
       {},
       Expr({{"cores", kGt, {"5"}}}),
       "node-1",
       {{"cores", "007"}},
       true},
      {"D2GtEqualNoMatch",
       {},
       Expr({{"cores", kGt, {"5"}}}),
       "node-1",
       {{"cores", "5"}},
       false},
      {"GtGreaterMatches",
       {},
       Expr({{"cores", kGt, {"5"}}}),
       "node-1",
       {{"cores", "6"}},
       true},
      {"GtSmallerNoMatch",
       {},
       Expr({{"cores", kGt, {"5"}}}),
       "node-1",
       {{"cores", "4"}},
       false},
      {"D2GtNotANumberNoMatch",
       {},
       Expr({{"cores", kGt, {"5"}}}),
       "node-1",
       {{"cores", "abc"}},
       false},
      {"D2GtKeyAbsentNoMatch",
       {},
       Expr({{"cores", kGt, {"5"}}}),
       "node-1",
       {},
       false},
      {"GtEmptyLabelValueNoMatch",
       {},
       Expr({{"cores", kGt, {"5"}}}),
       "node-1",
       {{"cores", ""}},
       false},
      {"GtLabelWithSpaceNoMatch",
       {},
       Expr({{"cores", kGt, {"5"}}}),
       "node-1",
       {{"cores", " 7"}},
       false},
      {"GtLabelAboveInt64NoMatch",
       {},
       Expr({{"cores", kGt, {"5"}}}),
       "node-1",
       {{"cores", "9223372036854775808"}},
       false},
      {"GtBoundWithLeadingZerosIsValid",
       {},
       Expr({{"cores", kGt, {"007"}}}),
       "node-1",
       {{"cores", "8"}},
       true},
      {"LtSmallerMatches",
       {},
       Expr({{"cores", kLt, {"5"}}}),
       "node-1",
       {{"cores", "4"}},
       true},
      {"LtLeadingZerosMatch",
       {},
       Expr({{"cores", kLt, {"5"}}}),
       "node-1",
       {{"cores", "004"}},
       true},
      {"LtEqualNoMatch",
       {},
       Expr({{"cores", kLt, {"5"}}}),
       "node-1",
       {{"cores", "5"}},
       false},
      {"LtNotANumberNoMatch",
       {},
       Expr({{"cores", kLt, {"5"}}}),
       "node-1",
       {{"cores", "abc"}},
       false},
      {"LtKeyAbsentNoMatch",
       {},
       Expr({{"cores", kLt, {"5"}}}),
       "node-1",
       {},
       false},

      // Match-time validity: an invalid requirement voids its term.
      {"D3GtNegativeBoundInvalid",
       {},
       Expr({{"cores", kGt, {"-1"}}}),
       "node-1",
       {{"cores", "5"}},
       false},
      {"LtNegativeBoundInvalid",
       {},
       Expr({{"cores", kLt, {"-1"}}}),
       "node-1",
       {{"cores", "-5"}},
       false},
      {"GtTwoValuesInvalid",
       {},
       Expr({{"cores", kGt, {"1", "2"}}}),
       "node-1",
       {{"cores", "7"}},
       false},
      {"GtNoValuesInvalid",
       {},
       Expr({{"cores", kGt, {}}}),
       "node-1",
       {{"cores", "7"}},
       false},
      {"GtNonIntegerBoundInvalid",
       {},
       Expr({{"cores", kGt, {"abc"}}}),
       "node-1",
       {{"cores", "7"}},
       false},
      {"InWithoutValuesInvalid",
       {},
       Expr({{"type", kIn, {}}}),
       "node-1",
       {{"type", ""}},
       false},
      {"NotInWithoutValuesInvalid",
       {},
       Expr({{"type", kNotIn, {}}}),
       "node-1",
       {{"type", "x"}},
       false},
      {"ExistsWithValuesInvalid",
       {},
       Expr({{"gpu", kExists, {"a100"}}}),
       "node-1",
       {{"gpu", "a100"}},
       false},
      {"DoesNotExistWithValuesInvalid",
       {},
       Expr({{"gpu", kDoesNotExist, {"a100"}}}),
       "node-1",
       {},
       false},
      {"InvalidLabelKeyInvalid",
       {},
       Expr({{"bad key!", kExists, {}}}),
       "node-1",
       {{"bad key!", "x"}},
       false},
      {"InvalidLabelValueInvalid",
       {},
       Expr({{"type", kIn, {"-bad"}}}),
       "node-1",
       {{"type", "-bad"}},
       false},
      {"InvalidNotInValueInvalid",
       {},
       Expr({{"type", kNotIn, {"a b"}}}),
       "node-1",
       {{"type", "x"}},
       false},

      // Terms ORed, expressions and fields ANDed.
      {"ExpressionsAnded",
       {},
       Expr({{"type", kIn, {"production"}}, {"gpu", kExists, {}}}),
       "node-1",
       {{"type", "production"}},
       false},
      {"ExpressionsAndedAllHold",
       {},
       Expr({{"type", kIn, {"production"}}, {"gpu", kExists, {}}}),
       "node-1",
       {{"type", "production"}, {"gpu", "x"}},
       true},
      {"TermsOredSecondMatches",
       {},
       std::vector<TermSpec>{{{{"type", kIn, {"test"}}}, {}},
                             {{{"type", kIn, {"production"}}}, {}}},
       "node-1",
       {{"type", "production"}},
       true},
      {"TermsOredNoneMatches",
       {},
       std::vector<TermSpec>{{{{"type", kIn, {"test"}}}, {}},
                             {{{"zone", kExists, {}}}, {}}},
       "node-1",
       {{"type", "production"}},
       false},
      {"D4InvalidFirstTermValidSecondTermMatches",
       {},
       std::vector<TermSpec>{{{{"type", kIn, {}}}, {}},
                             {{{"type", kIn, {"production"}}}, {}}},
       "node-1",
       {{"type", "production"}},
       true},
      {"InvalidRequirementVoidsWholeTerm",
       {},
       Expr({{"type", kIn, {"production"}}, {"gpu", kExists, {"x"}}}),
       "node-1",
       {{"type", "production"}, {"gpu", "x"}},
       false},

      // Empty-term rules.
      {"EmptyTermListMatchesNothing",
       {},
       std::vector<TermSpec>{},
       "node-1",
       {},
       false},
      {"D5SingleEmptyTermMatchesNothing",
       {},
       std::vector<TermSpec>{{}},
       "node-1",
       {},
       false},
      {"AllTermsEmptyMatchesNothing",
       {},
       std::vector<TermSpec>{{}, {}},
       "node-1",
       {{"type", "production"}},
       false},
      {"EmptyTermDroppedOtherTermMatches",
       {},
       std::vector<TermSpec>{{}, {{{"type", kIn, {"production"}}}, {}}},
       "node-1",
       {{"type", "production"}},
       true},

      // matchFields on metadata.name: In/NotIn with exactly one value.
      {"FieldInMatches",
       {},
       Fields({{kName, kIn, {"node-1"}}}),
       "node-1",
       {},
       true},
      {"FieldInOtherNode",
       {},
       Fields({{kName, kIn, {"node-1"}}}),
       "node-2",
       {},
       false},
      {"D6FieldNotInSameNode",
       {},
       Fields({{kName, kNotIn, {"node-1"}}}),
       "node-1",
       {},
       false},
      {"D6FieldNotInOtherNode",
       {},
       Fields({{kName, kNotIn, {"node-1"}}}),
       "node-2",
       {},
       true},
      {"FieldInTwoValuesInvalid",
       {},
       Fields({{kName, kIn, {"node-1", "node-2"}}}),
       "node-1",
       {},
       false},
      {"FieldNotInTwoValuesInvalid",
       {},
       Fields({{kName, kNotIn, {"node-1", "node-2"}}}),
       "node-3",
       {},
       false},
      {"FieldInNoValuesInvalid",
       {},
       Fields({{kName, kIn, {}}}),
       "node-1",
       {},
       false},
      {"FieldExistsInvalid",
       {},
       Fields({{kName, kExists, {}}}),
       "node-1",
       {},
       false},
      {"FieldOtherKeyInNeverMatches",
       {},
       Fields({{"metadata.foo", kIn, {"node-1"}}}),
       "node-1",
       {},
       false},
      {"FieldsAndExpressionsAnded",
       {},
       std::vector<TermSpec>{
           {{{"type", kIn, {"test"}}}, {{kName, kIn, {"node-1"}}}}},
       "node-1",
       {{"type", "production"}},
       false},
      {"FieldsAndExpressionsBothHold",
       {},
       std::vector<TermSpec>{
           {{{"type", kIn, {"production"}}}, {{kName, kIn, {"node-1"}}}}},
       "node-1",
       {{"type", "production"}},
       true},
      {"InvalidFieldTermThenMatchingTerm",
       {},
       std::vector<TermSpec>{{{}, {{kName, kIn, {"node-1", "node-2"}}}},
                             {{}, {{kName, kIn, {"node-1"}}}}},
       "node-1",
       {},
       true},

      // nodeSelector AND required affinity.
      {"SelectorAndAffinityBothHold",
       {{"disk", "ssd"}},
       Expr({{"type", kIn, {"production"}}}),
       "node-1",
       {{"disk", "ssd"}, {"type", "production"}},
       true},
      {"SelectorHoldsAffinityFails",
       {{"disk", "ssd"}},
       Expr({{"type", kIn, {"test"}}}),
       "node-1",
       {{"disk", "ssd"}, {"type", "production"}},
       false},
      {"AffinityHoldsSelectorFails",
       {{"disk", "ssd"}},
       Expr({{"type", kIn, {"production"}}}),
       "node-1",
       {{"disk", "hdd"}, {"type", "production"}},
       false},
  };
}

class NodeSelectionTest : public ::testing::TestWithParam<NodeSelectionCase> {};

TEST_P(NodeSelectionTest, Matches) {
  const NodeSelectionCase& c = GetParam();
  Snapshot snap;
  std::optional<std::vector<NodeSelectorTerm>> required;
  if (c.required) required = ToTerms(snap, *c.required);
  const NodeSelection selection(ToLabels(snap, c.node_selector), required);
  Node node;
  node.name = snap.CopyString(c.node_name);
  node.labels = ToLabels(snap, c.node_labels);

  EXPECT_EQ(selection.Matches(node, nullptr), c.want);
  // Asking for reasons never changes the answer; a match has no reason.
  std::vector<std::string> why;
  EXPECT_EQ(selection.Matches(node, &why), c.want);
  if (c.want) {
    EXPECT_THAT(why, IsEmpty());
  } else {
    EXPECT_FALSE(why.empty()) << "a failed match must say why";
  }
}

INSTANTIATE_TEST_SUITE_P(Table, NodeSelectionTest,
                         ::testing::ValuesIn(NodeSelectionCases()),
                         ::dsd::testing::ParamName<NodeSelectionCase>);

// The wording of NodeSelection's reasons: one per failed part (nodeSelector,
// required affinity), naming the labels involved.
TEST(NodeSelectionWhyTest, ExplainsEachFailedPart) {
  Snapshot snap;
  const Node hdd = NodeBuilder(snap, "node-1").Label("disk", "hdd").Build();
  const Node unlabelled = NodeBuilder(snap, "node-2").Build();
  const Labels disk_ssd = ToLabels(snap, {{"disk", "ssd"}});
  const std::optional<std::vector<NodeSelectorTerm>> type_test =
      ToTerms(snap, {{{{"type", kIn, {"test"}}}, {}}});
  const std::optional<std::vector<NodeSelectorTerm>> no_terms =
      std::vector<NodeSelectorTerm>{};

  {
    SCOPED_TRACE("nodeSelector disk=ssd on a node labelled disk=hdd");
    std::vector<std::string> why;
    EXPECT_FALSE(NodeSelection(disk_ssd, std::nullopt).Matches(hdd, &why));
    ASSERT_EQ(why.size(), 1u);
    EXPECT_THAT(why[0], HasSubstr("disk=ssd"));
    EXPECT_THAT(why[0], HasSubstr("disk=hdd"));
  }
  {
    SCOPED_TRACE("nodeSelector disk=ssd on a node without the label");
    std::vector<std::string> why;
    EXPECT_FALSE(
        NodeSelection(disk_ssd, std::nullopt).Matches(unlabelled, &why));
    ASSERT_EQ(why.size(), 1u);
    EXPECT_THAT(why[0], HasSubstr("disk=ssd"));
  }
  {
    SCOPED_TRACE("required affinity type In [test] does not match");
    std::vector<std::string> why;
    EXPECT_FALSE(NodeSelection({}, type_test).Matches(hdd, &why));
    ASSERT_EQ(why.size(), 1u);
    EXPECT_THAT(Lower(why[0]), HasSubstr("affinity"));
  }
  {
    SCOPED_TRACE("required affinity with zero terms");
    std::vector<std::string> why;
    EXPECT_FALSE(NodeSelection({}, no_terms).Matches(hdd, &why));
    ASSERT_EQ(why.size(), 1u);
    EXPECT_THAT(Lower(why[0]), HasSubstr("affinity"));
  }
  {
    SCOPED_TRACE("nodeSelector and affinity both fail: two reasons");
    std::vector<std::string> why;
    EXPECT_FALSE(NodeSelection(disk_ssd, type_test).Matches(hdd, &why));
    ASSERT_EQ(why.size(), 2u);
    const bool one_names_selector =
        why[0].find("disk=ssd") != std::string::npos ||
        why[1].find("disk=ssd") != std::string::npos;
    const bool one_names_affinity =
        Lower(why[0]).find("affinity") != std::string::npos ||
        Lower(why[1]).find("affinity") != std::string::npos;
    EXPECT_TRUE(one_names_selector);
    EXPECT_TRUE(one_names_affinity);
  }
  {
    SCOPED_TRACE("reasons are appended, never replacing earlier ones");
    std::vector<std::string> why = {"earlier"};
    EXPECT_FALSE(NodeSelection(disk_ssd, std::nullopt).Matches(hdd, &why));
    ASSERT_EQ(why.size(), 2u);
    EXPECT_EQ(why[0], "earlier");
  }
}

// ---------------------------------------------------------------------------
// DescribeRequirement: the header's own examples.
// ---------------------------------------------------------------------------

TEST(DescribeRequirementTest, SpellsKeyOperatorAndValues) {
  Snapshot snap;
  EXPECT_EQ(
      DescribeRequirement(MakeRequirement(snap, "disk", kIn, {"ssd", "nvme"})),
      "disk In [ssd, nvme]");
  EXPECT_EQ(
      DescribeRequirement(MakeRequirement(snap, "zone", kDoesNotExist, {})),
      "zone DoesNotExist");
  const std::string gt =
      DescribeRequirement(MakeRequirement(snap, "cores", kGt, {"5"}));
  EXPECT_THAT(gt, HasSubstr("cores"));
  EXPECT_THAT(gt, HasSubstr("Gt"));
  EXPECT_THAT(gt, HasSubstr("5"));
  const std::string not_in =
      DescribeRequirement(MakeRequirement(snap, "type", kNotIn, {"test"}));
  EXPECT_THAT(not_in, HasSubstr("NotIn"));
  EXPECT_THAT(not_in, HasSubstr("test"));
}

// A long value list is summarised: five values, then the count.
TEST(DescribeRequirementTest, SummarisesLongValueLists) {
  Snapshot snap;
  std::vector<std::string> values;
  for (int i = 0; i < 100'000; ++i) values.push_back("n" + std::to_string(i));
  EXPECT_EQ(DescribeRequirement(
                MakeRequirement(snap, "kubernetes.io/hostname", kIn, values)),
            "kubernetes.io/hostname In [n0, n1, n2, n3, n4, ... (100000 "
            "values)]");
  // Six values are still spelled out.
  EXPECT_EQ(DescribeRequirement(MakeRequirement(
                snap, "zone", kNotIn, {"a", "b", "c", "d", "e", "f"})),
            "zone NotIn [a, b, c, d, e, f]");
}

// In and NotIn with many values (matched through a hashed set) decide as
// labels.Requirement.Matches does: In when the label is present and its
// value is listed; NotIn when it is absent or not listed. Lists of every
// length around the hashing threshold, each value at each position.
TEST(RequirementValuesTest, ManyValuesMatchAsTheSetDefinition) {
  Snapshot snap;
  for (const size_t n : {size_t{1}, size_t{8}, size_t{9}, size_t{40}}) {
    std::vector<std::string> values;
    for (size_t i = 0; i < n; ++i) values.push_back("v" + std::to_string(i));
    for (const SelectorOperator op : {kIn, kNotIn}) {
      const std::optional<std::vector<NodeSelectorTerm>> terms =
          std::vector<NodeSelectorTerm>{
              NodeSelectorTerm{{MakeRequirement(snap, "k", op, values)}, {}}};
      const NodeSelection selection({}, terms);
      for (size_t i = 0; i <= n; ++i) {
        // v0 .. v(n-1) are listed; v(n) is not.
        const std::string value = "v" + std::to_string(i);
        const bool listed = i < n;
        const Node with = NodeBuilder(snap, "n").Label("k", value).Build();
        EXPECT_EQ(selection.Matches(with, nullptr),
                  op == kIn ? listed : !listed)
            << n << " values, " << (op == kIn ? "In " : "NotIn ") << value;
      }
      const Node without = NodeBuilder(snap, "n").Label("other", "v0").Build();
      EXPECT_EQ(selection.Matches(without, nullptr), op == kNotIn) << n;
    }
  }
}

// A hashed list may repeat a value (API validation allows it), and values
// may share a prefix: the set still answers by value, not by position.
TEST(RequirementValuesTest, RepeatedAndSimilarValuesInAHashedList) {
  Snapshot snap;
  const std::vector<std::string> values = {"a", "a",  "ab", "abc", "a", "b",
                                           "b", "ba", "a",  "abc", "c"};
  const std::optional<std::vector<NodeSelectorTerm>> terms =
      std::vector<NodeSelectorTerm>{
          NodeSelectorTerm{{MakeRequirement(snap, "k", kIn, values)}, {}}};
  const NodeSelection selection({}, terms);
  for (const std::string value : {"a", "ab", "abc", "b", "ba", "c"}) {
    const Node node = NodeBuilder(snap, "n").Label("k", value).Build();
    EXPECT_TRUE(selection.Matches(node, nullptr)) << value;
  }
  for (const std::string value : {"", "abcd", "bb", "d", "A"}) {
    const Node node = NodeBuilder(snap, "n").Label("k", value).Build();
    EXPECT_FALSE(selection.Matches(node, nullptr)) << value;
  }
}

// Values kept as references into one buffer (how the converter keeps a
// DaemonSet's: RequirementValues) read, compare, describe and match as the
// same values kept as views, below and above the hashing threshold.
TEST(RequirementValuesTest, ReferencesIntoABufferActAsViews) {
  Snapshot snap;
  for (const size_t n :
       {size_t{1}, size_t{6}, size_t{7}, size_t{9}, size_t{40}}) {
    std::vector<std::string> values;
    std::string buffer;
    std::vector<ValueRef> refs;
    for (size_t i = 0; i < n; ++i) {
      values.push_back("v" + std::to_string(i * 7));
      refs.push_back({static_cast<uint32_t>(buffer.size()),
                      static_cast<uint32_t>(values.back().size())});
      buffer += values.back();
    }
    for (const SelectorOperator op : {kIn, kNotIn}) {
      const Requirement as_views = MakeRequirement(snap, "k", op, values);
      const Requirement as_refs{"k", op,
                                RequirementValues(buffer.data(), refs)};
      ASSERT_EQ(as_refs.values.size(), n);
      EXPECT_EQ(as_refs.values, as_views.values);
      EXPECT_TRUE(std::equal(as_refs.values.begin(), as_refs.values.end(),
                             values.begin(), values.end()));
      EXPECT_EQ(DescribeRequirement(as_refs), DescribeRequirement(as_views));
      const std::optional<std::vector<NodeSelectorTerm>> by_views =
          std::vector<NodeSelectorTerm>{NodeSelectorTerm{{as_views}, {}}};
      const std::optional<std::vector<NodeSelectorTerm>> by_refs =
          std::vector<NodeSelectorTerm>{NodeSelectorTerm{{as_refs}, {}}};
      const NodeSelection views_selection({}, by_views);
      const NodeSelection refs_selection({}, by_refs);
      int matched = 0;
      for (size_t i = 0; i <= 7 * n; ++i) {
        const Node node =
            NodeBuilder(snap, "n").Label("k", "v" + std::to_string(i)).Build();
        const bool want = views_selection.Matches(node, nullptr);
        EXPECT_EQ(refs_selection.Matches(node, nullptr), want) << n << " " << i;
        matched += want ? 1 : 0;
      }
      EXPECT_EQ(static_cast<size_t>(matched), op == kIn ? n : 7 * n + 1 - n);
    }
  }
  // Equal by value, whatever the form; a different value or count is not.
  const std::string buffer = "ab";
  const std::vector<ValueRef> refs = {{0, 1}, {1, 1}};
  const RequirementValues as_refs(buffer.data(), refs);
  EXPECT_EQ(as_refs, (RequirementValues{"a", "b"}));
  EXPECT_FALSE(as_refs == (RequirementValues{"a", "c"}));
  EXPECT_FALSE(as_refs == (RequirementValues{"a"}));
}

// ---------------------------------------------------------------------------
// TargetNodeName (section 5.2, catalogue C.4).
// ---------------------------------------------------------------------------

struct TargetNodeCase {
  std::string name;
  std::string node_name;  // spec.nodeName
  std::vector<TermSpec> affinity;
  std::string want;  // empty: the pod is ignored
};

void PrintTo(const TargetNodeCase& c, std::ostream* os) { *os << c.name; }

std::vector<TargetNodeCase> TargetNodeCases() {
  return {
      {"C4NodeName", "node-1", {}, "node-1"},
      {"NodeNameWinsOverAffinity",
       "node-1",
       {{{}, {{kName, kIn, {"node-2"}}}}},
       "node-1"},
      {"C4MatchFieldsIn", "", {{{}, {{kName, kIn, {"node-1"}}}}}, "node-1"},
      {"C4MatchFieldsInTwoValues",
       "",
       {{{}, {{kName, kIn, {"node-1", "node-2"}}}}},
       ""},
      {"C4EmptySpec", "", {}, ""},
      {"NotInSkipped", "", {{{}, {{kName, kNotIn, {"node-1"}}}}}, ""},
      {"NotInSkippedThenIn",
       "",
       {{{}, {{kName, kNotIn, {"node-1"}}, {kName, kIn, {"node-2"}}}}},
       "node-2"},
      {"FirstInAcrossTerms",
       "",
       {{{{"type", kIn, {"x"}}}, {}},
        {{}, {{kName, kIn, {"node-2"}}}},
        {{}, {{kName, kIn, {"node-3"}}}}},
       "node-2"},
      {"FirstInWithTwoValuesIsAnError",
       "",
       {{{}, {{kName, kIn, {"node-1", "node-2"}}}},
        {{}, {{kName, kIn, {"node-3"}}}}},
       ""},
      {"OtherFieldKeySkipped",
       "",
       {{{}, {{"metadata.foo", kIn, {"node-1"}}}}},
       ""},
      {"MatchExpressionsIgnored", "", {{{{kName, kIn, {"node-1"}}}, {}}}, ""},
      {"EmptyTermsOnly", "", {{}, {}}, ""},
  };
}

class TargetNodeNameTest : public ::testing::TestWithParam<TargetNodeCase> {};

TEST_P(TargetNodeNameTest, FollowsGetTargetNodeName) {
  const TargetNodeCase& c = GetParam();
  Snapshot snap;
  Pod pod;
  pod.name = snap.CopyString("pod-1");
  pod.node_name = snap.CopyString(c.node_name);
  pod.required_node_affinity = ToTerms(snap, c.affinity);
  EXPECT_EQ(TargetNodeName(pod), c.want);
}

INSTANTIATE_TEST_SUITE_P(Table, TargetNodeNameTest,
                         ::testing::ValuesIn(TargetNodeCases()),
                         ::dsd::testing::ParamName<TargetNodeCase>);

}  // namespace
}  // namespace dsd::engine
