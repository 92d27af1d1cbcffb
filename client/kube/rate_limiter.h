// A token bucket as client-go's flowcontrol.NewTokenBucketRateLimiter:
// `qps` tokens a second, at most `burst` saved up. Thread-safe.
#ifndef DSD_CLIENT_KUBE_RATE_LIMITER_H_
#define DSD_CLIENT_KUBE_RATE_LIMITER_H_

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

namespace dsd::kube {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  // qps <= 0: no limit.
  RateLimiter(double qps, int burst)
      : qps_(qps),
        burst_(std::max(1, burst)),
        tokens_(std::max(1, burst)),
        last_(Clock::now()) {}

  // How long the caller must wait before its request, taking its token
  // now (so concurrent callers queue behind each other).
  Clock::duration Reserve() {
    if (qps_ <= 0) return Clock::duration::zero();
    std::lock_guard<std::mutex> lock(mu_);
    const Clock::time_point now = Clock::now();
    tokens_ = std::min<double>(
        burst_,
        tokens_ + std::chrono::duration<double>(now - last_).count() * qps_);
    last_ = now;
    tokens_ -= 1;
    if (tokens_ >= 0) return Clock::duration::zero();
    return std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(-tokens_ / qps_));
  }

  // Waits for a token; false when `stop` became true meanwhile.
  bool Wait(const std::atomic<bool>* stop) {
    const Clock::time_point until = Clock::now() + Reserve();
    while (Clock::now() < until) {
      if (stop != nullptr && stop->load()) return false;
      std::this_thread::sleep_for(std::min<Clock::duration>(
          until - Clock::now(), std::chrono::milliseconds(50)));
    }
    return stop == nullptr || !stop->load();
  }

 private:
  const double qps_;
  const int burst_;
  std::mutex mu_;
  double tokens_;
  Clock::time_point last_;
};

}  // namespace dsd::kube

#endif  // DSD_CLIENT_KUBE_RATE_LIMITER_H_
