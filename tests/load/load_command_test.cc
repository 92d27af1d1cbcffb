// `dsdctl load` against a real dsd-server (in-process, 127.0.0.1, an
// OS-chosen port): every method in the closed and the open loop completes
// without errors and reports well-formed JSON; an unreachable server is
// counted as UNAVAILABLE errors with exit code 3; non-loopback targets are
// refused; --write-request writes the synthetic request's bytes. No timing
// assertions beyond the ordering of the percentiles.
#include "client/load/load_command.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <streambuf>
#include <string>
#include <thread>

#include "tests/testing/local_server.h"
#include "tests/testing/param_name.h"
#include "tests/testing/status_matchers.h"

namespace dsd::client {
namespace {

using ::dsd::testing::IsOk;

struct CommandRun {
  int code = -1;
  std::string out;
  std::string err;
};

CommandRun RunWith(const ConnectionOptions& connection,
                   const LoadCommandOptions& options) {
  std::ostringstream out, err;
  CommandRun r;
  r.code = RunLoad(connection, options, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

// Small and quick: ~200 requests or one second, a 100-node cluster.
LoadCommandOptions SmokeOptions(LoadMethod method, bool open_loop) {
  LoadCommandOptions o;
  o.load.method = method;
  o.load.duration_seconds = 1;
  o.load.requests = 200;
  o.load.concurrency = 4;
  o.load.rate = open_loop ? 400 : 0;
  o.cluster.nodes = 100;
  o.cluster.daemon_sets = 5;
  o.format = LoadReportFormat::kJson;
  return o;
}

std::string TempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("dsd_load_test_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The stable keys of the JSON report, and the sanity of their values.
void ExpectWellFormedReport(const nlohmann::json& r) {
  for (const char* key :
       {"method", "requests", "errors", "duration_seconds", "qps", "latency_ms",
        "request_bytes", "response_bytes_total", "concurrency", "rate",
        "channels"}) {
    ASSERT_TRUE(r.contains(key)) << key << " missing in " << r.dump();
  }
  ASSERT_TRUE(r["errors"].is_object());
  const nlohmann::json& l = r["latency_ms"];
  for (const char* key : {"p50", "p90", "p99", "p999", "max"}) {
    ASSERT_TRUE(l.contains(key)) << key << " missing in " << l.dump();
  }
  EXPECT_LE(l["p50"].get<double>(), l["p90"].get<double>());
  EXPECT_LE(l["p90"].get<double>(), l["p99"].get<double>());
  EXPECT_LE(l["p99"].get<double>(), l["p999"].get<double>());
  EXPECT_LE(l["p999"].get<double>(), l["max"].get<double>());
  EXPECT_GT(r["duration_seconds"].get<double>(), 0);
}

class LoadCommandTest : public testing::LocalServerTest {};

// --- Smoke: every method, closed and open loop -----------------------------

struct SmokeCase {
  std::string name;
  LoadMethod method;
  bool open_loop;
};

void PrintTo(const SmokeCase& c, std::ostream* os) { *os << c.name; }

class LoadSmokeTest : public LoadCommandTest,
                      public ::testing::WithParamInterface<SmokeCase> {};

TEST_P(LoadSmokeTest, CompletesWithoutErrorsAndReportsJson) {
  const SmokeCase& c = GetParam();
  const CommandRun r =
      RunWith(Connection(), SmokeOptions(c.method, c.open_loop));
  ASSERT_EQ(r.code, 0) << r.err;
  const auto report = nlohmann::json::parse(r.out);
  ExpectWellFormedReport(report);
  EXPECT_EQ(report["method"], LoadMethodName(c.method));
  EXPECT_TRUE(report["errors"].empty()) << report["errors"].dump();
  EXPECT_GT(report["requests"].get<int64_t>(), 0);
  EXPECT_LE(report["requests"].get<int64_t>(), 200);
  EXPECT_EQ(report["ok"], report["requests"]);
  EXPECT_GT(report["qps"].get<double>(), 0);
  if (c.method != LoadMethod::kValidate) {  // no violations: 0 bytes
    EXPECT_GT(report["response_bytes_total"].get<int64_t>(), 0);
  }
  EXPECT_EQ(report["channels"], 1);
  if (c.open_loop) {
    EXPECT_EQ(report["rate"], 400.0);
    EXPECT_EQ(report["concurrency"], 0);
  } else {
    EXPECT_EQ(report["rate"], 0.0);
    EXPECT_EQ(report["concurrency"], 4);
  }
  if (c.method == LoadMethod::kHealth) {
    EXPECT_EQ(report["request_bytes"], 0);  // an empty HealthCheckRequest
  } else {
    EXPECT_GT(report["request_bytes"].get<int64_t>(), 0);
  }
  EXPECT_NE(r.err.find("elapsed"), std::string::npos) << r.err;  // progress
}

INSTANTIATE_TEST_SUITE_P(
    Methods, LoadSmokeTest,
    ::testing::Values(SmokeCase{"DecideClosed", LoadMethod::kDecide, false},
                      SmokeCase{"DecideOpen", LoadMethod::kDecide, true},
                      SmokeCase{"ValidateClosed", LoadMethod::kValidate, false},
                      SmokeCase{"ValidateOpen", LoadMethod::kValidate, true},
                      SmokeCase{"ExplainClosed", LoadMethod::kExplain, false},
                      SmokeCase{"ExplainOpen", LoadMethod::kExplain, true},
                      SmokeCase{"HealthClosed", LoadMethod::kHealth, false},
                      SmokeCase{"HealthOpen", LoadMethod::kHealth, true}),
    dsd::testing::ParamName<SmokeCase>);

TEST_F(LoadCommandTest, SeveralChannelsAndWarmupWithATableReport) {
  LoadCommandOptions o = SmokeOptions(LoadMethod::kDecide, false);
  o.load.channels = 3;
  o.load.warmup_seconds = 0.2;
  o.load.requests = 30;
  // The 30 requests end the run, whatever the machine's speed (1 s was not
  // always enough under ASan on a loaded machine: 12-19 of 30 completed).
  o.load.duration_seconds = 120;
  o.format = LoadReportFormat::kTable;
  const CommandRun r = RunWith(Connection(), o);
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* text :
       {"closed loop, concurrency 4", "3 channels", "30 (30 ok, 0 errors)",
        "p99.9", "warm-up", "request bytes"}) {
    EXPECT_NE(r.out.find(text), std::string::npos) << text << "\n" << r.out;
  }
}

TEST_F(LoadCommandTest, UserFilesInsteadOfTheSyntheticCluster) {
  LoadCommandOptions o = SmokeOptions(LoadMethod::kDecide, false);
  o.input.files = {std::string(DSD_EXAMPLES_DIR) +
                   "/ssd-monitor/01-cluster.yaml"};
  o.input.now = "2026-01-02T03:00:00Z";
  o.load.requests = 20;
  const CommandRun r = RunWith(Connection(), o);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["requests"], 20);
}

// Every send falling due while the one allowed call is in flight is
// dropped: a 1000-node Decide takes far longer than the 0.1 ms between sends.
TEST_F(LoadCommandTest, OpenLoopDropsAtMaxInFlightExitFour) {
  LoadCommandOptions o;
  o.load.rate = 10'000;
  o.load.max_in_flight = 1;
  o.load.requests = 200;
  o.load.duration_seconds = 5;
  o.format = LoadReportFormat::kJson;
  const CommandRun r = RunWith(Connection(), o);
  EXPECT_EQ(r.code, kExitLoadErrors) << r.err;
  const auto report = nlohmann::json::parse(r.out);
  ExpectWellFormedReport(report);
  EXPECT_GT(report["dropped"].get<int64_t>(), 0);
  EXPECT_TRUE(report["errors"].empty());
  EXPECT_NE(r.err.find("--max_in_flight"), std::string::npos) << r.err;
}

// --- No server ---------------------------------------------------------------

TEST(LoadUnreachableTest, StoppedServerCountsUnavailableAndExitsThree) {
  transport::ServerOptions options;
  options.listen = "127.0.0.1:0";
  auto server = transport::Server::Start(options);
  ASSERT_THAT(server, IsOk());
  ConnectionOptions c;
  c.server = "127.0.0.1:" + std::to_string((*server)->Port());
  c.timeout_seconds = 5;
  (*server)->Shutdown(absl::ZeroDuration());
  server->reset();

  LoadCommandOptions o = SmokeOptions(LoadMethod::kHealth, false);
  o.load.requests = 0;
  o.load.duration_seconds = 10;  // stops after ~1 s: nothing answers
  const CommandRun r = RunWith(c, o);
  EXPECT_EQ(r.code, kExitServer) << r.err;
  const auto report = nlohmann::json::parse(r.out);
  ExpectWellFormedReport(report);
  EXPECT_EQ(report["ok"], 0);
  ASSERT_TRUE(report["errors"].contains("UNAVAILABLE")) << report.dump();
  EXPECT_GT(report["errors"]["UNAVAILABLE"].get<int64_t>(), 0);
  EXPECT_EQ(report["errors"]["UNAVAILABLE"], report["requests"]);
  EXPECT_TRUE(report["stopped_unusable"].get<bool>());
  EXPECT_NE(r.err.find(c.server), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Is it running?"), std::string::npos) << r.err;
}

// An ostream whose text another thread may read while it is written (the
// load's progress lines).
class SharedText : public std::streambuf {
 public:
  std::string Text() {
    std::lock_guard<std::mutex> lock(mu_);
    return text_;
  }

 protected:
  int_type overflow(int_type c) override {
    if (c != traits_type::eof()) {
      std::lock_guard<std::mutex> lock(mu_);
      text_ += static_cast<char>(c);
    }
    return c;
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    std::lock_guard<std::mutex> lock(mu_);
    text_.append(s, static_cast<size_t>(n));
    return n;
  }

 private:
  std::mutex mu_;
  std::string text_;
};

// A server that dies mid-run: after --max_unavailable UNAVAILABLE answers
// in a row the run stops (instead of failing calls at loopback speed until
// --duration), exit code 3, naming the address.
TEST(LoadUnreachableTest, ServerDyingMidRunStopsTheRunAndExitsThree) {
  transport::ServerOptions options;
  options.listen = "127.0.0.1:0";
  auto server = transport::Server::Start(options);
  ASSERT_THAT(server, IsOk());
  ConnectionOptions c;
  c.server = "127.0.0.1:" + std::to_string((*server)->Port());
  c.timeout_seconds = 5;

  LoadCommandOptions o = SmokeOptions(LoadMethod::kHealth, false);
  o.load.requests = 0;
  o.load.duration_seconds = 120;
  o.load.progress_interval_seconds = 0.02;
  o.load.max_consecutive_unavailable = 50;
  SharedText err_text;
  std::ostream err(&err_text);
  std::ostringstream out;
  int code = -1;
  const auto start = std::chrono::steady_clock::now();
  std::thread run([&] { code = RunLoad(c, o, out, err); });
  // Wait (bounded) until calls have succeeded, then stop the server.
  const std::regex some_requests("requests [1-9]");
  const auto succeeded = [&] {
    return std::regex_search(err_text.Text(), some_requests);
  };
  for (int i = 0; i < 3000 && !succeeded(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  (*server)->Shutdown(absl::ZeroDuration());
  server->reset();
  run.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();

  EXPECT_EQ(code, kExitServer) << err_text.Text();
  EXPECT_LT(seconds, 60) << "the run went on after the server died";
  const auto report = nlohmann::json::parse(out.str());
  EXPECT_GT(report["ok"].get<int64_t>(), 0) << report.dump();
  EXPECT_TRUE(report["stopped_unusable"].get<bool>()) << report.dump();
  EXPECT_GE(report["max_consecutive_unavailable"].get<int64_t>(), 50);
  const std::string text = err_text.Text();
  EXPECT_NE(text.find("dsd-server at " + c.server + " stopped answering"),
            std::string::npos)
      << text;
}

TEST(LoadExitCodeTest, StoppedUnusableAfterSuccessesIsThree) {
  LoadResult r;
  r.ok = 1000;
  r.errors = {{"UNAVAILABLE", 100}};
  r.stopped_unusable = true;
  EXPECT_EQ(LoadExitCode(r), kExitServer);
}

// --- Refusals and bad options (nothing is sent) ----------------------------

TEST(LoadRefusalTest, NonLoopbackTargetNeedsAllowRemote) {
  ConnectionOptions c;
  c.server = "10.1.2.3:50051";
  const CommandRun r = RunWith(c, SmokeOptions(LoadMethod::kHealth, false));
  EXPECT_EQ(r.code, kExitInput);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("not a loopback address"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--allow_remote"), std::string::npos) << r.err;
}

TEST(LoadRefusalTest, BadOptionsExitOne) {
  struct Row {
    const char* name;
    void (*mutate)(LoadCommandOptions&);
    const char* message;
  };
  const Row rows[] = {
      {"zero concurrency",
       [](LoadCommandOptions& o) { o.load.concurrency = 0; }, "--concurrency"},
      {"negative rate", [](LoadCommandOptions& o) { o.load.rate = -1; },
       "--rate"},
      {"zero duration",
       [](LoadCommandOptions& o) { o.load.duration_seconds = 0; },
       "--duration"},
      {"zero channels", [](LoadCommandOptions& o) { o.load.channels = 0; },
       "--channels"},
      {"negative warmup",
       [](LoadCommandOptions& o) { o.load.warmup_seconds = -1; }, "--warmup"},
      {"zero max unavailable",
       [](LoadCommandOptions& o) { o.load.max_consecutive_unavailable = 0; },
       "--max_unavailable"},
      {"mix over 1000",
       [](LoadCommandOptions& o) { o.cluster.missing_per_mille = 1001; },
       "per_mille"},
      {"missing file",
       [](LoadCommandOptions& o) { o.input.files = {"/nonexistent.yaml"}; },
       "nonexistent.yaml"},
      {"bad now",
       [](LoadCommandOptions& o) {
         o.input.files = {std::string(DSD_EXAMPLES_DIR) +
                          "/ssd-monitor/01-cluster.yaml"};
         o.input.now = "yesterday";
       },
       "--now"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    LoadCommandOptions o = SmokeOptions(LoadMethod::kDecide, false);
    row.mutate(o);
    const CommandRun r = RunWith(ConnectionOptions{}, o);
    EXPECT_EQ(r.code, kExitInput);
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find(row.message), std::string::npos) << r.err;
  }
}

TEST(LoadLoopbackTest, RecognisesLoopbackTargets) {
  struct Row {
    const char* target;
    bool loopback;
  };
  for (const Row& row :
       {Row{"127.0.0.1:50051", true}, Row{"127.1.2.3:1", true},
        Row{"localhost:50051", true}, Row{"LOCALHOST", true},
        Row{"[::1]:50051", true}, Row{"::1", true},
        Row{"dns:///localhost:50051", true},
        Row{"dns://8.8.8.8/127.0.0.1:50051", true},
        Row{"dns:localhost:50051", true},
        Row{"ipv4:127.0.0.1:1,127.0.0.2:2", true},
        Row{"ipv6:[::1]:50051", true}, Row{"unix:/tmp/dsd.sock", true},
        Row{"10.0.0.1:50051", false}, Row{"0.0.0.0:50051", false},
        Row{"dsd.prod.example.com:443", false},
        Row{"dns:///dsd.prod.example.com:443", false},
        Row{"localhost.example.com:1", false},
        // glibc resolves *.localhost through DNS.
        Row{"foo.localhost:50051", false},
        Row{"dns:///dsd.localhost:50051", false},
        Row{"ipv4:127.0.0.1:1,evil.localhost:2", false},
        Row{"ipv4:127.0.0.1:1,10.0.0.1:2", false},
        Row{"[2001:db8::1]:50051", false}, Row{"", false}}) {
    EXPECT_EQ(IsLoopbackTarget(row.target), row.loopback) << row.target;
  }
}

// --- Exit codes
// ---------------------------------------------------------------

TEST(LoadExitCodeTest, FollowsTheDocumentedTable) {
  struct Row {
    const char* name;
    LoadResult result;
    int code;
  };
  const auto result = [](int64_t ok, std::map<std::string, int64_t> errors,
                         int64_t dropped = 0, bool unusable = false) {
    LoadResult r;
    r.ok = ok;
    r.errors = std::move(errors);
    r.dropped = dropped;
    r.stopped_unusable = unusable;
    return r;
  };
  const Row rows[] = {
      {"all ok", result(10, {}), 0},
      {"nothing sent", result(0, {}), 0},
      {"some errors", result(10, {{"DEADLINE_EXCEEDED", 1}}), kExitLoadErrors},
      {"drops", result(10, {}, 3), kExitLoadErrors},
      {"nothing succeeded", result(0, {{"UNAVAILABLE", 5}}), kExitServer},
      {"mixed failures",
       result(0, {{"UNAVAILABLE", 5}, {"INVALID_ARGUMENT", 1}}), kExitServer},
      {"stopped unusable", result(0, {}, 0, true), kExitServer},
      {"request rejected", result(0, {{"INVALID_ARGUMENT", 4}}), kExitInput},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    EXPECT_EQ(LoadExitCode(row.result), row.code);
  }
}

// --- --write-request
// -----------------------------------------------------------

// Each --method name reaches the RPC of that name in dsd.proto (or the
// standard health service), so a method cannot silently load another.
TEST(LoadMethodTest, NamesMapToTheProtosMethods) {
  const struct {
    const char* name;
    const char* path;
  } kRows[] = {
      {"decide", "/dsd.v1.DaemonSetScheduler/Decide"},
      {"validate", "/dsd.v1.DaemonSetScheduler/Validate"},
      {"explain", "/dsd.v1.DaemonSetScheduler/Explain"},
      {"health", "/grpc.health.v1.Health/Check"},
  };
  const google::protobuf::ServiceDescriptor* service =
      v1::DecideRequest::descriptor()->file()->FindServiceByName(
          "DaemonSetScheduler");
  ASSERT_NE(service, nullptr);
  for (const auto& row : kRows) {
    LoadMethod method;
    ASSERT_TRUE(ParseLoadMethod(row.name, method)) << row.name;
    EXPECT_STREQ(LoadMethodName(method), row.name);
    EXPECT_STREQ(LoadMethodPath(method), row.path);
    const std::string path = row.path;
    if (path.rfind("/dsd.v1.", 0) == 0) {
      EXPECT_NE(service->FindMethodByName(path.substr(path.rfind('/') + 1)),
                nullptr)
          << row.path;
    }
  }
  LoadMethod unused;
  EXPECT_FALSE(ParseLoadMethod("filter", unused));
}

TEST(LoadWriteRequestTest, WritesTheSyntheticBytesAndSendsNothing) {
  LoadCommandOptions o = SmokeOptions(LoadMethod::kDecide, false);
  o.write_request = TempPath("decide.bin");
  ConnectionOptions c;
  c.server = "10.1.2.3:50051";  // never contacted, so not refused either
  const CommandRun r = RunWith(c, o);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(ReadFile(o.write_request),
            MakeSyntheticDecideRequest(o.cluster).SerializeAsString());
  std::filesystem::remove(o.write_request);
}

TEST(LoadWriteRequestTest, GrpcFrameAndValidateRequest) {
  LoadCommandOptions o = SmokeOptions(LoadMethod::kValidate, false);
  o.write_request = TempPath("validate.grpc");
  o.grpc_frame = true;
  ASSERT_EQ(RunWith(ConnectionOptions{}, o).code, 0);
  const std::string bytes = ReadFile(o.write_request);
  std::filesystem::remove(o.write_request);
  ASSERT_GT(bytes.size(), 5u);
  EXPECT_EQ(bytes[0], 0);  // not compressed
  const uint32_t length = (uint32_t{static_cast<uint8_t>(bytes[1])} << 24) |
                          (uint32_t{static_cast<uint8_t>(bytes[2])} << 16) |
                          (uint32_t{static_cast<uint8_t>(bytes[3])} << 8) |
                          uint32_t{static_cast<uint8_t>(bytes[4])};
  EXPECT_EQ(length, bytes.size() - 5);
  v1::ValidateRequest request;
  ASSERT_TRUE(request.ParseFromString(bytes.substr(5)));
  EXPECT_EQ(
      request.snapshot().SerializeAsString(),
      MakeSyntheticDecideRequest(o.cluster).snapshot().SerializeAsString());
}

TEST(LoadWriteRequestTest, UnwritableFileExitsOne) {
  LoadCommandOptions o = SmokeOptions(LoadMethod::kDecide, false);
  o.write_request = "/nonexistent-dir/request.bin";
  const CommandRun r = RunWith(ConnectionOptions{}, o);
  EXPECT_EQ(r.code, kExitInput);
  EXPECT_NE(r.err.find("cannot write"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace dsd::client
