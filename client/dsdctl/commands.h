// dsdctl's subcommands as functions of their options and two streams, so
// tests can run them in-process. Exit codes: 0 success, 1 the input is
// wrong (files or server-side validation), 3 the server could not be used.
#ifndef DSD_CLIENT_DSDCTL_COMMANDS_H_
#define DSD_CLIENT_DSDCTL_COMMANDS_H_

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "client/dsdctl/connection.h"
#include "client/dsdctl/output.h"
#include "client/k8s/snapshot_loader.h"

namespace dsd::client {

inline constexpr int kExitInput = 1;
inline constexpr int kExitServer = 3;

struct InputOptions {
  std::vector<std::string> files;  // -f, repeatable; "-" is stdin
  std::string now;                 // --now, RFC 3339; empty: server clock
  // --max_input_bytes: all files together; more is an input error.
  int64_t max_input_bytes = kDefaultMaxInputBytes;
  // Sent with the request (decide_options.h reads them from the flags).
  v1::DecideOptions decide_options{};
};

// --now (RFC 3339) as a Timestamp; false, with an "error:" line on `err`,
// when it does not parse.
bool SetNow(const std::string& text, google::protobuf::Timestamp& out,
            std::ostream& err);

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
