// A dsd-server inside the test process on an ephemeral loopback port,
// shared by one test suite, and the client connection options that reach
// it: the fixture of the tests that drive dsdctl's commands end to end.
// Header-only; its users link dsd::transport and a client library.
#ifndef DSD_TESTS_TESTING_LOCAL_SERVER_H_
#define DSD_TESTS_TESTING_LOCAL_SERVER_H_

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>

#include "absl/time/time.h"
#include "client/common/connection.h"
#include "server/transport/server.h"

namespace dsd::testing {

class LocalServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    transport::ServerOptions options;
    options.listen = "127.0.0.1:0";
    auto server = transport::Server::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }
  static void TearDownTestSuite() {
    server_->Shutdown(absl::Seconds(5));
    server_.reset();
  }

  static client::ConnectionOptions Connection() {
    client::ConnectionOptions c;
    c.server = "127.0.0.1:" + std::to_string(server_->Port());
    c.timeout_seconds = 60;
    return c;
  }

 private:
  static inline std::unique_ptr<transport::Server> server_;
};

}  // namespace dsd::testing

#endif  // DSD_TESTS_TESTING_LOCAL_SERVER_H_
