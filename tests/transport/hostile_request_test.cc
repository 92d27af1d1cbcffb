// Hostile requests through a real channel with the client's default
// settings: errors always arrive with their details (gRPC clients refuse
// response metadata over 8 KiB), per-object caps answer RESOURCE_EXHAUSTED
// naming the field path, and the shapes that used to take seconds answer
// at once.
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "gtest/gtest.h"
#include "server/convert/errors.h"
#include "tests/testing/status_matchers.h"
#include "tests/transport/test_util.h"

namespace dsd::transport {
namespace {

using ::dsd::testing::GrpcStatusIs;

using ::dsd::transport::testing::Connect;
using ::dsd::transport::testing::LocalOptions;
using ::dsd::transport::testing::SetDeadline;
using ::dsd::transport::testing::StartServer;
using ::dsd::transport::testing::StatusDetails;
using ::dsd::transport::testing::ValidDecideRequest;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class HostileRequestTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = StartServer(LocalOptions()).release();
    ASSERT_NE(server_, nullptr);
  }
  static void TearDownTestSuite() {
    server_->Shutdown(absl::Seconds(10));
    delete server_;
  }
  void SetUp() override {
    // A channel with gRPC's default client settings (8 KiB of metadata).
    stub_ = v1::DaemonSetScheduler::NewStub(grpc::CreateChannel(
        server_->Address(), grpc::InsecureChannelCredentials()));
  }

  grpc::Status Decide(const v1::DecideRequest& request,
                      v1::DecideResponse* response = nullptr) {
    grpc::ClientContext context;
    SetDeadline(context);
    v1::DecideResponse ignored;
    return stub_->Decide(&context, request,
                         response != nullptr ? response : &ignored);
  }

  static inline Server* server_ = nullptr;
  std::unique_ptr<v1::DaemonSetScheduler::Stub> stub_;
};

// 1,000 violations, and a 1 MiB offending value: the error arrives as
// INVALID_ARGUMENT with its BadRequest, shortened and marked.
TEST_F(HostileRequestTest, ErrorDetailsAlwaysArrive) {
  struct Case {
    const char* name;
    int bad_nodes;
    size_t value_bytes;  // of one bad label value; 0: none
  };
  for (const Case c :
       {Case{"1,000 violations", 1000, 0}, Case{"1 MiB value", 0, 1u << 20}}) {
    SCOPED_TRACE(c.name);
    v1::DecideRequest request = ValidDecideRequest();
    for (int i = 0; i < c.bad_nodes; ++i) {
      request.mutable_snapshot()->add_nodes()->set_name(
          "Bad_Name_" + std::to_string(i) + std::string(100, 'x'));
    }
    if (c.value_bytes > 0) {
      v1::Label& l =
          *request.mutable_snapshot()->mutable_nodes(0)->add_labels();
      l.set_key("big");
      l.set_value(std::string(c.value_bytes, 'v'));
    }
    const grpc::Status status = Decide(request);
    ASSERT_THAT(status, GrpcStatusIs(grpc::StatusCode::INVALID_ARGUMENT));
    const google::rpc::Status details = StatusDetails(status);
    ASSERT_EQ(details.details_size(), 1);
    google::rpc::BadRequest bad;
    ASSERT_TRUE(details.details(0).UnpackTo(&bad));
    ASSERT_GT(bad.field_violations_size(), 0);
    if (c.bad_nodes > 0) {
      EXPECT_THAT(bad.field_violations(0).field(),
                  StartsWith("snapshot.nodes[1].name"));
      EXPECT_THAT(
          bad.field_violations(bad.field_violations_size() - 1).description(),
          HasSubstr("more violations not shown"));
    } else {
      EXPECT_EQ(bad.field_violations(0).field(),
                "snapshot.nodes[0].labels[\"big\"]");
      EXPECT_THAT(bad.field_violations(0).description(),
                  HasSubstr("...\" (1048576 bytes)"));
    }
    EXPECT_LE(status.error_details().size(), 4096u);
  }
}

