// The real dsd-extender binary over HTTP(S), against a dsd-server in this
// process: a golden request answered as in filter_test, the endpoints,
// the 400/404/413 answers, TLS (with and without client certificates),
// flags that are usage errors (exit 2), a port in use (exit 1) and SIGTERM
// (exit 0); a dsd-server slower than --decide_timeout; the caches through a
// kubeconfig for the fake API server, with /readyz before and after their
// sync; and no API access at all.
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "dsd/v1/dsd.grpc.pb.h"
#include "gtest/gtest.h"
#include "server/transport/server.h"
#include "tests/kube/fake_apiserver.h"
#include "tests/testing/child_process.h"
#include "tests/testing/local_server.h"
#include "tests/testing/param_name.h"

namespace dsd::extender {
namespace {

using Json = nlohmann::json;
using std::chrono::milliseconds;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in),
                     std::istreambuf_iterator<char>());
}

std::string Testdata(const std::string& path) {
  return ReadFile(std::string(DSD_EXTENDER_TESTDATA) + "/" + path);
}

// The environment of every extender this test starts: no API access
// unless a test passes --kubeconfig (never the developer's cluster).
testing::ChildOptions Hermetic() {
  testing::ChildOptions options;
  options.unset_env = {"KUBECONFIG", "KUBERNETES_SERVICE_HOST",
                       "KUBERNETES_SERVICE_PORT"};
  options.env = {"HOME=/nonexistent-dsd-test-home"};
  return options;
}

// One dsd-extender process (see ChildProcess).
class ExtenderProcess : public testing::ChildProcess {
 public:
  explicit ExtenderProcess(const std::vector<std::string>& args)
      : ChildProcess(DSD_EXTENDER_BIN, args, Hermetic()) {}
  std::string Stderr() const { return Output(); }

  // The port from "listening on HOST:PORT", or 0 if it did not log one
  // within `timeout` (it exited, or is far too slow).
  int WaitForPort(milliseconds timeout) {
    const std::optional<std::string> port =
        WaitForOutput(R"(listening on [^ ]*:([0-9]+))", timeout);
    return port ? std::stoi(*port) : 0;
  }
};

constexpr milliseconds kStartTimeout{30000};  // a loaded CI machine

// A client for `extender` once it listens; null if it did not start.
std::unique_ptr<httplib::Client> ClientOf(ExtenderProcess& extender) {
  const int port = extender.WaitForPort(kStartTimeout);
  if (port == 0) return nullptr;
  auto client = std::make_unique<httplib::Client>("127.0.0.1", port);
  client->set_read_timeout(std::chrono::seconds(30));
  return client;
}

// A Filter request (a golden case's) that dsd-server decides.
std::string GoldenRequest() {
  return Testdata("nodes_go_keys_daemon_pod_nodeselector/request.json");
}

class ExtenderBinaryTest : public testing::LocalServerTest {
 protected:
  std::vector<std::string> Flags(std::vector<std::string> more = {}) {
    std::vector<std::string> flags = {"--listen=127.0.0.1:0",
                                      "--server=" + Connection().server,
                                      "--decide_timeout=30"};
    flags.insert(flags.end(), more.begin(), more.end());
    return flags;
  }
};

