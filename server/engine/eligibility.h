// NodeShouldRunDaemonPod: whether a DaemonSet should run (shouldRun) and may
// keep running (shouldContinueRunning) a pod on a node, from the template's
// nodeName, nodeSelector, required node affinity and taints versus the daemon
// pod's tolerations (daemon_controller.go). Node resources, ports, conditions
// and spec.unschedulable are deliberately not consulted, as upstream.
#ifndef DSD_SERVER_ENGINE_ELIGIBILITY_H_
#define DSD_SERVER_ENGINE_ELIGIBILITY_H_

#include <string>
#include <vector>

#include "server/engine/selectors.h"
#include "server/engine/taints.h"
#include "server/engine/types.h"

namespace dsd::engine {

struct Eligibility {
  bool should_run = false;
  bool should_continue_running = false;
  // Why shouldContinueRunning is false (when it is), for delete reasons.
  DeleteReason stop_reason = DeleteReason::kNodeAffinityMismatch;
};

// One DaemonSet's predicates, compiled once (tolerations merged with the
// defaults, selectors validated) and evaluated per node. Immutable after
// construction; safe to share across threads. `ds` must outlive it.
class DaemonSetPredicates {
 public:
  DaemonSetPredicates(const DaemonSet& ds, const Options& options);

  // (shouldRun, shouldContinueRunning) for `node`. With `why` non-null,
  // every failed predicate is appended in plain words (all predicates are
  // evaluated then, not just the first that decides), at most
  // kMaxReasons of them and then one "... and N more" line.
  Eligibility Evaluate(const Node& node, std::vector<std::string>* why) const;

  static constexpr size_t kMaxReasons = 16;

  const std::vector<Toleration>& tolerations() const {
    return tolerations_.tolerations();
  }
  const TolerationMatcher& toleration_matcher() const { return tolerations_; }

  // Whether Evaluate gives the same result as `other`'s for every node:
  // the same template nodeName, node selector, required node affinity,
  // merged tolerations and comparison-operators gate (DaemonSets that
  // schedule alike share one evaluation per node).
  bool SameDecisions(const DaemonSetPredicates& other) const;

 private:
  const DaemonSet& ds_;
  NodeSelection selection_;
  TolerationMatcher tolerations_;
  bool comparison_operators_;
};

}  // namespace dsd::engine

#endif  // DSD_SERVER_ENGINE_ELIGIBILITY_H_
