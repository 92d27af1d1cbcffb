// Each command: load the user's files, build the request, call the server,
// print. Problems go to `err` one per line, and then nothing is printed on
// `out` (the plan contract).
#include "client/dsdctl/commands.h"

#include <optional>

#include "absl/time/time.h"
#include "client/k8s/snapshot_loader.h"

namespace dsd::client {
namespace {

// Loads every -f file; prints warnings, and problems as "error: ..." lines.
std::optional<LoadedSnapshot> Load(const InputOptions& input,
                                   std::ostream& err) {
  if (input.files.empty()) {
    err << "error: no input: pass -f FILE (kubectl get ... -o json, or YAML "
           "manifests; - for stdin)\n";
    return std::nullopt;
  }
  SnapshotLoader loader(input.max_input_bytes);
  for (const std::string& f : input.files) loader.AddFile(f);
  LoadedSnapshot loaded = loader.Finish();
  for (const std::string& w : loaded.warnings) err << w << '\n';
  if (!loaded.problems.empty()) {
    for (const InputProblem& p : loaded.problems) {
      err << "error: " << p.ToString() << '\n';
    }
    return std::nullopt;
  }
  return loaded;
}

// Prints a failed call: input problems translated back to the user's
// objects, or one line about the server.
int ReportCallError(const ConnectionOptions& connection,
                    const LoadedSnapshot& loaded, const grpc::Status& status,
                    std::ostream& err) {
  if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT ||
      status.error_code() == grpc::StatusCode::NOT_FOUND) {
    const auto violations = FieldViolations(status);
    // The server may quote the input's bytes: one printable line each.
    if (violations.empty()) {
      err << "error: " << Printable(status.error_message()) << '\n';
    }
    for (const auto& [field, description] : violations) {
      err << "error: "
          << Printable(TranslateFieldPath(loaded, field) + ": " + description)
          << '\n';
    }
    return kExitInput;
  }
  err << "error: " << Printable(DescribeCallError(connection, status)) << '\n';
  return kExitServer;
}

void Print(const google::protobuf::Message& response, OutputFormat format,
           const std::string& table, std::ostream& out) {
  switch (format) {
    case OutputFormat::kJson:
      out << ToJson(response);
      break;
    case OutputFormat::kYaml:
      out << ToYaml(response);
      break;
    case OutputFormat::kTable:
      out << table;
      break;
  }
}

// Loads the input, fills the request's snapshot and `now`, calls `rpc`.
// Returns 0 with `response` filled, or the exit code after reporting.
template <typename Request, typename Response>
int Call(const ConnectionOptions& connection, const InputOptions& input,
         grpc::Status (v1::DaemonSetScheduler::Stub::*rpc)(grpc::ClientContext*,
                                                           const Request&,
                                                           Response*),
         Request& request, Response& response, std::ostream& err) {
  std::optional<LoadedSnapshot> loaded = Load(input, err);
  if (!loaded) return kExitInput;
  if (!input.now.empty() && !SetNow(input.now, *request.mutable_now(), err)) {
    return kExitInput;
  }
  Connection c = Connect(connection);
  if (!c.stub) {
    err << "error: " << c.error << '\n';
    return kExitServer;
  }
  request.mutable_snapshot()->Swap(&loaded->snapshot);
  *request.mutable_options() = input.decide_options;
  grpc::ClientContext context;
  ApplyDeadline(connection, context);
  const grpc::Status status = ((*c.stub).*rpc)(&context, request, &response);
  if (status.ok()) return 0;
  request.mutable_snapshot()->Swap(&loaded->snapshot);  // for error paths
  return ReportCallError(connection, *loaded, status, err);
}

}  // namespace

bool SetNow(const std::string& text, google::protobuf::Timestamp& out,
            std::ostream& err) {
  absl::Time t;
  std::string why;
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, &why)) {
    err << "error: --now " << text
        << ": not an RFC 3339 time like 2026-01-02T03:04:05Z (" << why << ")\n";
    return false;
  }
  const int64_t seconds = absl::ToUnixSeconds(t);
  out.set_seconds(seconds);
  out.set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(seconds))));
  return true;
}

int RunDecide(const ConnectionOptions& connection, const InputOptions& input,
              OutputFormat format, std::ostream& out, std::ostream& err) {
  v1::DecideRequest request;
  v1::DecideResponse response;
  if (int code = Call(connection, input, &v1::DaemonSetScheduler::Stub::Decide,
                      request, response, err)) {
    return code;
  }
  switch (format) {
    case OutputFormat::kJson:
      out << WithOptions(ToJson(response), request.options());
      break;
    case OutputFormat::kYaml:
      out << JsonToYaml(WithOptions(ToJson(response), request.options()));
      break;
    case OutputFormat::kTable:
      out << DecideTable(response);
      break;
  }
  return 0;
}

int RunExplain(const ConnectionOptions& connection, const InputOptions& input,
               const ExplainFilter& filter, OutputFormat format,
               std::ostream& out, std::ostream& err) {
  v1::ExplainRequest request;
  request.set_daemon_set(filter.daemon_set);
  request.set_node(filter.node);
  v1::ExplainResponse response;
  if (int code = Call(connection, input, &v1::DaemonSetScheduler::Stub::Explain,
                      request, response, err)) {
    return code;
  }
  Print(response, format,
        format == OutputFormat::kTable ? ExplainTable(response) : "", out);
  return 0;
}

}  // namespace dsd::client
