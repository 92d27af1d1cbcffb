// Server bootstrap: health (SERVING, NOT_SERVING while draining), server
// reflection, TLS and mutual TLS with certificates made by the openssl CLI
// for the test, and start-up errors.
#include "server/transport/server.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/generic/generic_stub.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/transport/test_util.h"

namespace dsd::transport {
namespace {

using ::dsd::testing::GrpcStatusIs;
using ::dsd::testing::StatusIs;

using ::dsd::transport::testing::Connect;
using ::dsd::transport::testing::HoldingClock;
using ::dsd::transport::testing::LocalOptions;
using ::dsd::transport::testing::SetDeadline;
using ::dsd::transport::testing::StartServer;
using ::dsd::transport::testing::ValidDecideRequest;
using ::grpc::health::v1::Health;
using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;
using ::testing::Contains;

HealthCheckResponse::ServingStatus Check(grpc::Channel& channel,
                                         const std::string& service) {
  auto stub = Health::NewStub(
      std::shared_ptr<grpc::Channel>(&channel, [](grpc::Channel*) {}));
  grpc::ClientContext context;
  SetDeadline(context);
  HealthCheckRequest request;
  request.set_service(service);
  HealthCheckResponse response;
  const grpc::Status status = stub->Check(&context, request, &response);
  EXPECT_THAT(status, GrpcStatusIs(grpc::StatusCode::OK));
  return response.status();
}

grpc::Status CallDecide(const std::shared_ptr<grpc::Channel>& channel) {
  grpc::ClientContext context;
  SetDeadline(context);
  v1::DecideResponse response;
  return v1::DaemonSetScheduler::NewStub(channel)->Decide(
      &context, ValidDecideRequest(), &response);
}

TEST(ServerTest, ReportsTheChosenPortAndAddress) {
  std::unique_ptr<Server> server = StartServer(LocalOptions());
  ASSERT_NE(server, nullptr);
  EXPECT_GT(server->Port(), 0);
  EXPECT_EQ(server->Address(), "127.0.0.1:" + std::to_string(server->Port()));
  EXPECT_GT(server->MetricsPort(), 0);
  EXPECT_EQ(server->MetricsAddress(),
            "127.0.0.1:" + std::to_string(server->MetricsPort()));
}

TEST(ServerTest, NoMetricsEndpointByDefault) {
  ServerOptions options = LocalOptions();
  options.metrics_listen.clear();
  std::unique_ptr<Server> server = StartServer(options);
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(server->MetricsPort(), 0);
  EXPECT_EQ(server->MetricsAddress(), "");
}

TEST(ServerTest, HealthIsServingThenNotServingWhileDraining) {
  std::unique_ptr<Server> server = StartServer(LocalOptions());
  ASSERT_NE(server, nullptr);
  std::shared_ptr<grpc::Channel> channel = Connect(*server);
  EXPECT_EQ(Check(*channel, ""), HealthCheckResponse::SERVING);
  EXPECT_EQ(Check(*channel, Server::kServiceName),
            HealthCheckResponse::SERVING);

  // Once Shutdown starts, new calls are refused, so the drain is observed on
  // a Watch stream opened before it.
  auto stub = Health::NewStub(channel);
  grpc::ClientContext context;
  SetDeadline(context);
  HealthCheckRequest request;
  request.set_service(Server::kServiceName);
  std::unique_ptr<grpc::ClientReader<HealthCheckResponse>> watch =
      stub->Watch(&context, request);
  HealthCheckResponse response;
  ASSERT_TRUE(watch->Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);

  std::thread shutdown([&server] { server->Shutdown(absl::Seconds(30)); });
  ASSERT_TRUE(watch->Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::NOT_SERVING);
  // Ending the stream lets the drain finish before its grace period.
  context.TryCancel();
  while (watch->Read(&response)) {
  }
  watch->Finish().IgnoreError();
  shutdown.join();

  // Drained: no new calls.
  EXPECT_FALSE(CallDecide(channel).ok());
}

using Clock = std::chrono::steady_clock;

// A call that ignores its cancellation (held inside the service) must not
// hold Shutdown: it returns false kAbandonAfter past the grace period,
// and so does a second Shutdown (which starts no new grace period). Once
// the call ends, Shutdown returns true. The time bounds are generous: they
// catch a Shutdown that waits for the call (forever), not a slow machine.
TEST(ServerTest, ShutdownGivesUpOnACallThatIgnoresItsCancellation) {
  HoldingClock clock;
  clock.Hold();
  std::unique_ptr<Server> server = StartServer(LocalOptions(), clock.Clock());
  ASSERT_NE(server, nullptr);
  std::shared_ptr<grpc::Channel> channel = Connect(*server);
  std::future<grpc::Status> call = std::async(
      std::launch::async, [&channel] { return CallDecide(channel); });
  ASSERT_TRUE(clock.AwaitWaiting(1));

  Clock::time_point start = Clock::now();
  EXPECT_FALSE(server->Shutdown(absl::Milliseconds(200)));
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(10));
  EXPECT_EQ(server->CallsInFlight(), 1);

