// dsd-adapter's audit mode: keeps a live, slim cache of the cluster's
// Nodes, DaemonSets, Pods and ControllerRevisions (client/kube; the first
// three converted to their dsd.v1 messages once, as they arrive), asks
// dsd-server for the plan of the DaemonSets a change affects (debounced;
// in batched Decide calls, several at once, spread over dsd-server's
// replicas by the channel's round_robin policy), and reports drift:
// planned creates and deletes the cluster has not carried out after
// --drift_after. In audit mode it never writes to the cluster; in no mode
// does it decide on an unsynced cache.
//
// What a change affects ("dirty"), as the upstream controller's event
// handlers: a Node event, every DaemonSet; a DaemonSet event, that one; a
// Pod or ControllerRevision event, the DaemonSet its controller owner
// reference names (before and after the change). An orphan pod (no
// controller, not terminating) may be adopted by any DaemonSet of its
// namespace whose selector matches, the oldest first: its events mark the
// whole namespace, and while a namespace holds orphans its DaemonSets are
// decided together in one batch, so the server's adoption order sees all
// candidates. A pod another kind of controller owns, or a terminating
// orphan, touches nothing (dsd ignores both). A (re)list marks everything,
// and so does the periodic resync.
#ifndef DSD_CLIENT_ADAPTER_AUDIT_H_
#define DSD_CLIENT_ADAPTER_AUDIT_H_

#include <grpcpp/generic/generic_stub.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "client/adapter/apply.h"
#include "client/adapter/drift.h"
#include "client/adapter/leader.h"
#include "client/common/connection.h"
#include "client/kube/client.h"
#include "client/kube/reflector.h"

namespace dsd::adapter {

struct AuditOptions {
  std::string namespace_;  // DaemonSets, Pods, ControllerRevisions; "" all
  std::string selector;    // DaemonSet label selector
  double drift_after_seconds = 30;
  std::string report_path;  // "" no report file
  bool json_logs = false;
  double debounce_seconds = 0.2;
  double resync_seconds = 30;  // decide again without a change
  client::ConnectionOptions server;
  kube::ClientOptions kube;
  int64_t page_size = 500;
  // A batch (one Decide call) carries at most this many DaemonSets (a
  // namespace decided together because of orphans may exceed it, alone).
  int max_batch_daemon_sets = 8;
  // ... and at most about this many bytes of DaemonSets and pods (a
  // single DaemonSet over it goes alone). The nodes, which every batch
  // carries, are held once for all and not counted: a round holds about
  // decide_parallelism times this plus the nodes.
  int64_t max_batch_bytes = int64_t{2} << 20;
  // Decide calls in flight at once (each on its own thread).
  int decide_parallelism = 4;
  // --mode=apply: carry out each plan (apply.h) besides reporting drift.
  bool apply = false;
  ApplyOptions apply_options;
  // Apply mode: act only while holding this Lease (leader.h).
  bool leader_elect = false;
  LeaderOptions leader;
};

// Exit codes of Run (and of dsd-adapter).
inline constexpr int kExitOk = 0;
inline constexpr int kExitCannotStart = 1;
inline constexpr int kExitServerUnusable = 3;  // --once only
inline constexpr int kExitDrift = 4;           // --once only
// --once gives up (exit 1) when the cache is not synced after this long.
inline constexpr int kOnceSyncSeconds = 60;

class Auditor {
 public:
  Auditor(kube::RestConfig config, AuditOptions options, std::ostream& log);
  ~Auditor();

  // Runs until `stop` (exit 0), or with `once` until the first plan has
  // been compared with the cluster (0: no drift, 4: drift, 3: dsd-server
  // could not be used).
  int Run(const std::atomic<bool>& stop, bool once);

  // After the initial sync of every kind (for /readyz).
  bool ready() const { return ready_.load(); }
  // Prometheus text exposition (for /metrics).
  std::string Metrics() const;

