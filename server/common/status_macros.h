// DSD_RETURN_IF_ERROR / DSD_ASSIGN_OR_RETURN: Debian 12's Abseil (20220623)
// ships no status macros, so dsd keeps these two.
#ifndef DSD_SERVER_COMMON_STATUS_MACROS_H_
#define DSD_SERVER_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define DSD_RETURN_IF_ERROR(expr)              \
  do {                                         \
    const ::absl::Status dsd_status_ = (expr); \
    if (!dsd_status_.ok()) return dsd_status_; \
  } while (false)

#define DSD_STATUS_CONCAT_INNER_(a, b) a##b
#define DSD_STATUS_CONCAT_(a, b) DSD_STATUS_CONCAT_INNER_(a, b)

#define DSD_ASSIGN_OR_RETURN(lhs, expr)                                        \
  DSD_ASSIGN_OR_RETURN_IMPL_(DSD_STATUS_CONCAT_(dsd_statusor_, __LINE__), lhs, \
                             expr)

#define DSD_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr)    \
  auto statusor = (expr);                                  \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = *std::move(statusor)

#endif  // DSD_SERVER_COMMON_STATUS_MACROS_H_