  start = Clock::now();
  EXPECT_FALSE(server->Shutdown(absl::Seconds(600)));
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(10));

  clock.Release();
  // gRPC cancelled the call when the grace period ended.
  EXPECT_FALSE(call.get().ok());
  bool drained = false;
  for (int i = 0; i < 120 && !drained; ++i) {
    drained = server->Shutdown(absl::ZeroDuration());
  }
  EXPECT_TRUE(drained);
  EXPECT_EQ(server->CallsInFlight(), 0);
}

// Requests run on the worker pool, never on gRPC's threads: with every
// worker busy (and more calls queued), health checks are still answered.
TEST(ServerTest, HealthAnswersWhileEveryWorkerIsBusy) {
  HoldingClock clock;
  clock.Hold();
  ServerOptions options = LocalOptions();
  options.threads = 0;  // the default: one worker per core
  std::unique_ptr<Server> server = StartServer(options, clock.Clock());
  ASSERT_NE(server, nullptr);
  std::shared_ptr<grpc::Channel> channel = Connect(*server);
  const int calls = static_cast<int>(std::thread::hardware_concurrency()) + 4;
  std::vector<std::future<grpc::Status>> running;
  for (int i = 0; i < calls; ++i) {
    running.push_back(std::async(std::launch::async,
                                 [&channel] { return CallDecide(channel); }));
  }
  ASSERT_TRUE(clock.AwaitWaiting(
      std::min(calls, static_cast<int>(std::thread::hardware_concurrency()))));

  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(10));
  HealthCheckRequest request;
  HealthCheckResponse response;
  const grpc::Status health =
      Health::NewStub(channel)->Check(&context, request, &response);
  EXPECT_THAT(health, GrpcStatusIs(grpc::StatusCode::OK));
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);

  clock.Release();
  for (std::future<grpc::Status>& call : running) {
    const grpc::Status status = call.get();
    EXPECT_THAT(status, GrpcStatusIs(grpc::StatusCode::OK));
  }
}

// grpc.reflection.v1alpha is compiled into libgrpc++_reflection, whose
// generated classes are in the descriptor pool but ship no header: the test
// builds the messages by reflection and calls the bidi method generically.
class ReflectionClient {
 public:
  explicit ReflectionClient(std::shared_ptr<grpc::Channel> channel)
      : stub_(std::move(channel)) {}

