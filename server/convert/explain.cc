#include "server/convert/explain.h"

#include <algorithm>
#include <string>

#include "server/convert/errors.h"
#include "server/convert/time.h"

namespace dsd::convert {

absl::StatusOr<v1::ExplainResponse> ExplainToProto(
    const engine::Plan& plan, const engine::Snapshot& snapshot,
    absl::Time evaluated_at, const v1::ExplainRequest& request) {
  v1::ExplainResponse response;
  SetTimestamp(evaluated_at, *response.mutable_evaluated_at());
  for (const engine::DaemonSetPlan& p : plan.daemon_sets) {
    std::string key(p.namespace_name);
    key += '/';
    key += p.name;
    if (!request.daemon_set().empty() && key != request.daemon_set()) continue;
    v1::DaemonSetExplanation& out = *response.add_daemon_sets();
    out.set_namespace_(std::string(p.namespace_name));
    out.set_name(std::string(p.name));
    for (const engine::NodeExplanation& e : p.explanations) {
      if (!request.node().empty() && e.node != request.node()) continue;
      v1::NodeExplanation& n = *out.add_nodes();
      n.set_node(std::string(e.node));
      n.set_should_run(e.should_run);
      n.set_should_continue_running(e.should_continue_running);
      for (const std::string& why : e.failed_predicates) {
        n.add_failed_predicates(why);
      }
    }
  }
  if (!request.daemon_set().empty() && response.daemon_sets().empty()) {
    return NotInSnapshot("daemon_set", request.daemon_set());
  }
  if (!request.node().empty() &&
      std::none_of(snapshot.nodes.begin(), snapshot.nodes.end(),
                   [&request](const engine::Node& n) {
                     return n.name == request.node();
                   })) {
    return NotInSnapshot("node", request.node());
  }
  return response;
}

}  // namespace dsd::convert
