// The user's -f input, shared by every command that reads files: loading
// them (client/k8s), printing warnings and one "error:" line per problem,
// --now, and a failed call's input errors translated back to the user's
// objects.
#ifndef DSD_CLIENT_COMMON_INPUT_H_
#define DSD_CLIENT_COMMON_INPUT_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "client/common/connection.h"
#include "client/k8s/snapshot_loader.h"
#include "dsd/v1/dsd.pb.h"

namespace dsd::client {

// A live cluster as input instead of -f (dsdctl decide/explain without -f,
// dsdctl snapshot), flags as kubectl names them. Plain values: dsdctl reads
// the cluster with client/kube.
struct ClusterOptions {
  std::string kubeconfig;          // --kubeconfig; empty: KUBECONFIG, ...
  std::string context;             // --context; empty: current-context
  std::string namespace_;          // -n; empty: the context's, else default
  bool all_namespaces = false;     // -A (wins over -n, as in kubectl)
  int64_t chunk_size = 500;        // --chunk-size: items per list page
  bool verbose = false;            // -v: a line per kind on stderr
  bool progress_in_place = false;  // stderr is a terminal: progress line
};

struct InputOptions {
  std::vector<std::string> files;  // -f, repeatable; "-" is stdin
  std::string now;                 // --now, RFC 3339; empty: server clock
  // --max_input_bytes: all files together; more is an input error.
  int64_t max_input_bytes = kDefaultMaxInputBytes;
  // Sent with the request (decide_options.h reads them from the flags).
  v1::DecideOptions decide_options{};
  // Read when `files` is empty.
  ClusterOptions cluster{};
};

// Loads every file of `input.files` (none gives an empty snapshot), prints
// each warning on `err`, and each problem as an "error: ..." line. nullopt
// when there was any problem.
std::optional<LoadedSnapshot> LoadInput(const InputOptions& input,
                                        std::ostream& err);

// --now (RFC 3339) as a Timestamp; false, with an "error:" line on `err`,
// when it does not parse.
bool SetNow(const std::string& text, google::protobuf::Timestamp& out,
            std::ostream& err);

// Prints a failed call of `connection` with the snapshot `loaded` on
// `err`: INVALID_ARGUMENT and NOT_FOUND, and RESOURCE_EXHAUSTED for a
// per-object limit (its paths name objects), as one "error:" line per
// field violation, its path translated back to the user's object
// (kExitInput); anything else as one line about the server (kExitServer).
// Returns the exit code.
int ReportCallError(const ConnectionOptions& connection,
                    const LoadedSnapshot& loaded, const grpc::Status& status,
                    std::ostream& err);

}  // namespace dsd::client

#endif  // DSD_CLIENT_COMMON_INPUT_H_
