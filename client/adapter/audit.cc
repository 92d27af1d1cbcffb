#include "client/adapter/audit.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <malloc.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <thread>
#include <utility>

#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/common/connection.h"
#include "client/k8s/snapshot_loader.h"
#include "google/protobuf/io/coded_stream.h"

namespace dsd::adapter {
namespace {

std::string Rfc3339(Clock::time_point t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromChrono(t),
                          absl::UTCTimeZone());
}

std::string LabelValue(const std::string& s) {
  std::string out;
  for (char c : client::Printable(s)) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

nlohmann::json ActionJson(const Action& a) {
  nlohmann::json j = {
      {"action", a.action}, {"node", a.node}, {"since", Rfc3339(a.since)}};
  if (a.action == "delete") {
    j["pod"] = a.pod;
    j["reason"] = a.reason;
    j["message"] = a.message;
  }
  if (a.has_explanation) {
    j["explanation"] = {{"shouldRun", a.should_run},
                        {"shouldContinueRunning", a.should_continue_running},
                        {"failedPredicates", a.failed_predicates}};
  }
  return j;
}

// Upper bounds of the per-batch histograms.
constexpr double kSecondsBuckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                      0.5,   1,    2.5,   5,    10};
constexpr int kSizeBuckets[] = {1, 2, 4, 8, 16, 32, 64, 128};

// Where a Pod or ControllerRevision is filed (the reflectors' index):
// "ds:<ns>/<name>" when its controller owner reference is a DaemonSet,
// "orphan:<ns>" when it has no controller (a pod only while it is not
// terminating: dsd, as upstream, never adopts a dying pod), "" otherwise
// (another controller's object: no DaemonSet's plan reads it).
std::string OwnerIndex(const nlohmann::json& object, bool pod) {
  if (!object.is_object()) return "";
  const auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return "";
  const auto ns = meta->find("namespace");
  const std::string namespace_ =
      ns != meta->end() && ns->is_string() ? ns->get<std::string>() : "";
  const auto refs = meta->find("ownerReferences");
  if (refs != meta->end() && refs->is_array()) {
    for (const nlohmann::json& ref : *refs) {
      if (!ref.is_object() || ref.value("controller", nlohmann::json()) != true)
        continue;
      const auto kind = ref.find("kind");
      const auto name = ref.find("name");
      if (kind != ref.end() && *kind == "DaemonSet" && name != ref.end() &&
          name->is_string()) {
        return "ds:" + namespace_ + "/" + name->get<std::string>();
      }
      return "";
    }
  }
  if (pod) {
    const auto deleting = meta->find("deletionTimestamp");
    if (deleting != meta->end() && !deleting->is_null()) return "";
  }
  return "orphan:" + namespace_;
}

std::string NamespaceOf(const std::string& key) {
  return key.substr(0, key.find('/'));
}

// What the store keeps of a Node, DaemonSet or Pod (ReflectorOptions::
// encode): the object converted once, when it arrives, by the loader that
// reads kubectl's JSON: '+' and its dsd.v1 message's bytes, or '!' and the
// conversion's problems, one per line ("" for an object the loader
// skipped). A round then parses messages instead of converting JSON, and
// the store holds a fraction of the JSON's bytes.
std::string EncodeConverted(const std::string& slim_json,
                            const std::string& source) {
  client::SnapshotLoader loader(int64_t{1} << 40);
  loader.AddText(slim_json, source);
  const client::LoadedSnapshot loaded = loader.Finish();
  if (!loaded.problems.empty()) {
    std::string out = "!";
    for (const client::InputProblem& p : loaded.problems) {
      out += p.ToString() + "\n";
    }
    return out;
  }
  const v1::Snapshot& s = loaded.snapshot;
  const google::protobuf::Message* message = nullptr;
  if (!s.nodes().empty()) message = &s.nodes(0);
  if (!s.daemon_sets().empty()) message = &s.daemon_sets(0);
  if (!s.pods().empty()) message = &s.pods(0);
  if (message == nullptr) return "";
  std::string out;
  out.reserve(1 + message->ByteSizeLong());
  out += '+';
  message->AppendToString(&out);
  return out;
}

bool IsMessage(std::string_view stored) {
  return !stored.empty() && stored[0] == '+';
}

std::string_view Payload(std::string_view stored) { return stored.substr(1); }

// The message a stored object holds; false for one its converter refused.
bool ParseStored(std::string_view stored, google::protobuf::MessageLite& m) {
  if (!IsMessage(stored)) return false;
  const std::string_view bytes = Payload(stored);
  return m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
}

// The problems EncodeConverted stored ('!'), one line each.
void AddProblems(std::string_view stored, std::vector<std::string>& out) {
  if (stored.empty() || stored[0] != '!') return;
  size_t start = 1;
  for (size_t end; (end = stored.find('\n', start)) != std::string::npos;
       start = end + 1) {
    out.emplace_back(stored.substr(start, end - start));
  }
}

enum class Kind { kDaemonSet, kPod };

// Adds what EncodeConverted stored to `out`: the message with its origin,
// or the problems.
void AddStored(Kind kind, std::string_view stored, const std::string& source,
               client::LoadedSnapshot& out) {
  if (!IsMessage(stored)) {
    std::vector<std::string> lines;
    AddProblems(stored, lines);
    for (std::string& line : lines) {
      out.problems.push_back({"", "", "", std::move(line)});
    }
    return;
  }
  const std::string_view bytes = Payload(stored);
  const auto size = static_cast<int>(bytes.size());
  if (kind == Kind::kDaemonSet) {
    v1::DaemonSet& ds = *out.snapshot.add_daemon_sets();
    ds.ParseFromArray(bytes.data(), size);
    out.daemon_sets.push_back(
        {source, "DaemonSet " + ds.namespace_() + "/" + ds.name()});
  } else {
    v1::Pod& pod = *out.snapshot.add_pods();
    pod.ParseFromArray(bytes.data(), size);
    out.pods.push_back({source, "Pod " + pod.namespace_() + "/" + pod.name()});
  }
}

// Protobuf's wire format for a length-delimited field, so that a request
// is built from stored message bytes without parsing them.
void AppendVarint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out += static_cast<char>((value & 0x7F) | 0x80);
    value >>= 7;
  }
  out += static_cast<char>(value);
}

void AppendField(std::string& out, int field, std::string_view bytes) {
  AppendVarint(out, static_cast<uint64_t>(field) << 3 | 2);
  AppendVarint(out, bytes.size());
  out.append(bytes.data(), bytes.size());
}

// The bytes AppendField adds for a field number below 16.
int64_t FieldSize(size_t payload) {
  return static_cast<int64_t>(
      1 + google::protobuf::io::CodedOutputStream::VarintSize64(payload) +
      payload);
}

