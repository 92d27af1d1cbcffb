// Helpers for the transport tests: an in-process dsd server on 127.0.0.1
// with an OS-chosen port, channels to it, small valid requests, and reading
// google.rpc.Status details back from a grpc::Status.
#ifndef DSD_TESTS_TRANSPORT_TEST_UTIL_H_
#define DSD_TESTS_TRANSPORT_TEST_UTIL_H_

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "dsd/v1/dsd.grpc.pb.h"
#include "dsd/v1/dsd.pb.h"
#include "google/protobuf/text_format.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "server/transport/server.h"
#include "tests/testing/status_matchers.h"

namespace dsd::transport::testing {

// A clock for Server::Start that can hold the calls reading it: the
// service reads the clock for a request without `now`, after reading and
// validating it and before the engine, so a held read keeps the call
// inside the service, ignoring its cancellation, until Release (a call
// stuck in CPU, without CPU). Must outlive the server.
class HoldingClock {
 public:
  // The fixed time every read returns.
  static absl::Time Now() { return absl::FromUnixSeconds(1'700'000'000); }

  std::function<absl::Time()> Clock() {
    return [this] { return Read(); };
  }

  // Reads from now on wait until Release.
  void Hold() {
    std::lock_guard<std::mutex> lock(mu_);
    held_ = true;
  }
  void Release() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      held_ = false;
    }
    changed_.notify_all();
  }

  // Waits (up to 60 s) until `count` reads are waiting.
  bool AwaitWaiting(int count) {
    std::unique_lock<std::mutex> lock(mu_);
    return changed_.wait_for(lock, std::chrono::seconds(60),
                             [&] { return waiting_ >= count; });
  }

  // Reads so far, held or not.
  int reads() {
    std::lock_guard<std::mutex> lock(mu_);
    return reads_;
  }

 private:
  absl::Time Read() {
    std::unique_lock<std::mutex> lock(mu_);
    ++reads_;
    ++waiting_;
    changed_.notify_all();
    changed_.wait(lock, [this] { return !held_; });
    --waiting_;
    return Now();
  }

  std::mutex mu_;
  std::condition_variable changed_;
  bool held_ = false;
  int waiting_ = 0;
  int reads_ = 0;
};

// Every call gets a deadline so that a broken server fails the test instead
// of hanging it; no test waits for it to pass.
inline constexpr std::chrono::seconds kCallTimeout{60};

// Options for a plaintext server and metrics endpoint on free local ports.
inline ServerOptions LocalOptions() {
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.metrics_listen = "127.0.0.1:0";
  options.shutdown_grace = absl::Seconds(30);
  return options;
}

// Starts a server or fails the calling test (check with ASSERT_NE(nullptr)).
inline std::unique_ptr<Server> StartServer(
    const ServerOptions& options,
    std::function<absl::Time()> clock = [] { return absl::Now(); }) {
  absl::StatusOr<std::unique_ptr<Server>> server =
      Server::Start(options, std::move(clock));
  EXPECT_THAT(server, ::dsd::testing::IsOk());
  return server.ok() ? *std::move(server) : nullptr;
}

inline std::shared_ptr<grpc::Channel> Connect(
    const Server& server,
    const std::shared_ptr<grpc::ChannelCredentials>& credentials =
        grpc::InsecureChannelCredentials()) {
  return grpc::CreateChannel(absl::StrCat("127.0.0.1:", server.Port()),
                             credentials);
}

inline void SetDeadline(grpc::ClientContext& context) {
  context.set_deadline(std::chrono::system_clock::now() + kCallTimeout);
}

template <typename Message>
Message ParseTextOrDie(const std::string& text) {
  Message message;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &message))
      << text;
  return message;
}

// One node and one DaemonSet selecting app=x whose template is labelled
// app=x, rolling update with maxUnavailable 1: the DaemonSet should run one
// pod, on n1, and none exists yet.
inline constexpr char kOneNodeOneDaemonSet[] = R"pb(
  nodes { name: "n1" }
  daemon_sets {
    namespace: "default"
    name: "agent"
    uid: "uid-agent"
    selector { match_labels { key: "app" value: "x" } }
    template { labels { key: "app" value: "x" } }
    update_strategy {
      type: UPDATE_STRATEGY_TYPE_ROLLING_UPDATE
      max_unavailable { count: 1 }
    }
  }
)pb";

inline v1::Snapshot ValidSnapshot() {
  return ParseTextOrDie<v1::Snapshot>(kOneNodeOneDaemonSet);
}

inline v1::DecideRequest ValidDecideRequest() {
  v1::DecideRequest request;
  *request.mutable_snapshot() = ValidSnapshot();
  return request;
}

// Breaks the request: a node without a name (metadata.name is required).
inline v1::DecideRequest MalformedDecideRequest() {
  v1::DecideRequest request = ValidDecideRequest();
  request.mutable_snapshot()->mutable_nodes(0)->clear_name();
  return request;
}

// The google.rpc.Status carried in the grpc-status-details-bin trailer.
inline google::rpc::Status StatusDetails(const grpc::Status& status) {
  google::rpc::Status details;
  EXPECT_TRUE(details.ParseFromString(status.error_details()))
      << "error_details is not a google.rpc.Status";
  return details;
}

}  // namespace dsd::transport::testing

#endif  // DSD_TESTS_TRANSPORT_TEST_UTIL_H_
