// dsd-adapter: connects dsd to a live cluster. Flags are parsed here only
// (CLI11); the work is in audit.{h,cc}.
#include <malloc.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <thread>

#include "client/adapter/audit.h"
#include "client/kube/kubeconfig.h"
#include "httplib.h"

namespace {

constexpr char kVersion[] = "0.1.0";

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop.store(true); }

constexpr char kDescription[] =
    R"(dsd-adapter connects dsd to a Kubernetes cluster.

In audit mode (the default) it lists and watches the cluster's Nodes,
DaemonSets, Pods and ControllerRevisions, asks dsd-server for the plan
(dsd.v1 Decide calls; the adapter decides nothing itself) of the
DaemonSets a change affects, and reports drift: pod creates and deletes
the plan asks for that the cluster has not carried out after
--drift_after seconds, with the reason and the node's explanation.

In apply mode (--mode=apply) it also carries the plans out, as the
DaemonSet controller, for the DaemonSets --selector matches (required;
--all-daemonsets for every one): pods created pinned to their node by
node affinity, as upstream creates them, and deleted with a uid
precondition. Upstream's controller must be off for those DaemonSets
(kube-controller-manager --controllers=*,-daemonset). Safety: nothing
is done before the cache is synced or without a plan; a plan is dropped
if the DaemonSet or its pods changed since it was made; what a request
should cause is awaited in the watch before that DaemonSet is acted on
again (and once it is seen, the DaemonSet is decided at once); only the
DaemonSet's own pods are deleted; creates go in
slow-start batches (1, 2, 4, ...), at most --burst creates and deletes
per DaemonSet at a time; past --max_deletes_per_minute it stops
deleting until restarted. The plan's status counters are written to the
DaemonSet's status when they change. --dry-run logs each request instead
of sending it. A new template gets its ControllerRevision (dsd's own
hash: upstream's cannot be reproduced, so a DaemonSet handed back to
upstream rolls its pods once). Of several replicas only the one holding
the Lease --leader_elect_namespace/--leader_elect_name acts; the others
audit, and take over when its lease lapses (or at once when it is
released on SIGTERM). A DaemonSet another controller also writes
(its status, or pods kube-controller-manager creates) is left alone
until restart. Old revisions are trimmed to revisionHistoryLimit.
Events (SuccessfulCreate, FailedCreate, SuccessfulDelete, FailedDelete)
are recorded on the DaemonSet, at most 25 at once and then one per 5
minutes each. A node added is decided alone at once (its creates only;
a round over every node follows). Not yet: adoption of orphans.

What a change affects: a Node, every DaemonSet; a DaemonSet, itself; a
Pod or ControllerRevision, the DaemonSet its controller owner reference
names; an orphan pod, every DaemonSet of its namespace (any may adopt
it). A change after a quiet spell is decided at once; changes that
follow a round within --debounce are collected until they pause. The
affected DaemonSets are decided, each request carrying all nodes and only
their own pods, in batches of at most --max_batch_daemonsets DaemonSets and about
--max_batch_bytes bytes of them, --decide_parallelism calls at once. With
--server dns:///NAME:PORT (or ipv4:ADDR:PORT,ADDR:PORT) the calls are
spread over every address the name resolves to (gRPC round_robin), so
several dsd-server replicas share the work. Every --resync seconds all
DaemonSets are decided again, and a plan that changes by itself
(requeue_after_seconds: pods turning available after minReadySeconds)
is decided again when it does.

Audit mode never writes to the cluster (RBAC get/list/watch is enough);
apply mode also needs create and delete on pods, create and update on
controllerrevisions, update on daemonsets/status, create on events, and
get, create and update on leases.

Reports go to standard error (one line each, --log_format=json for JSON),
to --report FILE (a JSON document replaced atomically every second), and
to /metrics, /healthz and /readyz on --health_listen.

Examples:
  dsd-adapter --server dns:///dsd-server.dsd.svc:50051 --report /tmp/drift.json
  dsd-adapter --context kind-kind --namespace kube-system --drift_after 60
  dsd-adapter --once --drift_after 0 -l app=agent    # one comparison, exit code says
  dsd-adapter --mode=apply -l dsd.io/controller=dsd --dry-run   # what it would do