// One unary call through `stub`, waited for on a completion queue of its
// own, as a blocking stub does. Not the generic stub's callback UnaryCall:
// gRPC 1.51 delivers that on its callback threads, which sleep 100 ms
// after each idle second without polling, so an answer arriving then
// waited up to 100 ms (see server/transport/grpc_service.h).
grpc::Status CallAndWait(grpc::GenericStub& stub, grpc::ClientContext& context,
                         const std::string& method,
                         const grpc::ByteBuffer& request,
                         grpc::ByteBuffer& response) {
  grpc::CompletionQueue queue;
  const std::unique_ptr<grpc::GenericClientAsyncResponseReader> call =
      stub.PrepareUnaryCall(&context, method, request, &queue);
  call->StartCall();
  grpc::Status status;
  call->Finish(&response, &status, &status);
  void* tag = nullptr;
  bool ok = false;
  const bool got = queue.Next(&tag, &ok);
  queue.Shutdown();
  while (queue.Next(&tag, &ok)) {
  }
  if (!got) {
    return grpc::Status(grpc::StatusCode::INTERNAL,
                        "the call's completion queue ended without an answer");
  }
  return status;
}

// The pods a DaemonSet ("ns/name") controls, as `pods` stores them (those
// its converter refused left out).
std::function<std::vector<v1::Pod>(const std::string&)> StoredPods(
    const kube::Reflector& pods) {
  return [&pods](const std::string& key) {
    std::vector<v1::Pod> out;
    pods.ForEachIndexed("ds:" + key, [&out](std::string_view stored) {
      if (!ParseStored(stored, out.emplace_back())) out.pop_back();
    });
    return out;
  };
}

// Drops the explanations of nodes without an action: the drift tracker
// reads no other. dsd-server sends only those when asked
// (explain_action_nodes_only); one older than that option sends one per
// node and DaemonSet (250,000 at 5,000 nodes and 50 DaemonSets).
void KeepActionExplanations(v1::DecideResponse& response) {
  for (v1::DaemonSetPlan& plan : *response.mutable_daemon_sets()) {
    std::set<std::string_view> nodes;
    for (const v1::PodCreate& c : plan.create()) nodes.insert(c.node());
    for (const v1::PodDelete& d : plan.delete_()) nodes.insert(d.node());
    google::protobuf::RepeatedPtrField<v1::NodeExplanation> kept;
    for (v1::NodeExplanation& e : *plan.mutable_explanations()) {
      if (nodes.count(e.node()) > 0) *kept.Add() = std::move(e);
    }
    plan.mutable_explanations()->Swap(&kept);
  }
}

// The objects of a DecideRequest's bytes, to name the one a field path of
// the server's answer points at (only after a failed call).
client::LoadedSnapshot Origins(const std::string& request,
                               const std::string& source) {
  v1::DecideRequest parsed;
  parsed.ParseFromString(request);
  client::LoadedSnapshot out;
  for (const v1::Node& n : parsed.snapshot().nodes()) {
    out.nodes.push_back({source, "Node " + n.name()});
  }
  for (const v1::DaemonSet& ds : parsed.snapshot().daemon_sets()) {
    out.daemon_sets.push_back(
        {source, "DaemonSet " + ds.namespace_() + "/" + ds.name()});
  }
  for (const v1::Pod& pod : parsed.snapshot().pods()) {
    out.pods.push_back({source, "Pod " + pod.namespace_() + "/" + pod.name()});
  }
  return out;
}

}  // namespace

Auditor::Auditor(kube::RestConfig config, AuditOptions options,
                 std::ostream& log)
    : config_(std::move(config)),
      options_(std::move(options)),
      log_(log),
      tracker_(std::chrono::milliseconds(
          static_cast<int64_t>(options_.drift_after_seconds * 1000))) {
  kube::ClientOptions kube = options_.kube;
  kube.on_call = [this](const std::string& verb, int code) {
    std::lock_guard<std::mutex> lock(mu_);
    ++api_calls_[{verb, code}];
  };
  client_ = std::make_unique<kube::Client>(config_, kube);
  if (options_.apply) {
    const LogFn log_line =
        [this](const std::string& level, const std::string& message,
               const std::vector<std::pair<std::string, std::string>>& f) {
          Log(level, message, f);
        };
    // Events have their own client, and so their own rate limit: they
    // never slow the pods' requests.
    events_client_ = std::make_unique<kube::Client>(config_, kube);
    applier_ = std::make_unique<Applier>(*client_, options_.apply_options,
                                         log_line, events_client_.get());
    // The lease too, as kube-controller-manager gives leader election its
    // own clientset: behind a queue of throttled pod requests a renewal
    // would wait past the renew deadline and the leader would lose the
    // lease mid-rollout.
    if (options_.leader_elect) {
      leader_client_ = std::make_unique<kube::Client>(config_, kube);
      leader_ = std::make_unique<LeaderElector>(*leader_client_,
                                                options_.leader, log_line);
    }
  }
  for (const kube::Resource* r : {&kube::kNodes, &kube::kDaemonSets,
                                  &kube::kPods, &kube::kControllerRevisions}) {
    kube::ReflectorOptions ro;
    ro.page_size = options_.page_size;
    if (r != &kube::kControllerRevisions) {
      ro.encode = [source = "cluster " + config_.server](std::string json) {
        return EncodeConverted(json, source);
      };
    }
    if (r->namespaced) ro.namespace_ = options_.namespace_;
    if (r == &kube::kDaemonSets) ro.label_selector = options_.selector;
    ro.log = [this](const std::string& line) {
      Log("warning", "kubernetes api: " + line);
    };
    if (r == &kube::kNodes) {
      ro.on_change = [this](const std::string& type,
                            const nlohmann::json& object, const std::string&) {
        if (type == "ADDED" && applier_) {
          const auto meta = object.find("metadata");
          const std::string name = meta != object.end() && meta->is_object()
                                       ? meta->value("name", "")
                                       : "";
          if (!name.empty()) {
            {
              std::lock_guard<std::mutex> lock(dirty_mu_);
              added_nodes_.insert(name);
            }
            added_cv_.notify_all();
          }
        }
        MarkAll(type == "SYNC" ? "list" : "node");
      };
    } else if (r == &kube::kDaemonSets) {
      ro.on_change = [this](const std::string& type,
                            const nlohmann::json& object, const std::string&) {
        if (applier_) applier_->ObserveDaemonSet(type, object);
        if (type == "SYNC") return MarkAll("list");
        const auto meta = object.find("metadata");
        if (meta == object.end() || !meta->is_object()) return;
        MarkDaemonSet(
            meta->value("namespace", "") + "/" + meta->value("name", ""),
            "daemonset");
      };
    } else {
      const bool pod = r == &kube::kPods;
      const std::string reason = pod ? "pod" : "controllerrevision";
      ro.index = [pod](const nlohmann::json& object) {
        return OwnerIndex(object, pod);
      };
      ro.on_change = [this, pod, reason](const std::string& type,
                                         const nlohmann::json& object,
                                         const std::string& previous) {
        const std::string owner = type == "SYNC" ? "" : OwnerIndex(object, pod);
        // Before the marks: a round that follows reads the new epoch.
        std::string met;
        if (pod && applier_) {
          met = applier_->ObservePod(type, object, owner, previous);
          if (type == "SYNC") applier_->Relisted(StoredPods(*reflectors_[2]));
        }
        if (type == "SYNC") return MarkAll("list");
        // Both where it was filed and where it is now: a pod released by
        // one DaemonSet or turned orphan changes two plans.
        MarkOwner(previous, reason);
        MarkOwner(owner, reason);
        if (!met.empty()) {
          Mark([&](Dirty& d) {
            d.daemon_sets.emplace(met, reason);
            d.now = true;
          });
        }
      };
    }
    reflectors_.push_back(std::make_unique<kube::Reflector>(*client_, *r, ro));
  }
  decide_seconds_buckets_.assign(std::size(kSecondsBuckets) + 1, 0);
  batch_size_buckets_.assign(std::size(kSizeBuckets) + 1, 0);
}

