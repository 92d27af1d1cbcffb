#include "client/common/input.h"

#include "absl/time/time.h"
#include "client/common/exit_codes.h"

namespace dsd::client {

std::optional<LoadedSnapshot> LoadInput(const InputOptions& input,
                                        std::ostream& err) {
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

int ReportCallError(const ConnectionOptions& connection,
                    const LoadedSnapshot& loaded, const grpc::Status& status,
                    std::ostream& err) {
  const auto violations = FieldViolations(status);
  // Over a per-object limit (snapshot.pods[3].labels: 1001 entries exceed
  // the limit of 1000 per object) is a problem of the input's objects,
  // named like any other; a limit on the whole request (snapshot.pods,
  // --max_pods) keeps the server's hint.
  bool names_objects =
      status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED &&
      !violations.empty();
  for (const auto& [field, description] : violations) {
    names_objects = names_objects && TranslateFieldPath(loaded, field) != field;
  }
  if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT ||
      status.error_code() == grpc::StatusCode::NOT_FOUND || names_objects) {
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

}  // namespace dsd::client
