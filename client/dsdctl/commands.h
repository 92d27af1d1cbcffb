// dsdctl's subcommands as functions of their options and two streams, so
// tests can run them in-process. Exit codes (client/common/exit_codes.h):
// 0 success, 1 the input is wrong (files or server-side validation), 3 the
// server could not be used.
#ifndef DSD_CLIENT_DSDCTL_COMMANDS_H_
#define DSD_CLIENT_DSDCTL_COMMANDS_H_

#include <ostream>
#include <string>

#include "client/common/connection.h"
#include "client/common/exit_codes.h"
#include "client/common/input.h"
#include "client/dsdctl/output.h"

namespace dsd::client {

// -o json and -o yaml print the DecideResponse with one more field,
// `options`: the DecideOptions sent (proto3 JSON, zero values printed;
// kubernetesMinor 0 is the server's current version).
int RunDecide(const ConnectionOptions& connection, const InputOptions& input,
              OutputFormat format, std::ostream& out, std::ostream& err);

struct ExplainFilter {
  std::string daemon_set;  // "namespace/name"; empty: all
  std::string node;        // empty: all
};

int RunExplain(const ConnectionOptions& connection, const InputOptions& input,
               const ExplainFilter& filter, OutputFormat format,
               std::ostream& out, std::ostream& err);

}  // namespace dsd::client

#endif  // DSD_CLIENT_DSDCTL_COMMANDS_H_
