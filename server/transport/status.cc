// absl::Status -> grpc::Status, as the Cloud Spanner emulator's
// frontend/common/status.cc does: codes 1:1, a bounded message, payloads as
// google.rpc.Status details so clients read them with the standard
// google.rpc error model.
#include "server/transport/status.h"

#include <string>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/string_view.h"
#include "google/rpc/status.pb.h"

namespace dsd::transport {
namespace {

constexpr std::string_view kEllipsis = "...";

// The largest code google.rpc.Code defines (UNAUTHENTICATED).
constexpr int kLastCode = 16;

grpc::StatusCode ToGrpcCode(absl::StatusCode code) {
  const int value = static_cast<int>(code);
  // absl::StatusCode and grpc::StatusCode both follow google.rpc.Code.
  if (value < 0 || value > kLastCode) return grpc::StatusCode::UNKNOWN;
  return static_cast<grpc::StatusCode>(value);
}

// Cuts `message` to kMaxStatusMessageBytes without splitting a UTF-8
// sequence (continuation bytes are 10xxxxxx).
std::string TruncateMessage(absl::string_view message) {
  if (message.size() <= kMaxStatusMessageBytes) return std::string(message);
  size_t end = kMaxStatusMessageBytes - kEllipsis.size();
  while (end > 0 && (static_cast<unsigned char>(message[end]) & 0xc0) == 0x80) {
    --end;
  }
  std::string out(message.substr(0, end));
  out.append(kEllipsis);
  return out;
}

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const grpc::StatusCode code = ToGrpcCode(status.code());
  std::string message = TruncateMessage(status.message());

  google::rpc::Status details;
  details.set_code(static_cast<int>(code));
  details.set_message(message);
  status.ForEachPayload(
      [&details](absl::string_view type_url, const absl::Cord& payload) {
        google::protobuf::Any& any = *details.add_details();
        any.set_type_url(std::string(type_url));
        any.set_value(std::string(payload));
      });
  if (details.ByteSizeLong() > kMaxStatusDetailsBytes) {
    details.clear_details();  // see kMaxStatusDetailsBytes
  }
  return grpc::Status(code, message, details.SerializeAsString());
}

std::string CodeName(int code) {
  // grpc::StatusCode and absl::StatusCode both number google.rpc.Code.
  std::string name =
      absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
  return name.empty() ? "UNKNOWN" : name;
}

}  // namespace dsd::transport