 private:
  void Log(const std::string& level, const std::string& message,
           const std::vector<std::pair<std::string, std::string>>& fields = {});
  // Why DaemonSets need a new plan; see the file comment. Thread-safe
  // (called from the reflectors' threads).
  void MarkAll(const std::string& reason);
  void MarkDaemonSet(const std::string& key, const std::string& reason);
  void MarkOwner(const std::string& index_value, const std::string& reason);
  // Decides the dirty DaemonSets in batches; false when a batch failed
  // (logged, recorded; its DaemonSets are dirty again).
  bool Decide(Clock::time_point now);
  // Apply mode, on a thread of its own as nodes are added: every
  // DaemonSet decided for the `added` nodes alone (the
  // snapshot holds those nodes and the pods on them), and only the plans'
  // creates carried out (PlanScope::kNewNodesCreates). Whether a
  // DaemonSet's pod belongs on a node depends on that node alone
  // (upstream's nodeShouldRunDaemonPod), so a new node's pods need not
  // wait for a decision over the whole cluster, nor for one under way.
  // The rest of each plan (status, deletes, drift), and any failure, is
  // the full round's, which the node's event brings as well.
  void DecideAddedNodes(const std::set<std::string>& added,
                        Clock::time_point now);
  void LogChange(const DriftChange& change);
  // Apply mode: carries out each plan of `response`, decided from
  // `decided`'s DaemonSets with their pods' `epochs`; false when one was
  // stale (Applier::Sync), or for added nodes waiting on an expectation,
  // to be decided again.
  bool Apply(const v1::DecideResponse& response, const v1::Snapshot& decided,
             const std::map<std::string, uint64_t>& epochs, PlanScope scope);
  void WriteReport(Clock::time_point now);

  kube::RestConfig config_;
  AuditOptions options_;
  std::ostream& log_;
  std::mutex log_mu_;
  std::unique_ptr<kube::Client> client_;
  std::unique_ptr<kube::Client> events_client_;  // apply mode
  std::unique_ptr<kube::Client> leader_client_;  // with leader election
  std::vector<std::unique_ptr<kube::Reflector>> reflectors_;
  // Decide requests are built as bytes (audit.cc), so sent untyped.
  std::unique_ptr<grpc::GenericStub> generic_stub_;
  DriftTracker tracker_;
  std::unique_ptr<Applier> applier_;       // apply mode only
  std::unique_ptr<LeaderElector> leader_;  // with leader_elect
  std::atomic<bool> ready_{false};

  struct Dirty {
    std::string all;  // reason when every DaemonSet is dirty, else ""
    std::map<std::string, std::string> daemon_sets;     // "ns/name" -> reason
    std::map<std::string, std::string> namespaces;      // orphans: ns -> reason
    std::chrono::steady_clock::time_point first, last;  // marks
    // Due at once, without the debounce: a DaemonSet's last expectation
    // was met (its next plan is waited for; upstream's handlers enqueue it).
    bool now = false;
    bool empty() const {
      return all.empty() && daemon_sets.empty() && namespaces.empty();
    }
  };
  // Records a change: `add` says what it makes dirty.
  void Mark(const std::function<void(Dirty&)>& add);
  // Decide and DecideAddedNodes: decides `dirty`'s DaemonSets over every
  // node, or over `only_nodes` alone when not null (then false also when
  // a plan was stale).
  bool DecideRound(const Dirty& dirty, const std::set<std::string>* only_nodes,
                   Clock::time_point now);
  mutable std::mutex dirty_mu_;
  std::condition_variable dirty_cv_;  // a change after a quiet spell
  Dirty dirty_;
  // Nodes ADDED and not yet decided (DecideAddedNodes), and whether some
  // are being decided; dirty_mu_.
  std::set<std::string> added_nodes_;
  bool deciding_added_ = false;
  std::condition_variable added_cv_;  // either changed
  // Held while plans are carried out: the rounds and the decisions of
  // added nodes (on their own thread) act one at a time.
  std::mutex apply_mu_;
  // "ns/name" -> when its plan changes by itself (requeue_after_seconds,
  // e.g. a pod turning available after minReadySeconds); dirty_mu_.
  std::map<std::string, std::chrono::steady_clock::time_point> requeue_;

  mutable std::mutex mu_;  // guards what Metrics and WriteReport read
  std::map<std::pair<std::string, int>, int64_t> api_calls_;
  int64_t decides_ = 0, decide_errors_ = 0;
  double decide_seconds_sum_ = 0;
  std::vector<int64_t> decide_seconds_buckets_;  // per batch, cumulative
  std::vector<int64_t> batch_size_buckets_;      // DaemonSets per batch
  int64_t batch_size_sum_ = 0, batch_bytes_sum_ = 0;
  std::map<std::string, int64_t> decided_by_reason_;
  std::string last_decide_error_;
  std::string last_decide_at_;
  std::vector<std::string> problems_;  // input the converter refused
  std::vector<Action> drift_;          // as of the last report
};

}  // namespace dsd::adapter

#endif  // DSD_CLIENT_ADAPTER_AUDIT_H_
