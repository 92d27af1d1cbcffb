// The gRPC adapter over a real channel to an in-process server: every RPC,
// error codes with their google.rpc details in the trailer, deadlines, and
// the metrics the calls leave behind.
#include "server/transport/grpc_service.h"

#include <future>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "grpcpp/generic/generic_stub.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "spdlog/sinks/ostream_sink.h"
#include "tests/testing/status_matchers.h"
#include "tests/transport/test_util.h"

namespace dsd::transport {
namespace {

using ::dsd::testing::GrpcStatusIs;

using ::dsd::transport::testing::Connect;
using ::dsd::transport::testing::HoldingClock;
using ::dsd::transport::testing::LocalOptions;
using ::dsd::transport::testing::MalformedDecideRequest;
using ::dsd::transport::testing::SetDeadline;
using ::dsd::transport::testing::StartServer;
using ::dsd::transport::testing::StatusDetails;
using ::dsd::transport::testing::ValidDecideRequest;
using ::dsd::transport::testing::ValidSnapshot;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// The server learns that a client gave up (cancelled, or its deadline
// passed: the server's copy of the deadline runs from the request's
// arrival, a little after the client's) only when the client's
// RST_STREAM arrives. Tests that hold a call give it this long before
// letting the call go on; a margin for ordering, not a timing assertion.
void AwaitServerSide() { std::this_thread::sleep_for(std::chrono::seconds(1)); }

constexpr char kBadRequestUrl[] = "type.googleapis.com/google.rpc.BadRequest";
constexpr char kQuotaFailureUrl[] =
    "type.googleapis.com/google.rpc.QuotaFailure";

// One server per test case (port 0), with debug logging so the per-request
// log line is exercised too; threads == 0 runs on gRPC's threads.
class GrpcServiceTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    ServerOptions options = LocalOptions();
    options.threads = GetParam();
    options.logging.level = spdlog::level::debug;
    logging::SetUpLogging(options.logging);
    server_ = StartServer(options, clock_.Clock());
    ASSERT_NE(server_, nullptr);
    stub_ = v1::DaemonSetScheduler::NewStub(Connect(*server_));
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown(absl::Seconds(30));
    logging::SetUpLogging(logging::LoggingOptions{});
  }

  std::string FetchMetrics() {
    httplib::Client client("127.0.0.1", server_->MetricsPort());
    const httplib::Result result = client.Get("/metrics");
    EXPECT_TRUE(result) << httplib::to_string(result.error());
    if (!result) return "";
    EXPECT_EQ(result->status, 200);
    EXPECT_EQ(result->get_header_value("Content-Type"),
              "text/plain; version=0.0.4");
    return result->body;
  }