void Auditor::Mark(const std::function<void(Dirty&)>& add) {
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(dirty_mu_);
    const auto now = std::chrono::steady_clock::now();
    const bool was_clean = dirty_.empty();
    const bool was_now = dirty_.now;
    if (was_clean) dirty_.first = now;
    dirty_.last = now;
    add(dirty_);
    wake = was_clean || (dirty_.now && !was_now);
  }
  // Wakes Run at once for a change after a quiet spell, or one due now.
  if (wake) dirty_cv_.notify_one();
}

void Auditor::MarkAll(const std::string& reason) {
  Mark([&](Dirty& d) {
    if (d.all.empty()) d.all = reason;
  });
}

void Auditor::MarkDaemonSet(const std::string& key, const std::string& reason) {
  // The first cause stays.
  Mark([&](Dirty& d) { d.daemon_sets.emplace(key, reason); });
}

void Auditor::MarkOwner(const std::string& index_value,
                        const std::string& reason) {
  if (index_value.rfind("ds:", 0) == 0) {
    MarkDaemonSet(index_value.substr(3), reason);
  } else if (index_value.rfind("orphan:", 0) == 0) {
    Mark(
        [&](Dirty& d) { d.namespaces.emplace(index_value.substr(7), reason); });
  }
}

Auditor::~Auditor() {
  client_->Stop();
  if (events_client_) events_client_->Stop();
  if (leader_client_) leader_client_->Stop();
  for (auto& r : reflectors_) r->Stop();
}

void Auditor::Log(
    const std::string& level, const std::string& message,
    const std::vector<std::pair<std::string, std::string>>& fields) {
  const std::string ts = Rfc3339(Clock::now());
  std::string line;
  if (options_.json_logs) {
    nlohmann::json j = {{"ts", ts}, {"level", level}, {"msg", message}};
    for (const auto& [k, v] : fields) j[k] = v;
    line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    line = ts + " " + level + " " + client::Printable(message);
    for (const auto& [k, v] : fields) {
      line += " " + k + "=" + client::Printable(v);
    }
  }
  std::lock_guard<std::mutex> lock(log_mu_);
  log_ << line << std::endl;
}

void Auditor::LogChange(const DriftChange& change) {
  auto fields = [](const Action& a) {
    std::vector<std::pair<std::string, std::string>> f = {
        {"daemonset", a.namespace_ + "/" + a.daemon_set},
        {"action", a.action},
        {"node", a.node}};
    if (a.action == "delete") {
      f.emplace_back("pod", a.pod);
      f.emplace_back("reason", a.reason);
      f.emplace_back("message", a.message);
    }
    f.emplace_back("since", Rfc3339(a.since));
    if (a.has_explanation && !a.failed_predicates.empty()) {
      std::string why;
      for (const std::string& p : a.failed_predicates) {
        why += (why.empty() ? "" : "; ") + p;
      }
      f.emplace_back("explanation", why);
    }
    return f;
  };
  for (const Action& a : change.started) Log("warning", "drift", fields(a));
  for (const Action& a : change.resolved) {
    Log("info", "drift resolved", fields(a));
  }
}

bool Auditor::Decide(Clock::time_point now) {
  Dirty dirty;
  {
    std::lock_guard<std::mutex> lock(dirty_mu_);
    std::swap(dirty, dirty_);
  }
  return DecideRound(dirty, nullptr, now);
}

void Auditor::DecideAddedNodes(const std::set<std::string>& added,
                               Clock::time_point now) {
  // Past a few, new nodes are a cluster growing: the full round is the
  // cheaper decision.
  constexpr size_t kMaxAddedNodes = 64;
  if (added.empty() || added.size() > kMaxAddedNodes || !applier_ ||
      (leader_ && !leader_->IsLeader())) {
    return;
  }
  Dirty every;
  every.all = "node-added";
  // A plan made stale while it was made (a pod of the DaemonSet changed),
  // one waiting on an expectation, or a round that failed, is made again
  // after 50 ms, doubling up to 1.6 s (3.15 s in all: on a loaded machine
  // a pod's events can keep coming for that long); past that, the full
  // round has them.
  for (int attempt = 0; attempt < 7; ++attempt) {
    if (attempt > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25 << attempt));
    }
    if (DecideRound(every, &added, now)) return;
  }
}

