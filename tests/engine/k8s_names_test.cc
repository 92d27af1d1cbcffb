// Pins server/engine/k8s_names: DNS-1123 names, label keys and values
// (semantics doc section 10.1) and Go's strconv.ParseInt plus the canonical
// integer form that Gt/Lt selectors and tolerations use (sections 3.4, 3.5).
#include "server/engine/k8s_names.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "tests/testing/param_name.h"

namespace dsd::engine {
namespace {

// `n` characters of `c`.
std::string Repeat(char c, size_t n) { return std::string(n, c); }

// A DNS-1123 subdomain of exactly `length` characters made of 63-character
// labels joined by dots (valid whatever the per-label limit is). Only for
// lengths where the last label is not empty (253 and 254 here).
std::string SubdomainOfLength(size_t length) {
  std::string s;
  while (s.size() < length) {
    if (!s.empty()) s.push_back('.');
    s.append(std::min<size_t>(63, length - s.size()), 'a');
  }
  return s;
}

// One row of a boolean syntax predicate.
struct SyntaxCase {
  std::string name;
  std::string input;
  bool want;
};

void PrintTo(const SyntaxCase& c, std::ostream* os) {
  *os << c.name << " \"" << c.input << "\"";
}

// --- IsDns1123Subdomain: <= 253, [a-z0-9]([-a-z0-9]*[a-z0-9])? labels
// joined by '.' (section 10.1). ---

std::vector<SyntaxCase> SubdomainCases() {
  return {
      {"SingleLetter", "a", true},
      {"SingleDigit", "0", true},
      {"NodeName", "node-1", true},
      {"Dotted", "ip-10-0-0-1.ec2.internal", true},
      {"AllDigitLabels", "1.2.3", true},
      {"Length253", SubdomainOfLength(253), true},
      {"Length254", SubdomainOfLength(254), false},
      {"Empty", "", false},
      {"Uppercase", "Node-1", false},
      {"LeadingDash", "-node", false},
      {"TrailingDash", "node-", false},
      {"LeadingDot", ".node", false},
      {"TrailingDot", "node.", false},
      {"DoubleDot", "a..b", false},
      {"LabelStartsWithDash", "a.-b", false},
      {"LabelEndsWithDash", "a-.b", false},
      {"Underscore", "a_b", false},
      {"Space", "a b", false},
      {"Slash", "a/b", false},
      {"NonAscii",
       "n\xc3\xb6"
       "de",
       false},
  };
}

class IsDns1123SubdomainTest : public ::testing::TestWithParam<SyntaxCase> {};

TEST_P(IsDns1123SubdomainTest, FollowsSection10_1) {
  EXPECT_EQ(IsDns1123Subdomain(GetParam().input), GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(Table, IsDns1123SubdomainTest,
                         ::testing::ValuesIn(SubdomainCases()),
                         ::dsd::testing::ParamName<SyntaxCase>);

// --- IsDns1123Label: <= 63, [a-z0-9]([-a-z0-9]*[a-z0-9])? (section 10.1). ---

std::vector<SyntaxCase> LabelCases() {
  return {
      {"SingleLetter", "a", true},          {"SingleDigit", "0", true},
      {"Namespace", "kube-system", true},   {"Length63", Repeat('a', 63), true},
      {"Length64", Repeat('a', 64), false}, {"Empty", "", false},
      {"Dot", "kube.system", false},        {"Uppercase", "Default", false},
      {"LeadingDash", "-ns", false},        {"TrailingDash", "ns-", false},
      {"Underscore", "kube_system", false},
  };
}

class IsDns1123LabelTest : public ::testing::TestWithParam<SyntaxCase> {};

TEST_P(IsDns1123LabelTest, FollowsSection10_1) {
  EXPECT_EQ(IsDns1123Label(GetParam().input), GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(Table, IsDns1123LabelTest,
                         ::testing::ValuesIn(LabelCases()),
                         ::dsd::testing::ParamName<SyntaxCase>);

// --- IsLabelKey: [prefix/]name; name 1-63 of
// ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]; prefix a DNS-1123 subdomain
// (section 10.1). ---

std::vector<SyntaxCase> LabelKeyCases() {
  return {
      {"Simple", "app", true},
      {"SingleChar", "a", true},
      {"NameWithUpperUnderscoreDot", "App_Name.v1", true},
      {"NameWithDash", "pod-template-generation", true},
      {"Prefixed", "kubernetes.io/os", true},
      {"ControlPlaneRole", "node-role.kubernetes.io/control-plane", true},
      {"NodeCondition", "node.kubernetes.io/not-ready", true},
      {"PrefixedNameUppercase", "example.com/MyKey", true},
      {"Name63", Repeat('k', 63), true},
      {"Name64", Repeat('k', 64), false},
      {"Prefix253", SubdomainOfLength(253) + "/k", true},
      {"Prefix254", SubdomainOfLength(254) + "/k", false},
      {"Empty", "", false},
      {"EmptyPrefix", "/app", false},
      {"EmptyName", "example.com/", false},
      {"TwoSlashes", "a/b/c", false},
      {"PrefixUppercase", "Example.com/app", false},
      {"PrefixUnderscore", "my_domain/app", false},
      {"NameLeadingUnderscore", "_app", false},
      {"NameTrailingUnderscore", "app_", false},
      {"NameLeadingDot", ".app", false},
      {"NameTrailingDash", "app-", false},
      {"Space", "bad key", false},
      {"Bang", "app!", false},
      {"Colon", "a:b", false},
  };
}

class IsLabelKeyTest : public ::testing::TestWithParam<SyntaxCase> {};

TEST_P(IsLabelKeyTest, FollowsSection10_1) {
  EXPECT_EQ(IsLabelKey(GetParam().input), GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(Table, IsLabelKeyTest,
                         ::testing::ValuesIn(LabelKeyCases()),
                         ::dsd::testing::ParamName<SyntaxCase>);

// --- IsLabelValue: empty, or <= 63 of
// ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9] (section 10.1). ---

std::vector<SyntaxCase> LabelValueCases() {
  return {
      {"Empty", "", true},
      {"Simple", "production", true},
      {"SingleChar", "a", true},
      {"Mixed", "A-b_c.9", true},
      {"LeadingZeros", "007", true},
      {"Length63", Repeat('v', 63), true},
      {"Length64", Repeat('v', 64), false},
      // Why Gt ["-1"] is an invalid selector requirement (section 3.4).
      {"NegativeNumber", "-1", false},
      {"PlusSign", "+5", false},
      {"LeadingDash", "-a", false},
      {"TrailingDash", "a-", false},
      {"LeadingDot", ".a", false},
      {"TrailingUnderscore", "a_", false},
      {"Slash", "a/b", false},
      {"Space", "a b", false},
      {"Colon", "a:b", false},
  };
}

class IsLabelValueTest : public ::testing::TestWithParam<SyntaxCase> {};

TEST_P(IsLabelValueTest, FollowsSection10_1) {
  EXPECT_EQ(IsLabelValue(GetParam().input), GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(Table, IsLabelValueTest,
                         ::testing::ValuesIn(LabelValueCases()),
                         ::dsd::testing::ParamName<SyntaxCase>);

// --- Integer parsing (sections 3.4 and 3.5). ---

struct IntCase {
  std::string name;
  std::string input;
  std::optional<int64_t> want;
};

void PrintTo(const IntCase& c, std::ostream* os) {
  *os << c.name << " \"" << c.input << "\"";
}

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

// strconv.ParseInt(s, 10, 64): optional sign, leading zeros allowed, no
// spaces, no underscores (base 10, not 0), int64 range.
std::vector<IntCase> ParseInt64Cases() {
  return {
      {"Zero", "0", 0},
      {"Positive", "42", 42},
      {"LeadingZeros", "007", 7},
      {"ManyLeadingZeros", "0000000000000000000000001", 1},
      {"Negative", "-5", -5},
      {"PlusSign", "+5", 5},
      {"NegativeZero", "-0", 0},
      {"NegativeLeadingZeros", "-007", -7},
      {"Max", "9223372036854775807", kMax},
      {"Min", "-9223372036854775808", kMin},
      {"AboveMax", "9223372036854775808", std::nullopt},
      {"BelowMin", "-9223372036854775809", std::nullopt},
      {"Huge", "99999999999999999999999", std::nullopt},
      {"Empty", "", std::nullopt},
      {"SignOnlyPlus", "+", std::nullopt},
      {"SignOnlyMinus", "-", std::nullopt},
      {"DoubleSign", "--5", std::nullopt},
      {"LeadingSpace", " 5", std::nullopt},
      {"TrailingSpace", "5 ", std::nullopt},
      {"Underscore", "1_000", std::nullopt},
      {"Hex", "0x10", std::nullopt},
      {"Exponent", "1e3", std::nullopt},
      {"Decimal", "1.5", std::nullopt},
      {"Letters", "abc", std::nullopt},
      {"TrailingLetter", "5a", std::nullopt},
  };
}

class ParseInt64Test : public ::testing::TestWithParam<IntCase> {};

TEST_P(ParseInt64Test, BehavesLikeGoParseInt) {
  EXPECT_EQ(ParseInt64(GetParam().input), GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(Table, ParseInt64Test,
                         ::testing::ValuesIn(ParseInt64Cases()),
                         ::dsd::testing::ParamName<IntCase>);

// Canonical: "0" or -?[1-9][0-9]* within int64 (section 3.5, 10.3).
std::vector<IntCase> ParseCanonicalInt64Cases() {
  return {
      {"Zero", "0", 0},
      {"Positive", "5", 5},
      {"MultiDigit", "120", 120},
      {"Negative", "-5", -5},
      {"Max", "9223372036854775807", kMax},
      {"Min", "-9223372036854775808", kMin},
      {"AboveMax", "9223372036854775808", std::nullopt},
      {"BelowMin", "-9223372036854775809", std::nullopt},
      {"LeadingZero", "007", std::nullopt},
      {"DoubleZero", "00", std::nullopt},
      {"NegativeZero", "-0", std::nullopt},
      {"NegativeLeadingZero", "-05", std::nullopt},
      {"PlusSign", "+5", std::nullopt},
      {"Empty", "", std::nullopt},
      {"SignOnly", "-", std::nullopt},
      {"LeadingSpace", " 5", std::nullopt},
      {"Letters", "abc", std::nullopt},
      {"Underscore", "1_0", std::nullopt},
  };
}

class ParseCanonicalInt64Test : public ::testing::TestWithParam<IntCase> {};

TEST_P(ParseCanonicalInt64Test, AcceptsOnlyCanonicalForm) {
  EXPECT_EQ(ParseCanonicalInt64(GetParam().input), GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(Table, ParseCanonicalInt64Test,
                         ::testing::ValuesIn(ParseCanonicalInt64Cases()),
                         ::dsd::testing::ParamName<IntCase>);

}  // namespace
}  // namespace dsd::engine
