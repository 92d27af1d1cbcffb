// Exec credential plugins (client.authentication.k8s.io/v1): runs the
// command kubeconfig names, reads the ExecCredential it prints, and keeps
// it until its expirationTimestamp (or until the API server answers 401).
#ifndef DSD_CLIENT_KUBE_EXEC_CREDENTIAL_H_
#define DSD_CLIENT_KUBE_EXEC_CREDENTIAL_H_

#include <chrono>
#include <string>

#include "absl/status/statusor.h"
#include "client/kube/kubeconfig.h"

namespace dsd::kube {

struct ExecCredential {
  std::string token;
  std::string client_cert_pem;
  std::string client_key_pem;
  // Unset (max) when the plugin gave no expirationTimestamp.
  std::chrono::system_clock::time_point expires =
      std::chrono::system_clock::time_point::max();
};

// Runs the plugin once (stdin /dev/null, stderr passed through,
// KUBERNETES_EXEC_INFO set, at most 1 MiB of stdout, 60 s) and parses its
// output. Errors name the command and what was wrong with its answer.
absl::StatusOr<ExecCredential> RunExecPlugin(const ExecConfig& exec,
                                             const std::string& server);

// "2026-01-02T03:04:05Z" (RFC 3339, as Kubernetes writes times).
absl::StatusOr<std::chrono::system_clock::time_point> ParseRfc3339(
    const std::string& text);

}  // namespace dsd::kube

#endif  // DSD_CLIENT_KUBE_EXEC_CREDENTIAL_H_
