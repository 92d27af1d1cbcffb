// dsd-extender's filter verb against a real dsd-server in this process:
// the golden request/response pairs in testdata/ (both payload forms, both
// key casings), then the cases a golden file cannot hold (a dsd-server that
// is down, DaemonSet and node sources, malformed bodies, exact echoes), and
// the watch-based caches of caches.h against the fake API server.
// Expected answers follow Kubernetes' rules (nodeSelector, required node
// affinity, NoSchedule/NoExecute taints and the DaemonSet controller's
// default tolerations), written by hand.
#include "client/extender/filter.h"

#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "client/common/connection.h"
#include "client/extender/caches.h"
#include "tests/kube/fake_apiserver.h"
#include "tests/testing/eventually.h"
#include "tests/testing/local_server.h"
#include "tests/testing/param_name.h"

namespace dsd::extender {
namespace {

using Json = nlohmann::json;

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct GoldenCase {
  std::string name;
};
void PrintTo(const GoldenCase& c, std::ostream* os) { *os << c.name; }

std::vector<GoldenCase> GoldenCases() {
  std::vector<GoldenCase> out;
  for (const auto& entry :
       std::filesystem::directory_iterator(DSD_EXTENDER_TESTDATA)) {
    if (entry.is_directory()) out.push_back({entry.path().filename()});
  }
  std::sort(
      out.begin(), out.end(),
      [](const GoldenCase& a, const GoldenCase& b) { return a.name < b.name; });
  return out;
}

// A filter whose Filter calls go to the in-process dsd-server.
class ExtenderTest : public testing::LocalServerTest {
 protected:
  void SetUp() override {
    connection_ = client::Connect(Connection());
    ASSERT_NE(connection_.stub, nullptr) << connection_.error;
  }
  Filter MakeFilter(const DaemonSetSource* daemon_sets = nullptr,
                    const NodeSource* nodes = nullptr) {
    FilterOptions options;
    options.decide_timeout = std::chrono::seconds(30);  // a loaded CI box
    return Filter(connection_.stub.get(), options, daemon_sets, nodes);
  }
  client::Connection connection_;
};

class ExtenderGoldenTest : public ExtenderTest,
                           public ::testing::WithParamInterface<GoldenCase> {};

TEST_P(ExtenderGoldenTest, AnswersAsExpected) {
  const std::filesystem::path dir =
      std::filesystem::path(DSD_EXTENDER_TESTDATA) / GetParam().name;
  const FilterReply reply = MakeFilter().Handle(ReadFile(dir / "request.json"));
  EXPECT_EQ(reply.http_status, 200) << reply.body;
  const Json got = Json::parse(reply.body, nullptr, false);
  ASSERT_FALSE(got.is_discarded()) << reply.body;
  const Json want = Json::parse(ReadFile(dir / "response.json"));
  EXPECT_EQ(got, want) << "got:  " << got.dump() << "\nwant: " << want.dump();
}

INSTANTIATE_TEST_SUITE_P(Testdata, ExtenderGoldenTest,
                         ::testing::ValuesIn(GoldenCases()),
                         testing::ParamName<GoldenCase>);

constexpr char kDaemonPod[] = R"({
  "metadata": {"name": "agent-x", "namespace": "kube-system",
    "labels": {"app": "agent"},
    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet",
      "name": "agent", "uid": "u-agent", "controller": true}]},
  "spec": {"nodeSelector": {"disk": "ssd"}}})";

std::string NodesBody(const std::string& pod, const std::string& items) {
  return R"({"Pod":)" + pod + R"(,"Nodes":{"metadata":{},"items":[)" + items +
         R"(]},"NodeNames":null})";
}

TEST_F(ExtenderTest, EchoesPassingNodesByteForByte) {
  // Spacing, key order and number spelling as sent: the scheduler gets its
  // own objects back, not a re-serialisation.
  const std::string kept =
      R"({ "metadata" : {"name":"w1", "labels":{"disk":"ssd"}},)"
      R"( "status": {"capacity": {"x": 1.50E+3}} })";
  const std::string refused = R"({"metadata":{"name":"w2"}})";
  const FilterReply reply =
      MakeFilter().Handle(NodesBody(kDaemonPod, kept + " ,\n " + refused));
  ASSERT_EQ(reply.outcome, Outcome::kDecided) << reply.body;
  EXPECT_NE(reply.body.find(R"("items":[)" + kept + "]"), std::string::npos)
      << reply.body;
  EXPECT_EQ(reply.nodes_sent, 2u);
  EXPECT_EQ(reply.nodes_passed, 1u);
}

