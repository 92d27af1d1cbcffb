// dsd-adapter end to end: the real dsd-server and dsd-adapter binaries as
// child processes, the fake API server in the test process holding the
// bundled ssd-monitor cluster.
// --mode=audit: drift appears as planned (the live cluster gives the
// golden plan of the files), relabelling a node shows up within 2 s, API
// and dsd-server faults end in a correct report, and the API server's
// request log shows no write.
// --mode=apply (ApplyTest): the seed scenario carried out live, with the
// fake binding and running the pods it is sent; each safety rule of
// client/adapter/apply.h against the request log.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/k8s/snapshot_loader.h"
#include "google/protobuf/io/coded_stream.h"
#include "httplib.h"
#include "tests/kube/fake_apiserver.h"
#include "tests/testing/child_process.h"
#include "tests/testing/eventually.h"
#include "tests/transport/server_process.h"

namespace dsd::adapter {
namespace {

using dsd::testing::Eventually;
using dsd::testing::FakeApiServer;
using dsd::testing::Fault;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// dsd-adapter as a child process (see ChildProcess): standard output and
// error in one file, and never the developer's cluster.
class Adapter : public testing::ChildProcess {
 public:
  explicit Adapter(const std::vector<std::string>& args)
      : ChildProcess(DSD_ADAPTER_BIN, args,
                     {.env = {},
                      .unset_env = {"KUBECONFIG", "KUBERNETES_SERVICE_HOST"},
                      .capture_stdout = true,
                      .stdout_path = {}}) {}
  std::optional<int> Wait(std::chrono::milliseconds timeout) {
    return WaitForExit(timeout);
  }
};

int FreePort() {
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  close(s);
  return ntohs(a.sin_port);
}

// Waits up to `timeout` for the report to satisfy `done`; the last report.
template <typename F>
nlohmann::json WaitForReport(
    const std::string& path, F done,
    std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  nlohmann::json last;
  while (std::chrono::steady_clock::now() < until) {
    nlohmann::json r = nlohmann::json::parse(ReadFile(path), nullptr, false);
    if (!r.is_discarded()) {
      last = r;
      if (done(r)) return r;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return last;
}

// "ns/ds create node" / "ns/ds delete pod reason" for each drift item.
std::set<std::string> DriftSet(const nlohmann::json& report) {
  std::set<std::string> out;
  if (!report.contains("daemonSets")) return out;
  for (const nlohmann::json& ds : report["daemonSets"]) {
    for (const nlohmann::json& d : ds["drift"]) {
      const std::string prefix = ds["namespace"].get<std::string>() + "/" +
                                 ds["name"].get<std::string>() + " ";
      if (d["action"] == "create") {
        out.insert(prefix + "create " + d["node"].get<std::string>());
      } else {
        out.insert(prefix + "delete " + d["pod"].get<std::string>() + " " +
                   d["reason"].get<std::string>());
      }
    }
  }
  return out;
}

// The plan of tests/e2e/golden as the same strings.
std::set<std::string> GoldenSet(const std::string& name) {
  const nlohmann::json plan =
      nlohmann::json::parse(ReadFile(std::string(DSD_GOLDEN_DIR) + "/" + name));
  std::set<std::string> out;
  for (const nlohmann::json& ds : plan["daemonSets"]) {
    const std::string prefix = ds["namespace"].get<std::string>() + "/" +
                               ds["name"].get<std::string>() + " ";
    for (const nlohmann::json& c : ds["create"]) {
      out.insert(prefix + "create " + c["node"].get<std::string>());
    }
    for (const nlohmann::json& d : ds["delete"]) {
      out.insert(prefix + "delete " + d["pod"].get<std::string>() + " " +
                 d["reason"].get<std::string>());
    }
  }
  return out;
}

class AdapterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // One flat directory per test ("ExitCode/Once" -> "ExitCode-Once").
    std::string name =
        ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::replace(name.begin(), name.end(), '/', '-');
    dir_ = ::testing::TempDir() + "adapter-" + name;
    std::filesystem::create_directories(dir_);
    report_ = dir_ + "/report.json";
    std::filesystem::remove(report_);
    server_ = FakeApiServer::Start(fake_options_);
    ASSERT_NE(server_, nullptr);
    server_->Load(ReadFile(std::string(DSD_EXAMPLES_DIR) +
                           "/ssd-monitor/01-cluster.yaml"));
    kubeconfig_ = dir_ + "/kubeconfig";
    std::ofstream(kubeconfig_)
        << "apiVersion: v1\nkind: Config\ncurrent-context: fake\n"
           "clusters:\n- name: fake\n  cluster:\n    server: "
        << server_->url()
        << "\nusers:\n- name: fake\n  user: {}\ncontexts:\n- name: fake\n"
           "  context:\n    cluster: fake\n    user: fake\n";
  }

  // The kubeconfig, report and outputs go with the test.
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void StartDsdServer(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--listen", "127.0.0.1:0"};
    args.insert(args.end(), extra.begin(), extra.end());
    dsd_server_ = std::make_unique<transport::testing::ServerProcess>(args);
    address_ = dsd_server_->WaitForAddress(std::chrono::seconds(20));
    ASSERT_FALSE(address_.empty()) << dsd_server_->Stderr();
  }

  std::vector<std::string> Args(std::vector<std::string> extra) const {
    std::vector<std::string> args = {"--kubeconfig", kubeconfig_, "--server",
                                     address_,       "--report",  report_,
                                     "--debounce",   "0.05"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }

  // No POST, PUT, PATCH or DELETE reached the API server.
  void ExpectReadOnly() const {
    for (const dsd::testing::LoggedRequest& r : server_->Log()) {
      EXPECT_EQ(r.method, "GET") << r.target;
    }
  }

  FakeApiServer::Options fake_options_;
  std::string dir_, report_, kubeconfig_, address_;
  std::unique_ptr<FakeApiServer> server_;
  std::unique_ptr<transport::testing::ServerProcess> dsd_server_;
};

// A running, ready ssd-monitor pod on `node`, as the controller makes it.
nlohmann::json SsdMonitorPod(const FakeApiServer& server,
                             const std::string& node) {
  const nlohmann::json ds = server.Get("DaemonSet", "default", "ssd-monitor");
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata",
           {{"name", "ssd-monitor-" + node},
            {"namespace", "default"},
            {"creationTimestamp", "2026-01-01T00:00:00Z"},
            {"labels",
             {{"app", "ssd-monitor"},
              {"controller-revision-hash", "6c9f8d7b5"},
              {"pod-template-generation", "1"}}},
            {"ownerReferences",
             {{{"apiVersion", "apps/v1"},
               {"kind", "DaemonSet"},
               {"name", "ssd-monitor"},
               {"uid", ds["metadata"]["uid"]},
               {"controller", true}}}}}},
          {"spec", {{"nodeName", node}}},
          {"status",
           {{"phase", "Running"},
            {"conditions",
             {{{"type", "Ready"},
               {"status", "True"},
               {"lastTransitionTime", "2026-01-01T00:00:00Z"}}}}}}};
}

TEST_F(AdapterTest, LivePlanIsTheFilesPlanAndARelabelIsDriftWithin2s) {
  StartDsdServer();
  const int port = FreePort();
  Adapter adapter(Args({"--drift_after", "0", "--health_listen",
                        "127.0.0.1:" + std::to_string(port)}));
  nlohmann::json report = WaitForReport(report_, [](const nlohmann::json& r) {
    return r.value("driftTotal", 0) > 0;
  });
  // The live cluster gives the plan dsdctl gives for the file.
  EXPECT_EQ(DriftSet(report), GoldenSet("01-cluster.json")) << report.dump(2);
  EXPECT_TRUE(report["synced"].get<bool>());
  EXPECT_EQ(report["watches"]["nodes"]["state"], "watching");
  // The per-node explanation comes with each item.
  EXPECT_TRUE(report["daemonSets"][0]["drift"][0].contains("explanation"));

  // The controller carries out ssd-monitor's creates: that drift resolves.
  server_->Apply(SsdMonitorPod(*server_, "k8s-node1"));
  server_->Apply(SsdMonitorPod(*server_, "k8s-node2"));
  report = WaitForReport(report_, [](const nlohmann::json& r) {
    return r.value("driftTotal", 0) == 1;
  });
  EXPECT_EQ(DriftSet(report),
            (std::set<std::string>{"kube-system/fluentd-elasticsearch create "
                                   "k8s-node3"}))
      << report.dump(2);
  httplib::Client health("127.0.0.1", port);
  auto ready = health.Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
  auto metrics = health.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find(
                "dsd_adapter_drift{namespace=\"kube-system\",daemonset="
                "\"fluentd-elasticsearch\",action=\"create\",reason=\"\"} 1"),
            std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("dsd_adapter_watch_synced{resource=\"pods\"} 1"),
            std::string::npos);
  EXPECT_NE(metrics->body.find("dsd_adapter_api_calls_total{verb=\"LIST\","
                               "code=\"200\"}"),
            std::string::npos);

  // kubectl label node k8s-node1 disk=hdd --overwrite
  nlohmann::json node = server_->Get("Node", "", "k8s-node1");
  node["metadata"]["labels"]["disk"] = "hdd";
  const auto relabelled = std::chrono::steady_clock::now();
  server_->Apply(node);
  report = WaitForReport(
      report_,
      [](const nlohmann::json& r) {
        return DriftSet(r).count(
                   "default/ssd-monitor delete ssd-monitor-k8s-node1 "
                   "NodeAffinityMismatch") > 0;
      },
      std::chrono::seconds(2));
  EXPECT_LT(std::chrono::steady_clock::now() - relabelled,
            std::chrono::seconds(2));
  EXPECT_EQ(DriftSet(report),
            (std::set<std::string>{
                "kube-system/fluentd-elasticsearch create k8s-node3",
                "default/ssd-monitor delete ssd-monitor-k8s-node1 "
                "NodeAffinityMismatch"}))
      << report.dump(2);
  // Both DaemonSets decided after the first list, ssd-monitor again for
  // its pods, both for the node; every batch counted with its size.
  metrics = health.Get("/metrics");
  ASSERT_TRUE(metrics);
  for (const char* want :
       {"dsd_adapter_daemonsets_decided_total{reason=\"list\"} 2\n",
        "dsd_adapter_daemonsets_decided_total{reason=\"node\"} 2\n",
        "dsd_adapter_daemonsets_decided_total{reason=\"pod\"} ",
        "dsd_adapter_decide_batch_daemonsets_bucket{le=\"1\"} ",
        "dsd_adapter_decide_seconds_bucket{le=\"+Inf\"} "}) {
    EXPECT_NE(metrics->body.find(want), std::string::npos) << want << "\n"
                                                           << metrics->body;
  }
  EXPECT_EQ(metrics->body.find("reason=\"daemonset\""), std::string::npos);
  adapter.Signal(SIGTERM);
  EXPECT_EQ(adapter.Wait(std::chrono::seconds(10)), 0) << adapter.Output();
  const std::string out = adapter.Output();
  EXPECT_NE(out.find("warning drift daemonset=default/ssd-monitor "
                     "action=delete node=k8s-node1 pod=ssd-monitor-k8s-node1 "
                     "reason=NodeAffinityMismatch"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("drift resolved daemonset=default/ssd-monitor"),
            std::string::npos)
      << out;
  ExpectReadOnly();
}

TEST_F(AdapterTest, DriftWaitsForDriftAfter) {
  StartDsdServer();
  Adapter adapter(Args({"--drift_after", "1.5", "--log_format", "json"}));
  nlohmann::json report = WaitForReport(report_, [](const nlohmann::json& r) {
    return r.value("pendingActions", 0) == 3;
  });
  EXPECT_EQ(report["driftTotal"], 0) << report.dump(2);
  report = WaitForReport(report_, [](const nlohmann::json& r) {
    return r.value("driftTotal", 0) == 3;
  });
  // Each action became drift no earlier than --drift_after after it was
  // first planned, by the adapter's own clock (the report's timestamps,
  // in ms): the test's own polling may see the pending report late.
  const auto time_of = [](const nlohmann::json& rfc3339) {
    absl::Time t;
    std::string error;
    EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, rfc3339.get<std::string>(),
                                &t, &error))
        << rfc3339 << ": " << error;
    return t;
  };
  const absl::Time generated = time_of(report["generatedAt"]);
  int actions = 0;
  for (const nlohmann::json& ds : report["daemonSets"]) {
    for (const nlohmann::json& action : ds["drift"]) {
      ++actions;
      EXPECT_GE(generated - time_of(action["since"]), absl::Seconds(1.5))
          << action.dump();
    }
  }
  EXPECT_EQ(actions, 3) << report.dump(2);
  adapter.Signal(SIGINT);
  EXPECT_EQ(adapter.Wait(std::chrono::seconds(10)), 0);
  // Every line is a JSON object.
  std::istringstream lines(adapter.Output());
  int drift_lines = 0;
  for (std::string line; std::getline(lines, line);) {
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(j.is_object()) << line;
    if (j["msg"] == "drift") ++drift_lines;
  }
  EXPECT_EQ(drift_lines, 3);
}

