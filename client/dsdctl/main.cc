// dsdctl: the kubectl-like client of dsd-server. Flags are parsed here only
// (CLI11; the flags every client program shares are registered by
// client/common/flags.h) and turned into plain option structs for the
// commands.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <new>
#include <string>
#include <vector>

#include "client/common/decide_options.h"
#include "client/common/exit_codes.h"
#include "client/common/flags.h"
#include "client/dsdctl/cluster.h"
#include "client/dsdctl/commands.h"
#include "client/load/load_command.h"

namespace {

// "dsdctl decide" for the decide subcommand, "dsdctl" for the app.
std::string CommandPath(const CLI::App& command) {
  std::string path = command.get_name();
  for (const CLI::App* p = command.get_parent(); p != nullptr;
       p = p->get_parent()) {
    path = p->get_name() + " " + path;
  }
  return path;
}

// The synthetic cluster `dsdctl load` sends by default.
void SyntheticFlags(CLI::App& cmd, dsd::client::SyntheticClusterSpec& c) {
  const std::string group = "Synthetic cluster (without -f)";
  cmd.add_option("--nodes", c.nodes, "Number of nodes.")
      ->group(group)
      ->capture_default_str();
  cmd.add_option("--daemonsets", c.daemon_sets, "Number of DaemonSets.")
      ->group(group)
      ->capture_default_str();
  cmd.add_option("--pods_per_node", c.pods_per_node,
                 "Target average of daemon pods per node: enough DaemonSets "
                 "select a single rack (a tenth of the nodes) to approach "
                 "it. The default gives about 150,000 pods for 5000 nodes "
                 "and 50 DaemonSets; 0 means no target (about 0.93 pods per "
                 "node and DaemonSet).")
      ->group(group)
      ->capture_default_str();
  cmd.add_option("--missing_per_mille", c.missing_per_mille,
                 "Per mille of DaemonSet-node pairs with no pod yet.")
      ->group(group)
      ->capture_default_str();
  cmd.add_option("--outdated_per_mille", c.outdated_per_mille,
                 "Per mille of pairs whose pod runs the old revision "
                 "(old controller-revision-hash, pod-template-generation 1).")
      ->group(group)
      ->capture_default_str();
  cmd.add_option("--failed_per_mille", c.failed_per_mille,
                 "Per mille of pairs whose pod has failed.")
      ->group(group)
      ->capture_default_str();
  cmd.add_option("--not_ready_per_mille", c.not_ready_per_mille,
                 "Per mille of pairs whose pod runs but is not ready; the "
                 "rest of the pods run, are ready and up to date.")
      ->group(group)
      ->capture_default_str();
  cmd.add_option("--unlabelled_every", c.unlabelled_every,
                 "Every this-many-th node lacks the pool label that half of "
                 "the DaemonSets select; 0 means every node has it.")
      ->group(group)
      ->capture_default_str();
  cmd.add_option("--control_plane_nodes", c.control_plane_nodes,
                 "Number of control-plane nodes, tainted "
                 "node-role.kubernetes.io/control-plane:NoSchedule, which "
                 "every fourth DaemonSet tolerates.")
      ->group(group)
      ->capture_default_str();
  cmd.add_option("--seed", c.seed,
                 "Seed of the generator of uids, revision hashes and pod "
                 "states; the same flags always give the same bytes.")
      ->group(group)
      ->capture_default_str();
}

// `dsdctl load`: how to send (method, loop, limits), what to send (a
// synthetic cluster or -f files), and the report.
void AddLoadFlags(CLI::App& cmd, dsd::client::LoadCommandOptions& o,
                  std::string& method, std::string& output, bool& no_progress) {
  dsd::client::LoadOptions& l = o.load;
  cmd.add_option("--method", method,
                 "The RPC to send: decide (Decide with the cluster), "
                 "validate (Validate with the same cluster), explain "
                 "(Explain of every DaemonSet on every node: the largest "
                 "answers) or health (grpc.health.v1.Health/Check, the "
                 "transport's ceiling).")
      ->check(CLI::IsMember({"decide", "validate", "explain", "health"}))
      ->capture_default_str();
  cmd.add_option("-c,--concurrency", l.concurrency,
                 "Closed loop: the number of calls kept in flight; each "
                 "completion sends the next call. Ignored with --rate.")
      ->capture_default_str();
  cmd.add_option("--rate", l.rate,
                 "Open loop: requests per second, sent on schedule whatever "
                 "the server does; latency is measured from each call's "
                 "intended send time. 0 selects the closed loop.")
      ->capture_default_str();
  cmd.add_option("--max_in_flight", l.max_in_flight,
                 "Open loop: a send that falls due while this many calls are "
                 "outstanding is dropped and counted (exit code 4).")
      ->capture_default_str();
  cmd.add_option("--duration", l.duration_seconds,
                 "Seconds of measured load (after --warmup); no call is sent "
                 "after it, and calls in flight then finish. Always bounded: "
                 "at most 86400.")
      ->capture_default_str();
  cmd.add_option("-n,--requests", l.requests,
                 "Stop after this many measured requests, or at --duration, "
                 "whichever comes first; 0 means no request limit.")
      ->capture_default_str();
  cmd.add_option("--channels", l.channels,
                 "Number of separate gRPC channels (each its own TCP "
                 "connection) that calls are spread over, round-robin.")
      ->capture_default_str();
  cmd.add_option("--warmup", l.warmup_seconds,
                 "Seconds of load sent before the measured phase and left "
                 "out of the report.")
      ->capture_default_str();
  cmd.add_option("--max_unavailable", l.max_consecutive_unavailable,
                 "Stop the run (exit code 3) when this many calls in a row "
                 "answer UNAVAILABLE: the server went away.")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd.add_option("-o,--output", output,
                 "Report format: table (for people) or json (stable keys, "
                 "for scripts).")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  cmd.add_flag("--no_progress", no_progress,
               "Print no progress line on stderr (by default one per "
               "second, rewritten in place on a terminal).");

  cmd.add_option("-f,--filename", o.input.files,
                 "Send this cluster instead of a synthetic one: `kubectl get "
                 "nodes,daemonsets,pods,controllerrevisions -A -o json` "
                 "output or YAML manifests, as for decide; repeatable.");
  cmd.add_option("--now", o.input.now,
                 "With -f: evaluate at this RFC 3339 time; default: the "
                 "server's clock. The synthetic cluster always uses "
                 "2026-01-01T00:00:00Z.");
  dsd::client::AddMaxInputBytesFlag(cmd, o.input);
  SyntheticFlags(cmd, o.cluster);

  cmd.add_option("--write-request,--write_request", o.write_request,
                 "Write the serialized request of --method (a DecideRequest "
                 "for decide) to this file and exit without sending "
                 "anything, so h2load, ghz or a benchmark can replay the "
                 "same bytes.");
  cmd.add_flag("--grpc_frame", o.grpc_frame,
               "With --write-request: prefix gRPC's 5-byte message header "
               "so the file is an HTTP/2 request body for h2load -d.");
  cmd.add_flag("--allow_remote", o.allow_remote,
               "Allow a --server that is not loopback (127.0.0.0/8, ::1, "
               "localhost). Off by default so that a load test is never "
               "pointed at production by accident.");
}

// A usage error for people: "error: ..." and where to read more, exit 2.
// CLI11's own text for unexpected arguments lists them in reverse order, so
// those are reported from the parsed commands instead (see main).
int UsageError(const std::string& message, const CLI::App& command) {
  std::cerr << "error: " << message << "\nSee '" << CommandPath(command)
            << " --help' for usage.\n";
  return dsd::client::kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace dsd::client;  // NOLINT(google-build-using-namespace): main
                                // only
  CLI::App app{
      "dsdctl asks dsd-server where DaemonSet pods should run, exactly as "
      "the Kubernetes DaemonSet controller would decide.\n\n"
      "  dsdctl decide -A                         what would the controller "
      "do now in the current kubectl context's cluster?\n"
      "  dsdctl decide -f cluster.json            ... with this snapshot\n"
      "  dsdctl explain -f cluster.json --node n1 why is (or isn't) a pod "
      "there?\n"
      "  dsdctl snapshot -A > cluster.json        save the cluster's input "
      "(kubectl List JSON)\n"
      "  dsdctl load --duration 10                how fast is a local "
      "dsd-server?\n\n"
      "Without -f, decide and explain read the cluster of --kubeconfig / "
      "KUBECONFIG / ~/.kube/config (--context, -n, -A as in kubectl). "
      "Or get input with: kubectl get nodes,daemonsets,pods,"
      "controllerrevisions -A -o json > cluster.json\n"
      "Exit codes: 0 ok, 1 the input is wrong or could not be read (files, "
      "kubeconfig, the API server), 2 usage (also: no -f and no "
      "kubeconfig), 3 dsd-server could not be used, 4 (load) the run "
      "completed with failed calls or dropped sends.",
      "dsdctl"};
  app.require_subcommand(1);
  // Unexpected arguments are collected and reported by main, as typed.
  app.allow_extras();
  ConnectionOptions connection;
  AddConnectionFlags(app, connection);

  InputOptions input;
  DecideOptionFlags decide_flags;
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
  AddDecideOptionFlags(*decide, decide_flags);
  add_output(*decide);

  ExplainFilter filter;
  CLI::App* explain = app.add_subcommand(
      "explain",
      "Per DaemonSet and node: should a pod run there, may a "
      "running one stay, and every reason why not");
  AddInputFlags(*explain, input);
  AddDecideOptionFlags(*explain, decide_flags);
  add_output(*explain);
  explain->add_option("--daemonset", filter.daemon_set,
                      "Only this DaemonSet, as NAMESPACE/NAME");
  explain->add_option("--node", filter.node, "Only this node");

  LoadCommandOptions load_options;
  std::string load_method = "decide";
  std::string load_output = "table";
  bool no_progress = false;
  CLI::App* load = app.add_subcommand(
      "load",
      "Load-test a local dsd-server: send one request (a synthetic cluster "
      "or -f files) as fast as --concurrency allows or at a fixed --rate, "
      "then report QPS, errors by code and latency percentiles. Exit codes: "
      "0 no call failed; 1 bad options or input, or a non-loopback "
      "--server without --allow_remote; 3 no call succeeded, or the server "
      "stopped answering (--max_unavailable UNAVAILABLE answers in a row); "
      "4 some calls failed or sends were dropped.");
  AddLoadFlags(*load, load_options, load_method, load_output, no_progress);
  AddDecideOptionFlags(*load, decide_flags);

  ClusterOptions snapshot_cluster;
  std::string snapshot_file;
  std::string snapshot_format = "json";
  CLI::App* snapshot = app.add_subcommand(
      "snapshot",
      "Write the current kubeconfig context's Nodes, DaemonSets, Pods and "
      "ControllerRevisions as one kubectl List (JSON, as `kubectl get "
      "nodes,ds,pods,controllerrevisions -A -o json`), for `decide -f` "
      "later, elsewhere or in a bug report: the same plan as a live "
      "decide. Objects are slimmed as dsd-adapter's cache keeps them "
      "(no managedFields, last-applied annotation, containers, volumes, "
      "container statuses, node images, ControllerRevision data). Needs "
      "get/list on nodes, pods, daemonsets, controllerrevisions. Exit "
      "codes: 0 written; 1 the kubeconfig or API server could not be "
      "used; 2 usage, or no kubeconfig at all.");
  AddClusterFlags(*snapshot, snapshot_cluster, "Cluster");
  snapshot
      ->add_option("--output-file,--output_file", snapshot_file,
                   "Write here instead of stdout (via FILE.tmp and a "
                   "rename: never half a file)")
      ->group("Output");
  snapshot
      ->add_option("-o,--output", snapshot_format,
                   "Format: json (a kubectl List; the only one)")
      ->check(CLI::IsMember({"json"}))
      ->group("Output")
      ->capture_default_str();
  // Connection flags before the command are accepted (and unused).
  snapshot->allow_extras();

  CLI::App* version = app.add_subcommand("version", "Print the version");

  for (CLI::App* command : {decide, explain, load, version}) {
    AddConnectionFlags(*command, connection);
    command->allow_extras();
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    const CLI::App* command = &app;
    for (const CLI::App* sub : app.get_subcommands()) command = sub;
    // A mistyped command: name it rather than "A subcommand is required".
    if (command == &app) {
      for (const std::string& arg : app.remaining()) {
        if (arg.empty() || arg[0] == '-') continue;
        return UsageError(
            "unknown command \"" + arg +
                "\" for \"dsdctl\" (commands: decide, explain, snapshot, "
                "load, version)",
            app);
      }
    }
    return UsageError(e.what(), *command);
  }
  for (const CLI::App* command :
       {&app, decide, explain, snapshot, load, version}) {
    const std::vector<std::string> extra = command->remaining();
    if (extra.empty()) continue;
    const std::string& first = extra.front();
    return UsageError((first.size() > 1 && first[0] == '-'
                           ? "unknown flag \"" + first + "\" for \""
                           : "unexpected argument \"" + first + "\" for \"") +
                          CommandPath(*command) + "\"",
                      *command);
  }

  OutputFormat format =
      isatty(STDOUT_FILENO) ? OutputFormat::kTable : OutputFormat::kJson;
  if (!output.empty()) ParseOutputFormat(output, format);

  if (version->parsed()) {
    std::cout << "dsdctl " << kDsdctlVersion << " (dsd.v1)\n";
    return 0;
  }
  const bool stderr_tty = isatty(STDERR_FILENO) != 0;
  if (snapshot->parsed()) {
    snapshot_cluster.progress_in_place = stderr_tty;
    return RunSnapshot(snapshot_cluster, snapshot_file, std::cout, std::cerr);
  }
  for (CLI::App* command : {decide, explain}) {
    if (!command->parsed() || input.files.empty()) continue;
    // -f reads files; the cluster flags would be silently ignored.
    if (const std::vector<std::string> given = ClusterFlagsGiven(*command);
        !given.empty()) {
      return UsageError("-f and " + given.front() +
                            " cannot be used together: -f reads files, " +
                            given.front() +
                            " is for reading a cluster (drop -f to read it)",
                        *command);
    }
  }
  input.cluster.progress_in_place = stderr_tty;
  // TLS fails closed: a TLS flag that cannot be used is a usage error, not
  // a silent plaintext or system-roots connection.
  if (const std::string bad = CheckTlsFlags(connection); !bad.empty()) {
    return UsageError(bad, *app.get_subcommands().front());
  }
  if (const std::string bad =
          ToDecideOptions(decide_flags, input.decide_options);
      !bad.empty()) {
    return UsageError(bad, *app.get_subcommands().front());
  }
  load_options.input.decide_options = input.decide_options;
  try {
    if (load->parsed()) {
      ParseLoadMethod(load_method, load_options.load.method);
      load_options.format = load_output == "json" ? LoadReportFormat::kJson
                                                  : LoadReportFormat::kTable;
      load_options.load.progress_in_place = isatty(STDERR_FILENO) != 0;
      if (no_progress) load_options.load.progress_interval_seconds = 0;
      return RunLoad(connection, load_options, std::cout, std::cerr);
    }
    if (decide->parsed()) {
      return RunDecide(connection, input, format, std::cout, std::cerr);
    }
    return RunExplain(connection, input, filter, format, std::cout, std::cerr);
  } catch (const std::bad_alloc&) {
    // The commands report allocation failures while loading by file; this
    // is the last resort (building or sending the request).
    const std::vector<std::string>& files =
        load->parsed() ? load_options.input.files : input.files;
    std::string names;
    for (const std::string& f : files) {
      names += (names.empty() ? "" : ", ") + (f == "-" ? "<stdin>" : f);
    }
    std::cerr << "error: " << (names.empty() ? "the request" : names)
              << ": too large to load (out of memory)\n";
    return kExitInput;
  }
}
