// dsd-server, the binary (server/transport/main.cc): exit codes for bad
// flags and a port in use, the drain on SIGTERM (lame duck, grace, a call
// that outlives the grace), --help. Each case runs the real binary on
// 127.0.0.1 with an OS-chosen port. Timing bounds are generous (seconds
// over what the flags allow): they catch a drain that waits for a call,
// not a slow machine.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <future>
#include <ostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "dsd/v1/dsd.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "tests/testing/param_name.h"
#include "tests/testing/sanitizers.h"
#include "tests/testing/status_matchers.h"
#include "tests/transport/server_process.h"
#include "tests/transport/test_util.h"

namespace dsd::transport {
namespace {

using ::dsd::testing::GrpcStatusIs;

using ::dsd::transport::testing::ServerProcess;
using ::dsd::transport::testing::ValidDecideRequest;
using ::grpc::health::v1::HealthCheckResponse;
using ::testing::HasSubstr;
using ::testing::Not;

// Generous: a loaded 2-core machine and an ASan build start slowly.
constexpr std::chrono::seconds kStartTimeout{30};

struct BadFlagCase {
  const char* name;
  std::vector<std::string> args;
  const char* message_part;
};

// ctest lists cases by name, not as bytes.
void PrintTo(const BadFlagCase& c, std::ostream* os) { *os << c.name; }

class BadFlagsTest : public ::testing::TestWithParam<BadFlagCase> {};

const BadFlagCase kBadFlagCases[] = {
    {"UnknownFlag", {"--no_such_flag=1"}, "no_such_flag"},
    {"NegativeThreads", {"--threads=-1"}, "--threads"},
    {"ThreadsNotANumber", {"--threads=many"}, "--threads"},
    {"ThreadsWithoutValue", {"--threads"}, "--threads"},
    {"NegativeGrace", {"--shutdown_grace=-1"}, "--shutdown_grace"},
    {"UnknownLogFormat", {"--log_format=xml"}, "--log_format"},
    {"PositionalArgument", {"extra"}, "unexpected argument"},
    {"EmptyListen", {"--listen="}, "--listen"},
};

// Usage errors exit 2 with a line naming the flag, before listening.
TEST_P(BadFlagsTest, ExitTwoNamingTheProblem) {
  const BadFlagCase& c = GetParam();
  ServerProcess server(c.args);
  ASSERT_TRUE(server.started());
  EXPECT_EQ(server.WaitForExit(kStartTimeout), 2);
  EXPECT_THAT(server.Stderr(), HasSubstr(c.message_part));
  EXPECT_THAT(server.Stderr(), Not(HasSubstr("listening on")));
}

INSTANTIATE_TEST_SUITE_P(Main, BadFlagsTest, ::testing::ValuesIn(kBadFlagCases),
                         dsd::testing::ParamName<BadFlagCase>);

// A second server on a served port must not start and share the traffic
// (SO_REUSEPORT would let it): it exits 1 naming the address.
TEST(MainTest, SecondServerOnAServedPortExitsOne) {
  ServerProcess first({"--listen=127.0.0.1:0"});
  const std::string address = first.WaitForAddress(kStartTimeout);
  ASSERT_FALSE(address.empty()) << first.Stderr();

  ServerProcess second({"--listen=" + address});
  EXPECT_EQ(second.WaitForExit(kStartTimeout), 1) << second.Stderr();
  EXPECT_THAT(second.Stderr(), HasSubstr("cannot listen on " + address +
                                         ": address already in use"));
  EXPECT_TRUE(first.running());
}

using Clock = std::chrono::steady_clock;

std::shared_ptr<grpc::Channel> Connect(const std::string& address) {
  return grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
}

// grpc.health.v1 Check of the overall status; nullopt when the call fails.
std::optional<HealthCheckResponse::ServingStatus> Health(
    const std::shared_ptr<grpc::Channel>& channel) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(10));
  grpc::health::v1::HealthCheckResponse response;
  const grpc::Status status = grpc::health::v1::Health::NewStub(channel)->Check(
      &context, grpc::health::v1::HealthCheckRequest(), &response);
  if (!status.ok()) return std::nullopt;
  return response.status();
}

