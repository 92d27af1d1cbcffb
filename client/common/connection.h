// How a client program reaches dsd-server: target, TLS/mTLS, deadline, and the
// one place gRPC errors become messages a person can act on.
#ifndef DSD_CLIENT_COMMON_CONNECTION_H_
#define DSD_CLIENT_COMMON_CONNECTION_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "dsd/v1/dsd.grpc.pb.h"

namespace dsd::client {

struct ConnectionOptions {
  // host:port, or dns:///host:port (several replicas, round_robin).
  std::string server = "127.0.0.1:50051";
  double timeout_seconds = 30;  // per call; 0 = no deadline
  // TLS is on when any of the three is set. The CA that signed the
  // server's certificate (empty: the system's roots).
  std::string tls_ca;
  // Mutual TLS: the client's certificate and key (PEM files, both or
  // neither).
  std::string tls_cert;
  std::string tls_key;
};

// Whether the TLS flags can be used: "" when they can (or none is set);
// otherwise one message naming the flag as typed, e.g. "--tls_key
// /k.pem given without --tls_cert" or "--tls_ca /etc: not a regular
// file". Each file must be a readable regular file holding a PEM block of
// its kind (a certificate for --tls_ca and --tls_cert, a private key for
// --tls_key).
std::string CheckTlsFlags(const ConnectionOptions& options);

// Channel credentials for `options`: plaintext when no TLS flag is set,
// else TLS (mutual with a client certificate); nullptr with `error` set
// when CheckTlsFlags fails. Never falls back to plaintext.
std::shared_ptr<grpc::ChannelCredentials> Credentials(
    const ConnectionOptions& options, std::string& error);

// "UNAVAILABLE", "INVALID_ARGUMENT", ... (gRPC has no public name table).
std::string StatusCodeName(grpc::StatusCode code);

// A stub for `options`, or an error message (unreadable PEM files).
struct Connection {
  std::shared_ptr<grpc::Channel> channel;  // the stub's
  std::unique_ptr<v1::DaemonSetScheduler::Stub> stub;
  std::string error;
};
Connection Connect(const ConnectionOptions& options);

// Polls `channel` from a thread of its own while it lives, so that a
// reconnection is seen when it happens. Between calls nothing else
// polls a gRPC 1.51 channel but its backup poller, every 5 s: a connect
// attempt's outcome went unseen that long, and calls made meanwhile fail
// at once (UNAVAILABLE) without waiting. For programs that run for long
// and call now and then (dsd-adapter, dsd-extender). Keeps an idle
// channel connected.
class ChannelKeeper {
 public:
  explicit ChannelKeeper(std::shared_ptr<grpc::Channel> channel);
  ~ChannelKeeper();  // within about 100 ms
  ChannelKeeper(const ChannelKeeper&) = delete;
  ChannelKeeper& operator=(const ChannelKeeper&) = delete;

 private:
  const std::shared_ptr<grpc::Channel> channel_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Sets the deadline of `context` from the options.
void ApplyDeadline(const ConnectionOptions& options,
                   grpc::ClientContext& context);

// The field violations of a status (from its google.rpc.Status details),
// as (field, description) pairs: an INVALID_ARGUMENT's BadRequest, and a
// RESOURCE_EXHAUSTED's QuotaFailure, whose subject is the field path of
// what is over its limit (snapshot.pods[3].labels).
std::vector<std::pair<std::string, std::string>> FieldViolations(
    const grpc::Status& status);

// One line for a failed call that is not about the input: which address,
// what happened, and what to try.
std::string DescribeCallError(const ConnectionOptions& options,
                              const grpc::Status& status);

}  // namespace dsd::client

#endif  // DSD_CLIENT_COMMON_CONNECTION_H_
