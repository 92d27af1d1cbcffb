// The gRPC adapter for dsd.v1.DaemonSetScheduler (async API): each unary
// method runs service::SchedulerService and finishes the call with
// ToGrpcStatus. Also the per-request log line and metrics. No
// decision logic lives here.
//
// Why the async API and not the callback API: gRPC 1.51 runs callback
// services on its "nexting" threads (CallbackAlternativeCQ in
// completion_queue_cc.cc), which wait 1 s for an event and, when none came,
// sleep 100 ms without polling. After an idle second they all sleep at once,
// and a call arriving then waits up to 100 ms before gRPC reads it: a
// node-added-to-POST of 100 ms instead of 10 (docs/performance.md, section
// 11). dsd's own threads poll the completion queue without an idle phase.
#ifndef DSD_SERVER_TRANSPORT_GRPC_SERVICE_H_
#define DSD_SERVER_TRANSPORT_GRPC_SERVICE_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

#include "absl/time/time.h"
#include "dsd/v1/dsd.grpc.pb.h"
#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/grpcpp.h"
#include "server/service/scheduler_service.h"
#include "server/transport/metrics.h"
#include "server/transport/worker_pool.h"
#include "spdlog/logger.h"

namespace dsd::transport {

// Thread-safe; one instance serves every call. `service`, `metrics` and
// `workers` must outlive the grpc::Server it is registered with. Calls
// arrive on the completion queue given to Start, which Poll threads serve;
// each is queued to `workers`: the service never runs on a polling thread,
// which stays free to read new calls.
//
// Every call's service::CallContext reports cancelled once the client
// cancelled, the call's deadline passed or the drain's deadline
// (CancelCallsAt) passed, so the service stops early. A call still queued
// by then is answered without running. Logs (logger "transport"): one debug
// line per call; warn for INVALID_ARGUMENT and RESOURCE_EXHAUSTED naming the
// first field path (or quota subject); error for INTERNAL.
//
// Every call is counted once (Metrics::CallFinished) with the code its
// client sees: DEADLINE_EXCEEDED once its deadline passed, CANCELLED once
// its client cancelled, UNAVAILABLE once the drain's grace period passed,
// whatever the service returned (the client never receives that answer).
//
// Every method takes the request's bytes (raw methods). Decide, Explain and
// Validate: the service reads them in two passes and frees them before the
// engine runs (see convert/wire.h), so a large snapshot is never held
// parsed whole. Filter: parsed here, so that bytes that are no
// FilterRequest get INVALID_ARGUMENT with a message (a typed method leaves
// them to gRPC, which answers UNIMPLEMENTED with none, and never calls us).
using ServiceBase = v1::DaemonSetScheduler::WithRawMethod_Decide<
    v1::DaemonSetScheduler::WithRawMethod_Explain<
        v1::DaemonSetScheduler::WithRawMethod_Validate<
            v1::DaemonSetScheduler::WithRawMethod_Filter<
                v1::DaemonSetScheduler::Service>>>>;

class GrpcService final : public ServiceBase {
 public:
  // `max_request_bytes_in_flight`: the budget of request bytes held by
  // calls admitted and not finished (0: none). A call that does not fit is
  // answered RESOURCE_EXHAUSTED at once (QuotaFailure subject
  // "request_bytes_in_flight"), freeing its bytes; a call is always
  // admitted when no other holds any, so one request larger than the
  // budget (up to --max_request_bytes) still runs alone.
  GrpcService(const service::SchedulerService& service, Metrics& metrics,
              WorkerPool& workers, uint64_t max_request_bytes_in_flight = 0);

  // From `deadline` on, every call is cancelled (Server::Shutdown's grace
  // period). Only the earliest deadline given counts.
  void CancelCallsAt(absl::Time deadline);

  // Asks gRPC for the first call of each method on `cq`, a completion queue
  // of the server this service is registered with; every call that arrives
  // asks for the next one. Call once, after the server started.
  void Start(grpc::ServerCompletionQueue* cq);

  // Serves `cq`'s events (calls arriving, finishing, ending) until it is
  // shut down and drained. Runs on each of the server's polling threads.
  static void Poll(grpc::ServerCompletionQueue* cq);

  // The drain, around the server's Shutdown: StopRequesting before it (a
  // call arriving then asks for no next one), AwaitCalls after it. gRPC's
  // Shutdown does not wait for async calls, and fails the requests no call
  // came for; AwaitCalls returns once each call asked for has had its last
  // event, after which the completion queue may be shut down.
  void StopRequesting();
  void AwaitCalls();

 private:
  // A call's work: fills the response, returns the call's status.
  using Body = std::function<absl::Status(const service::CallContext&)>;

  // One call of one method, from the request for it to its last event.
  struct Call;

  // Requests the next call of `method` on `cq`.
  void Request(Method method, grpc::ServerCompletionQueue* cq);

  // A call that arrived: its method's body, then Handle.
  void Accept(Call* call);

  // Starts metrics, admits the call's bytes, then queues `body` to the
  // worker pool (or answers RESOURCE_EXHAUSTED at once).
  void Handle(Call* call, uint64_t request_bytes, Body body);

  // The body of a call after Handle accepted it; ends with Finish and
  // gives `held_bytes` of the budget back. `call` may be gone once it
  // returns.
  void Run(Call* call, uint64_t request_bytes, const Body& body,
           std::chrono::steady_clock::time_point start, uint64_t held_bytes);

  // Takes `bytes` of the budget if they fit (see the constructor).
  bool Admit(uint64_t bytes);

  // True once the call was cancelled, its deadline passed, or the drain's.
  bool Cancelled(const Call& call) const;

  // The status the call's client sees in place of `status` (see the class
  // comment).
  absl::Status Outcome(const Call& call, absl::Status status) const;

  const service::SchedulerService& service_;
  Metrics& metrics_;
  WorkerPool& workers_;
  // CancelCallsAt's deadline in absl::ToUnixNanos; INT64_MAX: none.
  std::atomic<int64_t> cancel_at_unix_nanos_;
  const uint64_t max_request_bytes_in_flight_;
  std::atomic<uint64_t> request_bytes_in_flight_{0};
  std::atomic<bool> requesting_{true};
  std::mutex calls_mu_;
  std::condition_variable calls_ended_;
  int64_t calls_ = 0;  // Call objects alive; guarded by calls_mu_
  std::shared_ptr<spdlog::logger> log_;
};

// Answers every method no registered service has (any service name) with
// UNIMPLEMENTED, as gRPC would, and counts it as method "unknown" so that
// such calls show in dsd_requests_total. Thread-safe; `metrics` must
// outlive the grpc::Server it is registered with.
class UnknownMethodService final : public grpc::CallbackGenericService {
 public:
  explicit UnknownMethodService(Metrics& metrics);

  grpc::ServerGenericBidiReactor* CreateReactor(
      grpc::GenericCallbackServerContext* context) override;

 private:
  Metrics& metrics_;
  std::shared_ptr<spdlog::logger> log_;
};

}  // namespace dsd::transport

#endif  // DSD_SERVER_TRANSPORT_GRPC_SERVICE_H_
