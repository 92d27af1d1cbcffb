#include "client/dsdctl/connection.h"

#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace dsd::client {
namespace {

bool ReadFile(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  out = buffer.str();
  return true;
}

}  // namespace

std::shared_ptr<grpc::ChannelCredentials> Credentials(
    const ConnectionOptions& options, std::string& error) {
  if (options.tls_ca.empty() && options.tls_cert.empty()) {
    return grpc::InsecureChannelCredentials();
  }
  grpc::SslCredentialsOptions ssl;
  if (!options.tls_ca.empty() &&
      !ReadFile(options.tls_ca, ssl.pem_root_certs)) {
    error = "cannot read --tls_ca " + options.tls_ca;
    return nullptr;
  }
  if (options.tls_cert.empty() != options.tls_key.empty()) {
    error = "--tls_cert and --tls_key go together";
    return nullptr;
  }
  if (!options.tls_cert.empty() &&
      (!ReadFile(options.tls_cert, ssl.pem_cert_chain) ||
       !ReadFile(options.tls_key, ssl.pem_private_key))) {
    error = "cannot read --tls_cert/--tls_key";
    return nullptr;
  }
  return grpc::SslCredentials(ssl);
}

std::string StatusCodeName(grpc::StatusCode code) {
  // grpc::StatusCode and absl::StatusCode both number google.rpc.Code.
  std::string name =
      absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
  return name.empty() ? std::to_string(static_cast<int>(code)) : name;
}

Connection Connect(const ConnectionOptions& options) {
  Connection c;
  const std::shared_ptr<grpc::ChannelCredentials> credentials =
      Credentials(options, c.error);
  if (credentials == nullptr) return c;
  grpc::ChannelArguments args;
  args.SetLoadBalancingPolicyName("round_robin");
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  c.stub = v1::DaemonSetScheduler::NewStub(
      grpc::CreateCustomChannel(options.server, credentials, args));
  return c;
}

void ApplyDeadline(const ConnectionOptions& options,
                   grpc::ClientContext& context) {
  if (options.timeout_seconds <= 0) return;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::microseconds(static_cast<int64_t>(
                           options.timeout_seconds * 1e6)));
}

std::vector<std::pair<std::string, std::string>> FieldViolations(
    const grpc::Status& status) {
  std::vector<std::pair<std::string, std::string>> out;
  google::rpc::Status details;
  if (status.error_details().empty() ||
      !details.ParseFromString(status.error_details())) {
    return out;
  }
  for (const auto& any : details.details()) {
    google::rpc::BadRequest bad;
    if (any.UnpackTo(&bad)) {
      for (const auto& v : bad.field_violations()) {
        out.emplace_back(v.field(), v.description());
      }
    }
  }
  return out;
}

std::string DescribeCallError(const ConnectionOptions& options,
                              const grpc::Status& status) {
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      return "cannot reach dsd-server at " + options.server + ": " +
             status.error_message() +
             ". Is it running? Start one with `make run`, or pass "
             "--server HOST:PORT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "dsd-server at " + options.server + " did not answer within " +
             std::to_string(options.timeout_seconds) +
             " s (--timeout): " + status.error_message();
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "dsd-server at " + options.server +
             " refused the request as too large: " + status.error_message() +
             ". Split the input or raise the server's --max_request_bytes "
             "/ --max_* limits";
    default:
      return "dsd-server at " + options.server + " answered " +
             StatusCodeName(status.error_code()) + ": " +
             status.error_message();
  }
}

}  // namespace dsd::client
