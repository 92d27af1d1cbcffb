#include "client/adapter/events.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/adapter/json_fields.h"

namespace dsd::adapter {

namespace {

// At most 1 KiB, as events.k8s.io's note (an error can be longer), cut
// at a UTF-8 character boundary.
std::string Capped(const std::string& message) {
  if (message.size() <= 1024) return message;
  size_t end = 1021;
  while (end > 0 && (static_cast<unsigned char>(message[end]) & 0xC0) == 0x80) {
    --end;
  }
  return message.substr(0, end) + "...";
}

}  // namespace

EventRecorder::EventRecorder(kube::Client& client, EventOptions options)
    : client_(client), options_(std::move(options)) {
  thread_ = std::thread([this] { Run(); });
}

EventRecorder::~EventRecorder() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void EventRecorder::Record(const nlohmann::json& daemon_set,
                           const std::string& type, const std::string& reason,
                           const std::string& message) {
  const nlohmann::json& meta = Member(daemon_set, "metadata");
  const std::string uid = Text(meta, "uid");
  const std::string ns = Text(meta, "namespace");
  const std::string name = Text(meta, "name");
  const auto now = std::chrono::steady_clock::now();
  const absl::Time wall = absl::Now();
  const std::string stamp =
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", wall, absl::UTCTimeZone());
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, ".%llx",
                static_cast<unsigned long long>(absl::ToUnixNanos(wall)));
  nlohmann::json event = {
      {"apiVersion", "v1"},
      {"kind", "Event"},
      {"metadata", {{"name", name + suffix}, {"namespace", ns}}},
      {"involvedObject",
       {{"apiVersion", "apps/v1"},
        {"kind", "DaemonSet"},
        {"namespace", ns},
        {"name", name},
        {"uid", uid},
        {"resourceVersion", Text(meta, "resourceVersion")}}},
      {"reason", reason},
      {"message", Capped(message)},
      {"type", type},
      {"source", {{"component", options_.component}}},
      {"reportingComponent", options_.component},
      {"reportingInstance", options_.instance},
      {"firstTimestamp", stamp},
      {"lastTimestamp", stamp},
      {"count", 1}};
  std::lock_guard<std::mutex> lock(mu_);
  // client-go's EventSourceObjectSpamFilter: a token bucket per object.
  auto [it, fresh] = buckets_.try_emplace(
      uid, Bucket{static_cast<double>(options_.burst), now});
  Bucket& b = it->second;
  if (!fresh) {
    const double refilled =
        std::chrono::duration<double>(now - b.last) / options_.refill;
    b.tokens =
        std::min(static_cast<double>(options_.burst), b.tokens + refilled);
    b.last = now;
  }
  if (b.tokens < 1 || queue_.size() >= options_.queue) {
    ++dropped_;
    return;
  }
  b.tokens -= 1;
  queue_.emplace_back(ns, std::move(event));
  wake_.notify_one();
}

int64_t EventRecorder::sent() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sent_;
}

int64_t EventRecorder::dropped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dropped_;
}

void EventRecorder::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    wake_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (stop_) {
      // Shutting down: what is left is dropped, not waited for (the API
      // server may be what is failing).
      dropped_ += static_cast<int64_t>(queue_.size());
      queue_.clear();
      return;
    }
    auto [ns, event] = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    const bool ok = client_.Create(kube::kEvents, ns, event).ok();
    lock.lock();
    ++(ok ? sent_ : dropped_);
  }
}

}  // namespace dsd::adapter
