// dsd-extender's filter handler on a full Nodes payload (nodeCacheCapable:
// false) of realistic Node objects, against the JSON parse of the same
// body, measured in one run (issue 16: handler within 2x of the parse).
// The handler runs in-process; dsd-server runs in-process too, over
// loopback gRPC, so the daemon-pod figure includes the Filter call.
#include <benchmark/benchmark.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "client/common/connection.h"
#include "client/extender/filter.h"
#include "server/transport/server.h"

namespace dsd {
namespace {

using Json = nlohmann::json;

// A Node as kube-scheduler's cache holds it: labels, a taint on some,
// allocatable and capacity, conditions, addresses, node info and a few
// images (about 3 KB of JSON each).
Json RealisticNode(int i) {
  const std::string name = "worker-" + std::to_string(i);
  Json node = {
      {"metadata",
       {{"name", name},
        {"uid", "0b4c1e9a-7f3d-4e2a-9c1b-" + std::to_string(100000 + i)},
        {"resourceVersion", std::to_string(123456 + i)},
        {"creationTimestamp", "2026-01-02T03:04:05Z"},
        {"labels",
         {{"kubernetes.io/hostname", name},
          {"kubernetes.io/os", "linux"},
          {"kubernetes.io/arch", "amd64"},
          {"node.kubernetes.io/instance-type", "m5.2xlarge"},
          {"topology.kubernetes.io/region", "eu-west-1"},
          {"topology.kubernetes.io/zone",
           "eu-west-1" + std::string(1, static_cast<char>('a' + i % 3))},
          {"disk", i % 2 == 0 ? "ssd" : "hdd"}}},
        {"annotations",
         {{"node.alpha.kubernetes.io/ttl", "0"},
          {"volumes.kubernetes.io/controller-managed-attach-detach",
           "true"}}}}},
      {"spec", {{"podCIDR", "10.1." + std::to_string(i % 250) + ".0/24"}}},
      {"status",
       {{"capacity", {{"cpu", "8"}, {"memory", "32386544Ki"}, {"pods", "110"}}},
        {"allocatable",
         {{"cpu", "7910m"}, {"memory", "31371760Ki"}, {"pods", "110"}}},
        {"addresses",
         {{{"type", "InternalIP"},
           {"address", "10.0.0." + std::to_string(i % 250)}},
          {{"type", "Hostname"}, {"address", name}}}},
        {"nodeInfo",
         {{"kubeletVersion", "v1.31.2"},
          {"containerRuntimeVersion", "containerd://1.7.22"},
          {"kernelVersion", "6.1.0-27-amd64"},
          {"osImage", "Debian GNU/Linux 12 (bookworm)"},
          {"architecture", "amd64"},
          {"operatingSystem", "linux"}}}}}};
  Json conditions = Json::array();
  for (const char* type :
       {"MemoryPressure", "DiskPressure", "PIDPressure", "Ready"}) {
    conditions.push_back(
        {{"type", type},
         {"status", std::string(type) == "Ready" ? "True" : "False"},
         {"lastHeartbeatTime", "2026-01-02T03:04:05Z"},
         {"lastTransitionTime", "2026-01-02T03:04:05Z"},
         {"reason", "KubeletReady"},
         {"message", "kubelet is posting ready status"}});
  }
  node["status"]["conditions"] = conditions;
  Json images = Json::array();
  for (int k = 0; k < 6; ++k) {
    images.push_back(
        {{"names",
          {"registry.example/team/image-" + std::to_string(k) +
               "@sha256:0123456789abcdef0123456789abcdef0123456789abcdef012345"
               "6789abcdef",
           "registry.example/team/image-" + std::to_string(k) + ":v1.2.3"}},
         {"sizeBytes", 123456789 + k}});
  }
  node["status"]["images"] = images;
  if (i % 10 == 0) {
    node["spec"]["taints"] = {
        {{"key", "dedicated"}, {"value", "gpu"}, {"effect", "NoSchedule"}}};
  }
  return node;
}

std::string Body(int nodes, bool daemon_pod) {
  Json pod = {{"metadata",
               {{"name", "agent-x"},
                {"namespace", "kube-system"},
                {"labels", {{"app", "agent"}}}}},
              {"spec", {{"nodeSelector", {{"disk", "ssd"}}}}}};
  if (daemon_pod) {
    pod["metadata"]["ownerReferences"] = {{{"apiVersion", "apps/v1"},
                                           {"kind", "DaemonSet"},
                                           {"name", "agent"},
                                           {"uid", "u-agent"},
                                           {"controller", true}}};
  }
  Json items = Json::array();
  for (int i = 0; i < nodes; ++i) items.push_back(RealisticNode(i));
  return Json{{"Pod", pod},
              {"Nodes", {{"metadata", Json::object()}, {"items", items}}},
              {"NodeNames", nullptr}}
      .dump();
}

struct Env {
  std::unique_ptr<transport::Server> server;
  client::Connection connection;
  std::unique_ptr<extender::Filter> filter;
};

Env& Shared() {
  static Env* env = [] {
    auto* e = new Env();
    transport::ServerOptions options;
    options.listen = "127.0.0.1:0";
    e->server = std::move(*transport::Server::Start(options));
    client::ConnectionOptions c;
    c.server = "127.0.0.1:" + std::to_string(e->server->Port());
    e->connection = client::Connect(c);
    extender::FilterOptions fo;
    fo.decide_timeout = std::chrono::seconds(60);
    e->filter = std::make_unique<extender::Filter>(e->connection.stub.get(), fo,
                                                   nullptr, nullptr);
    return e;
  }();
  return *env;
}

void BM_JsonParse(benchmark::State& state) {
  const std::string body = Body(static_cast<int>(state.range(0)), true);
  for (auto _ : state) {
    Json parsed = Json::parse(body);
    benchmark::DoNotOptimize(parsed);
  }
  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>(body.size()));
  state.counters["body_MB"] = static_cast<double>(body.size()) / 1e6;
}

void BM_Filter(benchmark::State& state) {
  const bool daemon_pod = state.range(1) != 0;
  const std::string body = Body(static_cast<int>(state.range(0)), daemon_pod);
  const extender::Filter& filter = *Shared().filter;
  for (auto _ : state) {
    extender::FilterReply reply = filter.Handle(body);
    if (reply.http_status != 200 || !reply.error.empty()) {
      state.SkipWithError(reply.error.c_str());
      break;
    }
    benchmark::DoNotOptimize(reply);
  }
  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>(body.size()));
}

BENCHMARK(BM_JsonParse)->Arg(5000)->Unit(benchmark::kMillisecond);
// Args: nodes, daemon pod (0: passed through without a dsd call).
BENCHMARK(BM_Filter)->Args({5000, 0})->Args({5000, 1})->Unit(
    benchmark::kMillisecond);

}  // namespace
}  // namespace dsd

BENCHMARK_MAIN();
