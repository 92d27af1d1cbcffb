// dsd-extender: a kube-scheduler extender (filter verb) in front of
// dsd-server. Flags are parsed here only (CLI11) and turned into option
// structs. Exit codes: 0 after SIGTERM/SIGINT, 2 usage, 1 cannot start.
//
// Signals are blocked before any thread starts and taken with sigwait in
// the main thread, so no work runs in a signal handler.
#include <pthread.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "client/common/connection.h"
#include "client/extender/caches.h"
#include "client/extender/filter.h"
#include "client/extender/http_server.h"
#include "client/kube/kubeconfig.h"
#include "server/common/logging.h"

namespace {

constexpr char kDescription[] =
    R"(dsd-extender: a kube-scheduler extender that asks dsd-server where
DaemonSet pods may run.

kube-scheduler POSTs an ExtenderArgs (the pod and the candidate nodes) to
urlPrefix + "/" + filterVerb. A pod whose controller is not a DaemonSet
passes on every node without a call to dsd-server. A daemon pod is sent to
dsd-server's Filter with its DaemonSet's current spec and the nodes; nodes
it refuses are returned in FailedAndUnresolvableNodes, so preemption does
not try them. If dsd-server cannot decide (down, slower than
--decide_timeout, rejecting the pod), the answer is HTTP 200 with Error
set, and the pod's FailedScheduling event shows the reason.

With API access (--kubeconfig, $KUBECONFIG, ~/.kube/config, or the pod's
service account, as kubectl finds them) it watches the cluster's
DaemonSets, so that a pod created from an older template is judged by the
DaemonSet's current spec, as the DaemonSet controller judges it; with
--node_cache it also watches Nodes, for kube-scheduler's
nodeCacheCapable: true (node names only in each request: smaller and
faster); dsd-server's answer for a DaemonSet version and a node version
is then remembered, and only new or changed nodes are sent to it
(--remembered_verdicts, --verdict_max_age). Without API access it judges each daemon pod by its own spec and
needs nodeCacheCapable: false. /readyz answers 503 until every cache has
its initial list. RBAC: get, list and watch on daemonsets (apps) and
nodes. See README "dsd-extender" and examples/extender/.

Examples:
  dsd-extender --server dsd-server.dsd-system:50051 --node_cache
  dsd-extender --kubeconfig ~/.kube/config --context kind-kind \
      --server 127.0.0.1:50051 --listen 127.0.0.1:8888

Endpoints: POST --filter_path, GET /healthz, GET /readyz, GET /metrics
(Prometheus text). Exit codes: 0 stopped by SIGTERM or SIGINT, 1 cannot
start (address in use, or not of this host; a kubeconfig that does not
load), 2 usage (a bad flag, TLS files that do not load, --node_cache
without API access).)";

}  // namespace

