// Pins server/engine/taints: ToleratesTaint (semantics doc section 3.5,
// catalogue D7, D8, D11), the default daemon-pod tolerations table and its
// merge rule and version selection (section 4, catalogue D13), DescribeTaint.
#include "server/engine/taints.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "server/engine/types.h"
#include "tests/testing/builders.h"
#include "tests/testing/param_name.h"

namespace dsd::engine {
namespace {

using ::dsd::testing::DaemonSetBuilder;
using ::dsd::testing::MakeToleration;

// A taint's timeAdded is kept to the nanosecond for every timestamp
// validation accepts (years 1 to 9999, before and after 1970), in a Taint
// of 16 bytes: a node may carry 1,000 taints.
TEST(TaintTest, TimeAddedKeepsEveryNanosecondInAFewBytes) {
  EXPECT_EQ(sizeof(Taint), 16u);
  Snapshot snap;
  const absl::Time epoch = absl::UnixEpoch();
  for (const absl::Time t :
       {epoch, epoch + absl::Nanoseconds(1), epoch - absl::Nanoseconds(1),
        epoch - absl::Milliseconds(500),
        epoch + absl::Seconds(1) - absl::Nanoseconds(1),
        absl::FromCivil(absl::CivilSecond(1, 1, 1, 0, 0, 0),
                        absl::UTCTimeZone()),
        absl::FromCivil(absl::CivilSecond(9999, 12, 31, 23, 59, 59),
                        absl::UTCTimeZone()) +
            absl::Nanoseconds(999999999),
        absl::FromUnixNanos(1767322800123456789)}) {
    const Taint taint = snap.MakeTaint("k", "v", TaintEffect::kNoExecute, t);
    EXPECT_EQ(taint.time_added(), t) << t;
    EXPECT_EQ(taint.key(), "k");
    EXPECT_EQ(taint.value(), "v");
    EXPECT_EQ(taint.effect(), TaintEffect::kNoExecute);
  }
  EXPECT_EQ(snap.MakeTaint("k", "", TaintEffect::kNoSchedule).time_added(),
            std::nullopt);
  EXPECT_EQ(Taint().time_added(), std::nullopt);
  EXPECT_EQ(Taint().key(), "");
  EXPECT_EQ(Taint().value(), "");
}

// The key is counted in the bytes before it, the value and the time's
// seconds follow it; the value's size, the effect and the nanoseconds
// share one word. Each keeps its whole range beside the others' largest,
// and taints made one after another do not overlap. A value longer than a
// Taint holds is a caller's bug (validation caps values at 63 bytes): it
// aborts rather than being cut. Keys have no such limit.
TEST(TaintTest, EveryFieldKeepsItsRange) {
  const std::string long_key((size_t{1} << 21) + 1, 'k');  // a 4-byte count
  const std::string long_value(Taint::kMaxValueSize, 'v');
  const absl::Time late =
      absl::FromCivil(absl::CivilSecond(9999, 12, 31, 23, 59, 59),
                      absl::UTCTimeZone()) +
      absl::Nanoseconds(999999999);
  const absl::Time early =
      absl::FromCivil(absl::CivilSecond(1, 1, 1, 0, 0, 0), absl::UTCTimeZone());
  Snapshot snap;
  struct Made {
    Taint taint;
    std::string_view key, value;
    TaintEffect effect;
    std::optional<absl::Time> time;
  };
  std::vector<Made> made;
  for (const TaintEffect effect :
       {TaintEffect::kNoSchedule, TaintEffect::kPreferNoSchedule,
        TaintEffect::kNoExecute}) {
    for (const auto& [key, value] :
         {std::pair<std::string_view, std::string_view>{long_key, long_value},
          {"", ""},
          {long_key, ""},
          {"k", long_value},
          {std::string_view(long_key).substr(0, 127), "v"},
          {std::string_view(long_key).substr(0, 128), "v"}}) {
      for (const std::optional<absl::Time> time :
           {std::optional<absl::Time>(late), std::optional<absl::Time>(early),
            std::optional<absl::Time>()}) {
        made.push_back({snap.MakeTaint(key, value, effect, time), key, value,
                        effect, time});
      }
    }
  }
  for (const Made& m : made) {
    SCOPED_TRACE(::testing::Message() << m.key.size() << " " << m.value.size());
    EXPECT_EQ(m.taint.key(), m.key);
    EXPECT_EQ(m.taint.value(), m.value);
    EXPECT_EQ(m.taint.effect(), m.effect);
    EXPECT_EQ(m.taint.time_added(), m.time);
  }
  const std::string too_long_value(Taint::kMaxValueSize + 1, 'v');
  EXPECT_DEATH(snap.MakeTaint("k", too_long_value, TaintEffect::kNoSchedule),
               "a value of 16384 bytes is longer than a Taint holds");
}

// A counted string's size is in the bytes before it, 7 bits a byte: sizes
// on each side of a byte boundary read back, and strings copied one after
// another keep their own.
TEST(CountedStringTest, SizesAcrossByteBoundaries) {
  Snapshot snap;
  std::vector<std::pair<CountedString, std::string>> copies;
  for (const size_t size :
       {size_t{0}, size_t{1}, size_t{127}, size_t{128}, size_t{129},
        size_t{16383}, size_t{16384}, size_t{1} << 21, (size_t{1} << 21) + 1,
        size_t{5}}) {
    std::string s(size, 'a');
    for (size_t i = 0; i < size; ++i) s[i] = static_cast<char>('a' + i % 26);
    copies.emplace_back(CountedString::Of(snap.CopyCounted(s)), std::move(s));
  }
  for (const auto& [counted, s] : copies) {
    EXPECT_EQ(counted.size(), s.size());
    EXPECT_EQ(counted.view(), s);
  }
  EXPECT_EQ(CountedString().view(), "");
  EXPECT_EQ(CountedString::PrefixSize(127), 1u);
  EXPECT_EQ(CountedString::PrefixSize(128), 2u);
  EXPECT_EQ(CountedString::PrefixSize(16384), 3u);
  const Label label = snap.MakeLabel("kubernetes.io/hostname", "node-1");
  EXPECT_EQ(label.key(), "kubernetes.io/hostname");
  EXPECT_EQ(label.value(), "node-1");
  EXPECT_EQ(sizeof(Label), 16u);
}

constexpr TaintEffect kNoSchedule = TaintEffect::kNoSchedule;
constexpr TaintEffect kPreferNoSchedule = TaintEffect::kPreferNoSchedule;
constexpr TaintEffect kNoExecute = TaintEffect::kNoExecute;
constexpr TolerationOperator kEqual = TolerationOperator::kEqual;
constexpr TolerationOperator kExists = TolerationOperator::kExists;
constexpr TolerationOperator kLt = TolerationOperator::kLt;
constexpr TolerationOperator kGt = TolerationOperator::kGt;

constexpr char kNotReady[] = "node.kubernetes.io/not-ready";
constexpr char kUnreachable[] = "node.kubernetes.io/unreachable";
constexpr char kDiskPressure[] = "node.kubernetes.io/disk-pressure";
constexpr char kMemoryPressure[] = "node.kubernetes.io/memory-pressure";
constexpr char kPidPressure[] = "node.kubernetes.io/pid-pressure";
constexpr char kUnschedulable[] = "node.kubernetes.io/unschedulable";
constexpr char kNetworkUnavailable[] = "node.kubernetes.io/network-unavailable";

// Toleration and taint spelled with owned strings, so tables can be static.
struct TolSpec {
  TolSpec(std::string key_in, TolerationOperator op_in, std::string value_in,
          std::optional<TaintEffect> effect_in,
          std::optional<int64_t> seconds_in = std::nullopt)
      : key(std::move(key_in)),
        op(op_in),
        value(std::move(value_in)),
        effect(effect_in),
        seconds(seconds_in) {}

