// Events as upstream's controller records them (client-go's record
// package): the core/v1 Event's fields, and the spam filter's budget per
// object (a burst of 25, then one per refill period).
#include "client/adapter/events.h"

#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <string>
#include <thread>

#include "tests/kube/fake_apiserver.h"

namespace dsd::adapter {
namespace {

using testing::FakeApiServer;

nlohmann::json DaemonSet(const std::string& name) {
  return {{"metadata",
           {{"name", name},
            {"namespace", "ns"},
            {"uid", "uid-" + name},
            {"resourceVersion", "42"}}}};
}

TEST(EventRecorderTest, UpstreamsFieldsAndSpamBudgetPerDaemonSet) {
  auto server = FakeApiServer::Start();
  ASSERT_NE(server, nullptr);
  kube::RestConfig config;
  config.server = server->url();
  kube::ClientOptions client_options;
  client_options.qps = 0;
  kube::Client client(config, client_options);
  size_t events = 0;
  {
    EventOptions options;
    options.instance = "host_1";
    EventRecorder recorder(client, options);
    for (int i = 0; i < 30; ++i) {
      recorder.Record(DaemonSet("a"), "Normal", "SuccessfulCreate",
                      "Created pod: a-" + std::to_string(i));
    }
    recorder.Record(DaemonSet("b"), "Warning", "FailedCreate",
                    "Error creating: quota");
    const auto until =
        std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (recorder.sent() < 26 && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    // 25 of a's (the burst), b's own one; 5 of a's dropped.
    EXPECT_EQ(recorder.sent(), 26);
    EXPECT_EQ(recorder.dropped(), 5);
    events = server->List("Event").size();
  }
  EXPECT_EQ(events, 26u);
  bool saw_b = false;
  for (const nlohmann::json& e : server->List("Event")) {
    if (e["involvedObject"]["name"] != "b") continue;
    saw_b = true;
    // client-go names it "<object>.<unix nanoseconds in hex>".
    EXPECT_TRUE(std::regex_match(e["metadata"]["name"].get<std::string>(),
                                 std::regex("b\\.[0-9a-f]+")))
        << e.dump();
    EXPECT_EQ(e["involvedObject"], nlohmann::json({{"apiVersion", "apps/v1"},
                                                   {"kind", "DaemonSet"},
                                                   {"namespace", "ns"},
                                                   {"name", "b"},
                                                   {"uid", "uid-b"},
                                                   {"resourceVersion", "42"}}));
    EXPECT_EQ(e["type"], "Warning");
    EXPECT_EQ(e["reason"], "FailedCreate");
    EXPECT_EQ(e["message"], "Error creating: quota");
    EXPECT_EQ(e["source"]["component"], "dsd-adapter");
    EXPECT_EQ(e["reportingInstance"], "host_1");
    EXPECT_EQ(e["count"], 1);
  }
  EXPECT_TRUE(saw_b);
}

}  // namespace
}  // namespace dsd::adapter
