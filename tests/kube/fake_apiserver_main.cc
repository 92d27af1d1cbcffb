// fake-apiserver: the tests' fake Kubernetes API server as a program, to
// try dsd-adapter (or kubectl) by hand:
//   fake-apiserver --load examples/ssd-monitor/01-cluster.yaml
//       --kubeconfig_out /tmp/fake.kubeconfig &    (one line)
//   dsd-adapter --kubeconfig /tmp/fake.kubeconfig --drift_after 0
// Objects come from --load files; clients may create and delete them
// (--run_created_pods binds and runs created daemon pods). It runs until
// SIGINT/SIGTERM.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/kube/fake_apiserver.h"

int main(int argc, char** argv) {
  CLI::App app(
      "A fake Kubernetes API server (Nodes, Pods, DaemonSets, "
      "ControllerRevisions; list, watch, create, delete) on 127.0.0.1",
      "fake-apiserver");
  std::vector<std::string> files;
  std::string kubeconfig_out;
  dsd::testing::FakeApiServer::Options options;
  app.add_option("--load", files,
                 "kubectl -o json or YAML manifests to serve; repeatable");
  app.add_option("--port", options.port, "Port (default: a free one)");
  app.add_option("--token", options.token, "Bearer token to require");
  app.add_option("--tls_cert", options.cert_file, "PEM certificate (HTTPS)");
  app.add_option("--tls_key", options.key_file, "PEM key of --tls_cert");
  app.add_flag("--run_created_pods", options.run_created_pods,
               "Bind a created pod to the node its matchFields affinity "
               "names and make it Running and Ready, as a scheduler and "
               "kubelet would");
  app.add_option("--kubeconfig_out", kubeconfig_out,
                 "Write a kubeconfig for this server here");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  auto server = dsd::testing::FakeApiServer::Start(options);
  if (server == nullptr) {
    std::cerr << "error: cannot listen on 127.0.0.1:" << options.port << "\n";
    return 1;
  }
  for (const std::string& f : files) {
    std::ifstream in(f);
    if (!in) {
      std::cerr << "error: " << f << ": cannot be read\n";
      return 1;
    }
    std::ostringstream text;
    text << in.rdbuf();
    try {
      server->Load(text.str());
    } catch (const std::exception& e) {
      std::cerr << "error: " << f << ": " << e.what() << "\n";
      return 1;
    }
  }
  if (!kubeconfig_out.empty()) {
    std::ofstream(kubeconfig_out)
        << "apiVersion: v1\nkind: Config\ncurrent-context: fake\n"
           "clusters:\n- name: fake\n  cluster:\n    server: "
        << server->url()
        << (options.cert_file.empty()
                ? ""
                : "\n    certificate-authority: " + options.cert_file)
        << "\nusers:\n- name: fake\n  user: "
        << (options.token.empty() ? "{}" : "\n    token: " + options.token)
        << "\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n"
           "    user: fake\n";
  }
  std::cerr << "fake-apiserver listening on " << server->url() << std::endl;
  int sig = 0;
  sigwait(&set, &sig);
  return 0;
}
