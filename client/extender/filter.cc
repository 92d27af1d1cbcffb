// The extender's filter: protocol in, one dsd.v1 Filter call, protocol out.
// Wire facts it follows (kube-scheduler's HTTPExtender.Filter and
// k8s.io/kube-scheduler/extender/v1): field names are Go's, decoded
// case-insensitively; the list the scheduler reads back is the complete set
// of passing nodes, so passing nodes are always echoed explicitly; only
// 200 is read, and a non-empty Error fails the scheduling attempt with that
// text in the pod's event.
#include "client/extender/filter.h"

#include <grpcpp/grpcpp.h>
#include <simdjson.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "client/extender/json_spans.h"
#include "client/k8s/object_json.h"

namespace dsd::extender {
namespace {

using Json = nlohmann::json;

// A JSON string literal for `text` (invalid UTF-8 replaced, never throws).
std::string Quoted(std::string_view text) {
  return Json(std::string(text))
      .dump(-1, ' ', false, Json::error_handler_t::replace);
}

bool IsNull(std::string_view value) { return value.empty() || value == "null"; }

// Whether `body` is JSON. simdjson validates it (grammar and UTF-8) at
// GB/s, where nlohmann::json::accept took 0.5 ms for 5,000 node names;
// what simdjson refuses, including what it cannot represent (a number
// beyond 64 bits, nesting past 1,024 levels), is left to nlohmann, which
// accepts such numbers as Go's decoder does. A worker keeps its parser's
// buffers for bodies up to 1 MiB; larger ones (full Nodes lists) get
// their own, freed at once.
bool IsJson(std::string_view body) {
  constexpr size_t kKeptCapacity = size_t{1} << 20;
  thread_local simdjson::dom::parser kept;
  thread_local std::string padded;
  simdjson::dom::parser own;
  simdjson::dom::parser& parser = body.size() <= kKeptCapacity ? kept : own;
  std::string large;
  std::string& text = body.size() <= kKeptCapacity ? padded : large;
  text.assign(body);
  text.append(simdjson::SIMDJSON_PADDING, ' ');
  if (parser.parse(text.data(), body.size(), /*realloc_if_needed=*/false)
          .error() == simdjson::SUCCESS) {
    return true;
  }
  return Json::accept(body);
}

// FailedNodes' message for a name the node cache does not have (yet).
constexpr char kNotInNodeCache[] =
    "dsd: node not yet in dsd-extender's node cache";

FilterReply BadRequest(std::string message) {
  FilterReply reply;
  reply.http_status = 400;
  reply.outcome = Outcome::kBadRequest;
  reply.body = "{\"Error\":" + Quoted(message) + "}";
  reply.error = std::move(message);
  return reply;
}

// The request, located: spans into the body.
struct Args {
  std::string_view pod;
  bool names_mode = false;  // NodeNames was not null
  // Names mode: the NodeNames elements (JSON strings as sent) and their
  // decoded values. Nodes mode: the NodeList items as sent.
  std::vector<std::string_view> elements;
  std::vector<std::string> names;
};

// Reads the ExtenderArgs envelope; an error message for a 400, else "".
std::string ReadArgs(std::string_view body, Args& args) {
  const std::vector<JsonMember> members = ObjectMembers(body);
  if (TrimJson(body).front() != '{') {
    return "the body must be a JSON object (an ExtenderArgs: Pod, Nodes or "
           "NodeNames)";
  }
  args.pod = FindMemberIgnoringCase(members, "Pod");
  if (IsNull(args.pod)) return "ExtenderArgs has no Pod";
  if (args.pod.front() != '{') return "ExtenderArgs.Pod must be an object";
  const std::string_view names = FindMemberIgnoringCase(members, "NodeNames");
  if (!IsNull(names)) {
    if (names.front() != '[') {
      return "ExtenderArgs.NodeNames must be a list of node names or null";
    }
    args.names_mode = true;
    args.elements = ArrayElements(names);
    for (std::string_view e : args.elements) {
      if (e.front() != '"') {
        return "ExtenderArgs.NodeNames must hold only strings";
      }
    }
    return "";  // decoded only when needed (DecodeNames): not to pass through
  }
  const std::string_view nodes = FindMemberIgnoringCase(members, "Nodes");
  if (IsNull(nodes)) return "";
  if (nodes.front() != '{') {
    return "ExtenderArgs.Nodes must be a NodeList object or null";
  }
  const std::string_view items =
      FindMemberIgnoringCase(ObjectMembers(nodes), "items");
  if (IsNull(items)) return "";
  if (items.front() != '[') return "ExtenderArgs.Nodes.items must be a list";
  args.elements = ArrayElements(items);
  for (std::string_view e : args.elements) {
    if (e.front() != '{') {
      return "ExtenderArgs.Nodes.items must hold only Node objects";
    }
  }
  return "";
}

// The NodeNames elements' values. A node name (a DNS subdomain) has no
// escapes, so it is the text between the quotes; anything else is decoded
// by the JSON parser (the body has been validated as JSON).
void DecodeNames(Args& args) {
  args.names.reserve(args.elements.size());
  for (std::string_view e : args.elements) {
    if (e.size() >= 2 && e.find('\\') == std::string_view::npos) {
      args.names.emplace_back(e.substr(1, e.size() - 2));
    } else {
      args.names.push_back(Json::parse(e).get<std::string>());
    }
  }
}

// Appends `text` as a JSON string literal: as it is between quotes when it
// needs no escape (node names, dsd's messages), else as Quoted.
void AppendQuoted(std::string& out, std::string_view text) {
  const bool plain = std::all_of(text.begin(), text.end(), [](char c) {
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
  });
  if (!plain) {
    out += Quoted(text);
    return;
  }
  out += '"';
  out += text;
  out += '"';
}

// A FailedAndUnresolvableNodes entry: the node and its message, already a
// JSON string literal (shared by the nodes refused alike).
struct Refused {
  std::string_view node;
  const std::string* message;  // held by the caller
};

// ExtenderFilterResult. `passed` indexes args.elements.
std::string ResultBody(
    const Args& args, const std::vector<size_t>& passed,
    const std::vector<std::pair<std::string, std::string>>& failed,
    const std::vector<Refused>& unresolvable, const std::string& error) {
  size_t size = 256;
  for (const size_t i : passed) size += args.elements[i].size() + 1;
  for (const auto& [node, message] : failed) size += node.size() + 64;
  for (const Refused& r : unresolvable) {
    size += r.node.size() + r.message->size() + 4;
  }
  std::string out;
  out.reserve(size);
  const auto list = [&] {
    out += '[';
    for (size_t i = 0; i < passed.size(); ++i) {
      if (i > 0) out += ',';
      out += args.elements[passed[i]];
    }
    out += ']';
  };
  if (!error.empty()) {
    out += "{\"Nodes\":null,\"NodeNames\":null";
  } else if (args.names_mode) {
    out += "{\"Nodes\":null,\"NodeNames\":";
    list();
  } else {
    out += "{\"Nodes\":{\"metadata\":{},\"items\":";
    list();
    out += "},\"NodeNames\":null";
  }
  out += ",\"FailedNodes\":{";
  for (size_t i = 0; i < failed.size(); ++i) {
    if (i > 0) out += ',';
    AppendQuoted(out, failed[i].first);
    out += ':';
    AppendQuoted(out, failed[i].second);
  }
  out += "},\"FailedAndUnresolvableNodes\":{";
  for (size_t i = 0; i < unresolvable.size(); ++i) {
    if (i > 0) out += ',';
    AppendQuoted(out, unresolvable[i].node);
    out += ':';
    out += *unresolvable[i].message;
  }
  out += '}';
  out += ",\"Error\":" + Quoted(error) + "}";
  return out;
}

FilterReply ErrorReply(const Args& args, FilterReply reply, std::string error) {
  reply.outcome = Outcome::kError;
  reply.nodes_passed = 0;
  reply.body = ResultBody(args, {}, {}, {}, error);
  reply.error = std::move(error);
  return reply;
}

std::string ProblemsText(const std::vector<client::InputProblem>& problems) {
  std::string out = problems.front().ToString();
  if (problems.size() > 1) {
    out += " (and " + std::to_string(problems.size() - 1) + " more)";
  }
  return out;
}

std::string CodeName(grpc::StatusCode code) {
  // grpc::StatusCode and absl::StatusCode both number google.rpc.Code.
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

}  // namespace

std::string_view OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kPassedThrough:
      return "passed_through";
    case Outcome::kDecided:
      return "decided";
    case Outcome::kError:
      return "error";
    case Outcome::kBadRequest:
      return "bad_request";
  }
  return "unknown";
}

