// Each command: load the user's files, build the request, call the server,
// print. Problems go to `err` one per line, and then nothing is printed on
// `out` (the plan contract).
#include "client/dsdctl/commands.h"

#include <optional>

#include "client/dsdctl/cluster.h"

namespace dsd::client {
namespace {

// Loads every -f file, or without -f the cluster of the kubeconfig's
// context; prints warnings, and problems as "error: ..." lines. 0 with
// `loaded` set, or the exit code.
int Load(const InputOptions& input, std::optional<LoadedSnapshot>& loaded,
         std::ostream& err) {
  if (!input.files.empty()) {
    loaded = LoadInput(input, err);
    return loaded ? kExitOk : kExitInput;
  }
  std::string text, source;
  if (const int code = ReadCluster(input.cluster, text, source, err)) {
    return code;
  }
  // The same reader as for -f, so `decide` and `decide -f` of `dsdctl
  // snapshot`'s output send the same snapshot.
  SnapshotLoader loader(input.max_input_bytes);
  loader.AddText(text, source);
  text.clear();
  text.shrink_to_fit();
  loaded = loader.Finish();
  for (const std::string& w : loaded->warnings) err << w << '\n';
  if (!loaded->problems.empty()) {
    for (const InputProblem& p : loaded->problems) {
      err << "error: " << p.ToString() << '\n';
    }
    loaded.reset();
    return kExitInput;
  }
  return kExitOk;
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
  std::optional<LoadedSnapshot> loaded;
  if (const int code = Load(input, loaded, err)) return code;
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
