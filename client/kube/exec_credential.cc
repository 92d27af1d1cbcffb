#include "client/kube/exec_credential.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

extern char** environ;

namespace dsd::kube {
namespace {

constexpr size_t kMaxOutputBytes = 1 << 20;
constexpr int kTimeoutMs = 60'000;

}  // namespace

absl::StatusOr<std::chrono::system_clock::time_point> ParseRfc3339(
    const std::string& text) {
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, &err)) {
    return absl::InvalidArgumentError("\"" + text +
                                      "\": not an RFC 3339 time: " + err);
  }
  return absl::ToChronoTime(t);
}

absl::StatusOr<ExecCredential> RunExecPlugin(const ExecConfig& exec,
                                             const std::string& server) {
  const std::string what = "exec plugin " + exec.command;
  nlohmann::json info = {{"apiVersion", "client.authentication.k8s.io/v1"},
                         {"kind", "ExecCredential"},
                         {"spec", {{"interactive", false}}}};
  if (exec.provide_cluster_info) info["spec"]["cluster"] = {{"server", server}};
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  for (const auto& [k, v] : exec.env) env_strings.push_back(k + "=" + v);
  env_strings.push_back("KUBERNETES_EXEC_INFO=" + info.dump());
  std::vector<char*> envp, argv;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string command = exec.command;
  std::vector<std::string> args = exec.args;
  argv.push_back(command.data());
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) {
    return absl::InternalError(what + ": pipe: " + std::strerror(errno));
  }
  const pid_t pid = fork();
  if (pid < 0) {
    close(out[0]);
    close(out[1]);
    return absl::InternalError(what + ": fork: " + std::strerror(errno));
  }
  if (pid == 0) {
    const int null = open("/dev/null", O_RDONLY);
    dup2(null, 0);
    dup2(out[1], 1);
    execvpe(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  close(out[1]);
  std::string output;
  bool too_big = false, timed_out = false;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(kTimeoutMs);
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{out[0], POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) < 0 && errno != EINTR) break;
    char buf[8192];
    const ssize_t n = read(out[0], buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) break;
    if (output.size() + static_cast<size_t>(n) > kMaxOutputBytes) {
      too_big = true;
      break;
    }
    output.append(buf, static_cast<size_t>(n));
  }
  close(out[0]);
  if (too_big || timed_out) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    return absl::DeadlineExceededError(what + ": no answer within 60 s");
  }
  if (too_big) {
    return absl::ResourceExhaustedError(what + ": printed more than 1 MiB");
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::UnauthenticatedError(
        what + ": " +
        (WIFEXITED(status) ? (WEXITSTATUS(status) == 127
                                  ? std::string("could not be run (not found?)")
                                  : "exited with status " +
                                        std::to_string(WEXITSTATUS(status)))
                           : std::string("killed by a signal")));
  }
  const nlohmann::json cred = nlohmann::json::parse(output, nullptr, false);
  if (cred.is_discarded() || !cred.is_object()) {
    return absl::UnauthenticatedError(what +
                                      ": its output is not a JSON object");
  }
  if (cred.value("apiVersion", nlohmann::json()) !=
          "client.authentication.k8s.io/v1" ||
      cred.value("kind", nlohmann::json()) != "ExecCredential") {
    return absl::UnauthenticatedError(
        what +
        ": its output is not a client.authentication.k8s.io/v1 "
        "ExecCredential");
  }
  const auto status_it = cred.find("status");
  if (status_it == cred.end() || !status_it->is_object()) {
    return absl::UnauthenticatedError(what + ": ExecCredential has no status");
  }
  ExecCredential result;
  auto str = [&](const char* key) -> std::string {
    auto it = status_it->find(key);
    return it != status_it->end() && it->is_string() ? it->get<std::string>()
                                                     : "";
  };
  result.token = str("token");
  result.client_cert_pem = str("clientCertificateData");
  result.client_key_pem = str("clientKeyData");
  if (result.token.empty() && result.client_cert_pem.empty()) {
    return absl::UnauthenticatedError(
        what +
        ": ExecCredential status has neither token nor "
        "clientCertificateData");
  }
  if (result.client_cert_pem.empty() != result.client_key_pem.empty()) {
    return absl::UnauthenticatedError(
        what + ": clientCertificateData and clientKeyData go together");
  }
  if (const std::string exp = str("expirationTimestamp"); !exp.empty()) {
    absl::StatusOr<std::chrono::system_clock::time_point> t = ParseRfc3339(exp);
    if (!t.ok()) {
      return absl::UnauthenticatedError(what + ": expirationTimestamp " +
                                        std::string(t.status().message()));
    }
    result.expires = *t;
  }
  return result;
}

}  // namespace dsd::kube
