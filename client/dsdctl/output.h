// How dsdctl prints plans and explanations: -o json (the plan contract:
// the proto3 JSON of the response, camelCase, zero values printed), -o yaml
// (the same document as YAML), -o table (for people).
#ifndef DSD_CLIENT_DSDCTL_OUTPUT_H_
#define DSD_CLIENT_DSDCTL_OUTPUT_H_

#include <string>

#include "dsd/v1/dsd.pb.h"

namespace dsd::client {

enum class OutputFormat { kJson, kYaml, kTable };

// Parses "json" | "yaml" | "table".
bool ParseOutputFormat(const std::string& text, OutputFormat& out);

// The proto3 JSON of `message`, pretty-printed, zero values included.
std::string ToJson(const google::protobuf::Message& message);
// The same document as YAML.
std::string ToYaml(const google::protobuf::Message& message);
// A JSON document (as ToJson prints it) as YAML.
std::string JsonToYaml(const std::string& json);

// `json` (an object as ToJson prints it) with one more member, "options":
// `options` in proto3 JSON with zero values, indented to match.
std::string WithOptions(const std::string& json,
                        const v1::DecideOptions& options);

// One row per action (DaemonSet, action, node, pod, reason) and a summary
// line per DaemonSet with the status counters; "nothing to do" lines.
std::string DecideTable(const v1::DecideResponse& response);
// Per DaemonSet and node: shouldRun, shouldContinueRunning, reasons.
std::string ExplainTable(const v1::ExplainResponse& response);

}  // namespace dsd::client

#endif  // DSD_CLIENT_DSDCTL_OUTPUT_H_
