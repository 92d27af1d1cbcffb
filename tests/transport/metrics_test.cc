// Metrics: the exposition text after a few recorded calls, and the HTTP
// endpoint that serves it.
#include "server/transport/metrics.h"

#include <regex>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "server/transport/metrics_server.h"

namespace dsd::transport {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(MetricsTest, EmptyMetricsRenderZeroes) {
  const Metrics metrics;
  const std::string text = metrics.RenderText();
  EXPECT_THAT(text, Not(HasSubstr("dsd_requests_total{")));
  EXPECT_THAT(text, HasSubstr("# TYPE dsd_requests_total counter\n"));
  EXPECT_THAT(text,
              HasSubstr("# TYPE dsd_request_duration_seconds histogram\n"));
  EXPECT_THAT(text, HasSubstr("dsd_request_duration_seconds_count{method="
                              "\"Filter\"} 0\n"));
  EXPECT_THAT(text,
              HasSubstr("dsd_request_bytes_total{method=\"Explain\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("dsd_requests_in_flight 0\n"));
}

TEST(MetricsTest, CountsCallsByMethodAndCode) {
  Metrics metrics;
  for (int i = 0; i < 3; ++i) metrics.CallStarted();
  metrics.CallFinished(Method::kDecide, grpc::StatusCode::OK,
                       absl::Milliseconds(3), 100);
  metrics.CallFinished(Method::kDecide, grpc::StatusCode::INVALID_ARGUMENT,
                       absl::Milliseconds(1), 20);

  const std::string text = metrics.RenderText();
  EXPECT_THAT(
      text, HasSubstr("dsd_requests_total{method=\"Decide\",code=\"OK\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("dsd_requests_total{method=\"Decide\",code="
                              "\"INVALID_ARGUMENT\"} 1\n"));
  EXPECT_THAT(text,
              HasSubstr("dsd_request_bytes_total{method=\"Decide\"} 120\n"));
  // One call is still running.
  EXPECT_THAT(text, HasSubstr("dsd_requests_in_flight 1\n"));
}

TEST(MetricsTest, HistogramBucketsAreCumulativeAndInclusive) {
  Metrics metrics;
  metrics.CallStarted();
  metrics.CallStarted();
  metrics.CallStarted();
  // A bucket counts durations <= its bound ("le").
  metrics.CallFinished(Method::kValidate, grpc::StatusCode::OK,
                       absl::Milliseconds(1), 0);
  metrics.CallFinished(Method::kValidate, grpc::StatusCode::OK,
                       absl::Milliseconds(30), 0);
  metrics.CallFinished(Method::kValidate, grpc::StatusCode::OK,
                       absl::Seconds(60), 0);

  const std::string text = metrics.RenderText();
  const std::string prefix =
      "dsd_request_duration_seconds_bucket{method=\"Validate\",le=";
  EXPECT_THAT(text, HasSubstr(prefix + "\"0.001\"} 1\n"));
  EXPECT_THAT(text, HasSubstr(prefix + "\"0.025\"} 1\n"));
  EXPECT_THAT(text, HasSubstr(prefix + "\"0.05\"} 2\n"));
  EXPECT_THAT(text, HasSubstr(prefix + "\"10\"} 2\n"));
  EXPECT_THAT(text, HasSubstr(prefix + "\"+Inf\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("dsd_request_duration_seconds_sum{method="
                              "\"Validate\"} 60.031\n"));
  EXPECT_THAT(text, HasSubstr("dsd_request_duration_seconds_count{method="
                              "\"Validate\"} 3\n"));
}

TEST(MetricsTest, EveryLineIsACommentOrASample) {
  Metrics metrics;
  metrics.CallStarted();
  metrics.CallFinished(Method::kFilter, grpc::StatusCode::INTERNAL,
                       absl::Microseconds(10), 7);
  // The text format 0.0.4: "# HELP|TYPE ..." or name{labels} value.
  const std::regex sample(
      R"(^[a-z_]+(\{[a-z]+="[^"]*"(,[a-z]+="[^"]*")*\})? [0-9.e+-]+$)");
  const std::regex comment(R"(^# (HELP|TYPE) [a-z_]+ .+$)");
  std::istringstream lines(metrics.RenderText());
  int count = 0;
  for (std::string line; std::getline(lines, line);) {
    ++count;
    EXPECT_TRUE(std::regex_match(line, sample) ||
                std::regex_match(line, comment))
        << line;
  }
  EXPECT_GT(count, 60);
}

TEST(MethodNameTest, ProtoNames) {
  EXPECT_EQ(MethodName(Method::kDecide), "Decide");
  EXPECT_EQ(MethodName(Method::kExplain), "Explain");
  EXPECT_EQ(MethodName(Method::kValidate), "Validate");
  EXPECT_EQ(MethodName(Method::kFilter), "Filter");
  EXPECT_EQ(MethodName(Method::kUnknown), "unknown");
}

TEST(MetricsServerTest, ServesMetricsOnlyAtSlashMetrics) {
  Metrics metrics;
  metrics.CallStarted();
  metrics.CallFinished(Method::kExplain, grpc::StatusCode::OK,
                       absl::Milliseconds(2), 5);
  absl::StatusOr<std::unique_ptr<MetricsServer>> server =
      MetricsServer::Start("127.0.0.1:0", metrics);
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_GT((*server)->Port(), 0);

  httplib::Client client("127.0.0.1", (*server)->Port());
  const httplib::Result ok = client.Get("/metrics");
  ASSERT_TRUE(ok) << httplib::to_string(ok.error());
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->get_header_value("Content-Type"), "text/plain; version=0.0.4");
  EXPECT_THAT(ok->body, HasSubstr("dsd_requests_total{method=\"Explain\","
                                  "code=\"OK\"} 1\n"));

  const httplib::Result missing = client.Get("/");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);

  (*server)->Stop();
  (*server)->Stop();  // idempotent
}

TEST(MetricsServerTest, RejectsAnAddressWithoutPort) {
  const Metrics metrics;
  for (const char* address : {"127.0.0.1", "", "localhost:http", ":70000"}) {
    SCOPED_TRACE(address);
    EXPECT_EQ(MetricsServer::Start(address, metrics).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace dsd::transport
