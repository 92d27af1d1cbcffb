// dsdctl: the kubectl-like client of dsd-server. Flags are parsed here only
// (CLI11) and turned into plain option structs for the commands.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <string>

#include "client/dsdctl/commands.h"

namespace {

constexpr char kVersion[] = "dsdctl 0.1.0 (dsd.v1)";

void AddConnectionFlags(CLI::App& app, dsd::client::ConnectionOptions& c) {
  app.add_option("--server", c.server,
                 "dsd-server address: HOST:PORT, or dns:///HOST:PORT to "
                 "spread calls over every address (round_robin)")
      ->capture_default_str();
  app.add_option("--timeout", c.timeout_seconds,
                 "Seconds to wait for an answer; 0 waits forever")
      ->capture_default_str();
  app.add_option("--tls_ca", c.tls_ca,
                 "PEM file of the CA that signed the server's certificate "
                 "(turns TLS on)");
  app.add_option("--tls_cert", c.tls_cert,
                 "PEM client certificate for mutual TLS (with --tls_key)");
  app.add_option("--tls_key", c.tls_key, "PEM private key of --tls_cert");
}

void AddInputFlags(CLI::App& cmd, dsd::client::InputOptions& input) {
  cmd.add_option("-f,--filename", input.files,
                 "Input: `kubectl get nodes,daemonsets,pods,"
                 "controllerrevisions -A -o json` output, single objects or "
                 "multi-document YAML; repeatable; - reads stdin")
      ->required();
  cmd.add_option("--now", input.now,
                 "Evaluate at this RFC 3339 time (e.g. 2026-01-02T03:04:05Z) "
                 "so time-based rules are reproducible; default: the "
                 "server's clock");
}

}  // namespace

int main(int argc, char** argv) {
  using namespace dsd::client;  // NOLINT(google-build-using-namespace): main
                                // only
  CLI::App app{
      "dsdctl asks dsd-server where DaemonSet pods should run, exactly as "
      "the Kubernetes DaemonSet controller would decide.\n\n"
      "  dsdctl decide -f cluster.json            what would the controller "
      "do now?\n"
      "  dsdctl explain -f cluster.json --node n1 why is (or isn't) a pod "
      "there?\n\n"
      "Get input with: kubectl get nodes,daemonsets,pods,controllerrevisions "
      "-A -o json > cluster.json\n"
      "Exit codes: 0 ok, 1 the input is wrong, 2 usage, 3 the server could "
      "not be used."};
  app.require_subcommand(1);
  ConnectionOptions connection;
  AddConnectionFlags(app, connection);

  InputOptions input;
  std::string output;
  const auto add_output = [&](CLI::App& cmd) {
    cmd.add_option("-o,--output", output,
                   "json (the plan contract), yaml, or table (default on a "
                   "terminal; json otherwise)")
        ->check(CLI::IsMember({"json", "yaml", "table"}));
  };

  CLI::App* decide = app.add_subcommand(
      "decide",
      "Print the plan: pods to create and delete, with reasons, "
      "and the status counters of every DaemonSet");
  AddInputFlags(*decide, input);
  add_output(*decide);

  ExplainFilter filter;
  CLI::App* explain = app.add_subcommand(
      "explain",
      "Per DaemonSet and node: should a pod run there, may a "
      "running one stay, and every reason why not");
  AddInputFlags(*explain, input);
  add_output(*explain);
  explain->add_option("--daemonset", filter.daemon_set,
                      "Only this DaemonSet, as NAMESPACE/NAME");
  explain->add_option("--node", filter.node, "Only this node");

  CLI::App* version = app.add_subcommand("version", "Print the version");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }

  OutputFormat format =
      isatty(STDOUT_FILENO) ? OutputFormat::kTable : OutputFormat::kJson;
  if (!output.empty()) ParseOutputFormat(output, format);

  if (version->parsed()) {
    std::cout << kVersion << '\n';
    return 0;
  }
  if (decide->parsed()) {
    return RunDecide(connection, input, format, std::cout, std::cerr);
  }
  return RunExplain(connection, input, filter, format, std::cout, std::cerr);
}
