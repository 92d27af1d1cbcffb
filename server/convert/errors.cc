#include "server/convert/errors.h"

#include "absl/strings/cord.h"
#include "google/rpc/error_details.pb.h"

namespace dsd::convert {

namespace {

// `s` cut to `max` bytes (without splitting a UTF-8 sequence), marked.
std::string Cut(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xc0) == 0x80) --end;
  return s.substr(0, end) + "...";
}

}  // namespace

absl::Status InvalidArgument(const std::vector<Violation>& violations) {
  if (violations.empty()) return absl::OkStatus();
  std::string message =
      Cut(violations.front().field, kMaxFieldBytes) + ": " +
      Cut(violations.front().description, kMaxDescriptionBytes);
  if (violations.size() > 1) {
    message += " (and " + std::to_string(violations.size() - 1) + " more)";
  }
  // Every violation while the details stay under kMaxDetailsBytes: gRPC
  // clients drop response metadata over 8 KiB by default, and with it the
  // whole error. The last entry then says how many were left out.
  google::rpc::BadRequest details;
  size_t bytes = 0;
  size_t shown = 0;
  for (; shown < violations.size() && shown < kMaxViolations; ++shown) {
    std::string field = Cut(violations[shown].field, kMaxFieldBytes);
    std::string description =
        Cut(violations[shown].description, kMaxDescriptionBytes);
    const size_t size = field.size() + description.size() + 8;
    if (bytes + size > kMaxDetailsBytes) break;
    bytes += size;
    auto* v = details.add_field_violations();
    v->set_field(std::move(field));
    v->set_description(std::move(description));
  }
  if (shown < violations.size()) {
    auto* v = details.add_field_violations();
    v->set_description(
        std::to_string(violations.size() - shown) +
        " more violations not shown (fix these first, or call Validate)");
  }
  absl::Status status(absl::StatusCode::kInvalidArgument, message);
  status.SetPayload(kBadRequestTypeUrl,
                    absl::Cord(details.SerializeAsString()));
  return status;
}

absl::Status NotInSnapshot(const std::string& what, const std::string& name) {
  return absl::NotFoundError(what + " " + name + " is not in the snapshot");
}

absl::Status LimitExceeded(const std::string& subject,
                           const std::string& description) {
  google::rpc::QuotaFailure details;
  auto* v = details.add_violations();
  v->set_subject(Cut(subject, kMaxFieldBytes));
  v->set_description(Cut(description, kMaxDescriptionBytes));
  absl::Status status(absl::StatusCode::kResourceExhausted,
                      v->subject() + ": " + v->description());
  status.SetPayload(kQuotaFailureTypeUrl,
                    absl::Cord(details.SerializeAsString()));
  return status;
}

}  // namespace dsd::convert
