// The HTTP endpoint that serves Metrics: GET /metrics on its own listen
// address, separate from the gRPC port so that scrapers need neither gRPC
// nor TLS. A small HTTP/1.x server of our own (one request per
// connection) rather than cpp-httplib: a client that connects and sends
// nothing, or one byte at a time, must neither delay a scrape nor hold a
// shutdown, and cpp-httplib 0.11 has one deadline per read only.
#ifndef DSD_SERVER_TRANSPORT_METRICS_SERVER_H_
#define DSD_SERVER_TRANSPORT_METRICS_SERVER_H_

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/transport/metrics.h"

namespace dsd::transport {

// How the metrics endpoint treats its clients.
struct MetricsServerOptions {
  // Threads serving connections, one connection each at a time.
  int workers = 4;
  // Accepted connections waiting for a worker; beyond that a new
  // connection is closed at once (a scraper retries at its next scrape).
  size_t max_queued_connections = 64;
  // A connection that sends nothing for this long is closed.
  absl::Duration read_timeout = absl::Seconds(1);
  // From the moment a worker takes a connection: the whole request read
  // and the response written within this, or the connection is closed.
  absl::Duration request_timeout = absl::Seconds(5);
  // A request head (request line and headers) longer than this gets 431.
  size_t max_request_bytes = 8192;
};

// A running endpoint. GET /metrics (any query) answers 200 with
// Metrics::RenderText() as "text/plain; version=0.0.4"; another path 404,
// another method 405, a request that is not HTTP 400. Each response closes
// its connection. Thread-safe; `metrics` must outlive the server.
class MetricsServer {
 public:
  // Listens on `address`, "host:port" ("127.0.0.1:9090", "[::1]:9090");
  // an empty host (":9090") binds every interface (0.0.0.0). Port 0 picks
  // a free port. INVALID_ARGUMENT for an address without a port;
  // UNAVAILABLE "cannot listen for metrics on ADDR: <reason>" when it
  // cannot bind (e.g. "address already in use": no SO_REUSEPORT).
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(
      std::string_view address, const Metrics& metrics,
      const MetricsServerOptions& options = {});

  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // The bound port (the chosen one when the address asked for port 0).
  int Port() const { return port_; }
  // The host it bound, e.g. "0.0.0.0" for ":9090", "::1" for "[::1]:9090".
  const std::string& Host() const { return host_; }

  // Stops accepting, cuts every connection (queued or being served: no
  // client is waited for), joins the threads. Idempotent.
  void Stop();

 private:
  MetricsServer(const Metrics& metrics, const MetricsServerOptions& options);

  void AcceptLoop();
  void WorkLoop();
  void Serve(int fd);

  const Metrics& metrics_;
  const MetricsServerOptions options_;
  int listen_fd_ = -1;
  // Stop writes to wake_[1]; every poll also watches wake_[0].
  int wake_[2] = {-1, -1};
  int port_ = 0;
  std::string host_;

  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<int> queue_;  // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  bool stopped_ = false;   // guarded by mu_
  std::thread acceptor_;
  std::vector<std::thread> workers_;
};

}  // namespace dsd::transport

#endif  // DSD_SERVER_TRANSPORT_METRICS_SERVER_H_