bool Auditor::DecideRound(const Dirty& dirty,
                          const std::set<std::string>* only_nodes,
                          Clock::time_point now) {
  // Ahead of the full round, for added nodes (DecideAddedNodes).
  const bool ahead = only_nodes != nullptr;
  const kube::Reflector& nodes = *reflectors_[0];
  const kube::Reflector& daemon_sets = *reflectors_[1];
  const kube::Reflector& pods = *reflectors_[2];
  const kube::Reflector& revisions = *reflectors_[3];

  // The dirty DaemonSets that exist, each with its reason; the ones that
  // are gone drop their drift.
  const std::vector<std::string> existing = daemon_sets.Keys();
  const std::set<std::string> exists(existing.begin(), existing.end());
  std::map<std::string, std::string> scope;  // "ns/name" -> reason
  for (const auto& [key, reason] : dirty.daemon_sets) {
    if (exists.count(key) > 0) scope.emplace(key, reason);
  }
  for (const std::string& key : existing) {
    if (!dirty.all.empty()) scope.emplace(key, dirty.all);
    if (auto ns = dirty.namespaces.find(NamespaceOf(key));
        ns != dirty.namespaces.end()) {
      scope.emplace(key, ns->second);
    }
  }
  std::set<std::string> gone;
  for (const auto& [key, reason] : dirty.daemon_sets) {
    if (exists.count(key) == 0) gone.insert(key);
  }
  if (!dirty.all.empty()) {
    for (const std::string& key : tracker_.DaemonSets()) {
      if (exists.count(key) == 0) gone.insert(key);
    }
  }
  if (!ahead) {
    for (const std::string& key : gone) LogChange(tracker_.Forget(key));
  }

  // Where each DaemonSet's pods stood before they are read: a plan is
  // carried out only if none of them changed since (Applier::Epoch).
  std::map<std::string, uint64_t> epochs;
  if (applier_) {
    for (const std::string& key : existing) epochs[key] = applier_->Epoch(key);
  }

  // Units decided together: one DaemonSet, or a namespace with orphan pods
  // (every DaemonSet of it, so adoption sees all candidates).
  std::vector<std::vector<std::string>> units;
  std::set<std::string> whole_namespaces;
  for (const auto& [key, reason] : scope) {
    const std::string ns = NamespaceOf(key);
    if (pods.IndexedCount("orphan:" + ns) == 0) {
      units.push_back({key});
    } else if (whole_namespaces.insert(ns).second) {
      units.emplace_back();
      for (const std::string& k : existing) {
        if (NamespaceOf(k) == ns) units.back().push_back(k);
      }
    }
  }
  for (const auto& unit : units) {
    for (const std::string& key : unit) {
      scope.emplace(key, dirty.daemon_sets.count(key) > 0
                             ? dirty.daemon_sets.at(key)
                             : "pod");  // pulled in by an orphan
    }
  }
  if (units.empty()) return true;

  // The round's requests are built from the store's message bytes as
  // they are (protobuf's wire format concatenates), so a round never holds
  // the cluster as messages: all nodes once, as the field every batch
  // carries; the scope's DaemonSets parsed, for their current revision
  // hashes; each batch's pods copied from the store when it is sent.
  const std::string source = "cluster " + config_.server;
  std::vector<std::string> problems;
  std::string nodes_field;
  auto add_node = [&](std::string_view stored) {
    if (IsMessage(stored)) {
      AppendField(nodes_field, v1::Snapshot::kNodesFieldNumber,
                  Payload(stored));
    } else {
      AddProblems(stored, problems);
    }
  };
  // The pods a round reads under a pod index value: all of them, or those
  // on (or pinned to) `only_nodes`. A pod whose bytes name none of those
  // nodes is on none of them; the others are parsed to make sure.
  auto for_pods = [&](const std::string& index,
                      const std::function<void(std::string_view)>& each) {
    if (!ahead) return pods.ForEachIndexed(index, each);
    pods.ForEachIndexed(index, [&](std::string_view stored) {
      for (const std::string& node : *only_nodes) {
        if (stored.find(node) == std::string_view::npos) continue;
        if (!IsMessage(stored)) return each(stored);
        v1::Pod pod;
        if (ParseStored(stored, pod) && only_nodes->count(TargetNodeOf(pod))) {
          return each(stored);
        }
        return;
      }
    });
  };
  if (!ahead) {
    nodes.ForEach(add_node);
  } else {
    for (const std::string& name : *only_nodes) {
      std::string stored;
      if (nodes.Get("/" + name, stored)) add_node(stored);
    }
  }
  std::set<std::string> namespaces;
  client::LoadedSnapshot converted;
  std::string revision_items;
  auto add_revision = [&revision_items](std::string_view json) {
    if (!revision_items.empty()) revision_items += ',';
    revision_items += json;
  };
  // A DaemonSet's own problems and its pods' hold back its unit alone;
  // the nodes', which every decision reads, hold back the round.
  std::map<std::string, std::vector<std::string>> own_problems;
  for (const auto& [key, reason] : scope) {
    std::string daemon_set;
    if (daemon_sets.Get(key, daemon_set)) {
      if (IsMessage(daemon_set)) {
        AddStored(Kind::kDaemonSet, daemon_set, source, converted);
      } else {
        AddProblems(daemon_set, own_problems[key]);
      }
    }
    revisions.ForEachIndexed("ds:" + key, add_revision);
    namespaces.insert(NamespaceOf(key));
  }
  for (const std::string& ns : namespaces) {
    revisions.ForEachIndexed("orphan:" + ns, add_revision);
  }
  // Each DaemonSet's current revision hash, as SnapshotLoader::Finish
  // gives it over the whole cluster: from its revisions (JSON), else from
  // its own pods, which only a DaemonSet left without a hash needs.
  auto load = [&](client::LoadedSnapshot objects) {
    client::SnapshotLoader loader(int64_t{1} << 40);
    if (!revision_items.empty()) {
      loader.AddText(R"({"apiVersion":"v1","kind":"List","items":[)" +
                         revision_items + "]}",
                     source);
    }
    loader.AddConverted(std::move(objects));
    return loader.Finish();
  };
  client::LoadedSnapshot loaded = load(converted);
  bool need_pods = false;
  for (const v1::DaemonSet& ds : loaded.snapshot.daemon_sets()) {
    if (!ds.current_revision_hash().empty()) continue;
    need_pods = true;
    // (A pod's problems are reported once, by the check below.)
    pods.ForEachIndexed("ds:" + ds.namespace_() + "/" + ds.name(),
                        [&](std::string_view stored) {
                          if (IsMessage(stored)) {
                            AddStored(Kind::kPod, stored, source, converted);
                          }
                        });
  }
  if (need_pods) {
    loaded = load(std::move(converted));
    loaded.snapshot.clear_pods();
    loaded.pods.clear();
  }
  for (const client::InputProblem& p : loaded.problems) {
    // An empty cluster is no problem for an audit.
    if (p.message.rfind("no objects in", 0) == 0) continue;
    if (p.object.rfind("DaemonSet ", 0) == 0) {
      own_problems[p.object.substr(10)].push_back(p.ToString());
    } else {
      problems.push_back(p.ToString());
    }
  }

  // Units' DaemonSets (indices into loaded), the pod index values they
  // read, their bytes and their pods' problems.
  struct Unit {
    std::vector<int> daemon_sets;
    std::vector<std::string> pod_indexes;  // "ds:ns/name", "orphan:ns"
    int64_t bytes = 0;
    std::vector<std::string> problems;  // its pods'
  };
  std::vector<Unit> parts(units.size());
  std::map<std::string, size_t> unit_of;  // "ns/name" -> unit
  for (size_t u = 0; u < units.size(); ++u) {
    for (const std::string& key : units[u]) {
      unit_of[key] = u;
      parts[u].pod_indexes.push_back("ds:" + key);
    }
    const std::string ns = NamespaceOf(units[u].front());
    if (whole_namespaces.count(ns) > 0) {
      parts[u].pod_indexes.push_back("orphan:" + ns);
    }
  }
  for (int i = 0; i < loaded.snapshot.daemon_sets_size(); ++i) {
    const v1::DaemonSet& ds = loaded.snapshot.daemon_sets(i);
    const auto it = unit_of.find(ds.namespace_() + "/" + ds.name());
    if (it == unit_of.end()) continue;
    parts[it->second].daemon_sets.push_back(i);
    parts[it->second].bytes += FieldSize(ds.ByteSizeLong());
  }
  for (Unit& unit : parts) {
    for (const std::string& index : unit.pod_indexes) {
      for_pods(index, [&](std::string_view stored) {
        if (IsMessage(stored)) {
          unit.bytes += FieldSize(Payload(stored).size());
        } else {
          AddProblems(stored, unit.problems);
        }
      });
    }
  }
  auto redo = [this](const std::map<std::string, std::string>& keys) {
    for (const auto& [key, reason] : keys) MarkDaemonSet(key, reason);
  };
  // A round for added nodes leaves problems to the full round that
  // follows it, which reports them.
  if (!problems.empty()) {
    if (ahead) return false;
    for (const std::string& p : problems) Log("error", "cluster object: " + p);
    redo(scope);
    std::lock_guard<std::mutex> lock(mu_);
    problems_ = problems;
    ++decide_errors_;
    last_decide_error_ = problems.front();
    return false;
  }
  std::vector<bool> held(units.size());
  for (size_t u = 0; u < units.size(); ++u) {
    const size_t before = problems.size();
    problems.insert(problems.end(), parts[u].problems.begin(),
                    parts[u].problems.end());
    for (const std::string& key : units[u]) {
      const auto it = own_problems.find(key);
      if (it == own_problems.end()) continue;
      problems.insert(problems.end(), it->second.begin(), it->second.end());
    }
    if (problems.size() == before) continue;
    held[u] = true;
    if (ahead) continue;
    const std::string which = absl::StrJoin(units[u], ",");
    for (size_t i = before; i < problems.size(); ++i) {
      Log("error", "cluster object: " + problems[i], {{"daemonsets", which}});
    }
    std::map<std::string, std::string> reasons;
    for (const std::string& key : units[u]) reasons[key] = scope[key];
    redo(reasons);
  }
  if (!ahead) {
    std::lock_guard<std::mutex> lock(mu_);
    problems_ = problems;
    if (!problems.empty()) {
      ++decide_errors_;
      last_decide_error_ = problems.front();
    }
  }

  // Pack units into batches.
  struct Batch {
    std::vector<size_t> units;
    std::set<std::string> keys;
    int64_t bytes = 0;  // its DaemonSets' and pods' fields, not the nodes
    grpc::Status status;
    v1::DecideResponse response;
    std::string request;  // kept when the call failed, to name objects
    double seconds = 0;
  };
  std::vector<Batch> batches;
  const auto node_bytes = static_cast<int64_t>(nodes_field.size());
  // Held by every request's slice until gRPC lets go of it.
  const auto shared_nodes =
      std::make_shared<const std::string>(std::move(nodes_field));
  for (size_t u = 0; u < units.size(); ++u) {
    if (held[u]) continue;
    const size_t count = units[u].size();
    if (batches.empty() ||
        batches.back().keys.size() + count >
            static_cast<size_t>(std::max(1, options_.max_batch_daemon_sets)) ||
        batches.back().bytes + parts[u].bytes > options_.max_batch_bytes) {
      batches.emplace_back();
    }
    Batch& b = batches.back();
    b.units.push_back(u);
    b.keys.insert(units[u].begin(), units[u].end());
    b.bytes += parts[u].bytes;
  }

  // The calls, at most decide_parallelism at once; round_robin on the
  // channel spreads them over dsd-server's addresses.
  v1::DecideOptions decide_options;
  decide_options.set_explain(true);
  decide_options.set_explain_action_nodes_only(true);  // the tracker's
  const std::string options_bytes = decide_options.SerializeAsString();
  static const std::string kMethod =
      std::string("/") + v1::DaemonSetScheduler::service_full_name() +
      "/Decide";
  auto call = [&](Batch& b) {
    // The batch's own fields; the nodes go as one slice all batches
    // share. b.bytes is exact unless a pod changed since: a string grown
    // by doubling would hold up to twice the batch.
    std::string snapshot;
    snapshot.reserve(static_cast<size_t>(b.bytes) + 4096);
    for (size_t u : b.units) {
      for (int d : parts[u].daemon_sets) {
        AppendField(snapshot, v1::Snapshot::kDaemonSetsFieldNumber,
                    loaded.snapshot.daemon_sets(d).SerializeAsString());
      }
    }
    for (size_t u : b.units) {
      for (const std::string& index : parts[u].pod_indexes) {
        // A pod that turned unusable since the check is left out: its
        // event has marked its DaemonSet for the next round.
        for_pods(index, [&](std::string_view stored) {
          if (IsMessage(stored)) {
            AppendField(snapshot, v1::Snapshot::kPodsFieldNumber,
                        Payload(stored));
          }
        });
      }
    }
    // The request: the snapshot field's tag and length, the nodes and
    // the batch's bytes (handed to gRPC, not copied), the options field.
    std::string head, tail;
    AppendVarint(head,
                 uint64_t{v1::DecideRequest::kSnapshotFieldNumber} << 3 | 2);
    AppendVarint(head, shared_nodes->size() + snapshot.size());
    AppendField(tail, v1::DecideRequest::kOptionsFieldNumber, options_bytes);
    auto* body = new std::string(std::move(snapshot));
    auto* nodes_ref = new std::shared_ptr<const std::string>(shared_nodes);
    grpc::Slice slices[] = {
        grpc::Slice(head),
        // (gRPC only reads the bytes it sends.)
        grpc::Slice(
            const_cast<char*>((*nodes_ref)->data()), (*nodes_ref)->size(),
            [](void* p) {
              delete static_cast<std::shared_ptr<const std::string>*>(p);
            },
            nodes_ref),
        grpc::Slice(
            body->data(), body->size(),
            [](void* p) { delete static_cast<std::string*>(p); }, body),
        grpc::Slice(tail)};
    grpc::ByteBuffer request_buffer(slices, std::size(slices));
    grpc::ByteBuffer response_buffer;
    grpc::ClientContext context;
    client::ApplyDeadline(options_.server, context);
    const auto start = std::chrono::steady_clock::now();
    b.status = CallAndWait(*generic_stub_, context, kMethod, request_buffer,
                           response_buffer);
    if (b.status.ok()) {
      b.status = grpc::SerializationTraits<v1::DecideResponse>::Deserialize(
          &response_buffer, &b.response);
      KeepActionExplanations(b.response);
    } else {
      std::vector<grpc::Slice> sent;
      if (request_buffer.Dump(&sent).ok()) {
        for (const grpc::Slice& slice : sent) {
          b.request.append(reinterpret_cast<const char*>(slice.begin()),
                           slice.size());
        }
      }
    }
    b.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
  };
  auto call_all = [&](std::vector<Batch>& list) {
    std::atomic<size_t> next{0};
    auto work = [&] {
      for (size_t i = next.fetch_add(1); i < list.size();
           i = next.fetch_add(1)) {
        call(list[i]);
      }
    };
    const size_t threads =
        std::min(list.size(),
                 static_cast<size_t>(std::max(1, options_.decide_parallelism)));
    std::vector<std::thread> pool;
    for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
    work();
    for (std::thread& t : pool) t.join();
  };
  call_all(batches);
  // A call refused for what it holds (an object past validation or a
  // limit) is made again one unit at a time, so that the refusal holds
  // back only the DaemonSets it is about, as upstream's controller
  // syncs each DaemonSet on its own.
  std::vector<Batch> alone;
  for (Batch& b : batches) {
    const grpc::StatusCode code = b.status.error_code();
    if (b.units.size() < 2 || (code != grpc::StatusCode::INVALID_ARGUMENT &&
                               code != grpc::StatusCode::RESOURCE_EXHAUSTED)) {
      continue;
    }
    for (size_t u : b.units) {
      Batch& one = alone.emplace_back();
      one.units = {u};
      one.keys.insert(units[u].begin(), units[u].end());
      one.bytes = parts[u].bytes;
    }
    b.keys.clear();  // replaced by its units' calls
  }
  call_all(alone);
  for (Batch& b : alone) batches.push_back(std::move(b));

  bool ok = problems.empty();
  for (const Batch& b : batches) {
    if (b.keys.empty()) continue;  // made again unit by unit
    std::map<std::string, std::string> reasons;
    for (const std::string& key : b.keys) reasons[key] = scope[key];
    if (!b.status.ok()) {
      std::string error = "dsd-server " + options_.server.server + ": " +
                          client::StatusCodeName(b.status.error_code()) + ": " +
                          client::Printable(b.status.error_message());
      const auto violations = client::FieldViolations(b.status);
      if (!violations.empty()) {
        // The path indexes this batch's request: map it to the object.
        error += " (" +
                 client::TranslateFieldPath(Origins(b.request, source),
                                            violations[0].first) +
                 ": " + client::Printable(violations[0].second) + ")";
      }
      ok = false;
      if (ahead) {
        Log("warning", "decide for added nodes failed; the full round follows",
            {{"error", error}, {"nodes", absl::StrJoin(*only_nodes, ",")}});
        continue;
      }
      Log("error", "decide failed",
          {{"error", error}, {"daemonsets", absl::StrJoin(b.keys, ",")}});
      redo(reasons);
      std::lock_guard<std::mutex> lock(mu_);
      ++decide_errors_;
      last_decide_error_ = error;
      continue;
    }
    if (ahead) {
      ok = Apply(b.response, loaded.snapshot, epochs,
                 PlanScope::kNewNodesCreates) &&
           ok;
    } else {
      LogChange(tracker_.Update(b.response, b.keys, now));
      if (applier_) {
        Apply(b.response, loaded.snapshot, epochs, PlanScope::kWhole);
      }
      const auto steady = std::chrono::steady_clock::now();
      std::lock_guard<std::mutex> lock(dirty_mu_);
      for (const v1::DaemonSetPlan& plan : b.response.daemon_sets()) {
        if (plan.requeue_after_seconds() <= 0) continue;
        const auto at =
            steady + std::chrono::seconds(plan.requeue_after_seconds());
        auto [it, fresh] =
            requeue_.emplace(plan.namespace_() + "/" + plan.name(), at);
        if (!fresh) it->second = std::min(it->second, at);
      }
    }
    std::lock_guard<std::mutex> lock(mu_);
    ++decides_;
    decide_seconds_sum_ += b.seconds;
    size_t bucket = 0;
    while (bucket < std::size(kSecondsBuckets) &&
           b.seconds > kSecondsBuckets[bucket]) {
      ++bucket;
    }
    ++decide_seconds_buckets_[bucket];
    bucket = 0;
    while (bucket < std::size(kSizeBuckets) &&
           static_cast<int>(b.keys.size()) > kSizeBuckets[bucket]) {
      ++bucket;
    }
    ++batch_size_buckets_[bucket];
    batch_size_sum_ += static_cast<int64_t>(b.keys.size());
    batch_bytes_sum_ += node_bytes + b.bytes;  // the request's
    for (const auto& [key, reason] : reasons) ++decided_by_reason_[reason];
  }
  if (ahead) return ok;
  std::lock_guard<std::mutex> lock(mu_);
  if (ok) last_decide_error_.clear();
  last_decide_at_ = Rfc3339(now);
  return ok;
}