grpc::Status Decide(const std::shared_ptr<grpc::Channel>& channel,
                    const v1::DecideRequest& request,
                    std::chrono::seconds timeout = std::chrono::seconds(60)) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + timeout);
  v1::DecideResponse response;
  return v1::DaemonSetScheduler::NewStub(channel)->Decide(&context, request,
                                                          &response);
}

// A request that keeps the engine busy for seconds within every limit and
// per-object cap: 20,000 nodes and 5,000 DaemonSets, each with its own
// nodeSelector (so no two share an evaluation), which no node matches:
// 100 million node evaluations. (Its first form, a 200,000-value In list,
// is now refused at the 100,000-value cap, and a long list costs a hash
// lookup a node.)
v1::DecideRequest SlowDecideRequest() {
  v1::DecideRequest request = ValidDecideRequest();
  v1::Snapshot& snapshot = *request.mutable_snapshot();
  for (int i = 0; i < 20000; ++i) {
    v1::Node& node = *snapshot.add_nodes();
    node.set_name(absl::StrCat("node-", i));
    v1::Label& label = *node.add_labels();
    label.set_key("zone");
    label.set_value("z");
  }
  const v1::DaemonSet model = snapshot.daemon_sets(0);
  for (int i = 0; i < 5000; ++i) {
    v1::DaemonSet& ds = *snapshot.add_daemon_sets();
    ds = model;
    ds.set_name(absl::StrCat("ds-", i));
    ds.set_uid(absl::StrCat("uid-ds-", i));
    v1::Label& want = *ds.mutable_template_()->add_node_selector();
    want.set_key("zone");
    want.set_value(absl::StrCat("z-", i));
  }
  return request;
}

