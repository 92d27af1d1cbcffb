// The only ABSL_FLAG definitions of dsd-server. Defaults come from
// ServerOptions and service::ServiceOptions so each lives in one place.
#include "server/transport/flags.h"

#include <cstdint>
#include <limits>
#include <string>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "server/common/logging.h"

// Flag defaults are evaluated lazily, so reading them off a fresh options
// struct costs nothing at start-up and needs no global.
#define DSD_DEFAULT(field) (::dsd::transport::ServerOptions().field)

ABSL_FLAG(std::string, listen, DSD_DEFAULT(listen),
          "Address the gRPC server listens on, as host:port (for example "
          "0.0.0.0:50051 or [::]:50051). Port 0 picks a free port.");
ABSL_FLAG(int32_t, threads, DSD_DEFAULT(threads),
          "Number of threads that run requests. 0 starts one per CPU core. "
          "Requests never run on gRPC's own threads, so health checks are "
          "answered while every thread is busy.");
ABSL_FLAG(int64_t, max_request_bytes, DSD_DEFAULT(max_request_bytes),
          "Largest request message accepted, in bytes (at most 2147483647). "
          "gRPC rejects a larger request with RESOURCE_EXHAUSTED.");
ABSL_FLAG(int64_t, max_request_bytes_in_flight,
          DSD_DEFAULT(max_request_bytes_in_flight),
          "Budget of request bytes held by the requests being handled at "
          "once. A request that does not fit gets RESOURCE_EXHAUSTED "
          "(retry later or elsewhere) instead of growing memory; a request "
          "alone always runs. Each running request holds about 2.2x its "
          "size. 0 means no limit.");
ABSL_FLAG(int64_t, max_nodes,
          static_cast<int64_t>(DSD_DEFAULT(service.max_nodes)),
          "Largest number of nodes in one request's snapshot; a request with "
          "more gets RESOURCE_EXHAUSTED. 0 means no limit.");
ABSL_FLAG(int64_t, max_pods,
          static_cast<int64_t>(DSD_DEFAULT(service.max_pods)),
          "Largest number of pods in one request's snapshot; a request with "
          "more gets RESOURCE_EXHAUSTED. 0 means no limit.");
ABSL_FLAG(int64_t, max_daemon_sets,
          static_cast<int64_t>(DSD_DEFAULT(service.max_daemon_sets)),
          "Largest number of DaemonSets in one request's snapshot; a request "
          "with more gets RESOURCE_EXHAUSTED. 0 means no limit.");
ABSL_FLAG(std::string, tls_cert, "",
          "Path of the PEM certificate chain the server presents. Together "
          "with --tls_key it switches TLS on; empty serves plaintext.");
ABSL_FLAG(std::string, tls_key, "",
          "Path of the PEM private key of --tls_cert.");
ABSL_FLAG(std::string, tls_client_ca, "",
          "Path of a PEM file of CA certificates. When set (with --tls_cert "
          "and --tls_key), clients must present a certificate signed by one "
          "of them (mutual TLS).");
ABSL_FLAG(std::string, log_level, "info",
          "Lowest level logged: trace, debug, info, warn or error. debug "
          "logs one line per request.");
ABSL_FLAG(std::string, log_format, "text",
          "Log line format: text, or json for one JSON object per line.");
ABSL_FLAG(std::string, metrics_listen, DSD_DEFAULT(metrics_listen),
          "Address (host:port) of an HTTP server answering GET /metrics in "
          "the Prometheus text format. Empty serves no metrics. An empty "
          "host (:9090) or 0.0.0.0 binds every interface: anyone who can "
          "reach the host can read the metrics; 127.0.0.1:9090 keeps them "
          "local.");
ABSL_FLAG(double, shutdown_grace,
          absl::ToDoubleSeconds(DSD_DEFAULT(shutdown_grace)),
          "Seconds that requests in flight may take to finish once the drain "
          "has started (after --lameduck) before they are cancelled. The "
          "process exits at most --lameduck + --shutdown_grace + 1 seconds "
          "after SIGTERM or SIGINT, even if a request ignores its "
          "cancellation (exit code 1 then).");