TEST_F(ExtenderTest, NonDaemonPodDoesNotCallDsdServer) {
  // A stub pointing nowhere: a call would answer Error.
  client::ConnectionOptions nowhere;
  nowhere.server = "127.0.0.1:1";
  client::Connection c = client::Connect(nowhere);
  const Filter filter(c.stub.get(), FilterOptions(), nullptr, nullptr);
  const FilterReply reply =
      filter.Handle(NodesBody(R"({"metadata":{"name":"p","namespace":"d"}})",
                              R"({"metadata":{"name":"w1"}})"));
  EXPECT_EQ(reply.outcome, Outcome::kPassedThrough) << reply.body;
  EXPECT_EQ(Json::parse(reply.body)["Nodes"]["items"].size(), 1u);
}

TEST_F(ExtenderTest, DsdServerDownIsAnErrorWithinTheTimeout) {
  client::ConnectionOptions nowhere;
  nowhere.server = "127.0.0.1:1";  // nothing listens on port 1
  client::Connection c = client::Connect(nowhere);
  FilterOptions options;
  options.decide_timeout = std::chrono::milliseconds(500);
  options.server_label = "dsd-server at 127.0.0.1:1";
  const Filter filter(c.stub.get(), options, nullptr, nullptr);
  const auto start = std::chrono::steady_clock::now();
  const FilterReply reply =
      filter.Handle(NodesBody(kDaemonPod, R"({"metadata":{"name":"w1"}})"));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(reply.http_status, 200);
  EXPECT_EQ(reply.outcome, Outcome::kError);
  const Json body = Json::parse(reply.body);
  EXPECT_EQ(body["Error"].get<std::string>().rfind(
                "dsd: dsd-server at 127.0.0.1:1 answered ", 0),
            0u)
      << reply.body;
  // An Error answer names no passing node.
  EXPECT_TRUE(body["Nodes"].is_null());
  EXPECT_TRUE(body["NodeNames"].is_null());
  // The deadline bounds it, with slack for a loaded machine.
  EXPECT_LT(took, std::chrono::seconds(2));
}

// The controller's view: the DaemonSet's current spec, not the pod's.
class FakeDaemonSets : public DaemonSetSource {
 public:
  // As the DaemonSet cache: one shared message per version.
  FakeDaemonSets() { Change(); }
  void Change() { ds_ = Make(); }
  std::shared_ptr<const v1::DaemonSet> Find(
      const std::string& namespace_name, const std::string& name,
      const std::string& uid) const override {
    if (namespace_name != "kube-system" || name != "agent" ||
        uid != "u-agent") {
      return nullptr;
    }
    return ds_;
  }

 private:
  static std::shared_ptr<const v1::DaemonSet> Make() {
    auto ds = std::make_shared<v1::DaemonSet>();
    EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(
        R"pb(namespace: "kube-system"
             name: "agent"
             uid: "u-agent"
             selector { match_labels { key: "app" value: "agent" } }
             template {
               labels { key: "app" value: "agent" }
               node_selector { key: "disk" value: "nvme" }
             }
             update_strategy {
               type: UPDATE_STRATEGY_TYPE_ROLLING_UPDATE
               max_unavailable { count: 1 }
             })pb",
        ds.get()));
    return ds;
  }
  std::shared_ptr<const v1::DaemonSet> ds_;
};

TEST_F(ExtenderTest, PodFromAnOlderTemplateIsFilteredByTheCurrentSpec) {
  // The pod asks for disk=ssd; the DaemonSet now says disk=nvme. The
  // controller would delete a pod on the ssd node at once.
  const FakeDaemonSets daemon_sets;
  const FilterReply reply =
      MakeFilter(&daemon_sets)
          .Handle(NodesBody(
              kDaemonPod,
              R"({"metadata":{"name":"ssd-1","labels":{"disk":"ssd"}}},)"
              R"({"metadata":{"name":"nvme-1","labels":{"disk":"nvme"}}})"));
  const Json body = Json::parse(reply.body);
  ASSERT_EQ(body["Nodes"]["items"].size(), 1u) << reply.body;
  EXPECT_EQ(body["Nodes"]["items"][0]["metadata"]["name"], "nvme-1");
  EXPECT_EQ(body["FailedAndUnresolvableNodes"]["ssd-1"],
            "dsd: DaemonSet kube-system/agent: node(s) didn't match the "
            "nodeSelector");
}

