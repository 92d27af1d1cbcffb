// Every RPC arrives on the completion queue (Poll), asks for its method's
// next call, and goes through one Handle(): start metrics, admit its bytes,
// then Run() on the worker pool: the service, the code its client sees
// (Outcome), the log line, metrics, and Finish(ToGrpcStatus(...)). Every
// method is raw: Decide, Explain and Validate are read by the service (see
// convert/wire.h), Filter is parsed here.
#include "server/transport/grpc_service.h"

#include <malloc.h>

#include <chrono>
#include <limits>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/rpc/error_details.pb.h"
#include "server/common/handoff.h"
#include "server/common/logging.h"
#include "server/convert/errors.h"
#include "server/transport/request_bytes.h"
#include "server/transport/status.h"

namespace dsd::transport {
namespace {

using ::dsd::common::HandOff;
using ::dsd::common::TakeOver;

// How close to its deadline a cancelled call counts as DEADLINE_EXCEEDED
// (see Outcome): the request's one-way latency, generously.
constexpr std::chrono::milliseconds kDeadlineSlack{250};

// Requests above this size trim the heap once they are done.
constexpr uint64_t kTrimAfterBytes = 8u << 20;

// A service method reading a raw request's bytes.
template <typename Response>
using RawMethod = absl::StatusOr<Response> (service::SchedulerService::*)(
    const service::RequestBytes&, const service::CallContext&) const;

// Serializes a service result into the raw response.
template <typename Response>
absl::Status Serialize(const absl::StatusOr<Response>& result,
                       grpc::ByteBuffer& out) {
  if (!result.ok()) return result.status();
  bool own_buffer = false;
  const grpc::Status st = grpc::SerializationTraits<Response>::Serialize(
      *result, &out, &own_buffer);
  if (!st.ok()) return absl::InternalError("serializing the response failed");
  return absl::OkStatus();
}

std::string_view MessageOf(const absl::Status& status) {
  return std::string_view(status.message().data(), status.message().size());
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

struct GrpcService::Call {
  // What a completion-queue tag is: which call, and which of its events.
  enum class Kind { kArrived, kFinished, kDone };
  struct Event {
    Call* call;
    Kind kind;
  };

  // Counts the call among the service's (AwaitCalls) from before its other
  // members are built until after they are gone: it is declared first.
  class Counted {
   public:
    explicit Counted(GrpcService& service) : service_(service) {
      std::lock_guard<std::mutex> lock(service_.calls_mu_);
      ++service_.calls_;
    }
    ~Counted() {
      std::lock_guard<std::mutex> lock(service_.calls_mu_);
      if (--service_.calls_ == 0) service_.calls_ended_.notify_all();
    }
    Counted(const Counted&) = delete;
    Counted& operator=(const Counted&) = delete;

   private:
    GrpcService& service_;
  };

  Call(GrpcService& owner, Method called)
      : counted(owner), service(owner), method(called) {}

  Counted counted;
  GrpcService& service;
  const Method method;
  grpc::ServerContext context;
  grpc::ByteBuffer request;
  grpc::ByteBuffer response;
  grpc::ServerAsyncResponseWriter<grpc::ByteBuffer> responder{&context};
  // Set by the kDone event: gRPC reports the call cancelled (its client
  // cancelled it, its deadline passed, or the server shut it down).
  std::atomic<bool> cancelled{false};
  // Events still to come once the call arrived (kFinished and kDone); the
  // last one deletes the call.
  std::atomic<int> pending{2};
  Event arrived{this, Kind::kArrived};
  Event finished{this, Kind::kFinished};
  Event done{this, Kind::kDone};
};

GrpcService::GrpcService(const service::SchedulerService& service,
                         Metrics& metrics, WorkerPool& workers,
                         uint64_t max_request_bytes_in_flight)
    : service_(service),
      metrics_(metrics),
      workers_(workers),
      cancel_at_unix_nanos_(std::numeric_limits<int64_t>::max()),
      max_request_bytes_in_flight_(max_request_bytes_in_flight),
      log_(logging::Logger(logging::kTransportLogger)) {}

bool GrpcService::Admit(uint64_t bytes) {
  uint64_t held = request_bytes_in_flight_.load();
  do {
    if (max_request_bytes_in_flight_ != 0 && held != 0 &&
        held + bytes > max_request_bytes_in_flight_) {
      return false;
    }
  } while (!request_bytes_in_flight_.compare_exchange_weak(held, held + bytes));
  metrics_.RequestBytesAdmitted(static_cast<int64_t>(bytes));
  return true;
}

void GrpcService::CancelCallsAt(absl::Time deadline) {
  const int64_t nanos = absl::ToUnixNanos(deadline);
  int64_t current = cancel_at_unix_nanos_.load();
  while (nanos < current &&
         !cancel_at_unix_nanos_.compare_exchange_weak(current, nanos)) {
  }
}

bool GrpcService::Cancelled(const Call& call) const {
  const auto now = std::chrono::system_clock::now();
  return call.cancelled.load() || now >= call.context.deadline() ||
         absl::ToUnixNanos(absl::FromChrono(now)) >=
             cancel_at_unix_nanos_.load(std::memory_order_relaxed);
}

absl::Status GrpcService::Outcome(const Call& call, absl::Status status) const {
  const auto now = std::chrono::system_clock::now();
  if (now >= call.context.deadline()) {
    // The client's own timer has answered DEADLINE_EXCEEDED already.
    if (status.code() == absl::StatusCode::kDeadlineExceeded) return status;
    return absl::DeadlineExceededError(
        "the call's deadline passed before dsd-server answered");
  }
  if (absl::ToUnixNanos(absl::FromChrono(now)) >=
      cancel_at_unix_nanos_.load(std::memory_order_relaxed)) {
    return absl::UnavailableError(
        "dsd-server is shutting down and the call did not finish within its "
        "grace period; retry on another replica");
  }
  if (call.cancelled.load()) {
    // A client whose deadline passes cancels the call (RST_STREAM) and
    // reports DEADLINE_EXCEEDED. Our deadline is a little later than the
    // client's (it runs from the request's arrival), so a cancellation
    // this close to it is the client's timer, not its user.
    if (call.context.deadline() - now < kDeadlineSlack) {
      return absl::DeadlineExceededError(
          "the call's deadline passed before dsd-server answered");
    }
    return absl::CancelledError("the client cancelled the call");
  }
  return status;
}

void GrpcService::Start(grpc::ServerCompletionQueue* cq) {
  for (const Method method : {Method::kDecide, Method::kExplain,
                              Method::kValidate, Method::kFilter}) {
    Request(method, cq);
  }
}

void GrpcService::Request(Method method, grpc::ServerCompletionQueue* cq) {
  auto* call = new Call(*this, method);
  // Asked before the call is: its kDone event comes once it has arrived.
  call->context.AsyncNotifyWhenDone(&call->done);
  // After the last write before gRPC has the call: at shutdown another
  // polling thread may delete it as soon as it is requested.
  HandOff();
  auto* const tag = &call->arrived;
  switch (method) {
    case Method::kDecide:
      RequestDecide(&call->context, &call->request, &call->responder, cq, cq,
                    tag);
      break;
    case Method::kExplain:
      RequestExplain(&call->context, &call->request, &call->responder, cq, cq,
                     tag);
      break;
    case Method::kValidate:
      RequestValidate(&call->context, &call->request, &call->responder, cq, cq,
                      tag);
      break;
    case Method::kFilter:
    default:
      RequestFilter(&call->context, &call->request, &call->responder, cq, cq,
                    tag);
      break;
  }
}

void GrpcService::StopRequesting() { requesting_.store(false); }

void GrpcService::AwaitCalls() {
  std::unique_lock<std::mutex> lock(calls_mu_);
  calls_ended_.wait(lock, [this] { return calls_ == 0; });
}

void GrpcService::Poll(grpc::ServerCompletionQueue* cq) {
  void* tag = nullptr;
  bool ok = false;
  while (cq->Next(&tag, &ok)) {
    TakeOver();
    const auto* event = static_cast<const Call::Event*>(tag);
    Call* call = event->call;
    switch (event->kind) {
      case Call::Kind::kArrived:
        // Not ok: the server is shutting down and no call came (nor will
        // its other events).
        if (!ok) {
          delete call;
          break;
        }
        if (call->service.requesting_.load()) {
          call->service.Request(call->method, cq);
        }
        call->service.Accept(call);
        break;
      case Call::Kind::kDone:
        call->cancelled.store(call->context.IsCancelled());
        [[fallthrough]];
      case Call::Kind::kFinished:  // not ok: the client had gone
        if (call->pending.fetch_sub(1) == 1) delete call;
        break;
    }
  }
}

namespace {

// The body of a raw method: `handler` on the request's slices, its response
// serialized into `response`.
template <typename Response>
std::function<absl::Status(const service::CallContext&)> RawBody(
    const service::SchedulerService& service, RawMethod<Response> handler,
    std::shared_ptr<RequestSlices> slices, grpc::ByteBuffer& response) {
  return [&service, handler, slices = std::move(slices),
          &response](const service::CallContext& call) {
    return Serialize((service.*handler)(BytesOf(slices), call), response);
  };
}

}  // namespace

void GrpcService::Accept(Call* call) {
  // The request's slices are taken over so that the service can free them
  // as it reads them.
  auto slices = std::make_shared<RequestSlices>(call->request);
  const uint64_t request_bytes = slices->size();
  Body body;
  switch (call->method) {
    case Method::kDecide:
      body = RawBody(service_, &service::SchedulerService::Decide,
                     std::move(slices), call->response);
      break;
    case Method::kExplain:
      body = RawBody(service_, &service::SchedulerService::Explain,
                     std::move(slices), call->response);
      break;
    case Method::kValidate:
      body = RawBody(service_, &service::SchedulerService::Validate,
                     std::move(slices), call->response);
      break;
    case Method::kFilter:
    default:
      body = [&service = service_, slices = std::move(slices),
              &response = call->response](const service::CallContext& context) {
        // Filter requests are small: parsed whole, as protobuf would.
        v1::FilterRequest parsed;
        if (!parsed.ParseFromZeroCopyStream(
                slices->Open(/*release=*/false).get())) {
          return absl::InvalidArgumentError(
              "the request is not a dsd.v1.FilterRequest in the protobuf "
              "wire format (truncated or corrupt bytes)");
        }
        slices->Clear();
        *context.counts = {parsed.nodes_size(), 0,
                           parsed.has_daemon_set() ? 1 : 0};
        return Serialize(service.Filter(parsed, context), response);
      };
      break;
  }
  Handle(call, request_bytes, std::move(body));
}

void GrpcService::Handle(Call* call, uint64_t request_bytes, Body body) {
  metrics_.CallStarted();
  const auto start = std::chrono::steady_clock::now();
  if (!Admit(request_bytes)) {
    // Answered here, at once: queueing it would hold its bytes too.
    const uint64_t limit = max_request_bytes_in_flight_;
    Run(
        call, request_bytes,
        [request_bytes, limit](const service::CallContext&) {
          return convert::LimitExceeded(
              "request_bytes_in_flight",
              absl::StrCat("this request's ", request_bytes,
                           " bytes do not fit in what "
                           "--max_request_bytes_in_flight=",
                           limit,
                           " leaves beside the requests being handled; "
                           "retry later or on another replica"));
        },
        start, 0);
    return;
  }
  // An explicit `self` rather than a captured `this`: GCC's
  // -fsanitize=vptr checks the closure instead of the captured pointer.
  workers_.Submit(
      [self = this, call, request_bytes, body = std::move(body), start] {
        self->Run(call, request_bytes, body, start, request_bytes);
      });
}

void GrpcService::Run(Call* call, uint64_t request_bytes, const Body& body,
                      std::chrono::steady_clock::time_point start,
                      uint64_t held_bytes) {
  const Method method = call->method;
  service::RequestCounts counts;
  const service::CallContext call_context{
      [self = this, call] { return self->Cancelled(*call); }, &counts};
  // A call that waited in the queue past its deadline (or the drain's) is
  // answered without running: its client has given up.
  const absl::Status status = Outcome(
      *call, Cancelled(*call)
                 ? absl::DeadlineExceededError(
                       "the call's deadline passed (or it was cancelled) "
                       "before a worker took it; not started")
                 : body(call_context));
  grpc::Status grpc_status = ToGrpcStatus(status);

  const absl::Duration duration =
      absl::FromChrono(std::chrono::steady_clock::now() - start);
  const grpc::StatusCode code = grpc_status.error_code();
  if (log_->should_log(spdlog::level::debug)) {
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
    if (first.count > 0) {
      // The path quotes the client's map keys: sanitized.
      log_->warn("rpc method={} rejected code={} field={} violations={}",
                 MethodName(method), CodeName(code),
                 logging::Sanitize(first.field), first.count);
    } else {  // e.g. bytes that are no request
      log_->warn("rpc method={} rejected code={}: {}", MethodName(method),
                 CodeName(code), logging::Sanitize(MessageOf(status)));
    }
  } else if (code == grpc::StatusCode::INTERNAL) {
    log_->error("rpc method={} code=INTERNAL (a dsd bug): {}",
                MethodName(method), logging::Sanitize(MessageOf(status)));
  }
  if (held_bytes > 0) {
    request_bytes_in_flight_.fetch_sub(held_bytes);
    metrics_.RequestBytesAdmitted(-static_cast<int64_t>(held_bytes));
  }
  metrics_.CallFinished(method, code, duration, request_bytes);
  // The last touch of request and response: the call may be deleted (by a
  // polling thread) as soon as Finish has queued its answer.
  HandOff();
  if (grpc_status.ok()) {
    call->responder.Finish(call->response, grpc_status, &call->finished);
  } else {
    call->responder.FinishWithError(grpc_status, &call->finished);
  }
  // What a large request leaves free inside the heap goes back to the
  // system once no other call runs: otherwise the next one's peak sits on
  // top of it. Under load the next request reuses the memory instead, and
  // a trim would only make it fault the pages in again.
  if (request_bytes > kTrimAfterBytes && metrics_.InFlight() == 0) {
    malloc_trim(0);
  }
}

namespace {

// Finishes at once with UNIMPLEMENTED (operations started in the
// constructor run once gRPC has bound the reactor).
class UnimplementedReactor final : public grpc::ServerGenericBidiReactor {
 public:
  explicit UnimplementedReactor(const std::string& method) {
    Finish(ToGrpcStatus(absl::UnimplementedError(
        absl::StrCat("dsd-server has no method ", method))));
  }
  void OnDone() override { delete this; }
};

}  // namespace

UnknownMethodService::UnknownMethodService(Metrics& metrics)
    : metrics_(metrics), log_(logging::Logger(logging::kTransportLogger)) {}

grpc::ServerGenericBidiReactor* UnknownMethodService::CreateReactor(
    grpc::GenericCallbackServerContext* context) {
  metrics_.CallStarted();
  log_->debug("rpc method=unknown code=UNIMPLEMENTED path={}",
              logging::Sanitize(context->method()));
  metrics_.CallFinished(Method::kUnknown, grpc::StatusCode::UNIMPLEMENTED,
                        absl::ZeroDuration(), 0);
  return new UnimplementedReactor(context->method());
}

}  // namespace dsd::transport
