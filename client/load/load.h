// The asynchronous gRPC load generator behind `dsdctl load`: one
// pre-serialized request sent over K channels with the callback API, in a
// closed loop (N calls in flight) or an open loop (a fixed rate, latency
// from the intended send time), with a progress line and a latency
// histogram. No flags and no printing of reports here (load_command.h).
#ifndef DSD_CLIENT_LOAD_LOAD_H_
#define DSD_CLIENT_LOAD_LOAD_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "client/common/connection.h"

namespace dsd::client {

// The RPC to load.
enum class LoadMethod {
  kDecide,    // dsd.v1.DaemonSetScheduler/Decide (a DecideRequest)
  kValidate,  // dsd.v1.DaemonSetScheduler/Validate (a ValidateRequest)
  kExplain,   // dsd.v1.DaemonSetScheduler/Explain (an ExplainRequest)
  kHealth,    // grpc.health.v1.Health/Check (empty: the server overall)
};

// "decide" | "validate" | "explain" | "health"; false for anything else.
bool ParseLoadMethod(std::string_view text, LoadMethod& out);
// The inverse of ParseLoadMethod.
const char* LoadMethodName(LoadMethod method);
// The gRPC method path, e.g. "/dsd.v1.DaemonSetScheduler/Decide".
const char* LoadMethodPath(LoadMethod method);

// How to send. Plain data with defaults; RunLoadGenerator's precondition is
// ValidateLoadOptions(options).ok().
struct LoadOptions {
  LoadMethod method = LoadMethod::kDecide;
  // Closed loop (rate == 0): calls kept in flight; each completion sends
  // the next one. >= 1.
  int concurrency = 8;
  // Open loop: calls per second, sent on schedule whatever the server
  // does. 0: closed loop.
  double rate = 0;
  // Open loop: a send due while this many calls are outstanding is dropped
  // (counted, not sent), which bounds the client's memory. >= 1.
  int max_in_flight = 10'000;
  // Length of the measured phase in seconds (> 0): no call is sent after
  // it; calls in flight then finish (or time out).
  double duration_seconds = 10;
  // Measured calls to send (dropped sends count); 0: no limit. The run
  // ends at whichever of this and duration_seconds comes first.
  int64_t requests = 0;
  // Separate connections (HTTP/2 connections), used round-robin. >= 1.
  int channels = 1;
  // Seconds of load before the measured phase, not reported. >= 0.
  double warmup_seconds = 0;
  // Deadline of each call in seconds; 0: none (in-flight calls are then
  // cancelled 30 s after the end).
  double timeout_seconds = 30;
  // A progress line every this many seconds; 0: none.
  double progress_interval_seconds = 1;
  // Rewrite the progress line in place ("\r", for a terminal) instead of
  // printing one line per interval.
  bool progress_in_place = false;
  // Stop the run when this many calls in a row answer UNAVAILABLE (the
  // server died or went away: going on would only count failures). >= 1.
  int max_consecutive_unavailable = 100;
};

// INVALID_ARGUMENT-style message naming the first bad option, or "".
std::string ValidateLoadOptions(const LoadOptions& options);

// Latency percentiles of the measured calls (errors included: a
// DEADLINE_EXCEEDED is the tail), in milliseconds. All 0 when no call
// completed. p50 <= p90 <= p99 <= p999 <= max.
struct LatencySummary {
  double p50 = 0;
  double p90 = 0;
  double p99 = 0;
  double p999 = 0;
  double max = 0;
};

// What a run measured. A call is measured when it was sent (or, in the
// open loop, due) after the warm-up.
struct LoadResult {
  int64_t requests = 0;  // measured calls completed: ok + errors
  int64_t ok = 0;
  std::map<std::string, int64_t> errors;  // status code name -> calls
  int64_t dropped = 0;  // open loop: sends skipped at max_in_flight
  // From the end of the warm-up until the last measured call completed.
  double duration_seconds = 0;
  double qps = 0;  // requests / duration_seconds
  LatencySummary latency_ms;
  int64_t request_bytes = 0;         // one serialized request
  int64_t response_bytes_total = 0;  // of the successful measured calls
  // CPU this process used during the run (user + system), to tell whether
  // the client, rather than the server, was the bottleneck.
  double client_cpu_seconds = 0;
  // The run ended early because the server is unusable: after a second,
  // no call had succeeded and every one failed with UNAVAILABLE; or
  // max_consecutive_unavailable calls in a row failed with UNAVAILABLE.
  bool stopped_unusable = false;
  // The longest run of consecutive UNAVAILABLE answers.
  int64_t max_consecutive_unavailable = 0;
  // The first failed call's status (OK when none failed).
  grpc::Status first_error;
};

// `count` channels to `connection.server`, each its own connection (a
// local subchannel pool and a distinct channel argument), with the
// connection's TLS settings and no message size limit. Empty with `error`
// set when the TLS files cannot be read.
std::vector<std::shared_ptr<grpc::Channel>> CreateLoadChannels(
    const ConnectionOptions& connection, int count, std::string& error);

// Connects every channel before the run (so connection set-up is not
// measured), waiting at most `timeout_seconds` (0: 10 s) in all. Returns
// how many are ready.
int ConnectLoadChannels(
    const std::vector<std::shared_ptr<grpc::Channel>>& channels,
    double timeout_seconds);

// Sends `request` (a serialized message of options.method's request type;
// copied once into a gRPC slice shared by every call) over `channels`
// (non-empty) until the duration or request limit, and waits for the calls
// in flight. Writes progress lines to `progress` when not null (and a final
// newline in place mode). Blocks; runs its own sender thread and gRPC's
// callback threads.
LoadResult RunLoadGenerator(
    const std::vector<std::shared_ptr<grpc::Channel>>& channels,
    const std::string& request, const LoadOptions& options,
    std::ostream* progress);

}  // namespace dsd::client

#endif  // DSD_CLIENT_LOAD_LOAD_H_