TEST_F(ExtenderBinaryTest, AnswersFilterAndServesItsEndpoints) {
  ExtenderProcess extender(Flags({"--filter_path=/dsd/v1/filter"}));
  const int port = extender.WaitForPort(kStartTimeout);
  ASSERT_NE(port, 0) << extender.Stderr();
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(std::chrono::seconds(30));

  // A golden case over the wire: the same answer as in-process.
  const auto filter = client.Post(
      "/dsd/v1/filter",
      Testdata("nodes_go_keys_daemon_pod_nodeselector/request.json"),
      "application/json");
  ASSERT_TRUE(filter) << httplib::to_string(filter.error());
  EXPECT_EQ(filter->status, 200);
  EXPECT_EQ(Json::parse(filter->body),
            Json::parse(Testdata(
                "nodes_go_keys_daemon_pod_nodeselector/response.json")));
  EXPECT_EQ(filter->get_header_value("Content-Type"), "application/json");

  const auto malformed = client.Post("/dsd/v1/filter", "{", "application/json");
  ASSERT_TRUE(malformed);
  EXPECT_EQ(malformed->status, 400);
  EXPECT_NE(Json::parse(malformed->body)["Error"].get<std::string>().find(
                "malformed JSON"),
            std::string::npos);

  for (const char* path : {"/healthz", "/readyz"}) {
    const auto res = client.Get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 200) << path;
  }
  // Another verb (prioritize is not served) and a wrong method: JSON 404.
  for (const auto& res :
       {client.Post("/dsd/v1/prioritize", "{}", "application/json"),
        client.Get("/dsd/v1/filter")}) {
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 404);
    EXPECT_TRUE(Json::parse(res->body, nullptr, false)["Error"].is_string())
        << res->body;
  }

  const auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(
      metrics->body.find("dsd_extender_filter_total{outcome=\"decided\"} 1"),
      std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find(
                "dsd_extender_filter_total{outcome=\"bad_request\"} 1"),
            std::string::npos);
  // Full Node objects are never answered from remembered verdicts.
  EXPECT_NE(metrics->body.find(
                "dsd_extender_filter_nodes_total{result=\"remembered\"} 0"),
            std::string::npos);
  EXPECT_NE(metrics->body.find("dsd_extender_http_requests_total{path=\"other\""
                               ",code=\"404\"} 1"),
            std::string::npos);

  extender.Signal(SIGTERM);
  EXPECT_EQ(extender.WaitForExit(kStartTimeout), 0) << extender.Stderr();
}

// A request is counted before its answer is written: a scrape that follows
// an answer on another connection always finds it. httplib's logger, which
// counted before, runs after the answer is sent.
TEST_F(ExtenderBinaryTest, AnAnsweredRequestIsAlreadyCounted) {
  ExtenderProcess extender(Flags());
  const auto client = ClientOf(extender);
  ASSERT_TRUE(client) << extender.Stderr();
  for (int i = 1; i <= 200; ++i) {
    const auto miss = client->Get("/no-such-path");  // a new connection
    ASSERT_TRUE(miss);
    ASSERT_EQ(miss->status, 404);
    const auto metrics = client->Get("/metrics");
    ASSERT_TRUE(metrics);
    ASSERT_NE(
        metrics->body.find(absl::StrCat(
            "dsd_extender_http_requests_total{path=\"other\",code=\"404\"} ", i,
            "\n")),
        std::string::npos)
        << "request " << i << ":\n"
        << metrics->body;
  }
}

TEST_F(ExtenderBinaryTest, BodyOverTheCapGets413) {
  ExtenderProcess extender(Flags({"--max_body_bytes=1000"}));
  const int port = extender.WaitForPort(kStartTimeout);
  ASSERT_NE(port, 0) << extender.Stderr();
  httplib::Client client("127.0.0.1", port);
  const std::string body = R"({"Pod":{},"Nodes":null,"NodeNames":[")" +
                           std::string(2000, 'n') + R"("]})";
  const auto res = client.Post("/filter", body, "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
  // Under the cap, the same shape is answered.
  const auto small =
      client.Post("/filter", R"({"Pod":{},"Nodes":null,"NodeNames":["n"]})",
                  "application/json");
  ASSERT_TRUE(small);
  EXPECT_EQ(small->status, 200);
}

