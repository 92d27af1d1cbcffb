// The command-line flags client programs share, registered on a CLI11
// command into the option structs of client/common: every program that
// talks to dsd-server takes the same connection flags, every program that
// decides the same decision flags, every program that reads files the same
// -f flags. A program's own flags stay in its folder.
#ifndef DSD_CLIENT_COMMON_FLAGS_H_
#define DSD_CLIENT_COMMON_FLAGS_H_

#include <CLI/CLI.hpp>

#include "client/common/connection.h"
#include "client/common/decide_options.h"
#include "client/common/input.h"

namespace dsd::client {

// --server, --timeout, --tls_ca, --tls_cert, --tls_key. dsdctl adds them to
// the app and to every subcommand, so that they may come before or after
// the subcommand (as kubectl's global flags do) and every subcommand's
// --help lists them.
void AddConnectionFlags(CLI::App& app, ConnectionOptions& c);

// --max_input_bytes.
void AddMaxInputBytesFlag(CLI::App& cmd, InputOptions& input);

// -f, --now and --max_input_bytes, and the cluster flags (AddClusterFlags)
// for reading a live cluster when -f is not given.
void AddInputFlags(CLI::App& cmd, InputOptions& input);

// A live cluster as input, as kubectl names the flags: --kubeconfig,
// --context, -n/--namespace, -A/--all-namespaces, --chunk-size, and
// -v/--verbose.
// `group` titles them in --help.
void AddClusterFlags(CLI::App& cmd, ClusterOptions& cluster,
                     const std::string& group =
                         "Cluster (without -f: read the kubeconfig "
                         "context's cluster)");

// The flags of AddClusterFlags given on `cmd` (as typed, e.g.
// "--kubeconfig"), for the usage error of combining them with -f.
std::vector<std::string> ClusterFlagsGiven(const CLI::App& cmd);

// How the engine decides (dsd.v1.DecideOptions), with the names Kubernetes
// components use: --kubernetes-version, --feature-gates, --taint-eviction,
// --one-sync. ToDecideOptions (decide_options.h) checks them.
void AddDecideOptionFlags(CLI::App& cmd, DecideOptionFlags& f);

}  // namespace dsd::client

#endif  // DSD_CLIENT_COMMON_FLAGS_H_
