#include "client/load/load_command.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <vector>

namespace dsd::client {
namespace {

// The request to send, serialized, and a phrase saying what it holds.
struct BuiltRequest {
  std::string bytes;
  std::string description;
};

std::string Thousands(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

// Decimal units, as network tools print sizes.
std::string Bytes(double bytes) {
  static constexpr const char* kUnits[] = {"B", "kB", "MB", "GB", "TB"};
  size_t unit = 0;
  while (bytes >= 1000 && unit + 1 < std::size(kUnits)) {
    bytes /= 1000;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.2f %s", bytes,
                kUnits[unit]);
  return text;
}

std::string Fixed(double value, int digits) {
  char text[48];
  std::snprintf(text, sizeof text, "%.*f", digits, value);
  return text;
}

// The snapshot and `now` of the request: the user's files or the synthetic
// cluster. False after printing "error:" lines.
bool BuildSnapshot(const LoadCommandOptions& options, v1::DecideRequest& out,
                   std::ostream& err) {
  if (options.input.files.empty()) {
    if (absl::Status s = ValidateSyntheticClusterSpec(options.cluster);
        !s.ok()) {
      err << "error: " << s.message() << '\n';
      return false;
    }
    out = MakeSyntheticDecideRequest(options.cluster);
    return true;
  }
  std::optional<LoadedSnapshot> loaded = LoadInput(options.input, err);
  if (!loaded) return false;
  out.mutable_snapshot()->Swap(&loaded->snapshot);
  return options.input.now.empty() ||
         SetNow(options.input.now, *out.mutable_now(), err);
}

bool Serialize(const google::protobuf::Message& message, std::string& out,
               std::ostream& err) {
  if (message.ByteSizeLong() > static_cast<size_t>(INT_MAX)) {
    err << "error: the request would be "
        << Bytes(static_cast<double>(message.ByteSizeLong()))
        << ", over protobuf's 2 GiB limit: use fewer nodes or DaemonSets\n";
    return false;
  }
  return message.SerializeToString(&out);
}

bool BuildRequest(const LoadCommandOptions& options, BuiltRequest& out,
                  std::ostream& err) {
  if (options.load.method == LoadMethod::kHealth) {
    // An empty message is a HealthCheckRequest with service "": the
    // server's overall health.
    out.description = "an empty HealthCheckRequest";
    return true;
  }
  v1::DecideRequest decide;
  if (!BuildSnapshot(options, decide, err)) return false;
  // Only when some option is set: the default request stays byte for byte
  // the synthetic one (no empty options message).
  if (options.input.decide_options.ByteSizeLong() > 0) {
    decide.mutable_options()->MergeFrom(options.input.decide_options);
  }
  const v1::Snapshot& s = decide.snapshot();
  out.description = Thousands(s.nodes_size()) + " nodes, " +
                    Thousands(s.daemon_sets_size()) + " DaemonSets, " +
                    Thousands(s.pods_size()) + " pods";
  if (options.load.method == LoadMethod::kDecide) {
    return Serialize(decide, out.bytes, err);
  }
  if (options.load.method == LoadMethod::kExplain) {
    v1::ExplainRequest explain;
    explain.mutable_snapshot()->Swap(decide.mutable_snapshot());
    if (decide.has_options()) *explain.mutable_options() = decide.options();
    return Serialize(explain, out.bytes, err);
  }
  v1::ValidateRequest validate;
  validate.mutable_snapshot()->Swap(decide.mutable_snapshot());
  *validate.mutable_options() = decide.options();
  return Serialize(validate, out.bytes, err);
}

bool WriteRequest(const LoadCommandOptions& options, const std::string& bytes,
                  std::ostream& err) {
  std::ofstream file(options.write_request, std::ios::binary);
  if (options.grpc_frame) {
    const auto n = static_cast<uint32_t>(bytes.size());
    const char header[5] = {0, static_cast<char>((n >> 24) & 0xff),
                            static_cast<char>((n >> 16) & 0xff),
                            static_cast<char>((n >> 8) & 0xff),
                            static_cast<char>(n & 0xff)};
    file.write(header, sizeof header);
  }
  file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  file.close();
  if (!file) {
    err << "error: cannot write --write-request " << options.write_request
        << '\n';
    return false;
  }
  return true;
}

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  return out;
}

bool IsLoopbackHost(std::string_view host) {
  const std::string h = Lower(host);
  // Only the name the resolver maps to loopback itself (/etc/hosts):
  // glibc sends *.localhost to DNS like any other name.
  if (h == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;  // 127.0.0.0/8
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  return false;
}

// "host:port", "[v6]:port", "host" -> host.
std::string_view HostOf(std::string_view address) {
  if (address.starts_with('[')) {
    const size_t close = address.find(']');
    return close == std::string_view::npos ? address
                                           : address.substr(1, close - 1);
  }
  const size_t colon = address.find(':');
  if (colon != std::string_view::npos &&
      address.find(':', colon + 1) == std::string_view::npos) {
    return address.substr(0, colon);
  }
  return address;  // no port, or a bare IPv6 address
}

}  // namespace

bool IsLoopbackTarget(std::string_view target) {
  if (target.starts_with("unix:") || target.starts_with("unix-abstract:")) {
    return true;
  }
  std::vector<std::string_view> addresses;
  if (target.starts_with("dns:")) {
    std::string_view rest = target.substr(4);
    if (rest.starts_with("//")) {  // dns://[authority]/host:port
      const size_t slash = rest.find('/', 2);
      if (slash == std::string_view::npos) return false;
      rest = rest.substr(slash + 1);
    }
    addresses.push_back(rest);
  } else if (target.starts_with("ipv4:") || target.starts_with("ipv6:")) {
    std::string_view rest = target.substr(5);
    while (true) {
      const size_t comma = rest.find(',');
      addresses.push_back(rest.substr(0, comma));
      if (comma == std::string_view::npos) break;
      rest = rest.substr(comma + 1);
    }
  } else {
    addresses.push_back(target);
  }
  return std::all_of(
      addresses.begin(), addresses.end(),
      [](std::string_view a) { return IsLoopbackHost(HostOf(a)); });
}

int LoadExitCode(const LoadResult& result) {
  int64_t errors = 0;
  for (const auto& [code, n] : result.errors) errors += n;
  if (result.stopped_unusable) return kExitServer;
  if (result.ok == 0 && errors > 0) {
    const auto invalid = result.errors.find("INVALID_ARGUMENT");
    if (errors > 0 && invalid != result.errors.end() &&
        invalid->second == errors) {
      return kExitInput;
    }
    return kExitServer;
  }
  return errors > 0 || result.dropped > 0 ? kExitLoadErrors : 0;
}

std::string LoadReportJson(const LoadOptions& options,
                           const LoadResult& result) {
  const bool open_loop = options.rate > 0;
  nlohmann::ordered_json errors = nlohmann::ordered_json::object();
  for (const auto& [code, n] : result.errors) errors[code] = n;
  nlohmann::ordered_json report = {
      {"method", LoadMethodName(options.method)},
      {"requests", result.requests},
      {"ok", result.ok},
      {"errors", errors},
      {"dropped", result.dropped},
      {"duration_seconds", result.duration_seconds},
      {"qps", result.qps},
      {"latency_ms",
       {{"p50", result.latency_ms.p50},
        {"p90", result.latency_ms.p90},
        {"p99", result.latency_ms.p99},
        {"p999", result.latency_ms.p999},
        {"max", result.latency_ms.max}}},
      {"request_bytes", result.request_bytes},
      {"response_bytes_total", result.response_bytes_total},
      {"loop", open_loop ? "open" : "closed"},
      {"concurrency", open_loop ? 0 : options.concurrency},
      {"rate", open_loop ? options.rate : 0.0},
      {"channels", options.channels},
      {"warmup_seconds", options.warmup_seconds},
      {"client_cpu_seconds", result.client_cpu_seconds},
      {"stopped_unusable", result.stopped_unusable},
      {"max_consecutive_unavailable", result.max_consecutive_unavailable},
  };
  return report.dump(2) + "\n";
}

std::string LoadReportTable(const ConnectionOptions& connection,
                            const LoadOptions& options,
                            const LoadResult& result) {
  std::ostringstream out;
  const auto row = [&out](const char* key, const std::string& value) {
    char label[24];
    std::snprintf(label, sizeof label, "%-18s", key);
    out << label << value << '\n';
  };
  row("method", std::string(LoadMethodName(options.method)) + "  " +
                    LoadMethodPath(options.method));
  row("target", connection.server + ", " + std::to_string(options.channels) +
                    (options.channels == 1 ? " channel" : " channels"));
  row("load",
      options.rate > 0
          ? "open loop, " + Fixed(options.rate, 1) +
                " requests/s (latency from the intended send time)"
          : "closed loop, concurrency " + std::to_string(options.concurrency));
  int64_t errors = 0;
  std::string by_code;
  for (const auto& [code, n] : result.errors) {
    errors += n;
    by_code += (by_code.empty() ? "" : ", ") + code + " " + Thousands(n);
  }
  row("requests",
      Thousands(result.requests) + " (" + Thousands(result.ok) + " ok, " +
          Thousands(errors) + " errors" +
          (result.dropped > 0 ? ", " + Thousands(result.dropped) + " dropped"
                              : "") +
          ")");
  if (!by_code.empty()) row("errors", by_code);
  row("duration", Fixed(result.duration_seconds, 2) + " s" +
                      (options.warmup_seconds > 0
                           ? " (after " + Fixed(options.warmup_seconds, 1) +
                                 " s of warm-up)"
                           : ""));
  row("throughput", Fixed(result.qps, 1) + " requests/s");
  const LatencySummary& l = result.latency_ms;
  row("latency (ms)", "p50 " + Fixed(l.p50, 3) + "  p90 " + Fixed(l.p90, 3) +
                          "  p99 " + Fixed(l.p99, 3) + "  p99.9 " +
                          Fixed(l.p999, 3) + "  max " + Fixed(l.max, 3));
  row("request bytes", Thousands(result.request_bytes) + " each, " +
                           Bytes(static_cast<double>(result.request_bytes) *
                                 static_cast<double>(result.requests)) +
                           " total");
  row("response bytes",
      Bytes(static_cast<double>(result.response_bytes_total)) + " total");
  const double busy =
      result.duration_seconds > 0
          ? 100 * result.client_cpu_seconds / result.duration_seconds
          : 0;
  row("client CPU", Fixed(result.client_cpu_seconds, 2) + " s (" +
                        Fixed(busy, 0) + "% of one core)");
  if (result.stopped_unusable) {
    row("note", result.ok == 0 ? "stopped early: nothing succeeded"
                               : "stopped early: the server stopped answering");
  }
  return out.str();
}

int RunLoad(const ConnectionOptions& connection,
            const LoadCommandOptions& options, std::ostream& out,
            std::ostream& err) {
  LoadOptions load = options.load;
  load.timeout_seconds = connection.timeout_seconds;
  if (const std::string bad = ValidateLoadOptions(load); !bad.empty()) {
    err << "error: " << bad << '\n';
    return kExitInput;
  }
  BuiltRequest request;
  if (!BuildRequest(options, request, err)) return kExitInput;

  if (!options.write_request.empty()) {
    if (!WriteRequest(options, request.bytes, err)) return kExitInput;
    err << "wrote the " << LoadMethodName(load.method) << " request ("
        << request.description << ", "
        << Thousands(static_cast<int64_t>(request.bytes.size())) << " bytes"
        << (options.grpc_frame ? " + 5-byte gRPC frame" : "") << ") to "
        << options.write_request << "; nothing sent\n";
    return 0;
  }

  if (!options.allow_remote && !IsLoopbackTarget(connection.server)) {
    err << "error: --server " << connection.server
        << " is not a loopback address (127.0.0.0/8, ::1, localhost). "
           "dsdctl load sends as many requests as it can, and must not be "
           "pointed at a production server by accident; pass --allow_remote "
           "to load a remote server deliberately\n";
    return kExitInput;
  }

  std::string error;
  const auto channels = CreateLoadChannels(connection, load.channels, error);
  if (channels.empty()) {
    err << "error: " << error << '\n';
    return kExitServer;
  }
  const int ready = ConnectLoadChannels(channels, connection.timeout_seconds);
  if (ready < load.channels) {
    err << "warning: only " << ready << " of " << load.channels
        << " channels connected to " << connection.server
        << " before the run; calls on the others will fail\n";
  }
  err << "dsdctl load: " << LoadMethodName(load.method) << " to "
      << connection.server << ", "
      << (load.rate > 0 ? Fixed(load.rate, 1) + " requests/s (open loop)"
                        : "concurrency " + std::to_string(load.concurrency) +
                              " (closed loop)")
      << ", " << Fixed(load.duration_seconds, 1) << " s"
      << (load.requests > 0 ? " or " + Thousands(load.requests) + " requests"
                            : "")
      << "; request: " << request.description << ", "
      << Bytes(static_cast<double>(request.bytes.size())) << '\n';

  const LoadResult result =
      RunLoadGenerator(channels, request.bytes, load, &err);
  out << (options.format == LoadReportFormat::kJson
              ? LoadReportJson(load, result)
              : LoadReportTable(connection, load, result));
  const int code = LoadExitCode(result);
  if (result.stopped_unusable && result.ok > 0) {
    err << "error: dsd-server at " << connection.server
        << " stopped answering: "
        << Thousands(result.max_consecutive_unavailable)
        << " calls in a row failed with UNAVAILABLE, so the run was stopped "
           "early (--max_unavailable). Is it still running?\n";
  } else if (code != 0 && !result.first_error.ok()) {
    if (result.first_error.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
      err << "error: the server rejected the request: "
          << result.first_error.error_message() << '\n';
    } else {
      err << "error: " << DescribeCallError(connection, result.first_error)
          << '\n';
    }
  }
  if (code == kExitLoadErrors && result.dropped > 0) {
    err << "error: " << Thousands(result.dropped)
        << " sends were dropped: " << load.max_in_flight
        << " calls were already in flight (--max_in_flight); the server "
           "cannot keep up with --rate\n";
  }
  return code;
}

}  // namespace dsd::client
