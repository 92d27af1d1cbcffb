// cpp-httplib 0.11 (Debian 12) serving /metrics. Its stop() does nothing
// until the listening thread has entered its accept loop, so Start waits
// for that before returning.
#include "server/transport/metrics_server.h"

#include <atomic>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "httplib.h"

namespace dsd::transport {
namespace {

constexpr char kContentType[] = "text/plain; version=0.0.4";

struct HostPort {
  std::string host;
  int port = 0;
};

// "host:port" or "[v6]:port"; an empty host means every interface.
absl::StatusOr<HostPort> SplitHostPort(std::string_view address) {
  const size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string_view::npos ||
      !absl::SimpleAtoi(std::string(address.substr(colon + 1)), &port) ||
      port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "metrics address \"", std::string(address),
        "\" is not host:port (e.g. 127.0.0.1:9090, [::1]:9090, :9090)"));
  }
  std::string host(address.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) host = "0.0.0.0";
  return HostPort{std::move(host), port};
}

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    std::string_view address, const Metrics& metrics) {
  absl::StatusOr<HostPort> host_port = SplitHostPort(address);
  if (!host_port.ok()) return host_port.status();

  auto http = std::make_unique<httplib::Server>();
  // Scrapes are rare and cheap: one worker, and no keep-alive so that Stop
  // never waits for an idle connection to time out.
  http->new_task_queue = [] { return new httplib::ThreadPool(1); };
  http->set_keep_alive_max_count(1);
  http->Get("/metrics",
            [&metrics](const httplib::Request&, httplib::Response& response) {
              response.set_content(metrics.RenderText(), kContentType);
            });

  int port = host_port->port;
  if (port == 0) {
    port = http->bind_to_any_port(host_port->host);
  } else if (!http->bind_to_port(host_port->host, port)) {
    port = -1;
  }
  if (port <= 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen for metrics on ", std::string(address)));
  }
  std::unique_ptr<MetricsServer> server(
      new MetricsServer(std::move(http), port));
  auto exited = std::make_shared<std::atomic<bool>>(false);
  server->thread_ = std::thread([http_server = server->http_.get(), exited] {
    http_server->listen_after_bind();
    exited->store(true);
  });
  while (!server->http_->is_running() && !exited->load()) {
    std::this_thread::yield();
  }
  return server;
}

MetricsServer::MetricsServer(std::unique_ptr<httplib::Server> http, int port)
    : http_(std::move(http)), port_(port) {}

MetricsServer::~MetricsServer() { Stop(); }

void MetricsServer::Stop() {
  if (!thread_.joinable()) return;
  http_->stop();
  thread_.join();
}

}  // namespace dsd::transport