// Waits (up to 60 s) until dsd_requests_in_flight on `metrics_address`
// reads `count`.
bool AwaitInFlight(const std::string& metrics_address, int count) {
  const size_t colon = metrics_address.rfind(':');
  httplib::Client client(metrics_address.substr(0, colon),
                         std::stoi(metrics_address.substr(colon + 1)));
  const std::string line = absl::StrCat("dsd_requests_in_flight ", count, "\n");
  const auto end = Clock::now() + std::chrono::seconds(60);
  while (Clock::now() < end) {
    const httplib::Result result = client.Get("/metrics");
    if (result && result->body.find(line) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

// SIGTERM: health turns NOT_SERVING at once, calls are still served for
// --lameduck seconds (load balancers move away meanwhile), then the server
// drains and exits 0.
TEST(MainTest, SigtermServesThroughTheLameDuckPeriodWithHealthNotServing) {
  ServerProcess server(
      {"--listen=127.0.0.1:0", "--lameduck=3", "--shutdown_grace=5"});
  const std::string address = server.WaitForAddress(kStartTimeout);
  ASSERT_FALSE(address.empty()) << server.Stderr();
  const std::shared_ptr<grpc::Channel> channel = Connect(address);
  ASSERT_EQ(Health(channel), HealthCheckResponse::SERVING);

  const auto sigterm = Clock::now();
  server.Signal(SIGTERM);
  std::optional<HealthCheckResponse::ServingStatus> health;
  while (Clock::now() - sigterm < std::chrono::seconds(2)) {
    health = Health(channel);
    if (health != HealthCheckResponse::SERVING) break;
  }
  EXPECT_EQ(health, HealthCheckResponse::NOT_SERVING);
  // Still within the lame-duck period (3 s, the checks above take
  // milliseconds each): calls are served.
  const grpc::Status during = Decide(channel, ValidDecideRequest());
  EXPECT_THAT(during, GrpcStatusIs(grpc::StatusCode::OK));

  const std::optional<int> code = server.WaitForExit(std::chrono::seconds(30));
  EXPECT_EQ(code, 0) << server.Stderr();
  // lameduck + grace + 3 s; no call is running, so the drain itself is
  // quick.
  EXPECT_LT(Clock::now() - sigterm, std::chrono::seconds(3 + 5 + 3));
}

// A call still running when the grace period ends is cancelled, and the
// process exits even if the call does not stop: within lameduck + grace
// + 1 s by design, asserted with 3 s to spare.
TEST(MainTest, SigtermDuringALongCallExitsWithinTheGracePeriod) {
  ServerProcess server({"--listen=127.0.0.1:0", "--lameduck=0",
                        "--shutdown_grace=1", "--metrics_listen=127.0.0.1:0"});
  const std::string address = server.WaitForAddress(kStartTimeout);
  ASSERT_FALSE(address.empty()) << server.Stderr();
  const std::optional<std::string> metrics = server.WaitForStderr(
      R"(metrics on http://([0-9.]+:[0-9]+))", kStartTimeout);
  ASSERT_TRUE(metrics.has_value()) << server.Stderr();

  const std::shared_ptr<grpc::Channel> channel = Connect(address);
  std::future<grpc::Status> call = std::async(std::launch::async, [&channel] {
    return Decide(channel, SlowDecideRequest(), std::chrono::seconds(120));
  });
  ASSERT_TRUE(AwaitInFlight(*metrics, 1));

  const auto sigterm = Clock::now();
  server.Signal(SIGTERM);
  const std::optional<int> code = server.WaitForExit(std::chrono::seconds(30));
  const auto took = Clock::now() - sigterm;
  ASSERT_TRUE(code.has_value());
  // 0 when the call stopped once cancelled; 1 when it had to be abandoned.
  EXPECT_THAT(*code, ::testing::AnyOf(0, 1)) << server.Stderr();
  EXPECT_LT(took, std::chrono::seconds(0 + 1 + 3))
      << std::chrono::duration<double>(took).count() << " s\n"
      << server.Stderr();
  const grpc::Status status = call.get();
  // Cut by the drain, not refused up front.
  EXPECT_THAT(status, GrpcStatusIs(grpc::StatusCode::UNAVAILABLE));
}

// Drain under load: SIGTERM while clients keep sending. Every call either
// completes OK or is refused before it starts; none is cut mid-flight
// within the grace, so every call the server ran it answered OK, and the
// client received each of those answers. The server logs each call it runs
// (--log_level=debug), which tells a refusal (never logged) from a cut
// (logged with its code). Exit 0 within lameduck + grace + 1 s.
//
// A refusal is UNAVAILABLE, or CANCELLED for a call that crossed the
// server's GOAWAY on the wire: gRPC 1.51's core cancels such a call
// without handing it to dsd (README, "Running in production"). Either is
// safe to retry elsewhere; what the test pins is that dsd never ran it.
TEST(MainTest, SigtermUnderLoadCompletesOrRefusesEveryCall) {
  constexpr int kLameduckSeconds = 1;
  constexpr int kGraceSeconds = 5;
  ServerProcess server(
      {"--listen=127.0.0.1:0", absl::StrCat("--lameduck=", kLameduckSeconds),
       absl::StrCat("--shutdown_grace=", kGraceSeconds), "--log_level=debug"});
  const std::string address = server.WaitForAddress(kStartTimeout);
  ASSERT_FALSE(address.empty()) << server.Stderr();

  // Each call takes a few milliseconds of engine time, so calls are in
  // flight whenever the drain begins.
  v1::DecideRequest request = ValidDecideRequest();
  for (int i = 0; i < 2000; ++i) {
    v1::Node& node = *request.mutable_snapshot()->add_nodes();
    node.set_name(absl::StrCat("load-node-", i));
  }
  constexpr int kClients = 4;
  std::atomic<bool> exited{false};
  std::atomic<int> answered{0};
  std::vector<std::vector<grpc::StatusCode>> codes(kClients);
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      // One connection per client, as separate load-balanced clients.
      grpc::ChannelArguments args;
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      const std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(
          address, grpc::InsecureChannelCredentials(), args);
      // Each client goes on until it has seen the server gone: a client
      // whose calls all spanned the drain (each answered OK, the last just
      // before the exit) would otherwise stop without a refusal.
      for (bool refused = false; !(exited.load() && refused);) {
        const grpc::StatusCode code = Decide(channel, request).error_code();
        codes[c].push_back(code);
        refused = code != grpc::StatusCode::OK;
        answered.fetch_add(1);
      }
    });
  }
  const auto load_start = Clock::now();
  while (answered.load() < 20 &&
         Clock::now() - load_start < std::chrono::seconds(60)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_GE(answered.load(), 20) << server.Stderr();

  const auto sigterm = Clock::now();
  server.Signal(SIGTERM);
  const std::optional<int> code = server.WaitForExit(std::chrono::seconds(60));
  const auto took = Clock::now() - sigterm;
  if (!code) {  // failed below; gone, so that the clients see it gone
    server.Signal(SIGKILL);
    server.WaitForExit(std::chrono::seconds(60));
  }
  exited.store(true);
  for (std::thread& client : clients) client.join();

  EXPECT_EQ(code, 0) << server.Stderr();
  EXPECT_LT(took, std::chrono::seconds(kLameduckSeconds + kGraceSeconds + 1))
      << std::chrono::duration<double>(took).count() << " s";

  int client_ok = 0;
  int client_refused = 0;
  for (const std::vector<grpc::StatusCode>& client : codes) {
    for (const grpc::StatusCode c : client) {
      if (c == grpc::StatusCode::OK) ++client_ok;
      const bool refused = c == grpc::StatusCode::UNAVAILABLE ||
                           c == grpc::StatusCode::CANCELLED;
      if (refused) ++client_refused;
      EXPECT_TRUE(c == grpc::StatusCode::OK || refused)
          << "a call answered " << c;
    }
  }
  // Each client sent until it was refused (under ThreadSanitizer's
  // slowness, now and then across the GOAWAY: CANCELLED).
  EXPECT_GE(client_refused, kClients);

  int server_ok = 0;
  std::istringstream lines(server.Stderr());
  for (std::string line; std::getline(lines, line);) {
    if (line.find("rpc method=Decide ") == std::string::npos) continue;
    EXPECT_THAT(line, HasSubstr(" code=OK ")) << "cut mid-flight";
    if (line.find(" code=OK ") != std::string::npos) ++server_ok;
  }
  EXPECT_EQ(server_ok, client_ok)
      << "every call the server answered OK reached its client";
  EXPECT_GT(server_ok, 0);
}

// The process's anonymous resident memory (RssAnon) in KiB; -1 when
// unreadable.
int64_t RssAnonKib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("RssAnon:", 0) == 0) return std::stoll(line.substr(8));
  }
  return -1;
}

