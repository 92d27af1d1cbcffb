// dsd-extender's filter handler on a full Nodes payload (nodeCacheCapable:
// false) of realistic Node objects, against the JSON parse of the same
// body, measured in one run (issue 16: handler within 2x of the parse).
// The handler runs in-process; dsd-server runs in-process too, over
// loopback gRPC, so the daemon-pod figure includes the Filter call.
//
// With caches (nodeCacheCapable: true): the node cache's lookups against
// converting the same nodes from JSON, and node-names requests, the caches
// filled from the fake API server of tests/kube with 5,000 realistic nodes.
//
// `extender_bench --fixed_rate [--names=N] [--rate=R] [--duration=S]
// [--connections=C] [--daemon=0]` instead runs an open-loop HTTP load against
// an in-process dsd-extender (HTTP server, caches, dsd-server as above): R
// requests/s of a daemon pod with N node names (N = 1: what kube-scheduler
// sends for a daemon pod, whose node affinity leaves one feasible node;
// --daemon=0: a pod that is not a daemon pod, passed through), latency from
// each request's intended send time (no coordinated omission), printed as one
// JSON line.
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <httplib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "client/common/connection.h"
#include "client/extender/caches.h"
#include "client/extender/filter.h"
#include "client/extender/http_server.h"
#include "client/k8s/object_json.h"
#include "server/transport/server.h"
#include "tests/kube/fake_apiserver.h"

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

// The timed loop: `body` through the filter, each answer a 200 without
// Error (else the benchmark reports the error and stops).
void HandleEach(benchmark::State& state, const extender::Filter& filter,
                const std::string& body) {
  for (auto _ : state) {
    extender::FilterReply reply = filter.Handle(body);
    if (reply.http_status != 200 || !reply.error.empty()) {
      state.SkipWithError(reply.error.c_str());
      break;
    }
    benchmark::DoNotOptimize(reply);
  }
}

void BM_Filter(benchmark::State& state) {
  const bool daemon_pod = state.range(1) != 0;
  const std::string body = Body(static_cast<int>(state.range(0)), daemon_pod);
  const extender::Filter& filter = *Shared().filter;
  HandleEach(state, filter, body);
  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>(body.size()));
}

BENCHMARK(BM_JsonParse)->Arg(5000)->Unit(benchmark::kMillisecond);
// Args: nodes, daemon pod (0: passed through without a dsd call).
BENCHMARK(BM_Filter)->Args({5000, 0})->Args({5000, 1})->Unit(
    benchmark::kMillisecond);

constexpr int kClusterNodes = 5000;

// A cluster of kClusterNodes realistic nodes and the agent DaemonSet in the
// fake API server, watched by the extender's caches, and a filter and HTTP
// server on top of them.
struct CacheEnv {
  std::unique_ptr<testing::FakeApiServer> api;
  std::unique_ptr<kube::Client> kube;
  std::unique_ptr<extender::DaemonSetCache> daemon_sets;
  std::unique_ptr<extender::NodeCache> nodes;
  std::unique_ptr<extender::Filter> filter;
  std::unique_ptr<extender::HttpServer> http;
};

