// Server bootstrap. Health and reflection are gRPC's own implementations,
// switched on before the ServerBuilder is created (the builder instantiates
// its plugins in its constructor).
#include "server/transport/server.h"

#include <malloc.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"

namespace dsd::transport {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& flag,
                                     const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot open ", flag, " file \"", path, "\""));
  }
  std::string contents((std::istreambuf_iterator<char>(in)),
                       std::istreambuf_iterator<char>());
  if (in.bad() || contents.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot read ", flag, " file \"", path, "\" (or it is empty)"));
  }
  return contents;
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeCredentials(
    const ServerOptions& options) {
  const bool has_cert = !options.tls_cert_file.empty();
  const bool has_key = !options.tls_key_file.empty();
  if (has_cert != has_key) {
    return absl::InvalidArgumentError(
        "--tls_cert and --tls_key must be given together");
  }
  if (!has_cert) {
    if (!options.tls_client_ca_file.empty()) {
      return absl::InvalidArgumentError(
          "--tls_client_ca (mutual TLS) needs --tls_cert and --tls_key");
    }
    return grpc::InsecureServerCredentials();
  }
  absl::StatusOr<std::string> cert =
      ReadFile("--tls_cert", options.tls_cert_file);
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadFile("--tls_key", options.tls_key_file);
  if (!key.ok()) return key.status();

  grpc::SslServerCredentialsOptions ssl(
      options.tls_client_ca_file.empty()
          ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
          : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  if (!options.tls_client_ca_file.empty()) {
    absl::StatusOr<std::string> ca =
        ReadFile("--tls_client_ca", options.tls_client_ca_file);
    if (!ca.ok()) return ca.status();
    ssl.pem_root_certs = *std::move(ca);
  }
  ssl.pem_key_cert_pairs.push_back({*std::move(key), *std::move(cert)});
  return grpc::SslServerCredentials(ssl);
}

// A duration as a gRPC channel argument: milliseconds, within int.
int Millis(absl::Duration d) {
  return static_cast<int>(std::clamp<int64_t>(absl::ToInt64Milliseconds(d), 0,
                                              std::numeric_limits<int>::max()));
}

// `listen` with its port replaced by `port` ("127.0.0.1:0" -> "...:4711").
std::string WithPort(const std::string& listen, int port) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return listen;
  return absl::StrCat(listen.substr(0, colon + 1), port);
}

// Why gRPC could not listen on `listen`: binds a socket to it the way gRPC
// does (SO_REUSEADDR, no SO_REUSEPORT) and returns strerror's text in lower
// case ("address already in use"), or "" when that bind works (the failure
// was something else) or `listen` is no host:port.
std::string BindError(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || listen.find('/') != std::string::npos) {
    return "";
  }
  std::string host = listen.substr(0, colon);
  const std::string port = listen.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* addresses = nullptr;
  if (getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints,
                  &addresses) != 0) {
    return "";
  }
  std::string error;
  for (addrinfo* a = addresses; a != nullptr && error.empty(); a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd < 0) continue;
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, a->ai_addr, a->ai_addrlen) != 0) {
      error = std::strerror(errno);
      if (!error.empty()) {
        error[0] = static_cast<char>(
            std::tolower(static_cast<unsigned char>(error[0])));
      }
    }
    close(fd);
  }
  freeaddrinfo(addresses);
  return error;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Start(
    const ServerOptions& options, std::function<absl::Time()> clock) {
  if (options.max_request_bytes <= 0) {
    return absl::InvalidArgumentError("max_request_bytes must be > 0");
  }
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      MakeCredentials(options);
  if (!credentials.ok()) return credentials.status();

  std::unique_ptr<Server> server(new Server(options, std::move(clock)));

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int selected_port = 0;
  builder.AddListeningPort(options.listen, *credentials, &selected_port);
  builder.SetMaxReceiveMessageSize(options.max_request_bytes);
  // gRPC sets SO_REUSEPORT by default: a second dsd-server on the same port
  // would then start and silently take half of the connections.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  const Http2Options& http2 = options.http2;
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             http2.max_concurrent_streams);
  builder.AddChannelArgument(
      GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
      Millis(http2.min_client_ping_interval));
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES,
                             http2.max_ping_strikes);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 0);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS,
                             Millis(http2.keepalive_time));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                             Millis(http2.keepalive_timeout));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS,
                             Millis(http2.max_connection_idle));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS,
                             Millis(http2.max_connection_age));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                             Millis(http2.max_connection_age_grace));
  builder.RegisterService(&server->grpc_service_);
  builder.RegisterCallbackGenericService(&server->unknown_methods_);
  server->cq_ = builder.AddCompletionQueue();
  server->server_ = builder.BuildAndStart();
  // On the error paths below, ~Server shuts down what did start.
  if (server->server_ == nullptr || selected_port == 0) {
    const std::string why = BindError(options.listen);
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", options.listen, ": ",
        why.empty() ? "invalid address, or TLS files rejected" : why));
  }
  server->port_ = selected_port;
  server->address_ = WithPort(options.listen, selected_port);
  server->grpc_service_.Start(server->cq_.get());
  for (int i = 0; i < kPollingThreads; ++i) {
    server->polling_threads_.emplace_back(
        [cq = server->cq_.get()] { GrpcService::Poll(cq); });
  }

  server->trim_thread_ =
      std::thread([raw = server.get()] { raw->TrimWhenIdle(); });
  if (!options.metrics_listen.empty()) {
    absl::StatusOr<std::unique_ptr<MetricsServer>> metrics =
        MetricsServer::Start(options.metrics_listen, server->metrics_);
    if (!metrics.ok()) return metrics.status();
    server->metrics_server_ = *std::move(metrics);
    const std::string& host = server->metrics_server_->Host();
    server->metrics_address_ =
        absl::StrCat(host.find(':') != std::string::npos ? "[" : "", host,
                     host.find(':') != std::string::npos ? "]:" : ":",
                     server->metrics_server_->Port());
  }

  grpc::HealthCheckServiceInterface* health =
      server->server_->GetHealthCheckService();
  health->SetServingStatus(true);
  health->SetServingStatus(kServiceName, true);
  return server;
}