  std::vector<std::string> ListServices() {
    const google::protobuf::DescriptorPool& pool =
        *google::protobuf::DescriptorPool::generated_pool();
    const google::protobuf::Descriptor* request_type =
        pool.FindMessageTypeByName(
            "grpc.reflection.v1alpha.ServerReflectionRequest");
    const google::protobuf::Descriptor* response_type =
        pool.FindMessageTypeByName(
            "grpc.reflection.v1alpha.ServerReflectionResponse");
    EXPECT_NE(request_type, nullptr);
    EXPECT_NE(response_type, nullptr);
    if (request_type == nullptr || response_type == nullptr) return {};
    google::protobuf::MessageFactory& factory =
        *google::protobuf::MessageFactory::generated_factory();
    std::unique_ptr<google::protobuf::Message> request(
        factory.GetPrototype(request_type)->New());
    request->GetReflection()->SetString(
        request.get(), request_type->FindFieldByName("list_services"), "*");

    grpc::ClientContext context;
    SetDeadline(context);
    grpc::CompletionQueue queue;
    std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call =
        stub_.PrepareCall(
            &context,
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
            &queue);
    call->StartCall(Tag(1));
    Await(queue, 1);
    grpc::Slice slice(request->SerializeAsString());
    grpc::ByteBuffer out(&slice, 1);
    call->Write(out, Tag(2));
    Await(queue, 2);
    call->WritesDone(Tag(3));
    Await(queue, 3);
    grpc::ByteBuffer in;
    call->Read(&in, Tag(4));
    Await(queue, 4);
    grpc::Status status;
    call->Finish(&status, Tag(5));
    Await(queue, 5);
    EXPECT_THAT(status, GrpcStatusIs(grpc::StatusCode::OK));
    queue.Shutdown();
    void* tag = nullptr;
    bool ok = false;
    while (queue.Next(&tag, &ok)) {
    }

    std::vector<grpc::Slice> slices;
    EXPECT_TRUE(in.Dump(&slices).ok());
    std::string bytes;
    for (const grpc::Slice& s : slices) {
      bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
    std::unique_ptr<google::protobuf::Message> response(
        factory.GetPrototype(response_type)->New());
    EXPECT_TRUE(response->ParseFromString(bytes));
    const google::protobuf::Message& list =
        response->GetReflection()->GetMessage(
            *response,
            response_type->FindFieldByName("list_services_response"));
    const google::protobuf::FieldDescriptor* services =
        list.GetDescriptor()->FindFieldByName("service");
    std::vector<std::string> names;
    for (int i = 0; i < list.GetReflection()->FieldSize(list, services); ++i) {
      const google::protobuf::Message& service =
          list.GetReflection()->GetRepeatedMessage(list, services, i);
      names.push_back(service.GetReflection()->GetString(
          service, service.GetDescriptor()->FindFieldByName("name")));
    }
    return names;
  }

 private:
  // Completion-queue tags: the addresses of distinct objects.
  static void* Tag(int n) {
    static std::array<char, 8> tags;
    return &tags[static_cast<size_t>(n)];
  }

  static void Await(grpc::CompletionQueue& queue, int n) {
    void* tag = nullptr;
    bool ok = false;
    ASSERT_TRUE(queue.Next(&tag, &ok));
    EXPECT_EQ(tag, Tag(n));
    EXPECT_TRUE(ok) << "operation " << n;
  }

  grpc::GenericStub stub_;
};

TEST(ServerTest, ReflectionListsTheService) {
  std::unique_ptr<Server> server = StartServer(LocalOptions());
  ASSERT_NE(server, nullptr);
  ReflectionClient reflection(Connect(*server));
  const std::vector<std::string> services = reflection.ListServices();
  EXPECT_THAT(services, Contains("dsd.v1.DaemonSetScheduler"));
  EXPECT_THAT(services, Contains("grpc.health.v1.Health"));
}

TEST(ServerTest, StartRejectsInconsistentTlsOptions) {
  struct Case {
    const char* name;
    const char* cert;
    const char* key;
    const char* client_ca;
  };
  constexpr Case kCases[] = {
      {"cert_without_key", "/no/cert.pem", "", ""},
      {"key_without_cert", "", "/no/key.pem", ""},
      {"client_ca_without_tls", "", "", "/no/ca.pem"},
      {"missing_files", "/no/cert.pem", "/no/key.pem", ""},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    ServerOptions options = LocalOptions();
    options.tls_cert_file = c.cert;
    options.tls_key_file = c.key;
    options.tls_client_ca_file = c.client_ca;
    EXPECT_THAT(Server::Start(options),
                StatusIs(absl::StatusCode::kInvalidArgument));
  }
}

TEST(ServerTest, StartFailsOnAnAddressItCannotBind) {
  ServerOptions options = LocalOptions();
  options.listen = "192.0.2.1:0";  // TEST-NET-1: not a local address
  EXPECT_THAT(Server::Start(options), StatusIs(absl::StatusCode::kUnavailable));
}

// gRPC's default SO_REUSEPORT would let the second server bind and share
// the port's connections.
TEST(ServerTest, StartFailsWhenThePortIsInUse) {
  std::unique_ptr<Server> first = StartServer(LocalOptions());
  ASSERT_NE(first, nullptr);
  ServerOptions options = LocalOptions();
  options.listen = first->Address();
  const absl::StatusOr<std::unique_ptr<Server>> second = Server::Start(options);
  EXPECT_THAT(
      second,
      StatusIs(absl::StatusCode::kUnavailable,
               ::testing::HasSubstr("cannot listen on " + first->Address() +
                                    ": address already in use")));
}

// Certificates for 127.0.0.1, made once per suite with the openssl CLI in a
// temporary directory: a CA, a server certificate (subjectAltName
// IP:127.0.0.1) and a client certificate, both signed by the CA.
class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string pattern = ::testing::TempDir() + "dsd-tls-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    Dir() = pattern + "/";
    Write("ca.cnf",
          "[req]\ndistinguished_name = dn\nprompt = no\n"
          "x509_extensions = ca_ext\n[dn]\nCN = dsd-test-ca\n"
          "[ca_ext]\nbasicConstraints = critical,CA:TRUE\n"
          "keyUsage = critical,keyCertSign,cRLSign\n"
          "subjectKeyIdentifier = hash\n");
    Write("server.ext",
          "basicConstraints = CA:FALSE\n"
          "keyUsage = critical,digitalSignature,keyEncipherment\n"
          "extendedKeyUsage = serverAuth\nsubjectAltName = IP:127.0.0.1\n");
    Write("client.ext",
          "basicConstraints = CA:FALSE\n"
          "keyUsage = critical,digitalSignature,keyEncipherment\n"
          "extendedKeyUsage = clientAuth\n");
    const std::string key =
        " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1"
        " -nodes -config ca.cnf";
    Run(absl::StrCat("openssl req -x509", key,
                     " -keyout ca.key -out ca.pem -days 2"));
    for (const char* who : {"server", "client"}) {
      const std::string w(who);
      Run(absl::StrCat("openssl req", key, " -keyout ", w, ".key -out ", w,
                       ".csr -subj /CN=dsd-test-", w));
      Run(absl::StrCat("openssl x509 -req -in ", w,
                       ".csr -CA ca.pem -CAkey ca.key -set_serial ",
                       w == "server" ? "2" : "3", " -days 2 -out ", w,
                       ".pem -extfile ", w, ".ext"));
    }
  }

  static void TearDownTestSuite() {
    if (!Dir().empty()) std::filesystem::remove_all(Dir());
    Dir().clear();
  }

  // The suite's temporary directory, with a trailing slash.
  static std::string& Dir() {
    static std::string* const dir = new std::string;
    return *dir;
  }

  static std::string Path(const std::string& name) { return Dir() + name; }

  static std::string Read(const std::string& name) {
    std::ifstream in(Path(name));
    return std::string(std::istreambuf_iterator<char>(in),
                       std::istreambuf_iterator<char>());
  }

  ServerOptions TlsOptions(bool mutual) {
    ServerOptions options = LocalOptions();
    options.tls_cert_file = Path("server.pem");
    options.tls_key_file = Path("server.key");
    if (mutual) options.tls_client_ca_file = Path("ca.pem");
    return options;
  }

  std::shared_ptr<grpc::ChannelCredentials> ClientCredentials(
      bool with_certificate) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = Read("ca.pem");
    if (with_certificate) {
      ssl.pem_private_key = Read("client.key");
      ssl.pem_cert_chain = Read("client.pem");
    }
    return grpc::SslCredentials(ssl);
  }

 private:
  static void Write(const std::string& name, const std::string& text) {
    std::ofstream(Path(name)) << text;
  }

  static void Run(const std::string& command) {
    const std::string line =
        absl::StrCat("cd '", Dir(), "' && ", command, " >openssl.log 2>&1");
    ASSERT_EQ(std::system(line.c_str()), 0) << command << "\n"
                                            << Read("openssl.log");
  }
};

