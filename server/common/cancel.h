// Polling a caller's "give up?" callback from the engine's loops cheaply:
// every kEvery ticks, not on every one (the callback reads a clock). Used
// by convert and the engine, hence server/common; header-only, std only.
#ifndef DSD_SERVER_COMMON_CANCEL_H_
#define DSD_SERVER_COMMON_CANCEL_H_

#include <cstdint>
#include <functional>

namespace dsd::common {

class CancelPoll {
 public:
  // `cancelled` may be empty (never cancelled); it must outlive this.
  explicit CancelPoll(const std::function<bool()>& cancelled)
      : cancelled_(cancelled) {}

  // One unit of work done (a node, a pod, a selector match): true once the
  // callback said so. Sticky.
  bool Tick() {
    if (++ticks_ % kEvery != 0) return stopped_;
    return Check();
  }
  // Asks the callback now (between DaemonSets).
  bool Check() {
    if (!stopped_ && cancelled_) stopped_ = cancelled_();
    return stopped_;
  }
  bool stopped() const { return stopped_; }

  static constexpr uint32_t kEvery = 64;

 private:
  const std::function<bool()>& cancelled_;
  uint32_t ticks_ = 0;
  bool stopped_ = false;
};

}  // namespace dsd::common

#endif  // DSD_SERVER_COMMON_CANCEL_H_
