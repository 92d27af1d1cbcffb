// The HTTP endpoint that serves Metrics: GET /metrics on its own listen
// address (cpp-httplib, one worker thread), separate from the gRPC port so
// that scrapers need neither gRPC nor TLS.
#ifndef DSD_SERVER_TRANSPORT_METRICS_SERVER_H_
#define DSD_SERVER_TRANSPORT_METRICS_SERVER_H_

#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "absl/status/statusor.h"
#include "server/transport/metrics.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace dsd::transport {

// A running HTTP server. GET /metrics answers 200 with
// Metrics::RenderText() as "text/plain; version=0.0.4"; other paths 404.
// Stop() (or the destructor) closes the socket and joins the thread.
// `metrics` must outlive the server. Start, Stop and the destructor must
// not run concurrently.
class MetricsServer {
 public:
  // Listens on `address`, "host:port" ("127.0.0.1:9090", "[::1]:9090",
  // "0.0.0.0:0"); port 0 picks a free port. INVALID_ARGUMENT for an address
  // without a port; UNAVAILABLE when binding fails.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(
      std::string_view address, const Metrics& metrics);

  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // The bound port (the chosen one when the address asked for port 0).
  int Port() const { return port_; }

  // Stops accepting, finishes the request being served, joins the thread.
  // Idempotent.
  void Stop();

 private:
  MetricsServer(std::unique_ptr<httplib::Server> http, int port);

  std::unique_ptr<httplib::Server> http_;
  int port_;
  std::thread thread_;
};

}  // namespace dsd::transport

#endif  // DSD_SERVER_TRANSPORT_METRICS_SERVER_H_
