// The filter verb of the kube-scheduler extender protocol
// (k8s.io/kube-scheduler/extender/v1 ExtenderArgs -> ExtenderFilterResult),
// independent of HTTP: one request body in, one status and body out. Every
// decision is dsd-server's, from a dsd.v1 Filter call (or remembered from
// one for the same DaemonSet and node versions); this file only reads the
// protocol, converts the objects and words the answer.
#ifndef DSD_CLIENT_EXTENDER_FILTER_H_
#define DSD_CLIENT_EXTENDER_FILTER_H_

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "client/extender/sources.h"
#include "client/extender/verdicts.h"
#include "dsd/v1/dsd.grpc.pb.h"
#include "dsd/v1/dsd.pb.h"

namespace dsd::extender {

struct FilterOptions {
  // Deadline of each Filter call to dsd-server. Keep it well under the
  // scheduler's httpTimeout (5 s by default) so that the scheduler reads
  // our Error rather than a timeout of its own. Must be > 0.
  std::chrono::milliseconds decide_timeout{1500};
  // How dsd-server is named in Error texts ("dsd-server at ADDR: ...").
  std::string server_label = "dsd-server";
  // dsd-server's answers remembered per DaemonSet and node version
  // (verdicts.h), for node-names requests whose DaemonSet is in the
  // DaemonSet cache: at most this many (about 100 bytes each; 0: none).
  size_t verdicts = 1'000'000;
  // A DaemonSet's remembered answers are asked again after this long.
  std::chrono::seconds verdict_max_age{60};
};

// What the filter did with one request, for metrics and logs.
enum class Outcome {
  kPassedThrough,  // not a daemon pod: every node echoed, dsd not called
  kDecided,        // a daemon pod, decided by dsd-server
  kError,          // HTTP 200 with Error set: dsd could not decide
  kBadRequest,     // HTTP 400: the body is not an ExtenderArgs
};
std::string_view OutcomeName(Outcome outcome);  // "passed_through", ...

struct FilterReply {
  int http_status = 200;
  std::string body;  // JSON: ExtenderFilterResult, or {"Error": ...} on 400
  Outcome outcome = Outcome::kBadRequest;
  std::string pod;              // "namespace/name" when known, for logs
  size_t nodes_sent = 0;        // nodes in the request
  size_t nodes_passed = 0;      // nodes in the reply's Nodes / NodeNames
  size_t nodes_remembered = 0;  // answered from remembered verdicts
  std::string error;            // the Error text or the 400 message
};

// Thread-safe (const; the stub and sources must be thread-safe, as gRPC
// stubs are). The stub and sources are not owned and must outlive it;
// either source may be null (not available).
class Filter {
 public:
  Filter(v1::DaemonSetScheduler::StubInterface* dsd, FilterOptions options,
         const DaemonSetSource* daemon_sets, const NodeSource* nodes)
      : dsd_(dsd),
        options_(std::move(options)),
        daemon_sets_(daemon_sets),
        nodes_(nodes),
        verdicts_(std::make_unique<Verdicts>(options_.verdicts,
                                             options_.verdict_max_age)) {}

  // Answers one ExtenderArgs body:
  // - 400 when the body is not JSON, not an object, has no Pod object, or
  //   its Nodes / NodeNames have the wrong JSON types (kube-scheduler never
  //   sends such a body);
  // - a pod whose controller is not a DaemonSet: every node passes, echoed
  //   as sent (Node objects byte for byte, node names as the same JSON
  //   strings, escapes decoded), without calling dsd-server;
  // - a daemon pod: dsd-server's Filter for its DaemonSet (from the
  //   DaemonSet source, else the pod's own spec) and the nodes; refusals go
  //   to FailedAndUnresolvableNodes with node-independent messages, nodes
  //   missing from the node cache to FailedNodes; for node names and a
  //   cached DaemonSet, only the nodes without a remembered verdict for
  //   this DaemonSet and node version are sent (verdicts.h);
  // - 200 with Error when dsd cannot decide: dsd-server unreachable, slow
  //   past decide_timeout or rejecting the request, a pod or node that
  //   does not convert, NodeNames without a node source.
  // Keys of ExtenderArgs (and of the NodeList) match in any case, as Go's
  // decoder does; the reply uses Go's capitalised field names. NodeNames
  // (when not null) is read in preference to Nodes, as kube-scheduler with
  // nodeCacheCapable: true does; the reply fills the same one and sets the
  // other null.
  FilterReply Handle(std::string_view body) const;

 private:
  v1::DaemonSetScheduler::StubInterface* dsd_;
  FilterOptions options_;
  const DaemonSetSource* daemon_sets_;
  const NodeSource* nodes_;
  std::unique_ptr<Verdicts> verdicts_;  // thread-safe
};

// The FailedAndUnresolvableNodes message for a node dsd-server refused,
// from its failed predicates, naming the DaemonSet ("ns/name") but never
// the node, so that equal refusals aggregate in the scheduler's
// "0/N nodes are available" summary: "dsd: DaemonSet ns/name: node(s)
// didn't match the DaemonSet's nodeSelector", "... node(s) had untolerated
// taint dedicated=gpu:NoSchedule", several joined by "; ".
std::string RefusalMessage(const std::string& daemon_set,
                           const v1::NodeExplanation& failed);

}  // namespace dsd::extender

#endif  // DSD_CLIENT_EXTENDER_FILTER_H_