ABSL_FLAG(double, lameduck, absl::ToDoubleSeconds(DSD_DEFAULT(lameduck)),
          "Seconds dsd-server keeps serving after SIGTERM or SIGINT with its "
          "health NOT_SERVING, before it refuses new calls and drains, so "
          "that load balancers stop sending it calls first. A second signal "
          "ends it early. 0 drains at once.");

#undef DSD_DEFAULT

namespace dsd::transport {
namespace {

absl::Status OutOfRange(std::string_view flag, std::string_view rule) {
  return absl::InvalidArgumentError(
      absl::StrCat("--", std::string(flag), " ", std::string(rule)));
}

absl::StatusOr<size_t> Limit(std::string_view flag, int64_t value) {
  if (value < 0) return OutOfRange(flag, "must be >= 0 (0 means no limit)");
  return static_cast<size_t>(value);
}

}  // namespace

absl::StatusOr<ServerOptions> ServerOptionsFromFlags() {
  ServerOptions options;
  options.listen = absl::GetFlag(FLAGS_listen);
  if (options.listen.empty()) return OutOfRange("listen", "must not be empty");

  options.threads = absl::GetFlag(FLAGS_threads);
  if (options.threads < 0) return OutOfRange("threads", "must be >= 0");

  const int64_t max_request_bytes = absl::GetFlag(FLAGS_max_request_bytes);
  if (max_request_bytes <= 0 ||
      max_request_bytes > std::numeric_limits<int>::max()) {
    return OutOfRange("max_request_bytes", "must be in [1, 2147483647]");
  }
  options.max_request_bytes = static_cast<int>(max_request_bytes);

  options.max_request_bytes_in_flight =
      absl::GetFlag(FLAGS_max_request_bytes_in_flight);
  if (options.max_request_bytes_in_flight < 0) {
    return OutOfRange("max_request_bytes_in_flight",
                      "must be >= 0 (0 means no limit)");
  }

  absl::StatusOr<size_t> limit =
      Limit("max_nodes", absl::GetFlag(FLAGS_max_nodes));
  if (!limit.ok()) return limit.status();
  options.service.max_nodes = *limit;
  limit = Limit("max_pods", absl::GetFlag(FLAGS_max_pods));
  if (!limit.ok()) return limit.status();
  options.service.max_pods = *limit;
  limit = Limit("max_daemon_sets", absl::GetFlag(FLAGS_max_daemon_sets));
  if (!limit.ok()) return limit.status();
  options.service.max_daemon_sets = *limit;

  options.tls_cert_file = absl::GetFlag(FLAGS_tls_cert);
  options.tls_key_file = absl::GetFlag(FLAGS_tls_key);
  options.tls_client_ca_file = absl::GetFlag(FLAGS_tls_client_ca);
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return absl::InvalidArgumentError(
        "--tls_cert and --tls_key must be given together");
  }
  if (!options.tls_client_ca_file.empty() && options.tls_cert_file.empty()) {
    return absl::InvalidArgumentError(
        "--tls_client_ca (mutual TLS) needs --tls_cert and --tls_key");
  }

  absl::StatusOr<spdlog::level::level_enum> level =
      logging::ParseLogLevel(absl::GetFlag(FLAGS_log_level));
  if (!level.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--log_level: ", level.status().message()));
  }
  options.logging.level = *level;
  absl::StatusOr<logging::LogFormat> format =
      logging::ParseLogFormat(absl::GetFlag(FLAGS_log_format));
  if (!format.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--log_format: ", format.status().message()));
  }
  options.logging.format = *format;

  options.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);

  const double grace_seconds = absl::GetFlag(FLAGS_shutdown_grace);
  if (!(grace_seconds >= 0 && grace_seconds <= 24 * 3600)) {
    return OutOfRange("shutdown_grace", "must be in [0, 86400] seconds");
  }
  options.shutdown_grace = absl::Seconds(grace_seconds);

  const double lameduck_seconds = absl::GetFlag(FLAGS_lameduck);
  if (!(lameduck_seconds >= 0 && lameduck_seconds <= 3600)) {
    return OutOfRange("lameduck", "must be in [0, 3600] seconds");
  }
  options.lameduck = absl::Seconds(lameduck_seconds);
  return options;
}

}  // namespace dsd::transport
