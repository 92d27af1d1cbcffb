// Issue 15's benchmark: dsd-adapter --mode=apply rolling a new DaemonSet
// out to every node of a cluster held by the fake API server (which binds
// each created pod and makes it Running and Ready), with a dsd-server, all
// measured in one run:
//   - the create rate it achieves against --kube_api_qps Q (the target is
//     0.9 Q to Q): POSTs per second after the first B (--kube_api_burst),
//     from the fake's request times;
//   - node added to POST: a Node applied until the POST of its pod reaches
//     the fake, p50/p99 over --adds nodes, against one Decide of the
//     affected scope (every node, the DaemonSet, its pods) made by this
//     program. Each add follows a quiet second, and so does each of those
//     Decides: one before every add, so that both see the same machine
//     (on a busy 2-core VM one Decide's time drifts by 2x over minutes).
//     dsd-adapter decides an added node alone before its round over the
//     whole cluster (README), so the POST no longer waits for a Decide of
//     this scope: the ratio is what that saves. One Decide of that node
//     alone (an existing node, the DaemonSet) is measured beside it. Then
//     --adds/2 nodes are added while a round over every node is under way
//     ("busy"; an existing node relabelled 5 ms before);
//   - the adapter's CPU per 1,000 pod events (each created pod is three:
//     added, bound, Ready), from /proc over the rollout.
// Writes one JSON object to stdout (scripts/bench.sh step 10).
//   apply_scale --bin build/release/bin [--nodes 5000] [--qps 100]
//               [--burst 100] [--adds 10]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/children.h"
#include "client/common/connection.h"
#include "client/k8s/snapshot_loader.h"
#include "tests/kube/fake_apiserver.h"

namespace {

using dsd::bench::Clock;
using dsd::bench::FreePort;
using dsd::bench::Percentile;
using dsd::bench::Seconds;
using dsd::bench::Spawn;
using dsd::bench::Stop;

// User plus system CPU seconds of `pid` (/proc/PID/stat fields 14, 15).
double CpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  const size_t close_paren = text.rfind(')');
  if (close_paren == std::string::npos) return -1;
  std::istringstream fields(text.substr(close_paren + 2));
  std::string f;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i >= 14) ticks += std::atof(f.c_str());
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

nlohmann::json Node(const std::string& name) {
  return {
      {"apiVersion", "v1"},
      {"kind", "Node"},
      {"metadata",
       {{"name", name},
        {"uid", "uid-" + name},
        {"labels", {{"kubernetes.io/hostname", name}}}}},
      {"status", {{"conditions", {{{"type", "Ready"}, {"status", "True"}}}}}}};
}

bool IsPodCreate(const dsd::testing::LoggedRequest& r) {
  return r.method == "POST" && r.target == "/api/v1/namespaces/bench/pods";
}

}  // namespace

