// Leader election on a coordination.k8s.io/v1 Lease, as client-go's
// tools/leaderelection (cluster-integration 1.5), so that of several
// dsd-adapter --mode=apply replicas only one acts:
//   - another holder's lease is valid while the time *we* last saw its
//     record change, plus leaseDurationSeconds, is in the future: clocks
//     are never compared across machines;
//   - taking over or renewing is a PUT on the resourceVersion read (409:
//     another replica won); the holder renews from its last written
//     object, without a GET;
//   - a holder that has not renewed within renew_deadline stops being the
//     leader at once (IsLeader turns false before another can take over:
//     renew_deadline < lease_duration);
//   - Stop releases the lease (holderIdentity "", leaseDurationSeconds 1)
//     so that another replica takes over without waiting.
#ifndef DSD_CLIENT_ADAPTER_LEADER_H_
#define DSD_CLIENT_ADAPTER_LEADER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "client/adapter/apply.h"
#include "client/kube/client.h"

namespace dsd::adapter {

struct LeaderOptions {
  std::string namespace_ = "default";
  std::string name = "dsd-adapter";
  std::string identity;  // unique per replica
  // component-base's defaults; lease > renew_deadline > 1.2 x retry.
  std::chrono::milliseconds lease_duration{15000};
  std::chrono::milliseconds renew_deadline{10000};
  std::chrono::milliseconds retry_period{2000};
};

// "" when the durations are consistent, else what is wrong.
std::string CheckLeaderOptions(const LeaderOptions& options);

class LeaderElector {
 public:
  LeaderElector(kube::Client& client, LeaderOptions options, LogFn log);
  ~LeaderElector();  // Stop()

  void Start();
  // Ends the loop; releases the lease if held.
  void Stop();
  bool IsLeader() const { return leader_.load(); }

 private:
  using Steady = std::chrono::steady_clock;
  void Run();
  // One attempt; true when we hold the lease after it.
  bool TryAcquireOrRenew();

  kube::Client& client_;
  const LeaderOptions options_;
  const LogFn log_;
  std::atomic<bool> leader_{false};
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable wake_;
  std::thread thread_;
  // The record as last read or written, and when we saw it change.
  nlohmann::json lease_;
  std::string observed_spec_;
  Steady::time_point observed_at_;
  Steady::time_point renewed_at_;
};

}  // namespace dsd::adapter

#endif  // DSD_CLIENT_ADAPTER_LEADER_H_