CacheEnv& SharedCaches() {
  static CacheEnv* env = [] {
    auto* e = new CacheEnv();
    e->api = testing::FakeApiServer::Start();
    for (int i = 0; i < kClusterNodes; ++i) {
      Json node = RealisticNode(i);
      node["apiVersion"] = "v1";
      node["kind"] = "Node";
      e->api->Apply(std::move(node));
    }
    // The current template tolerates the gpu taint and wants no disk type.
    e->api->Apply(Json::parse(R"({"apiVersion":"apps/v1","kind":"DaemonSet",
      "metadata":{"name":"agent","namespace":"kube-system","uid":"u-agent"},
      "spec":{"selector":{"matchLabels":{"app":"agent"}},
        "template":{"metadata":{"labels":{"app":"agent"}},
          "spec":{"nodeSelector":{"kubernetes.io/os":"linux"},
            "tolerations":[{"key":"dedicated","operator":"Exists"}],
            "containers":[{"name":"agent","image":"agent:1"}]}}}})"));
    kube::RestConfig config;
    config.server = e->api->url();
    kube::ClientOptions ko;
    ko.qps = 0;
    e->kube = std::make_unique<kube::Client>(config, ko);
    e->daemon_sets = std::make_unique<extender::DaemonSetCache>(
        *e->kube, extender::CacheOptions());
    e->nodes = std::make_unique<extender::NodeCache>(*e->kube,
                                                     extender::CacheOptions());
    e->daemon_sets->cache().Start();
    e->nodes->cache().Start();
    while (!e->daemon_sets->cache().synced() || !e->nodes->cache().synced()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    extender::FilterOptions fo;
    fo.decide_timeout = std::chrono::seconds(60);
    e->filter = std::make_unique<extender::Filter>(
        Shared().connection.stub.get(), fo, e->daemon_sets.get(),
        e->nodes.get());
    extender::HttpServerOptions ho;
    ho.listen = "127.0.0.1:0";
    ho.threads = 16;
    e->http = std::move(*extender::HttpServer::Start(ho, *e->filter));
    return e;
  }();
  return *env;
}

// A daemon pod (of an older template: nodeSelector disk=ssd) and node
// names worker-<first> ... worker-<first + names - 1>.
std::string NamesBody(int first, int names, bool daemon_pod = true) {
  Json pod = {{"metadata",
               {{"name", "agent-x"},
                {"namespace", "kube-system"},
                {"labels", {{"app", "agent"}}},
                {"ownerReferences",
                 {{{"apiVersion", "apps/v1"},
                   {"kind", "DaemonSet"},
                   {"name", "agent"},
                   {"uid", "u-agent"},
                   {"controller", true}}}}}},
              {"spec", {{"nodeSelector", {{"disk", "ssd"}}}}}};
  if (!daemon_pod) pod["metadata"].erase("ownerReferences");
  Json list = Json::array();
  for (int i = 0; i < names; ++i) {
    list.push_back("worker-" + std::to_string((first + i) % kClusterNodes));
  }
  return Json{{"Pod", pod}, {"Nodes", nullptr}, {"NodeNames", list}}.dump();
}

// The lookups of a 5,000-name request ...
void BM_NodeCacheFind(benchmark::State& state) {
  const extender::NodeCache& nodes = *SharedCaches().nodes;
  std::vector<std::string> held;
  for (int i = 0; i < kClusterNodes; ++i) {
    held.push_back("worker-" + std::to_string(i));
  }
  const std::vector<std::string_view> names(held.begin(), held.end());
  for (auto _ : state) {
    size_t found = 0;
    nodes.Visit(names, [&found](size_t, const v1::Node* node, uint64_t) {
      found += node != nullptr ? 1 : 0;
    });
    benchmark::DoNotOptimize(found);
  }
  state.SetItemsProcessed(state.iterations() * kClusterNodes);
}
// ... against converting the same nodes from parsed JSON each time.
void BM_NodeFromJson(benchmark::State& state) {
  std::vector<Json> objects;
  for (int i = 0; i < kClusterNodes; ++i) objects.push_back(RealisticNode(i));
  for (auto _ : state) {
    std::vector<client::InputProblem> problems;
    for (const Json& object : objects) {
      v1::Node node = client::NodeFromJson(object, problems);
      benchmark::DoNotOptimize(node);
    }
  }
  state.SetItemsProcessed(state.iterations() * kClusterNodes);
}
BENCHMARK(BM_NodeCacheFind)
    ->Unit(benchmark::kMillisecond)
    ->Threads(1)
    ->Threads(2);
BENCHMARK(BM_NodeFromJson)->Unit(benchmark::kMillisecond);

// A node-names request in process (no HTTP). Args: node names, daemon pod
// (0: passed through without a dsd call).
void BM_FilterNodeNames(benchmark::State& state) {
  const extender::Filter& filter = *SharedCaches().filter;
  const std::string body =
      NamesBody(0, static_cast<int>(state.range(0)), state.range(1) != 0);
  HandleEach(state, filter, body);
}
BENCHMARK(BM_FilterNodeNames)
    ->Args({1, 1})
    ->Args({kClusterNodes, 0})
    ->Args({kClusterNodes, 1})
    ->Unit(benchmark::kMicrosecond);

double Flag(int argc, char** argv, const char* name, double fallback) {
  const std::string prefix = std::string("--") + name + "=";
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) {
      return std::atof(argv[i] + prefix.size());
    }
  }
  return fallback;
}