bool Auditor::Apply(const v1::DecideResponse& response,
                    const v1::Snapshot& decided,
                    const std::map<std::string, uint64_t>& epochs,
                    PlanScope scope) {
  if (leader_ && !leader_->IsLeader()) return true;  // another replica acts
  std::lock_guard<std::mutex> acting(apply_mu_);
  const kube::Reflector& pods = *reflectors_[2];
  auto pod_of = [&pods](const std::string& key, v1::Pod& pod) {
    std::string stored;
    return pods.Get(key, stored) && ParseStored(stored, pod);
  };
  const auto pods_of = StoredPods(pods);
  bool current = true;
  for (const v1::DaemonSetPlan& plan : response.daemon_sets()) {
    const std::string key = plan.namespace_() + "/" + plan.name();
    const auto epoch = epochs.find(key);
    const auto ds = std::find_if(
        decided.daemon_sets().begin(), decided.daemon_sets().end(),
        [&](const v1::DaemonSet& d) {
          return d.namespace_() == plan.namespace_() && d.name() == plan.name();
        });
    if (epoch == epochs.end() || ds == decided.daemon_sets().end()) continue;
    auto hashes = [&pods_of, &key] {
      std::set<std::string> out;
      for (const v1::Pod& pod : pods_of(key)) {
        for (const v1::Label& l : pod.labels()) {
          if (l.key() == "controller-revision-hash") out.insert(l.value());
        }
      }
      return out;
    };
    const SyncOutcome::State state =
        applier_->Sync(plan, *ds, epoch->second, pod_of, hashes, scope).state;
    // An added node's plan waiting on another node's expectation is worth
    // another try too: the watch usually meets it within milliseconds.
    if (state == SyncOutcome::State::kStale ||
        (scope == PlanScope::kNewNodesCreates &&
         state == SyncOutcome::State::kWaiting)) {
      current = false;
    }
  }
  return current;
}

