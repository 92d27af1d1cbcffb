// The HTTP layer: routes, limits, metrics and one log line per filter call.
// kube-scheduler reads only status 200 (anything else fails the call and
// shows only "code N"), so every answer it should read is a 200; 400, 404
// and 413 are for callers that are not kube-scheduler.
#include "client/extender/http_server.h"

#include <httplib.h>

#include <array>
#include <atomic>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "server/common/logging.h"

namespace dsd::extender {

// Prometheus counters and a latency histogram; thread-safe.
class Metrics {
 public:
  void Count(const std::string& path, int status) {
    std::lock_guard<std::mutex> lock(mu_);
    ++requests_[{path, status}];
  }
  void Filtered(const FilterReply& reply, double seconds) {
    std::lock_guard<std::mutex> lock(mu_);
    ++outcomes_[std::string(OutcomeName(reply.outcome))];
    nodes_sent_ += reply.nodes_sent;
    nodes_passed_ += reply.nodes_passed;
    nodes_remembered_ += reply.nodes_remembered;
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      if (seconds <= kBuckets[i]) ++buckets_[i];
    }
    ++count_;
    sum_ += seconds;
  }
  std::string Render() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::string out =
        "# HELP dsd_extender_http_requests_total HTTP requests by path and "
        "status.\n# TYPE dsd_extender_http_requests_total counter\n";
    for (const auto& [key, n] : requests_) {
      absl::StrAppend(&out, "dsd_extender_http_requests_total{path=\"",
                      key.first, "\",code=\"", key.second, "\"} ", n, "\n");
    }
    absl::StrAppend(
        &out,
        "# HELP dsd_extender_filter_total Filter calls by outcome "
        "(passed_through: not a daemon pod; decided; error: 200 with Error; "
        "bad_request: 400).\n# TYPE dsd_extender_filter_total counter\n");
    for (const char* o :
         {"passed_through", "decided", "error", "bad_request"}) {
      const auto it = outcomes_.find(o);
      absl::StrAppend(&out, "dsd_extender_filter_total{outcome=\"", o, "\"} ",
                      it == outcomes_.end() ? 0 : it->second, "\n");
    }
    absl::StrAppend(
        &out,
        "# HELP dsd_extender_filter_nodes_total Nodes received by filter "
        "calls, those passed, and those answered from remembered verdicts "
        "(no dsd-server call for them).\n# TYPE "
        "dsd_extender_filter_nodes_total counter\n"
        "dsd_extender_filter_nodes_total{result=\"sent\"} ",
        nodes_sent_, "\ndsd_extender_filter_nodes_total{result=\"passed\"} ",
        nodes_passed_,
        "\ndsd_extender_filter_nodes_total{result=\"remembered\"} ",
        nodes_remembered_, "\n");
    absl::StrAppend(&out,
                    "# HELP dsd_extender_filter_seconds Time to answer a "
                    "filter call (body received to reply built).\n# TYPE "
                    "dsd_extender_filter_seconds histogram\n");
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      absl::StrAppend(&out, "dsd_extender_filter_seconds_bucket{le=\"",
                      kBuckets[i], "\"} ", buckets_[i], "\n");
    }
    absl::StrAppend(&out, "dsd_extender_filter_seconds_bucket{le=\"+Inf\"} ",
                    count_, "\ndsd_extender_filter_seconds_sum ", sum_,
                    "\ndsd_extender_filter_seconds_count ", count_, "\n");
    return out;
  }

 private:
  static constexpr std::array<double, 10> kBuckets = {
      0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2};
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::map<std::string, uint64_t> outcomes_;
  uint64_t nodes_sent_ = 0;
  uint64_t nodes_passed_ = 0;
  uint64_t nodes_remembered_ = 0;
  std::array<uint64_t, kBuckets.size()> buckets_{};
  uint64_t count_ = 0;
  double sum_ = 0;
};

namespace {

constexpr char kJson[] = "application/json";

std::shared_ptr<spdlog::logger> Log() { return logging::Logger("extender"); }

// "host:port" -> (host, port); ":port" binds every interface.
bool SplitListen(const std::string& listen, std::string& host, int& port) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return false;
  host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) host = "0.0.0.0";
  return absl::SimpleAtoi(listen.substr(colon + 1), &port) && port >= 0 &&
         port <= 65535;
}

