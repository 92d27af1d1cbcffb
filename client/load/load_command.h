// `dsdctl load`: build one request (a synthetic cluster, or the user's
// files), optionally write it out for other tools, refuse non-loopback
// targets unless allowed, run the load generator and print the report (a
// table, or JSON with stable keys). A function of options and two streams,
// like the other dsdctl commands. Uses client/common, never client/dsdctl.
#ifndef DSD_CLIENT_LOAD_LOAD_COMMAND_H_
#define DSD_CLIENT_LOAD_LOAD_COMMAND_H_

#include <ostream>
#include <string>
#include <string_view>

#include "client/common/connection.h"
#include "client/common/exit_codes.h"
#include "client/common/input.h"
#include "client/load/load.h"
#include "client/synthetic/synthetic_cluster.h"

namespace dsd::client {

// The run completed, but some calls failed (or, in the open loop, some
// sends were dropped at --max_in_flight). Beside kExitInput (1) and
// kExitServer (3) from client/common/exit_codes.h.
inline constexpr int kExitLoadErrors = 4;

enum class LoadReportFormat { kTable, kJson };

// Everything `dsdctl load` takes besides the connection flags.
struct LoadCommandOptions {
  LoadOptions load;
  // The request's cluster when input.files is empty.
  SyntheticClusterSpec cluster;
  // -f files (kubectl -o json or YAML, as `dsdctl decide`) instead of the
  // synthetic cluster, and --now for them (empty: the server's clock).
  InputOptions input;
  // Non-empty: write the serialized request of load.method to this file
  // and return without sending anything.
  std::string write_request;
  // With write_request: prefix gRPC's 5-byte message header (flag 0, then
  // the length, big-endian), making the file an HTTP/2 request body that
  // h2load -d can send.
  bool grpc_frame = false;
  // Send to a target that is not loopback.
  bool allow_remote = false;
  LoadReportFormat format = LoadReportFormat::kTable;
};

// Runs the command. Exit codes: 0 every call succeeded; 1 the options or
// input are wrong (or the target is not loopback without allow_remote), or
// the server rejected every call as INVALID_ARGUMENT; 3 the server could
// not be used: no call succeeded (e.g. UNAVAILABLE: nothing listening),
// or load.max_consecutive_unavailable calls in a row answered UNAVAILABLE
// (the server died mid-run; the run stops there and `err` names the
// address); 4 completed with errors or drops. The report goes to `out` whenever
// the load ran (exit 0, 3 or 4); progress, notes and "error:" lines go to
// `err`.
int RunLoad(const ConnectionOptions& connection,
            const LoadCommandOptions& options, std::ostream& out,
            std::ostream& err);

// Whether a gRPC target names this machine only: a literal address in
// 127.0.0.0/8 or ::1, or exactly `localhost` (optionally with dns:, ipv4:,
// ipv6: schemes and a port), or a unix: socket. Other names, *.localhost
// included, are not: glibc resolves those through DNS.
bool IsLoopbackTarget(std::string_view target);

// The exit code for a completed run (see RunLoad).
int LoadExitCode(const LoadResult& result);

// The report as JSON: method, requests, errors {CODE: n}, duration_seconds,
// qps, latency_ms {p50, p90, p99, p999, max}, request_bytes (one request),
// response_bytes_total, concurrency (0 in the open loop), rate (0 in the
// closed loop), channels, and also loop ("closed" | "open"), ok, dropped,
// warmup_seconds, client_cpu_seconds, stopped_unusable,
// max_consecutive_unavailable. Ends with a newline.
std::string LoadReportJson(const LoadOptions& options,
                           const LoadResult& result);
// The same for people.
std::string LoadReportTable(const ConnectionOptions& connection,
                            const LoadOptions& options,
                            const LoadResult& result);

}  // namespace dsd::client

#endif  // DSD_CLIENT_LOAD_LOAD_COMMAND_H_