class FakeNodes : public NodeSource {
 public:
  void Visit(const std::vector<std::string_view>& names,
             const Visitor& visit) const override {
    for (size_t i = 0; i < names.size(); ++i) {
      v1::Node node;
      node.set_name(std::string(names[i]));
      v1::Label* label = node.add_labels();
      label->set_key("disk");
      if (names[i] == "w1") {
        label->set_value("ssd");
        visit(i, &node, 1);
      } else if (names[i] == "w2") {
        label->set_value("hdd");
        visit(i, &node, 2);
      } else {
        visit(i, nullptr, 0);
      }
    }
  }
};

TEST_F(ExtenderTest, NodeNamesWithANodeCache) {
  // "w\u0031" is w1 spelled with an escape: names are JSON strings.
  const FakeNodes nodes;
  const FilterReply reply =
      MakeFilter(nullptr, &nodes)
          .Handle(std::string(R"({"Pod":)") + kDaemonPod +
                  R"(,"Nodes":null,"NodeNames":["w\u0031","w2","w9"]})");
  const Json want = {
      {"Nodes", nullptr},
      {"NodeNames", {"w1"}},
      // Not in the cache yet: transient, so preemption may still help.
      {"FailedNodes",
       {{"w9", "dsd: node not yet in dsd-extender's node cache"}}},
      {"FailedAndUnresolvableNodes",
       {{"w2",
         "dsd: DaemonSet kube-system/agent: node(s) didn't match the "
         "nodeSelector"}}},
      {"Error", ""}};
  EXPECT_EQ(Json::parse(reply.body), want) << reply.body;
}

// Nodes whose labels and versions a test changes.
class VersionedNodes : public NodeSource {
 public:
  void Set(const std::string& name, const std::string& disk) {
    v1::Node node;
    node.set_name(name);
    v1::Label* label = node.add_labels();
    label->set_key("disk");
    label->set_value(disk);
    nodes_[name] = {node, ++last_version_};
  }
  void Visit(const std::vector<std::string_view>& names,
             const Visitor& visit) const override {
    for (size_t i = 0; i < names.size(); ++i) {
      const auto it = nodes_.find(names[i]);
      if (it == nodes_.end()) {
        visit(i, nullptr, 0);
      } else {
        visit(i, &it->second.first, it->second.second);
      }
    }
  }

 private:
  std::map<std::string, std::pair<v1::Node, uint64_t>, std::less<>> nodes_;
  uint64_t last_version_ = 0;
};

// dsd-server's answer for a DaemonSet and node version is remembered, and
// asked again once either changes.
TEST_F(ExtenderTest, RemembersAnswersPerDaemonSetAndNodeVersion) {
  FakeDaemonSets daemon_sets;  // nodeSelector disk=nvme
  VersionedNodes nodes;
  nodes.Set("n1", "nvme");
  nodes.Set("n2", "ssd");
  const Filter filter = MakeFilter(&daemon_sets, &nodes);
  const std::string body = std::string(R"({"Pod":)") + kDaemonPod +
                           R"(,"Nodes":null,"NodeNames":["n1","n2"]})";
  const Json refused = {{"n2",
                         "dsd: DaemonSet kube-system/agent: node(s) didn't "
                         "match the nodeSelector"}};
  struct Step {
    const char* what;
    std::function<void()> change;
    size_t want_remembered;
    Json want_passed;
    Json want_refused;
  };
  const Step steps[] = {
      {"first ask", [] {}, 0, {"n1"}, refused},
      {"nothing changed", [] {}, 2, {"n1"}, refused},
      {"n2 relabelled",
       [&] { nodes.Set("n2", "nvme"); },
       1,
       {"n1", "n2"},
       Json::object()},
      {"the DaemonSet changed",
       [&] { daemon_sets.Change(); },
       0,
       {"n1", "n2"},
       Json::object()},
      {"nothing changed again", [] {}, 2, {"n1", "n2"}, Json::object()},
  };
  for (const Step& step : steps) {
    SCOPED_TRACE(step.what);
    step.change();
    const FilterReply reply = filter.Handle(body);
    ASSERT_EQ(reply.outcome, Outcome::kDecided) << reply.body;
    EXPECT_EQ(reply.nodes_remembered, step.want_remembered);
    const Json got = Json::parse(reply.body);
    EXPECT_EQ(got["NodeNames"], step.want_passed) << reply.body;
    EXPECT_EQ(got["FailedAndUnresolvableNodes"], step.want_refused)
        << reply.body;
  }
}

