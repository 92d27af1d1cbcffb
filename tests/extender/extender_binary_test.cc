// The real dsd-extender binary over HTTP(S), against a dsd-server in this
// process: a golden request answered as in filter_test, the endpoints,
// the 400/404/413 answers, TLS (with and without client certificates),
// flags that are usage errors (exit 2), a port in use (exit 1) and SIGTERM
// (exit 0).
#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

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

#include "gtest/gtest.h"
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

// One dsd-extender process (see ChildProcess).
class ExtenderProcess : public testing::ChildProcess {
 public:
  explicit ExtenderProcess(const std::vector<std::string>& args)
      : ChildProcess(DSD_EXTENDER_BIN, args) {}
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
  EXPECT_NE(metrics->body.find("dsd_extender_http_requests_total{path=\"other\""
                               ",code=\"404\"} 1"),
            std::string::npos);

  extender.Signal(SIGTERM);
  EXPECT_EQ(extender.WaitForExit(kStartTimeout), 0) << extender.Stderr();
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
