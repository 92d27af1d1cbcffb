// What client/kube's shared connections save: one GET of a Node per
// iteration against the fake API server, over http and over https
// (a self-signed RSA-2048 certificate, made with the openssl program):
//   BM_Get/https:H/reuse:1  one Client for every request: kept-alive
//                           connections and TLS sessions, as now
//   BM_Get/https:H/reuse:0  a new Client for each request: a new
//                           connection (and handshake) each time, as every
//                           request of the adapter was made before
// The ratio of the two, per scheme, is the figure (same run). Client CPU
// only is in `cpu`; the fake server runs in this process, so real time
// holds both sides.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "client/kube/client.h"
#include "tests/kube/fake_apiserver.h"

namespace dsd::bench {
namespace {

using dsd::testing::FakeApiServer;

// A fake API server holding one Node; null when https cannot be set up
// (no openssl program).
FakeApiServer* Start(bool https) {
  FakeApiServer::Options options;
  if (https) {
    const std::string dir = std::filesystem::temp_directory_path() /
                            ("dsd-kube-client-bench-" +
                             std::to_string(static_cast<long>(getpid())));
    std::filesystem::create_directories(dir);
    const std::string cmd =
        "cd " + dir +
        " && openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out "
        "cert.pem -days 1 -subj /CN=127.0.0.1 -addext "
        "subjectAltName=IP:127.0.0.1 >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) return nullptr;
    options.cert_file = dir + "/cert.pem";
    options.key_file = dir + "/key.pem";
  }
  FakeApiServer* server = FakeApiServer::Start(options).release();
  if (server != nullptr) {
    server->Apply({{"apiVersion", "v1"},
                   {"kind", "Node"},
                   {"metadata", {{"name", "n1"}}}});
  }
  return server;
}

// One server per scheme, for the whole run.
FakeApiServer* Server(bool https) {
  static FakeApiServer* const http = Start(false);
  static FakeApiServer* const tls = Start(true);
  return https ? tls : http;
}

kube::RestConfig ConfigFor(const FakeApiServer& server) {
  kube::RestConfig config;
  config.server = server.url();
  config.source = "kube_client_bench";
  config.insecure_skip_tls_verify = true;  // its own self-signed certificate
  return config;
}

kube::ClientOptions Options() {
  kube::ClientOptions options;
  options.user_agent = "kube_client_bench";
  options.qps = 0;  // no limit
  return options;
}

void BM_Get(benchmark::State& state) {
  const bool https = state.range(0) != 0;
  const bool reuse = state.range(1) != 0;
  FakeApiServer* server = Server(https);
  if (server == nullptr) {
    state.SkipWithError("no https server (is the openssl program there?)");
    return;
  }
  const kube::RestConfig config = ConfigFor(*server);
  std::unique_ptr<kube::Client> shared;
  if (reuse) shared = std::make_unique<kube::Client>(config, Options());
  for (auto _ : state) {
    std::unique_ptr<kube::Client> own;
    if (!reuse) own = std::make_unique<kube::Client>(config, Options());
    kube::Client& client = reuse ? *shared : *own;
    const absl::StatusOr<nlohmann::json> node =
        client.GetObject(kube::kNodes, "", "n1");
    if (!node.ok()) {
      state.SkipWithError(std::string(node.status().message()).c_str());
      return;
    }
    benchmark::DoNotOptimize(node);
  }
}
BENCHMARK(BM_Get)
    ->ArgNames({"https", "reuse"})
    ->ArgsProduct({{0, 1}, {0, 1}})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace dsd::bench

BENCHMARK_MAIN();