std::string JsonError(const std::string& message) {
  return "{\"Error\":" +
         nlohmann::json(message).dump(
             -1, ' ', false, nlohmann::json::error_handler_t::replace) +
         "}";
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(
    const HttpServerOptions& options, const Filter& filter) {
  std::string host;
  int port = 0;
  if (!SplitListen(options.listen, host, port)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--listen ", options.listen, ": want host:port, [v6]:port or :port"));
  }
  std::unique_ptr<HttpServer> self(new HttpServer());
  self->metrics_ = std::make_unique<Metrics>();
  if (!options.tls_cert.empty() || !options.tls_key.empty()) {
    if (options.tls_cert.empty() || options.tls_key.empty()) {
      return absl::InvalidArgumentError("--tls_cert and --tls_key go together");
    }
    auto tls = std::make_unique<httplib::SSLServer>(
        options.tls_cert.c_str(), options.tls_key.c_str(),
        options.tls_client_ca.empty() ? nullptr
                                      : options.tls_client_ca.c_str());
    if (!tls->is_valid()) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot load TLS files --tls_cert ", options.tls_cert,
                       " --tls_key ", options.tls_key,
                       options.tls_client_ca.empty() ? "" : " --tls_client_ca ",
                       options.tls_client_ca,
                       " (PEM certificate and its private key expected)"));
    }
    self->server_ = std::move(tls);
    self->tls_ = true;
  } else if (!options.tls_client_ca.empty()) {
    return absl::InvalidArgumentError(
        "--tls_client_ca needs --tls_cert and --tls_key");
  } else {
    self->server_ = std::make_unique<httplib::Server>();
  }
  httplib::Server& s = *self->server_;
  Metrics& metrics = *self->metrics_;
  const int threads = options.threads > 0 ? options.threads : 1;
  s.new_task_queue = [threads] {
    return new httplib::ThreadPool(static_cast<size_t>(threads));
  };
  // An answer is written in pieces (headers, then body); with Nagle's
  // algorithm the body would wait for the client's delayed ACK (40 ms on
  // Linux) on a keep-alive connection. Go's client (kube-scheduler) sets
  // TCP_NODELAY on its side too.
  s.set_tcp_nodelay(true);
  s.set_payload_max_length(options.max_body_bytes);
  s.set_read_timeout(options.read_timeout);
  s.set_write_timeout(options.write_timeout);
  s.set_keep_alive_timeout(options.keep_alive_timeout.count());
  // cpp-httplib's default closes a connection after 5 requests: the
  // scheduler would dial (and with HTTPS, shake hands) again every fifth
  // pod. A kept connection holds one worker (--threads) until it closes,
  // so a busy client must still let go now and then for others queued
  // behind it: after 100 requests.
  s.set_keep_alive_max_count(100);

  const std::string filter_path = options.filter_path;
  s.Post(filter_path, [&filter, &metrics](const httplib::Request& req,
                                          httplib::Response& res) {
    const auto start = std::chrono::steady_clock::now();
    const FilterReply reply = filter.Handle(req.body);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    metrics.Filtered(reply, seconds);
    res.status = reply.http_status;
    res.set_content(reply.body, kJson);
    const std::string pod = logging::Sanitize(reply.pod);
    switch (reply.outcome) {
      case Outcome::kError:
        Log()->warn("filter pod {}: {} nodes, Error: {}", pod, reply.nodes_sent,
                    logging::Sanitize(reply.error, 1024));
        break;
      case Outcome::kBadRequest:
        Log()->warn("filter from {}: 400 {}", req.remote_addr,
                    logging::Sanitize(reply.error, 1024));
        break;
      default:
        Log()->debug(
            "filter pod {}: {}, {} of {} nodes pass ({} remembered), {:.3f} ms",
            pod, OutcomeName(reply.outcome), reply.nodes_passed,
            reply.nodes_sent, reply.nodes_remembered, seconds * 1e3);
    }
  });
  s.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  // Not ready until every cache has its initial list: before that a daemon
  // pod would be filtered with its own (maybe older) spec, and node names
  // would fail as not yet cached. Liveness (/healthz) does not wait.
  s.Get("/readyz", [not_ready = options.not_ready](const httplib::Request&,
                                                   httplib::Response& res) {
    const std::string missing = not_ready ? not_ready() : std::string();
    res.status = missing.empty() ? 200 : 503;
    res.set_content(missing.empty() ? "ok\n" : missing + "\n", "text/plain");
  });
  s.Get("/metrics", [&metrics, more = options.more_metrics](
                        const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics.Render() + (more ? more() : std::string()),
                    "text/plain; version=0.0.4");
  });
  s.set_error_handler(
      [filter_path](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return;  // a 400 from the filter says why
        std::string message;
        if (res.status == 404) {
          message = "no such endpoint: " + req.method + " " + req.path +
                    "; dsd-extender serves POST " + filter_path +
                    " and GET /healthz, /readyz, /metrics";
        } else if (res.status == 413) {
          message = "request body too large (--max_body_bytes)";
        } else {
          message = "HTTP " + std::to_string(res.status);
        }
        res.set_content(JsonError(message), kJson);
      });
  // Known paths only, so that a scan of random paths cannot grow the
  // metrics without bound. Counted before the answer is written (httplib's
  // logger runs after it), so that a client that has its answer finds it
  // counted.
  s.set_post_routing_handler(
      [&metrics, filter_path](const httplib::Request& req,
                              const httplib::Response& res) {
        const bool known = req.path == filter_path || req.path == "/healthz" ||
                           req.path == "/readyz" || req.path == "/metrics";
        metrics.Count(known ? req.path : "other", res.status);
      });

  if (port == 0) {
    port = s.bind_to_any_port(host);
    if (port < 0) port = -1;
  } else if (!s.bind_to_port(host, port)) {
    port = -1;
  }
  if (port < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen,
                     " (address in use, or not an address of this host)"));
  }
  self->port_ = port;
  HttpServer* raw = self.get();
  self->thread_ = std::thread([raw] { raw->server_->listen_after_bind(); });
  return self;
}

void HttpServer::Stop() {
  if (server_ == nullptr) return;
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

HttpServer::~HttpServer() { Stop(); }

}  // namespace dsd::extender