TEST_F(TlsTest, TlsServesClientsThatTrustTheCa) {
  std::unique_ptr<Server> server = StartServer(TlsOptions(/*mutual=*/false));
  ASSERT_NE(server, nullptr);
  const grpc::Status tls = CallDecide(
      Connect(*server, ClientCredentials(/*with_certificate=*/false)));
  EXPECT_THAT(tls, GrpcStatusIs(grpc::StatusCode::OK));
  // A plaintext client cannot talk to a TLS port.
  EXPECT_THAT(CallDecide(Connect(*server)),
              GrpcStatusIs(grpc::StatusCode::UNAVAILABLE));
}

TEST_F(TlsTest, MutualTlsRequiresAClientCertificate) {
  std::unique_ptr<Server> server = StartServer(TlsOptions(/*mutual=*/true));
  ASSERT_NE(server, nullptr);
  const grpc::Status with_certificate = CallDecide(
      Connect(*server, ClientCredentials(/*with_certificate=*/true)));
  EXPECT_THAT(with_certificate, GrpcStatusIs(grpc::StatusCode::OK));
  const grpc::Status without_certificate = CallDecide(
      Connect(*server, ClientCredentials(/*with_certificate=*/false)));
  EXPECT_THAT(without_certificate, GrpcStatusIs(grpc::StatusCode::UNAVAILABLE));
}

TEST_F(TlsTest, RejectsAKeyThatIsNotPem) {
  ServerOptions options = TlsOptions(/*mutual=*/false);
  options.tls_key_file = Path("ca.cnf");
  EXPECT_THAT(Server::Start(options), StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace dsd::transport