TEST_F(ExtenderTest, PodThatDoesNotConvertIsAnError) {
  const FilterReply reply = MakeFilter().Handle(NodesBody(
      R"({"metadata":{"name":"agent-x","namespace":"kube-system",
          "ownerReferences":[{"apiVersion":"apps/v1","kind":"DaemonSet",
            "name":"agent","uid":"u","controller":true}]},
          "spec":{"tolerations":[{"key":"k","operator":"Like"}]}})",
      R"({"metadata":{"name":"w1"}})"));
  EXPECT_EQ(reply.outcome, Outcome::kError);
  const std::string error = Json::parse(reply.body)["Error"];
  EXPECT_NE(error.find("Pod kube-system/agent-x: spec.tolerations[0].operator"),
            std::string::npos)
      << error;
}

// The caches against the fake API server: what they hold is what the
// API server holds, converted once per resourceVersion.
class ExtenderCacheTest : public ExtenderTest {
 protected:
  void SetUp() override {
    ExtenderTest::SetUp();
    api_ = testing::FakeApiServer::Start();
    ASSERT_NE(api_, nullptr);
    kube::RestConfig config;
    config.server = api_->url();
    kube::ClientOptions options;
    options.qps = 0;  // no client-side rate limit in tests
    options.request_timeout_seconds = 10;
    kube_ = std::make_unique<kube::Client>(config, options);
  }
  void TearDown() override {
    kube_->Stop();
    if (daemon_sets_ != nullptr) daemon_sets_->cache().Stop();
    if (nodes_ != nullptr) nodes_->cache().Stop();
  }
  void StartCaches() {
    CacheOptions options;
    options.log = [](const std::string& line) {
      std::cerr << "cache: " << line << "\n";
    };
    daemon_sets_ = std::make_unique<DaemonSetCache>(*kube_, options);
    nodes_ = std::make_unique<NodeCache>(*kube_, options);
    daemon_sets_->cache().Start();
    nodes_->cache().Start();
    ASSERT_TRUE(Eventually([&] {
      return daemon_sets_->cache().synced() && nodes_->cache().synced();
    })) << daemon_sets_->cache().Describe()
        << "; " << nodes_->cache().Describe();
  }
  // Waits up to 30 s (a loaded CI machine) for `done`.
  template <typename F>
  static bool Eventually(F done) {
    return testing::Eventually(done, std::chrono::seconds(30),
                               std::chrono::milliseconds(10));
  }
  static Json NodeObject(const std::string& name, const std::string& disk) {
    return {{"apiVersion", "v1"},
            {"kind", "Node"},
            {"metadata", {{"name", name}, {"labels", {{"disk", disk}}}}}};
  }
  // The DaemonSet of kDaemonPod, its template selecting nodes by disk.
  static Json AgentDaemonSet(const std::string& disk,
                             const std::string& uid = "u-agent") {
    return Json::parse(R"({"apiVersion":"apps/v1","kind":"DaemonSet",
      "metadata":{"name":"agent","namespace":"kube-system","uid":")" +
                       uid + R"("},
      "spec":{"selector":{"matchLabels":{"app":"agent"}},
        "template":{"metadata":{"labels":{"app":"agent"}},
          "spec":{"nodeSelector":{"disk":")" +
                       disk + R"("},
            "containers":[{"name":"agent","image":"agent:1"}]}}}})");
  }
  static std::string NamesBody(const std::vector<std::string>& names) {
    return std::string(R"({"Pod":)") + kDaemonPod +
           R"(,"Nodes":null,"NodeNames":)" + Json(names).dump() + "}";
  }
  std::unique_ptr<testing::FakeApiServer> api_;
  std::unique_ptr<kube::Client> kube_;
  std::unique_ptr<DaemonSetCache> daemon_sets_;
  std::unique_ptr<NodeCache> nodes_;
};

