// Every RPC goes through one Handle(): start metrics, then Run() inline or
// on the worker pool: the service, the log line, metrics, and
// Finish(ToGrpcStatus(...)).
#include "server/transport/grpc_service.h"

#include <chrono>
#include <string>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/time/time.h"
#include "google/rpc/error_details.pb.h"
#include "server/common/logging.h"
#include "server/transport/status.h"

namespace dsd::transport {
namespace {

// What the debug line reports about a request (never its contents).
struct RequestCounts {
  int nodes = 0;
  int pods = 0;
  int daemon_sets = 0;
};

RequestCounts SnapshotCounts(const v1::Snapshot& snapshot) {
  return {snapshot.nodes_size(), snapshot.pods_size(),
          snapshot.daemon_sets_size()};
}
RequestCounts Counts(const v1::DecideRequest& r) {
  return SnapshotCounts(r.snapshot());
}
RequestCounts Counts(const v1::ExplainRequest& r) {
  return SnapshotCounts(r.snapshot());
}
RequestCounts Counts(const v1::ValidateRequest& r) {
  return SnapshotCounts(r.snapshot());
}
RequestCounts Counts(const v1::FilterRequest& r) {
  return {r.nodes_size(), 0, r.has_daemon_set() ? 1 : 0};
}

std::string TypeUrl(const google::protobuf::Descriptor& descriptor) {
  return "type.googleapis.com/" + descriptor.full_name();
}

// The first offending field path (BadRequest) or quota subject
// (QuotaFailure) and how many there are; "-" and 0 without such a payload.
struct FirstViolation {
  std::string field = "-";
  int count = 0;
};

FirstViolation FindFirstViolation(const absl::Status& status) {
  FirstViolation out;
  if (auto payload =
          status.GetPayload(TypeUrl(*google::rpc::BadRequest::descriptor()))) {
    google::rpc::BadRequest details;
    if (details.ParseFromString(std::string(*payload)) &&
        details.field_violations_size() > 0) {
      out.field = details.field_violations(0).field();
      out.count = details.field_violations_size();
    }
  } else if (auto quota = status.GetPayload(
                 TypeUrl(*google::rpc::QuotaFailure::descriptor()))) {
    google::rpc::QuotaFailure details;
    if (details.ParseFromString(std::string(*quota)) &&
        details.violations_size() > 0) {
      out.field = details.violations(0).subject();
      out.count = details.violations_size();
    }
  }
  return out;
}

}  // namespace

GrpcService::GrpcService(const service::SchedulerService& service,
                         Metrics& metrics, WorkerPool* workers)
    : service_(service),
      metrics_(metrics),
      workers_(workers),
      log_(logging::Logger(logging::kTransportLogger)) {}

template <typename Request, typename Response>
grpc::ServerUnaryReactor* GrpcService::Handle(
    Method method, ServiceMethod<Request, Response> handler,
    grpc::CallbackServerContext* context, const Request* request,
    Response* response) {
  metrics_.CallStarted();
  const auto start = std::chrono::steady_clock::now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (workers_ == nullptr) {
    Run(method, handler, context, request, response, reactor, start);
  } else {
    // An explicit `self` rather than a captured `this`: GCC's
    // -fsanitize=vptr checks the closure instead of the captured pointer.
    workers_->Submit([self = this, method, handler, context, request, response,
                      reactor, start] {
      self->Run(method, handler, context, request, response, reactor, start);
    });
  }
  return reactor;
}

template <typename Request, typename Response>
void GrpcService::Run(Method method, ServiceMethod<Request, Response> handler,
                      grpc::CallbackServerContext* context,
                      const Request* request, Response* response,
                      grpc::ServerUnaryReactor* reactor,
                      std::chrono::steady_clock::time_point start) {
  const service::CallContext call{[context] {
    return context->IsCancelled() ||
           std::chrono::system_clock::now() >= context->deadline();
  }};
  absl::StatusOr<Response> result = (service_.*handler)(*request, call);
  const absl::Status status = result.status();
  if (status.ok()) *response = *std::move(result);
  grpc::Status grpc_status = ToGrpcStatus(status);

  const uint64_t request_bytes = request->ByteSizeLong();
  const absl::Duration duration =
      absl::FromChrono(std::chrono::steady_clock::now() - start);
  const grpc::StatusCode code = grpc_status.error_code();
  if (log_->should_log(spdlog::level::debug)) {
    const RequestCounts counts = Counts(*request);
    log_->debug(
        "rpc method={} code={} duration_ms={:.3f} request_bytes={} "
        "nodes={} pods={} daemon_sets={}",
        MethodName(method), CodeName(code),
        absl::ToDoubleMilliseconds(duration), request_bytes, counts.nodes,
        counts.pods, counts.daemon_sets);
  }
  if (code == grpc::StatusCode::INVALID_ARGUMENT ||
      code == grpc::StatusCode::RESOURCE_EXHAUSTED) {
    const FirstViolation first = FindFirstViolation(status);
    log_->warn("rpc method={} rejected code={} field={} violations={}",
               MethodName(method), CodeName(code), first.field, first.count);
  } else if (code == grpc::StatusCode::INTERNAL) {
    log_->error(
        "rpc method={} code=INTERNAL (a dsd bug): {}", MethodName(method),
        std::string_view(status.message().data(), status.message().size()));
  }
  metrics_.CallFinished(method, code, duration, request_bytes);
  // The last touch of request and response: gRPC frees them afterwards.
  reactor->Finish(std::move(grpc_status));
}

grpc::ServerUnaryReactor* GrpcService::Decide(
    grpc::CallbackServerContext* context, const v1::DecideRequest* request,
    v1::DecideResponse* response) {
  return Handle(Method::kDecide, &service::SchedulerService::Decide, context,
                request, response);
}

grpc::ServerUnaryReactor* GrpcService::Explain(
    grpc::CallbackServerContext* context, const v1::ExplainRequest* request,
    v1::ExplainResponse* response) {
  return Handle(Method::kExplain, &service::SchedulerService::Explain, context,
                request, response);
}

grpc::ServerUnaryReactor* GrpcService::Validate(
    grpc::CallbackServerContext* context, const v1::ValidateRequest* request,
    v1::ValidateResponse* response) {
  return Handle(Method::kValidate, &service::SchedulerService::Validate,
                context, request, response);
}

grpc::ServerUnaryReactor* GrpcService::Filter(
    grpc::CallbackServerContext* context, const v1::FilterRequest* request,
    v1::FilterResponse* response) {
  return Handle(Method::kFilter, &service::SchedulerService::Filter, context,
                request, response);
}

}  // namespace dsd::transport