Server::Server(const ServerOptions& options, std::function<absl::Time()> clock)
    : service_(options.service, std::move(clock)),
      workers_(std::make_unique<WorkerPool>(
          options.threads > 0
              ? options.threads
              : static_cast<int>(std::thread::hardware_concurrency()))),
      grpc_service_(service_, metrics_, *workers_,
                    static_cast<uint64_t>(options.max_request_bytes_in_flight)),
      unknown_methods_(metrics_) {}

Server::~Server() {
  Shutdown(absl::ZeroDuration());
  StopTrimming();
  // Every call has finished once the drain has: the pool only has to
  // return.
  if (drain_thread_.joinable()) drain_thread_.join();
  workers_.reset();
}

int Server::MetricsPort() const {
  return metrics_server_ != nullptr ? metrics_server_->Port() : 0;
}

void Server::EnterLameDuck() {
  if (server_ == nullptr) return;
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  health->SetServingStatus(kServiceName, false);
  health->SetServingStatus(false);
}

bool Server::Shutdown(absl::Duration grace) {
  std::unique_lock<std::mutex> lock(shutdown_mu_);
  if (!drain_started_) {
    drain_started_ = true;
    // Load balancers and probes see NOT_SERVING first.
    EnterLameDuck();
    drain_deadline_ = absl::Now() + std::max(grace, absl::ZeroDuration());
    // From here on calls see the deadline in CallContext::cancelled.
    grpc_service_.CancelCallsAt(drain_deadline_);
    drain_thread_ =
        std::thread([this, deadline = drain_deadline_] { Drain(deadline); });
  }
  // gRPC's Shutdown waits for every call without a bound: a call that
  // ignores its cancellation would hold the process forever.
  const absl::Time give_up =
      std::max(drain_deadline_, absl::Now()) + kAbandonAfter;
  return drained_cv_.wait_until(lock, absl::ToChronoTime(give_up),
                                [this] { return drained_; });
}

void Server::Drain(absl::Time deadline) {
  if (server_ != nullptr) {
    // Refuses new calls, waits up to the deadline, then cancels what is
    // left and waits for every call to finish.
    grpc_service_.StopRequesting();
    server_->Shutdown(absl::ToChronoTime(deadline));
    grpc_service_.AwaitCalls();
  }
  StopPolling();
  if (metrics_server_ != nullptr) metrics_server_->Stop();
  StopTrimming();
  std::lock_guard<std::mutex> lock(shutdown_mu_);
  drained_ = true;
  drained_cv_.notify_all();
}

void Server::StopPolling() {
  if (cq_ == nullptr) return;
  // After the server's Shutdown and the calls' last events, as gRPC
  // requires.
  cq_->Shutdown();
  if (polling_threads_.empty()) {
    void* tag = nullptr;
    bool ok = false;
    while (cq_->Next(&tag, &ok)) {
    }
  }
  for (std::thread& thread : polling_threads_) thread.join();
  polling_threads_.clear();
}

void Server::TrimWhenIdle() {
  uint64_t seen = metrics_.Started();
  uint64_t trimmed = seen;
  std::unique_lock<std::mutex> lock(trim_mu_);
  while (!trim_cv_.wait_for(lock, absl::ToChronoSeconds(kTrimAfterIdle),
                            [this] { return trim_stop_; })) {
    const uint64_t started = metrics_.Started();
    if (started == seen && started != trimmed && metrics_.InFlight() == 0) {
      malloc_trim(0);
      trimmed = started;
    }
    seen = started;
  }
}

void Server::StopTrimming() {
  {
    std::lock_guard<std::mutex> lock(trim_mu_);
    trim_stop_ = true;
  }
  trim_cv_.notify_all();
  // Drain and the destructor both stop it; only one joins.
  std::lock_guard<std::mutex> lock(trim_join_mu_);
  if (trim_thread_.joinable()) trim_thread_.join();
}

}  // namespace dsd::transport