// The load generator's HTTP/1.1 client, as lean as wrk's: each request one
// write of bytes prepared up front, each answer read into one 256 KB
// buffer. cpp-httplib's client read 4 KB at a time with a poll before
// each and took a fifth of the process's CPU, on the cores the server
// under test needs.
class LeanClient {
 public:
  explicit LeanClient(int port) : port_(port), buffer_(256 << 10) {}
  ~LeanClient() { Close(); }
  LeanClient(const LeanClient&) = delete;
  LeanClient& operator=(const LeanClient&) = delete;

  // "POST path HTTP/1.1" with `body`, whole, for Send.
  static std::string Request(const std::string& path, const std::string& body) {
    return "POST " + path +
           " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
           "application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
  }
  // Sends a prepared request on the kept connection (dialling when there
  // is none); false on a failure or an answer other than 200 whose body
  // ends with an empty Error.
  bool Send(const std::string& request) {
    if (fd_ < 0 && !Dial()) return false;
    for (size_t sent = 0; sent < request.size();) {
      const ssize_t n = ::send(fd_, request.data() + sent,
                               request.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return Close();
      sent += static_cast<size_t>(n);
    }
    size_t have = 0, header_end = 0, total = 0;
    while (total == 0 || have < total) {
      if (have == buffer_.size()) buffer_.resize(buffer_.size() * 2);
      const ssize_t n =
          ::recv(fd_, buffer_.data() + have, buffer_.size() - have, 0);
      if (n <= 0) return Close();
      have += static_cast<size_t>(n);
      if (total != 0) continue;
      const std::string_view text(buffer_.data(), have);
      header_end = text.find("\r\n\r\n");
      if (header_end == std::string_view::npos) continue;
      const size_t length = text.find("Content-Length: ");
      if (length == std::string_view::npos || length > header_end) {
        return Close();
      }
      total = header_end + 4 +
              std::strtoul(buffer_.data() + length + 16, nullptr, 10);
    }
    const std::string_view text(buffer_.data(), total);
    const bool ok = text.substr(0, 13) == "HTTP/1.1 200 " &&
                    text.ends_with("\"Error\":\"\"}");
    // cpp-httplib says when it closes a kept connection.
    if (text.substr(0, header_end).find("Connection: close") !=
        std::string_view::npos) {
      Close();
    }
    return ok;
  }

 private:
  bool Dial() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port_));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));  // as Go
    // A stuck server fails the request after 30 s, not the whole run.
    const timeval timeout{30, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address),
                  sizeof(address)) != 0) {
      return Close();
    }
    return true;
  }
  bool Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    return false;
  }

  const int port_;
  int fd_ = -1;
  std::vector<char> buffer_;
};