void Auditor::WriteReport(Clock::time_point now) {
  std::vector<Action> drift = tracker_.Drift(now);
  nlohmann::json report;
  {
    std::lock_guard<std::mutex> lock(mu_);
    drift_ = drift;
    report = {{"kind", "DriftReport"},
              {"generatedAt", Rfc3339(now)},
              {"cluster", config_.server},
              {"server", options_.server.server},
              {"synced", ready_.load()},
              {"driftAfterSeconds", options_.drift_after_seconds},
              {"pendingActions", tracker_.pending()},
              {"lastDecide",
               {{"at", last_decide_at_}, {"error", last_decide_error_}}},
              {"problems", problems_},
              {"watches", nlohmann::json::object()},
              {"daemonSets", nlohmann::json::array()}};
  }
  for (const auto& r : reflectors_) {
    report["watches"][r->resource().plural] = {{"state", r->state()},
                                               {"synced", r->synced()},
                                               {"objects", r->size()},
                                               {"lists", r->relists()},
                                               {"lastError", r->last_error()}};
  }
  std::map<std::string, nlohmann::json> by_ds;
  for (const Action& a : drift) {
    nlohmann::json& ds = by_ds[a.namespace_ + "/" + a.daemon_set];
    if (ds.is_null()) {
      ds = {{"namespace", a.namespace_},
            {"name", a.daemon_set},
            {"drift", nlohmann::json::array()}};
    }
    ds["drift"].push_back(ActionJson(a));
  }
  for (auto& [key, ds] : by_ds) report["daemonSets"].push_back(std::move(ds));
  report["driftTotal"] = drift.size();
  if (options_.report_path.empty()) return;
  const std::string tmp = options_.report_path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
        << "\n";
    if (!out) {
      Log("error", "cannot write report", {{"file", tmp}});
      return;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, options_.report_path, ec);
  if (ec) {
    Log("error", "cannot write report",
        {{"file", options_.report_path}, {"error", ec.message()}});
  }
}

