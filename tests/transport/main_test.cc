// dsd-server, the binary (server/transport/main.cc): exit codes for bad
// flags and a port in use, --help. Each case runs the real binary on
// 127.0.0.1 with an OS-chosen port.
#include <signal.h>

#include <chrono>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/transport/server_process.h"

namespace dsd::transport {
namespace {

using ::dsd::transport::testing::ServerProcess;
using ::testing::HasSubstr;
using ::testing::Not;

// Generous: a loaded 2-core machine and an ASan build start slowly.
constexpr std::chrono::seconds kStartTimeout{30};

struct BadFlagCase {
  const char* name;
  std::vector<std::string> args;
  const char* message_part;
};

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
  ASSERT_TRUE(server.running());
  EXPECT_EQ(server.WaitForExit(kStartTimeout), 2);
  EXPECT_THAT(server.Stderr(), HasSubstr(c.message_part));
  EXPECT_THAT(server.Stderr(), Not(HasSubstr("listening on")));
}

INSTANTIATE_TEST_SUITE_P(Main, BadFlagsTest, ::testing::ValuesIn(kBadFlagCases),
                         [](const ::testing::TestParamInfo<BadFlagCase>& row) {
                           return std::string(row.param.name);
                         });

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

}  // namespace
}  // namespace dsd::transport