// The open-loop HTTP load (see the top of the file).
int RunFixedRate(int argc, char** argv) {
  const int names = static_cast<int>(Flag(argc, argv, "names", 1));
  const double rate = Flag(argc, argv, "rate", 500);
  const double duration = Flag(argc, argv, "duration", 10);
  const int connections = static_cast<int>(Flag(argc, argv, "connections", 8));
  const bool daemon_pod = Flag(argc, argv, "daemon", 1) != 0;
  CacheEnv& env = SharedCaches();
  const int port = env.http->Port();
  // Bodies prepared up front, each naming other nodes.
  std::vector<std::string> bodies;
  for (int i = 0; i < 64; ++i)
    bodies.push_back(NamesBody(i * 77, names, daemon_pod));
  // Each body once before the clock starts: the first request for a
  // DaemonSet and node version asks dsd-server, later ones are answered
  // from remembered verdicts (client/extender/verdicts.h); the timed run
  // measures that steady state. The warm-up's slowest is reported.
  double warmup_max_ms = 0;
  {
    httplib::Client client("127.0.0.1", port);
    for (const std::string& body : bodies) {
      const auto sent = std::chrono::steady_clock::now();
      client.Post("/filter", body, "application/json");
      warmup_max_ms =
          std::max(warmup_max_ms, std::chrono::duration<double, std::milli>(
                                      std::chrono::steady_clock::now() - sent)
                                      .count());
    }
  }
  // The server's own time in the filter handler (its histogram's sum),
  // read before and after: how much of the latency is the handler.
  const auto handler_seconds = [port] {
    httplib::Client client("127.0.0.1", port);
    const auto res = client.Get("/metrics");
    const std::string key = "dsd_extender_filter_seconds_sum ";
    const size_t at = res ? res->body.find(key) : std::string::npos;
    return at == std::string::npos
               ? 0.0
               : std::atof(res->body.c_str() + at + key.size());
  };
  const double handler_before = handler_seconds();
  // CPU of the whole process (load generator, HTTP server, handler).
  const auto process_cpu_seconds = [] {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           static_cast<double>(usage.ru_utime.tv_usec +
                               usage.ru_stime.tv_usec) *
               1e-6;
  };
  const double cpu_before = process_cpu_seconds();
  std::vector<std::string> requests;
  for (const std::string& body : bodies) {
    requests.push_back(LeanClient::Request("/filter", body));
  }
  const auto total = static_cast<int64_t>(rate * duration);
  std::vector<double> latency_ms(static_cast<size_t>(total), -1);
  std::atomic<int64_t> errors{0};
  const auto start =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
  const auto interval = std::chrono::duration<double>(1.0 / rate);
  std::vector<std::thread> workers;
  for (int w = 0; w < connections; ++w) {
    workers.emplace_back([&, w] {
      LeanClient client(port);
      for (int64_t i = w; i < total; i += connections) {
        const auto due =
            start +
            std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                interval * static_cast<double>(i));
        std::this_thread::sleep_until(due);
        const bool ok =
            client.Send(requests[static_cast<size_t>(i) % requests.size()]);
        const auto done = std::chrono::steady_clock::now();
        if (!ok) errors.fetch_add(1);
        latency_ms[static_cast<size_t>(i)] =
            std::chrono::duration<double, std::milli>(done - due).count();
      }
    });
  }
  for (std::thread& t : workers) t.join();
  const double cpu_ms_per_request =
      (process_cpu_seconds() - cpu_before) * 1e3 / static_cast<double>(total);
  const double handler_mean_ms =
      (handler_seconds() - handler_before) * 1e3 / static_cast<double>(total);
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::sort(latency_ms.begin(), latency_ms.end());
  const auto pct = [&](double p) {
    return latency_ms[std::min(
        latency_ms.size() - 1,
        static_cast<size_t>(p * static_cast<double>(latency_ms.size())))];
  };
  std::printf(
      "{\"names\": %d, \"daemon_pod\": %s, \"rate\": %.0f, "
      "\"duration_seconds\": %.1f, "
      "\"connections\": %d, \"requests\": %lld, \"errors\": %lld, "
      "\"achieved_rate\": %.1f, \"p50_ms\": %.3f, \"p90_ms\": %.3f, "
      "\"p99_ms\": %.3f, \"p999_ms\": %.3f, \"max_ms\": %.3f, "
      "\"warmup_max_ms\": %.3f, \"handler_mean_ms\": %.3f, "
      "\"cpu_ms_per_request\": %.3f}\n",
      names, daemon_pod ? "true" : "false", rate, duration, connections,
      static_cast<long long>(total), static_cast<long long>(errors.load()),
      static_cast<double>(total) / elapsed, pct(0.5), pct(0.9), pct(0.99),
      pct(0.999), latency_ms.back(), warmup_max_ms, handler_mean_ms,
      cpu_ms_per_request);
  std::fflush(stdout);
  std::_Exit(0);  // the shared servers are never torn down
}

}  // namespace
}  // namespace dsd

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--fixed_rate") == 0) {
      return dsd::RunFixedRate(argc, argv);
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
