// dsd-adapter's audit mode: keeps a live, slim cache of the cluster's
// Nodes, DaemonSets, Pods and ControllerRevisions (client/kube), asks
// dsd-server for the plan whenever the cache changes (debounced), and
// reports drift: planned creates and deletes the cluster has not carried
// out after --drift_after. It never writes to the cluster (the Kubernetes
// client has no verb but GET) and never decides on an unsynced cache.
#ifndef DSD_CLIENT_ADAPTER_AUDIT_H_
#define DSD_CLIENT_ADAPTER_AUDIT_H_

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <vector>

#include "client/adapter/drift.h"
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
  // One Decide of the whole cache; false on failure (logged, recorded).
  bool Decide(Clock::time_point now);
  void LogChange(const DriftChange& change);
  void WriteReport(Clock::time_point now);

  kube::RestConfig config_;
  AuditOptions options_;
  std::ostream& log_;
  std::mutex log_mu_;
  std::unique_ptr<kube::Client> client_;
  std::vector<std::unique_ptr<kube::Reflector>> reflectors_;
  std::unique_ptr<v1::DaemonSetScheduler::Stub> stub_;
  DriftTracker tracker_;
  std::atomic<bool> ready_{false};

  mutable std::mutex mu_;  // guards what Metrics and WriteReport read
  std::map<std::pair<std::string, int>, int64_t> api_calls_;
  int64_t decides_ = 0, decide_errors_ = 0;
  double decide_seconds_sum_ = 0;
  std::string last_decide_error_;
  std::string last_decide_at_;
  std::vector<std::string> problems_;  // input the converter refused
  std::vector<Action> drift_;          // as of the last report
};

}  // namespace dsd::adapter

#endif  // DSD_CLIENT_ADAPTER_AUDIT_H_