std::string RefusalMessage(const std::string& daemon_set,
                           const v1::NodeExplanation& failed) {
  // dsd-server's predicates name node facts (labels, the node's name); the
  // scheduler aggregates refusals by message, so each is reduced to the
  // rule it broke. The taint is kept: equal taints aggregate, and which
  // taint is missing a toleration is what a person needs to know.
  std::vector<std::string> parts;
  const auto add = [&parts](std::string part) {
    if (std::find(parts.begin(), parts.end(), part) == parts.end()) {
      parts.push_back(std::move(part));
    }
  };
  for (const std::string& p : failed.failed_predicates()) {
    const auto starts = [&p](std::string_view prefix) {
      return p.rfind(prefix, 0) == 0;
    };
    if (starts("... and ")) continue;  // the rest of a cut list
    if (starts("pod template nodeName ")) {
      add("the pod template's nodeName names another node");
    } else if (starts("node label ") || starts("node has no label ")) {
      add("node(s) didn't match the nodeSelector");
    } else if (starts("required node affinity")) {
      add("node(s) didn't match the required node affinity");
    } else if (const size_t end = p.find(" is not tolerated");
               starts("taint ") && end != std::string::npos) {
      add("node(s) had untolerated taint " + p.substr(6, end - 6));
    } else {
      add("node(s) didn't satisfy the DaemonSet's placement rules");
    }
  }
  if (parts.empty()) {
    add("node(s) didn't satisfy the DaemonSet's placement rules");
  }
  std::string out = "dsd: DaemonSet " + daemon_set + ": ";
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += "; ";
    out += parts[i];
  }
  return out;
}

