// Leader election on a Lease against the fake API server, as client-go's
// tools/leaderelection behaves (cluster-integration 1.5): one holder at a
// time, validity by the observer's own clock, release on Stop, and a
// holder that cannot renew stops acting before another may take over.
#include "client/adapter/leader.h"

#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "tests/kube/fake_apiserver.h"

namespace dsd::adapter {
namespace {

using std::chrono::milliseconds;
using testing::FakeApiServer;

kube::RestConfig ConfigFor(const FakeApiServer& server) {
  kube::RestConfig c;
  c.server = server.url();
  c.source = "test";
  return c;
}

kube::ClientOptions Fast() {
  kube::ClientOptions o;
  o.qps = 0;
  o.max_retries = 0;
  o.request_timeout_seconds = 5;
  return o;
}

LeaderOptions Short(const std::string& identity) {
  LeaderOptions o;
  o.identity = identity;
  o.lease_duration = milliseconds(2000);
  o.renew_deadline = milliseconds(1500);
  o.retry_period = milliseconds(200);
  return o;
}

void Quiet(const std::string&, const std::string&,
           const std::vector<std::pair<std::string, std::string>>&) {}

// Waits up to `timeout` for `done`.
template <typename F>
bool Eventually(F done, milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return done();
}

class LeaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = FakeApiServer::Start();
    ASSERT_NE(server_, nullptr);
  }
  nlohmann::json Lease() const {
    return server_->Get("Lease", "default", "dsd-adapter");
  }
  std::unique_ptr<FakeApiServer> server_;
};

TEST_F(LeaderTest, OneHoldsTheLeaseAndReleasingHandsItOver) {
  kube::Client client_a(ConfigFor(*server_), Fast());
  kube::Client client_b(ConfigFor(*server_), Fast());
  LeaderElector a(client_a, Short("a"), Quiet);
  LeaderElector b(client_b, Short("b"), Quiet);
  a.Start();
  ASSERT_TRUE(Eventually([&] { return a.IsLeader(); }, milliseconds(2000)));
  b.Start();
  nlohmann::json lease = Lease();
  EXPECT_EQ(lease["spec"]["holderIdentity"], "a");
  EXPECT_EQ(lease["spec"]["leaseDurationSeconds"], 2);
  EXPECT_EQ(lease["spec"]["leaseTransitions"], 0);
  // metav1.MicroTime.
  const std::regex micro(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)");
  EXPECT_TRUE(
      std::regex_match(lease["spec"]["renewTime"].get<std::string>(), micro))
      << lease.dump();
  // b waits while a renews (well past a's lease duration).
  EXPECT_FALSE(Eventually([&] { return b.IsLeader(); }, milliseconds(3000)));
  EXPECT_TRUE(a.IsLeader());
  // a's renewals move renewTime on, from its own copy (no GET needed).
  EXPECT_NE(Lease()["spec"]["renewTime"], lease["spec"]["renewTime"]);

  a.Stop();
  EXPECT_FALSE(a.IsLeader());
  // Released: b takes it at its next try, well before a lease duration.
  const auto released = std::chrono::steady_clock::now();
  ASSERT_TRUE(Eventually([&] { return b.IsLeader(); }, milliseconds(1500)));
  EXPECT_LT(std::chrono::steady_clock::now() - released, milliseconds(1000));
  lease = Lease();
  EXPECT_EQ(lease["spec"]["holderIdentity"], "b");
  EXPECT_EQ(lease["spec"]["leaseTransitions"], 1);
}

// Another holder's lease is judged by when *we* saw it change, not by its
// renewTime: one renewed "in the future" by a skewed clock lapses all the
// same, one leaseDurationSeconds after it stopped changing.
TEST_F(LeaderTest, ALapsedLeaseIsTakenByLocalTimeNotItsRenewTime) {
  server_->Apply(nlohmann::json::parse(R"({
    "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
    "metadata": {"name": "dsd-adapter", "namespace": "default"},
    "spec": {"holderIdentity": "gone", "leaseDurationSeconds": 1,
             "acquireTime": "2099-01-01T00:00:00.000000Z",
             "renewTime": "2099-01-01T00:00:00.000000Z",
             "leaseTransitions": 4}})"));
  kube::Client client(ConfigFor(*server_), Fast());
  LeaderElector b(client, Short("b"), Quiet);
  const auto start = std::chrono::steady_clock::now();
  b.Start();
  ASSERT_TRUE(Eventually([&] { return b.IsLeader(); }, milliseconds(3000)));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, milliseconds(1000)) << "waited its duration";
  EXPECT_EQ(Lease()["spec"]["holderIdentity"], "b");
  EXPECT_EQ(Lease()["spec"]["leaseTransitions"], 5);
}

// A holder whose renewals fail stops acting within its renew deadline,
// before its lease could lapse for the others.
TEST_F(LeaderTest, ALeaderThatCannotRenewStopsActing) {
  kube::Client client(ConfigFor(*server_), Fast());
  LeaderElector a(client, Short("a"), Quiet);
  a.Start();
  ASSERT_TRUE(Eventually([&] { return a.IsLeader(); }, milliseconds(2000)));
  testing::Fault down;
  down.match = "/leases";
  down.status = 503;
  down.times = 1000;
  server_->AddFault(down);
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(Eventually([&] { return !a.IsLeader(); }, milliseconds(3000)));
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(1500 + 400))
      << "within the renew deadline (and one retry period)";
}

TEST(LeaderOptionsTest, DurationsMustLeaveRoomToHandOver) {
  struct Row {
    const char* name;
    int lease, renew, retry;
    const char* error;  // "" valid
  };
  for (const Row& r : {
           Row{"Defaults", 15000, 10000, 2000, ""},
           Row{"RenewNotBelowLease", 10000, 10000, 2000,
               "longer than the renew deadline"},
           Row{"RetryTooCloseToRenew", 15000, 2400, 2000,
               "1.2 x the retry period"},
       }) {
    SCOPED_TRACE(r.name);
    LeaderOptions o;
    o.identity = "x";
    o.lease_duration = milliseconds(r.lease);
    o.renew_deadline = milliseconds(r.renew);
    o.retry_period = milliseconds(r.retry);
    const std::string e = CheckLeaderOptions(o);
    if (*r.error == '\0') {
      EXPECT_EQ(e, "");
    } else {
      EXPECT_NE(e.find(r.error), std::string::npos) << e;
    }
  }
}

}  // namespace
}  // namespace dsd::adapter
