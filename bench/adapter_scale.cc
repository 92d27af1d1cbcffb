// Issue 14's adapter benchmark: the fake API server (tests/kube) holding a
// synthetic cluster (default 5,000 nodes, 50 DaemonSets, ~150,000 pods, as
// Kubernetes JSON from bench/kube_objects.h), a dsd-server and a
// dsd-adapter against them, measuring in one run:
//   - initial sync: adapter start to its first Decide done (/metrics),
//     against one Decide of the same snapshot (this program loads the
//     objects as the adapter does, SnapshotLoader, and calls Decide with
//     explain=true itself; the median of 3);
//   - node added to decision: a Node applied to the fake until the
//     adapter logs the drift of the new node (--drift_after 0), p50/p99
//     over --adds nodes, against one Decide of the affected DaemonSets (a
//     node event affects every DaemonSet: the whole snapshot). Each add
//     follows a quiet second, more than the adapter's --debounce (0.2 s):
//     a lone change is decided at once, while one that follows a round
//     within the debounce waits for it by design (bursts are gathered);
//   - the adapter's peak RSS (VmHWM) against the snapshot's protobuf bytes.
// Writes one JSON object to stdout. scripts/bench.sh (step 9) runs it; it
// measures whatever the adapter does, so it can be re-run as that changes.
//   adapter_scale --bin build/release/bin [--nodes 5000] [--daemonsets 50]
//                 [--adds 20] [--lean]
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
#include "bench/kube_objects.h"
#include "client/common/connection.h"
#include "client/k8s/snapshot_loader.h"
#include "client/synthetic/synthetic_cluster.h"
#include "httplib.h"
#include "tests/kube/fake_apiserver.h"

namespace {

using dsd::bench::Clock;
using dsd::bench::FreePort;
using dsd::bench::Percentile;
using dsd::bench::Seconds;
using dsd::bench::Spawn;
using dsd::bench::Stop;

int64_t VmHwmBytes(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) {
      return std::atoll(line.c_str() + 6) * 1024;
    }
  }
  return -1;
}

// The value of `name` in a Prometheus text, or -1.
double Metric(const std::string& text, const std::string& name) {
  const size_t at = text.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::atof(text.c_str() + at + name.size() + 2);
}

}  // namespace

