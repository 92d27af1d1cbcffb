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
#include <cstring>
#include <deque>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
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

// Whether simdjson accepts `body` (grammar and UTF-8, at GB/s, where
// nlohmann::json::accept took 0.5 ms for 5,000 node names). What it
// refuses includes what it cannot represent (a number beyond 64 bits,
// nesting past 1,024 levels): the caller then asks nlohmann, which accepts
// such numbers as Go's decoder does. For a body up to 1 MiB, `root` gets
// the document, held by this thread's parser until its next call; a larger
// one (a full Nodes list) gets a parser of its own, freed at once, and is
// read from its text.
bool SimdjsonAccepts(std::string_view body,
                     std::optional<simdjson::dom::element>& root) {
  constexpr size_t kKeptCapacity = size_t{1} << 20;
  thread_local simdjson::dom::parser kept;
  thread_local std::string padded;
  simdjson::dom::parser own;
  const bool small = body.size() <= kKeptCapacity;
  std::string large;
  std::string& text = small ? padded : large;
  text.assign(body);
  text.append(simdjson::SIMDJSON_PADDING, ' ');
  simdjson::dom::element parsed;
  if ((small ? kept : own)
          .parse(text.data(), body.size(), /*realloc_if_needed=*/false)
          .get(parsed) != simdjson::SUCCESS) {
    return false;
  }
  if (small) root = parsed;
  return true;
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

// The request, located. Not copied: its views point into itself.
struct Args {
  Args() = default;
  Args(const Args&) = delete;
  Args& operator=(const Args&) = delete;

  std::string_view pod;     // the Pod object's JSON text
  std::string pod_text;     // holds it when written out of simdjson's document
  bool names_mode = false;  // NodeNames was not null
  // Names mode: the NodeNames values, escapes decoded; they point into the
  // document, the body or `decoded`.
  std::vector<std::string_view> names;
  // Names and member keys the text reader decoded.
  std::deque<std::string> decoded;
  // Nodes mode: the NodeList items as sent, echoed byte for byte.
  std::vector<std::string_view> items;
  size_t size() const { return names_mode ? names.size() : items.size(); }
};

// The value of a JSON string from the text between its quotes: that text
// itself when it has no escapes (node names and keys, as a rule), else
// decoded by nlohmann into `decoded`. The body has been validated as
// JSON, so the string is valid.
std::string_view Unescaped(std::string_view between_quotes,
                           std::deque<std::string>& decoded) {
  if (between_quotes.find('\\') == std::string_view::npos) {
    return between_quotes;
  }
  const Json value = Json::parse("\"" + std::string(between_quotes) + "\"",
                                 nullptr, /*allow_exceptions=*/false);
  if (!value.is_string()) return between_quotes;
  return decoded.emplace_back(value.get<std::string>());
}

// The members of the object `object`, read from its text, each key decoded
// as Go's decoder (and simdjson's document) matches it: "P\u006fd" is Pod.
std::vector<JsonMember> DecodedMembers(std::string_view object,
                                       std::deque<std::string>& decoded) {
  std::vector<JsonMember> members = ObjectMembers(object);
  for (JsonMember& m : members) m.key = Unescaped(m.key, decoded);
  return members;
}

// The envelope's 400s, worded alike whichever reader finds them.
constexpr char kNotArgs[] =
    "the body must be a JSON object (an ExtenderArgs: Pod, Nodes or "
    "NodeNames)";
constexpr char kNoPod[] = "ExtenderArgs has no Pod";
constexpr char kPodNotObject[] = "ExtenderArgs.Pod must be an object";
constexpr char kNamesNotList[] =
    "ExtenderArgs.NodeNames must be a list of node names or null";
constexpr char kNamesNotStrings[] =
    "ExtenderArgs.NodeNames must hold only strings";

// Reads the ExtenderArgs envelope from the body's text; an error message
// for a 400, else "".
std::string ReadArgs(std::string_view body, Args& args) {
  const std::vector<JsonMember> members = DecodedMembers(body, args.decoded);
  if (TrimJson(body).front() != '{') return kNotArgs;
  args.pod = FindMemberIgnoringCase(members, "Pod");
  if (IsNull(args.pod)) return kNoPod;
  if (args.pod.front() != '{') return kPodNotObject;
  const std::string_view names = FindMemberIgnoringCase(members, "NodeNames");
  if (!IsNull(names)) {
    if (names.front() != '[') return kNamesNotList;
    args.names_mode = true;
    for (std::string_view e : ArrayElements(names)) {
      if (e.front() != '"') return kNamesNotStrings;
      args.names.push_back(Unescaped(e.substr(1, e.size() - 2), args.decoded));
    }
    return "";
  }
  const std::string_view nodes = FindMemberIgnoringCase(members, "Nodes");
  if (IsNull(nodes)) return "";
  if (nodes.front() != '{') {
    return "ExtenderArgs.Nodes must be a NodeList object or null";
  }
  const std::string_view items =
      FindMemberIgnoringCase(DecodedMembers(nodes, args.decoded), "items");
  if (IsNull(items)) return "";
  if (items.front() != '[') return "ExtenderArgs.Nodes.items must be a list";
  args.items = ArrayElements(items);
  for (std::string_view e : args.items) {
    if (e.front() != '{') {
      return "ExtenderArgs.Nodes.items must hold only Node objects";
    }
  }
  return "";
}

// The same from simdjson's document, without scanning the text again: a
// 5,000-name body is read in a tenth of the time. nullopt when the
// envelope carries a Nodes list, which is read from the text (its items
// are echoed as sent).
std::optional<std::string> ReadArgs(simdjson::dom::element root, Args& args) {
  simdjson::dom::object members;
  if (root.get(members) != simdjson::SUCCESS) return kNotArgs;
  // Go's decoder: keys match ignoring case, a later duplicate wins.
  simdjson::dom::element pod, names;
  bool have_pod = false, have_names = false;
  for (const simdjson::dom::key_value_pair member : members) {
    const absl::string_view key(member.key.data(), member.key.size());
    if (absl::EqualsIgnoreCase(key, "Pod")) {
      pod = member.value;
      have_pod = true;
    } else if (absl::EqualsIgnoreCase(key, "NodeNames")) {
      names = member.value;
      have_names = true;
    }
  }
  using Type = simdjson::dom::element_type;
  if (!have_pod || pod.type() == Type::NULL_VALUE) return kNoPod;
  if (pod.type() != Type::OBJECT) return kPodNotObject;
  if (!have_names || names.type() == Type::NULL_VALUE) return std::nullopt;
  simdjson::dom::array list;
  if (names.get(list) != simdjson::SUCCESS) return kNamesNotList;
  args.names_mode = true;
  args.names.reserve(list.size());
  for (const simdjson::dom::element e : list) {
    std::string_view name;
    if (e.get(name) != simdjson::SUCCESS) return kNamesNotStrings;
    args.names.push_back(name);
  }
  args.pod_text = simdjson::minify(pod);
  args.pod = args.pod_text;
  return "";
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
  // One resize and one copy: this runs for each of thousands of names.
  const size_t at = out.size();
  out.resize(at + text.size() + 2);
  char* p = out.data() + at;
  p[0] = '"';
  std::memcpy(p + 1, text.data(), text.size());
  p[text.size() + 1] = '"';
}

// A FailedAndUnresolvableNodes entry: the node and its message, already a
// JSON string literal (shared by the nodes refused alike).
struct Refused {
  std::string_view node;
  const std::string* message;  // held by the caller
};

// ExtenderFilterResult. `passed` indexes args.names or args.items.
std::string ResultBody(
    const Args& args, const std::vector<size_t>& passed,
    const std::vector<std::pair<std::string, std::string>>& failed,
    const std::vector<Refused>& unresolvable, const std::string& error) {
  size_t size = 256;
  for (const size_t i : passed) {
    size +=
        (args.names_mode ? args.names[i].size() + 2 : args.items[i].size()) + 1;
  }
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
      if (args.names_mode) {
        AppendQuoted(out, args.names[passed[i]]);
      } else {
        out += args.items[passed[i]];
      }
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
  std::optional<simdjson::dom::element> root;
  if (!SimdjsonAccepts(body, root) && !Json::accept(body)) {
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
  std::optional<std::string> problem;
  if (root.has_value()) problem = ReadArgs(*root, args);
  if (!problem.has_value()) problem = ReadArgs(body, args);
  if (!problem->empty()) return BadRequest(std::move(*problem));
  FilterReply reply;
  reply.nodes_sent = args.size();
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
    for (size_t i = 0; i < args.size(); ++i) passed.push_back(i);
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
          failed.emplace_back(std::string(args.names[i]), kNotInNodeCache);
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
      std::vector<std::string_view> names;
      for (size_t i : unknown) names.push_back(args.names[i]);
      nodes_->Visit(
          names, [&](size_t j, const v1::Node* node, uint64_t version) {
            if (node == nullptr) {
              // Transient: the watch has not delivered it yet.
              failed.emplace_back(std::string(names[j]), kNotInNodeCache);
              return;
            }
            *request.add_nodes() = *node;
            element_of.push_back(unknown[j]);
            asked.push_back(version);
          });
    }
  } else {
    std::vector<client::InputProblem> problems;
    for (size_t i = 0; i < args.items.size(); ++i) {
      *request.add_nodes() =
          client::NodeFromJson(Json::parse(args.items[i]), problems);
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
                                    ? args.names[element]
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