Exit codes: 0 stopped by SIGTERM/SIGINT (or --once: no drift); 1 cannot
start (kubeconfig, API server unreachable at start with --once, ...);
2 usage; 3 --once: dsd-server could not be used; 4 --once: drift found.)";

}  // namespace

int main(int argc, char** argv) {
  // One malloc arena: a round's megabytes are allocated on threads that
  // come and go, and with glibc's per-thread arenas the freed memory stayed
  // in arenas no later round reused (RSS grew by ~20 MB a round at 2,000
  // nodes while the heap in use stayed at 37 MB). The adapter's threads
  // hardly contend for malloc.
  mallopt(M_ARENA_MAX, 1);
  CLI::App app(kDescription, "dsd-adapter");
  std::string mode = "audit";
  std::string kubeconfig, context, health_listen;
  std::string log_format = "text";
  bool once = false;
  dsd::adapter::AuditOptions options;
  options.kube.user_agent = std::string("dsd-adapter/") + kVersion;
  app.set_version_flag("--version", std::string("dsd-adapter ") + kVersion);
  bool all_daemon_sets = false;
  app.add_option("--mode", mode,
                 "audit: report drift, never write; apply: also carry the "
                 "plans out for the DaemonSets --selector matches")
      ->check(CLI::IsMember({"audit", "apply"}))
      ->capture_default_str();
  app.add_flag("--all-daemonsets", all_daemon_sets,
               "apply: act on every DaemonSet (of --namespace) instead of "
               "those --selector matches")
      ->group("Apply mode");
  app.add_flag("--dry-run", options.apply_options.dry_run,
               "apply: log each request as it would be sent; send none")
      ->group("Apply mode");
  app.add_option("--burst", options.apply_options.burst,
                 "apply: creates, and deletes, per DaemonSet at a time "
                 "(upstream's burstReplicas)")
      ->check(CLI::Range(1, 10000))
      ->group("Apply mode")
      ->capture_default_str();
  bool leader_elect = true;
  double lease_seconds = 15, renew_seconds = 10, retry_seconds = 2;
  if (const char* ns = std::getenv("POD_NAMESPACE"); ns != nullptr && *ns) {
    options.leader.namespace_ = ns;
  }
  app.add_option("--leader_elect", leader_elect,
                 "apply: act only while holding a coordination.k8s.io Lease, "
                 "so that of several replicas one acts (the others audit); "
                 "off with --dry-run")
      ->group("Apply mode")
      ->capture_default_str();
  app.add_option("--leader_elect_namespace", options.leader.namespace_,
                 "apply: the Lease's namespace (default: $POD_NAMESPACE, "
                 "else default)")
      ->group("Apply mode")
      ->capture_default_str();
  app.add_option("--leader_elect_name", options.leader.name,
                 "apply: the Lease's name")
      ->group("Apply mode")
      ->capture_default_str();
  app.add_option("--leader_elect_lease_duration", lease_seconds,
                 "apply: seconds another replica waits, from when it last saw "
                 "the Lease renewed, before taking over")
      ->check(CLI::PositiveNumber)
      ->group("Apply mode")
      ->capture_default_str();
  app.add_option("--leader_elect_renew_deadline", renew_seconds,
                 "apply: seconds the leader may fail to renew before it "
                 "stops acting")
      ->check(CLI::PositiveNumber)
      ->group("Apply mode")
      ->capture_default_str();
  app.add_option("--leader_elect_retry_period", retry_seconds,
                 "apply: seconds between renewals (and tries to acquire)")
      ->check(CLI::PositiveNumber)
      ->group("Apply mode")
      ->capture_default_str();
  app.add_option("--max_deletes_per_minute",
                 options.apply_options.max_deletes_per_minute,
                 "apply: pod deletes per minute over all DaemonSets; one "
                 "more stops deleting until dsd-adapter is restarted")
      ->check(CLI::NonNegativeNumber)
      ->group("Apply mode")
      ->capture_default_str();
  app.add_option("--kubeconfig", kubeconfig,
                 "kubeconfig file (default: $KUBECONFIG, then "
                 "~/.kube/config, then the pod's service account)")
      ->group("Cluster");
  app.add_option("--context", context,
                 "kubeconfig context (default: current-context)")
      ->group("Cluster");
  app.add_option("-n,--namespace", options.namespace_,
                 "Only DaemonSets (and their pods) of this namespace; "
                 "default all. Nodes are always all")
      ->group("Cluster");
  app.add_option("-l,--selector", options.selector,
                 "Only DaemonSets matching this label selector "
                 "(kubectl syntax: app=agent,tier!=canary)")
      ->group("Cluster");
  app.add_option("--kube_api_qps", options.kube.qps,
                 "Requests per second to the API server (client-side)")
      ->group("Cluster")
      ->capture_default_str();
  app.add_option("--kube_api_burst", options.kube.burst,
                 "Requests allowed at once above --kube_api_qps")
      ->group("Cluster")
      ->capture_default_str();
  app.add_option("--chunk_size", options.page_size,
                 "Objects per list page (limit/continue), as kubectl's "
                 "--chunk-size")
      ->check(CLI::PositiveNumber)
      ->group("Cluster")
      ->capture_default_str();
  app.add_option("--server", options.server.server,
                 "dsd-server: HOST:PORT; dns:///NAME:PORT (e.g. a headless "
                 "Service, dns:///dsd-server.dsd.svc:50051) or "
                 "ipv4:ADDR:PORT,ADDR:PORT spreads the calls over every "
                 "address (round_robin)")
      ->group("dsd-server")
      ->capture_default_str();
  app.add_option("--timeout", options.server.timeout_seconds,
                 "Seconds per Decide call; 0 waits forever")
      ->group("dsd-server")
      ->capture_default_str();
  app.add_option("--tls_ca", options.server.tls_ca,
                 "PEM CA of dsd-server's certificate (any --tls_* turns TLS "
                 "on)")
      ->group("dsd-server");
  app.add_option("--tls_cert", options.server.tls_cert,
                 "PEM client certificate for mutual TLS")
      ->group("dsd-server");
  app.add_option("--tls_key", options.server.tls_key, "PEM key of --tls_cert")
      ->group("dsd-server");
  app.add_option("--drift_after", options.drift_after_seconds,
                 "Seconds a planned action may stay undone before it is "
                 "drift")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--debounce", options.debounce_seconds,
                 "Seconds without a change before deciding the changes "
                 "that followed a round (a change after a quiet spell is "
                 "decided at once)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--resync", options.resync_seconds,
                 "Seconds between decisions of every DaemonSet without a "
                 "change; 0 never")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--max_batch_daemonsets", options.max_batch_daemon_sets,
                 "DaemonSets per Decide call at most (a namespace with "
                 "orphan pods is decided in one call, even if larger)")
      ->check(CLI::PositiveNumber)
      ->group("dsd-server")
      ->capture_default_str();
  app.add_option("--max_batch_bytes", options.max_batch_bytes,
                 "Bytes of DaemonSets and pods per Decide call, about, at "
                 "most (one DaemonSet over it goes alone). Every call also "
                 "carries all nodes, held once: a round holds about "
                 "--decide_parallelism times this plus the nodes. Keep it "
                 "plus the nodes below dsd-server's --max_request_bytes")
      ->check(CLI::PositiveNumber)
      ->group("dsd-server")
      ->capture_default_str();
  app.add_option("--decide_parallelism", options.decide_parallelism,
                 "Decide calls in flight at once")
      ->check(CLI::Range(1, 64))
      ->group("dsd-server")
      ->capture_default_str();
  app.add_option("--report", options.report_path,
                 "JSON drift report, replaced atomically every second");
  app.add_option("--log_format", log_format, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app.add_option("--health_listen", health_listen,
                 "HOST:PORT for /healthz, /readyz (after the initial "
                 "sync) and /metrics; default off");
  app.add_flag("--once", once,
               "Sync, compare one plan with the cluster, write the report "
               "and exit (0 no drift, 4 drift, 3 dsd-server unusable)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version: 0; a usage error: its message, exit 2.
    return app.exit(e) == 0 ? 0 : 2;
  }
  options.json_logs = log_format == "json";
  options.apply = mode == "apply";
  if (options.apply && options.selector.empty() && !all_daemon_sets) {
    std::cerr << "error: --mode=apply needs --selector (the DaemonSets dsd "
                 "controls), or --all-daemonsets\n";
    return 2;
  }
  if (!options.apply && (all_daemon_sets || options.apply_options.dry_run)) {
    std::cerr << "error: --all-daemonsets and --dry-run are for "
                 "--mode=apply\n";
    return 2;
  }
  // A dry run writes nothing, the Lease included.
  options.leader_elect =
      options.apply && leader_elect && !options.apply_options.dry_run;
  auto ms = [](double seconds) {
    return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  };
  options.leader.lease_duration = ms(lease_seconds);
  options.leader.renew_deadline = ms(renew_seconds);
  options.leader.retry_period = ms(retry_seconds);
  {
    char host[256] = {0};
    gethostname(host, sizeof host - 1);
    std::random_device rd;
    char suffix[16];
    std::snprintf(suffix, sizeof suffix, "%08x", rd());
    options.leader.identity = std::string(host) + "_" + suffix;
    options.apply_options.instance = options.leader.identity;
  }
  if (const std::string e = dsd::adapter::CheckLeaderOptions(options.leader);
      options.leader_elect && !e.empty()) {
    std::cerr << "error: --leader_elect_*: " << e << "\n";
    return 2;
  }
  if (options.apply && once) {
    std::cerr << "error: --once is for --mode=audit\n";
    return 2;
  }
  if (options.apply && all_daemon_sets) {
    std::cerr << "WARNING: --all-daemonsets: dsd-adapter acts as the "
                 "DaemonSet controller for EVERY DaemonSet"
              << (options.namespace_.empty()
                      ? std::string(" in every namespace")
                      : " in namespace " + options.namespace_)
              << ". Upstream's controller must be off for all of them.\n";
  }
  if (std::string e = dsd::client::CheckTlsFlags(options.server); !e.empty()) {
    std::cerr << "error: " << e << "\n";
    return 2;
  }
  absl::StatusOr<dsd::kube::RestConfig> config =
      dsd::kube::LoadDefaultConfig(kubeconfig, context);
  if (!config.ok()) {
    std::cerr << "error: " << config.status().message() << "\n";
    return dsd::adapter::kExitCannotStart;
  }
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  dsd::adapter::Auditor auditor(*config, options, std::cerr);
  std::unique_ptr<httplib::Server> health;
  std::thread health_thread;
  if (!health_listen.empty()) {
    const size_t colon = health_listen.rfind(':');
    int port = 0;
    try {
      port = colon == std::string::npos
                 ? -1
                 : std::stoi(health_listen.substr(colon + 1));
    } catch (...) {
      port = -1;
    }
    std::string host =
        colon == std::string::npos ? "" : health_listen.substr(0, colon);
    if (port < 0 || port > 65535) {
      std::cerr << "error: --health_listen " << health_listen
                << ": not HOST:PORT\n";
      return 2;
    }
    if (host.empty()) host = "0.0.0.0";
    health = std::make_unique<httplib::Server>();
    health->Get("/healthz", [](const httplib::Request&, httplib::Response& r) {
      r.set_content("ok\n", "text/plain");
    });
    health->Get(
        "/readyz", [&auditor](const httplib::Request&, httplib::Response& r) {
          const bool ready = auditor.ready();
          r.status = ready ? 200 : 503;
          r.set_content(ready ? "ok\n" : "cache not synced\n", "text/plain");
        });
    health->Get("/metrics",
                [&auditor](const httplib::Request&, httplib::Response& r) {
                  r.set_content(auditor.Metrics(), "text/plain; version=0.0.4");
                });
    if (!health->bind_to_port(host.c_str(), port)) {
      std::cerr << "error: --health_listen " << health_listen
                << ": cannot listen\n";
      return dsd::adapter::kExitCannotStart;
    }
    health_thread = std::thread([&] { health->listen_after_bind(); });
  }
  const int code = auditor.Run(g_stop, once);
  if (health) {
    health->stop();
    health_thread.join();
  }
  return code;
}