// Each fault ends in a correct report: the same drift as without it.
struct FaultCase {
  std::string name;
  std::vector<Fault> faults;
  bool compact_and_cut = false;  // 410 on the re-watch and the relist
  std::string log;               // the adapter's log mentions this
};

// ctest lists each case by its name.
void PrintTo(const FaultCase& c, std::ostream* os) { *os << c.name; }

Fault Status(std::string match, int code, int retry_after, int times = 1) {
  Fault f;
  f.match = std::move(match);
  f.status = code;
  f.retry_after = retry_after;
  f.times = times;
  return f;
}

Fault Kind(Fault::Kind kind, std::string match, std::string body = "") {
  Fault f;
  f.kind = kind;
  f.match = std::move(match);
  f.body = std::move(body);
  f.after_events = 0;
  return f;
}

const FaultCase kFaults[] = {
    {"ListThrottled429", {Status("GET /api/v1/pods?", 429, 1)}, false, ""},
    {"List500WithRetryAfter",
     {Status("GET /apis/apps/v1/daemonsets?", 500, 0)},
     false,
     ""},
    {"List500WithoutRetryAfter",
     {Status("GET /api/v1/nodes?", 500, -1, 2)},
     false,
     "HTTP 500"},
    {"List503", {Status("GET /api/v1/pods?", 503, -1)}, false, "HTTP 503"},
    {"Forbidden403",
     {Status("GET /api/v1/nodes?", 403, -1)},
     false,
     "HTTP 403 Forbidden"},
    {"Unauthorized401",
     {Status("GET /apis/apps/v1/daemonsets?", 401, -1)},
     false,
     "HTTP 401 Unauthorized"},
    {"NotFound404",
     {Status("GET /apis/apps/v1/controllerrevisions?", 404, -1)},
     false,
     "HTTP 404 NotFound"},
    {"Timeout504", {Status("GET /api/v1/pods?", 504, -1)}, false, "HTTP 504"},
    {"DroppedList",
     {Kind(Fault::Kind::kDrop, "GET /api/v1/nodes?")},
     false,
     ""},
    {"DroppedWatch",
     {Kind(Fault::Kind::kCutWatch, "/api/v1/pods?watch=1")},
     false,
     "connection dropped"},
    {"GarbageList",
     {Kind(Fault::Kind::kGarbage, "GET /api/v1/nodes?", "{")},
     false,
     "not a JSON object"},
    {"GarbageWatchLine",
     {Kind(Fault::Kind::kGarbage, "/api/v1/nodes?watch=1", "nope\n")},
     false,
     "not a JSON object"},
    {"GoneAfterCompaction", {}, true, "410"},
};

class AdapterFaultTest : public AdapterTest,
                         public ::testing::WithParamInterface<FaultCase> {};

TEST_P(AdapterFaultTest, EndsInACorrectReport) {
  const FaultCase& c = GetParam();
  for (const Fault& f : c.faults) server_->AddFault(f);
  StartDsdServer();
  Adapter adapter(Args({"--drift_after", "0"}));
  if (c.compact_and_cut) {
    WaitForReport(report_, [](const nlohmann::json& r) {
      return r.value("driftTotal", 0) == 3;
    });
    ASSERT_TRUE(server_->open_watches() > 0 || true);
    server_->CutWatches();
    server_->Apply(SsdMonitorPod(*server_, "k8s-node1"));
    server_->Compact();
  }
  const std::set<std::string> want =
      c.compact_and_cut
          ? std::set<std::string>{"default/ssd-monitor create k8s-node2",
                                  "kube-system/fluentd-elasticsearch create "
                                  "k8s-node3"}
          : GoldenSet("01-cluster.json");
  const nlohmann::json report = WaitForReport(
      report_, [&](const nlohmann::json& r) { return DriftSet(r) == want; },
      std::chrono::seconds(20));
  EXPECT_EQ(DriftSet(report), want) << report.dump(2) << adapter.Output();
  EXPECT_TRUE(adapter.running()) << adapter.Output();
  // The report can be right before the fault shows (a watch is cut once
  // it has started): wait for its log line.
  if (!c.log.empty()) adapter.WaitForOutput(c.log, std::chrono::seconds(10));
  adapter.Signal(SIGTERM);
  EXPECT_EQ(adapter.Wait(std::chrono::seconds(10)), 0);
  if (!c.log.empty()) {
    EXPECT_NE(adapter.Output().find(c.log), std::string::npos)
        << adapter.Output();
  }
  ExpectReadOnly();
}

INSTANTIATE_TEST_SUITE_P(Faults, AdapterFaultTest, ::testing::ValuesIn(kFaults),
                         [](const auto& p) { return p.param.name; });

