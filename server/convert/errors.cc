#include "server/convert/errors.h"

#include "absl/strings/cord.h"
#include "google/rpc/error_details.pb.h"

namespace dsd::convert {

absl::Status InvalidArgument(const std::vector<Violation>& violations) {
  if (violations.empty()) return absl::OkStatus();
  std::string message =
      violations.front().field + ": " + violations.front().description;
  if (violations.size() > 1) {
    message += " (and " + std::to_string(violations.size() - 1) + " more)";
  }
  google::rpc::BadRequest details;
  for (size_t i = 0; i < violations.size() && i < kMaxViolations; ++i) {
    auto* v = details.add_field_violations();
    v->set_field(violations[i].field);
    v->set_description(violations[i].description);
  }
  absl::Status status(absl::StatusCode::kInvalidArgument, message);
  status.SetPayload(kBadRequestTypeUrl,
                    absl::Cord(details.SerializeAsString()));
  return status;
}

absl::Status LimitExceeded(const std::string& subject,
                           const std::string& description) {
  google::rpc::QuotaFailure details;
  auto* v = details.add_violations();
  v->set_subject(subject);
  v->set_description(description);
  absl::Status status(absl::StatusCode::kResourceExhausted,
                      subject + ": " + description);
  status.SetPayload(kQuotaFailureTypeUrl,
                    absl::Cord(details.SerializeAsString()));
  return status;
}

}  // namespace dsd::convert