std::string Auditor::Metrics() const {
  std::string out;
  std::lock_guard<std::mutex> lock(mu_);
  out +=
      "# HELP dsd_adapter_drift Planned actions pending longer than "
      "--drift_after.\n# TYPE dsd_adapter_drift gauge\n";
  std::map<std::string, int> drift;
  for (const Action& a : drift_) {
    ++drift["namespace=\"" + LabelValue(a.namespace_) + "\",daemonset=\"" +
            LabelValue(a.daemon_set) + "\",action=\"" + a.action +
            "\",reason=\"" + LabelValue(a.reason) + "\""];
  }
  for (const auto& [labels, n] : drift) {
    out += "dsd_adapter_drift{" + labels + "} " + std::to_string(n) + "\n";
  }
  out +=
      "# HELP dsd_adapter_watch_synced 1 when the kind's cache is synced.\n"
      "# TYPE dsd_adapter_watch_synced gauge\n";
  for (const auto& r : reflectors_) {
    out += "dsd_adapter_watch_synced{resource=\"" + r->resource().plural +
           "\"} " + (r->synced() ? "1" : "0") + "\n";
  }
  out +=
      "# HELP dsd_adapter_api_calls_total Kubernetes API calls by verb and "
      "HTTP code (0: no answer).\n# TYPE dsd_adapter_api_calls_total "
      "counter\n";
  for (const auto& [key, n] : api_calls_) {
    out += "dsd_adapter_api_calls_total{verb=\"" + key.first + "\",code=\"" +
           std::to_string(key.second) + "\"} " + std::to_string(n) + "\n";
  }
  // Prometheus histograms: cumulative buckets, then _sum and _count.
  auto histogram = [&out](const std::string& name, const std::string& help,
                          const std::vector<std::string>& bounds,
                          const std::vector<int64_t>& counts,
                          const std::string& sum) {
    out += "# HELP " + name + " " + help + "\n# TYPE " + name + " histogram\n";
    int64_t cumulative = 0;
    for (size_t i = 0; i < counts.size(); ++i) {
      cumulative += counts[i];
      out += name + "_bucket{le=\"" +
             (i < bounds.size() ? bounds[i] : std::string("+Inf")) + "\"} " +
             std::to_string(cumulative) + "\n";
    }
    out += name + "_sum " + sum + "\n" + name + "_count " +
           std::to_string(cumulative) + "\n";
  };
  std::vector<std::string> seconds_bounds, size_bounds;
  for (double b : kSecondsBuckets) {
    std::ostringstream s;
    s << b;
    seconds_bounds.push_back(s.str());
  }
  for (int b : kSizeBuckets) size_bounds.push_back(std::to_string(b));
  histogram("dsd_adapter_decide_seconds",
            "Seconds per successful Decide call (one batch) to dsd-server.",
            seconds_bounds, decide_seconds_buckets_,
            std::to_string(decide_seconds_sum_));
  histogram("dsd_adapter_decide_batch_daemonsets",
            "DaemonSets per successful Decide call (one batch).", size_bounds,
            batch_size_buckets_, std::to_string(batch_size_sum_));
  out +=
      "# HELP dsd_adapter_decide_batch_bytes_total Approximate request "
      "bytes of the successful Decide calls.\n"
      "# TYPE dsd_adapter_decide_batch_bytes_total counter\n"
      "dsd_adapter_decide_batch_bytes_total " +
      std::to_string(batch_bytes_sum_) +
      "\n# HELP dsd_adapter_daemonsets_decided_total DaemonSets decided, by "
      "the first change that made them due (node, daemonset, pod, "
      "controllerrevision, list, resync).\n"
      "# TYPE dsd_adapter_daemonsets_decided_total counter\n";
  for (const auto& [reason, n] : decided_by_reason_) {
    out += "dsd_adapter_daemonsets_decided_total{reason=\"" + reason + "\"} " +
           std::to_string(n) + "\n";
  }
  out +=
      "# HELP dsd_adapter_decide_errors_total Failed Decide rounds and "
      "batches (dsd-server errors, objects the converter refused).\n"
      "# TYPE dsd_adapter_decide_errors_total counter\n"
      "dsd_adapter_decide_errors_total " +
      std::to_string(decide_errors_) + "\n";
  if (applier_) {
    const Applier::Counters c = applier_->counters();
    auto metric = [&out](const std::string& name, const std::string& type,
                         const std::string& help, int64_t value) {
      out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type +
             "\n" + name + " " + std::to_string(value) + "\n";
    };
    metric("dsd_adapter_pods_created_total", "counter",
           "Pods apply mode created.", c.creates);
    metric("dsd_adapter_pod_create_failures_total", "counter",
           "Pod creates that failed.", c.create_failures);
    metric("dsd_adapter_pods_deleted_total", "counter",
           "Pods apply mode deleted.", c.deletes);
    metric("dsd_adapter_pod_delete_failures_total", "counter",
           "Pod deletes that failed.", c.delete_failures);
    metric("dsd_adapter_leader", "gauge",
           "1 while this replica holds the leader lease (and acts).",
           !leader_ || leader_->IsLeader() ? 1 : 0);
    metric("dsd_adapter_status_updates_total", "counter",
           "DaemonSet status writes.", c.status_updates);
    metric("dsd_adapter_status_update_failures_total", "counter",
           "DaemonSet status writes that failed after the retry.",
           c.status_failures);
    metric("dsd_adapter_events_sent_total", "counter",
           "Events recorded about the DaemonSets acted on.", c.events_sent);
    metric("dsd_adapter_events_dropped_total", "counter",
           "Events dropped (spam filter, full queue, API errors).",
           c.events_dropped);
    metric("dsd_adapter_competing_writers", "gauge",
           "DaemonSets left alone because another controller writes them.",
           c.competing_writers);
    metric("dsd_adapter_pods_not_owned_total", "counter",
           "Planned deletes refused: the pod's controller is not the "
           "DaemonSet.",
           c.refused_not_owned);
    metric("dsd_adapter_expected_creates", "gauge",
           "Pods created and not yet seen in the watch.", c.pending_creates);
    metric("dsd_adapter_expected_deletes", "gauge",
           "Pods deleted and not yet seen gone in the watch.",
           c.pending_deletes);
    metric("dsd_adapter_deletes_halted", "gauge",
           "1 once the deletion budget is spent: no more deletes until "
           "restart.",
           c.deletes_halted ? 1 : 0);
  }
  return out;
}

