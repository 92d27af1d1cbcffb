// dsd-extender's HTTP(S) front: POST <filter path> (Filter), GET /healthz,
// /readyz and /metrics (Prometheus text), a JSON 404 for anything else.
// cpp-httplib 0.11 (Debian's libcpp-httplib-dev): HTTP/1.1 with keep-alive,
// and over TLS no ALPN, so Go's client (kube-scheduler) speaks HTTP/1.1.
#ifndef DSD_CLIENT_EXTENDER_HTTP_SERVER_H_
#define DSD_CLIENT_EXTENDER_HTTP_SERVER_H_

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "client/extender/filter.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace dsd::extender {

struct HttpServerOptions {
  // "host:port", "[::1]:port", or ":port" (every interface). Port 0 picks
  // a free port (Port() tells which).
  std::string listen = "127.0.0.1:8888";
  // The filter verb's path: urlPrefix's path plus "/" plus filterVerb
  // ("/filter" for urlPrefix http://host:8888 and filterVerb filter).
  std::string filter_path = "/filter";
  // Worker threads, each serving one connection at a time (> 0).
  int threads = 8;
  // A request body larger than this gets 413 without being read whole.
  size_t max_body_bytes = size_t{64} << 20;
  // Per read and per write on a connection; an idle keep-alive connection
  // is closed after keep_alive_timeout.
  std::chrono::seconds read_timeout{5};
  std::chrono::seconds write_timeout{5};
  std::chrono::seconds keep_alive_timeout{30};
  // HTTPS when tls_cert and tls_key (PEM files) are set; with
  // tls_client_ca, clients must present a certificate it signed.
  std::string tls_cert;
  std::string tls_key;
  std::string tls_client_ca;
  // What is not ready yet, for GET /readyz: "" when ready (200 "ok"),
  // else the text of a 503 (which cache has not synced). Called from HTTP
  // workers: must be thread-safe. Empty: always ready.
  std::function<std::string()> not_ready;
  // More Prometheus text appended to GET /metrics (the caches' gauges);
  // thread-safe as above. May be empty.
  std::function<std::string()> more_metrics;
};

class Metrics;  // defined in http_server.cc

// A running server. Thread-safe; `filter` must outlive it.
class HttpServer {
 public:
  // Binds and starts serving on its own threads. INVALID_ARGUMENT for a
  // listen address without a port or TLS files that do not load;
  // UNAVAILABLE "cannot listen on ADDR" when the bind fails.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(
      const HttpServerOptions& options, const Filter& filter);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int Port() const { return port_; }
  bool Tls() const { return tls_; }
  // Stops accepting, lets requests in progress finish, joins. Idempotent.
  void Stop();

 private:
  HttpServer() = default;
  std::unique_ptr<httplib::Server> server_;
  std::unique_ptr<Metrics> metrics_;
  std::thread thread_;
  int port_ = 0;
  bool tls_ = false;
};

}  // namespace dsd::extender

#endif  // DSD_CLIENT_EXTENDER_HTTP_SERVER_H_
