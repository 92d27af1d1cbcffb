// Builds, starts and drains the dsd gRPC server: the DaemonSetScheduler
// service (async API, see grpc_service.h), the standard grpc.health.v1
// health service, server reflection, TLS or mutual TLS, and the optional
// /metrics endpoint. ServerOptions is the plain configuration main builds
// from flags.
#ifndef DSD_SERVER_TRANSPORT_SERVER_H_
#define DSD_SERVER_TRANSPORT_SERVER_H_

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/server.h"
#include "server/common/logging.h"
#include "server/service/scheduler_service.h"
#include "server/transport/grpc_service.h"
#include "server/transport/metrics.h"
#include "server/transport/metrics_server.h"
#include "server/transport/worker_pool.h"

namespace dsd::transport {

// HTTP/2 limits of the gRPC port (gRPC channel arguments). gRPC 1.51 has
// no cap on the number of connections and predates the HTTP/2 rapid-reset
// mitigation (CVE-2023-44487): see README "Running in production".
struct Http2Options {
  // Streams (calls) one connection may have open at once; a client queues
  // the rest. Bounds what one connection can make the server hold.
  int max_concurrent_streams = 100;
  // A client may ping at most this often without data (keepalive
  // enforcement); more often counts a strike, and after max_ping_strikes
  // the server closes the connection (GOAWAY "too_many_pings").
  absl::Duration min_client_ping_interval = absl::Seconds(60);
  int max_ping_strikes = 2;
  // The server pings a connection idle for this long and closes it if no
  // answer comes within keepalive_timeout: dead peers free their slot.
  absl::Duration keepalive_time = absl::Minutes(5);
  absl::Duration keepalive_timeout = absl::Seconds(20);
  // A connection without calls for this long is closed (GOAWAY).
  absl::Duration max_connection_idle = absl::Minutes(5);
  // A connection older than this is asked to go away (clients reconnect,
  // which spreads them over new replicas); its calls get
  // max_connection_age_grace to finish.
  absl::Duration max_connection_age = absl::Minutes(30);
  absl::Duration max_connection_age_grace = absl::Seconds(30);
};

// How dsd-server runs: plain data with documented defaults, built from the
// command line by ServerOptionsFromFlags (flags.h) or directly by tests.
struct ServerOptions {
  // gRPC listen address, "host:port" (any gRPC address form, e.g.
  // "0.0.0.0:50051", "[::]:50051"). Port 0 picks a free port; see
  // Server::Port().
  std::string listen = "127.0.0.1:50051";
  // Threads that run requests (two more receive them). 0: one per CPU
  // core. Requests never run on the receiving threads nor on gRPC's own,
  // so health checks are answered and new calls queued while every worker
  // is busy.
  int threads = 0;
  // Largest request message accepted, in bytes; gRPC answers a larger one
  // with RESOURCE_EXHAUSTED before dsd sees it. Must be > 0.
  int max_request_bytes = 256 * 1024 * 1024;
  // The budget of request bytes held by the calls being handled (0: no
  // limit). A call that does not fit gets RESOURCE_EXHAUSTED at once, so
  // that many concurrent large requests do not grow memory (each holds
  // about 2.2x its size while it runs); a call alone always runs.
  int64_t max_request_bytes_in_flight = 512 * 1024 * 1024;
  // Per-request object limits (0 = no limit), enforced by the service.
  service::ServiceOptions service;
  // PEM file paths. Both empty: plaintext. Both set: TLS with this
  // certificate chain and private key.
  std::string tls_cert_file;
  std::string tls_key_file;
  // PEM file of the CA(s) that sign client certificates. Non-empty (needs
  // TLS): mutual TLS; clients must present a certificate it verifies.
  std::string tls_client_ca_file;
  // "host:port" for the HTTP GET /metrics endpoint (Prometheus text).
  // Empty: no metrics endpoint. An empty host (":9090") binds every
  // interface. Port 0 picks a free port.
  std::string metrics_listen;
  // How long Shutdown lets in-flight calls finish before cancelling them.
  absl::Duration shutdown_grace = absl::Seconds(10);
  // How long main keeps serving after SIGTERM/SIGINT with health
  // NOT_SERVING before the drain starts (EnterLameDuck, then Shutdown), so
  // that load balancers stop sending calls first. 0: drain at once.
  absl::Duration lameduck = absl::ZeroDuration();
  // HTTP/2 limits of the gRPC port.
  Http2Options http2;
  // Level and line format of the named loggers (main applies them).
  logging::LoggingOptions logging;
};

// A running server. Thread-safe; EnterLameDuck and Shutdown may be called
// from any thread, and more than once.
class Server {
 public:
  // The health service name set alongside the overall ("") status.
  static constexpr char kServiceName[] = "dsd.v1.DaemonSetScheduler";