TEST_F(ExtenderBinaryTest, KeepAliveAnswersDoNotWaitForDelayedAcks) {
  // An answer goes out in pieces (headers, body). With Nagle's algorithm
  // on the extender's socket the body waits for the client's delayed ACK,
  // about 40 ms on Linux, on every request of a keep-alive connection;
  // kube-scheduler (Go) sets TCP_NODELAY on its side, as this client does.
  ExtenderProcess extender(Flags());
  const int port = extender.WaitForPort(kStartTimeout);
  ASSERT_NE(port, 0) << extender.Stderr();
  httplib::Client client("127.0.0.1", port);
  client.set_keep_alive(true);
  client.set_tcp_nodelay(true);
  const std::string body =
      Testdata("nodes_go_keys_non_daemon_pod_passed_through/request.json");
  std::vector<double> ms;
  for (int i = 0; i < 21; ++i) {
    const auto start = std::chrono::steady_clock::now();
    const auto res = client.Post("/filter", body, "application/json");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200);
    ms.push_back(std::chrono::duration<double, std::milli>(
                     std::chrono::steady_clock::now() - start)
                     .count());
  }
  std::sort(ms.begin(), ms.end());
  // The median: a pass-through answer takes well under a millisecond of
  // work; 20 ms leaves room for a loaded machine and none for a 40 ms wait.
  EXPECT_LT(ms[ms.size() / 2], 20.0);
}

TEST_F(ExtenderBinaryTest, KeepAliveConnectionsServeManyRequests) {
  // cpp-httplib closes a keep-alive connection after 5 requests unless told
  // otherwise; kube-scheduler would then dial again (with HTTPS, a new TLS
  // handshake) every fifth pod.
  ExtenderProcess extender(Flags());
  const int port = extender.WaitForPort(kStartTimeout);
  ASSERT_NE(port, 0) << extender.Stderr();
  httplib::Client client("127.0.0.1", port);
  client.set_keep_alive(true);
  const std::string body =
      Testdata("nodes_go_keys_non_daemon_pod_passed_through/request.json");
  for (int i = 1; i <= 12; ++i) {
    const auto res = client.Post("/filter", body, "application/json");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200);
    EXPECT_NE(res->get_header_value("Connection"), "close") << "request " << i;
  }
}

// Answers every Filter call only after its caller has given up (or 60 s).
class SlowScheduler final : public v1::DaemonSetScheduler::Service {
 public:
  grpc::Status Filter(grpc::ServerContext* context, const v1::FilterRequest*,
                      v1::FilterResponse*) override {
    const auto until =
        std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!context->IsCancelled() &&
           std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(milliseconds(5));
    }
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "too late");
  }
};

TEST(ExtenderSlowServerTest, AnswersErrorWithinTheDecideTimeout) {
  SlowScheduler service;
  int slow_port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &slow_port);
  builder.RegisterService(&service);
  const std::unique_ptr<grpc::Server> slow = builder.BuildAndStart();
  ASSERT_NE(slow, nullptr);
  ExtenderProcess extender({"--listen=127.0.0.1:0",
                            "--server=127.0.0.1:" + std::to_string(slow_port),
                            "--decide_timeout=0.5"});
  const std::unique_ptr<httplib::Client> client = ClientOf(extender);
  ASSERT_NE(client, nullptr) << extender.Stderr();
  const auto start = std::chrono::steady_clock::now();
  const auto res = client->Post("/filter", GoldenRequest(), "application/json");
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  // 200: the scheduler reads Error only from a 200 (cluster-integration.md
  // 7.7), and shows it in the pod's FailedScheduling event.
  EXPECT_EQ(res->status, 200);
  const Json got = Json::parse(res->body);
  EXPECT_NE(got["Error"].get<std::string>().find("DEADLINE_EXCEEDED"),
            std::string::npos)
      << res->body;
  EXPECT_TRUE(got["Nodes"].is_null()) << res->body;
  // It waited for dsd-server, and no longer than --decide_timeout plus
  // slack for a loaded machine (far under kube-scheduler's 5 s).
  EXPECT_GE(took, milliseconds(500));
  EXPECT_LT(took, milliseconds(1500));
  slow->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
}