  // The metrics once no call is in flight (up to 60 s): a call the client
  // gave up on may still be finishing in the server.
  std::string MetricsWhenIdle() {
    std::string text;
    for (int i = 0; i < 600; ++i) {
      text = FetchMetrics();
      if (text.find("dsd_requests_in_flight 0\n") != std::string::npos) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return text;
  }

  // Reads of the server's clock (requests without `now`) can be held.
  HoldingClock clock_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<v1::DaemonSetScheduler::Stub> stub_;
};

INSTANTIATE_TEST_SUITE_P(Threads, GrpcServiceTest, ::testing::Values(0, 2),
                         [](const ::testing::TestParamInfo<int>& row) {
                           return row.param == 0
                                      ? std::string("WorkerPerCore")
                                      : "WorkerPool" +
                                            std::to_string(row.param);
                         });

TEST_P(GrpcServiceTest, DecideCreatesThePodOnTheOnlyNode) {
  grpc::ClientContext context;
  SetDeadline(context);
  v1::DecideResponse response;
  const grpc::Status status =
      stub_->Decide(&context, ValidDecideRequest(), &response);
  ASSERT_THAT(status, GrpcStatusIs(grpc::StatusCode::OK));
  ASSERT_EQ(response.daemon_sets_size(), 1);
  const v1::DaemonSetPlan& plan = response.daemon_sets(0);
  EXPECT_EQ(plan.namespace_(), "default");
  EXPECT_EQ(plan.name(), "agent");
  ASSERT_EQ(plan.create_size(), 1);
  EXPECT_EQ(plan.create(0).node(), "n1");
  EXPECT_EQ(plan.delete__size(), 0);
}

TEST_P(GrpcServiceTest, ExplainSaysTheNodeShouldRunThePod) {
  v1::ExplainRequest request;
  *request.mutable_snapshot() = ValidSnapshot();
  grpc::ClientContext context;
  SetDeadline(context);
  v1::ExplainResponse response;
  const grpc::Status status = stub_->Explain(&context, request, &response);
  ASSERT_THAT(status, GrpcStatusIs(grpc::StatusCode::OK));
  ASSERT_EQ(response.daemon_sets_size(), 1);
  ASSERT_EQ(response.daemon_sets(0).nodes_size(), 1);
  EXPECT_EQ(response.daemon_sets(0).nodes(0).node(), "n1");
  EXPECT_TRUE(response.daemon_sets(0).nodes(0).should_run());
}

TEST_P(GrpcServiceTest, ValidateAcceptsAValidSnapshot) {
  v1::ValidateRequest request;
  *request.mutable_snapshot() = ValidSnapshot();
  grpc::ClientContext context;
  SetDeadline(context);
  v1::ValidateResponse response;
  const grpc::Status status = stub_->Validate(&context, request, &response);
  ASSERT_THAT(status, GrpcStatusIs(grpc::StatusCode::OK));
  EXPECT_EQ(response.violations_size(), 0);
}

TEST_P(GrpcServiceTest, ValidateListsViolationsWithOk) {
  v1::ValidateRequest request;
  *request.mutable_snapshot() = MalformedDecideRequest().snapshot();
  grpc::ClientContext context;
  SetDeadline(context);
  v1::ValidateResponse response;
  const grpc::Status status = stub_->Validate(&context, request, &response);
  ASSERT_THAT(status, GrpcStatusIs(grpc::StatusCode::OK));
  ASSERT_GE(response.violations_size(), 1);
  EXPECT_THAT(response.violations(0).field(), StartsWith("snapshot."));
}

TEST_P(GrpcServiceTest, FilterFindsTheFeasibleNode) {
  v1::FilterRequest request;
  *request.mutable_daemon_set() = ValidSnapshot().daemon_sets(0);
  *request.add_nodes() = ValidSnapshot().nodes(0);
  grpc::ClientContext context;
  SetDeadline(context);
  v1::FilterResponse response;
  const grpc::Status status = stub_->Filter(&context, request, &response);
  ASSERT_THAT(status, GrpcStatusIs(grpc::StatusCode::OK));
  EXPECT_THAT(response.feasible_nodes(), ElementsAre("n1"));
  EXPECT_EQ(response.failed_nodes_size(), 0);
}

TEST_P(GrpcServiceTest, MalformedRequestIsInvalidArgumentWithBadRequest) {
  grpc::ClientContext context;
  SetDeadline(context);
  v1::DecideResponse response;
  const grpc::Status status =
      stub_->Decide(&context, MalformedDecideRequest(), &response);
  ASSERT_THAT(status, GrpcStatusIs(grpc::StatusCode::INVALID_ARGUMENT));

  const google::rpc::Status details = StatusDetails(status);
  EXPECT_EQ(details.code(),
            static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_EQ(details.message(), status.error_message());
  ASSERT_EQ(details.details_size(), 1);
  ASSERT_EQ(details.details(0).type_url(), kBadRequestUrl);
  google::rpc::BadRequest bad_request;
  ASSERT_TRUE(details.details(0).UnpackTo(&bad_request));
  ASSERT_GE(bad_request.field_violations_size(), 1);
  const std::string& field = bad_request.field_violations(0).field();
  EXPECT_THAT(field, StartsWith("snapshot."));
  // The message names the first path (errors, style section 5).
  EXPECT_THAT(status.error_message(), StartsWith(field + ": "));
}

// Decide, Explain and Validate read their request's bytes themselves
// (raw methods): bytes that are no request get INVALID_ARGUMENT, a pod
// whose name is not UTF-8 names the pod, and the server goes on serving.
TEST_P(GrpcServiceTest, BytesThatAreNoRequestAreInvalidArgument) {
  v1::DecideRequest bad_pod = ValidDecideRequest();
  bad_pod.mutable_snapshot()->add_pods()->set_name("ok");
  std::string not_utf8 = bad_pod.SerializeAsString();
  not_utf8.replace(not_utf8.rfind("ok"), 2, "\xff\xfe");
  struct Case {
    const char* method;
    std::string bytes;
    const char* message;
  };
  const Case cases[] = {
      {"Decide", "\x0a\x7f", "not a dsd.v1.DecideRequest"},
      {"Explain", "\x0a\x05\x0a\x09", "not a dsd.v1.ExplainRequest"},
      {"Validate", std::string("\x00", 1), "not a dsd.v1.ValidateRequest"},
      {"Filter", "\x0a\x7f", "not a dsd.v1.FilterRequest"},
      {"Decide", not_utf8, "snapshot.pods[0]"},
  };
  grpc::GenericStub generic(Connect(*server_));
  for (const Case& c : cases) {
    SCOPED_TRACE(c.method);
    grpc::ClientContext context;
    SetDeadline(context);
    grpc::Slice slice(c.bytes);
    const grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    std::promise<grpc::Status> done;
    generic.UnaryCall(&context,
                      std::string("/dsd.v1.DaemonSetScheduler/") + c.method,
                      grpc::StubOptions(), &request, &response,
                      [&done](grpc::Status s) { done.set_value(s); });
    const grpc::Status status = done.get_future().get();
    EXPECT_THAT(status, GrpcStatusIs(grpc::StatusCode::INVALID_ARGUMENT));
    EXPECT_THAT(status.error_message(), HasSubstr(c.message));
  }
  grpc::ClientContext context;
  SetDeadline(context);
  v1::DecideResponse response;
  EXPECT_TRUE(stub_->Decide(&context, ValidDecideRequest(), &response).ok());
}

// A call still in the service when its deadline passes is counted
// DEADLINE_EXCEEDED, as its client sees it, not with the OK the service
// returns afterwards (a snapshot without DaemonSets: the engine never
// polls the cancellation). A deadline that has passed before the call is
// sent is answered by the client library: no dsd code would run.
TEST_P(GrpcServiceTest, CallPastItsDeadlineIsCountedDeadlineExceeded) {
  clock_.Hold();
  v1::DecideRequest request = ValidDecideRequest();
  request.mutable_snapshot()->clear_daemon_sets();
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(300));
  v1::DecideResponse response;
  std::future<grpc::Status> call = std::async(std::launch::async, [&] {
    return stub_->Decide(&context, request, &response);
  });
  ASSERT_TRUE(clock_.AwaitWaiting(1));
  EXPECT_THAT(call.get(), GrpcStatusIs(grpc::StatusCode::DEADLINE_EXCEEDED));
  AwaitServerSide();
  clock_.Release();

  const std::string text = MetricsWhenIdle();
  EXPECT_THAT(text, HasSubstr("dsd_requests_total{method=\"Decide\","
                              "code=\"DEADLINE_EXCEEDED\"} 1\n"));
  EXPECT_THAT(text, Not(HasSubstr("code=\"OK\"")));
}

// A call its client cancelled is counted CANCELLED.
TEST_P(GrpcServiceTest, CallTheClientCancelledIsCountedCancelled) {
  clock_.Hold();
  grpc::ClientContext context;
  SetDeadline(context);
  v1::DecideResponse response;
  std::future<grpc::Status> call = std::async(std::launch::async, [&] {
    return stub_->Decide(&context, ValidDecideRequest(), &response);
  });
  ASSERT_TRUE(clock_.AwaitWaiting(1));
  context.TryCancel();
  EXPECT_THAT(call.get(), GrpcStatusIs(grpc::StatusCode::CANCELLED));
  AwaitServerSide();
  clock_.Release();

  const std::string text = MetricsWhenIdle();
  EXPECT_THAT(text, HasSubstr("dsd_requests_total{method=\"Decide\","
                              "code=\"CANCELLED\"} 1\n"));
}

// A method the server does not have gets UNIMPLEMENTED and is counted
// (method "unknown"), whatever service it names.
TEST_P(GrpcServiceTest, UnknownMethodsAreUnimplementedAndCounted) {
  grpc::GenericStub generic(Connect(*server_));
  for (const char* method :
       {"/dsd.v1.DaemonSetScheduler/Schedule", "/no.such.Service/Call"}) {
    SCOPED_TRACE(method);
    grpc::ClientContext context;
    SetDeadline(context);
    grpc::Slice slice(std::string("\x0a\x00", 2));
    const grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    std::promise<grpc::Status> done;
    generic.UnaryCall(&context, method, grpc::StubOptions(), &request,
                      &response,
                      [&done](grpc::Status s) { done.set_value(s); });
    EXPECT_THAT(done.get_future().get(),
                GrpcStatusIs(grpc::StatusCode::UNIMPLEMENTED));
  }
  EXPECT_THAT(FetchMetrics(), HasSubstr("dsd_requests_total{method=\"unknown\","
                                        "code=\"UNIMPLEMENTED\"} 2\n"));
}

// Bytes that are no FilterRequest: INVALID_ARGUMENT with a message (gRPC's
// typed method said UNIMPLEMENTED with none), counted.
TEST_P(GrpcServiceTest, UndecodableFilterIsCountedInvalidArgument) {
  grpc::GenericStub generic(Connect(*server_));
  grpc::ClientContext context;
  SetDeadline(context);
  grpc::Slice slice(
      std::string("\x12\x05"
                  "ab",
                  4));
  const grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  generic.UnaryCall(&context, "/dsd.v1.DaemonSetScheduler/Filter",
                    grpc::StubOptions(), &request, &response,
                    [&done](grpc::Status s) { done.set_value(s); });
  const grpc::Status status = done.get_future().get();
  EXPECT_THAT(status, GrpcStatusIs(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_THAT(status.error_message(), HasSubstr("dsd.v1.FilterRequest"));
  EXPECT_THAT(FetchMetrics(), HasSubstr("dsd_requests_total{method=\"Filter\","
                                        "code=\"INVALID_ARGUMENT\"} 1\n"));
}

TEST_P(GrpcServiceTest, MetricsCountTheCalls) {
  {
    grpc::ClientContext context;
    SetDeadline(context);
    v1::DecideResponse response;
    ASSERT_TRUE(stub_->Decide(&context, ValidDecideRequest(), &response).ok());
  }
  {
    grpc::ClientContext context;
    SetDeadline(context);
    v1::DecideResponse response;
    ASSERT_THAT(stub_->Decide(&context, MalformedDecideRequest(), &response),
                GrpcStatusIs(grpc::StatusCode::INVALID_ARGUMENT));
  }
  // Metrics are recorded before Finish, so they are complete once the
  // client has the responses.
  const std::string text = FetchMetrics();
  EXPECT_THAT(text, HasSubstr("dsd_requests_total{method=\"Decide\","
                              "code=\"OK\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("dsd_requests_total{method=\"Decide\","
                              "code=\"INVALID_ARGUMENT\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("dsd_request_duration_seconds_count{method="
                              "\"Decide\"} 2\n"));
  const size_t bytes = ValidDecideRequest().ByteSizeLong() +
                       MalformedDecideRequest().ByteSizeLong();
  EXPECT_THAT(text, HasSubstr("dsd_request_bytes_total{method=\"Decide\"} " +
                              std::to_string(bytes) + "\n"));
  EXPECT_THAT(text, HasSubstr("dsd_requests_in_flight 0\n"));
}

// A call that waited in the worker queue past its deadline is answered
// without running: the service never reads it (the log line counts no
// nodes) and it is counted DEADLINE_EXCEEDED.
TEST(GrpcQueueTest, CallPastItsDeadlineInTheQueueIsNotRun) {
  std::ostringstream log;
  logging::SetUpLogging({spdlog::level::debug, logging::LogFormat::kText},
                        std::make_shared<spdlog::sinks::ostream_sink_mt>(log));
  HoldingClock clock;
  clock.Hold();
  ServerOptions options = LocalOptions();
  options.threads = 1;
  std::unique_ptr<Server> server = StartServer(options, clock.Clock());
  ASSERT_NE(server, nullptr);
  auto stub = v1::DaemonSetScheduler::NewStub(Connect(*server));
  std::future<grpc::Status> first = std::async(std::launch::async, [&stub] {
    grpc::ClientContext context;
    SetDeadline(context);
    v1::DecideResponse response;
    return stub->Decide(&context, ValidDecideRequest(), &response);
  });
  ASSERT_TRUE(clock.AwaitWaiting(1));  // the only worker is busy

  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(300));
  v1::DecideResponse response;
  EXPECT_THAT(stub->Decide(&context, ValidDecideRequest(), &response),
              GrpcStatusIs(grpc::StatusCode::DEADLINE_EXCEEDED));
  AwaitServerSide();
  clock.Release();
  EXPECT_TRUE(first.get().ok());
  EXPECT_TRUE(server->Shutdown(absl::Seconds(30)));

  EXPECT_EQ(clock.reads(), 1);
  const std::string text = log.str();
  EXPECT_THAT(text, HasSubstr("rpc method=Decide code=OK "));
  EXPECT_THAT(text,
              ::testing::ContainsRegex(
                  "rpc method=Decide code=DEADLINE_EXCEEDED .* nodes=0 "));
  logging::SetUpLogging(logging::LoggingOptions{});
}

// A client's label key is quoted in the warn line's field path: a newline
// in it cannot start a forged line, and 1 MB of it makes no 1 MB line.
TEST(GrpcLogTest, ClientStringsCannotForgeOrFloodLogLines) {
  std::ostringstream log;
  logging::SetUpLogging({spdlog::level::info, logging::LogFormat::kText},
                        std::make_shared<spdlog::sinks::ostream_sink_mt>(log));
  std::unique_ptr<Server> server = StartServer(LocalOptions());
  ASSERT_NE(server, nullptr);
  auto stub = v1::DaemonSetScheduler::NewStub(Connect(*server));
  for (const std::string& key :
       {std::string("x\n2026-01-01T00:00:00.000Z error [transport] forged"),
        std::string(1 << 20, 'k')}) {
    v1::DecideRequest request = ValidDecideRequest();
    v1::Label& label =
        *request.mutable_snapshot()->mutable_nodes(0)->add_labels();
    label.set_key(key + "/");  // a trailing slash: never a valid key
    label.set_value("v");
    grpc::ClientContext context;
    SetDeadline(context);
    v1::DecideResponse response;
    // INVALID_ARGUMENT; the client may see RESOURCE_EXHAUSTED instead when
    // the details quoting 1 MB exceed its trailer limit (status.cc's
    // business, not this test's).
    EXPECT_FALSE(stub->Decide(&context, request, &response).ok());
  }
  server->Shutdown(absl::Seconds(30));
  logging::SetUpLogging(logging::LoggingOptions{});

  std::istringstream lines(log.str());
  int count = 0;
  for (std::string line; std::getline(lines, line); ++count) {
    EXPECT_THAT(line, Not(StartsWith("2026-01-01T00:00:00.000Z"))) << line;
    EXPECT_LT(line.size(), 1024u) << line.substr(0, 200);
  }
  EXPECT_GE(count, 2);  // the two warn lines, at least
}

// Limits: one server per case with its own options.
class GrpcLimitsTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown(absl::Seconds(30));
  }
  // Declared before the server, so it outlives it: a worker may still be
  // inside the clock when the client has its answer, and ThreadSanitizer
  // cannot see the order the network gives.
  HoldingClock clock_;
  std::unique_ptr<Server> server_;
};

TEST_F(GrpcLimitsTest, RequestOverMaxRequestBytesIsResourceExhausted) {
  ServerOptions options = LocalOptions();
  options.max_request_bytes = 1024;
  server_ = StartServer(options);
  ASSERT_NE(server_, nullptr);

  v1::DecideRequest request = ValidDecideRequest();
  for (int i = 0; i < 100; ++i) {
    request.mutable_snapshot()->add_nodes()->set_name("node-" +
                                                      std::to_string(i));
  }
  ASSERT_GT(request.ByteSizeLong(), 1024u);
  grpc::ClientContext context;
  SetDeadline(context);
  v1::DecideResponse response;
  const grpc::Status status = v1::DaemonSetScheduler::NewStub(Connect(*server_))
                                  ->Decide(&context, request, &response);
  EXPECT_THAT(status, GrpcStatusIs(grpc::StatusCode::RESOURCE_EXHAUSTED));
}

// Request bytes in flight have a budget: a call that does not fit beside
// the one being handled is answered RESOURCE_EXHAUSTED at once; once the
// first is done, calls fit again, and one larger than the whole budget
// runs when it is alone.
TEST_F(GrpcLimitsTest, RequestBytesInFlightOverTheBudgetAreResourceExhausted) {
  const size_t size = ValidDecideRequest().ByteSizeLong();
  ServerOptions options = LocalOptions();
  options.max_request_bytes_in_flight = static_cast<int64_t>(size + size / 2);
  server_ = StartServer(options, clock_.Clock());
  ASSERT_NE(server_, nullptr);
  auto stub = v1::DaemonSetScheduler::NewStub(Connect(*server_));
  const auto decide = [&stub](const v1::DecideRequest& request) {
    grpc::ClientContext context;
    SetDeadline(context);
    v1::DecideResponse response;
    return stub->Decide(&context, request, &response);
  };

  clock_.Hold();
  std::future<grpc::Status> first = std::async(
      std::launch::async, [&] { return decide(ValidDecideRequest()); });
  ASSERT_TRUE(clock_.AwaitWaiting(1));
  const grpc::Status rejected = decide(ValidDecideRequest());
  EXPECT_THAT(rejected, GrpcStatusIs(grpc::StatusCode::RESOURCE_EXHAUSTED));
  EXPECT_THAT(rejected.error_message(), HasSubstr("request_bytes_in_flight"));
  clock_.Release();
  EXPECT_TRUE(first.get().ok());

  EXPECT_TRUE(decide(ValidDecideRequest()).ok());
  v1::DecideRequest large = ValidDecideRequest();
  for (int i = 0; i < 10; ++i) {
    large.mutable_snapshot()->add_nodes()->set_name("n-" + std::to_string(i));
  }
  ASSERT_GT(large.ByteSizeLong(), size + size / 2);
  const grpc::Status alone = decide(large);
  EXPECT_THAT(alone, GrpcStatusIs(grpc::StatusCode::OK));
}

// One connection may have Http2Options::max_concurrent_streams calls open;
// the client queues the next one, which never reaches the service.
TEST_F(GrpcLimitsTest, StreamsPerConnectionAreLimited) {
  ServerOptions options = LocalOptions();
  options.http2.max_concurrent_streams = 1;
  server_ = StartServer(options, clock_.Clock());
  ASSERT_NE(server_, nullptr);
  auto stub = v1::DaemonSetScheduler::NewStub(Connect(*server_));
  clock_.Hold();
  std::future<grpc::Status> first = std::async(std::launch::async, [&stub] {
    grpc::ClientContext context;
    SetDeadline(context);
    v1::DecideResponse response;
    return stub->Decide(&context, ValidDecideRequest(), &response);
  });
  ASSERT_TRUE(clock_.AwaitWaiting(1));

  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(500));
  v1::DecideResponse response;
  EXPECT_THAT(stub->Decide(&context, ValidDecideRequest(), &response),
              GrpcStatusIs(grpc::StatusCode::DEADLINE_EXCEEDED));
  AwaitServerSide();
  EXPECT_EQ(clock_.reads(), 1);  // the second call never reached dsd
  clock_.Release();
  EXPECT_TRUE(first.get().ok());
}

TEST_F(GrpcLimitsTest, TooManyNodesIsResourceExhaustedWithQuotaFailure) {
  ServerOptions options = LocalOptions();
  options.service.max_nodes = 1;
  server_ = StartServer(options);
  ASSERT_NE(server_, nullptr);

  v1::DecideRequest request = ValidDecideRequest();
  request.mutable_snapshot()->add_nodes()->set_name("n2");
  grpc::ClientContext context;
  SetDeadline(context);
  v1::DecideResponse response;
  const grpc::Status status = v1::DaemonSetScheduler::NewStub(Connect(*server_))
                                  ->Decide(&context, request, &response);
  ASSERT_THAT(status, GrpcStatusIs(grpc::StatusCode::RESOURCE_EXHAUSTED));
  const google::rpc::Status details = StatusDetails(status);
  ASSERT_EQ(details.details_size(), 1);
  ASSERT_EQ(details.details(0).type_url(), kQuotaFailureUrl);
  google::rpc::QuotaFailure quota;
  ASSERT_TRUE(details.details(0).UnpackTo(&quota));
  ASSERT_EQ(quota.violations_size(), 1);
  EXPECT_THAT(quota.violations(0).subject(), StartsWith("snapshot."));
}

}  // namespace
}  // namespace dsd::transport
