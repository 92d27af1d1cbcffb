// dsd-adapter's apply mode: carries out dsd-server's plan for a DaemonSet
// the way upstream's DaemonSet controller would (cluster-integration 1.4,
// 3): pods created pinned to their node (DaemonPod), deleted with a uid
// precondition, the template's ControllerRevision found or created
// (history.h), and the plan's status counters written to the DaemonSet's
// status (with observedGeneration once no expectation is pending; skipped
// when unchanged; one re-read and retry after a failure). It decides
// nothing: every action is one a plan named.
//
// What keeps it from doing harm, each rule in Sync:
//   - Expectations: before a request goes out, what it should cause is
//     recorded (a pod for the node; the pod's deletion) and cleared when
//     the pod watch shows it (ObservePod), or after `expectations_ttl`.
//     While any is pending, the DaemonSet's plans are not acted on: a
//     plan made before the watch caught up would ask for the same pod
//     again.
//   - Staleness: a plan is acted on only when no event of the DaemonSet's
//     pods (or of orphans in its namespace) arrived after its snapshot was
//     read (Epoch), and when the DaemonSet is still the one decided (same
//     uid and generation, read back from the API server: its template is
//     then the one the pods are built from).
//   - Ownership: only pods whose controller is the DaemonSet itself are
//     deleted; dsd does not adopt orphans (yet), and never touches another
//     controller's pod.
//   - Blast radius: at most `burst` creates and `burst` deletes per
//     DaemonSet per sync (upstream's burstReplicas, 250); creates in
//     slow-start batches of 1, 2, 4, ... with the rest skipped after a
//     batch with a failure; a deletion budget (`max_deletes_per_minute`
//     over all DaemonSets) past which deleting stops until a person
//     restarts dsd-adapter.
//   - A create whose outcome is unknown (5xx, timeout, dropped) keeps its
//     expectation: the pod may exist, and only the watch (or the TTL)
//     tells. Upstream lowers it and may create a second pod, which a
//     later sync then deletes as a duplicate.
//   - A competing writer: once a managed DaemonSet's status is written by
//     another field manager, or a pod of it is created by
//     kube-controller-manager (upstream's controller left on), after this
//     Applier started, that DaemonSet is no longer acted on (logged, and
//     counted in /metrics) until a person restarts dsd-adapter.
//   - dry_run: every request is logged, exactly as it would be sent, and
//     none is sent (no expectations, no budget spent).
#ifndef DSD_CLIENT_ADAPTER_APPLY_H_
#define DSD_CLIENT_ADAPTER_APPLY_H_

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "client/adapter/events.h"
#include "client/kube/client.h"
#include "dsd/v1/dsd.pb.h"

namespace dsd::adapter {

struct ApplyOptions {
  bool dry_run = false;
  // Our field manager on the API server (the User-Agent's program name):
  // a status write by any other, or a pod created by upstream's
  // controller, is a competing writer.
  std::string manager = "dsd-adapter";
  // Events (SuccessfulCreate, FailedCreate, SuccessfulDelete,
  // FailedDelete) about the DaemonSets acted on; none in a dry run.
  bool events = true;
  std::string instance;                // the Events' reportingInstance
  int burst = 250;                     // creates, and deletes, per sync
  double max_deletes_per_minute = 20;  // over all DaemonSets
  std::chrono::milliseconds expectations_ttl{std::chrono::minutes(5)};
  int parallelism = 16;  // requests in flight within one batch
};

// What of a plan Sync carries out.
enum class PlanScope {
  kWhole,  // its deletes and creates, then its status and the history
  // A plan made for a few new nodes alone (their pods, every DaemonSet):
  // only its creates. Its status counters and anything it would delete
  // are the whole plan's, which the round that follows makes.
  kNewNodesCreates,
};

// The node a pod is bound to, else the one its required node affinity
// pins it to (upstream's util.GetTargetNodeName); "" for neither.
std::string TargetNodeOf(const v1::Pod& pod);

// A log line: level, message, fields.
using LogFn = std::function<void(
    const std::string& level, const std::string& message,
    const std::vector<std::pair<std::string, std::string>>& fields)>;

// What a sync did.
struct SyncOutcome {
  enum class State {
    kNothingToDo,
    kActed,    // requests sent (some may have failed)
    kWaiting,  // expectations pending
    kStale,    // the plan predates a change; the next round decides again
    kRefused,  // the DaemonSet cannot be acted on (logged)
  };
  State state = State::kNothingToDo;
  int created = 0, create_failures = 0, create_skipped = 0;
  int deleted = 0, delete_failures = 0, delete_skipped = 0;
};

class Applier {
 public:
  // Events go through `events_client` (its own rate limit, as upstream's
  // event broadcaster has its own client); null: `client`.
  Applier(kube::Client& client, ApplyOptions options, LogFn log,
          kube::Client* events_client = nullptr);

  // A number that changes whenever an event of the DaemonSet `key`'s
  // pods, or of an orphan pod in its namespace, or a relist, is observed.
  // Read it before the stores are read for a plan; hand it to Sync.
  uint64_t Epoch(const std::string& key) const;

  // Every pod event, as the reflector hands it to its on_change: `owner`
  // and `previous_owner` are the pod's index values ("ds:ns/name",
  // "orphan:ns", "") now and before the change. Clears the expectations
  // it fulfils; returns the DaemonSet ("ns/name") whose last pending
  // expectation it met, else "": that one is due at once, as upstream's
  // pod handlers enqueue it. Thread-safe.
  std::string ObservePod(const std::string& type, const nlohmann::json& pod,
                         const std::string& owner,
                         const std::string& previous_owner);

