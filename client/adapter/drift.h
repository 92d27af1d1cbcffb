// Drift: the actions dsd's plan asks for that the cluster has not carried
// out. Pure bookkeeping (no I/O, no clock): the auditor feeds each plan
// with the time it was made, and reads back what has been pending for at
// least `drift_after`.
#ifndef DSD_CLIENT_ADAPTER_DRIFT_H_
#define DSD_CLIENT_ADAPTER_DRIFT_H_

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "dsd/v1/dsd.pb.h"

namespace dsd::adapter {

using Clock = std::chrono::system_clock;

// One planned action.
struct Action {
  std::string namespace_;
  std::string daemon_set;
  std::string action;  // "create" or "delete"
  std::string node;
  std::string pod;     // delete only
  std::string reason;  // delete only: NodeAffinityMismatch, ...
  std::string message;
  // The node's explanation from the plan (empty when it has none).
  bool has_explanation = false;
  bool should_run = false;
  bool should_continue_running = false;
  std::vector<std::string> failed_predicates;
  Clock::time_point since;  // first seen in a plan
  std::string Key() const;  // "ns/ds create node" or "ns/ds delete pod"
};

struct DriftChange {
  std::vector<Action> started;   // crossed drift_after in this update
  std::vector<Action> resolved;  // were drift, gone from the plan now
};

class DriftTracker {
 public:
  explicit DriftTracker(Clock::duration drift_after)
      : drift_after_(drift_after) {}

  // Replaces the plan of the DaemonSets in `response` (others keep theirs;
  // `all` = the response covers every DaemonSet, so the ones missing from
  // it are gone). Returns what changed as drift.
  DriftChange Update(const v1::DecideResponse& response, bool all,
                     Clock::time_point now);
  // As Update for a response to a request that carried exactly the
  // DaemonSets in `scope` ("ns/name"): their plans are replaced (one
  // missing from the response has nothing planned); every other
  // DaemonSet keeps its plan and its actions' `since`.
  DriftChange Update(const v1::DecideResponse& response,
                     const std::set<std::string>& scope, Clock::time_point now);
  // Drops everything planned for DaemonSet `ds` ("ns/name"): it was
  // deleted. What was drift comes back as resolved.
  DriftChange Forget(const std::string& ds);
  // Re-checks the deadlines without a new plan.
  DriftChange Tick(Clock::time_point now);

  // Every action pending at least drift_after, by key.
  std::vector<Action> Drift(Clock::time_point now) const;
  // The DaemonSets ("ns/name") with a planned action.
  std::set<std::string> DaemonSets() const;
  // Every planned action, drift or not.
  size_t pending() const { return actions_.size(); }
  Clock::duration drift_after() const { return drift_after_; }

 private:
  DriftChange Replace(const v1::DecideResponse& response,
                      const std::set<std::string>* scope,
                      Clock::time_point now);

  const Clock::duration drift_after_;
  std::map<std::string, Action> actions_;  // by Key()
  std::set<std::string> reported_;         // keys reported as drift
};

}  // namespace dsd::adapter

#endif  // DSD_CLIENT_ADAPTER_DRIFT_H_