// dsd-server stopped, and started again on its address: the first Filter
// a while after its return is decided. Between calls nothing but gRPC's
// backup poller (every 5 s) would look at the channel's reconnection, and
// a call made while it is still in TRANSIENT_FAILURE fails at once.
TEST(ExtenderServerRestartTest, TheFirstFilterAfterDsdServerIsBackIsDecided) {
  transport::ServerOptions options;
  options.listen = "127.0.0.1:0";
  absl::StatusOr<std::unique_ptr<transport::Server>> server =
      transport::Server::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  options.listen = "127.0.0.1:" + std::to_string((*server)->Port());
  ExtenderProcess extender({"--listen=127.0.0.1:0",
                            "--server=" + options.listen,
                            "--decide_timeout=5"});
  const std::unique_ptr<httplib::Client> client = ClientOf(extender);
  ASSERT_NE(client, nullptr) << extender.Stderr();
  auto error = [&] {
    const auto res =
        client->Post("/filter", GoldenRequest(), "application/json");
    if (!res) return httplib::to_string(res.error());
    return Json::parse(res->body).value("Error", "");
  };
  ASSERT_EQ(error(), "");
  (*server)->Shutdown(absl::Seconds(1));
  server->reset();
  EXPECT_NE(error().find("UNAVAILABLE"), std::string::npos);
  // Down long enough for the channel's reconnect attempts to fail twice.
  std::this_thread::sleep_for(std::chrono::seconds(4));
  server = transport::Server::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  // The channel tries again at least every 2 s (2.4 s with jitter).
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_EQ(error(), "") << extender.Stderr();
  (*server)->Shutdown(absl::Seconds(1));
}

TEST_F(ExtenderBinaryTest, WithoutApiAccessRunsWithoutCachesAndSaysSo) {
  ExtenderProcess extender(Flags());
  const int port = extender.WaitForPort(kStartTimeout);
  ASSERT_NE(port, 0) << extender.Stderr();
  EXPECT_NE(extender.Stderr().find("running without caches"), std::string::npos)
      << extender.Stderr();
  httplib::Client client("127.0.0.1", port);
  const auto ready = client.Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);  // nothing to wait for
}

