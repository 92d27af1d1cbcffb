// ServerOptionsFromFlags: defaults, every flag reaching its option, and the
// rejected combinations. Each case parses a command line; absl::FlagSaver
// restores the flags afterwards.
#include "server/transport/flags.h"

#include <string>
#include <vector>

#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace dsd::transport {
namespace {

using ::dsd::testing::IsOk;
using ::dsd::testing::StatusIs;

using ::testing::HasSubstr;

absl::StatusOr<ServerOptions> Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "dsd-server");
  std::vector<char*> argv;
  argv.reserve(args.size());
  for (std::string& arg : args) argv.push_back(arg.data());
  absl::ParseCommandLine(static_cast<int>(argv.size()), argv.data());
  return ServerOptionsFromFlags();
}

// The documented defaults (README "Running dsd-server", --help), written
// out: comparing with a default-constructed ServerOptions would pass
// whatever the defaults became.
TEST(ServerFlagsTest, DefaultsAreTheDocumentedValues) {
  absl::FlagSaver saver;
  absl::StatusOr<ServerOptions> options = Parse({});
  ASSERT_THAT(options, IsOk());
  EXPECT_EQ(options->listen, "127.0.0.1:50051");
  EXPECT_EQ(options->threads, 0);
  EXPECT_EQ(options->max_request_bytes, 256 * 1024 * 1024);
  EXPECT_EQ(options->max_request_bytes_in_flight, 512 * 1024 * 1024);
  EXPECT_EQ(options->service.max_nodes, 100'000u);
  EXPECT_EQ(options->service.max_pods, 2'000'000u);
  EXPECT_EQ(options->service.max_daemon_sets, 10'000u);
  EXPECT_EQ(options->tls_cert_file, "");
  EXPECT_EQ(options->tls_key_file, "");
  EXPECT_EQ(options->tls_client_ca_file, "");
  EXPECT_EQ(options->metrics_listen, "");
  EXPECT_EQ(options->shutdown_grace, absl::Seconds(10));
  EXPECT_EQ(options->lameduck, absl::ZeroDuration());
  EXPECT_EQ(options->logging.level, spdlog::level::info);
  EXPECT_EQ(options->logging.format, logging::LogFormat::kText);
}

TEST(ServerFlagsTest, EveryFlagReachesItsOption) {
  absl::FlagSaver saver;
  absl::StatusOr<ServerOptions> options = Parse({
      "--listen=0.0.0.0:7000",
      "--threads=3",
      "--max_request_bytes=1024",
      "--max_request_bytes_in_flight=4096",
      "--max_nodes=5",
      "--max_pods=0",
      "--max_daemon_sets=7",
      "--tls_cert=/c.pem",
      "--tls_key=/k.pem",
      "--tls_client_ca=/ca.pem",
      "--log_level=debug",
      "--log_format=json",
      "--metrics_listen=:9090",
      "--shutdown_grace=2.5",
      "--lameduck=1.5",
  });
  ASSERT_THAT(options, IsOk());
  EXPECT_EQ(options->listen, "0.0.0.0:7000");
  EXPECT_EQ(options->threads, 3);
  EXPECT_EQ(options->max_request_bytes, 1024);
  EXPECT_EQ(options->max_request_bytes_in_flight, 4096);
  EXPECT_EQ(options->service.max_nodes, 5u);
  EXPECT_EQ(options->service.max_pods, 0u);
  EXPECT_EQ(options->service.max_daemon_sets, 7u);
  EXPECT_EQ(options->tls_cert_file, "/c.pem");
  EXPECT_EQ(options->tls_key_file, "/k.pem");
  EXPECT_EQ(options->tls_client_ca_file, "/ca.pem");
  EXPECT_EQ(options->logging.level, spdlog::level::debug);
  EXPECT_EQ(options->logging.format, logging::LogFormat::kJson);
  EXPECT_EQ(options->metrics_listen, ":9090");
  EXPECT_EQ(options->shutdown_grace, absl::Milliseconds(2500));
  EXPECT_EQ(options->lameduck, absl::Milliseconds(1500));
}

struct BadCase {
  const char* name;
  const char* arg;
  const char* message_part;
};

TEST(ServerFlagsTest, RejectsBadValuesNamingTheFlag) {
  constexpr BadCase kCases[] = {
      {"empty_listen", "--listen=", "--listen"},
      {"negative_threads", "--threads=-1", "--threads"},
      {"zero_request_bytes", "--max_request_bytes=0", "--max_request_bytes"},
      {"request_bytes_over_int", "--max_request_bytes=2147483648",
       "--max_request_bytes"},
      {"negative_in_flight", "--max_request_bytes_in_flight=-1",
       "--max_request_bytes_in_flight"},
      {"negative_nodes", "--max_nodes=-1", "--max_nodes"},
      {"negative_pods", "--max_pods=-1", "--max_pods"},
      {"negative_daemon_sets", "--max_daemon_sets=-1", "--max_daemon_sets"},
      {"cert_without_key", "--tls_cert=/c.pem", "--tls_key"},
      {"key_without_cert", "--tls_key=/k.pem", "--tls_cert"},
      {"client_ca_without_tls", "--tls_client_ca=/ca.pem", "--tls_client_ca"},
      {"unknown_level", "--log_level=verbose", "--log_level"},
      {"unknown_format", "--log_format=xml", "--log_format"},
      {"negative_grace", "--shutdown_grace=-1", "--shutdown_grace"},
      {"negative_lameduck", "--lameduck=-1", "--lameduck"},
      {"lameduck_over_an_hour", "--lameduck=3601", "--lameduck"},
      {"lameduck_nan", "--lameduck=nan", "--lameduck"},
  };
  for (const BadCase& c : kCases) {
    SCOPED_TRACE(c.name);
    absl::FlagSaver saver;
    absl::StatusOr<ServerOptions> options = Parse({c.arg});
    EXPECT_THAT(options, StatusIs(absl::StatusCode::kInvalidArgument,
                                  HasSubstr(c.message_part)));
  }
}

}  // namespace
}  // namespace dsd::transport
