// The gRPC adapter for dsd.v1.DaemonSetScheduler (callback API): each unary
// method runs the proto-level service::SchedulerService and finishes the
// call with ToGrpcStatus. Also the per-request log line and metrics. No
// decision logic lives here.
#ifndef DSD_SERVER_TRANSPORT_GRPC_SERVICE_H_
#define DSD_SERVER_TRANSPORT_GRPC_SERVICE_H_

#include <chrono>
#include <memory>

#include "dsd/v1/dsd.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "server/service/scheduler_service.h"
#include "server/transport/metrics.h"
#include "server/transport/worker_pool.h"
#include "spdlog/logger.h"

namespace dsd::transport {

// Thread-safe; one instance serves every call. `service` and `metrics` (and
// `workers`, when given) must outlive the grpc::Server it is registered
// with. With `workers` null the service runs on gRPC's callback thread;
// otherwise each call is queued to `workers`.
//
// Every call's service::CallContext reports cancelled once the client
// cancelled or the call's deadline passed, so the service stops early with
// DEADLINE_EXCEEDED. Logs (logger "transport"): one debug line per call;
// warn for INVALID_ARGUMENT and RESOURCE_EXHAUSTED naming the first field
// path (or quota subject); error for INTERNAL.
class GrpcService final : public v1::DaemonSetScheduler::CallbackService {
 public:
  GrpcService(const service::SchedulerService& service, Metrics& metrics,
              WorkerPool* workers);

  grpc::ServerUnaryReactor* Decide(grpc::CallbackServerContext* context,
                                   const v1::DecideRequest* request,
                                   v1::DecideResponse* response) override;
  grpc::ServerUnaryReactor* Explain(grpc::CallbackServerContext* context,
                                    const v1::ExplainRequest* request,
                                    v1::ExplainResponse* response) override;
  grpc::ServerUnaryReactor* Validate(grpc::CallbackServerContext* context,
                                     const v1::ValidateRequest* request,
                                     v1::ValidateResponse* response) override;
  grpc::ServerUnaryReactor* Filter(grpc::CallbackServerContext* context,
                                   const v1::FilterRequest* request,
                                   v1::FilterResponse* response) override;

 private:
  template <typename Request, typename Response>
  using ServiceMethod = absl::StatusOr<Response> (service::SchedulerService::*)(
      const Request&, const service::CallContext&) const;

  template <typename Request, typename Response>
  grpc::ServerUnaryReactor* Handle(Method method,
                                   ServiceMethod<Request, Response> handler,
                                   grpc::CallbackServerContext* context,
                                   const Request* request, Response* response);

  // The body of a call after Handle accepted it; ends with Finish.
  template <typename Request, typename Response>
  void Run(Method method, ServiceMethod<Request, Response> handler,
           grpc::CallbackServerContext* context, const Request* request,
           Response* response, grpc::ServerUnaryReactor* reactor,
           std::chrono::steady_clock::time_point start);

  const service::SchedulerService& service_;
  Metrics& metrics_;
  WorkerPool* workers_;
  std::shared_ptr<spdlog::logger> log_;
};

}  // namespace dsd::transport

#endif  // DSD_SERVER_TRANSPORT_GRPC_SERVICE_H_