// The caches through a kubeconfig, as in a cluster: the DaemonSet's current
// template and the nodes come from the (fake) API server.
TEST_F(ExtenderBinaryTest, WatchesTheClusterAndIsReadyOnceSynced) {
  const auto api = testing::FakeApiServer::Start();
  ASSERT_NE(api, nullptr);
  api->Apply(Json::parse(R"({"apiVersion":"apps/v1","kind":"DaemonSet",
    "metadata":{"name":"agent","namespace":"kube-system","uid":"u-agent"},
    "spec":{"selector":{"matchLabels":{"app":"agent"}},
      "template":{"metadata":{"labels":{"app":"agent"}},
        "spec":{"nodeSelector":{"disk":"nvme"},
          "containers":[{"name":"agent","image":"agent:2"}]}}}})"));
  for (const char* disk : {"ssd", "nvme"}) {
    api->Apply(
        {{"apiVersion", "v1"},
         {"kind", "Node"},
         {"metadata",
          {{"name", std::string(disk) + "-1"}, {"labels", {{"disk", disk}}}}}});
  }
  // RBAC not granted yet: the first two node lists are refused.
  testing::Fault forbidden;
  forbidden.match = "/api/v1/nodes?limit";
  forbidden.status = 403;
  forbidden.times = 2;
  api->AddFault(forbidden);
  const std::string kubeconfig = ::testing::TempDir() + "dsd-extender-kc-" +
                                 std::to_string(getpid()) + ".yaml";
  std::ofstream(kubeconfig)
      << "apiVersion: v1\nkind: Config\ncurrent-context: fake\nclusters:\n"
         "- name: fake\n  cluster:\n    server: "
      << api->url()
      << "\nusers:\n- name: fake\n  user: {}\ncontexts:\n- name: fake\n"
         "  context:\n    cluster: fake\n    user: fake\n";

  ExtenderProcess extender(
      Flags({"--kubeconfig=" + kubeconfig, "--node_cache"}));
  const int port = extender.WaitForPort(kStartTimeout);
  ASSERT_NE(port, 0) << extender.Stderr();
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(std::chrono::seconds(30));

  // Not ready, and /readyz says which cache and why (once the first list
  // has been refused; the DaemonSets have synced by then): polled, since
  // the lists run on their own threads.
  std::string not_ready;
  for (const auto until =
           std::chrono::steady_clock::now() + std::chrono::seconds(30);
       std::chrono::steady_clock::now() < until;
       std::this_thread::sleep_for(milliseconds(20))) {
    const auto res = client.Get("/readyz");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 503) << "ready before the node list succeeded";
    not_ready = res->body;
    if (not_ready.find("403") != std::string::npos &&
        not_ready.find("daemonsets") == std::string::npos) {
      break;
    }
  }
  EXPECT_EQ(not_ready.rfind("nodes: not synced (", 0), 0u) << not_ready;
  EXPECT_NE(not_ready.find("403"), std::string::npos) << not_ready;
  EXPECT_EQ(not_ready.find("daemonsets"), std::string::npos) << not_ready;
  const auto alive = client.Get("/healthz");
  ASSERT_TRUE(alive);
  EXPECT_EQ(alive->status, 200);

  // The reflector retries with back-off (0.8 s doubling): ready in seconds.
  int status = 0;
  const auto until =
      std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (status != 200 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(milliseconds(50));
    const auto res = client.Get("/readyz");
    status = res ? res->status : 0;
  }
  ASSERT_EQ(status, 200) << extender.Stderr();

  // A pod of the older template (nodeSelector disk=ssd), node names only:
  // judged by the current template (disk=nvme) on the cached nodes.
  const std::string pod = R"({"metadata":{"name":"agent-x",
    "namespace":"kube-system","labels":{"app":"agent"},
    "ownerReferences":[{"apiVersion":"apps/v1","kind":"DaemonSet",
      "name":"agent","uid":"u-agent","controller":true}]},
    "spec":{"nodeSelector":{"disk":"ssd"}}})";
  const auto res = client.Post(
      "/filter",
      R"({"Pod":)" + pod + R"(,"NodeNames":["ssd-1","nvme-1","gone-1"]})",
      "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  const Json want = {
      {"Nodes", nullptr},
      {"NodeNames", {"nvme-1"}},
      {"FailedNodes",
       {{"gone-1", "dsd: node not yet in dsd-extender's node cache"}}},
      {"FailedAndUnresolvableNodes",
       {{"ssd-1",
         "dsd: DaemonSet kube-system/agent: node(s) didn't match the "
         "nodeSelector"}}},
      {"Error", ""}};
  EXPECT_EQ(Json::parse(res->body), want) << res->body;

  const auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  for (const char* line :
       {"dsd_extender_cache_synced{cache=\"nodes\"} 1",
        "dsd_extender_cache_objects{cache=\"nodes\"} 2",
        "dsd_extender_cache_objects{cache=\"daemonsets\"} 1"}) {
    EXPECT_NE(metrics->body.find(line), std::string::npos) << line;
  }
  extender.Signal(SIGTERM);
  EXPECT_EQ(extender.WaitForExit(kStartTimeout), 0) << extender.Stderr();
  std::filesystem::remove(kubeconfig);
}

struct BadStart {
  std::string name;
  std::vector<std::string> flags;
  int exit_code;
};
void PrintTo(const BadStart& b, std::ostream* os) { *os << b.name; }

class ExtenderBadStartTest : public ::testing::TestWithParam<BadStart> {};

TEST_P(ExtenderBadStartTest, ExitsWithItsCode) {
  ExtenderProcess extender(GetParam().flags);
  EXPECT_EQ(extender.WaitForExit(kStartTimeout), GetParam().exit_code)
      << extender.Stderr();
  EXPECT_FALSE(extender.Stderr().empty());
}

