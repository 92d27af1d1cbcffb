// ToGrpcStatus: every code maps to the gRPC code of the same meaning, the
// message is bounded, and payloads travel as google.rpc.Status details.
#include "server/transport/status.h"

#include <string>
#include <vector>

#include "absl/strings/cord.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "tests/testing/param_name.h"
#include "tests/testing/status_matchers.h"

namespace dsd::transport {
namespace {

using ::dsd::testing::GrpcStatusIs;

struct CodeCase {
  absl::StatusCode absl_code;
  grpc::StatusCode grpc_code;
  const char* name;
};

// Both enums follow google.rpc.Code; the table spells the pairs out so a
// renumbering on either side is caught.
constexpr CodeCase kCodeCases[] = {
    {absl::StatusCode::kCancelled, grpc::StatusCode::CANCELLED, "CANCELLED"},
    {absl::StatusCode::kUnknown, grpc::StatusCode::UNKNOWN, "UNKNOWN"},
    {absl::StatusCode::kInvalidArgument, grpc::StatusCode::INVALID_ARGUMENT,
     "INVALID_ARGUMENT"},
    {absl::StatusCode::kDeadlineExceeded, grpc::StatusCode::DEADLINE_EXCEEDED,
     "DEADLINE_EXCEEDED"},
    {absl::StatusCode::kNotFound, grpc::StatusCode::NOT_FOUND, "NOT_FOUND"},
    {absl::StatusCode::kAlreadyExists, grpc::StatusCode::ALREADY_EXISTS,
     "ALREADY_EXISTS"},
    {absl::StatusCode::kPermissionDenied, grpc::StatusCode::PERMISSION_DENIED,
     "PERMISSION_DENIED"},
    {absl::StatusCode::kResourceExhausted, grpc::StatusCode::RESOURCE_EXHAUSTED,
     "RESOURCE_EXHAUSTED"},
    {absl::StatusCode::kFailedPrecondition,
     grpc::StatusCode::FAILED_PRECONDITION, "FAILED_PRECONDITION"},
    {absl::StatusCode::kAborted, grpc::StatusCode::ABORTED, "ABORTED"},
    {absl::StatusCode::kOutOfRange, grpc::StatusCode::OUT_OF_RANGE,
     "OUT_OF_RANGE"},
    {absl::StatusCode::kUnimplemented, grpc::StatusCode::UNIMPLEMENTED,
     "UNIMPLEMENTED"},
    {absl::StatusCode::kInternal, grpc::StatusCode::INTERNAL, "INTERNAL"},
    {absl::StatusCode::kUnavailable, grpc::StatusCode::UNAVAILABLE,
     "UNAVAILABLE"},
    {absl::StatusCode::kDataLoss, grpc::StatusCode::DATA_LOSS, "DATA_LOSS"},
    {absl::StatusCode::kUnauthenticated, grpc::StatusCode::UNAUTHENTICATED,
     "UNAUTHENTICATED"},
};

class ToGrpcStatusCodeTest : public ::testing::TestWithParam<CodeCase> {};

TEST_P(ToGrpcStatusCodeTest, KeepsCodeAndMessage) {
  const CodeCase& c = GetParam();
  const grpc::Status status = ToGrpcStatus(absl::Status(c.absl_code, "why"));
  EXPECT_EQ(status.error_code(), c.grpc_code);
  EXPECT_EQ(status.error_message(), "why");
  EXPECT_EQ(CodeName(c.grpc_code), c.name);

  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(status.error_details()));
  EXPECT_EQ(details.code(), static_cast<int>(c.grpc_code));
  EXPECT_EQ(details.message(), "why");
  EXPECT_EQ(details.details_size(), 0);
}

INSTANTIATE_TEST_SUITE_P(AllCodes, ToGrpcStatusCodeTest,
                         ::testing::ValuesIn(kCodeCases),
                         dsd::testing::ParamName<CodeCase>);

TEST(ToGrpcStatusTest, OkIsOkWithoutDetails) {
  const grpc::Status status = ToGrpcStatus(absl::OkStatus());
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(status.error_message(), "");
  EXPECT_EQ(status.error_details(), "");
  EXPECT_EQ(CodeName(grpc::StatusCode::OK), "OK");
}

TEST(ToGrpcStatusTest, OutOfRangeCodeBecomesUnknown) {
  // absl::Status keeps codes it does not know; gRPC has no such code.
  const absl::Status odd(static_cast<absl::StatusCode>(42), "odd");
  EXPECT_THAT(ToGrpcStatus(odd), GrpcStatusIs(grpc::StatusCode::UNKNOWN));
  EXPECT_EQ(CodeName(42), "UNKNOWN");
  EXPECT_EQ(CodeName(-1), "UNKNOWN");
}

TEST(ToGrpcStatusTest, PayloadsRoundTripAsDetails) {
  google::rpc::BadRequest bad_request;
  auto* violation = bad_request.add_field_violations();
  violation->set_field("snapshot.nodes[0].name");
  violation->set_description("is required");
  absl::Status status(absl::StatusCode::kInvalidArgument,
                      "snapshot.nodes[0].name: is required");
  status.SetPayload("type.googleapis.com/google.rpc.BadRequest",
                    absl::Cord(bad_request.SerializeAsString()));
  // Bytes that are not a valid message are copied unchanged all the same.
  const std::string raw("\x00\xff\x01 raw", 7);
  status.SetPayload("type.example.com/opaque", absl::Cord(raw));

  const grpc::Status out = ToGrpcStatus(status);
  ASSERT_THAT(out, GrpcStatusIs(grpc::StatusCode::INVALID_ARGUMENT));
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(out.error_details()));
  EXPECT_EQ(details.code(),
            static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_EQ(details.message(), "snapshot.nodes[0].name: is required");
  ASSERT_EQ(details.details_size(), 2);

  // absl does not promise a payload order; find each by type URL.
  const google::protobuf::Any* bad = nullptr;
  const google::protobuf::Any* opaque = nullptr;
  for (const google::protobuf::Any& any : details.details()) {
    if (any.type_url() == "type.googleapis.com/google.rpc.BadRequest") {
      bad = &any;
    } else if (any.type_url() == "type.example.com/opaque") {
      opaque = &any;
    }
  }
  ASSERT_NE(bad, nullptr);
  ASSERT_NE(opaque, nullptr);
  google::rpc::BadRequest parsed;
  ASSERT_TRUE(bad->UnpackTo(&parsed));
  ASSERT_EQ(parsed.field_violations_size(), 1);
  EXPECT_EQ(parsed.field_violations(0).field(), "snapshot.nodes[0].name");
  EXPECT_EQ(parsed.field_violations(0).description(), "is required");
  EXPECT_EQ(opaque->value(), raw);
}

TEST(ToGrpcStatusTest, LongMessageIsTruncated) {
  const std::string message(3 * kMaxStatusMessageBytes, 'a');
  const grpc::Status out = ToGrpcStatus(absl::InvalidArgumentError(message));
  EXPECT_EQ(out.error_message().size(), kMaxStatusMessageBytes);
  EXPECT_EQ(out.error_message().substr(out.error_message().size() - 3), "...");
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(out.error_details()));
  EXPECT_EQ(details.message(), out.error_message());
}

TEST(ToGrpcStatusTest, TruncationKeepsUtf8CharactersWhole) {
  // "é" is two bytes (0xC3 0xA9); an odd cut would split one.
  std::string message;
  for (size_t i = 0; i < kMaxStatusMessageBytes; ++i) message += "\xc3\xa9";
  const std::string out =
      ToGrpcStatus(absl::InternalError(message)).error_message();
  ASSERT_LE(out.size(), kMaxStatusMessageBytes);
  const std::string kept = out.substr(0, out.size() - 3);
  EXPECT_EQ(kept.size() % 2, 0u);
  EXPECT_EQ(kept, message.substr(0, kept.size()));
}

TEST(ToGrpcStatusTest, ShortMessageIsKept) {
  const std::string message(kMaxStatusMessageBytes, 'b');
  EXPECT_EQ(ToGrpcStatus(absl::InternalError(message)).error_message(),
            message);
}

}  // namespace
}  // namespace dsd::transport
