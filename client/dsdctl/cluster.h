// dsdctl's live input: the current kubeconfig context's cluster read with
// client/kube (Nodes, DaemonSets, Pods, ControllerRevisions; one paged
// list per kind) as one kubectl `List` text, for decide and explain
// without -f and for `dsdctl snapshot`. Problems are printed as "error:"
// lines; the result is an exit code (client/common/exit_codes.h).
#ifndef DSD_CLIENT_DSDCTL_CLUSTER_H_
#define DSD_CLIENT_DSDCTL_CLUSTER_H_

#include <ostream>
#include <string>

#include "client/common/input.h"

namespace dsd::client {

// The version dsdctl names itself with (--version, the User-Agent).
inline constexpr char kDsdctlVersion[] = "0.1.0";

// Reads the cluster of `options` into `text` (a kubectl List) and
// `source` (how errors name it: "cluster of kubeconfig F (context C)").
// Returns 0, or after printing the problem on `err`:
//   kExitUsage  no kubeconfig anywhere and not in a pod (naming each place
//               looked at): nothing says what to read;
//   kExitInput  the kubeconfig cannot be used (unreadable, unknown
//               context, ...) or the API server cannot be read
//               (unreachable, 401/403, an answer that is not a List).
int ReadCluster(const ClusterOptions& options, std::string& text,
                std::string& source, std::ostream& err);

// `dsdctl snapshot`: ReadCluster, then the List on `out`, or in
// `output_file` (written to FILE.tmp and renamed, so a reader never sees
// half a file) when that is not empty.
int RunSnapshot(const ClusterOptions& options, const std::string& output_file,
                std::ostream& out, std::ostream& err);

}  // namespace dsd::client

#endif  // DSD_CLIENT_DSDCTL_CLUSTER_H_