INSTANTIATE_TEST_SUITE_P(
    Flags, ExtenderBadStartTest,
    ::testing::ValuesIn(std::vector<BadStart>{
        {"UnknownFlag", {"--no_such_flag=1"}, 2},
        {"ListenWithoutPort", {"--listen=127.0.0.1"}, 2},
        {"TimeoutOutOfRange", {"--decide_timeout=0"}, 2},
        {"KeyWithoutCert", {"--tls_key=/dev/null"}, 2},
        {"BadLogLevel", {"--log_level=loud"}, 2},
        {"FilterPathWithoutSlash", {"--filter_path=filter"}, 2},
        {"NotAnAddressOfThisHost", {"--listen=192.0.2.1:8888"}, 1},
        // The caches: --node_cache cannot work without API access; a
        // kubeconfig that does not load is not "no kubeconfig".
        {"NodeCacheWithoutApiAccess", {"--node_cache"}, 2},
        {"KubeconfigMissing", {"--kubeconfig=/nonexistent/kubeconfig"}, 1},
        {"ContextWithoutKubeconfig", {"--context=kind-kind"}, 1},
    }),
    testing::ParamName<BadStart>);

// Self-signed CA, server and client certificates, made with openssl(1).
class ExtenderTlsTest : public ExtenderBinaryTest {
 protected:
  static void SetUpTestSuite() {
    // A refused handshake closes the socket under the client's SSL_write,
    // which (unlike httplib's plain send) raises SIGPIPE.
    signal(SIGPIPE, SIG_IGN);
    ExtenderBinaryTest::SetUpTestSuite();
    dir_ =
        ::testing::TempDir() + "dsd-extender-tls-" + std::to_string(getpid());
    std::filesystem::create_directories(dir_);
    const std::string script =
        "cd '" + dir_ +
        "' && (openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "
        "/CN=test-ca -keyout ca.key -out ca.crt && "
        "for n in server client; do "
        "openssl req -newkey rsa:2048 -nodes -subj /CN=$n -keyout $n.key "
        "-out $n.csr && "
        "printf 'subjectAltName=IP:127.0.0.1\\n' > $n.ext && "
        "openssl x509 -req -in $n.csr -CA ca.crt -CAkey ca.key "
        "-CAcreateserial -days 1 -extfile $n.ext -out $n.crt || exit 1; "
        "done) >/dev/null 2>&1";
    ASSERT_EQ(std::system(script.c_str()), 0) << "openssl failed";
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(dir_);
    ExtenderBinaryTest::TearDownTestSuite();
  }
  static std::string File(const char* name) { return dir_ + "/" + name; }
  static inline std::string dir_;
};

TEST_F(ExtenderTlsTest, ServesHttpsAndChecksClientCertificates) {
  ExtenderProcess extender(Flags({"--tls_cert=" + File("server.crt"),
                                  "--tls_key=" + File("server.key"),
                                  "--tls_client_ca=" + File("ca.crt")}));
  const int port = extender.WaitForPort(kStartTimeout);
  ASSERT_NE(port, 0) << extender.Stderr();
  const std::string body =
      Testdata("nodes_go_keys_non_daemon_pod_passed_through/request.json");

  httplib::SSLClient with_cert("127.0.0.1", port, File("client.crt"),
                               File("client.key"));
  with_cert.set_ca_cert_path(File("ca.crt"));
  with_cert.enable_server_certificate_verification(true);
  const auto ok = with_cert.Post("/filter", body, "application/json");
  ASSERT_TRUE(ok) << httplib::to_string(ok.error());
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(Json::parse(ok->body),
            Json::parse(Testdata(
                "nodes_go_keys_non_daemon_pod_passed_through/response.json")));

  // Without a client certificate the handshake fails: no answer at all.
  httplib::SSLClient without_cert("127.0.0.1", port);
  without_cert.set_ca_cert_path(File("ca.crt"));
  without_cert.enable_server_certificate_verification(true);
  EXPECT_FALSE(without_cert.Post("/filter", body, "application/json"));

  // Plain HTTP to the HTTPS port gets no answer either.
  httplib::Client plain("127.0.0.1", port);
  const auto res = plain.Post("/filter", body, "application/json");
  EXPECT_TRUE(!res || res->status != 200);
}

}  // namespace
}  // namespace dsd::extender