int main(int argc, char** argv) {
  std::string bin = "build/release/bin";
  int nodes = 5000, daemon_sets = 50, adds = 20;
  bool lean = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--bin")
      bin = next();
    else if (a == "--nodes")
      nodes = std::atoi(next().c_str());
    else if (a == "--daemonsets")
      daemon_sets = std::atoi(next().c_str());
    else if (a == "--adds")
      adds = std::atoi(next().c_str());
    else if (a == "--lean")
      lean = true;
    else {
      std::cerr << "usage: adapter_scale [--bin DIR] [--nodes N] "
                   "[--daemonsets D] [--adds K] [--lean]\n";
      return 2;
    }
  }
  const std::string tmp = "/tmp/dsd-adapter-scale-" + std::to_string(getpid());
  std::cerr << "adapter_scale: generating " << nodes << " nodes x "
            << daemon_sets << " DaemonSets" << std::endl;
  dsd::client::SyntheticClusterSpec spec;
  spec.nodes = nodes;
  spec.daemon_sets = daemon_sets;
  const dsd::v1::DecideRequest request =
      dsd::client::MakeSyntheticDecideRequest(spec);
  std::vector<nlohmann::ordered_json> objects =
      dsd::bench::KubeObjects(request.snapshot(), lean);

  // The snapshot as the adapter builds it: the objects as one List, read
  // by the loader.
  std::string list = R"({"apiVersion":"v1","kind":"List","items":[)";
  int64_t object_bytes = 0;
  auto fake = dsd::testing::FakeApiServer::Start();
  if (fake == nullptr) {
    std::cerr << "cannot start the fake API server\n";
    return 1;
  }
  for (size_t i = 0; i < objects.size(); ++i) {
    std::string text = objects[i].dump();
    object_bytes += static_cast<int64_t>(text.size());
    if (i > 0) list += ',';
    list += text;
    fake->Apply(nlohmann::json::parse(text));
    objects[i] = nullptr;
  }
  list += "]}";
  fake->Compact();  // no event history: the adapter lists
  dsd::client::SnapshotLoader loader(int64_t{1} << 40);
  loader.AddText(list, "bench");
  list.clear();
  list.shrink_to_fit();
  dsd::client::LoadedSnapshot loaded = loader.Finish();
  if (!loaded.problems.empty()) {
    std::cerr << "the generated cluster does not load: "
              << loaded.problems.front().ToString() << "\n";
    return 1;
  }
  const int64_t snapshot_bytes =
      static_cast<int64_t>(loaded.snapshot.ByteSizeLong());
  std::cerr << "adapter_scale: fake API server holds "
            << loaded.snapshot.nodes_size() << " nodes, "
            << loaded.snapshot.daemon_sets_size() << " DaemonSets, "
            << loaded.snapshot.pods_size() << " pods ("
            << static_cast<double>(object_bytes) / 1e6 << " MB JSON, snapshot "
            << static_cast<double>(snapshot_bytes) / 1e6 << " MB)" << std::endl;

  const int server_port = FreePort();
  const std::string server_addr = "127.0.0.1:" + std::to_string(server_port);
  const pid_t server = Spawn({bin + "/dsd-server", "--listen", server_addr,
                              "--log_level", "warn", "--max_nodes", "100000"},
                             tmp + "-server.log");
  dsd::client::ConnectionOptions conn;
  conn.server = server_addr;
  conn.timeout_seconds = 300;
  dsd::client::Connection connection = dsd::client::Connect(conn);
  // One Decide of the same snapshot, as the adapter sends it.
  dsd::v1::DecideRequest decide;
  *decide.mutable_snapshot() = loaded.snapshot;
  decide.mutable_options()->set_explain(true);
  const std::vector<double> decide_seconds =
      dsd::bench::DecideSeconds(*connection.stub, decide);
  if (decide_seconds.empty()) {
    std::cerr << "dsd-server did not answer\n";
    Stop(server);
    return 1;
  }
  const double one_decide = Percentile(decide_seconds, 0.5);
  std::cerr << "adapter_scale: one Decide " << one_decide << " s" << std::endl;

  const std::string kubeconfig = tmp + ".kubeconfig";
  std::ofstream(kubeconfig)
      << "apiVersion: v1\nkind: Config\ncurrent-context: fake\n"
         "clusters:\n- name: fake\n  cluster:\n    server: "
      << fake->url()
      << "\nusers:\n- name: fake\n  user: {}\ncontexts:\n- name: fake\n"
         "  context:\n    cluster: fake\n    user: fake\n";
  const int health_port = FreePort();
  const std::string adapter_log = tmp + "-adapter.log";
  const auto adapter_start = Clock::now();
  const pid_t adapter = Spawn(
      {bin + "/dsd-adapter", "--kubeconfig", kubeconfig, "--server",
       server_addr, "--timeout", "300", "--drift_after", "0", "--log_format",
       "json", "--kube_api_qps", "1000", "--kube_api_burst", "1000",
       "--health_listen", "127.0.0.1:" + std::to_string(health_port)},
      adapter_log);
  httplib::Client health("127.0.0.1", health_port);
  health.set_connection_timeout(1);
  auto decides = [&]() -> double {
    auto res = health.Get("/metrics");
    return res && res->status == 200
               ? Metric("\n" + res->body, "dsd_adapter_decide_seconds_count")
               : -1;
  };
  double sync_seconds = -1;
  while (Seconds(Clock::now() - adapter_start) < 1800) {
    if (decides() >= 1) {
      sync_seconds = Seconds(Clock::now() - adapter_start);
      break;
    }
    if (waitpid(adapter, nullptr, WNOHANG) == adapter) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::cerr << "adapter_scale: initial sync " << sync_seconds << " s"
            << std::endl;

  // Nodes added one at a time: applied, then the adapter's drift line for
  // the new node (its DaemonSets' creates) ends the wait.
  std::vector<double> reaction;
  std::ifstream log(adapter_log);
  std::string pending;
  auto saw = [&](const std::string& needle) {
    std::string chunk(1 << 16, '\0');
    log.clear();
    while (log.read(chunk.data(), static_cast<std::streamsize>(chunk.size())) ||
           log.gcount() > 0) {
      pending.append(chunk.data(), static_cast<size_t>(log.gcount()));
      log.clear();
    }
    const size_t at = pending.find(needle);
    const bool found = at != std::string::npos;
    const size_t keep = pending.rfind('\n');
    if (found) {
      pending.erase(0, at + needle.size());
    } else if (keep != std::string::npos) {
      pending.erase(0, keep + 1);
    }
    return found;
  };
  saw("\x01");  // skip what the initial sync logged
  nlohmann::json node = fake->Get("Node", "", "node-00001");
  for (int k = 0; k < adds && sync_seconds >= 0; ++k) {
    const std::string name = "node-added-" + std::to_string(k);
    node["metadata"]["name"] = name;
    node["metadata"]["uid"] = "uid-" + name;
    node["metadata"]["labels"]["kubernetes.io/hostname"] = name;
    node["metadata"].erase("resourceVersion");
    std::this_thread::sleep_for(std::chrono::seconds(1));  // a quiet spell
    const auto start = Clock::now();
    fake->Apply(node);
    const std::string needle = "\"node\":\"" + name + "\"";
    bool found = false;
    while (Seconds(Clock::now() - start) < 600) {
      if (saw(needle)) {
        found = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    if (!found) break;
    reaction.push_back(Seconds(Clock::now() - start));
    std::cerr << "adapter_scale: node " << k << " decided after "
              << reaction.back() << " s" << std::endl;
  }
  const int64_t adapter_rss = VmHwmBytes(adapter);
  Stop(adapter);
  Stop(server);
  std::remove(kubeconfig.c_str());
  nlohmann::json out = {{"nodes", loaded.snapshot.nodes_size()},
                        {"daemon_sets", loaded.snapshot.daemon_sets_size()},
                        {"pods", loaded.snapshot.pods_size()},
                        {"lean_objects", lean},
                        {"object_json_bytes", object_bytes},
                        {"snapshot_bytes", snapshot_bytes},
                        {"one_decide_seconds", one_decide},
                        {"decide_runs_seconds", decide_seconds},
                        {"initial_sync_seconds", sync_seconds},
                        {"reaction_seconds", reaction},
                        {"reaction_p50_seconds", Percentile(reaction, 0.5)},
                        {"reaction_p99_seconds", Percentile(reaction, 0.99)},
                        {"adapter_peak_rss_bytes", adapter_rss},
                        {"adapter_log", adapter_log}};
  std::cout << out.dump(2) << std::endl;
  return sync_seconds >= 0 && !reaction.empty() ? 0 : 1;
}