int Auditor::Run(const std::atomic<bool>& stop, bool once) {
  client::Connection connection = client::Connect(options_.server);
  if (!connection.stub) {
    Log("error", "cannot use dsd-server", {{"error", connection.error}});
    return kExitCannotStart;
  }
  generic_stub_ = std::make_unique<grpc::GenericStub>(connection.channel);
  const client::ChannelKeeper keeper(connection.channel);
  for (const std::string& w : config_.warnings) Log("warning", w);
  Log("info", applier_ ? "apply starting" : "audit starting",
      {{"cluster", config_.server},
       {"source", config_.source},
       {"server", options_.server.server},
       {"namespace",
        options_.namespace_.empty() ? "(all)" : options_.namespace_},
       {"selector", options_.selector}});
  for (auto& r : reflectors_) r->Start();
  if (leader_) leader_->Start();
  auto is_synced = [this] {
    for (const auto& r : reflectors_) {
      if (!r->synced()) return false;
    }
    return true;
  };
  // Added nodes are decided on a thread of their own: a new node's pods
  // never wait for a round over the whole cluster that is under way.
  std::jthread ahead;
  if (applier_) {
    ahead = std::jthread([this, &stop, &is_synced](std::stop_token done) {
      while (!done.stop_requested() && !stop.load()) {
        std::set<std::string> added;
        {
          std::unique_lock<std::mutex> lock(dirty_mu_);
          added_cv_.wait_for(lock, std::chrono::milliseconds(100),
                             [this] { return !added_nodes_.empty(); });
          if (added_nodes_.empty()) continue;
          std::swap(added, added_nodes_);
          deciding_added_ = true;
        }
        // Never on an unsynced cache: the first round decides them.
        if (is_synced()) DecideAddedNodes(added, Clock::now());
        {
          std::lock_guard<std::mutex> lock(dirty_mu_);
          deciding_added_ = false;
        }
        added_cv_.notify_all();
      }
    });
  }

  std::mt19937_64 rng{std::random_device{}()};
  const auto resync = std::chrono::milliseconds(
      static_cast<int64_t>(options_.resync_seconds * 1000));
  const auto debounce = std::chrono::milliseconds(
      static_cast<int64_t>(options_.debounce_seconds * 1000));
  // Under a steady stream of changes the debounce alone would never end:
  // decide at the latest this long after the first pending change.
  const auto max_wait = std::max(std::chrono::milliseconds(1000), 5 * debounce);
  // The first change after a quiet spell (no round for `debounce`) is
  // decided at once: the debounce gathers bursts, it does not delay a
  // lone node event (client-go's workqueue adds no delay at all).
  auto last_round_end = std::chrono::steady_clock::time_point();
  auto last_full = std::chrono::steady_clock::now();
  auto next_attempt = std::chrono::steady_clock::time_point();
  auto last_report = std::chrono::steady_clock::time_point();
  int failures = 0;
  // After a failed round: whether the channel has been seen down since.
  bool reconnecting = false;
  bool was_ready = false;
  const auto started = std::chrono::steady_clock::now();
  while (!stop.load()) {
    {
      std::unique_lock<std::mutex> lock(dirty_mu_);
      dirty_cv_.wait_for(lock, std::chrono::milliseconds(20));
    }
    const auto steady = std::chrono::steady_clock::now();
    const Clock::time_point now = Clock::now();
    const bool synced = is_synced();
    ready_.store(synced && was_ready);
    if (synced && !was_ready) {
      was_ready = true;
      ready_.store(true);
      Log("info", "cache synced");
    }
    if (once && !synced &&
        steady - started > std::chrono::seconds(kOnceSyncSeconds)) {
      for (const auto& r : reflectors_) {
        if (!r->synced()) {
          Log("error", "cannot sync with the API server",
              {{"resource", r->resource().plural}, {"error", r->last_error()}});
        }
      }
      WriteReport(now);
      return kExitCannotStart;
    }
    bool report = steady - last_report >= std::chrono::seconds(1);
    if (synced && resync.count() > 0 && steady - last_full >= resync) {
      last_full = steady;
      std::lock_guard<std::mutex> lock(dirty_mu_);
      if (dirty_.empty()) dirty_.first = dirty_.last = steady - debounce;
      if (dirty_.all.empty()) dirty_.all = "resync";
    }
    {
      // Plans that change by themselves are decided again when they do,
      // as upstream requeues a DaemonSet after minReadySeconds.
      std::lock_guard<std::mutex> lock(dirty_mu_);
      for (auto it = requeue_.begin(); it != requeue_.end();) {
        if (it->second > steady) {
          ++it;
          continue;
        }
        if (dirty_.empty()) dirty_.first = dirty_.last = steady - debounce;
        dirty_.daemon_sets.emplace(it->first, "requeue");
        it = requeue_.erase(it);
      }
    }
    bool due = false;
    {
      std::lock_guard<std::mutex> lock(dirty_mu_);
      due = !dirty_.empty() &&
            (dirty_.now || dirty_.first - last_round_end >= debounce ||
             steady - dirty_.last >= debounce ||
             steady - dirty_.first >= max_wait);
      if (due && !dirty_.all.empty()) last_full = steady;
    }
    if (failures > 0) {
      // A round that failed because dsd-server was unreachable is made
      // again as soon as the channel is connected (the keeper polls it),
      // not when the backoff ends: the backoff is for a dsd-server that
      // answers with errors.
      if (connection.channel->GetState(false) != GRPC_CHANNEL_READY) {
        reconnecting = true;
      } else if (reconnecting) {
        reconnecting = false;
        next_attempt = steady;
        Log("info", "dsd-server is reachable again");
      }
    }
    // Never on an unsynced cache: a missing pod would read as a create.
    if (synced && due && steady >= next_attempt) {
      {
        // Nodes just added are decided first (a second at most): theirs
        // is a small decision, which a round started beside it would slow.
        std::unique_lock<std::mutex> lock(dirty_mu_);
        added_cv_.wait_for(lock, std::chrono::seconds(1), [this] {
          return added_nodes_.empty() && !deciding_added_;
        });
      }
      const bool decided = Decide(now);
      // A round's requests and answers are megabytes, freed in the arenas
      // of threads that are gone: hand the pages back (without this the
      // adapter's RSS grows by about a round's size every few rounds).
      malloc_trim(0);
      last_round_end = std::chrono::steady_clock::now();
      if (decided) {
        failures = 0;
        reconnecting = false;
        next_attempt = steady;
      } else {
        // Backoff with jitter, 0.5 s doubling to 30 s.
        const double base = std::min(30.0, 0.5 * (1 << std::min(failures, 6)));
        ++failures;
        std::uniform_real_distribution<double> jitter(0.5, 1.0);
        next_attempt = steady + std::chrono::milliseconds(static_cast<int64_t>(
                                    base * jitter(rng) * 1000));
      }
      report = true;
      if (once) {
        WriteReport(now);
        const bool ok = failures == 0;
        if (!ok) return kExitServerUnusable;
        return tracker_.Drift(now).empty() ? kExitOk : kExitDrift;
      }
    } else if (synced) {
      const DriftChange change = tracker_.Tick(now);
      if (!change.started.empty()) {
        LogChange(change);
        report = true;
      }
    }
    if (report) {
      WriteReport(now);
      last_report = steady;
    }
  }
  Log("info", applier_ ? "apply stopping" : "audit stopping");
  // After the last round: nothing acts once the lease is released.
  ahead = {};
  if (leader_) leader_->Stop();
  WriteReport(Clock::now());
  return kExitOk;
}

}  // namespace dsd::adapter