  // Starts serving on options.listen. Health reports SERVING for "" and
  // kServiceName once this returns. `clock` gives "now" for requests
  // without one. INVALID_ARGUMENT for inconsistent TLS options or
  // unreadable TLS files; UNAVAILABLE when a port cannot be bound (or the
  // TLS material is rejected by gRPC).
  static absl::StatusOr<std::unique_ptr<Server>> Start(
      const ServerOptions& options,
      std::function<absl::Time()> clock = [] { return absl::Now(); });

  // Shutdown(absl::ZeroDuration()) unless already shut down.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The bound gRPC port (the chosen one for port 0).
  int Port() const { return port_; }
  // options.listen with the bound port, e.g. "127.0.0.1:50051".
  const std::string& Address() const { return address_; }
  // The bound metrics port; 0 without a metrics endpoint.
  int MetricsPort() const;
  // The metrics endpoint's bound host and port ("0.0.0.0:9090" for
  // ":9090", "[::1]:9090"); empty without one.
  const std::string& MetricsAddress() const { return metrics_address_; }

  // Health turns NOT_SERVING (overall and kServiceName); calls are still
  // served. The start of a drain that load balancers can see.
  void EnterLameDuck();

  // Drains: EnterLameDuck, new calls are refused, calls in flight get
  // `grace` (negative: 0) to finish. Once it has passed, every call's
  // CallContext::cancelled() is true and gRPC cancels them, calls still
  // queued for a worker are answered without running, and the metrics
  // endpoint closes once the calls are done.
  // Returns true once all of that has finished; false when calls still run
  // kAbandonAfter past the grace period (a call ignoring its cancellation):
  // they are left running, and the destructor waits for them. A later call
  // waits for the first one's drain the same way, from its own start.
  bool Shutdown(absl::Duration grace);

  // How long Shutdown waits past the grace period before it returns false.
  static constexpr absl::Duration kAbandonAfter = absl::Milliseconds(500);

  // Once no call has started or run for this long after some work, the
  // server hands the memory it freed back to the kernel (malloc_trim).
  // glibc keeps what a burst of large requests freed in its arenas: after
  // a few 5,000-node Decides, 40 MB of anonymous RSS of which 3 MB is in
  // use, charged to the pod until the next burst reuses it.
  static constexpr absl::Duration kTrimAfterIdle = absl::Seconds(1);

  // Calls started and not finished (dsd.v1 methods).
  int64_t CallsInFlight() const { return metrics_.InFlight(); }

 private:
  Server(const ServerOptions& options, std::function<absl::Time()> clock);

  // Runs on drain_thread_: gRPC's Shutdown (refuse, wait until `deadline`,
  // cancel, wait for every call), then the metrics endpoint.
  void Drain(absl::Time deadline);
  // Shuts the completion queue down once the server has, and joins the
  // polling threads once they have drained it.
  void StopPolling();
  // Runs on trim_thread_ until StopTrimming: see kTrimAfterIdle.
  void TrimWhenIdle();
  void StopTrimming();

  service::SchedulerService service_;
  Metrics metrics_;
  std::unique_ptr<WorkerPool> workers_;
  GrpcService grpc_service_;
  UnknownMethodService unknown_methods_;
  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  std::unique_ptr<grpc::Server> server_;
  // Threads serving cq_ (GrpcService::Poll): they read calls and hand them
  // to the workers. Two, so that one reading a large request does not hold
  // up the others.
  static constexpr int kPollingThreads = 2;
  std::vector<std::thread> polling_threads_;
  std::unique_ptr<MetricsServer> metrics_server_;
  int port_ = 0;
  std::string address_;
  std::string metrics_address_;

  std::mutex shutdown_mu_;
  std::condition_variable drained_cv_;
  absl::Time drain_deadline_;   // guarded by shutdown_mu_
  bool drain_started_ = false;  // guarded by shutdown_mu_
  bool drained_ = false;        // guarded by shutdown_mu_
  std::thread drain_thread_;    // started by the first Shutdown

  std::mutex trim_mu_;
  std::condition_variable trim_cv_;
  bool trim_stop_ = false;   // guarded by trim_mu_
  std::mutex trim_join_mu_;  // Drain and the destructor may both join
  std::thread trim_thread_;
};

}  // namespace dsd::transport

#endif  // DSD_SERVER_TRANSPORT_SERVER_H_