int main(int argc, char** argv) {
  CLI::App app(kDescription, "dsd-extender");
  app.get_formatter()->column_width(34);
  dsd::extender::HttpServerOptions http;
  dsd::extender::FilterOptions filter_options;
  dsd::client::ConnectionOptions dsd_server;
  double decide_timeout_seconds = 1.5;
  std::string log_level = "info";
  std::string log_format = "text";
  int64_t max_body_bytes = static_cast<int64_t>(http.max_body_bytes);

  app.add_option("--listen", http.listen,
                 "Address to serve on: HOST:PORT, [IPv6]:PORT, or :PORT for "
                 "every interface; port 0 picks a free one (logged)")
      ->capture_default_str();
  app.add_option("--filter_path", http.filter_path,
                 "Path of the filter verb: the path of the scheduler's "
                 "urlPrefix, then /, then its filterVerb (urlPrefix "
                 "http://h:8888/dsd and filterVerb filter: /dsd/filter)")
      ->capture_default_str();
  app.add_option("--server", dsd_server.server,
                 "dsd-server address: HOST:PORT, or dns:///HOST:PORT to "
                 "spread calls over every address (round_robin)")
      ->capture_default_str();
  app.add_option("--decide_timeout", decide_timeout_seconds,
                 "Seconds dsd-server has to answer one filter call; past it "
                 "the scheduler gets Error. Keep it under the scheduler's "
                 "httpTimeout (5 s by default) minus the request's transfer "
                 "time")
      ->check(CLI::Range(0.001, 60.0))
      ->capture_default_str();
  int64_t remembered_verdicts = static_cast<int64_t>(filter_options.verdicts);
  int64_t verdict_max_age_seconds = filter_options.verdict_max_age.count();
  app.add_option("--remembered_verdicts", remembered_verdicts,
                 "dsd-server's answers kept per DaemonSet and node version "
                 "(about 100 bytes each), for node-names requests of a "
                 "cached DaemonSet: an unchanged node is not sent again. "
                 "0 asks dsd-server every time")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--verdict_max_age", verdict_max_age_seconds,
                 "Seconds after which a DaemonSet's remembered answers are "
                 "asked again (so that a new dsd-server's rules take over)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--server_tls_ca", dsd_server.tls_ca,
                 "PEM CA of dsd-server's certificate; any --server_tls_* "
                 "flag turns TLS to dsd-server on");
  app.add_option("--server_tls_cert", dsd_server.tls_cert,
                 "PEM client certificate for mutual TLS to dsd-server");
  app.add_option("--server_tls_key", dsd_server.tls_key,
                 "PEM private key of --server_tls_cert");
  app.add_option("--tls_cert", http.tls_cert,
                 "PEM certificate: serve HTTPS (with --tls_key); "
                 "kube-scheduler then needs an https:// urlPrefix");
  app.add_option("--tls_key", http.tls_key, "PEM private key of --tls_cert");
  app.add_option("--tls_client_ca", http.tls_client_ca,
                 "PEM CA: require client certificates it signed (the "
                 "scheduler's tlsConfig certData/keyData)");
  app.add_option("--threads", http.threads,
                 "HTTP worker threads. Each serves one connection at a time, "
                 "and a kept-alive connection holds its worker until it "
                 "closes (after 100 requests or 30 s idle): give more than "
                 "the connections of kube-scheduler, Prometheus and the "
                 "probes together")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("--max_body_bytes", max_body_bytes,
                 "Largest request body accepted; larger ones get 413. A "
                 "Nodes payload carries full Node objects (several KB each)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  std::string kubeconfig, context;
  bool node_cache = false;
  dsd::kube::ClientOptions kube_options;
  kube_options.user_agent = "dsd-extender/0.1.0";
  int64_t chunk_size = 500;
  app.add_option("--kubeconfig", kubeconfig,
                 "kubeconfig file for the DaemonSet (and node) caches "
                 "(default: $KUBECONFIG, then ~/.kube/config, then the "
                 "pod's service account; none of them: no caches)")
      ->group("Cluster");
  app.add_option("--context", context,
                 "kubeconfig context (default: current-context)")
      ->group("Cluster");
  app.add_flag("--node_cache", node_cache,
               "Watch Nodes too, for kube-scheduler's nodeCacheCapable: "
               "true (requests carry node names only); needs API access")
      ->group("Cluster");
  app.add_option("--kube_api_qps", kube_options.qps,
                 "Requests per second to the API server (client-side)")
      ->group("Cluster")
      ->capture_default_str();
  app.add_option("--kube_api_burst", kube_options.burst,
                 "Requests allowed at once above --kube_api_qps")
      ->group("Cluster")
      ->capture_default_str();
  app.add_option("--chunk_size", chunk_size,
                 "Objects per list page (limit/continue), as kubectl's "
                 "--chunk-size")
      ->check(CLI::PositiveNumber)
      ->group("Cluster")
      ->capture_default_str();
  app.add_option("--log_level", log_level,
                 "trace, debug (one line per filter call), info, warn or "
                 "error")
      ->capture_default_str();
  app.add_option("--log_format", log_format, "text or json")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }

  if (http.filter_path.empty() || http.filter_path.front() != '/') {
    std::cerr << "dsd-extender: --filter_path " << http.filter_path
              << ": must start with / (urlPrefix http://h:8888 and "
                 "filterVerb filter: /filter)\n";
    return 2;
  }
  const auto level = dsd::logging::ParseLogLevel(log_level);
  const auto format = dsd::logging::ParseLogFormat(log_format);
  if (!level.ok() || !format.ok()) {
    std::cerr << "dsd-extender: "
              << (!level.ok()
                      ? "--log_level " + log_level +
                            ": want trace, debug, info, warn or error"
                      : "--log_format " + log_format + ": want text or json")
              << "\n";
    return 2;
  }
  dsd::logging::SetUpLogging({*level, *format});
  auto log = dsd::logging::Logger("extender");

  http.max_body_bytes = static_cast<size_t>(max_body_bytes);
  filter_options.decide_timeout = std::chrono::milliseconds(
      static_cast<int64_t>(decide_timeout_seconds * 1000));
  filter_options.server_label = "dsd-server at " + dsd_server.server;
  filter_options.verdicts = static_cast<size_t>(remembered_verdicts);
  filter_options.verdict_max_age =
      std::chrono::seconds(verdict_max_age_seconds);

  // A client that goes away mid-answer must not end the process: writes to
  // its socket fail with EPIPE instead (OpenSSL's writes do not pass
  // MSG_NOSIGNAL).
  std::signal(SIGPIPE, SIG_IGN);
  // Block the stop signals in every thread; main takes them with sigwait.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  dsd::client::Connection connection = dsd::client::Connect(dsd_server);
  if (connection.stub == nullptr) {
    std::cerr << "dsd-extender: " << connection.error << "\n";
    return 2;
  }
  const dsd::client::ChannelKeeper keeper(connection.channel);
  // The caches, when there is API access. Only "no kubeconfig anywhere"
  // means none: a kubeconfig that does not load is an error, not a reason
  // to filter silently with pods' own specs.
  std::unique_ptr<dsd::kube::Client> kube;
  std::unique_ptr<dsd::extender::DaemonSetCache> daemon_sets;
  std::unique_ptr<dsd::extender::NodeCache> nodes;
  absl::StatusOr<dsd::kube::RestConfig> config =
      dsd::kube::LoadDefaultConfig(kubeconfig, context);
  if (!config.ok() && config.status().code() == absl::StatusCode::kNotFound &&
      kubeconfig.empty() && context.empty()) {
    if (node_cache) {
      std::cerr << "dsd-extender: --node_cache needs API access: "
                << config.status().message() << "\n";
      return 2;
    }
    log->info(
        "no API access ({}): running without caches: each daemon pod is "
        "judged by its own spec, not its DaemonSet's current one, and node "
        "names (nodeCacheCapable: true) are answered with Error",
        std::string(config.status().message()));
  } else if (!config.ok()) {
    std::cerr << "dsd-extender: " << config.status().message() << "\n";
    return 1;
  } else {
    for (const std::string& w : config->warnings) log->warn("{}", w);
    kube = std::make_unique<dsd::kube::Client>(*config, kube_options);
    dsd::extender::CacheOptions cache_options;
    cache_options.page_size = chunk_size;
    cache_options.log = [log](const std::string& line) {
      log->warn("kubernetes api: {}", dsd::logging::Sanitize(line, 2048));
    };
    daemon_sets =
        std::make_unique<dsd::extender::DaemonSetCache>(*kube, cache_options);
    daemon_sets->cache().Start();
    if (node_cache) {
      nodes = std::make_unique<dsd::extender::NodeCache>(*kube, cache_options);
      nodes->cache().Start();
    }
    log->info("watching daemonsets{} through {} ({})",
              node_cache ? " and nodes" : "", config->server, config->source);
  }
  std::vector<const dsd::extender::ConvertedCache*> caches;
  if (daemon_sets != nullptr) caches.push_back(&daemon_sets->cache());
  if (nodes != nullptr) caches.push_back(&nodes->cache());
  http.not_ready = [caches] {
    std::string out;
    for (const dsd::extender::ConvertedCache* c : caches) {
      if (c->synced()) continue;
      if (!out.empty()) out += "\n";
      out += c->Describe();
    }
    return out;
  };
  http.more_metrics = [caches] {
    std::string out =
        "# HELP dsd_extender_cache_synced 1 once the cache has its initial "
        "list (and no relist is under way).\n# TYPE dsd_extender_cache_synced "
        "gauge\n";
    for (const dsd::extender::ConvertedCache* c : caches) {
      out += "dsd_extender_cache_synced{cache=\"" + c->name() + "\"} " +
             (c->synced() ? "1" : "0") + "\n";
    }
    out +=
        "# HELP dsd_extender_cache_objects Objects in the cache.\n# TYPE "
        "dsd_extender_cache_objects gauge\n";
    for (const dsd::extender::ConvertedCache* c : caches) {
      out += "dsd_extender_cache_objects{cache=\"" + c->name() + "\"} " +
             std::to_string(c->size()) + "\n";
    }
    out +=
        "# HELP dsd_extender_cache_conversions_total Objects converted to "
        "dsd.v1 (once per resourceVersion).\n# TYPE "
        "dsd_extender_cache_conversions_total counter\n";
    for (const dsd::extender::ConvertedCache* c : caches) {
      out += "dsd_extender_cache_conversions_total{cache=\"" + c->name() +
             "\"} " + std::to_string(c->conversions()) + "\n";
    }
    return out;
  };
  const dsd::extender::Filter filter(connection.stub.get(), filter_options,
                                     daemon_sets.get(), nodes.get());
  auto server = dsd::extender::HttpServer::Start(http, filter);
  if (!server.ok()) {
    if (kube != nullptr) kube->Stop();
    log->error("{}", std::string(server.status().message()));
    return server.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  log->info("listening on {}:{} ({}), filter at POST {}, dsd-server {}",
            http.listen.substr(0, http.listen.rfind(':')), (*server)->Port(),
            (*server)->Tls() ? "https" : "http", http.filter_path,
            dsd_server.server);
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  log->info("signal {}: stopping", signal_number);
  (*server)->Stop();
  if (kube != nullptr) kube->Stop();  // ends watches in flight at once
  if (nodes != nullptr) nodes->cache().Stop();
  if (daemon_sets != nullptr) daemon_sets->cache().Stop();
  return 0;
}