FilterReply Filter::Handle(std::string_view body) const {
  if (!IsJson(body)) {
    std::string message = "malformed JSON";
    try {
      const Json parsed = Json::parse(body);  // only for its error text
    } catch (const Json::exception& e) {
      message += ": ";
      message += e.what();
    }
    return BadRequest(std::move(message));
  }
  Args args;
  if (std::string problem = ReadArgs(body, args); !problem.empty()) {
    return BadRequest(std::move(problem));
  }
  FilterReply reply;
  reply.nodes_sent = args.elements.size();
  const Json pod = Json::parse(args.pod);
  const std::optional<client::DaemonSetOwner> owner =
      client::DaemonSetOwnerOf(pod);
  if (const Json* meta = pod.contains("metadata") ? &pod["metadata"] : nullptr;
      meta != nullptr && meta->is_object()) {
    const auto ns = meta->find("namespace");
    const auto name = meta->find("name");
    reply.pod =
        (ns != meta->end() && ns->is_string() ? ns->get<std::string>()
                                              : std::string("default")) +
        "/" +
        (name != meta->end() && name->is_string() ? name->get<std::string>()
                                                  : std::string());
  }

  std::vector<size_t> passed;
  if (!owner.has_value()) {
    // Not a daemon pod: dsd has nothing to say about it.
    for (size_t i = 0; i < args.elements.size(); ++i) passed.push_back(i);
    reply.outcome = Outcome::kPassedThrough;
    reply.nodes_passed = passed.size();
    reply.body = ResultBody(args, passed, {}, {}, "");
    return reply;
  }

  // The DaemonSet: its current spec when known, else the pod's own.
  const std::string ds_name = owner->namespace_name + "/" + owner->name;
  v1::FilterRequest request;
  const std::shared_ptr<const v1::DaemonSet> current =
      daemon_sets_ == nullptr
          ? nullptr
          : daemon_sets_->Find(owner->namespace_name, owner->name, owner->uid);
  if (current != nullptr) {
    *request.mutable_daemon_set() = *current;
  } else {
    std::vector<client::InputProblem> problems;
    *request.mutable_daemon_set() =
        client::DaemonSetFromPod(pod, *owner, problems);
    if (!problems.empty()) {
      return ErrorReply(args, std::move(reply),
                        "dsd: cannot read the pod: " + ProblemsText(problems));
    }
  }

  // The nodes, and which request element each one is; with node names
  // and a cached DaemonSet, the remembered verdicts of unchanged nodes.
  std::vector<size_t> element_of;  // parallel to request.nodes
  std::vector<std::pair<std::string, std::string>> failed;
  std::vector<Refused> unresolvable;
  std::vector<std::shared_ptr<const std::string>> held;  // refusal texts
  std::vector<uint64_t> asked;  // names mode: versions of request.nodes
  const auto now = Verdicts::Clock::now();
  if (args.names_mode) {
    DecodeNames(args);
    if (nodes_ == nullptr) {
      return ErrorReply(
          args, std::move(reply),
          "dsd: dsd-extender has no node cache, so it cannot filter node "
          "names: start it with --node_cache (and API access), or configure "
          "the extender with nodeCacheCapable: false");
    }
    // Without a cached DaemonSet nothing is remembered: every name is
    // looked up once, below.
    std::vector<size_t> unknown;  // indexes of the names to ask about
    if (current == nullptr) {
      for (size_t i = 0; i < args.names.size(); ++i) unknown.push_back(i);
    } else {
      std::vector<uint64_t> versions(args.names.size());
      nodes_->Visit(args.names,
                    [&](size_t i, const v1::Node*, uint64_t version) {
                      versions[i] = version;
                    });
      const std::vector<Verdicts::Known> known =
          verdicts_->Find(current, versions, now, held);
      for (size_t i = 0; i < versions.size(); ++i) {
        if (versions[i] == 0) {
          failed.emplace_back(args.names[i], kNotInNodeCache);
        } else if (!known[i].known) {
          unknown.push_back(i);
        } else if (known[i].refusal == nullptr) {
          passed.push_back(i);
        } else {
          unresolvable.push_back({args.names[i], known[i].refusal});
        }
      }
      reply.nodes_remembered = versions.size() - failed.size() - unknown.size();
    }
    if (!unknown.empty()) {
      // The nodes as they are now (one may have changed since the first
      // look: its version is what gets remembered).
      std::vector<std::string> names;
      for (size_t i : unknown) names.push_back(args.names[i]);
      nodes_->Visit(names,
                    [&](size_t j, const v1::Node* node, uint64_t version) {
                      if (node == nullptr) {
                        // Transient: the watch has not delivered it yet.
                        failed.emplace_back(names[j], kNotInNodeCache);
                        return;
                      }
                      *request.add_nodes() = *node;
                      element_of.push_back(unknown[j]);
                      asked.push_back(version);
                    });
    }
  } else {
    std::vector<client::InputProblem> problems;
    for (size_t i = 0; i < args.elements.size(); ++i) {
      *request.add_nodes() =
          client::NodeFromJson(Json::parse(args.elements[i]), problems);
      element_of.push_back(i);
    }
    if (!problems.empty()) {
      return ErrorReply(args, std::move(reply),
                        "dsd: cannot read Nodes: " + ProblemsText(problems));
    }
  }

  if (request.nodes_size() > 0) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         options_.decide_timeout);
    v1::FilterResponse response;
    const grpc::Status status = dsd_->Filter(&context, request, &response);
    if (!status.ok()) {
      return ErrorReply(args, std::move(reply),
                        "dsd: " + options_.server_label + " answered " +
                            CodeName(status.error_code()) + ": " +
                            status.error_message());
    }
    // Each node's verdict: passed, or refused with its message (one
    // string for the nodes refused alike).
    std::unordered_map<std::string_view, Verdict> verdict_of;
    for (const std::string& name : response.feasible_nodes()) {
      verdict_of[name] = Verdict{};
    }
    std::unordered_map<std::string, std::shared_ptr<const std::string>> words;
    for (const v1::NodeExplanation& f : response.failed_nodes()) {
      std::string message;
      AppendQuoted(message, RefusalMessage(ds_name, f));
      auto& shared = words[message];
      if (shared == nullptr) {
        shared = std::make_shared<const std::string>(std::move(message));
        held.push_back(shared);
      }
      verdict_of[f.node()] = Verdict{shared};
    }
    std::vector<uint64_t> versions;
    std::vector<Verdict> verdicts;
    for (int i = 0; i < request.nodes_size(); ++i) {
      const size_t element = element_of[static_cast<size_t>(i)];
      const auto it = verdict_of.find(request.nodes(i).name());
      if (it == verdict_of.end()) continue;  // dsd-server named it nowhere
      if (it->second.passed()) {
        passed.push_back(element);
      } else {
        unresolvable.push_back({args.names_mode
                                    ? std::string_view(args.names[element])
                                    : std::string_view(request.nodes(i).name()),
                                it->second.refusal.get()});
      }
      if (!asked.empty()) {
        versions.push_back(asked[static_cast<size_t>(i)]);
        verdicts.push_back(it->second);
      }
    }
    if (current != nullptr && !versions.empty()) {
      verdicts_->Remember(current, versions, verdicts, now);
    }
  }
  // Passing nodes are echoed in request order (remembered ones came first).
  if (!std::is_sorted(passed.begin(), passed.end())) {
    std::sort(passed.begin(), passed.end());
  }
  reply.outcome = Outcome::kDecided;
  reply.nodes_passed = passed.size();
  reply.body = ResultBody(args, passed, failed, unresolvable, "");
  return reply;
}

}  // namespace dsd::extender
