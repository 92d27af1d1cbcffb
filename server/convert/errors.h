// Request validation errors: a list of (field path, description) violations
// turned into one INVALID_ARGUMENT absl::Status whose message names the
// first path and whose payload is a google.rpc.BadRequest with all of them.
#ifndef DSD_SERVER_CONVERT_ERRORS_H_
#define DSD_SERVER_CONVERT_ERRORS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace dsd::convert {

// The type URL under which the BadRequest payload is attached to statuses
// (transport copies payloads into google.rpc.Status.details verbatim).
inline constexpr char kBadRequestTypeUrl[] =
    "type.googleapis.com/google.rpc.BadRequest";
inline constexpr char kQuotaFailureTypeUrl[] =
    "type.googleapis.com/google.rpc.QuotaFailure";

// How many violations one status carries at most.
inline constexpr size_t kMaxViolations = 100;
// Bounds on an error's details, which travel in a response header that
// gRPC clients cap at 8 KiB by default: a field path and a description
// are cut (marked "...") past these (a path holds a label key of up to 317
// bytes), and a BadRequest lists violations
// while they fit in kMaxDetailsBytes (then one entry says how many more).
inline constexpr size_t kMaxFieldBytes = 512;
inline constexpr size_t kMaxDescriptionBytes = 300;
inline constexpr size_t kMaxDetailsBytes = 3 * 1024;

struct Violation {
  std::string field;        // e.g. snapshot.nodes[3].taints[0].effect
  std::string description;  // plain words, e.g. must be one of ...
};

// INVALID_ARGUMENT "<first path>: <description> (and N more)" with a
// BadRequest payload listing the violations (capped as above). OK when
// empty.
absl::Status InvalidArgument(const std::vector<Violation>& violations);

// NOT_FOUND "<what> <name> is not in the snapshot": a request names an
// object (Explain's daemon_set or node) the snapshot does not hold.
absl::Status NotInSnapshot(const std::string& what, const std::string& name);

// RESOURCE_EXHAUSTED naming the limit, with a QuotaFailure payload.
absl::Status LimitExceeded(const std::string& subject,
                           const std::string& description);

}  // namespace dsd::convert

#endif  // DSD_SERVER_CONVERT_ERRORS_H_