constexpr char kNodeSelectorRefusal[] =
    "dsd: DaemonSet kube-system/agent: node(s) didn't match the nodeSelector";

TEST_F(ExtenderCacheTest, PodFromAnOlderTemplateIsRefusedByTheLiveDaemonSet) {
  // The pod was created when the template said disk=ssd; the DaemonSet
  // now says disk=nvme, and the controller would delete the pod on ssd-1.
  api_->Apply(AgentDaemonSet("nvme"));
  api_->Apply(NodeObject("ssd-1", "ssd"));
  api_->Apply(NodeObject("nvme-1", "nvme"));
  StartCaches();
  const Filter filter = MakeFilter(daemon_sets_.get(), nodes_.get());
  Json got = Json::parse(filter.Handle(NamesBody({"ssd-1", "nvme-1"})).body);
  EXPECT_EQ(got["NodeNames"], Json({"nvme-1"})) << got.dump();
  EXPECT_EQ(got["FailedAndUnresolvableNodes"],
            Json({{"ssd-1", kNodeSelectorRefusal}}));

  // The template changes back (a watch event): the cache follows.
  api_->Apply(AgentDaemonSet("ssd"));
  ASSERT_TRUE(Eventually([&] {
    return Json::parse(filter.Handle(NamesBody({"ssd-1", "nvme-1"}))
                           .body)["NodeNames"] == Json({"ssd-1"});
  }));

  // Deleted and re-created with another uid (nodeSelector disk=nvme): not
  // this pod's DaemonSet, so the pod's own spec (disk=ssd) decides.
  api_->Delete("DaemonSet", "kube-system", "agent");
  api_->Apply(AgentDaemonSet("nvme", "u-other"));
  ASSERT_TRUE(Eventually([&] {
    const auto ds = daemon_sets_->Find("kube-system", "agent", "");
    return ds != nullptr && ds->uid() == "u-other";
  }));
  EXPECT_FALSE(daemon_sets_->Find("kube-system", "agent", "u-agent"));
  got = Json::parse(filter.Handle(NamesBody({"ssd-1", "nvme-1"})).body);
  EXPECT_EQ(got["NodeNames"], Json({"ssd-1"})) << got.dump();
}

TEST_F(ExtenderCacheTest, NodeNamesFromTheNodeCache) {
  api_->Apply(AgentDaemonSet("ssd"));
  api_->Apply(NodeObject("w1", "ssd"));
  api_->Apply(NodeObject("w2", "hdd"));
  Json tainted = NodeObject("w3", "ssd");
  tainted["spec"]["taints"] = {
      {{"key", "dedicated"}, {"value", "gpu"}, {"effect", "NoSchedule"}}};
  api_->Apply(tainted);
  StartCaches();
  const Filter filter = MakeFilter(daemon_sets_.get(), nodes_.get());
  const Json want = {
      {"Nodes", nullptr},
      {"NodeNames", {"w1"}},
      // Not in the cache (yet): transient, so preemption may still help.
      {"FailedNodes",
       {{"w9", "dsd: node not yet in dsd-extender's node cache"}}},
      {"FailedAndUnresolvableNodes",
       {{"w2", kNodeSelectorRefusal},
        {"w3",
         "dsd: DaemonSet kube-system/agent: node(s) had untolerated taint "
         "dedicated=gpu:NoSchedule"}}},
      {"Error", ""}};
  EXPECT_EQ(
      Json::parse(filter.Handle(NamesBody({"w1", "w2", "w3", "w9"})).body),
      want);

  // w9 joins, w1 leaves: the answer follows the watch.
  api_->Apply(NodeObject("w9", "ssd"));
  api_->Delete("Node", "", "w1");
  ASSERT_TRUE(Eventually([&] {
    return nodes_->Find("w9").has_value() && !nodes_->Find("w1").has_value();
  }));
  const Json got = Json::parse(filter.Handle(NamesBody({"w1", "w9"})).body);
  EXPECT_EQ(got["NodeNames"], Json({"w9"})) << got.dump();
  EXPECT_EQ(got["FailedNodes"],
            Json({{"w1", "dsd: node not yet in dsd-extender's node cache"}}));

  // w2 (refused, and that answer remembered) is relabelled disk=ssd: the
  // new version is asked about, and passes; w9's answer is remembered.
  EXPECT_EQ(filter.Handle(NamesBody({"w2", "w9"})).nodes_remembered, 2u);
  api_->Apply(NodeObject("w2", "ssd"));
  ASSERT_TRUE(Eventually([&] {
    const auto w2 = nodes_->Find("w2");
    return w2.has_value() && w2->labels_size() == 1 &&
           w2->labels(0).value() == "ssd";
  }));
  const FilterReply relabelled = filter.Handle(NamesBody({"w2", "w9"}));
  EXPECT_EQ(relabelled.nodes_remembered, 1u);
  EXPECT_EQ(Json::parse(relabelled.body)["NodeNames"], Json({"w2", "w9"}))
      << relabelled.body;
}