TEST_F(AdapterTest, DsdServerUnavailableIsReportedAndRetried) {
  address_ = "127.0.0.1:" + std::to_string(FreePort());  // nobody listens
  Adapter adapter(Args({"--drift_after", "0", "--timeout", "1"}));
  nlohmann::json report = WaitForReport(report_, [](const nlohmann::json& r) {
    return !r["lastDecide"]["error"].get<std::string>().empty();
  });
  EXPECT_NE(
      report["lastDecide"]["error"].get<std::string>().find("UNAVAILABLE"),
      std::string::npos)
      << report.dump(2);
  EXPECT_EQ(report["driftTotal"], 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_TRUE(adapter.running()) << adapter.Output();
  // dsd-server comes up on that address: the retry finds it.
  dsd_server_ = std::make_unique<transport::testing::ServerProcess>(
      std::vector<std::string>{"--listen", address_});
  ASSERT_FALSE(dsd_server_->WaitForAddress(std::chrono::seconds(20)).empty());
  report = WaitForReport(
      report_,
      [](const nlohmann::json& r) { return r.value("driftTotal", 0) == 3; },
      std::chrono::seconds(40));
  EXPECT_EQ(report["driftTotal"], 3) << report.dump(2);
  EXPECT_EQ(report["lastDecide"]["error"], "");
  adapter.Signal(SIGTERM);
  EXPECT_EQ(adapter.Wait(std::chrono::seconds(10)), 0);
}

// One Decide as dsd-server's debug request log shows it (a real
// observable of what the adapter sent).
struct LoggedDecide {
  int nodes, pods, daemon_sets;
};

std::vector<LoggedDecide> Decides(const std::string& server_log) {
  static const std::regex kLine(
      R"(rpc method=\S*Decide code=OK .*nodes=(\d+) pods=(\d+) )"
      R"(daemon_sets=(\d+))");
  std::vector<LoggedDecide> out;
  for (auto it =
           std::sregex_iterator(server_log.begin(), server_log.end(), kLine);
       it != std::sregex_iterator(); ++it) {
    out.push_back(
        {std::stoi((*it)[1]), std::stoi((*it)[2]), std::stoi((*it)[3])});
  }
  return out;
}

// The drift items' "since", by DriftSet string.
std::map<std::string, std::string> Since(const nlohmann::json& report) {
  std::map<std::string, std::string> out;
  for (const nlohmann::json& ds : report["daemonSets"]) {
    for (const nlohmann::json& d : ds["drift"]) {
      out[ds["namespace"].get<std::string>() + "/" +
          ds["name"].get<std::string>() + " " + d["action"].get<std::string>() +
          " " + d["node"].get<std::string>()] = d["since"];
    }
  }
  return out;
}

// A change to the ssd-monitor cluster and the Decide calls it must cause:
// which DaemonSets (count per call, as Kubernetes' controller would
// resync them: a pod its owner, a node every DaemonSet) and what drift
// follows.
struct ChangeCase {
  std::string name;
  std::vector<std::string> args;  // extra adapter flags
  std::function<void(FakeApiServer&)> change;
  std::multiset<int> daemon_sets_per_call;  // of the calls it causes
  int pods_per_call;                        // -1: not checked
  std::set<std::string> drift;              // afterwards
};

// ctest lists each case by its name.
void PrintTo(const ChangeCase& c, std::ostream* os) { *os << c.name; }

// Replaced by OwnBytesAndHalfTheNodes() when the test runs.
constexpr char kOwnBytesAndHalfTheNodes[] = "OWN_BYTES_AND_HALF_THE_NODES";

const std::set<std::string> kAfterNode1 = {
    "default/ssd-monitor create k8s-node2",
    "kube-system/fluentd-elasticsearch create k8s-node3"};

nlohmann::json WithoutController(nlohmann::json pod) {
  pod["metadata"].erase("ownerReferences");
  return pod;
}

nlohmann::json OwnedByReplicaSet(nlohmann::json pod) {
  pod["metadata"]["ownerReferences"] = {{{"apiVersion", "apps/v1"},
                                         {"kind", "ReplicaSet"},
                                         {"name", "web-5d4f"},
                                         {"uid", "rs-uid"},
                                         {"controller", true}}};
  return pod;
}

void RelabelNode1(FakeApiServer& s) {
  nlohmann::json node = s.Get("Node", "", "k8s-node1");
  node["metadata"]["labels"]["disk"] = "hdd";
  s.Apply(node);
}

const ChangeCase kChanges[] = {
    {"OwnedPodDecidesOnlyItsDaemonSet",
     {},
     [](FakeApiServer& s) { s.Apply(SsdMonitorPod(s, "k8s-node1")); },
     {1},
     1,
     kAfterNode1},
    // Upstream's addPod: an orphan goes to the DaemonSets that may adopt
    // it. dsd adopts it into ssd-monitor, so the create on k8s-node1 goes.
    {"OrphanPodDecidesItsNamespaceAndIsAdopted",
     {},
     [](FakeApiServer& s) {
       s.Apply(WithoutController(SsdMonitorPod(s, "k8s-node1")));
     },
     {1},
     1,
     kAfterNode1},
    {"OtherControllersPodDecidesNothing",
     {},
     [](FakeApiServer& s) {
       s.Apply(OwnedByReplicaSet(SsdMonitorPod(s, "k8s-node1")));
     },
     {},
     -1,
     GoldenSet("01-cluster.json")},
    {"DaemonSetEventDecidesIt",
     {},
     [](FakeApiServer& s) {
       nlohmann::json ds =
           s.Get("DaemonSet", "kube-system", "fluentd-elasticsearch");
       ds["metadata"]["annotations"]["touched"] = "yes";
       s.Apply(ds);
     },
     {1},
     3,
     GoldenSet("01-cluster.json")},
    {"DeletedDaemonSetDropsItsDrift",
     {},
     [](FakeApiServer& s) {
       s.Delete("DaemonSet", "kube-system", "fluentd-elasticsearch");
     },
     {},
     -1,
     {"default/ssd-monitor create k8s-node1",
      "default/ssd-monitor create k8s-node2"}},
    {"NodeEventDecidesAllInOneBatch", {}, RelabelNode1, {2}, -1, kAfterNode1},
    {"NodeEventBatchesRespectTheCount",
     {"--max_batch_daemonsets", "1"},
     RelabelNode1,
     {1, 1},
     -1,
     kAfterNode1},
    {"NodeEventBatchesRespectTheBytes",
     {"--max_batch_bytes", "1"},  // every DaemonSet alone
     RelabelNode1,
     {1, 1},
     -1,
     kAfterNode1},
    // Room for both DaemonSets and their pods, not for the nodes as well:
    // the nodes, held once for every batch, do not count.
    {"NodeEventBatchesCountOnlyTheirOwnBytes",
     {"--max_batch_bytes", kOwnBytesAndHalfTheNodes},
     RelabelNode1,
     {2},
     -1,
     kAfterNode1},
};

// The bytes of the example cluster's DaemonSets and pods as request
// fields, and half its nodes', as dsd-adapter converts them (the live and
// the kubectl JSON conversions are the same: reflector_test).
std::string OwnBytesAndHalfTheNodes() {
  dsd::client::SnapshotLoader loader;
  loader.AddFile(std::string(DSD_EXAMPLES_DIR) +
                 "/ssd-monitor/01-cluster.yaml");
  const dsd::client::LoadedSnapshot loaded = loader.Finish();
  EXPECT_TRUE(loaded.problems.empty());
  // A length-delimited field numbered below 16: tag, length, bytes.
  auto field = [](size_t size) {
    return 1 + google::protobuf::io::CodedOutputStream::VarintSize64(size) +
           size;
  };
  size_t own = 0, nodes = 0;
  for (const auto& ds : loaded.snapshot.daemon_sets()) {
    own += field(ds.ByteSizeLong());
  }
  for (const auto& pod : loaded.snapshot.pods()) {
    own += field(pod.ByteSizeLong());
  }
  for (const auto& node : loaded.snapshot.nodes()) {
    nodes += field(node.ByteSizeLong());
  }
  return std::to_string(own + nodes / 2);
}

class AdapterChangeTest : public AdapterTest,
                          public ::testing::WithParamInterface<ChangeCase> {};

TEST_P(AdapterChangeTest, DecidesWhatTheChangeAffects) {
  const ChangeCase& c = GetParam();
  StartDsdServer({"--log_level", "debug"});
  std::vector<std::string> args = {"--drift_after", "0", "--resync", "0"};
  args.insert(args.end(), c.args.begin(), c.args.end());
  for (std::string& arg : args) {
    if (arg == kOwnBytesAndHalfTheNodes) arg = OwnBytesAndHalfTheNodes();
  }
  Adapter adapter(Args(args));
  const nlohmann::json before = WaitForReport(
      report_,
      [](const nlohmann::json& r) { return r.value("driftTotal", 0) == 3; });
  ASSERT_EQ(DriftSet(before), GoldenSet("01-cluster.json")) << adapter.Output();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // settle
  const std::vector<LoggedDecide> initial = Decides(dsd_server_->Stderr());
  ASSERT_FALSE(initial.empty()) << dsd_server_->Stderr();
  int bound = 8;
  for (size_t i = 0; i + 1 < c.args.size(); ++i) {
    if (c.args[i] == "--max_batch_daemonsets" ||
        (c.args[i] == "--max_batch_bytes" && c.args[i + 1] == "1")) {
      bound = 1;
    }
  }
  for (const LoggedDecide& d : initial) EXPECT_LE(d.daemon_sets, bound);

  c.change(*server_);
  const nlohmann::json after = WaitForReport(
      report_, [&](const nlohmann::json& r) { return DriftSet(r) == c.drift; });
  // Calls still in flight would show up in the log by now.
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  EXPECT_EQ(DriftSet(after), c.drift) << after.dump(2) << adapter.Output();
  const std::vector<LoggedDecide> all = Decides(dsd_server_->Stderr());
  std::multiset<int> per_call;
  for (size_t i = initial.size(); i < all.size(); ++i) {
    per_call.insert(all[i].daemon_sets);
    EXPECT_EQ(all[i].nodes, 4);  // every batch carries every node
    if (c.pods_per_call >= 0) {
      EXPECT_EQ(all[i].pods, c.pods_per_call);
    }
  }
  EXPECT_EQ(per_call, c.daemon_sets_per_call) << dsd_server_->Stderr();
  // Drift of a DaemonSet that was not decided again keeps its "since".
  const auto since_before = Since(before);
  for (const auto& [item, since] : Since(after)) {
    if (since_before.count(item) > 0) {
      EXPECT_EQ(since, since_before.at(item)) << item;
    }
  }
  adapter.Signal(SIGTERM);
  EXPECT_EQ(adapter.Wait(std::chrono::seconds(10)), 0);
  ExpectReadOnly();
}

INSTANTIATE_TEST_SUITE_P(Changes, AdapterChangeTest,
                         ::testing::ValuesIn(kChanges),
                         [](const auto& p) { return p.param.name; });

// The debounce gathers bursts without delaying a lone change: the first
// change after a quiet spell is decided at once, one that follows a round
// within --debounce waits for the debounce.
TEST_F(AdapterTest, DebounceDelaysOnlyChangesThatFollowARound) {
  StartDsdServer();
  std::vector<std::string> args = Args({"--drift_after", "0", "--resync", "0"});
  const auto debounce = std::find(args.begin(), args.end(), "--debounce");
  ASSERT_NE(debounce, args.end());
  *std::next(debounce) = "4";
  Adapter adapter(args);
  WaitForReport(report_, [](const nlohmann::json& r) {
    return r.value("driftTotal", 0) == 3;
  });
  std::this_thread::sleep_for(std::chrono::seconds(5));  // a quiet spell
  const std::string node1_delete =
      "default/ssd-monitor delete ssd-monitor-k8s-node1 NodeAffinityMismatch";
  server_->Apply(SsdMonitorPod(*server_, "k8s-node1"));
  std::this_thread::sleep_for(std::chrono::seconds(5));
  auto start = std::chrono::steady_clock::now();
  RelabelNode1(*server_);
  nlohmann::json report = WaitForReport(
      report_,
      [&](const nlohmann::json& r) { return DriftSet(r).count(node1_delete); },
      std::chrono::seconds(10));
  EXPECT_EQ(DriftSet(report).count(node1_delete), 1u) << report.dump(2);
  EXPECT_LT(std::chrono::steady_clock::now() - start,
            std::chrono::milliseconds(2500));
  // Right after that round: back to disk=ssd, decided after the debounce.
  start = std::chrono::steady_clock::now();
  nlohmann::json node = server_->Get("Node", "", "k8s-node1");
  node["metadata"]["labels"]["disk"] = "ssd";
  server_->Apply(node);
  report = WaitForReport(
      report_,
      [&](const nlohmann::json& r) { return !DriftSet(r).count(node1_delete); },
      std::chrono::seconds(20));
  EXPECT_EQ(DriftSet(report).count(node1_delete), 0u) << report.dump(2);
  EXPECT_GE(std::chrono::steady_clock::now() - start,
            std::chrono::milliseconds(3500));
  adapter.Signal(SIGTERM);
  EXPECT_EQ(adapter.Wait(std::chrono::seconds(10)), 0);
}

// An object the converter takes but dsd-server refuses (more labels than
// its per-object cap): the failed batch names the object as Kubernetes
// does, the adapter keeps running and retries, and once the object is
// gone the report is right again.
TEST_F(AdapterTest, ServerRejectionNamesTheObjectAndIsRetried) {
  StartDsdServer();
  nlohmann::json pod = SsdMonitorPod(*server_, "k8s-node1");
  for (int i = 0; i <= 1000; ++i) {
    pod["metadata"]["labels"]["extra-" + std::to_string(i)] = "x";
  }
  server_->Apply(pod);
  Adapter adapter(Args({"--drift_after", "0"}));
  ASSERT_TRUE(
      adapter.WaitForOutput("decide failed.*", std::chrono::seconds(20)))
      << adapter.Output();
  const std::string out = adapter.Output();
  EXPECT_NE(out.find("RESOURCE_EXHAUSTED"), std::string::npos) << out;
  EXPECT_NE(out.find("Pod default/ssd-monitor-k8s-node1: metadata.labels"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("daemonsets=default/ssd-monitor"), std::string::npos)
      << out;
  nlohmann::json report = WaitForReport(report_, [](const nlohmann::json& r) {
    return !r["lastDecide"]["error"].get<std::string>().empty();
  });
  EXPECT_NE(report["lastDecide"]["error"].get<std::string>().find(
                "Pod default/ssd-monitor-k8s-node1"),
            std::string::npos)
      << report.dump(2);
  // The refusal holds back only the DaemonSet it is about: fluentd, sent
  // in the same call (--max_batch_daemonsets 8), is decided alone.
  const std::string fluentd =
      "kube-system/fluentd-elasticsearch create k8s-node3";
  report = WaitForReport(report_, [&](const nlohmann::json& r) {
    return DriftSet(r).count(fluentd) > 0;
  });
  EXPECT_EQ(DriftSet(report), std::set<std::string>{fluentd}) << report.dump(2);
  server_->Delete("Pod", "default", "ssd-monitor-k8s-node1");
  report = WaitForReport(
      report_,
      [](const nlohmann::json& r) {
        return DriftSet(r) == GoldenSet("01-cluster.json") &&
               r["lastDecide"]["error"] == "";
      },
      std::chrono::seconds(20));
  EXPECT_EQ(DriftSet(report), GoldenSet("01-cluster.json")) << report.dump(2);
  EXPECT_EQ(report["lastDecide"]["error"], "") << report.dump(2);
  EXPECT_TRUE(adapter.running());
  adapter.Signal(SIGTERM);
  EXPECT_EQ(adapter.Wait(std::chrono::seconds(10)), 0);
}

// -l: a DaemonSet relabelled out of the selector leaves the audit with its
// drift (the API server's watch says DELETED), and comes back when
// relabelled into it (ADDED).
TEST_F(AdapterTest, ADaemonSetRelabelledOutOfTheSelectorLeavesTheAudit) {
  StartDsdServer();
  nlohmann::json ds = server_->Get("DaemonSet", "default", "ssd-monitor");
  ds["metadata"]["labels"]["team"] = "a";
  server_->Apply(ds);
  Adapter adapter(Args({"--drift_after", "0", "-l", "team=a"}));
  const std::set<std::string> ssd = {"default/ssd-monitor create k8s-node1",
                                     "default/ssd-monitor create k8s-node2"};
  nlohmann::json report = WaitForReport(
      report_, [&](const nlohmann::json& r) { return DriftSet(r) == ssd; });
  ASSERT_EQ(DriftSet(report), ssd) << report.dump(2);

  ds["metadata"]["labels"]["team"] = "b";
  server_->Apply(ds);
  report = WaitForReport(
      report_, [](const nlohmann::json& r) { return DriftSet(r).empty(); });
  EXPECT_TRUE(DriftSet(report).empty()) << report.dump(2);

  ds["metadata"]["labels"]["team"] = "a";
  server_->Apply(ds);
  report = WaitForReport(
      report_, [&](const nlohmann::json& r) { return DriftSet(r) == ssd; });
  EXPECT_EQ(DriftSet(report), ssd) << report.dump(2);
  ExpectReadOnly();
  adapter.Signal(SIGTERM);
  EXPECT_EQ(adapter.Wait(std::chrono::seconds(10)), 0);
}

// A DaemonSet dsd cannot read (here an unknown selector operator) is
// reported and holds back only itself: the cluster's other DaemonSets are
// decided as without it. Once fixed, it is decided too.
TEST_F(AdapterTest, AnUnreadableDaemonSetHoldsBackOnlyItself) {
  StartDsdServer();
  nlohmann::json bad = {
      {"apiVersion", "apps/v1"},
      {"kind", "DaemonSet"},
      {"metadata", {{"name", "bad"}, {"namespace", "team"}, {"uid", "u-bad"}}},
      {"spec",
       {{"selector",
         {{"matchExpressions",
           {{{"key", "app"}, {"operator", "Bogus"}, {"values", {"x"}}}}}}},
        {"template",
         {{"metadata", {{"labels", {{"app", "x"}}}}},
          {"spec",
           {{"containers", {{{"name", "c"}, {"image", "i"}}}},
            {"nodeSelector", {{"disk", "none"}}}}}}}}}};
  server_->Apply(bad);
  Adapter adapter(Args({"--drift_after", "0"}));
  nlohmann::json report = WaitForReport(report_, [](const nlohmann::json& r) {
    return !DriftSet(r).empty() && !r["problems"].empty();
  });
  EXPECT_EQ(DriftSet(report), GoldenSet("01-cluster.json")) << report.dump(2);
  ASSERT_EQ(report["problems"].size(), 1u) << report.dump(2);
  EXPECT_NE(report["problems"][0].get<std::string>().find(
                "DaemonSet team/bad: spec.selector.matchExpressions[0]."
                "operator"),
            std::string::npos)
      << report.dump(2);
  EXPECT_NE(report["lastDecide"]["error"], "") << report.dump(2);
  EXPECT_TRUE(adapter.WaitForOutput("cluster object: .*daemonsets=team/bad",
                                    std::chrono::seconds(5)))
      << adapter.Output();

  bad["spec"]["selector"]["matchExpressions"][0]["operator"] = "In";
  server_->Apply(bad);
  report = WaitForReport(report_, [](const nlohmann::json& r) {
    return r["problems"].empty() && r["lastDecide"]["error"] == "";
  });
  EXPECT_TRUE(report["problems"].empty()) << report.dump(2);
  EXPECT_EQ(report["lastDecide"]["error"], "") << report.dump(2);
  EXPECT_EQ(DriftSet(report), GoldenSet("01-cluster.json")) << report.dump(2);
  ExpectReadOnly();
  adapter.Signal(SIGTERM);
  EXPECT_EQ(adapter.Wait(std::chrono::seconds(10)), 0);
}

// --server ipv4:A,B (as dns:/// of a headless Service with two replicas):
// round_robin sends the batches to both dsd-servers.
TEST_F(AdapterTest, BatchesAreSpreadOverServerReplicas) {
  StartDsdServer({"--log_level", "debug"});
  const std::string first = address_;
  std::unique_ptr<transport::testing::ServerProcess> first_server =
      std::move(dsd_server_);
  StartDsdServer({"--log_level", "debug"});
  address_ = "ipv4:" + first + "," + address_;
  Adapter adapter(Args({"--drift_after", "0", "--max_batch_daemonsets", "1",
                        "--resync", "0.2"}));
  const auto until =
      std::chrono::steady_clock::now() + std::chrono::seconds(15);
  size_t a = 0, b = 0;
  while (std::chrono::steady_clock::now() < until && (a < 2 || b < 2)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    a = Decides(first_server->Stderr()).size();
    b = Decides(dsd_server_->Stderr()).size();
  }
  EXPECT_GE(a, 2u) << first_server->Stderr() << adapter.Output();
  EXPECT_GE(b, 2u) << dsd_server_->Stderr() << adapter.Output();
  const nlohmann::json report = WaitForReport(
      report_,
      [](const nlohmann::json& r) { return r.value("driftTotal", 0) == 3; });
  EXPECT_EQ(DriftSet(report), GoldenSet("01-cluster.json"));
  adapter.Signal(SIGTERM);
  EXPECT_EQ(adapter.Wait(std::chrono::seconds(10)), 0);
}

struct ExitCase {
  std::string name;
  std::vector<std::string> args;  // after --kubeconfig/--server/--report
  bool dsd_server = true;
  int code;
  std::string output;  // contained in stderr/stdout
};

// ctest lists each case by its name.
void PrintTo(const ExitCase& c, std::ostream* os) { *os << c.name; }

const ExitCase kExits[] = {
    {"OnceWithDrift", {"--once", "--drift_after", "0"}, true, 4, ""},
    {"OnceNoDaemonSetMatches",
     {"--once", "--drift_after", "0", "-l", "app=none"},
     true,
     0,
     ""},
    {"OnceNamespaceScope",
     {"--once", "--drift_after", "0", "-n", "kube-system"},
     true,
     4,
     ""},
    {"OnceServerUnusable",
     {"--once", "--timeout", "1"},
     false,
     3,
     "decide failed"},
    {"UnknownMode", {"--mode", "act"}, false, 2, "--mode"},
    {"BadLogFormat", {"--log_format", "xml"}, false, 2, "--log_format"},
    {"UnknownFlag", {"--frobnicate"}, false, 2, "frobnicate"},
    {"BadHealthListen",
     {"--health_listen", "nonsense"},
     false,
     2,
     "--health_listen nonsense"},
    {"TlsKeyWithoutCert",
     {"--tls_key", "/nonexistent.pem"},
     false,
     2,
     "--tls_key"},
    {"Help", {"--help"}, false, 0, "Exit codes"},
};

class AdapterExitTest : public AdapterTest,
                        public ::testing::WithParamInterface<ExitCase> {};

TEST_P(AdapterExitTest, ExitCode) {
  const ExitCase& c = GetParam();
  if (c.dsd_server) {
    StartDsdServer();
  } else {
    address_ = "127.0.0.1:" + std::to_string(FreePort());
  }
  Adapter adapter(Args(c.args));
  const std::optional<int> code = adapter.Wait(std::chrono::seconds(30));
  ASSERT_TRUE(code.has_value()) << adapter.Output();
  EXPECT_EQ(*code, c.code) << adapter.Output();
  EXPECT_NE(adapter.Output().find(c.output), std::string::npos)
      << adapter.Output();
  if (c.name == "OnceNamespaceScope") {
    EXPECT_EQ(DriftSet(nlohmann::json::parse(ReadFile(report_))),
              (std::set<std::string>{
                  "kube-system/fluentd-elasticsearch create k8s-node3"}));
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, AdapterExitTest, ::testing::ValuesIn(kExits),
                         [](const auto& p) { return p.param.name; });

TEST(AdapterStartTest, MissingKubeconfigExits1NamingIt) {
  Adapter adapter({"--kubeconfig", "/nonexistent/config"});
  EXPECT_EQ(adapter.Wait(std::chrono::seconds(10)), 1);
  EXPECT_NE(adapter.Output().find("error: --kubeconfig /nonexistent/config"),
            std::string::npos)
      << adapter.Output();
}

// ------------------------------------------------------------ apply mode

// --mode=apply on ssd-monitor (labelled controller=dsd, the selector);
// fluentd-elasticsearch stays upstream's. The fake binds each created pod
// and makes it Running and Ready.
class ApplyTest : public AdapterTest {
 protected:
  void SetUp() override {
    fake_options_.run_created_pods = run_pods_;
    AdapterTest::SetUp();
    if (HasFatalFailure()) return;
    nlohmann::json ds = server_->Get("DaemonSet", "default", "ssd-monitor");
    ds["metadata"]["labels"]["controller"] = "dsd";
    server_->Apply(ds);
    // The example's revision as upstream's controller wrote it: holding
    // the template.
    nlohmann::json revision =
        server_->Get("ControllerRevision", "default", "ssd-monitor-6c9f8d7b5");
    revision["data"] = {{"spec", {{"template", ds["spec"]["template"]}}}};
    revision["data"]["spec"]["template"]["$patch"] = "replace";
    server_->Apply(revision);
    StartDsdServer();
  }

  bool run_pods_ = true;  // the fake binds and readies created pods

  std::vector<std::string> ApplyArgs(std::vector<std::string> extra) const {
    std::vector<std::string> args =
        Args({"--mode=apply", "-l", "controller=dsd", "--drift_after", "0",
              "--resync", "0.5"});
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }

  // ssd-monitor's pods by node ("" while unbound).
  std::multimap<std::string, nlohmann::json> Pods() const {
    std::multimap<std::string, nlohmann::json> out;
    for (const nlohmann::json& pod : server_->List("Pod")) {
      if (pod["metadata"]["namespace"] != "default") continue;
      out.emplace(pod["spec"].value("nodeName", ""), pod);
    }
    return out;
  }

  // Waits up to `timeout` for Pods() to be on exactly `nodes`.
  bool WaitForPodsOn(
      const std::multiset<std::string>& nodes,
      std::chrono::seconds timeout = std::chrono::seconds(15)) const {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      std::multiset<std::string> now;
      for (const auto& [node, pod] : Pods()) now.insert(node);
      if (now == nodes) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  // The pod writes (POST, DELETE) that reached the API server.
  std::vector<dsd::testing::LoggedRequest> Writes() const {
    std::vector<dsd::testing::LoggedRequest> out;
    for (const dsd::testing::LoggedRequest& r : server_->Log()) {
      if ((r.method == "POST" || r.method == "DELETE") &&
          r.target.find("/pods") != std::string::npos) {
        out.push_back(r);
      }
    }
    return out;
  }

  void Relabel(const std::string& node, const std::string& disk) {
    nlohmann::json n = server_->Get("Node", "", node);
    n["metadata"]["labels"]["disk"] = disk;
    server_->Apply(n);
  }

  // Whether, within 15 s, the adapter's watch has shown ssd-monitor's two
  // pods Ready: the status it wrote says so, with observedGeneration (no
  // expectation pending). A test that holds the pod watch waits for it
  // first: the pods' own events may still be on their way.
  bool BothPodsSeenReady() const {
    return Eventually(
        [this] {
          const nlohmann::json ds =
              server_->Get("DaemonSet", "default", "ssd-monitor");
          return ds.contains("status") &&
                 ds["status"].value("numberReady", 0) == 2 &&
                 ds["status"].value("observedGeneration", 0) == 1;
        },
        std::chrono::seconds(15));
  }

  // Loses the Pod events held since HoldWatches("Pod", true): the history
  // is compacted and every watch cut, so that watching again from before
  // them answers 410 Expired, and the adapter relists.
  void LoseHeldPodEvents() {
    server_->Compact();
    server_->CutWatches();
    server_->HoldWatches("Pod", false);
  }

  // A node like k8s-node1 (disk=ssd, schedulable) named `name`.
  nlohmann::json SsdNode(const std::string& name) const {
    nlohmann::json node = server_->Get("Node", "", "k8s-node1");
    node["metadata"]["name"] = name;
    node["metadata"]["uid"] = name + "-uid";
    node["metadata"]["labels"]["disk"] = "ssd";
    node["metadata"]["labels"]["kubernetes.io/hostname"] = name;
    return node;
  }
  void AddSsdNode(const std::string& name) { server_->Apply(SsdNode(name)); }

  // kubectl set image ds/ssd-monitor main=luksa/ssd-monitor:v2
  void SetImageV2() {
    nlohmann::json ds = server_->Get("DaemonSet", "default", "ssd-monitor");
    ds["spec"]["template"]["spec"]["containers"][0]["image"] =
        "luksa/ssd-monitor:v2";
    ds["metadata"]["generation"] = 2;
    ds["metadata"]["annotations"]["deprecated.daemonset.template.generation"] =
        "2";
    server_->Apply(ds);
  }

  // The hash of the revision dsd-adapter creates for the new template
  // (waits up to 15 s; "" if none).
  std::string NewRevisionHash() const {
    std::string hash;
    Eventually(
        [&] {
          for (const nlohmann::json& r : server_->List("ControllerRevision")) {
            if (r["metadata"]["name"] != "ssd-monitor-6c9f8d7b5" &&
                r["metadata"]["namespace"] == "default") {
              EXPECT_EQ(r["revision"], 2);
              hash = r["metadata"]["labels"]["controller-revision-hash"];
              return true;
            }
          }
          return false;
        },
        std::chrono::seconds(15));
    return hash;
  }

  // The revision hashes ssd-monitor's pods carry.
  std::multiset<std::string> Hashes() const {
    std::multiset<std::string> out;
    for (const auto& [node, pod] : Pods()) {
      out.insert(pod["metadata"]["labels"]["controller-revision-hash"]);
    }
    return out;
  }

  // Waits up to `timeout` for Hashes() to be `want`.
  bool WaitForHashes(const std::multiset<std::string>& want,
                     std::chrono::milliseconds timeout) const {
    return Eventually([&] { return Hashes() == want; }, timeout);
  }

  // The POSTs and DELETEs of pods that reached the API server.
  std::pair<int, int> PostsAndDeletes() const {
    int posts = 0, deletes = 0;
    for (const auto& r : Writes()) (r.method == "POST" ? posts : deletes)++;
    return {posts, deletes};
  }

  // Starts dsd-server (again) on `listen`, a fixed "127.0.0.1:port", so
  // that the adapter finds it where it was.
  void StartDsdServerOn(const std::string& listen) {
    dsd_server_ = std::make_unique<transport::testing::ServerProcess>(
        std::vector<std::string>{"--listen", listen});
    address_ = dsd_server_->WaitForAddress(std::chrono::seconds(20));
    ASSERT_EQ(address_, listen) << dsd_server_->Stderr();
  }

  // Six more nodes like k8s-node1 (k8s-node4 to 9), and ssd-monitor
  // rolling with maxUnavailable 2; returns the eight nodes it runs on.
  std::multiset<std::string> EightNodesAtMaxUnavailableTwo() {
    std::multiset<std::string> nodes = {"k8s-node1", "k8s-node2"};
    for (int i = 4; i <= 9; ++i) {
      AddSsdNode("k8s-node" + std::to_string(i));
      nodes.insert("k8s-node" + std::to_string(i));
    }
    nlohmann::json ds = server_->Get("DaemonSet", "default", "ssd-monitor");
    ds["spec"]["updateStrategy"] = {{"type", "RollingUpdate"},
                                    {"rollingUpdate", {{"maxUnavailable", 2}}}};
    server_->Apply(ds);
    return nodes;
  }

  // After EightNodesAtMaxUnavailableTwo, converged: the kubelets stall and
  // the image changes, so the first two replacements never become Ready
  // and maxUnavailable 2 holds the rollout at 10 POSTs and 2 DELETEs.
  // Returns the new revision's hash; "" when the rollout did not get there.
  std::string StallAtTwoUnreadyReplacements() {
    server_->RunCreatedPods(false);
    SetImageV2();
    const std::string hash = NewRevisionHash();
    const bool held = Eventually(
        [this] { return PostsAndDeletes() == std::make_pair(10, 2); },
        std::chrono::seconds(15));
    return held ? hash : "";
  }

  // After StallAtTwoUnreadyReplacements: every pod on `nodes` carries
  // `hash` (waited for up to `timeout`), and each node had one create,
  // then one delete and one create. `adapter`'s output explains a failure.
  void ExpectRolledOnce(const std::multiset<std::string>& nodes,
                        const std::string& hash, const Adapter& adapter,
                        std::chrono::seconds timeout) {
    const std::vector<std::string> rolled(nodes.size(), hash);
    ASSERT_TRUE(WaitForHashes({rolled.begin(), rolled.end()}, timeout))
        << adapter.Output();
    EXPECT_TRUE(WaitForPodsOn(nodes));
    EXPECT_EQ(PostsAndDeletes(),
              std::make_pair(2 * static_cast<int>(nodes.size()),
                             static_cast<int>(nodes.size())));
  }

  // As the scheduler and kubelet would: binds each pending ssd-monitor
  // pod to the node it is pinned to and makes it Running and Ready.
  void RunPendingPods() {
    for (const auto& [node, pod] : Pods()) {
      if (!node.empty()) continue;
      nlohmann::json p = pod;
      p["spec"]["nodeName"] =
          p["spec"]["affinity"]["nodeAffinity"]
           ["requiredDuringSchedulingIgnoredDuringExecution"]
           ["nodeSelectorTerms"][0]["matchFields"][0]["values"][0];
      p["status"] = {{"phase", "Running"},
                     {"conditions",
                      {{{"type", "Ready"},
                        {"status", "True"},
                        {"lastTransitionTime", "2026-01-01T00:00:00Z"}}}}};
      server_->Apply(p);
    }
  }

  // Converged: `dsdctl decide` of the cluster as it is now (the real
  // binary, reading the fake API server) has nothing left to do for
  // ssd-monitor, and its seven counters are the status dsd-adapter wrote
  // (waited for up to 10 s: the last write may trail the last pod).
  void ExpectNothingLeftToDo() const {
    const std::string out = dir_ + "/decide.json";
    testing::ChildProcess dsdctl(
        DSD_DSDCTL_BIN,
        {"--server", address_, "decide", "--kubeconfig", kubeconfig_, "-n",
         "default", "-o", "json"},
        {.env = {},
         .unset_env = {"KUBECONFIG", "KUBERNETES_SERVICE_HOST"},
         .capture_stdout = false,
         .stdout_path = out});
    ASSERT_EQ(dsdctl.WaitForExit(std::chrono::seconds(30)), 0)
        << dsdctl.Output();
    const nlohmann::json decided = nlohmann::json::parse(ReadFile(out));
    nlohmann::json plan;
    for (const nlohmann::json& ds : decided["daemonSets"]) {
      if (ds["name"] == "ssd-monitor") plan = ds;
    }
    ASSERT_FALSE(plan.is_null()) << ReadFile(out);
    EXPECT_EQ(plan["create"], nlohmann::json::array()) << plan.dump();
    EXPECT_EQ(plan["delete"], nlohmann::json::array()) << plan.dump();
    auto written = [this, &plan] {
      const nlohmann::json status =
          server_->Get("DaemonSet", "default", "ssd-monitor")["status"];
      for (const auto& [counter, value] : plan["status"].items()) {
        if (status.value(counter, 0) != value) return false;
      }
      return true;
    };
    EXPECT_TRUE(Eventually(written, std::chrono::seconds(10)))
        << plan["status"].dump() << " against "
        << server_->Get("DaemonSet", "default", "ssd-monitor")["status"];
  }
};

// The seed scenario, live: the plan carried out, then each change
// followed, until nothing is left to do.
TEST_F(ApplyTest, SeedScenarioConvergesAsUpstreamWould) {
  Adapter adapter(ApplyArgs({}));
  // k8s-node1 (ssd) and the cordoned k8s-node2 (ssd) get one each; not the
  // control plane (tainted), not k8s-node3 (hdd).
  ASSERT_TRUE(WaitForPodsOn({"k8s-node1", "k8s-node2"})) << adapter.Output();
  const nlohmann::json ds = server_->Get("DaemonSet", "default", "ssd-monitor");
  for (const auto& [node, pod] : Pods()) {
    SCOPED_TRACE(node);
    const nlohmann::json& meta = pod["metadata"];
    EXPECT_EQ(meta["generateName"], "ssd-monitor-");
    EXPECT_EQ(meta["labels"]["controller-revision-hash"], "6c9f8d7b5");
    EXPECT_EQ(meta["labels"]["pod-template-generation"], "1");
    EXPECT_EQ(meta["ownerReferences"][0]["uid"], ds["metadata"]["uid"]);
    EXPECT_EQ(pod["spec"]["affinity"]["nodeAffinity"]
                 ["requiredDuringSchedulingIgnoredDuringExecution"]
                 ["nodeSelectorTerms"][0]["matchFields"][0]["values"][0],
              node);
  }
  // Each write is ssd-monitor's: POSTs to its namespace only.
  for (const auto& r : Writes()) {
    EXPECT_EQ(r.method + " " + r.target,
              "POST /api/v1/namespaces/default/pods");
  }

  // kubectl label node k8s-node1 disk=hdd --overwrite: its pod goes, with
  // the uid precondition.
  const std::string uid1 = Pods().find("k8s-node1")->second["metadata"]["uid"];
  Relabel("k8s-node1", "hdd");
  ASSERT_TRUE(WaitForPodsOn({"k8s-node2"})) << adapter.Output();
  bool precondition = false;
  for (const auto& r : Writes()) {
    if (r.method == "DELETE") {
      precondition =
          nlohmann::json::parse(r.body)["preconditions"]["uid"] == uid1;
    }
  }
  EXPECT_TRUE(precondition);

  // kubectl delete pod: it comes back.
  const nlohmann::json gone = Pods().find("k8s-node2")->second;
  server_->Delete("Pod", "default", gone["metadata"]["name"]);
  ASSERT_TRUE(WaitForPodsOn({"k8s-node2"}));
  EXPECT_NE(Pods().find("k8s-node2")->second["metadata"]["uid"],
            gone["metadata"]["uid"]);

  // A new ssd node joins: it gets one.
  AddSsdNode("k8s-node4");
  ASSERT_TRUE(WaitForPodsOn({"k8s-node2", "k8s-node4"})) << adapter.Output();

  // Converged: ssd-monitor's plan is empty (with --drift_after 0 any
  // planned action would be drift); only upstream's DaemonSet has some.
  const nlohmann::json report =
      WaitForReport(report_, [](const nlohmann::json& r) {
        for (const auto& d : r["daemonSets"]) {
          if (d["name"] == "ssd-monitor") return false;
        }
        return r.value("pendingActions", -1) == 0;
      });
  for (const auto& d : report["daemonSets"]) {
    EXPECT_NE(d["name"], "ssd-monitor") << report.dump(2);
  }
  auto count_puts = [this] {
    int puts = 0;
    for (const auto& r : server_->Log()) {
      if (r.method == "PUT" && r.target.find("/leases/") == std::string::npos) {
        ++puts;
        EXPECT_EQ(r.target,
                  "/apis/apps/v1/namespaces/default/daemonsets/ssd-monitor/"
                  "status");
      }
    }
    return puts;
  };
  // (The last status write may trail the report by a round.)
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const int puts = count_puts();
  // Three resyncs later, still one pod per node: nothing sent twice.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_TRUE(WaitForPodsOn({"k8s-node2", "k8s-node4"}));
  // node1, node2, node2 again, node4; node1's.
  EXPECT_EQ(PostsAndDeletes(), std::make_pair(4, 1));

  // The status, through /status: two nodes should run it (k8s-node2,
  // cordoned, and k8s-node4), each has a Ready pod of the current
  // revision (minReadySeconds 0: available at once), none misplaced.
  const nlohmann::json status =
      server_->Get("DaemonSet", "default", "ssd-monitor")["status"];
  EXPECT_EQ(status, nlohmann::json({{"desiredNumberScheduled", 2},
                                    {"currentNumberScheduled", 2},
                                    {"numberMisscheduled", 0},
                                    {"numberReady", 2},
                                    {"updatedNumberScheduled", 2},
                                    {"numberAvailable", 2},
                                    {"numberUnavailable", 0},
                                    {"observedGeneration", 1}}))
      << status.dump();
  // Written when it changed, not every round: none in the three
  // resyncs after convergence (--resync 0.5).
  EXPECT_GE(puts, 3);
  EXPECT_EQ(count_puts(), puts);
  // Events on the DaemonSet, as upstream's: one per pod created or
  // deleted, naming it.
  std::multiset<std::string> events;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (events.size() < 5 && std::chrono::steady_clock::now() < deadline) {
    events.clear();
    for (const nlohmann::json& e : server_->List("Event")) {
      EXPECT_EQ(e["involvedObject"]["name"], "ssd-monitor");
      const std::string message = e["message"];
      events.insert(e["reason"].get<std::string>() + " " +
                    message.substr(0, message.find(':')));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(events,
            (std::multiset<std::string>{
                "SuccessfulCreate Created pod", "SuccessfulCreate Created pod",
                "SuccessfulCreate Created pod", "SuccessfulCreate Created pod",
                "SuccessfulDelete Deleted pod"}));
  // fluentd-elasticsearch is upstream's: its status is untouched.
  EXPECT_FALSE(server_->Get("DaemonSet", "kube-system", "fluentd-elasticsearch")
                   .contains("status"));
  ExpectNothingLeftToDo();
}

// Expectations: while the pod watch lags, plans made from the old store
// still ask for the pods already created; none is created twice.
TEST_F(ApplyTest, ALaggingWatchNeverCausesASecondCreate) {
  server_->HoldWatches("Pod", true);
  Adapter adapter(ApplyArgs({}));
  ASSERT_TRUE(WaitForPodsOn({"k8s-node1", "k8s-node2"})) << adapter.Output();
  // Rounds go on (--resync 1, and node changes) while the watch holds.
  for (int i = 0; i < 3; ++i) {
    Relabel("k8s-node3", i % 2 == 0 ? "hdd2" : "hdd");
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
  }
  EXPECT_EQ(Writes().size(), 2u) << adapter.Output();
  server_->HoldWatches("Pod", false);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_TRUE(WaitForPodsOn({"k8s-node1", "k8s-node2"})) << adapter.Output();
  EXPECT_EQ(Writes().size(), 2u);
}

// A relist (the watch expired) brings a pod whose events were missed: the
// expectation it meets is cleared, as upstream's informer hands a relist's
// pods to its handlers, and the DaemonSet is not held until the
// expectations' 5-minute TTL.
TEST_F(ApplyTest, ARelistMeetsTheExpectationsOfThePodsItBrings) {
  Adapter adapter(ApplyArgs({}));
  ASSERT_TRUE(WaitForPodsOn({"k8s-node1", "k8s-node2"})) << adapter.Output();
  ASSERT_TRUE(BothPodsSeenReady()) << adapter.Output();
  server_->HoldWatches("Pod", true);
  Relabel("k8s-node3", "ssd");
  ASSERT_TRUE(WaitForPodsOn({"k8s-node1", "k8s-node2", "k8s-node3"}))
      << adapter.Output();
  LoseHeldPodEvents();  // the new pod's
  AddSsdNode("k8s-node4");
  ASSERT_TRUE(
      WaitForPodsOn({"k8s-node1", "k8s-node2", "k8s-node3", "k8s-node4"}))
      << adapter.Output();
  EXPECT_EQ(Writes().size(), 4u);  // one create a node, none twice
}

// The same for a deletion whose event was missed: the relist no longer
// holds the pod.
TEST_F(ApplyTest, ARelistMeetsTheExpectationsOfThePodsItNoLongerHolds) {
  Adapter adapter(ApplyArgs({}));
  ASSERT_TRUE(WaitForPodsOn({"k8s-node1", "k8s-node2"})) << adapter.Output();
  ASSERT_TRUE(BothPodsSeenReady()) << adapter.Output();
  server_->HoldWatches("Pod", true);
  Relabel("k8s-node1", "hdd");
  ASSERT_TRUE(WaitForPodsOn({"k8s-node2"})) << adapter.Output();
  LoseHeldPodEvents();  // the deleted pod's
  Relabel("k8s-node2", "hdd");
  ASSERT_TRUE(WaitForPodsOn({})) << adapter.Output();
  EXPECT_EQ(Writes().size(), 4u);  // two creates, two deletes
}

// A delete decided about a pod that has since been replaced by another of
// the same name (the pod watch lagging): the uid precondition makes the
// API server answer 409, the action is dropped, and the replacement is
// deleted only once a plan names it, with its own uid.
TEST_F(ApplyTest, ADeleteOfAReplacedPodIsAConflictAndDecidedAgain) {
  Adapter adapter(ApplyArgs({}));
  ASSERT_TRUE(WaitForPodsOn({"k8s-node1", "k8s-node2"})) << adapter.Output();
  ASSERT_TRUE(BothPodsSeenReady()) << adapter.Output();
  server_->HoldWatches("Pod", true);
  nlohmann::json pod = Pods().find("k8s-node1")->second;
  const std::string name = pod["metadata"]["name"];
  const std::string old_uid = pod["metadata"]["uid"];
  server_->Delete("Pod", "default", name);
  pod["metadata"].erase("uid");
  pod["metadata"].erase("resourceVersion");
  const std::string new_uid = server_->Apply(pod)["metadata"]["uid"];
  ASSERT_NE(new_uid, old_uid);
  Relabel("k8s-node1", "hdd");  // its pod is to go: decided from the old one
  auto deletes = [&] {
    std::vector<std::pair<int, std::string>> out;  // status, uid sent
    for (const auto& r : Writes()) {
      if (r.method == "DELETE") {
        out.emplace_back(r.status,
                         nlohmann::json::parse(r.body)["preconditions"]["uid"]);
      }
    }
    return out;
  };
  ASSERT_TRUE(
      Eventually([&] { return !deletes().empty(); }, std::chrono::seconds(15)))
      << adapter.Output();
  EXPECT_EQ(deletes().front(), std::make_pair(409, old_uid));
  EXPECT_FALSE(server_->Get("Pod", "default", name).is_null());
  server_->HoldWatches("Pod", false);
  ASSERT_TRUE(WaitForPodsOn({"k8s-node2"})) << adapter.Output();
  // Every delete sent before the watch caught up named the old pod and was
  // refused; the one that went through named the replacement.
  const auto sent = deletes();
  for (size_t i = 0; i + 1 < sent.size(); ++i) {
    EXPECT_EQ(sent[i], std::make_pair(409, old_uid));
  }
  EXPECT_EQ(sent.back(), std::make_pair(200, new_uid));
  EXPECT_EQ(adapter.running(), true);
}

// --dry-run: the exact requests are logged; none reaches the API server.
TEST_F(ApplyTest, DryRunLogsTheRequestsAndSendsNone) {
  Adapter adapter(ApplyArgs({"--dry-run"}));
  const auto line = adapter.WaitForOutput(
      "dry-run: would POST /api/v1/namespaces/default/pods (\\{.*\\}) "
      "daemonset=default/ssd-monitor node=k8s-node2",
      std::chrono::seconds(15));
  ASSERT_TRUE(line.has_value()) << adapter.Output();
  const nlohmann::json body = nlohmann::json::parse(*line);
  EXPECT_EQ(body["metadata"]["generateName"], "ssd-monitor-");
  EXPECT_FALSE(body["metadata"].contains("namespace"));
  std::this_thread::sleep_for(std::chrono::seconds(1));
  ExpectReadOnly();
  EXPECT_TRUE(Pods().empty());
}

// A pod the DaemonSet does not control (an orphan it would adopt) is
// never deleted: dsd-adapter does not adopt.
TEST_F(ApplyTest, APodTheDaemonSetDoesNotControlIsNeverDeleted) {
  nlohmann::json orphan = SsdMonitorPod(*server_, "k8s-node3");
  orphan["metadata"].erase("ownerReferences");
  server_->Apply(orphan);
  Adapter adapter(ApplyArgs({}));
  ASSERT_TRUE(adapter
                  .WaitForOutput("not deleting a pod the DaemonSet does not "
                                 "control.* pod=ssd-monitor-k8s-node3",
                                 std::chrono::seconds(15))
                  .has_value())
      << adapter.Output();
  for (const auto& r : Writes()) EXPECT_NE(r.method, "DELETE") << r.target;
  EXPECT_FALSE(
      server_->Get("Pod", "default", "ssd-monitor-k8s-node3").is_null());
}

// An ownerReference whose `controller` is not a boolean (the API server's
// schema refuses one; a proxy or a fake may not) is reported with its
// field path, and its DaemonSet is held back; reading it never ends the
// adapter (a typed read of it once threw) and nothing is deleted.
TEST_F(ApplyTest, AControllerFlagOfAnotherTypeIsReportedAndHoldsItsDaemonSet) {
  nlohmann::json pod = SsdMonitorPod(*server_, "k8s-node3");
  pod["metadata"]["ownerReferences"][0]["controller"] = "true";
  server_->Apply(pod);
  Adapter adapter(ApplyArgs({}));
  ASSERT_TRUE(adapter
                  .WaitForOutput("error cluster object: .*Pod "
                                 "default/ssd-monitor-k8s-node3: "
                                 "metadata.ownerReferences\\[0\\].controller: "
                                 "must be true or false.* "
                                 "daemonsets=default/ssd-monitor",
                                 std::chrono::seconds(15))
                  .has_value())
      << adapter.Output();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_TRUE(adapter.running()) << adapter.Output();
  for (const auto& r : Writes()) EXPECT_NE(r.method, "DELETE") << r.target;
  EXPECT_FALSE(
      server_->Get("Pod", "default", "ssd-monitor-k8s-node3").is_null());
}

// A node added is decided alone (that node, every DaemonSet, the pods on
// it) ahead of the round over the whole cluster, and only that plan's
// creates are carried out. dsd-server here takes at most 2 nodes, so every
// full round (4 nodes) is refused: whatever is created came from the
// decision of the added nodes, and no status is written from it. Each row
// adds k8s-node4 as it says, then k8s-node5 (disk=ssd), whose pod shows
// that the added nodes were decided.
struct AddedNodeCase {
  std::string name;
  std::string disk;  // k8s-node4's disk label (ssd-monitor wants ssd)
  bool tainted;      // with a NoSchedule taint ssd-monitor does not tolerate
  bool pod_there;    // an ssd-monitor pod on k8s-node4 before it is added
  bool created;      // ssd-monitor's pod created on k8s-node4
};

void PrintTo(const AddedNodeCase& c, std::ostream* os) { *os << c.name; }

class AddedNodeTest : public ApplyTest,
                      public ::testing::WithParamInterface<AddedNodeCase> {};

TEST_P(AddedNodeTest, IsDecidedAloneAndOnlyItsCreatesAreCarriedOut) {
  const AddedNodeCase& c = GetParam();
  StartDsdServer({"--max_nodes", "2"});
  Adapter adapter(ApplyArgs({}));
  ASSERT_TRUE(adapter.WaitForOutput("cache synced", std::chrono::seconds(15))
                  .has_value())
      << adapter.Output();
  std::multiset<std::string> want = {"k8s-node5"};
  if (c.pod_there) {
    server_->Apply(SsdMonitorPod(*server_, "k8s-node4"));
    want.insert("k8s-node4");
    // "Already there" for the adapter too: the pod and node watches are
    // separate streams with no order between them (as an informer's are),
    // so the node's event could otherwise come first and find no pod.
    const size_t pods = server_->List("Pod").size();
    const nlohmann::json report =
        WaitForReport(report_, [pods](const nlohmann::json& r) {
          return r["watches"]["pods"]["objects"] == pods;
        });
    ASSERT_EQ(report["watches"]["pods"]["objects"], pods) << adapter.Output();
  }
  if (c.created) want.insert("k8s-node4");
  nlohmann::json node = SsdNode("k8s-node4");
  node["metadata"]["labels"]["disk"] = c.disk;
  if (c.tainted) {
    node["spec"]["taints"] = {
        {{"key", "dedicated"}, {"value", "db"}, {"effect", "NoSchedule"}}};
  }
  server_->Apply(node);
  AddSsdNode("k8s-node5");
  ASSERT_TRUE(Eventually([this] { return Pods().count("k8s-node5") > 0; },
                         std::chrono::seconds(15)))
      << adapter.Output();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_TRUE(WaitForPodsOn(want, std::chrono::seconds(1))) << adapter.Output();
  EXPECT_EQ(PostsAndDeletes(), std::make_pair(c.created ? 2 : 1, 0));
  for (const dsd::testing::LoggedRequest& r : server_->Log()) {
    EXPECT_EQ(r.target.find("/status"), std::string::npos)
        << r.method << " " << r.target;
  }
  EXPECT_TRUE(adapter
                  .WaitForOutput("decide failed.*RESOURCE_EXHAUSTED",
                                 std::chrono::seconds(1))
                  .has_value())
      << "the full rounds were decided: " << adapter.Output();
}

INSTANTIATE_TEST_SUITE_P(
    Nodes, AddedNodeTest,
    ::testing::Values(AddedNodeCase{"SsdGetsAPod", "ssd", false, false, true},
                      AddedNodeCase{"HddGetsNone", "hdd", false, false, false},
                      AddedNodeCase{"TaintedGetsNone", "ssd", true, false,
                                    false},
                      AddedNodeCase{"WithItsPodAlreadyThereGetsNoSecond", "ssd",
                                    false, true, false}),
    [](const auto& p) { return p.param.name; });

// Pods the scheduler never binds: each stays the one pod of the node its
// affinity names (dsd reads the target from it), so none is created
// twice however many rounds follow.
class UnboundApplyTest : public ApplyTest {
 protected:
  UnboundApplyTest() { run_pods_ = false; }
};

TEST_F(UnboundApplyTest, PodsTheSchedulerNeverBindsAreNotCreatedAgain) {
  Adapter adapter(ApplyArgs({}));
  const auto until =
      std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (Pods().size() < 2 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(Pods().size(), 2u) << adapter.Output();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // 3 resyncs
  EXPECT_EQ(Pods().size(), 2u) << adapter.Output();
  EXPECT_EQ(Pods().count(""), 2u) << "never bound";
}

// A plan that changes by itself is decided again when it does: with
// minReadySeconds 2 the pods turn available 2 s after Ready with no
// event at all, and the plan's requeue_after_seconds (not a resync, off
// here) brings the status that says so.
TEST_F(ApplyTest, APlanIsDecidedAgainWhenItChangesByItself) {
  nlohmann::json ds = server_->Get("DaemonSet", "default", "ssd-monitor");
  ds["spec"]["minReadySeconds"] = 2;
  server_->Apply(ds);
  Adapter adapter(Args({"--mode=apply", "-l", "controller=dsd", "--drift_after",
                        "0", "--resync", "0"}));
  ASSERT_TRUE(WaitForPodsOn({"k8s-node1", "k8s-node2"})) << adapter.Output();
  auto available = [this] {
    const nlohmann::json d =
        server_->Get("DaemonSet", "default", "ssd-monitor");
    return d.contains("status") ? d["status"].value("numberAvailable", 0) : 0;
  };
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(8);
  while (available() != 2 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(available(), 2) << adapter.Output();
}

// A DaemonSet whose last expectation the watch meets is decided again at
// once, as upstream's pod handlers enqueue it, not after the debounce:
// with one create per sync (--burst 1), the second pod follows the first
// within a second although the events of the first gather for 3 s. (The
// pods stay unbound: a binding arriving while that round decides makes
// its plan stale, and the next one waits for the debounce as before.)
TEST_F(UnboundApplyTest, AMetExpectationIsDecidedAtOnceNotAfterTheDebounce) {
  Adapter adapter({"--kubeconfig", kubeconfig_, "--server", address_,
                   "--report", report_, "--debounce", "3", "--mode=apply", "-l",
                   "controller=dsd", "--drift_after", "0", "--resync", "0",
                   "--burst", "1"});
  ASSERT_TRUE(Eventually([this] { return Writes().size() == 2; },
                         std::chrono::seconds(15)))
      << adapter.Output();
  const std::vector<dsd::testing::LoggedRequest> writes = Writes();
  EXPECT_LT(writes[1].at - writes[0].at, std::chrono::seconds(1))
      << adapter.Output();
}

// No action without a plan: while dsd-server is down nothing is sent
// (the round fails and is retried); once it is back, the change made
// meanwhile is carried out.
TEST_F(ApplyTest, NothingIsDoneWhileDsdServerIsDownAndAllOnceItIsBack) {
  const std::string listen = "127.0.0.1:" + std::to_string(FreePort());
  StartDsdServerOn(listen);
  ASSERT_FALSE(HasFatalFailure());
  Adapter adapter(ApplyArgs({}));
  ASSERT_TRUE(WaitForPodsOn({"k8s-node1", "k8s-node2"})) << adapter.Output();
  dsd_server_.reset();  // SIGTERM, waited for
  Relabel("k8s-node1", "hdd");
  ASSERT_TRUE(adapter.WaitForOutput("decide failed", std::chrono::seconds(10))
                  .has_value())
      << adapter.Output();
  // Down for 10 s: long enough for the adapter's backoff (0.5 s doubling)
  // to wait 8 s or more, and gRPC's default reconnect backoff (1 s, x1.6)
  // about 6 s.
  std::this_thread::sleep_for(std::chrono::seconds(10));
  for (const auto& r : Writes()) EXPECT_NE(r.method, "DELETE") << r.target;
  StartDsdServerOn(listen);
  ASSERT_FALSE(HasFatalFailure());
  // Done within seconds of the return: the channel tries again at least
  // every 2 s, and the round is made again once it is connected. (Before,
  // the round waited out both backoffs: a retry that found the channel
  // still backing off failed at once and doubled the adapter's wait.)
  ASSERT_TRUE(WaitForPodsOn({"k8s-node2"}, std::chrono::seconds(4)))
      << adapter.Output();
  EXPECT_EQ(Writes().size(), 3u);  // two creates, then the delete
}

// No action from a cache that is not synced: while the pod list fails,
// nodes and DaemonSets alone would read as "no pod anywhere".
TEST_F(ApplyTest, NothingIsCreatedBeforeThePodsAreListed) {
  Fault down;
  down.match = "GET /api/v1/pods?";
  down.status = 503;  // no Retry-After: the reflector backs off, relists
  down.times = 2;
  server_->AddFault(down);
  Adapter adapter(ApplyArgs({}));
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_TRUE(Writes().empty()) << adapter.Output();
  ASSERT_TRUE(adapter.WaitForOutput("cache synced", std::chrono::seconds(20))
                  .has_value())
      << adapter.Output();
  ASSERT_TRUE(WaitForPodsOn({"k8s-node1", "k8s-node2"})) << adapter.Output();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_EQ(Writes().size(), 2u);
  // The first POST came after the pods' first successful list.
  size_t listed = 0, first_post = 0;
  const auto log = server_->Log();
  for (size_t i = 0; i < log.size(); ++i) {
    if (listed == 0 && log[i].method == "GET" && log[i].status == 200 &&
        log[i].target.rfind("/api/v1/pods?", 0) == 0 &&
        log[i].target.find("watch=") == std::string::npos) {
      listed = i;
    }
    if (first_post == 0 && log[i].method == "POST" &&
        log[i].target.find("/pods") != std::string::npos) {
      first_post = i;
    }
  }
  EXPECT_GT(listed, 0u);
  EXPECT_GT(first_post, listed);
}

// Two replicas: only the Lease holder acts. Killed (no release), it is
// replaced once its lease lapses; the new leader neither repeats what
// was done nor misses what comes next.
TEST_F(ApplyTest, OfTwoReplicasOneActsAndTheOtherTakesOverWhenItDies) {
  const std::vector<std::string> lease = {
      "--leader_elect_lease_duration", "2",
      "--leader_elect_renew_deadline", "1.5",
      "--leader_elect_retry_period",   "0.2"};
  Adapter first(ApplyArgs(lease));
  ASSERT_TRUE(first.WaitForOutput("became the leader", std::chrono::seconds(10))
                  .has_value())
      << first.Output();
  ASSERT_TRUE(WaitForPodsOn({"k8s-node1", "k8s-node2"})) << first.Output();
  Adapter second(ApplyArgs(lease));
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_EQ(second.Output().find("became the leader"), std::string::npos);
  EXPECT_EQ(Writes().size(), 2u);

  first.Signal(SIGKILL);
  ASSERT_TRUE(first.Wait(std::chrono::seconds(5)).has_value());
  Relabel("k8s-node1", "hdd");
  ASSERT_TRUE(
      second.WaitForOutput("became the leader", std::chrono::seconds(10))
          .has_value())
      << second.Output();
  ASSERT_TRUE(WaitForPodsOn({"k8s-node2"})) << second.Output();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  int posts = 0, deletes = 0;
  for (const auto& r : Writes()) (r.method == "POST" ? posts : deletes)++;
  EXPECT_EQ(posts, 2);
  EXPECT_EQ(deletes, 1);
  EXPECT_EQ(server_->Get("Lease", "default",
                         "dsd-adapter")["spec"]["leaseTransitions"],
            1);
  // SIGTERM: the lease is released on the way out.
  second.Signal(SIGTERM);
  EXPECT_EQ(second.Wait(std::chrono::seconds(10)), 0) << second.Output();
  const nlohmann::json released =
      server_->Get("Lease", "default", "dsd-adapter")["spec"];
  EXPECT_EQ(released["holderIdentity"], "");
  EXPECT_EQ(released["leaseDurationSeconds"], 1);
}

// Throttled pod requests (two a second here) never hold back the lease:
// the leader renews every retry period while it creates, and stays the
// leader.
TEST_F(ApplyTest, TheLeaseIsRenewedWhilePodRequestsAreThrottled) {
  std::multiset<std::string> nodes = {"k8s-node1", "k8s-node2"};
  for (int i = 4; i <= 7; ++i) {
    AddSsdNode("k8s-node" + std::to_string(i));
    nodes.insert("k8s-node" + std::to_string(i));
  }
  Adapter adapter(ApplyArgs({"--leader_elect_lease_duration", "2",
                             "--leader_elect_renew_deadline", "1.5",
                             "--leader_elect_retry_period", "0.2",
                             "--kube_api_qps", "2", "--kube_api_burst", "1"}));
  ASSERT_TRUE(WaitForPodsOn(nodes)) << adapter.Output();
  // From the first pod to the last (2.5 s at two a second), the lease
  // was renewed every retry period, not after the queue of creates.
  std::vector<std::chrono::steady_clock::time_point> posts, renewals;
  for (const auto& r : server_->Log()) {
    if (r.method == "POST" && r.target.find("/pods") != std::string::npos) {
      posts.push_back(r.at);
    }
    if (r.method == "PUT" && r.target.find("/leases/") != std::string::npos) {
      renewals.push_back(r.at);
    }
  }
  ASSERT_EQ(posts.size(), nodes.size());
  EXPECT_GE(posts.back() - posts.front(), std::chrono::seconds(2));
  auto previous = posts.front();
  std::chrono::steady_clock::duration longest{};
  for (const auto& at : renewals) {
    if (at < posts.front() || at > posts.back()) continue;
    longest = std::max(longest, at - previous);
    previous = at;
  }
  longest = std::max(longest, posts.back() - previous);
  EXPECT_LT(longest, std::chrono::seconds(1));
  EXPECT_EQ(adapter.Output().find("lost the leader lease"), std::string::npos)
      << adapter.Output();
  EXPECT_EQ(server_->Get("Lease", "default",
                         "dsd-adapter")["spec"]["leaseTransitions"],
            0);
}

// A competing writer (upstream's controller left on): its status write,
// or a pod it creates, after dsd-adapter started makes dsd-adapter leave
// that DaemonSet alone.
struct CompetitorCase {
  std::string name;
  bool pod;  // else a status write
};

class CompetitorTest : public ApplyTest,
                       public ::testing::WithParamInterface<CompetitorCase> {};

TEST_P(CompetitorTest, ADaemonSetAnotherControllerWritesIsLeftAlone) {
  const int port = FreePort();
  Adapter adapter(
      ApplyArgs({"--health_listen", "127.0.0.1:" + std::to_string(port)}));
  ASSERT_TRUE(WaitForPodsOn({"k8s-node1", "k8s-node2"})) << adapter.Output();
  const std::string now =
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now() + absl::Seconds(1),
                       absl::UTCTimeZone());
  const nlohmann::json by_upstream = {
      {{"manager", "kube-controller-manager"},
       {"operation", "Update"},
       {"apiVersion", GetParam().pod ? "v1" : "apps/v1"},
       {"time", now},
       {"subresource", GetParam().pod ? "" : "status"}}};
  if (GetParam().pod) {
    // Upstream's own pod for k8s-node1 (a duplicate dsd would delete).
    nlohmann::json pod = SsdMonitorPod(*server_, "k8s-node1");
    pod["metadata"]["managedFields"] = by_upstream;
    server_->Apply(pod);
  } else {
    nlohmann::json ds = server_->Get("DaemonSet", "default", "ssd-monitor");
    ds["metadata"]["managedFields"] = by_upstream;
    ds["status"]["numberReady"] = 7;
    server_->Apply(ds);
  }
  ASSERT_TRUE(adapter
                  .WaitForOutput("another controller writes this DaemonSet.*"
                                 "writer=kube-controller-manager",
                                 std::chrono::seconds(10))
                  .has_value())
      << adapter.Output();
  const size_t writes = Writes().size();
  Relabel("k8s-node2", "hdd");  // would be a delete
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_EQ(Writes().size(), writes) << adapter.Output();
  httplib::Client health("127.0.0.1", port);
  const auto metrics = health.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("dsd_adapter_competing_writers 1"),
            std::string::npos)
      << metrics->body;
}

INSTANTIATE_TEST_SUITE_P(Writers, CompetitorTest,
                         ::testing::Values(CompetitorCase{"StatusWrite", false},
                                           CompetitorCase{"PodCreate", true}),
                         [](const auto& p) { return p.param.name; });

// Past --max_deletes_per_minute deleting stops, and stays stopped.
TEST_F(ApplyTest, TheDeletionBudgetStopsDeletingUntilRestart) {
  const int port = FreePort();
  Adapter adapter(ApplyArgs({"--max_deletes_per_minute", "1", "--health_listen",
                             "127.0.0.1:" + std::to_string(port)}));
  ASSERT_TRUE(WaitForPodsOn({"k8s-node1", "k8s-node2"})) << adapter.Output();
  Relabel("k8s-node1", "hdd");
  Relabel("k8s-node2", "hdd");
  ASSERT_TRUE(
      adapter.WaitForOutput("deletion budget spent", std::chrono::seconds(15))
          .has_value())
      << adapter.Output();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  int deletes = 0;
  for (const auto& r : Writes()) deletes += r.method == "DELETE";
  EXPECT_EQ(deletes, 1);
  EXPECT_EQ(Pods().size(), 1u);
  httplib::Client health("127.0.0.1", port);
  const auto metrics = health.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("dsd_adapter_deletes_halted 1"),
            std::string::npos)
      << metrics->body;
}

// Slow start: a batch with a failure skips the rest of the sync's
// creates; a later sync makes them.
TEST_F(ApplyTest, AFailedBatchSkipsTheRestOfTheCreates) {
  Fault invalid;
  invalid.match = "POST /api/v1/namespaces/default/pods";
  invalid.status = 422;
  server_->AddFault(invalid);
  Adapter adapter(ApplyArgs({}));
  ASSERT_TRUE(adapter
                  .WaitForOutput("creates skipped after a failed batch.* "
                                 "skipped=1",
                                 std::chrono::seconds(15))
                  .has_value())
      << adapter.Output();
  ASSERT_TRUE(WaitForPodsOn({"k8s-node1", "k8s-node2"})) << adapter.Output();
  EXPECT_EQ(Writes().size(), 3u);  // the failed one, then one per node
}

// A 409 on the status write: read again, written once more (upstream's
// StatusUpdateRetries = 1).
TEST_F(ApplyTest, AStatusConflictIsReadAgainAndWrittenOnceMore) {
  Fault conflict;
  conflict.match =
      "PUT /apis/apps/v1/namespaces/default/daemonsets/"
      "ssd-monitor/status";
  conflict.status = 409;
  conflict.reason = "Conflict";
  server_->AddFault(conflict);
  Adapter adapter(ApplyArgs({}));
  ASSERT_TRUE(WaitForPodsOn({"k8s-node1", "k8s-node2"})) << adapter.Output();
  const auto until =
      std::chrono::steady_clock::now() + std::chrono::seconds(15);
  auto ready = [this] {
    const nlohmann::json ds =
        server_->Get("DaemonSet", "default", "ssd-monitor");
    return ds.contains("status") ? ds["status"].value("numberReady", 0) : 0;
  };
  while (std::chrono::steady_clock::now() < until && ready() != 2) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::vector<std::string> sequence;
  for (const auto& r : server_->Log()) {
    if (r.target.find("/daemonsets/ssd-monitor") != std::string::npos &&
        r.method != "POST") {
      sequence.push_back(r.method + " " + std::to_string(r.status));
    }
  }
  // GET (before acting), PUT 409, GET (read again), PUT 200, ...
  ASSERT_GE(sequence.size(), 4u) << adapter.Output();
  EXPECT_EQ(
      std::vector<std::string>(sequence.begin(), sequence.begin() + 4),
      (std::vector<std::string>{"GET 200", "PUT 409", "GET 200", "PUT 200"}));
  EXPECT_EQ(ready(), 2);
}

// A template change, live: dsd-adapter creates the new template's
// ControllerRevision (revision 2, dsd's hash) and the plan rolls the pods
// to it as the strategy says.
struct RolloutCase {
  std::string name;
  nlohmann::json strategy;
  // The fewest nodes with a Ready pod allowed while it rolls (2 nodes).
  int min_ready = 0;
  bool on_delete = false;  // pods change only when deleted by hand
  int history_limit = -1;  // spec.revisionHistoryLimit; -1: unset (10)
};
void PrintTo(const RolloutCase& c, std::ostream* os) { *os << c.name; }

class RolloutTest : public ApplyTest,
                    public ::testing::WithParamInterface<RolloutCase> {};

TEST_P(RolloutTest, RollsToTheNewRevision) {
  const RolloutCase& c = GetParam();
  nlohmann::json ds = server_->Get("DaemonSet", "default", "ssd-monitor");
  ds["spec"]["updateStrategy"] = c.strategy;
  if (c.history_limit >= 0)
    ds["spec"]["revisionHistoryLimit"] = c.history_limit;
  server_->Apply(ds);
  Adapter adapter(ApplyArgs({"--max_deletes_per_minute", "100"}));
  ASSERT_TRUE(WaitForPodsOn({"k8s-node1", "k8s-node2"})) << adapter.Output();

  SetImageV2();
  // The new revision: created once, on top.
  const std::string hash = NewRevisionHash();
  ASSERT_FALSE(hash.empty()) << adapter.Output();
  const std::multiset<std::string> rolled = {hash, hash};
  if (c.on_delete) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    EXPECT_EQ(Hashes(), (std::multiset<std::string>{"6c9f8d7b5", "6c9f8d7b5"}));
    for (const auto& [node, pod] : Pods()) {
      server_->Delete("Pod", "default", pod["metadata"]["name"]);
    }
  }
  int fewest_ready = 2;
  const auto until =
      std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (Hashes() != rolled && std::chrono::steady_clock::now() < until) {
    std::set<std::string> ready;
    for (const auto& [node, pod] : Pods()) {
      if (pod.contains("status") && !node.empty() &&
          !pod["metadata"].contains("deletionTimestamp")) {
        ready.insert(node);
      }
    }
    fewest_ready = std::min<int>(fewest_ready, static_cast<int>(ready.size()));
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(Hashes(), rolled) << adapter.Output();
  EXPECT_TRUE(WaitForPodsOn({"k8s-node1", "k8s-node2"}));
  if (!c.on_delete) {
    EXPECT_GE(fewest_ready, c.min_ready);
  }
  for (const auto& [node, pod] : Pods()) {
    EXPECT_EQ(pod["metadata"]["labels"]["pod-template-generation"], "2");
    EXPECT_EQ(pod["spec"]["containers"][0]["image"], "luksa/ssd-monitor:v2");
  }
  int revision_posts = 0;
  for (const auto& r : server_->Log()) {
    revision_posts += r.method == "POST" &&
                      r.target.find("controllerrevisions") != std::string::npos;
  }
  EXPECT_EQ(revision_posts, 1);

  // History: the old revision goes only past revisionHistoryLimit, and
  // only once no pod carries its hash (after the last old pod's delete).
  const std::string old_revision =
      "/apis/apps/v1/namespaces/default/controllerrevisions/"
      "ssd-monitor-6c9f8d7b5";
  if (c.history_limit == 0) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (
        !server_->Get("ControllerRevision", "default", "ssd-monitor-6c9f8d7b5")
             .is_null() &&
        std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_TRUE(
        server_->Get("ControllerRevision", "default", "ssd-monitor-6c9f8d7b5")
            .is_null())
        << adapter.Output();
    size_t last_pod_delete = 0, revision_delete = 0;
    const auto log = server_->Log();
    for (size_t i = 0; i < log.size(); ++i) {
      if (log[i].method != "DELETE") continue;
      if (log[i].target == old_revision) revision_delete = i;
      if (log[i].target.find("/pods/") != std::string::npos)
        last_pod_delete = i;
    }
    EXPECT_GT(revision_delete, last_pod_delete);
  } else {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    EXPECT_FALSE(
        server_->Get("ControllerRevision", "default", "ssd-monitor-6c9f8d7b5")
            .is_null());
  }
  ExpectNothingLeftToDo();
}

// dsd's rollout annotations, live: a partition keeps that many nodes on
// the old revision, a pause replaces no old pod, and each state the
// rollout rests in is one `dsdctl decide` has nothing to add to.
TEST_F(ApplyTest, PartitionAndPauseHoldTheRolloutWhereTheySay) {
  auto annotate = [this](const std::string& key, const std::string& value) {
    nlohmann::json ds = server_->Get("DaemonSet", "default", "ssd-monitor");
    if (value.empty()) {
      ds["metadata"]["annotations"].erase(key);
    } else {
      ds["metadata"]["annotations"][key] = value;
    }
    server_->Apply(ds);
  };
  AddSsdNode("k8s-node4");
  const std::multiset<std::string> nodes = {"k8s-node1", "k8s-node2",
                                            "k8s-node4"};
  nlohmann::json ds = server_->Get("DaemonSet", "default", "ssd-monitor");
  ds["spec"]["updateStrategy"] = {{"type", "RollingUpdate"},
                                  {"rollingUpdate", {{"maxUnavailable", 3}}}};
  ds["metadata"]["annotations"]["dsd.dev/rollout-partition"] = "2";
  server_->Apply(ds);
  Adapter adapter(ApplyArgs({"--max_deletes_per_minute", "100"}));
  ASSERT_TRUE(WaitForPodsOn(nodes)) << adapter.Output();

  SetImageV2();
  const std::string v2 = NewRevisionHash(), v1 = "6c9f8d7b5";
  ASSERT_FALSE(v2.empty()) << adapter.Output();
  // Partition 2 of 3: one node moves, although maxUnavailable allows 3.
  ASSERT_TRUE(WaitForHashes({v1, v1, v2}, std::chrono::seconds(15)))
      << adapter.Output();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_EQ(Hashes(), (std::multiset<std::string>{v1, v1, v2}));
  ExpectNothingLeftToDo();

  // Paused, the partition gone: still no old pod replaced.
  annotate("dsd.dev/rollout-paused", "true");
  annotate("dsd.dev/rollout-partition", "");
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_EQ(Hashes(), (std::multiset<std::string>{v1, v1, v2}))
      << adapter.Output();
  ExpectNothingLeftToDo();

  // Resumed: the rest roll.
  annotate("dsd.dev/rollout-paused", "");
  ASSERT_TRUE(WaitForHashes({v2, v2, v2}, std::chrono::seconds(15)))
      << adapter.Output();
  EXPECT_TRUE(WaitForPodsOn(nodes));
  EXPECT_EQ(PostsAndDeletes(), std::make_pair(6, 3));
  ExpectNothingLeftToDo();
}

// The leader killed mid-rollout, its two replacements sent but not yet
// Ready: the standby takes over from what the API server holds, sends
// none of them again, and leaves none out.
TEST_F(ApplyTest, TheLeaderKilledMidRolloutIsNeitherRepeatedNorLost) {
  const std::multiset<std::string> nodes = EightNodesAtMaxUnavailableTwo();
  const std::vector<std::string> args = ApplyArgs(
      {"--leader_elect_lease_duration", "2", "--leader_elect_renew_deadline",
       "1.5", "--leader_elect_retry_period", "0.2", "--max_deletes_per_minute",
       "100"});
  Adapter first(args);
  ASSERT_TRUE(first.WaitForOutput("became the leader", std::chrono::seconds(10))
                  .has_value())
      << first.Output();
  ASSERT_TRUE(WaitForPodsOn(nodes)) << first.Output();
  Adapter second(args);

  const std::string v2 = StallAtTwoUnreadyReplacements();
  ASSERT_FALSE(v2.empty()) << first.Output();
  first.Signal(SIGKILL);
  ASSERT_TRUE(first.Wait(std::chrono::seconds(5)).has_value());
  ASSERT_TRUE(
      second.WaitForOutput("became the leader", std::chrono::seconds(10))
          .has_value())
      << second.Output();
  // The new leader sees the two pending pods: nothing sent twice, and no
  // third old pod deleted while two are unavailable.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_EQ(PostsAndDeletes(), std::make_pair(10, 2)) << second.Output();

  // The kubelets catch up; the new leader finishes the rollout.
  server_->RunCreatedPods(true);
  RunPendingPods();
  ExpectRolledOnce(nodes, v2, second, std::chrono::seconds(30));
  EXPECT_EQ(server_->Get("Lease", "default",
                         "dsd-adapter")["spec"]["leaseTransitions"],
            1);
  ExpectNothingLeftToDo();
}

// dsd-server killed mid-rollout and started again on its address: while
// it is down the adapter sends nothing (replacements that became Ready do
// not release the next deletes without a decision); once it is back, the
// rollout finishes with nothing sent twice and nothing left to do.
TEST_F(ApplyTest, DsdServerKilledMidRolloutHoldsItUntilItIsBack) {
  const std::string listen = "127.0.0.1:" + std::to_string(FreePort());
  StartDsdServerOn(listen);
  ASSERT_FALSE(HasFatalFailure());
  const std::multiset<std::string> nodes = EightNodesAtMaxUnavailableTwo();
  Adapter adapter(ApplyArgs({"--max_deletes_per_minute", "100"}));
  ASSERT_TRUE(WaitForPodsOn(nodes)) << adapter.Output();

  const std::string v2 = StallAtTwoUnreadyReplacements();
  ASSERT_FALSE(v2.empty()) << adapter.Output();

  dsd_server_->Signal(SIGKILL);
  ASSERT_TRUE(dsd_server_->WaitForExit(std::chrono::seconds(5)).has_value());
  // The replacements become Ready: the next deletes are due, and no
  // decision can be had.
  server_->RunCreatedPods(true);
  RunPendingPods();
  ASSERT_TRUE(adapter.WaitForOutput("decide failed", std::chrono::seconds(10))
                  .has_value())
      << adapter.Output();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_EQ(PostsAndDeletes(), std::make_pair(10, 2)) << adapter.Output();

  StartDsdServerOn(listen);
  ASSERT_FALSE(HasFatalFailure());
  // Up to 40 s: the failed decides have backed off (0.5 s doubling).
  ExpectRolledOnce(nodes, v2, adapter, std::chrono::seconds(40));
  ExpectNothingLeftToDo();
}

INSTANTIATE_TEST_SUITE_P(
    Strategies, RolloutTest,
    ::testing::Values(RolloutCase{"MaxUnavailableOneNoHistory",
                                  {{"type", "RollingUpdate"},
                                   {"rollingUpdate", {{"maxUnavailable", 1}}}},
                                  1,
                                  false,
                                  0},
                      RolloutCase{"MaxSurgeOne",
                                  {{"type", "RollingUpdate"},
                                   {"rollingUpdate",
                                    {{"maxUnavailable", 0}, {"maxSurge", 1}}}},
                                  2},
                      RolloutCase{"OnDelete", {{"type", "OnDelete"}}, 0, true}),
    [](const auto& p) { return p.param.name; });

struct ApplyFlagCase {
  std::string name;
  std::vector<std::string> args;
  std::string error;
};

TEST(ApplyFlagTest, ApplyNeedsASelectorAndItsFlagsNeedApply) {
  for (const ApplyFlagCase& c : std::vector<ApplyFlagCase>{
           {"NoSelector", {"--mode=apply"}, "--mode=apply needs --selector"},
           {"DryRunInAudit", {"--dry-run"}, "are for --mode=apply"},
           {"AllInAudit", {"--all-daemonsets"}, "are for --mode=apply"},
           {"OnceInApply",
            {"--mode=apply", "-l", "a=b", "--once"},
            "--once is for --mode=audit"},
           {"UnknownMode", {"--mode=act"}, "--mode"},
       }) {
    SCOPED_TRACE(c.name);
    Adapter adapter(c.args);
    EXPECT_EQ(adapter.Wait(std::chrono::seconds(10)), 2);
    EXPECT_NE(adapter.Output().find(c.error), std::string::npos)
        << adapter.Output();
  }
}

}  // namespace
}  // namespace dsd::adapter