int main(int argc, char** argv) {
  std::string bin = "build/release/bin";
  int nodes = 5000, qps = 100, burst = 100, adds = 10;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--bin") {
      bin = next();
    } else if (a == "--nodes") {
      nodes = std::atoi(next().c_str());
    } else if (a == "--qps") {
      qps = std::atoi(next().c_str());
    } else if (a == "--burst") {
      burst = std::atoi(next().c_str());
    } else if (a == "--adds") {
      adds = std::atoi(next().c_str());
    } else {
      std::cerr << "usage: apply_scale [--bin DIR] [--nodes N] [--qps Q] "
                   "[--burst B] [--adds K]\n";
      return 2;
    }
  }
  const std::string tmp = "/tmp/dsd-apply-scale-" + std::to_string(getpid());
  dsd::testing::FakeApiServer::Options fake_options;
  fake_options.run_created_pods = true;
  auto fake = dsd::testing::FakeApiServer::Start(fake_options);
  if (fake == nullptr) {
    std::cerr << "cannot start the fake API server\n";
    return 1;
  }
  char name[32];
  for (int n = 0; n < nodes; ++n) {
    std::snprintf(name, sizeof name, "node-%05d", n);
    fake->Apply(Node(name));
  }
  fake->Compact();

  const int server_port = FreePort();
  const std::string server_addr = "127.0.0.1:" + std::to_string(server_port);
  const pid_t server = Spawn({bin + "/dsd-server", "--listen", server_addr,
                              "--log_level", "warn", "--max_nodes", "100000"},
                             tmp + "-server.log");
  const std::string kubeconfig = tmp + ".kubeconfig";
  std::ofstream(kubeconfig)
      << "apiVersion: v1\nkind: Config\ncurrent-context: fake\n"
         "clusters:\n- name: fake\n  cluster:\n    server: "
      << fake->url()
      << "\nusers:\n- name: fake\n  user: {}\ncontexts:\n- name: fake\n"
         "  context:\n    cluster: fake\n    user: fake\n";
  const std::string adapter_log = tmp + "-adapter.log";
  const pid_t adapter = Spawn(
      {bin + "/dsd-adapter", "--mode=apply", "-l", "controller=dsd",
       "--kubeconfig", kubeconfig, "--server", server_addr, "--timeout", "300",
       "--log_format", "json", "--kube_api_qps", std::to_string(qps),
       "--kube_api_burst", std::to_string(burst), "--leader_elect=false"},
      adapter_log);
  // The adapter is synced when its Lease-less apply loop logs the cache.
  for (int i = 0; i < 6000; ++i) {
    std::ifstream log(adapter_log);
    std::string text((std::istreambuf_iterator<char>(log)),
                     std::istreambuf_iterator<char>());
    if (text.find("cache synced") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::cerr << "apply_scale: " << nodes << " nodes, adapter synced; "
            << "the DaemonSet appears" << std::endl;

  // A new DaemonSet dsd controls: one pod per node.
  const double cpu_before = CpuSeconds(adapter);
  const auto rollout_start = Clock::now();
  fake->Apply(nlohmann::json::parse(R"({
    "apiVersion": "apps/v1", "kind": "DaemonSet",
    "metadata": {"name": "agent", "namespace": "bench", "uid": "uid-agent",
                 "generation": 1, "labels": {"controller": "dsd"},
                 "creationTimestamp": "2026-01-01T00:00:00Z"},
    "spec": {"selector": {"matchLabels": {"app": "agent"}},
             "updateStrategy": {"type": "RollingUpdate",
                                "rollingUpdate": {"maxUnavailable": 1}},
             "template": {"metadata": {"labels": {"app": "agent"}},
                          "spec": {"containers": [{"name": "a",
                                                   "image": "busybox"}]}}}})"));
  std::vector<double> create_times;  // seconds since rollout_start
  size_t cursor = 0;
  while (static_cast<int>(create_times.size()) < nodes &&
         Seconds(Clock::now() - rollout_start) < 3600) {
    for (const auto& r : fake->LogSince(cursor)) {
      ++cursor;
      if (IsPodCreate(r) && r.status == 201) {
        create_times.push_back(Seconds(r.at - rollout_start));
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const double rollout_seconds = Seconds(Clock::now() - rollout_start);
  // Its pods' events reach the adapter a moment after the last POST.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const double cpu = CpuSeconds(adapter) - cpu_before;
  std::sort(create_times.begin(), create_times.end());
  double steady_rate = -1, overall_rate = -1;
  const size_t b = static_cast<size_t>(std::max(1, burst));
  if (create_times.size() > b + 1) {
    steady_rate = static_cast<double>(create_times.size() - b) /
                  (create_times.back() - create_times[b - 1]);
  }
  if (create_times.size() > 1) {
    overall_rate = static_cast<double>(create_times.size() - 1) /
                   (create_times.back() - create_times.front());
  }
  std::cerr << "apply_scale: " << create_times.size() << " pods created in "
            << rollout_seconds << " s; " << steady_rate
            << " creates/s after the burst (qps " << qps << ")" << std::endl;

  // One Decide of the affected scope, as the adapter sends it.
  std::string list = R"({"apiVersion":"v1","kind":"List","items":[)";
  bool first = true;
  for (const char* kind : {"Node", "DaemonSet", "Pod", "ControllerRevision"}) {
    for (nlohmann::json& o : fake->List(kind)) {
      o["kind"] = kind;
      o["apiVersion"] =
          std::string(kind) == "Node" || std::string(kind) == "Pod" ? "v1"
                                                                    : "apps/v1";
      if (!first) list += ',';
      first = false;
      list += o.dump();
    }
  }
  list += "]}";
  dsd::client::SnapshotLoader loader(int64_t{1} << 40);
  loader.AddText(list, "bench");
  const dsd::client::LoadedSnapshot loaded = loader.Finish();
  dsd::client::ConnectionOptions conn;
  conn.server = server_addr;
  conn.timeout_seconds = 300;
  dsd::client::Connection connection = dsd::client::Connect(conn);
  dsd::v1::DecideRequest decide;
  *decide.mutable_snapshot() = loaded.snapshot;
  decide.mutable_options()->set_explain(true);
  decide.mutable_options()->set_explain_action_nodes_only(true);
  dsd::bench::DecideSeconds(*connection.stub, decide, 1);  // warm-up
  // ... and what the adapter decides for an added node first: one node
  // (an existing one, of the same shape), the DaemonSet, no pod.
  dsd::v1::DecideRequest node_decide = decide;
  node_decide.mutable_snapshot()->clear_pods();
  node_decide.mutable_snapshot()->mutable_nodes()->DeleteSubrange(
      1, node_decide.snapshot().nodes_size() - 1);

  // Nodes added one at a time, each until its pod's POST.
  std::vector<double> reaction;
  std::vector<double> decide_seconds;       // one before each add
  std::vector<double> node_decide_seconds;  // likewise
  // Adds `added` and waits for the POST of its pod: the seconds from one to
  // the other, or -1 after two minutes without it.
  auto add_until_post = [&](const std::string& added) {
    const auto start = Clock::now();
    fake->Apply(Node(added));
    while (Seconds(Clock::now() - start) < 120) {
      for (const auto& r : fake->LogSince(cursor)) {
        ++cursor;
        if (IsPodCreate(r) &&
            r.body.find("\"" + added + "\"") != std::string::npos) {
          return Seconds(r.at - start);
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return -1.0;
  };
  for (int k = 0; k < adds && !create_times.empty(); ++k) {
    std::this_thread::sleep_for(std::chrono::seconds(1));  // a quiet spell
    const std::vector<double> one =
        dsd::bench::DecideSeconds(*connection.stub, decide, 1);
    decide_seconds.insert(decide_seconds.end(), one.begin(), one.end());
    const std::vector<double> node_one =
        dsd::bench::DecideSeconds(*connection.stub, node_decide, 1);
    node_decide_seconds.insert(node_decide_seconds.end(), node_one.begin(),
                               node_one.end());
    std::this_thread::sleep_for(std::chrono::seconds(1));
    cursor = fake->Log().size();
    const double seconds = add_until_post("node-added-" + std::to_string(k));
    if (seconds < 0) break;
    reaction.push_back(seconds);
  }
  // Then half as many added while the adapter's round over every node is
  // under way: an existing node relabelled (every DaemonSet due), the new
  // one 5 ms later.
  std::vector<double> busy_reaction;
  for (int k = 0; k < adds / 2 && !reaction.empty(); ++k) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    cursor = fake->Log().size();
    nlohmann::json touched = Node("node-00000");
    touched["metadata"]["labels"]["bench/touch"] = std::to_string(k);
    fake->Apply(touched);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const double seconds = add_until_post("node-busy-" + std::to_string(k));
    if (seconds < 0) break;
    busy_reaction.push_back(seconds);
  }
  const double one_decide = Percentile(decide_seconds, 0.5);
  Stop(adapter);
  Stop(server);
  std::remove(kubeconfig.c_str());
  const nlohmann::json out = {
      {"nodes", nodes},
      {"kube_api_qps", qps},
      {"kube_api_burst", burst},
      {"pods_created", create_times.size()},
      {"rollout_seconds", rollout_seconds},
      {"create_rate_after_burst", steady_rate},
      {"create_rate_overall", overall_rate},
      {"create_rate_over_qps", steady_rate / qps},
      {"adapter_cpu_seconds", cpu},
      {"adapter_cpu_seconds_per_1000_pod_events",
       create_times.empty()
           ? -1
           : cpu / (3.0 * static_cast<double>(create_times.size()) / 1000)},
      {"one_decide_seconds", one_decide},
      {"decide_p99_seconds", Percentile(decide_seconds, 0.99)},
      {"decide_seconds", decide_seconds},
      {"node_decide_seconds", Percentile(node_decide_seconds, 0.5)},
      {"node_added_to_post_seconds", reaction},
      {"node_added_to_post_p50_seconds", Percentile(reaction, 0.5)},
      {"node_added_to_post_p99_seconds", Percentile(reaction, 0.99)},
      {"p99_over_one_decide", Percentile(reaction, 0.99) / one_decide},
      {"busy_node_added_to_post_seconds", busy_reaction},
      {"busy_node_added_to_post_p50_seconds", Percentile(busy_reaction, 0.5)},
      {"busy_node_added_to_post_p99_seconds", Percentile(busy_reaction, 0.99)},
      {"p50_over_one_decide", Percentile(reaction, 0.5) / one_decide},
      {"p99_over_decide_p99",
       Percentile(reaction, 0.99) / Percentile(decide_seconds, 0.99)},
      {"adapter_log", adapter_log}};
  std::cout << out.dump(2) << std::endl;
  return static_cast<int>(create_times.size()) == nodes && !reaction.empty()
             ? 0
             : 1;
}
