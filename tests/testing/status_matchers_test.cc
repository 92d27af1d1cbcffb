// The status matchers must reject what they should reject: each row is a
// status (or StatusOr) and whether each matcher accepts it.
#include "tests/testing/status_matchers.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "grpcpp/support/status.h"
#include "gtest/gtest-spi.h"
#include "gtest/gtest.h"
#include "tests/testing/param_name.h"

namespace dsd::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Matches;
using ::testing::Not;

struct Row {
  std::string name;
  absl::Status status;
  bool is_ok;
  bool is_invalid_argument;
  bool mentions_nodes;  // StatusIs(kInvalidArgument, HasSubstr("nodes[1]"))
};

std::vector<Row> Rows() {
  return {
      {"Ok", absl::OkStatus(), true, false, false},
      {"InvalidArgumentNamingTheField",
       absl::InvalidArgumentError("snapshot.nodes[1].name: empty"), false, true,
       true},
      {"InvalidArgumentElsewhere",
       absl::InvalidArgumentError("snapshot.pods[0].name: empty"), false, true,
       false},
      {"OtherCodeSameMessage",
       absl::ResourceExhaustedError("snapshot.nodes[1]: too many"), false,
       false, false},
  };
}

class StatusMatchersTest : public ::testing::TestWithParam<Row> {};

TEST_P(StatusMatchersTest, Status) {
  const Row& row = GetParam();
  EXPECT_EQ(Matches(IsOk())(row.status), row.is_ok);
  EXPECT_EQ(Matches(StatusIs(absl::StatusCode::kInvalidArgument))(row.status),
            row.is_invalid_argument);
  EXPECT_EQ(Matches(StatusIs(absl::StatusCode::kInvalidArgument,
                             HasSubstr("nodes[1]")))(row.status),
            row.mentions_nodes);
}

TEST_P(StatusMatchersTest, StatusOr) {
  const Row& row = GetParam();
  const absl::StatusOr<int> value = row.status.ok()
                                        ? absl::StatusOr<int>(7)
                                        : absl::StatusOr<int>(row.status);
  EXPECT_EQ(Matches(IsOk())(value), row.is_ok);
  EXPECT_EQ(Matches(IsOkAndHolds(7))(value), row.is_ok);
  EXPECT_FALSE(Matches(IsOkAndHolds(8))(value));
  EXPECT_EQ(Matches(StatusIs(absl::StatusCode::kInvalidArgument,
                             HasSubstr("nodes[1]")))(value),
            row.mentions_nodes);
}

TEST_P(StatusMatchersTest, GrpcStatus) {
  const Row& row = GetParam();
  const grpc::Status status(
      static_cast<grpc::StatusCode>(static_cast<int>(row.status.code())),
      std::string(row.status.message()));
  EXPECT_EQ(Matches(GrpcStatusIs(grpc::StatusCode::INVALID_ARGUMENT))(status),
            row.is_invalid_argument);
  EXPECT_EQ(Matches(GrpcStatusIs(grpc::StatusCode::INVALID_ARGUMENT,
                                 HasSubstr("nodes[1]")))(status),
            row.mentions_nodes);
}

INSTANTIATE_TEST_SUITE_P(Statuses, StatusMatchersTest,
                         ::testing::ValuesIn(Rows()), ParamName<Row>);

// What a failure prints: the whole status, so a reader sees the message.
TEST(StatusMatchersTest, FailureExplainsTheStatus) {
  const absl::Status status = absl::NotFoundError("no DaemonSet default/x");
  ::testing::StringMatchResultListener listener;
  EXPECT_FALSE(::testing::ExplainMatchResult(IsOk(), status, &listener));
  EXPECT_THAT(listener.str(), HasSubstr("no DaemonSet default/x"));
  EXPECT_THAT(::testing::DescribeMatcher<absl::Status>(
                  StatusIs(absl::StatusCode::kNotFound)),
              HasSubstr("NOT_FOUND"));
  EXPECT_THAT(status, Not(StatusIs(absl::StatusCode::kInvalidArgument)));
}

absl::StatusOr<std::string> Lookup(bool found) {
  if (!found) return absl::NotFoundError("no DaemonSet default/x");
  return std::string("default/x");
}

TEST(AssertOkAndAssignTest, DeclaresOrAssignsTheValue) {
  DSD_ASSERT_OK_AND_ASSIGN(const std::string declared, Lookup(true));
  EXPECT_EQ(declared, "default/x");
  std::string assigned = "before";
  DSD_ASSERT_OK_AND_ASSIGN(assigned, Lookup(true));
  EXPECT_EQ(assigned, "default/x");
}

// A non-OK status is a fatal failure that prints it; nothing after the
// macro runs.
bool reached_after_assign = false;
void AssignFromAnError() {
  DSD_ASSERT_OK_AND_ASSIGN(const std::string unused, Lookup(false));
  reached_after_assign = !unused.empty();
}

TEST(AssertOkAndAssignTest, AnErrorIsAFatalFailureNamingTheStatus) {
  EXPECT_FATAL_FAILURE(AssignFromAnError(), "no DaemonSet default/x");
  EXPECT_FALSE(reached_after_assign);
}

}  // namespace
}  // namespace dsd::testing
