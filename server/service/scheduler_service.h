// The DaemonSetScheduler service without gRPC: proto in, proto out. Applies
// the request limits, validates through convert, runs the engine, converts
// the plan back. Stateless and thread-safe: one instance serves every call.
#ifndef DSD_SERVER_SERVICE_SCHEDULER_SERVICE_H_
#define DSD_SERVER_SERVICE_SCHEDULER_SERVICE_H_

#include <cstddef>
#include <functional>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "dsd/v1/dsd.pb.h"
#include "server/convert/wire.h"

namespace dsd::service {

struct ServiceOptions {
  // Per-request object limits; a request over any of them gets
  // RESOURCE_EXHAUSTED. 0 means no limit.
  size_t max_nodes = 100'000;
  size_t max_daemon_sets = 10'000;
  size_t max_pods = 2'000'000;
  // Explanation text one Explain (or Decide with options.explain) may
  // produce: this many bytes, or twice the request's bytes if that is
  // more. Past it the call gets RESOURCE_EXHAUSTED, asking to narrow the
  // explanation to one DaemonSet or node.
  size_t explain_budget_bytes = 16u << 20;
};

// What a request held, for the transport's log line (the transport sees
// only bytes).
struct RequestCounts {
  int nodes = 0;
  int pods = 0;
  int daemon_sets = 0;
};

// Per-call context from the transport: whether the caller gave up, and
// where to report what the request held.
struct CallContext {
  // Returns true once the deadline passed or the call was cancelled; the
  // service then stops and returns DEADLINE_EXCEEDED / CANCELLED. May be
  // empty (never cancelled).
  std::function<bool()> cancelled;
  // Filled (when set) once the request's objects are counted.
  RequestCounts* counts = nullptr;
};

// A request as the bytes it came in: Decide, Explain and Validate read
// them in two passes (convert/wire.h), so that a large snapshot is never
// held parsed whole; the engine snapshot copies what it keeps.
struct RequestBytes {
  // Opens a stream over the bytes; called three times (convert/wire.h).
  convert::OpenBytes open;
  // Called (when set) once the request is converted, before the engine
  // runs: the bytes may be freed then.
  std::function<void()> release;
};

class SchedulerService {
 public:
  // `clock` gives "now" when a request has none (tests inject a fixed one).
  SchedulerService(ServiceOptions options, std::function<absl::Time()> clock);

  // Error codes: INVALID_ARGUMENT (with a google.rpc.BadRequest payload
  // naming every field path), RESOURCE_EXHAUSTED (over a limit, with a
  // QuotaFailure payload), DEADLINE_EXCEEDED / CANCELLED (see CallContext),
  // INTERNAL (a bug).
  // Bytes that are not the request in the protobuf wire format get
  // INVALID_ARGUMENT too (without a BadRequest payload).
  absl::StatusOr<v1::DecideResponse> Decide(const RequestBytes& request,
                                            const CallContext& call) const;
  absl::StatusOr<v1::ExplainResponse> Explain(const RequestBytes& request,
                                              const CallContext& call) const;
  // OK with the violations listed in the response (never INVALID_ARGUMENT
  // for a well-formed request); RESOURCE_EXHAUSTED over a limit.
  absl::StatusOr<v1::ValidateResponse> Validate(const RequestBytes& request,
                                                const CallContext& call) const;

  // The same for a parsed request (serialized, then read as above: one
  // code path). For tests and in-process callers.
  absl::StatusOr<v1::DecideResponse> Decide(const v1::DecideRequest& request,
                                            const CallContext& call) const;
  absl::StatusOr<v1::ExplainResponse> Explain(const v1::ExplainRequest& request,
                                              const CallContext& call) const;
  absl::StatusOr<v1::ValidateResponse> Validate(
      const v1::ValidateRequest& request, const CallContext& call) const;
  absl::StatusOr<v1::FilterResponse> Filter(const v1::FilterRequest& request,
                                            const CallContext& call) const;

 private:
  ServiceOptions options_;
  std::function<absl::Time()> clock_;
};

}  // namespace dsd::service

#endif  // DSD_SERVER_SERVICE_SCHEDULER_SERVICE_H_