TEST_F(ExtenderCacheTest, StatusUpdatesKeepRememberedAnswers) {
  // Kubelets update their Node's status every few minutes and the
  // controller its DaemonSet's at every pod change; neither reaches the
  // messages dsd decides on, so neither makes dsd-server be asked again.
  api_->Apply(AgentDaemonSet("ssd"));
  api_->Apply(NodeObject("w1", "ssd"));
  api_->Apply(NodeObject("w2", "hdd"));
  StartCaches();
  const Filter filter = MakeFilter(daemon_sets_.get(), nodes_.get());
  const std::string body = NamesBody({"w1", "w2"});
  EXPECT_EQ(filter.Handle(body).nodes_remembered, 0u);
  EXPECT_EQ(filter.Handle(body).nodes_remembered, 2u);
  const auto daemon_set = daemon_sets_->Find("kube-system", "agent", "");
  ASSERT_NE(daemon_set, nullptr);

  const uint64_t nodes_before = nodes_->cache().conversions();
  const uint64_t daemon_sets_before = daemon_sets_->cache().conversions();
  Json w1 = NodeObject("w1", "ssd");
  w1["status"] = {{"conditions",
                   {{{"type", "Ready"},
                     {"status", "True"},
                     {"lastHeartbeatTime", "2026-12-04T10:00:00Z"}}}}};
  api_->Apply(w1);
  Json agent = AgentDaemonSet("ssd");
  agent["status"] = {{"numberReady", 1}, {"desiredNumberScheduled", 1}};
  api_->Apply(agent);
  ASSERT_TRUE(Eventually([&] {
    return nodes_->cache().conversions() == nodes_before + 1 &&
           daemon_sets_->cache().conversions() == daemon_sets_before + 1;
  }));
  EXPECT_EQ(daemon_sets_->Find("kube-system", "agent", ""), daemon_set);
  const FilterReply after = filter.Handle(body);
  EXPECT_EQ(after.nodes_remembered, 2u);
  EXPECT_EQ(Json::parse(after.body)["NodeNames"], Json({"w1"})) << after.body;

  // A label is read: w1 is asked about again, and now refused.
  api_->Apply(NodeObject("w1", "hdd"));
  ASSERT_TRUE(Eventually(
      [&] { return nodes_->cache().conversions() == nodes_before + 2; }));
  const FilterReply relabelled = filter.Handle(body);
  EXPECT_EQ(relabelled.nodes_remembered, 1u);
  EXPECT_EQ(Json::parse(relabelled.body)["NodeNames"], Json::array())
      << relabelled.body;
}

TEST_F(ExtenderCacheTest, ConvertsOncePerResourceVersion) {
  for (int i = 0; i < 20; ++i) {
    api_->Apply(NodeObject("n" + std::to_string(i), "ssd"));
  }
  StartCaches();
  const ConvertedCache& cache = nodes_->cache();
  EXPECT_EQ(cache.size(), 20u);
  EXPECT_EQ(cache.conversions(), 20u);
  // Lookups, from several threads at once, convert nothing.
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        EXPECT_TRUE(nodes_->Find("n" + std::to_string(i % 20)).has_value());
      }
    });
  }
  // While they read, one node changes: one conversion.
  api_->Apply(NodeObject("n3", "hdd"));
  for (std::thread& t : readers) t.join();
  ASSERT_TRUE(Eventually([&] { return cache.conversions() == 21u; }))
      << cache.conversions();
  const auto n3 = nodes_->Find("n3");
  ASSERT_TRUE(n3.has_value());
  ASSERT_EQ(n3->labels_size(), 1);
  EXPECT_EQ(n3->labels(0).value(), "hdd");

  // A relist (the watch's resourceVersion compacted away: 410) returns the
  // same versions: nothing is converted again.
  // (Another kind's change first, so that the nodes' resourceVersion is
  // older than the compaction.)
  const uint64_t relisted_before = api_->Log().size();
  api_->Apply(AgentDaemonSet("ssd"));
  api_->Compact();
  api_->CutWatches();
  ASSERT_TRUE(Eventually([&] {
    int lists = 0;
    const auto log = api_->Log();
    for (size_t i = relisted_before; i < log.size(); ++i) {
      if (log[i].target.rfind("/api/v1/nodes?", 0) == 0 &&
          log[i].target.find("watch=1") == std::string::npos &&
          log[i].status == 200) {
        ++lists;
      }
    }
    return lists > 0 && cache.synced();
  }));
  EXPECT_EQ(cache.conversions(), 21u);
  EXPECT_EQ(cache.size(), 20u);
}

