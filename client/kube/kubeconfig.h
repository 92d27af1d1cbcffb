// Where and how to reach a Kubernetes API server, read as kubectl reads it:
// kubeconfig files (KUBECONFIG with several files merged, --kubeconfig,
// --context) or the in-cluster service account. No HTTP here: the result is
// a RestConfig that client.h turns into requests.
#ifndef DSD_CLIENT_KUBE_KUBECONFIG_H_
#define DSD_CLIENT_KUBE_KUBECONFIG_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace dsd::kube {

// users[].user.exec (client.authentication.k8s.io/v1).
struct ExecConfig {
  std::string api_version;  // must be client.authentication.k8s.io/v1
  std::string command;      // resolved against the kubeconfig's folder if
                            // it contains a slash
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  std::string interactive_mode;  // Never / IfAvailable / Always
  bool provide_cluster_info = false;
};

// Everything needed to talk to one API server.
struct RestConfig {
  std::string server;  // https://host:port (no trailing slash)
  std::string source;  // "kubeconfig /x (context c)" or "in-cluster", for
                       // error messages
  // The context's namespace (in-cluster: the service account's); empty
  // when unset. Callers that scope by namespace default to "default" then,
  // as kubectl does.
  std::string namespace_;
  // PEM bytes (from the -data fields or read from the files).
  std::string ca_pem;
  std::string client_cert_pem;
  std::string client_key_pem;
  bool insecure_skip_tls_verify = false;
  // The name the server's certificate is checked against (and sent as
  // SNI) instead of the host of `server`.
  std::string tls_server_name;
  // clusters[].cluster.proxy-url: http://, https:// or socks5:// proxy;
  // empty: libcurl's default (the https_proxy/no_proxy environment, as
  // client-go's ProxyFromEnvironment).
  std::string proxy_url;
  std::string token;       // static bearer token
  std::string token_file;  // re-read when it changes (wins over `token`
                           // for in-cluster, as client-go does)
  bool has_exec = false;
  ExecConfig exec;
  std::vector<std::string> warnings;  // one line each, e.g. insecure TLS
};

struct KubeconfigOptions {
  std::string kubeconfig;  // --kubeconfig: only this file
  std::string context;     // --context; empty: current-context
  // KUBECONFIG as in the environment (colon-separated). Callers pass
  // getenv("KUBECONFIG"); tests pass their own.
  std::string kubeconfig_env;
  std::string home;  // $HOME, for ~/.kube/config
};

// Loads and merges as kubectl does: --kubeconfig alone if given; else
// every file of KUBECONFIG (missing ones skipped; for each named cluster,
// user and context, and for current-context, the first file that sets it
// wins); else ~/.kube/config. Relative file paths are resolved against the
// file that names them. Errors name the file and the field.
absl::StatusOr<RestConfig> LoadKubeconfig(const KubeconfigOptions& options);

// In-cluster: KUBERNETES_SERVICE_HOST/PORT (from `env`), the service
// account token (re-read when it changes), CA and namespace under `sa_dir`
// (/var/run/secrets/kubernetes.io/serviceaccount by default).
absl::StatusOr<RestConfig> InClusterConfig(
    const std::map<std::string, std::string>& env,
    const std::string& sa_dir =
        "/var/run/secrets/kubernetes.io/serviceaccount");

// kubectl's order: --kubeconfig, KUBECONFIG or ~/.kube/config when any
// exists; else in-cluster when KUBERNETES_SERVICE_HOST is set. When none
// is there, NotFound naming each place looked at (IsNoConfig).
absl::StatusOr<RestConfig> LoadDefaultConfig(const std::string& kubeconfig,
                                             const std::string& context);

// Whether `status` (from LoadDefaultConfig) says there is no configuration
// at all, as opposed to one that is wrong.
bool IsNoConfig(const absl::Status& status);

}  // namespace dsd::kube

#endif  // DSD_CLIENT_KUBE_KUBECONFIG_H_