  std::string key;
  TolerationOperator op;
  std::string value;
  std::optional<TaintEffect> effect;  // nullopt: every effect
  std::optional<int64_t> seconds;     // tolerationSeconds
};

struct TaintSpec {
  std::string key;
  std::string value;
  TaintEffect effect;
};

Toleration ToToleration(Snapshot& snap, const TolSpec& t) {
  return MakeToleration(snap, t.key, t.op, t.value, t.effect, t.seconds);
}

// Our own spelling, so that a wrong TaintEffectName cannot hide a mismatch.
std::string EffectText(TaintEffect effect) {
  switch (effect) {
    case kNoSchedule:
      return "NoSchedule";
    case kPreferNoSchedule:
      return "PreferNoSchedule";
    case kNoExecute:
      return "NoExecute";
  }
  return "?";
}

// Every field of a toleration, for comparing merged lists.
std::string Describe(const Toleration& t) {
  std::string s = "{key=" + std::string(t.key) + " op=";
  switch (t.op) {
    case kEqual:
      s += "Equal";
      break;
    case kExists:
      s += "Exists";
      break;
    case kLt:
      s += "Lt";
      break;
    case kGt:
      s += "Gt";
      break;
  }
  s += " value=" + std::string(t.value) + " effect=";
  s += t.effect ? EffectText(*t.effect) : "<all>";
  s += " seconds=";
  s += t.toleration_seconds ? std::to_string(*t.toleration_seconds) : "<nil>";
  return s + "}";
}

// ---------------------------------------------------------------------------
// Tolerates (section 3.5).
// ---------------------------------------------------------------------------

struct ToleratesCase {
  std::string name;
  TolSpec toleration;
  TaintSpec taint;
  bool comparison_operators;  // TaintTolerationComparisonOperators gate
  bool want;
};

void PrintTo(const ToleratesCase& c, std::ostream* os) { *os << c.name; }

std::vector<ToleratesCase> ToleratesCases() {
  return {
      // Operator Equal (the default): values compared exactly.
      {"EqualSameKeyValueEffect",
       {"k", kEqual, "v", kNoSchedule},
       {"k", "v", kNoSchedule},
       false,
       true},
      {"EqualValueDiffers",
       {"k", kEqual, "v", kNoSchedule},
       {"k", "w", kNoSchedule},
       false,
       false},
      {"EqualValueCaseSensitive",
       {"k", kEqual, "v", kNoSchedule},
       {"k", "V", kNoSchedule},
       false,
       false},
      {"EqualKeyDiffers",
       {"k", kEqual, "v", kNoSchedule},
       {"j", "v", kNoSchedule},
       false,
       false},
      {"KeyCaseSensitive",
       {"k", kExists, "", std::nullopt},
       {"K", "v", kNoSchedule},
       false,
       false},
      {"D8EqualEmptyValueVsTaintWithValue",
       {"k", kEqual, "", std::nullopt},
       {"k", "v", kNoSchedule},
       false,
       false},
      {"EqualEmptyValueVsEmptyTaintValue",
       {"k", kEqual, "", std::nullopt},
       {"k", "", kNoSchedule},
       false,
       true},
      // Empty key with Equal (rejected by validation) matches every key.
      {"EmptyKeyEqualSameValue",
       {"", kEqual, "v", std::nullopt},
       {"any", "v", kNoExecute},
       false,
       true},
      {"EmptyKeyEqualOtherValue",
       {"", kEqual, "v", std::nullopt},
       {"any", "w", kNoExecute},
       false,
       false},

      // Operator Exists: value ignored.
      {"ExistsAnyValue",
       {"k", kExists, "", kNoSchedule},
       {"k", "anything", kNoSchedule},
       false,
       true},
      {"ExistsKeyDiffers",
       {"k", kExists, "", std::nullopt},
       {"j", "", kNoSchedule},
       false,
       false},
      {"ExistsAllEffectsNoExecute",
       {"k", kExists, "", std::nullopt},
       {"k", "v", kNoExecute},
       false,
       true},
      {"D7EmptyKeyExistsNoSchedule",
       {"", kExists, "", std::nullopt},
       {"dedicated", "gpu", kNoSchedule},
       false,
       true},
      {"D7EmptyKeyExistsPreferNoSchedule",
       {"", kExists, "", std::nullopt},
       {"dedicated", "gpu", kPreferNoSchedule},
       false,
       true},
      {"D7EmptyKeyExistsNoExecute",
       {"", kExists, "", std::nullopt},
       {"dedicated", "gpu", kNoExecute},
       false,
       true},
      {"EmptyKeyExistsNoScheduleVsNoSchedule",
       {"", kExists, "", kNoSchedule},
       {"dedicated", "gpu", kNoSchedule},
       false,
       true},
      {"EmptyKeyExistsNoScheduleVsNoExecute",
       {"", kExists, "", kNoSchedule},
       {"dedicated", "gpu", kNoExecute},
       false,
       false},
      {"EmptyKeyExistsNoScheduleVsPreferNoSchedule",
       {"", kExists, "", kNoSchedule},
       {"dedicated", "gpu", kPreferNoSchedule},
       false,
       false},

      // Effects: empty matches all, otherwise exact.
      {"EmptyEffectVsNoSchedule",
       {"k", kEqual, "v", std::nullopt},
       {"k", "v", kNoSchedule},
       false,
       true},
      {"EmptyEffectVsPreferNoSchedule",
       {"k", kEqual, "v", std::nullopt},
       {"k", "v", kPreferNoSchedule},
       false,
       true},
      {"EmptyEffectVsNoExecute",
       {"k", kEqual, "v", std::nullopt},
       {"k", "v", kNoExecute},
       false,
       true},
      {"EffectNoScheduleVsNoExecute",
       {"k", kExists, "", kNoSchedule},
       {"k", "v", kNoExecute},
       false,
       false},
      {"EffectNoExecuteVsNoSchedule",
       {"k", kExists, "", kNoExecute},
       {"k", "v", kNoSchedule},
       false,
       false},
      {"EffectPreferNoScheduleVsNoSchedule",
       {"k", kExists, "", kPreferNoSchedule},
       {"k", "v", kNoSchedule},
       false,
       false},
      {"EffectPreferNoScheduleVsPreferNoSchedule",
       {"k", kExists, "", kPreferNoSchedule},
       {"k", "v", kPreferNoSchedule},
       false,
       true},

      // tolerationSeconds plays no part in Tolerates.
      {"D11TolerationSecondsZero",
       {"k", kExists, "", kNoExecute, 0},
       {"k", "v", kNoExecute},
       false,
       true},
      {"TolerationSecondsNegative",
       {"k", kExists, "", kNoExecute, -5},
       {"k", "v", kNoExecute},
       false,
       true},
      {"TolerationSeconds300",
       {"k", kEqual, "v", kNoExecute, 300},
       {"k", "v", kNoExecute},
       false,
       true},

      // Lt/Gt with the gate off: never.
      {"LtGateOff",
       {"cores", kLt, "10", kNoSchedule},
       {"cores", "5", kNoSchedule},
       false,
       false},
      {"GtGateOff",
       {"cores", kGt, "1", kNoSchedule},
       {"cores", "5", kNoSchedule},
       false,
       false},
      {"GtGateOffEmptyEffect",
       {"cores", kGt, "1", std::nullopt},
       {"cores", "5", kNoExecute},
       false,
       false},

      // Lt/Gt with the gate on: taint value <, > toleration value.
      {"LtTaintSmaller",
       {"cores", kLt, "10", kNoSchedule},
       {"cores", "5", kNoSchedule},
       true,
       true},
      {"LtEqual",
       {"cores", kLt, "5", kNoSchedule},
       {"cores", "5", kNoSchedule},
       true,
       false},
      {"LtTaintGreater",
       {"cores", kLt, "5", kNoSchedule},
       {"cores", "10", kNoSchedule},
       true,
       false},
      {"LtNegative",
       {"cores", kLt, "0", kNoSchedule},
       {"cores", "-1", kNoSchedule},
       true,
       true},
      {"GtTaintGreater",
       {"cores", kGt, "1", kNoSchedule},
       {"cores", "5", kNoSchedule},
       true,
       true},
      {"GtEqual",
       {"cores", kGt, "5", kNoSchedule},
       {"cores", "5", kNoSchedule},
       true,
       false},
      {"GtTaintSmaller",
       {"cores", kGt, "5", kNoSchedule},
       {"cores", "1", kNoSchedule},
       true,
       false},
      {"GtNegatives",
       {"cores", kGt, "-3", kNoSchedule},
       {"cores", "-1", kNoSchedule},
       true,
       true},
      {"GtNumericNotLexicographic",
       {"cores", kGt, "9", kNoSchedule},
       {"cores", "10", kNoSchedule},
       true,
       true},
      {"GtKeyDiffers",
       {"cores", kGt, "1", kNoSchedule},
       {"memory", "5", kNoSchedule},
       true,
       false},
      {"GtEffectDiffers",
       {"cores", kGt, "1", kNoSchedule},
       {"cores", "5", kNoExecute},
       true,
       false},
      // Non-canonical integers on either side never compare.
      {"GtTaintLeadingZeros",
       {"cores", kGt, "5", kNoSchedule},
       {"cores", "007", kNoSchedule},
       true,
       false},
      {"GtTaintPlusSign",
       {"cores", kGt, "5", kNoSchedule},
       {"cores", "+7", kNoSchedule},
       true,
       false},
      {"LtTolerationPlusSign",
       {"cores", kLt, "+5", kNoSchedule},
       {"cores", "1", kNoSchedule},
       true,
       false},
      {"LtTolerationLeadingZeros",
       {"cores", kLt, "05", kNoSchedule},
       {"cores", "1", kNoSchedule},
       true,
       false},
      {"GtTaintNegativeZero",
       {"cores", kGt, "-5", kNoSchedule},
       {"cores", "-0", kNoSchedule},
       true,
       false},
      {"GtTaintNotANumber",
       {"cores", kGt, "1", kNoSchedule},
       {"cores", "abc", kNoSchedule},
       true,
       false},
      {"GtTaintEmpty",
       {"cores", kGt, "1", kNoSchedule},
       {"cores", "", kNoSchedule},
       true,
       false},
      {"GtTaintAboveInt64",
       {"cores", kGt, "1", kNoSchedule},
       {"cores", "9223372036854775808", kNoSchedule},
       true,
       false},
      // The gate does not change Equal/Exists.
      {"EqualWithGateOn",
       {"k", kEqual, "v", kNoSchedule},
       {"k", "v", kNoSchedule},
       true,
       true},
      {"ExistsWithGateOn",
       {"", kExists, "", std::nullopt},
       {"k", "v", kNoExecute},
       true,
       true},
  };
}

class ToleratesTest : public ::testing::TestWithParam<ToleratesCase> {};

TEST_P(ToleratesTest, FollowsToleratesTaint) {
  const ToleratesCase& c = GetParam();
  Snapshot snap;
  const Toleration toleration = ToToleration(snap, c.toleration);
  const Taint taint =
      snap.MakeTaint(c.taint.key, c.taint.value, c.taint.effect);
  EXPECT_EQ(Tolerates(toleration, taint, c.comparison_operators), c.want)
      << Describe(toleration) << " vs " << DescribeTaint(taint);
}

INSTANTIATE_TEST_SUITE_P(Table, ToleratesTest,
                         ::testing::ValuesIn(ToleratesCases()),
                         ::dsd::testing::ParamName<ToleratesCase>);

// The same table through TolerationMatcher, short (scanned) and long
// (indexed): the toleration after padding that tolerates nothing here (its
// key is on no taint of the table), then the table's toleration, then a
// duplicate of it; the first tolerating index is the table's.
class TolerationMatcherTest : public ::testing::TestWithParam<ToleratesCase> {};

TEST_P(TolerationMatcherTest, AgreesWithToleratesTaint) {
  const ToleratesCase& c = GetParam();
  Snapshot snap;
  const Taint taint =
      snap.MakeTaint(c.taint.key, c.taint.value, c.taint.effect);
  for (const size_t padding : {size_t{0}, TolerationMatcher::kIndexAbove}) {
    SCOPED_TRACE("padding " + std::to_string(padding));
    std::vector<Toleration> tolerations;
    for (size_t i = 0; i < padding; ++i) {
      tolerations.push_back(MakeToleration(
          snap, "padding-" + std::to_string(i), i % 2 ? kExists : kEqual,
          i % 2 ? "" : "v", std::nullopt, std::nullopt));
    }
    tolerations.push_back(ToToleration(snap, c.toleration));
    tolerations.push_back(ToToleration(snap, c.toleration));
    const TolerationMatcher matcher(tolerations, c.comparison_operators);
    EXPECT_EQ(matcher.FirstTolerating(taint),
              c.want ? static_cast<int>(padding) : -1)
        << Describe(tolerations[padding]) << " vs " << DescribeTaint(taint);
  }
}

INSTANTIATE_TEST_SUITE_P(Table, TolerationMatcherTest,
                         ::testing::ValuesIn(ToleratesCases()),
                         ::dsd::testing::ParamName<ToleratesCase>);

// Random lists of 40 tolerations (indexed) against random taints over a
// few keys and values: the first tolerating index is the first toleration
// Tolerates accepts, scanning in order.
TEST(TolerationMatcherTest, FirstMatchAsAScanOnRandomLists) {
  Snapshot snap;
  std::mt19937 random(20261203);
  const std::vector<std::string> keys = {"", "a", "b", "c"};
  const std::vector<std::string> values = {"", "1", "2", "x"};
  const std::vector<std::optional<TaintEffect>> effects = {
      std::nullopt, kNoSchedule, kPreferNoSchedule, kNoExecute};
  const std::vector<TolerationOperator> ops = {kEqual, kExists, kLt, kGt};
  const auto pick = [&random](const auto& v) {
    return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(random)];
  };
  int matched = 0;
  for (int round = 0; round < 300; ++round) {
    std::vector<Toleration> tolerations;
    for (int i = 0; i < 40; ++i) {
      tolerations.push_back(MakeToleration(snap, pick(keys), pick(ops),
                                           pick(values), pick(effects),
                                           std::nullopt));
    }
    const bool gate = round % 2 == 0;
    const TolerationMatcher matcher(tolerations, gate);
    for (int t = 0; t < 20; ++t) {
      const Taint taint =
          snap.MakeTaint(pick(keys), pick(values),
                         *pick(std::vector<std::optional<TaintEffect>>(
                             effects.begin() + 1, effects.end())));
      int want = -1;
      for (size_t i = 0; i < tolerations.size(); ++i) {
        if (Tolerates(tolerations[i], taint, gate)) {
          want = static_cast<int>(i);
          break;
        }
      }
      if (want >= 0) ++matched;
      ASSERT_EQ(matcher.FirstTolerating(taint), want)
          << "round " << round << ", " << DescribeTaint(taint);
    }
  }
  EXPECT_GT(matched, 100);  // both outcomes exercised
  EXPECT_LT(matched, 6000);
}

// ---------------------------------------------------------------------------
// DefaultDaemonTolerations: exactly section 4's seven rows, in order.
// ---------------------------------------------------------------------------

struct DefaultRowCase {
  std::string name;
  std::string key;
  TaintEffect effect;
  bool host_network_only;
  int since_minor;
};

const std::vector<DefaultRowCase>& DefaultRows() {
  static const auto* const kRows = new std::vector<DefaultRowCase>{
      {"NotReady", kNotReady, kNoExecute, false, 13},
      {"Unreachable", kUnreachable, kNoExecute, false, 13},
      {"DiskPressure", kDiskPressure, kNoSchedule, false, 8},
      {"MemoryPressure", kMemoryPressure, kNoSchedule, false, 8},
      {"PidPressure", kPidPressure, kNoSchedule, false, 14},
      {"Unschedulable", kUnschedulable, kNoSchedule, false, 12},
      {"NetworkUnavailable", kNetworkUnavailable, kNoSchedule, true, 12},
  };
  return *kRows;
}

// What a daemon pod tolerates with no toleration of its own: exactly the
// section 4 rows, each from its Kubernetes version on, the hostNetwork-only
// row only with hostNetwork, and nothing else (read through the behaviour,
// DaemonPodTolerations then Tolerates, not by comparing the table with
// itself).
TEST(DefaultDaemonTolerationsTest, OnlyTheSectionFourTaints) {
  Snapshot snap;
  for (const bool host_network : {false, true}) {
    const DaemonSet ds =
        DaemonSetBuilder(snap, "ds").HostNetwork(host_network).Build();
    const std::vector<Toleration> tolerations =
        DaemonPodTolerations(ds, /*minor=*/0);
    EXPECT_EQ(tolerations.size(), host_network ? 7u : 6u);
    // Not a default: other node.kubernetes.io taints, other effects.
    for (const Taint& taint :
         {snap.MakeTaint("node.kubernetes.io/out-of-service", "", kNoExecute),
          snap.MakeTaint(kNotReady, "", kNoSchedule),
          snap.MakeTaint(kDiskPressure, "", kNoExecute)}) {
      for (const Toleration& t : tolerations) {
        EXPECT_FALSE(Tolerates(t, taint, false)) << DescribeTaint(taint);
      }
    }
  }
}

class DefaultDaemonTolerationsRowTest
    : public ::testing::TestWithParam<size_t> {};

TEST_P(DefaultDaemonTolerationsRowTest, ToleratedFromItsVersion) {
  const DefaultRowCase& row = DefaultRows()[GetParam()];
  Snapshot snap;
  // Any value: the defaults are Exists.
  const Taint taint = snap.MakeTaint(row.key, "any", row.effect);
  for (const bool host_network : {false, true}) {
    const DaemonSet ds =
        DaemonSetBuilder(snap, "ds").HostNetwork(host_network).Build();
    for (const int minor : {row.since_minor - 1, row.since_minor,
                            row.since_minor + 1, kCurrentKubernetesMinor}) {
      const std::vector<Toleration> tolerations =
          DaemonPodTolerations(ds, minor);
      const bool tolerated = std::any_of(
          tolerations.begin(), tolerations.end(), [&](const Toleration& t) {
            return Tolerates(t, taint, false) && t.op == kExists &&
                   !t.toleration_seconds;
          });
      EXPECT_EQ(tolerated, minor >= row.since_minor &&
                               (host_network || !row.host_network_only))
          << "1." << minor << (host_network ? " hostNetwork" : "");
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, DefaultDaemonTolerationsRowTest, ::testing::Range<size_t>(0, 7),
    [](const ::testing::TestParamInfo<size_t>& param_info) {
      return std::to_string(param_info.param) + "_" +
             DefaultRows()[param_info.param].name;
    });

// ---------------------------------------------------------------------------
// DaemonPodTolerations: merge rule and version selection (section 4).
// ---------------------------------------------------------------------------

// The default toleration for `key` as the controller adds it: Exists, empty
// value, no tolerationSeconds.
TolSpec Default(const std::string& key, TaintEffect effect) {
  return {key, kExists, "", effect, std::nullopt};
}

std::vector<TolSpec> CurrentDefaults(bool host_network) {
  std::vector<TolSpec> out = {
      Default(kNotReady, kNoExecute),
      Default(kUnreachable, kNoExecute),
      Default(kDiskPressure, kNoSchedule),
      Default(kMemoryPressure, kNoSchedule),
      Default(kPidPressure, kNoSchedule),
      Default(kUnschedulable, kNoSchedule),
  };
  if (host_network) out.push_back(Default(kNetworkUnavailable, kNoSchedule));
  return out;
}

struct MergeCase {
  std::string name;
  std::vector<TolSpec> template_tolerations;
  bool host_network;
  int minor;
  std::vector<TolSpec> want;
};

void PrintTo(const MergeCase& c, std::ostream* os) { *os << c.name; }

std::vector<MergeCase> MergeCases() {
  const TolSpec gpu{"gpu", kExists, "", std::nullopt, std::nullopt};
  const TolSpec not_ready_300{kNotReady, kExists, "", kNoExecute, 300};
  const TolSpec not_ready_equal_60{kNotReady, kEqual, "", kNoExecute, 60};
  const TolSpec not_ready_no_schedule{kNotReady, kExists, "", kNoSchedule,
                                      std::nullopt};
  const TolSpec disk_pressure_all_effects{kDiskPressure, kExists, "",
                                          std::nullopt, std::nullopt};
  const TolSpec disk_pressure{kDiskPressure, kExists, "", kNoSchedule,
                              std::nullopt};

  std::vector<MergeCase> cases;
  // Version selection: rows with since_minor <= minor, table order.
  cases.push_back({"Current", {}, false, 35, CurrentDefaults(false)});
  cases.push_back({"CurrentHostNetwork", {}, true, 35, CurrentDefaults(true)});
  cases.push_back({"Minor14", {}, false, 14, CurrentDefaults(false)});
  cases.push_back(
      {"Minor13OmitsPidPressure",
       {},
       false,
       13,
       {Default(kNotReady, kNoExecute), Default(kUnreachable, kNoExecute),
        Default(kDiskPressure, kNoSchedule),
        Default(kMemoryPressure, kNoSchedule),
        Default(kUnschedulable, kNoSchedule)}});
  cases.push_back({"Minor12HostNetwork",
                   {},
                   true,
                   12,
                   {Default(kDiskPressure, kNoSchedule),
                    Default(kMemoryPressure, kNoSchedule),
                    Default(kUnschedulable, kNoSchedule),
                    Default(kNetworkUnavailable, kNoSchedule)}});
  cases.push_back({"Minor11OmitsUnschedulableAndNetworkUnavailable",
                   {},
                   true,
                   11,
                   {Default(kDiskPressure, kNoSchedule),
                    Default(kMemoryPressure, kNoSchedule)}});
  cases.push_back({"Minor8",
                   {},
                   false,
                   8,
                   {Default(kDiskPressure, kNoSchedule),
                    Default(kMemoryPressure, kNoSchedule)}});
  cases.push_back({"Minor7NoDefaults", {gpu}, true, 7, {gpu}});

  // Merge rule.
  {
    std::vector<TolSpec> want = CurrentDefaults(false);
    want.insert(want.begin(), gpu);
    cases.push_back(
        {"UnrelatedTemplateTolerationKeptFirst", {gpu}, false, 35, want});
  }
  // AddOrUpdateTolerationInPodSpec returns unchanged when a toleration
  // deep-equal to the default is present: the 300 s one stays as it is.
  {
    const TolSpec not_ready{kNotReady, kExists, "", kNoExecute, std::nullopt};
    std::vector<TolSpec> want = {not_ready_300, not_ready};
    for (const TolSpec& d : CurrentDefaults(false)) {
      if (d.key != kNotReady) want.push_back(d);
    }
    cases.push_back({"IdenticalDefaultPresentLeavesOthersUntouched",
                     {not_ready_300, not_ready},
                     false,
                     35,
                     want});
  }
  // minor <= 0 means the current version.
  cases.push_back({"MinorZeroIsCurrent", {}, false, 0, CurrentDefaults(false)});
  // D13: replaced in place by the infinite default, nothing appended.
  cases.push_back({"D13NotReadyExists300ReplacedInPlace",
                   {not_ready_300},
                   false,
                   35,
                   CurrentDefaults(false)});
  {
    // Replacement keeps the position of the template toleration.
    std::vector<TolSpec> want = {gpu, Default(kNotReady, kNoExecute)};
    for (const TolSpec& t : CurrentDefaults(false)) {
      if (t.key != kNotReady) want.push_back(t);
    }
    cases.push_back(
        {"ReplacedAtTemplatePosition", {gpu, not_ready_300}, false, 35, want});
  }
  {
    // Equal with empty value differs in operator: kept, default appended.
    std::vector<TolSpec> want = {not_ready_equal_60};
    for (const TolSpec& t : CurrentDefaults(false)) want.push_back(t);
    cases.push_back({"NotReadyEqual60KeptAndDefaultAppended",
                     {not_ready_equal_60},
                     false,
                     35,
                     want});
  }
  {
    // Same key and operator, other effect: kept, default appended.
    std::vector<TolSpec> want = {not_ready_no_schedule};
    for (const TolSpec& t : CurrentDefaults(false)) want.push_back(t);
    cases.push_back(
        {"SameKeyOtherEffectKept", {not_ready_no_schedule}, false, 35, want});
  }
  {
    // Empty effect is not the default's effect: kept, default appended.
    std::vector<TolSpec> want = {disk_pressure_all_effects};
    for (const TolSpec& t : CurrentDefaults(false)) want.push_back(t);
    cases.push_back({"SameKeyEmptyEffectKept",
                     {disk_pressure_all_effects},
                     false,
                     35,
                     want});
  }
  {
    // A later row replaced in place; earlier defaults appended after it.
    std::vector<TolSpec> want = {gpu,
                                 disk_pressure,
                                 Default(kNotReady, kNoExecute),
                                 Default(kUnreachable, kNoExecute),
                                 Default(kMemoryPressure, kNoSchedule),
                                 Default(kPidPressure, kNoSchedule),
                                 Default(kUnschedulable, kNoSchedule)};
    cases.push_back({"DiskPressureReplacedInPlaceOthersAppended",
                     {gpu, disk_pressure},
                     false,
                     35,
                     want});
  }
  {
    // Every matching template toleration is replaced.
    std::vector<TolSpec> want = {Default(kNotReady, kNoExecute),
                                 Default(kNotReady, kNoExecute)};
    for (const TolSpec& t : CurrentDefaults(false)) {
      if (t.key != kNotReady) want.push_back(t);
    }
    cases.push_back({"EveryMatchingTolerationReplaced",
                     {not_ready_300, not_ready_300},
                     false,
                     35,
                     want});
  }
  {
    // network-unavailable in the template without hostNetwork: kept as is,
    // and no default for it.
    const TolSpec network{kNetworkUnavailable, kExists, "", kNoSchedule, {}};
    std::vector<TolSpec> want = {network};
    for (const TolSpec& t : CurrentDefaults(false)) want.push_back(t);
    cases.push_back({"NetworkUnavailableWithoutHostNetworkNotAdded",
                     {network},
                     false,
                     35,
                     want});
  }
  {
    // An old minor leaves a template toleration for a newer row alone.
    const TolSpec pid{kPidPressure, kExists, "", kNoSchedule, {}};
    cases.push_back({"Minor8DoesNotTouchNewerRows",
                     {pid},
                     false,
                     8,
                     {pid, Default(kDiskPressure, kNoSchedule),
                      Default(kMemoryPressure, kNoSchedule)}});
  }
  return cases;
}

class DaemonPodTolerationsTest : public ::testing::TestWithParam<MergeCase> {};

TEST_P(DaemonPodTolerationsTest, MergesDefaults) {
  const MergeCase& c = GetParam();
  Snapshot snap;
  DaemonSetBuilder builder(snap, "ds");
  builder.HostNetwork(c.host_network);
  for (const TolSpec& t : c.template_tolerations) {
    builder.Toleration(ToToleration(snap, t));
  }
  const DaemonSet ds = builder.Build();

  const std::vector<Toleration> got = DaemonPodTolerations(ds, c.minor);

  std::vector<std::string> got_text;
  for (const Toleration& t : got) got_text.push_back(Describe(t));
  std::vector<std::string> want_text;
  for (const TolSpec& t : c.want) {
    want_text.push_back(Describe(ToToleration(snap, t)));
  }
  EXPECT_EQ(got_text, want_text);
}

INSTANTIATE_TEST_SUITE_P(Table, DaemonPodTolerationsTest,
                         ::testing::ValuesIn(MergeCases()),
                         ::dsd::testing::ParamName<MergeCase>);

// ---------------------------------------------------------------------------
// DescribeTaint and TaintEffectName.
// ---------------------------------------------------------------------------

TEST(DescribeTaintTest, KeyValueEffect) {
  Snapshot snap;
  struct Row {
    const char* name;
    Taint taint;
    const char* want;
  };
  const Row rows[] = {
      {"WithValue", snap.MakeTaint("dedicated", "gpu", kNoSchedule),
       "dedicated=gpu:NoSchedule"},
      {"EmptyValue",
       snap.MakeTaint("node-role.kubernetes.io/control-plane", "", kNoSchedule),
       "node-role.kubernetes.io/control-plane:NoSchedule"},
      {"PreferNoSchedule", snap.MakeTaint("k", "v", kPreferNoSchedule),
       "k=v:PreferNoSchedule"},
      {"NoExecute", snap.MakeTaint(kNotReady, "", kNoExecute),
       "node.kubernetes.io/not-ready:NoExecute"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    EXPECT_EQ(DescribeTaint(row.taint), row.want);
  }
}

TEST(TaintEffectNameTest, KubernetesSpelling) {
  EXPECT_EQ(TaintEffectName(kNoSchedule), "NoSchedule");
  EXPECT_EQ(TaintEffectName(kPreferNoSchedule), "PreferNoSchedule");
  EXPECT_EQ(TaintEffectName(kNoExecute), "NoExecute");
}

}  // namespace
}  // namespace dsd::engine