// After a burst of large requests, once idle, dsd-server hands the memory
// it freed back to the kernel. glibc alone keeps it in its arenas: 40 MB
// resident, 3 MB of it in use, after a few 5,000-node Decides.
TEST(MainTest, FreedMemoryIsReturnedOnceIdle) {
  if (::dsd::testing::UnderSanitizerAllocator()) {
    GTEST_SKIP() << "a sanitizer's allocator keeps freed memory by design";
  }
  ServerProcess server({"--listen=127.0.0.1:0", "--threads=2"});
  const std::string address = server.WaitForAddress(kStartTimeout);
  ASSERT_FALSE(address.empty()) << server.Stderr();
  const std::shared_ptr<grpc::Channel> channel = Connect(address);
  // Warm: the first call's one-time allocations are not the burst's.
  ASSERT_THAT(Decide(channel, ValidDecideRequest()),
              GrpcStatusIs(grpc::StatusCode::OK));
  const int64_t idle = RssAnonKib(server.pid());

  v1::DecideRequest request = ValidDecideRequest();
  for (int i = 0; i < 80000; ++i) {
    v1::Node& node = *request.mutable_snapshot()->add_nodes();
    node.set_name(absl::StrCat("burst-node-", i));
    v1::Label& label = *node.add_labels();
    label.set_key("topology.kubernetes.io/zone");
    label.set_value(absl::StrCat("zone-", i % 7));
  }
  std::vector<std::thread> senders;
  for (int t = 0; t < 2; ++t) {
    senders.emplace_back([&] {
      for (int i = 0; i < 3; ++i) {
        EXPECT_THAT(Decide(channel, request),
                    GrpcStatusIs(grpc::StatusCode::OK));
      }
    });
  }
  for (std::thread& sender : senders) sender.join();
  const int64_t kept = RssAnonKib(server.pid()) - idle;
  // Otherwise the burst was too small to show anything (glibc alone keeps
  // about 20 MB of it).
  ASSERT_GT(kept, 8 * 1024) << "KiB kept after the burst";

  int64_t now = kept;
  const auto end = Clock::now() + std::chrono::seconds(15);
  while (Clock::now() < end && now >= kept / 2) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    now = RssAnonKib(server.pid()) - idle;
  }
  EXPECT_LT(now, kept / 2) << "KiB above idle; " << kept
                           << " KiB right after the burst";
}

