// Metrics: the exposition text after a few recorded calls, and the HTTP
// endpoint that serves it.
#include "server/transport/metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "server/transport/metrics_server.h"
#include "tests/testing/sanitizers.h"
#include "tests/testing/status_matchers.h"

namespace dsd::transport {
namespace {

using ::dsd::testing::IsOk;
using ::dsd::testing::StatusIs;

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

// The value of the unlabelled sample `name` in `text`; -1 when absent.
double Sample(const std::string& text, const std::string& name) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(name + " ", 0) == 0)
      return std::stod(line.substr(name.size()));
  }
  return -1;
}

// dsd_heap_in_use_bytes follows what malloc has handed out: 64 MiB held
// shows, and is gone once freed.
TEST(MetricsTest, HeapInUseFollowsAllocations) {
  if (::dsd::testing::UnderSanitizerAllocator()) {
    GTEST_SKIP() << "a sanitizer's allocator is not glibc's: mallinfo2 is 0";
  }
  constexpr size_t kHeld = size_t{64} << 20;
  const Metrics metrics;
  const double before = Sample(metrics.RenderText(), "dsd_heap_in_use_bytes");
  ASSERT_GT(before, 0);
  auto held = std::make_unique<char[]>(kHeld);
  held[kHeld - 1] = 1;
  // The compiler may not drop the allocation: the pointer escapes.
  asm volatile("" : : "r"(held.get()) : "memory");
  const double during = Sample(metrics.RenderText(), "dsd_heap_in_use_bytes");
  held.reset();
  const double after = Sample(metrics.RenderText(), "dsd_heap_in_use_bytes");
  EXPECT_GE(during - before, static_cast<double>(kHeld));
  EXPECT_LT(after, during - static_cast<double>(kHeld) / 2);
}

TEST(MethodNameTest, ProtoNames) {
  EXPECT_EQ(MethodName(Method::kDecide), "Decide");
  EXPECT_EQ(MethodName(Method::kExplain), "Explain");
  EXPECT_EQ(MethodName(Method::kValidate), "Validate");
  EXPECT_EQ(MethodName(Method::kFilter), "Filter");
  EXPECT_EQ(MethodName(Method::kUnknown), "unknown");
}

// Each case gets its own endpoint on an OS-chosen loopback port.
class MetricsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<MetricsServer>> server =
        MetricsServer::Start("127.0.0.1:0", metrics_);
    ASSERT_THAT(server, IsOk());
    server_ = *std::move(server);
    ASSERT_GT(server_->Port(), 0);
  }

  int port() const { return server_->Port(); }

  Metrics metrics_;
  std::unique_ptr<MetricsServer> server_;
};

TEST_F(MetricsServerTest, ServesMetricsOnlyAtSlashMetrics) {
  metrics_.CallStarted();
  metrics_.CallFinished(Method::kExplain, grpc::StatusCode::OK,
                        absl::Milliseconds(2), 5);

  httplib::Client client("127.0.0.1", port());
  const httplib::Result ok = client.Get("/metrics");
  ASSERT_TRUE(ok) << httplib::to_string(ok.error());
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->get_header_value("Content-Type"), "text/plain; version=0.0.4");
  EXPECT_THAT(ok->body, HasSubstr("dsd_requests_total{method=\"Explain\","
                                  "code=\"OK\"} 1\n"));

  const httplib::Result missing = client.Get("/");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);

  server_->Stop();
  server_->Stop();  // idempotent
}

// A plain TCP connection to 127.0.0.1:port (-1 on failure): a client
// that sends nothing, or what the test writes.
int ConnectTcp(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) !=
      0) {
    close(fd);
    return -1;
  }
  return fd;
}

// A client that sends one byte of a request every 300 ms until the
// server closes the connection (or 30 s pass); how long it was held.
class SlowClient {
 public:
  explicit SlowClient(int port)
      : thread_([this, port] {
          const std::string request =
              "GET /metrics HTTP/1.1\r\nX-Slow: " + std::string(1000, 'x') +
              "\r\n\r\n";
          const int fd = ConnectTcp(port);
          const auto start = std::chrono::steady_clock::now();
          for (size_t i = 0; fd >= 0 && i < request.size(); ++i) {
            if (send(fd, &request[i], 1, MSG_NOSIGNAL) != 1) break;
            if (std::chrono::steady_clock::now() - start >
                std::chrono::seconds(30)) {
              break;
            }
            // The server closed: a read sees EOF at once.
            pollfd p = {fd, POLLIN, 0};
            if (poll(&p, 1, 300) > 0) break;
          }
          held_ = std::chrono::steady_clock::now() - start;
          if (fd >= 0) close(fd);
        }) {}
  ~SlowClient() { Join(); }
  std::chrono::steady_clock::duration Join() {
    if (thread_.joinable()) thread_.join();
    return held_;
  }

