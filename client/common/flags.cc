#include "client/common/flags.h"

#include <string>
#include <vector>

namespace dsd::client {
namespace {

constexpr char kConnectionGroup[] = "Connection (before or after the command)";

}  // namespace

void AddConnectionFlags(CLI::App& app, ConnectionOptions& c) {
  app.add_option("--server", c.server,
                 "dsd-server address: HOST:PORT, or dns:///HOST:PORT to "
                 "spread calls over every address (round_robin)")
      ->group(kConnectionGroup)
      ->capture_default_str();
  app.add_option("--timeout", c.timeout_seconds,
                 "Seconds to wait for an answer; 0 waits forever")
      ->group(kConnectionGroup)
      ->capture_default_str();
  app.add_option("--tls_ca", c.tls_ca,
                 "PEM file of the CA that signed the server's certificate. "
                 "Any --tls_* flag turns TLS on; without --tls_ca the "
                 "system's roots are trusted")
      ->group(kConnectionGroup);
  app.add_option("--tls_cert", c.tls_cert,
                 "PEM client certificate for mutual TLS (with --tls_key)")
      ->group(kConnectionGroup);
  app.add_option("--tls_key", c.tls_key,
                 "PEM private key of --tls_cert (with --tls_cert)")
      ->group(kConnectionGroup);
}

void AddMaxInputBytesFlag(CLI::App& cmd, InputOptions& input) {
  cmd.add_option("--max_input_bytes", input.max_input_bytes,
                 "Refuse -f input larger than this many bytes in total (all "
                 "files together, stdin included); YAML aliases may expand "
                 "to at most twice the size of their file")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

void AddClusterFlags(CLI::App& cmd, ClusterOptions& cluster,
                     const std::string& group) {
  cmd.add_option("--kubeconfig", cluster.kubeconfig,
                 "Read the cluster of this kubeconfig file; default: "
                 "KUBECONFIG (several files merged, as kubectl), else "
                 "~/.kube/config, else the pod's service account. Not with "
                 "-f")
      ->group(group);
  cmd.add_option("--context", cluster.context,
                 "The kubeconfig context to use; default: its "
                 "current-context")
      ->group(group);
  cmd.add_option("-n,--namespace", cluster.namespace_,
                 "Read the DaemonSets (and their Pods and "
                 "ControllerRevisions) of this namespace; default: the "
                 "context's namespace, else default. Nodes are always all")
      ->group(group);
  cmd.add_flag("-A,--all-namespaces", cluster.all_namespaces,
               "Read the DaemonSets, Pods and ControllerRevisions of every "
               "namespace (wins over -n, as in kubectl)")
      ->group(group);
  cmd.add_option("--chunk-size,--chunk_size", cluster.chunk_size,
                 "Objects per list page (limit/continue); each kind is still "
                 "one consistent list")
      ->check(CLI::Range(int64_t{1}, int64_t{100000}))
      ->group(group)
      ->capture_default_str();
  cmd.add_flag("-v,--verbose", cluster.verbose,
               "One line per kind listed on stderr (count, pages, seconds); "
               "on a terminal a progress line is shown anyway")
      ->group(group);
}

std::vector<std::string> ClusterFlagsGiven(const CLI::App& cmd) {
  std::vector<std::string> given;
  for (const char* name : {"--kubeconfig", "--context", "--namespace",
                           "--all-namespaces", "--chunk-size"}) {
    const CLI::Option* o = cmd.get_option_no_throw(name);
    if (o != nullptr && o->count() > 0) given.emplace_back(name);
  }
  return given;
}

void AddInputFlags(CLI::App& cmd, InputOptions& input) {
  cmd.add_option("-f,--filename", input.files,
                 "Input: `kubectl get nodes,daemonsets,pods,"
                 "controllerrevisions -A -o json` output (or `dsdctl "
                 "snapshot`'s), single objects or multi-document YAML; "
                 "repeatable; - reads stdin. Without -f the current "
                 "kubeconfig context's cluster is read (see Cluster)");
  cmd.add_option("--now", input.now,
                 "Evaluate at this RFC 3339 time (e.g. 2026-01-02T03:04:05Z) "
                 "so time-based rules are reproducible; default: the "
                 "server's clock");
  AddMaxInputBytesFlag(cmd, input);
  AddClusterFlags(cmd, input.cluster);
}

void AddDecideOptionFlags(CLI::App& cmd, DecideOptionFlags& f) {
  const std::string group = "Decision (as Kubernetes would decide)";
  cmd.add_option("--kubernetes-version", f.kubernetes_version,
                 "Decide as this Kubernetes version's controller would, "
                 "1.8 to 1.35 (its default tolerations and availability "
                 "rule); default: the newest")
      ->group(group);
  cmd.add_option("--feature-gates", f.feature_gates,
                 "Feature gates, Gate=true|false,...: "
                 "TaintTolerationComparisonOperators (Lt/Gt tolerations)")
      ->group(group);
  cmd.add_flag("--taint-eviction", f.taint_eviction,
               "Model the taint-eviction controller: pods on nodes with "
               "untolerated NoExecute taints are evicted (reason "
               "TaintEviction)")
      ->group(group);
  cmd.add_flag("--one-sync", f.one_sync,
               "Plan the rolling update only when creating and deleting has "
               "nothing to do, as one controller sync does")
      ->group(group);
}

}  // namespace dsd::client
