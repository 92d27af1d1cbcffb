// Completion-queue hand-offs that ThreadSanitizer can see. gRPC's async
// API passes an object (a call) from the thread that starts an operation
// to the thread that takes its event from a completion queue; Debian's
// libgrpc is not instrumented, so TSan cannot see that order and reports
// the later thread's reads of the object as races. Each hand-off also
// releases one atomic (HandOff, after the last write before gRPC has the
// object) and each event taken acquires it (TakeOver): two atomic
// operations a call, which order nothing gRPC had not ordered already.
// Header-only, std only.
#ifndef DSD_SERVER_COMMON_HANDOFF_H_
#define DSD_SERVER_COMMON_HANDOFF_H_

#include <atomic>
#include <cstdint>

namespace dsd::common {

inline std::atomic<uint64_t> completion_queue_handoffs{0};

inline void HandOff() {
  completion_queue_handoffs.fetch_add(1, std::memory_order_release);
}

inline void TakeOver() {
  (void)completion_queue_handoffs.load(std::memory_order_acquire);
}

}  // namespace dsd::common

#endif  // DSD_SERVER_COMMON_HANDOFF_H_