  // After a relist of the pods (the store replaced; events may have been
  // missed): clears the expectations the new store fulfils, as upstream's
  // informer calls its handlers for what a relist brings. `pods_of(key)`
  // gives the stored pods the DaemonSet `key` controls. Thread-safe.
  void Relisted(
      const std::function<std::vector<v1::Pod>(const std::string& key)>&
          pods_of);

  // Every event of a managed DaemonSet (its on_change): the status it
  // has, so that an unchanged one is not written. Thread-safe.
  void ObserveDaemonSet(const std::string& type,
                        const nlohmann::json& daemon_set);

  // Carries out `plan`, made for `decided` (uid, generation, current
  // revision hash) from stores read at `epoch`. `hashes` gives the
  // controller-revision-hash labels its stored pods carry. `pod_of` finds a
  // stored pod by "ns/name".
  SyncOutcome Sync(
      const v1::DaemonSetPlan& plan, const v1::DaemonSet& decided,
      uint64_t epoch,
      const std::function<bool(const std::string& key, v1::Pod& pod)>& pod_of,
      const std::function<std::set<std::string>()>& hashes,
      PlanScope scope = PlanScope::kWhole);

  // For /metrics and the report.
  struct Counters {
    int64_t creates = 0, create_failures = 0;
    int64_t deletes = 0, delete_failures = 0;
    int64_t status_updates = 0, status_failures = 0;
    int64_t refused_not_owned = 0;
    int64_t competing_writers = 0;  // DaemonSets left alone
    int64_t events_sent = 0, events_dropped = 0;
    int64_t pending_creates = 0, pending_deletes = 0;
    bool deletes_halted = false;
  };
  Counters counters() const;

 private:
  using Steady = std::chrono::steady_clock;
  // Whether the DaemonSet `key` expects nothing (mu_ held).
  bool NothingPendingLocked(const std::string& key) const;
  // Drops expired expectations (logged); the DaemonSet's pending counts.
  std::pair<int, int> PendingLocked(const std::string& key,
                                    Steady::time_point now);
  // The controller-revision-hash of the revision holding the DaemonSet's
  // template (history.h), as upstream's constructHistory: a matching
  // revision is renumbered above the others if it is not on top; with
  // none, one is created (dsd's hash; on a name collision the status'
  // collisionCount is raised and an error returned, to try again). Cached
  // per uid and generation (the template changes only with the latter).
  absl::StatusOr<std::string> ResolveRevision(const std::string& key,
                                              const nlohmann::json& daemon_set);
  // Upstream's cleanupHistory: old revisions, lowest first, deleted while
  // more than spec.revisionHistoryLimit (10) remain, never one whose hash
  // a pod of the DaemonSet (terminating ones included) carries.
  void CleanupHistory(const std::string& key, const nlohmann::json& daemon_set,
                      const std::set<std::string>& hashes_in_use);
  // The plan's deletes and creates, on `daemon_set` as read back.
  void Act(
      const v1::DaemonSetPlan& plan, const v1::DaemonSet& decided,
      const nlohmann::json& daemon_set, const std::string& hash,
      const std::function<bool(const std::string& key, v1::Pod& pod)>& pod_of,
      SyncOutcome& out);
  // Whether `status` differs from the DaemonSet's known status (unknown:
  // yes), or the status has not observed `generation` (upstream's test in
  // storeDaemonSetStatus).
  bool StatusDue(const std::string& key, const v1::DaemonSetStatus& status,
                 int64_t generation) const;
  // PUT .../status with the counters (and observedGeneration when
  // `observed`), re-reading and trying once more after a failure, as
  // upstream (StatusUpdateRetries = 1).
  void WriteStatus(const std::string& key, nlohmann::json daemon_set,
                   const v1::DaemonSetStatus& status, bool observed,
                   int64_t generation);
  // Records a competing writer of `key` seen in `object`'s managedFields
  // (mu_ held); `status`: look at status writes, else at creates.
  void NoteCompetitorLocked(const std::string& key,
                            const nlohmann::json& object, bool status);
  // Runs `work(i)` for i in [0, n), at most options_.parallelism at once.
  void Parallel(size_t n, const std::function<void(size_t)>& work) const;

  kube::Client& client_;
  const ApplyOptions options_;
  const LogFn log_;
  std::unique_ptr<EventRecorder> events_;

  mutable std::mutex mu_;
  uint64_t global_epoch_ = 0;
  std::map<std::string, uint64_t> epochs_;  // "ds:ns/name", "orphan:ns"
  // "ns/name" -> node -> deadline.
  std::map<std::string, std::map<std::string, Steady::time_point>> creates_;
  // pod uid -> DaemonSet "ns/name", deadline.
  std::map<std::string, std::pair<std::string, Steady::time_point>> deletes_;
  std::deque<Steady::time_point> recent_deletes_;  // the budget's window
  // "ns/name" -> the DaemonSet's status as last seen (absent: unknown).
  std::map<std::string, nlohmann::json> statuses_;
  // When this Applier started (RFC 3339, UTC): managedFields entries
  // older than it are history.
  const std::string started_;
  // "ns/name" -> who else wrote it (competing writers); those reported.
  std::map<std::string, std::string> competitors_;
  std::set<std::string> reported_;
  // "ns/name" -> the revisions resolved for "uid/generation": the
  // template's hash, and the DaemonSet's other revisions.
  struct OldRevision {
    std::string name, hash;
    int64_t revision = 0;
  };
  struct Resolved {
    std::string version, hash;
    std::vector<OldRevision> old;
  };
  std::map<std::string, Resolved> revisions_;
  bool deletes_halted_ = false;
  Counters counters_;
};

}  // namespace dsd::adapter

#endif  // DSD_CLIENT_ADAPTER_APPLY_H_