struct BadBody {
  std::string name;
  std::string body;
  std::string message;  // a part of the 400's Error
};
void PrintTo(const BadBody& b, std::ostream* os) { *os << b.name; }

class ExtenderBadBodyTest : public ExtenderTest,
                            public ::testing::WithParamInterface<BadBody> {};

// `body` with a first member simdjson cannot hold (a 30-digit number), so
// that the filter reads it from its text rather than simdjson's document.
std::string BeyondSimdjson(const std::string& body) {
  if (body.empty() || body.front() != '{') return body;
  return R"({"x":123456789012345678901234567890,)" + body.substr(1);
}

TEST_P(ExtenderBadBodyTest, Answers400) {
  // Each body both ways: from simdjson's document and from the text.
  for (const std::string& text :
       {GetParam().body, BeyondSimdjson(GetParam().body)}) {
    SCOPED_TRACE(text);
    const FilterReply reply = MakeFilter().Handle(text);
    EXPECT_EQ(reply.http_status, 400);
    EXPECT_EQ(reply.outcome, Outcome::kBadRequest);
    const Json body = Json::parse(reply.body, nullptr, false);
    ASSERT_TRUE(body.is_object()) << reply.body;
    EXPECT_NE(body["Error"].get<std::string>().find(GetParam().message),
              std::string::npos)
        << reply.body;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Bodies, ExtenderBadBodyTest,
    ::testing::ValuesIn(std::vector<BadBody>{
        {"Empty", "", "malformed JSON"},
        {"Truncated", R"({"Pod":{"metadata":{)", "malformed JSON"},
        {"TrailingGarbage", R"({"Pod":{}} x)", "malformed JSON"},
        {"NotUtf8", "{\"Pod\":{\"metadata\":{\"name\":\"\xff\"}}}",
         "malformed JSON"},
        {"NotAnObject", R"(["Pod"])", "must be a JSON object"},
        {"NoPod", R"({"Nodes":null,"NodeNames":["w1"]})", "has no Pod"},
        {"NullPod", R"({"Pod":null,"NodeNames":["w1"]})", "has no Pod"},
        {"PodNotAnObject", R"({"Pod":"p"})", "Pod must be an object"},
        {"NodeNamesNotAList", R"({"Pod":{},"NodeNames":"w1"})",
         "NodeNames must be a list"},
        {"NodeNamesNotStrings", R"({"Pod":{},"NodeNames":[1]})",
         "only strings"},
        {"NodesAList", R"({"Pod":{},"Nodes":[]})", "Nodes must be a NodeList"},
        {"ItemsNotAList", R"({"Pod":{},"Nodes":{"items":{}}})",
         "items must be a list"},
        {"ItemNotAnObject", R"({"Pod":{},"Nodes":{"items":["w1"]}})",
         "only Node objects"},
    }),
    testing::ParamName<BadBody>);

// JSON that simdjson, which validates bodies, cannot hold is still JSON:
// nlohmann (and Go's decoder) accept it, so the request is answered.
TEST_F(ExtenderTest, JsonBeyondSimdjsonIsStillAccepted) {
  const std::string deep =
      std::string(1100, '[') + std::string(1100, ']');  // past 1,024 levels
  const std::string bodies[] = {
      R"({"Pod":{"metadata":{"name":"p"},"x":123456789012345678901234567890},)"
      R"("NodeNames":["w1"]})",
      R"({"Pod":{"metadata":{"name":"p"},"x":)" + deep +
          R"(},"NodeNames":["w1"]})",
  };
  for (const std::string& body : bodies) {
    SCOPED_TRACE(body.substr(0, 60));
    const FilterReply reply = MakeFilter().Handle(body);
    EXPECT_EQ(reply.http_status, 200) << reply.body;
    EXPECT_EQ(reply.outcome, Outcome::kPassedThrough);
    EXPECT_EQ(reply.nodes_passed, 1u);
  }
}

// A node-names body is read from simdjson's document; one simdjson cannot
// hold, or one past the 1 MiB a worker's parser keeps, from its text. The
// answers are the same, byte for byte.
TEST_F(ExtenderTest, NodeNamesReadFromTheTextAnswerAlike) {
  const FakeNodes nodes;
  // Keys as written and with escapes (Go's decoder, and simdjson's
  // document, match "\u0050od" as Pod).
  for (const auto& [pod_key, names_key] :
       std::vector<std::pair<std::string, std::string>>{
           {"Pod", "NodeNames"}, {R"(\u0050od)", R"(Node\u004eames)"}}) {
    SCOPED_TRACE(pod_key + " " + names_key);
    const std::string rest = "\"" + pod_key + "\":" + kDaemonPod +
                             R"(,"Nodes":null,")" + names_key +
                             R"(":["w\u0031","w2","w9"]})";
    const std::string document = "{" + rest;
    const std::string big_number =
        R"({"x":123456789012345678901234567890,)" + rest;
    const std::string large =
        R"({"pad":")" + std::string(size_t{1} << 20, 'a') + R"(",)" + rest;
    const FilterReply want = MakeFilter(nullptr, &nodes).Handle(document);
    ASSERT_EQ(want.http_status, 200) << want.body;
    ASSERT_EQ(Json::parse(want.body)["NodeNames"], Json({"w1"})) << want.body;
    for (const std::string* body : {&big_number, &large}) {
      const FilterReply reply = MakeFilter(nullptr, &nodes).Handle(*body);
      EXPECT_EQ(reply.http_status, 200);
      EXPECT_EQ(reply.body, want.body);
      EXPECT_EQ(reply.nodes_sent, 3u);
      EXPECT_EQ(reply.nodes_passed, 1u);
    }
  }
}

