// GoogleMock matchers for absl::Status, absl::StatusOr<T> and grpc::Status,
// so a failure prints the whole status, not just "4 != 3":
//
//   EXPECT_THAT(Convert(request), IsOk());
//   EXPECT_THAT(Convert(request),
//               StatusIs(absl::StatusCode::kInvalidArgument,
//                        HasSubstr("snapshot.nodes[1]")));
//   EXPECT_THAT(stub->Decide(&context, request, &response),
//               GrpcStatusIs(grpc::StatusCode::RESOURCE_EXHAUSTED));
//   DSD_ASSERT_OK_AND_ASSIGN(const engine::Snapshot snapshot,
//                            Convert(request));
#ifndef DSD_TESTS_TESTING_STATUS_MATCHERS_H_
#define DSD_TESTS_TESTING_STATUS_MATCHERS_H_

#include <ostream>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"

namespace dsd::testing {
namespace internal {

inline const absl::Status& GetStatus(const absl::Status& status) {
  return status;
}
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

}  // namespace internal

// The status (of a Status or a StatusOr) has `code` and a message that
// matches `message` (any message when omitted).
MATCHER_P2(StatusIs, code, message,
           std::string(negation ? "is not" : "is") + " a status with code " +
               absl::StatusCodeToString(code) + " and a message that " +
               ::testing::DescribeMatcher<std::string>(message)) {
  const absl::Status& status = internal::GetStatus(arg);
  *result_listener << "whose status is " << status;
  return status.code() == code &&
         ::testing::Matches(::testing::Matcher<std::string>(message))(
             std::string(status.message()));
}

MATCHER_P(StatusIs, code,
          std::string(negation ? "is not" : "is") + " a status with code " +
              absl::StatusCodeToString(code)) {
  const absl::Status& status = internal::GetStatus(arg);
  *result_listener << "whose status is " << status;
  return status.code() == code;
}

MATCHER(IsOk, std::string(negation ? "is not" : "is") + " OK") {
  const absl::Status& status = internal::GetStatus(arg);
  *result_listener << "whose status is " << status;
  return status.ok();
}

// A StatusOr that is OK and whose value matches `value`.
MATCHER_P(IsOkAndHolds, value,
          std::string(negation ? "is not" : "is") +
              " OK and holds a value that matches " +
              ::testing::PrintToString(value)) {
  if (!arg.ok()) {
    *result_listener << "whose status is " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(value, *arg, result_listener);
}

// A grpc::Status with `code` and a message that matches `message`. A
// template, so that this header does not need gRPC's.
MATCHER_P2(GrpcStatusIs, code, message,
           std::string(negation ? "is not" : "is") +
               " a gRPC status with code " +
               std::to_string(static_cast<int>(code)) + " and a message that " +
               ::testing::DescribeMatcher<std::string>(message)) {
  *result_listener << "whose status is " << static_cast<int>(arg.error_code())
                   << ": " << arg.error_message();
  return arg.error_code() == code &&
         ::testing::Matches(::testing::Matcher<std::string>(message))(
             arg.error_message());
}

MATCHER_P(GrpcStatusIs, code,
          std::string(negation ? "is not" : "is") +
              " a gRPC status with code " +
              std::to_string(static_cast<int>(code))) {
  *result_listener << "whose status is " << static_cast<int>(arg.error_code())
                   << ": " << arg.error_message();
  return arg.error_code() == code;
}

}  // namespace dsd::testing

// Declares or assigns `lhs` from the value of `expr`, an absl::StatusOr, or
// fails the test with an ASSERT (the test function returns) that prints the
// status. `lhs` may be a declaration: `DSD_ASSERT_OK_AND_ASSIGN(auto x, F())`.
#define DSD_ASSERT_OK_AND_ASSIGN(lhs, expr) \
  DSD_ASSERT_OK_AND_ASSIGN_IMPL_(           \
      DSD_STATUS_MATCHERS_CONCAT_(dsd_status_or_, __LINE__), lhs, expr)
#define DSD_ASSERT_OK_AND_ASSIGN_IMPL_(status_or, lhs, expr) \
  auto status_or = (expr);                                   \
  ASSERT_TRUE(status_or.ok()) << status_or.status();         \
  lhs = *std::move(status_or)
#define DSD_STATUS_MATCHERS_CONCAT_(a, b) DSD_STATUS_MATCHERS_CONCAT_IMPL_(a, b)
#define DSD_STATUS_MATCHERS_CONCAT_IMPL_(a, b) a##b

#endif  // DSD_TESTS_TESTING_STATUS_MATCHERS_H_