// Every line of `text` is one JSON object with time, level, logger and
// msg; returns how many lines came from `logger`.
int CountJsonLines(const std::string& text, const std::string& logger) {
  int from_logger = 0;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    const nlohmann::json object = nlohmann::json::parse(line, nullptr, false);
    EXPECT_TRUE(object.is_object()) << "not JSON: " << line;
    if (!object.is_object()) continue;
    for (const char* key : {"time", "level", "logger", "msg"}) {
      EXPECT_TRUE(object.contains(key)) << key << " missing: " << line;
    }
    if (object.value("logger", "") == logger) ++from_logger;
  }
  return from_logger;
}

// --log_format=json: every line on standard error is JSON, gRPC core's own
// lines included (GRPC_VERBOSITY=debug makes it write some at start-up,
// and a port in use makes it write errors), whatever the requests hold.
TEST(MainTest, JsonLogFormatWritesOnlyJsonLines) {
  const std::vector<std::string> env = {"GRPC_VERBOSITY=debug"};
  ServerProcess server(
      {"--listen=127.0.0.1:0", "--log_format=json", "--log_level=debug"}, env);
  const std::string address = server.WaitForAddress(kStartTimeout);
  ASSERT_FALSE(address.empty()) << server.Stderr();
  const std::shared_ptr<grpc::Channel> channel = Connect(address);
  EXPECT_TRUE(Decide(channel, ValidDecideRequest()).ok());
  v1::DecideRequest bad = ValidDecideRequest();
  v1::Label& label = *bad.mutable_snapshot()->mutable_nodes(0)->add_labels();
  label.set_key("a\nb\"c\x01");
  label.set_value("v");
  EXPECT_THAT(Decide(channel, bad),
              GrpcStatusIs(grpc::StatusCode::INVALID_ARGUMENT));

  ServerProcess second({"--listen=" + address, "--log_format=json"}, env);
  EXPECT_EQ(second.WaitForExit(kStartTimeout), 1);
  server.Signal(SIGTERM);
  EXPECT_EQ(server.WaitForExit(std::chrono::seconds(30)), 0);

  EXPECT_GT(CountJsonLines(server.Stderr(), "grpc"), 0) << server.Stderr();
  CountJsonLines(second.Stderr(), "grpc");
  EXPECT_THAT(second.Stderr(), HasSubstr("address already in use"));
}

}  // namespace
}  // namespace dsd::transport
