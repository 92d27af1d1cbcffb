#include "client/common/connection.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>
#include <system_error>
#include <utility>

#include "absl/status/status.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace dsd::client {
namespace {

// The contents of a regular file, or an error ("not a regular file",
// "cannot read: No such file or directory").
bool ReadRegularFile(const std::string& path, std::string& out,
                     std::string& error) {
  std::error_code ec;
  const std::filesystem::file_status status = std::filesystem::status(path, ec);
  if (ec) {
    error = "cannot read: " + ec.message();
    return false;
  }
  if (!std::filesystem::is_regular_file(status)) {
    error = "not a regular file";
    return false;
  }
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = std::string("cannot read: ") +
            (errno != 0 ? std::strerror(errno) : "open failed");
    return false;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) {
    error = "cannot read";
    return false;
  }
  out = buffer.str();
  return true;
}

// Reads one TLS flag's file into `out`; "" or the message naming the flag.
// `marker` must occur in it: an empty or non-PEM --tls_ca would otherwise
// make gRPC trust the system's roots instead.
std::string ReadPem(std::string_view flag, const std::string& path,
                    std::string_view marker, std::string_view what,
                    std::string& out) {
  std::string error;
  if (!ReadRegularFile(path, out, error)) {
    return std::string(flag) + " " + path + ": " + error;
  }
  if (out.find(marker) == std::string::npos) {
    return std::string(flag) + " " + path + ": holds no PEM " +
           std::string(what);
  }
  return "";
}

struct TlsFiles {
  std::string ca;
  std::string cert;
  std::string key;
};

std::string ReadTlsFiles(const ConnectionOptions& o, TlsFiles& files) {
  if (o.tls_key.empty() != o.tls_cert.empty()) {
    return o.tls_key.empty()
               ? "--tls_cert " + o.tls_cert +
                     " given without --tls_key (its private key)"
               : "--tls_key " + o.tls_key +
                     " given without --tls_cert (the certificate it "
                     "belongs to)";
  }
  if (!o.tls_ca.empty()) {
    std::string e = ReadPem("--tls_ca", o.tls_ca, "-----BEGIN CERTIFICATE",
                            "certificate", files.ca);
    if (!e.empty()) return e;
  }
  if (!o.tls_cert.empty()) {
    std::string e = ReadPem("--tls_cert", o.tls_cert, "-----BEGIN CERTIFICATE",
                            "certificate", files.cert);
    if (!e.empty()) return e;
    e = ReadPem("--tls_key", o.tls_key, "PRIVATE KEY-----", "private key",
                files.key);
    if (!e.empty()) return e;
  }
  return "";
}

}  // namespace

std::string CheckTlsFlags(const ConnectionOptions& options) {
  TlsFiles files;
  return ReadTlsFiles(options, files);
}

std::shared_ptr<grpc::ChannelCredentials> Credentials(
    const ConnectionOptions& options, std::string& error) {
  if (options.tls_ca.empty() && options.tls_cert.empty() &&
      options.tls_key.empty()) {
    return grpc::InsecureChannelCredentials();
  }
  TlsFiles files;
  error = ReadTlsFiles(options, files);
  if (!error.empty()) return nullptr;
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = std::move(files.ca);
  ssl.pem_cert_chain = std::move(files.cert);
  ssl.pem_private_key = std::move(files.key);
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
  // round_robin rather than gRPC's default pick_first: with a dns:///
  // target naming a headless Service (or an ipv4:A,B list) every call goes
  // to the next ready address, so dsd-server's replicas share the load.
  args.SetLoadBalancingPolicyName("round_robin");
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  // gRPC's reconnect backoff grows to 120 s by default; a dsd-server that
  // restarts in a second would then stay unreachable for up to two
  // minutes. Calls made meanwhile fail at once (UNAVAILABLE), and no call
  // shortens the wait. An attempt costs one refused connect: cap it at 2 s.
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  c.channel = grpc::CreateCustomChannel(options.server, credentials, args);
  c.stub = v1::DaemonSetScheduler::NewStub(c.channel);
  return c;
}

ChannelKeeper::ChannelKeeper(std::shared_ptr<grpc::Channel> channel)
    : channel_(std::move(channel)), thread_([this] {
        while (!stop_.load()) {
          // Waiting for a change polls the channel; true: an idle channel
          // connects.
          channel_->WaitForStateChange(channel_->GetState(true),
                                       std::chrono::system_clock::now() +
                                           std::chrono::milliseconds(100));
        }
      }) {}

ChannelKeeper::~ChannelKeeper() {
  stop_.store(true);
  thread_.join();
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
    google::rpc::QuotaFailure quota;
    if (any.UnpackTo(&bad)) {
      for (const auto& v : bad.field_violations()) {
        out.emplace_back(v.field(), v.description());
      }
    } else if (any.UnpackTo(&quota)) {
      for (const auto& v : quota.violations()) {
        out.emplace_back(v.subject(), v.description());
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