// Over a per-object cap: RESOURCE_EXHAUSTED with a QuotaFailure naming the
// field path; the request is refused before the object is parsed.
TEST_F(HostileRequestTest, PerObjectCapsNameTheField) {
  v1::DecideRequest request = ValidDecideRequest();
  v1::Node& node = *request.mutable_snapshot()->mutable_nodes(0);
  for (int i = 0; i < 60'000; ++i) node.add_taints();  // empty: 2 bytes each
  const grpc::Status status = Decide(request);
  ASSERT_THAT(status, GrpcStatusIs(grpc::StatusCode::RESOURCE_EXHAUSTED));
  EXPECT_THAT(status.error_message(), StartsWith("snapshot.nodes[0].taints: "));
  const google::rpc::Status details = StatusDetails(status);
  ASSERT_EQ(details.details_size(), 1);
  google::rpc::QuotaFailure quota;
  ASSERT_TRUE(details.details(0).UnpackTo(&quota));
  EXPECT_EQ(quota.violations(0).subject(), "snapshot.nodes[0].taints");
}

// The shapes of issue 11 that took 10-17 s: 20,000 nodes against one
// requirement of 100,000 In values; one node's 1,000 taints against 1,000
// tolerations. Each now decides well within the call's default deadline;
// this checks the answers, the benchmark measures the time.
TEST_F(HostileRequestTest, FormerlySlowShapesDecide) {
  {
    v1::DecideRequest request = ValidDecideRequest();
    v1::Snapshot& s = *request.mutable_snapshot();
    for (int i = 0; i < 20'000; ++i) {
      v1::Node& n = *s.add_nodes();
      n.set_name("n-" + std::to_string(i));
      v1::Label& l = *n.add_labels();
      l.set_key("kubernetes.io/hostname");
      l.set_value(n.name());
    }
    v1::SelectorRequirement& r = *s.mutable_daemon_sets(0)
                                      ->mutable_template_()
                                      ->mutable_required_node_affinity()
                                      ->add_node_selector_terms()
                                      ->add_match_expressions();
    r.set_key("kubernetes.io/hostname");
    r.set_operator_(v1::SELECTOR_OPERATOR_IN);
    for (int i = 0; i < 99'999; ++i) r.add_values("m-" + std::to_string(i));
    r.add_values("n-7");
    v1::DecideResponse response;
    const grpc::Status status = Decide(request, &response);
    ASSERT_THAT(status, GrpcStatusIs(grpc::StatusCode::OK));
    ASSERT_EQ(response.daemon_sets_size(), 1);
    ASSERT_EQ(response.daemon_sets(0).create_size(), 1);
    EXPECT_EQ(response.daemon_sets(0).create(0).node(), "n-7");
  }
  {
    v1::DecideRequest request = ValidDecideRequest();
    v1::Snapshot& s = *request.mutable_snapshot();
    for (int i = 0; i < 1'000; ++i) {
      v1::Taint& t = *s.mutable_nodes(0)->add_taints();
      t.set_key("t-" + std::to_string(i));
      t.set_effect(v1::TAINT_EFFECT_NO_SCHEDULE);
      v1::Toleration& tol =
          *s.mutable_daemon_sets(0)->mutable_template_()->add_tolerations();
      tol.set_key("other-" + std::to_string(i));
      tol.set_operator_(v1::TOLERATION_OPERATOR_EXISTS);
    }
    v1::DecideResponse response;
    const grpc::Status status = Decide(request, &response);
    ASSERT_THAT(status, GrpcStatusIs(grpc::StatusCode::OK));
    ASSERT_EQ(response.daemon_sets_size(), 1);
    // Untolerated NoSchedule taints: no pod for the node.
    EXPECT_EQ(response.daemon_sets(0).create_size(), 0);
  }
}

}  // namespace
}  // namespace dsd::transport