struct Refusal {
  std::string name;
  std::vector<std::string> predicates;  // as dsd-server words them
  std::string message;
};
void PrintTo(const Refusal& r, std::ostream* os) { *os << r.name; }

class ExtenderRefusalMessageTest : public ::testing::TestWithParam<Refusal> {};

TEST_P(ExtenderRefusalMessageTest, NamesTheRuleNotTheNode) {
  v1::NodeExplanation failed;
  failed.set_node("worker-42");
  for (const std::string& p : GetParam().predicates) {
    failed.add_failed_predicates(p);
  }
  EXPECT_EQ(RefusalMessage("ns/ds", failed), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Predicates, ExtenderRefusalMessageTest,
    ::testing::ValuesIn(std::vector<Refusal>{
        {"TwoSelectorLabelsOnce",
         {"node label disk=hdd does not match nodeSelector disk=ssd",
          "node has no label zone required by nodeSelector zone=a"},
         "dsd: DaemonSet ns/ds: node(s) didn't match the nodeSelector"},
        {"AffinityAndTaint",
         {"required node affinity nodeSelectorTerms[0] does not match: node "
          "name worker-42 does not satisfy field metadata.name In [w1]",
          "taint a=b:NoExecute is not tolerated (NoExecute: running daemon "
          "pods are deleted)"},
         "dsd: DaemonSet ns/ds: node(s) didn't match the required node "
         "affinity; node(s) had untolerated taint a=b:NoExecute"},
        {"CutList",
         {"taint k:NoSchedule is not tolerated (NoSchedule: no new pod; a "
          "running one may stay)",
          "... and 3 more"},
         "dsd: DaemonSet ns/ds: node(s) had untolerated taint k:NoSchedule"},
        {"NodeName",
         {"pod template nodeName w1 names another node"},
         "dsd: DaemonSet ns/ds: the pod template's nodeName names another "
         "node"},
        {"UnknownWording",
         {"worker-42 is special"},
         "dsd: DaemonSet ns/ds: node(s) didn't satisfy the DaemonSet's "
         "placement rules"},
    }),
    testing::ParamName<Refusal>);

}  // namespace
}  // namespace dsd::extender
