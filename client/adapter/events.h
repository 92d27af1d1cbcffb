// Events about a DaemonSet, as upstream's controller records them
// (client-go's record package): core/v1 Events named "<object>.<unix
// nanoseconds in hex>", sent by one background thread from a bounded
// queue (1,000, as client-go's broadcaster; a full queue drops), and
// limited per DaemonSet as client-go's spam filter limits them per source
// and object (a burst of 25, then one every 5 minutes). Recording never
// blocks the caller; what is dropped is counted, and what is still queued
// at shutdown is dropped.
#ifndef DSD_CLIENT_ADAPTER_EVENTS_H_
#define DSD_CLIENT_ADAPTER_EVENTS_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "client/kube/client.h"

namespace dsd::adapter {

struct EventOptions {
  std::string component = "dsd-adapter";  // source.component
  std::string instance;                   // reportingInstance
  int burst = 25;
  std::chrono::milliseconds refill{std::chrono::minutes(5)};
  size_t queue = 1000;
};

class EventRecorder {
 public:
  EventRecorder(kube::Client& client, EventOptions options);
  ~EventRecorder();  // drops what is still queued

  // An event about `daemon_set` (its JSON as read): type "Normal" or
  // "Warning", reason (SuccessfulCreate, ...), message.
  void Record(const nlohmann::json& daemon_set, const std::string& type,
              const std::string& reason, const std::string& message);

  int64_t sent() const;
  int64_t dropped() const;  // by the spam filter, a full queue, or errors

 private:
  void Run();

  kube::Client& client_;
  const EventOptions options_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::pair<std::string, nlohmann::json>> queue_;  // ns, event
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point last;
  };
  std::map<std::string, Bucket> buckets_;  // per DaemonSet uid
  bool stop_ = false;
  int64_t sent_ = 0, dropped_ = 0;
  std::thread thread_;
};

}  // namespace dsd::adapter

#endif  // DSD_CLIENT_ADAPTER_EVENTS_H_