 private:
  std::chrono::steady_clock::duration held_{};
  std::thread thread_;
};

// Four connections that send nothing and one sending a byte every 300 ms
// do not keep a scrape waiting (the old endpoint, one worker and a 5 s
// read timeout per connection, took 20 s).
TEST_F(MetricsServerTest, ScrapeIsServedWhileIdleAndSlowClientsAreConnected) {
  std::vector<int> idle;
  for (int i = 0; i < 4; ++i) idle.push_back(ConnectTcp(port()));
  SlowClient slow(port());

  httplib::Client client("127.0.0.1", port());
  client.set_read_timeout(10, 0);  // generous; the old endpoint needed 20 s
  const httplib::Result result = client.Get("/metrics");
  ASSERT_TRUE(result) << httplib::to_string(result.error());
  EXPECT_EQ(result->status, 200);
  EXPECT_THAT(result->body, HasSubstr("dsd_requests_in_flight 0\n"));
  for (const int fd : idle) close(fd);
}

// A client sending one byte every 300 ms is cut at the whole-request
// deadline (5 s by default), not held as long as it keeps sending.
TEST_F(MetricsServerTest, SlowClientIsCutAtTheRequestDeadline) {
  SlowClient slow(port());
  // Far below the 300 s the request would take, far above the deadline.
  EXPECT_LT(slow.Join(), std::chrono::seconds(20));
}

// Stop cuts connections that are idle, slow or queued: it never waits for
// a client.
TEST_F(MetricsServerTest, StopDoesNotWaitForClients) {
  std::vector<int> idle;
  for (int i = 0; i < 8; ++i) idle.push_back(ConnectTcp(port()));
  SlowClient slow(port());
  const auto start = std::chrono::steady_clock::now();
  server_->Stop();
  // Immediate by design; 3 s only absorbs a loaded machine.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  for (const int fd : idle) close(fd);
}

// A second endpoint on the same port fails (no SO_REUSEPORT sharing).
TEST_F(MetricsServerTest, PortInUseIsUnavailable) {
  const std::string address = "127.0.0.1:" + std::to_string(port());
  absl::StatusOr<std::unique_ptr<MetricsServer>> second =
      MetricsServer::Start(address, metrics_);
  EXPECT_THAT(second, StatusIs(absl::StatusCode::kUnavailable,
                               HasSubstr("address already in use")));
}

struct HttpCase {
  const char* name;
  std::string request;
  const char* status_line;
};

// What is not a scrape gets an HTTP error, not the metrics.
TEST_F(MetricsServerTest, AnswersOtherRequestsWithHttpErrors) {
  const HttpCase cases[] = {
      {"OtherPath", "GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 404 "},
      {"OtherMethod", "POST /metrics HTTP/1.1\r\n\r\n", "HTTP/1.1 405 "},
      {"NotHttp", "hello there\r\n\r\n", "HTTP/1.1 400 "},
      {"HeadTooLarge",
       "GET /metrics HTTP/1.1\r\nX: " + std::string(20000, 'x') + "\r\n\r\n",
       "HTTP/1.1 431 "},
      {"Query", "GET /metrics?x=1 HTTP/1.0\r\n\r\n", "HTTP/1.1 200 "},
  };
  for (const HttpCase& c : cases) {
    SCOPED_TRACE(c.name);
    const int fd = ConnectTcp(port());
    ASSERT_GE(fd, 0);
    send(fd, c.request.data(), c.request.size(), MSG_NOSIGNAL);
    std::string response;
    char buffer[4096];
    pollfd p = {fd, POLLIN, 0};
    while (poll(&p, 1, 10000) > 0) {
      const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
      if (n <= 0) break;
      response.append(buffer, static_cast<size_t>(n));
    }
    close(fd);
    EXPECT_THAT(response, ::testing::StartsWith(c.status_line)) << response;
  }
}

TEST(MetricsServerStartTest, RejectsAnAddressWithoutPort) {
  const Metrics metrics;
  for (const char* address : {"127.0.0.1", "", "localhost:http", ":70000"}) {
    SCOPED_TRACE(address);
    EXPECT_THAT(MetricsServer::Start(address, metrics),
                StatusIs(absl::StatusCode::kInvalidArgument));
  }
}

}  // namespace
}  // namespace dsd::transport
