#include "client/adapter/apply.h"

#include <algorithm>
#include <atomic>
#include <thread>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/adapter/history.h"
#include "client/adapter/json_fields.h"
#include "client/adapter/pod_body.h"

namespace dsd::adapter {
namespace {

// The node a daemon pod is for (upstream util.GetTargetNodeName): its
// spec.nodeName, else the one value of a matchFields metadata.name In
// requirement of its required node affinity.
std::string TargetNode(const nlohmann::json& pod) {
  const nlohmann::json& spec = Member(pod, "spec");
  if (std::string bound = Text(spec, "nodeName"); !bound.empty()) return bound;
  const nlohmann::json& terms =
      Member(Member(Member(Member(spec, "affinity"), "nodeAffinity"),
                    "requiredDuringSchedulingIgnoredDuringExecution"),
             "nodeSelectorTerms");
  if (!terms.is_array()) return "";
  for (const nlohmann::json& term : terms) {
    const nlohmann::json& fields = Member(term, "matchFields");
    if (!fields.is_array()) continue;
    for (const nlohmann::json& f : fields) {
      const nlohmann::json& values = Member(f, "values");
      if (Text(f, "key") == "metadata.name" && Text(f, "operator") == "In" &&
          values.is_array() && values.size() == 1 && values[0].is_string()) {
        return values[0].get<std::string>();
      }
    }
  }
  return "";
}

std::string NamespaceOf(const std::string& key) {
  return key.substr(0, key.find('/'));
}

// A failed create whose pod may exist all the same: no answer, or a
// server error after the request may have been carried out.
bool OutcomeUnknown(const absl::Status& s) {
  const int http = kube::HttpCode(s);
  return http == 0 || http >= 500;
}

// The seven counters, as DaemonSetStatus names them in JSON.
nlohmann::json StatusCounters(const v1::DaemonSetStatus& s) {
  return {{"desiredNumberScheduled", s.desired_number_scheduled()},
          {"currentNumberScheduled", s.current_number_scheduled()},
          {"numberMisscheduled", s.number_misscheduled()},
          {"numberReady", s.number_ready()},
          {"updatedNumberScheduled", s.updated_number_scheduled()},
          {"numberAvailable", s.number_available()},
          {"numberUnavailable", s.number_unavailable()}};
}

}  // namespace

std::string TargetNodeOf(const v1::Pod& pod) {
  if (!pod.node_name().empty()) return pod.node_name();
  for (const v1::NodeSelectorTerm& term :
       pod.required_node_affinity().node_selector_terms()) {
    for (const v1::SelectorRequirement& f : term.match_fields()) {
      if (f.key() == "metadata.name" &&
          f.operator_() == v1::SELECTOR_OPERATOR_IN && f.values_size() == 1) {
        return f.values(0);
      }
    }
  }
  return "";
}

Applier::Applier(kube::Client& client, ApplyOptions options, LogFn log,
                 kube::Client* events_client)
    : client_(client),
      options_(std::move(options)),
      log_(std::move(log)),
      started_(absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(),
                                absl::UTCTimeZone())) {
  if (options_.events && !options_.dry_run) {
    EventOptions e;
    e.instance = options_.instance;
    events_ = std::make_unique<EventRecorder>(
        events_client != nullptr ? *events_client : client_, e);
  }
}

void Applier::NoteCompetitorLocked(const std::string& key,
                                   const nlohmann::json& object, bool status) {
  const nlohmann::json& fields =
      Member(Member(object, "metadata"), "managedFields");
  if (!fields.is_array() || competitors_.count(key) > 0) return;
  for (const nlohmann::json& f : fields) {
    const std::string manager = Text(f, "manager");
    // RFC 3339 in UTC with whole seconds: ordered as text.
    if (Text(f, "time") < started_ || manager == options_.manager) continue;
    const bool on_status = Text(f, "subresource") == "status";
    if (status ? on_status
               : !on_status && manager == "kube-controller-manager") {
      // Reported by Sync, which sees only the DaemonSets dsd manages.
      competitors_[key] = manager + (status ? " (status)" : " (pods)");
      return;
    }
  }
}

uint64_t Applier::Epoch(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t sum = global_epoch_;
  for (const std::string& index : {"ds:" + key, "orphan:" + NamespaceOf(key)}) {
    if (const auto it = epochs_.find(index); it != epochs_.end()) {
      sum += it->second;
    }
  }
  return sum;
}

std::string Applier::ObservePod(const std::string& type,
                                const nlohmann::json& pod,
                                const std::string& owner,
                                const std::string& previous_owner) {
  std::lock_guard<std::mutex> lock(mu_);
  if (type == "SYNC") {
    // A relist replaced the store: every plan in flight is stale. The
    // expectations it meets are cleared by Relisted.
    ++global_epoch_;
    return "";
  }
  for (const std::string* index : {&owner, &previous_owner}) {
    if (!index->empty()) ++epochs_[*index];
  }
  const nlohmann::json& meta = Member(pod, "metadata");
  const bool deleting =
      type == "DELETED" || !Member(meta, "deletionTimestamp").is_null();
  if (deleting) {
    const auto d = deletes_.find(Text(meta, "uid"));
    if (d == deletes_.end()) return "";
    const std::string key = d->second.first;
    deletes_.erase(d);
    return NothingPendingLocked(key) ? key : "";
  }
  if (owner.rfind("ds:", 0) != 0) return "";
  const std::string key = owner.substr(3);
  if (type == "ADDED") NoteCompetitorLocked(key, pod, false);
  const auto it = creates_.find(key);
  if (it == creates_.end() || it->second.erase(TargetNode(pod)) == 0) {
    return "";
  }
  if (it->second.empty()) creates_.erase(it);
  return NothingPendingLocked(key) ? key : "";
}

bool Applier::NothingPendingLocked(const std::string& key) const {
  if (creates_.count(key) > 0) return false;
  for (const auto& [uid, pending] : deletes_) {
    if (pending.first == key) return false;
  }
  return true;
}

void Applier::Relisted(
    const std::function<std::vector<v1::Pod>(const std::string& key)>&
        pods_of) {
  std::set<std::string> keys;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [key, nodes] : creates_) keys.insert(key);
    for (const auto& [uid, pending] : deletes_) keys.insert(pending.first);
  }
  for (const std::string& key : keys) {
    // Read outside mu_ (the store has its own lock). An expectation added
    // meanwhile is met all the same by a pod on its node.
    std::set<std::string> nodes, live;  // pods' target nodes; uids not going
    for (const v1::Pod& pod : pods_of(key)) {
      if (pod.has_deletion_timestamp()) continue;
      nodes.insert(TargetNodeOf(pod));
      live.insert(pod.uid());
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = creates_.find(key); it != creates_.end()) {
      for (const std::string& node : nodes) it->second.erase(node);
      if (it->second.empty()) creates_.erase(it);
    }
    for (auto d = deletes_.begin(); d != deletes_.end();) {
      const bool met = d->second.first == key && live.count(d->first) == 0;
      d = met ? deletes_.erase(d) : std::next(d);
    }
  }
}

void Applier::ObserveDaemonSet(const std::string& type,
                               const nlohmann::json& daemon_set) {
  std::lock_guard<std::mutex> lock(mu_);
  if (type == "SYNC") {
    statuses_.clear();  // a relist: unknown until read again
    return;
  }
  const nlohmann::json& meta = Member(daemon_set, "metadata");
  const std::string key = Text(meta, "namespace") + "/" + Text(meta, "name");
  if (type == "DELETED") {
    statuses_.erase(key);
  } else {
    statuses_[key] = Member(daemon_set, "status");
    NoteCompetitorLocked(key, daemon_set, true);
  }
}

bool Applier::StatusDue(const std::string& key,
                        const v1::DaemonSetStatus& status,
                        int64_t generation) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = statuses_.find(key);
  if (it == statuses_.end()) return true;
  const nlohmann::json want = StatusCounters(status);
  for (auto field = want.begin(); field != want.end(); ++field) {
    // Go's omitempty: an absent counter is 0.
    if (Int(it->second, field.key().c_str()) != field->get<int64_t>()) {
      return true;
    }
  }
  return Int(it->second, "observedGeneration") < generation;
}

void Applier::WriteStatus(const std::string& key, nlohmann::json daemon_set,
                          const v1::DaemonSetStatus& status, bool observed,
                          int64_t generation) {
  const std::string ns = NamespaceOf(key);
  const std::string name = key.substr(ns.size() + 1);
  for (int attempt = 0;; ++attempt) {
    nlohmann::json& out = daemon_set["status"];
    if (!out.is_object()) out = nlohmann::json::object();
    out.update(StatusCounters(status));
    if (observed) out["observedGeneration"] = generation;
    if (options_.dry_run) {
      log_("info",
           "dry-run: would PUT /apis/apps/v1/namespaces/" + ns +
               "/daemonsets/" + name + "/status " + daemon_set.dump(),
           {{"daemonset", key}});
      return;
    }
    absl::StatusOr<nlohmann::json> stored =
        client_.Update(kube::kDaemonSets, ns, name, "status", daemon_set);
    if (stored.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      statuses_[key] = Member(*stored, "status");
      ++counters_.status_updates;
      return;
    }
    absl::StatusOr<nlohmann::json> again;
    if (attempt == 0) {
      again = client_.GetObject(kube::kDaemonSets, ns, name);
    }
    if (attempt > 0 || !again.ok()) {
      log_("error", "cannot write the DaemonSet's status",
           {{"daemonset", key},
            {"error", std::string((attempt > 0 || again.ok() ? stored.status()
                                                             : again.status())
                                      .message())}});
      std::lock_guard<std::mutex> lock(mu_);
      ++counters_.status_failures;
      statuses_.erase(key);  // unknown: read again next time
      return;
    }
    daemon_set = std::move(*again);
  }
}

absl::StatusOr<std::string> Applier::ResolveRevision(
    const std::string& key, const nlohmann::json& daemon_set) {
  const nlohmann::json& meta = Member(daemon_set, "metadata");
  const std::string version =
      Text(meta, "uid") + "/" + std::to_string(Int(meta, "generation"));
  {
    std::lock_guard<std::mutex> lock(mu_);
    const auto it = revisions_.find(key);
    if (it != revisions_.end() && it->second.version == version) {
      return it->second.hash;
    }
  }
  const std::string ns = NamespaceOf(key);
  kube::ListOptions list;
  list.namespace_ = ns;
  absl::StatusOr<kube::ListResult> all =
      client_.List(kube::kControllerRevisions, list);
  if (!all.ok()) return all.status();
  // Its own revisions: those whose controller is this DaemonSet.
  const nlohmann::json* current = nullptr;
  int64_t max_old = 0;
  int matching = 0;
  std::vector<OldRevision> old;
  for (const nlohmann::json& r : all->items) {
    bool owned = false;
    const nlohmann::json& refs =
        Member(Member(r, "metadata"), "ownerReferences");
    if (refs.is_array()) {
      for (const nlohmann::json& ref : refs) {
        owned = owned || (Member(ref, "controller") == true &&
                          Text(ref, "uid") == Text(meta, "uid"));
      }
    }
    if (!owned) continue;
    if (!RevisionMatches(daemon_set, r)) {
      max_old = std::max(max_old, Int(r, "revision"));
      const nlohmann::json& r_meta = Member(r, "metadata");
      std::string r_hash =
          Text(Member(r_meta, "labels"), "controller-revision-hash");
      old.push_back({Text(r_meta, "name"),
                     r_hash.empty() ? Text(r_meta, "name") : r_hash,
                     Int(r, "revision")});
      continue;
    }
    ++matching;
    if (current == nullptr || Int(r, "revision") > Int(*current, "revision")) {
      current = &r;
    }
  }
  std::string hash;
  if (current != nullptr) {
    if (matching > 1) {
      log_("warning",
           "several ControllerRevisions hold the template; using the newest "
           "(dsd-adapter does not merge them as upstream's "
           "dedupCurHistories does)",
           {{"daemonset", key}});
    }
    const nlohmann::json& labels =
        Member(Member(*current, "metadata"), "labels");
    hash = Text(labels, "controller-revision-hash");
    if (hash.empty()) hash = Text(Member(*current, "metadata"), "name");
    if (Int(*current, "revision") <= max_old) {
      // Back to an older template: that revision goes on top again.
      nlohmann::json renumbered = *current;
      renumbered["revision"] = max_old + 1;
      const std::string name = Text(Member(renumbered, "metadata"), "name");
      if (options_.dry_run) {
        log_("info",
             "dry-run: would PUT /apis/apps/v1/namespaces/" + ns +
                 "/controllerrevisions/" + name + " " + renumbered.dump(),
             {{"daemonset", key}});
      } else {
        absl::StatusOr<nlohmann::json> done = client_.Update(
            kube::kControllerRevisions, ns, name, "", renumbered);
        if (!done.ok()) return done.status();
        log_("info", "ControllerRevision renumbered",
             {{"daemonset", key},
              {"revision", name},
              {"number", std::to_string(max_old + 1)}});
      }
    }
  } else {
    const nlohmann::json& count =
        Member(Member(daemon_set, "status"), "collisionCount");
    std::optional<int32_t> collisions;
    if (count.is_number_integer()) collisions = count.get<int32_t>();
    hash = RevisionHash(Member(Member(daemon_set, "spec"), "template"),
                        collisions);
    const nlohmann::json revision = NewRevision(daemon_set, hash, max_old + 1);
    if (options_.dry_run) {
      log_("info",
           "dry-run: would POST /apis/apps/v1/namespaces/" + ns +
               "/controllerrevisions " + revision.dump(),
           {{"daemonset", key}});
    } else {
      absl::StatusOr<nlohmann::json> created =
          client_.Create(kube::kControllerRevisions, ns, revision);
      if (!created.ok() &&
          kube::StatusReason(created.status()) == "AlreadyExists") {
        const std::string name = Text(Member(revision, "metadata"), "name");
        absl::StatusOr<nlohmann::json> existing =
            client_.GetObject(kube::kControllerRevisions, ns, name);
        if (!existing.ok()) return existing.status();
        if (!RevisionMatches(daemon_set, *existing)) {
          // A hash collision: upstream raises collisionCount (if nobody
          // has since) and tries again with the next hash.
          nlohmann::json raised = daemon_set;
          raised["status"]["collisionCount"] =
              (collisions ? *collisions : 0) + 1;
          absl::StatusOr<nlohmann::json> bumped = client_.Update(
              kube::kDaemonSets, ns, Text(meta, "name"), "status", raised);
          return absl::AbortedError(
              "ControllerRevision " + name +
              " exists with another template (a hash collision); "
              "collisionCount raised" +
              (bumped.ok()
                   ? ""
                   : " failed: " + std::string(bumped.status().message())));
        }
      } else if (!created.ok()) {
        return created.status();
      } else {
        log_("info", "ControllerRevision created",
             {{"daemonset", key},
              {"revision", Text(Member(*created, "metadata"), "name")},
              {"number", std::to_string(max_old + 1)}});
      }
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  revisions_[key] = {version, hash, std::move(old)};
  return hash;
}

std::pair<int, int> Applier::PendingLocked(const std::string& key,
                                           Steady::time_point now) {
  int creates = 0, deletes = 0;
  if (auto it = creates_.find(key); it != creates_.end()) {
    for (auto n = it->second.begin(); n != it->second.end();) {
      if (n->second > now) {
        ++creates;
        ++n;
        continue;
      }
      log_("warning", "expected pod never showed in the watch",
           {{"daemonset", key}, {"node", n->first}});
      n = it->second.erase(n);
    }
    if (it->second.empty()) creates_.erase(it);
  }
  for (auto d = deletes_.begin(); d != deletes_.end();) {
    if (d->second.first != key) {
      ++d;
    } else if (d->second.second > now) {
      ++deletes;
      ++d;
    } else {
      log_("warning", "expected pod deletion never showed in the watch",
           {{"daemonset", key}, {"uid", d->first}});
      d = deletes_.erase(d);
    }
  }
  return {creates, deletes};
}

void Applier::Parallel(size_t n,
                       const std::function<void(size_t)>& work) const {
  std::atomic<size_t> next{0};
  auto run = [&] {
    for (size_t i = next.fetch_add(1); i < n; i = next.fetch_add(1)) work(i);
  };
  const size_t threads =
      std::min(n, static_cast<size_t>(std::max(1, options_.parallelism)));
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(run);
  run();
  for (std::thread& t : pool) t.join();
}

Applier::Counters Applier::counters() const {
  std::lock_guard<std::mutex> lock(mu_);
  Counters c = counters_;
  for (const auto& [key, nodes] : creates_) {
    c.pending_creates += static_cast<int64_t>(nodes.size());
  }
  c.pending_deletes = static_cast<int64_t>(deletes_.size());
  c.deletes_halted = deletes_halted_;
  if (events_) {
    c.events_sent = events_->sent();
    c.events_dropped = events_->dropped();
  }
  return c;
}

SyncOutcome Applier::Sync(
    const v1::DaemonSetPlan& plan, const v1::DaemonSet& decided, uint64_t epoch,
    const std::function<bool(const std::string& key, v1::Pod& pod)>& pod_of,
    const std::function<std::set<std::string>()>& hashes, PlanScope scope) {
  SyncOutcome out;
  const std::string key = plan.namespace_() + "/" + plan.name();
  const bool whole = scope == PlanScope::kWhole;
  if (Epoch(key) != epoch) {
    out.state = SyncOutcome::State::kStale;
    return out;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (const auto c = competitors_.find(key); c != competitors_.end()) {
      if (reported_.insert(key).second) {
        ++counters_.competing_writers;
        log_("error",
             "another controller writes this DaemonSet; dsd-adapter stops "
             "acting on it until restarted. Turn upstream's DaemonSet "
             "controller off (kube-controller-manager "
             "--controllers=*,-daemonset) or take it out of --selector",
             {{"daemonset", key}, {"writer", c->second}});
      }
      out.state = SyncOutcome::State::kRefused;
      return out;
    }
  }
  // Upstream's syncDaemonSet: with expectations pending, only the status
  // is written (without observedGeneration); else the actions, then the
  // status with it.
  bool waiting = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const auto [c, d] = PendingLocked(key, Steady::now());
    waiting = c + d > 0;
  }
  const bool acting = !waiting && (!plan.create().empty() ||
                                   (whole && !plan.delete_().empty()));
  if (!acting &&
      (!whole || !StatusDue(key, plan.status(), decided.generation()))) {
    if (waiting) out.state = SyncOutcome::State::kWaiting;
    return out;
  }
  // The DaemonSet as the API server has it now: acted on only while it is
  // the one decided, so that the pods are built from the decided template.
  absl::StatusOr<nlohmann::json> daemon_set =
      client_.GetObject(kube::kDaemonSets, plan.namespace_(), plan.name());
  if (!daemon_set.ok()) {
    out.state = kube::HttpCode(daemon_set.status()) == 404
                    ? SyncOutcome::State::kStale
                    : SyncOutcome::State::kRefused;
    log_("error", "cannot read the DaemonSet",
         {{"daemonset", key},
          {"error", std::string(daemon_set.status().message())}});
    return out;
  }
  const nlohmann::json& meta = Member(*daemon_set, "metadata");
  if (Text(meta, "uid") != decided.uid() ||
      Int(meta, "generation") != decided.generation()) {
    out.state = SyncOutcome::State::kStale;
    log_("info", "DaemonSet changed since it was decided; deciding again",
         {{"daemonset", key}});
    return out;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    statuses_[key] = Member(*daemon_set, "status");
  }
  // The revision of the template: the plan was made with a hash; if the
  // template's revision has another (just created, or renumbered), the
  // plan's "updated" pods are not, and the revision's event brings a new
  // plan.
  absl::StatusOr<std::string> hash = ResolveRevision(key, *daemon_set);
  if (!hash.ok()) {
    out.state = SyncOutcome::State::kRefused;
    log_("error", "cannot resolve the template's ControllerRevision",
         {{"daemonset", key}, {"error", std::string(hash.status().message())}});
    return out;
  }
  if (*hash != decided.current_revision_hash() && !options_.dry_run) {
    out.state = SyncOutcome::State::kStale;
    log_("info", "the template's ControllerRevision is new; deciding again",
         {{"daemonset", key}, {"revision_hash", *hash}});
    return out;
  }
  if (acting) {
    out.state = SyncOutcome::State::kActed;
    if (whole) {
      Act(plan, decided, *daemon_set, *hash, pod_of, out);
    } else {
      v1::DaemonSetPlan creates;
      creates.set_namespace_(plan.namespace_());
      creates.set_name(plan.name());
      *creates.mutable_create() = plan.create();
      Act(creates, decided, *daemon_set, *hash, pod_of, out);
    }
  } else if (waiting) {
    out.state = SyncOutcome::State::kWaiting;
  }
  if (!whole) return out;
  if (StatusDue(key, plan.status(), decided.generation())) {
    WriteStatus(key, *daemon_set, plan.status(), !waiting,
                decided.generation());
  }
  if (!waiting) CleanupHistory(key, *daemon_set, hashes());
  return out;
}

void Applier::CleanupHistory(const std::string& key,
                             const nlohmann::json& daemon_set,
                             const std::set<std::string>& hashes_in_use) {
  const nlohmann::json& limit =
      Member(Member(daemon_set, "spec"), "revisionHistoryLimit");
  const int64_t keep = limit.is_number_integer() ? limit.get<int64_t>() : 10;
  std::vector<OldRevision> old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const auto it = revisions_.find(key);
    if (it == revisions_.end()) return;
    old = it->second.old;
  }
  int64_t to_kill = static_cast<int64_t>(old.size()) - keep;
  if (to_kill <= 0) return;
  std::sort(old.begin(), old.end(),
            [](const OldRevision& a, const OldRevision& b) {
              return a.revision < b.revision;
            });
  const std::string ns = NamespaceOf(key);
  for (const OldRevision& r : old) {
    if (to_kill <= 0) break;
    if (hashes_in_use.count(r.hash) > 0) continue;
    --to_kill;
    if (options_.dry_run) {
      log_("info",
           "dry-run: would DELETE /apis/apps/v1/namespaces/" + ns +
               "/controllerrevisions/" + r.name,
           {{"daemonset", key}});
      continue;
    }
    const absl::Status s =
        client_.Delete(kube::kControllerRevisions, ns, r.name, "");
    if (!s.ok() && kube::HttpCode(s) != 404) {
      log_("error", "cannot delete an old ControllerRevision",
           {{"daemonset", key},
            {"revision", r.name},
            {"error", std::string(s.message())}});
      continue;
    }
    log_("info", "old ControllerRevision deleted",
         {{"daemonset", key}, {"revision", r.name}});
    std::lock_guard<std::mutex> lock(mu_);
    auto& kept = revisions_[key].old;
    kept.erase(
        std::remove_if(kept.begin(), kept.end(),
                       [&](const OldRevision& o) { return o.name == r.name; }),
        kept.end());
  }
}

void Applier::Act(
    const v1::DaemonSetPlan& plan, const v1::DaemonSet& decided,
    const nlohmann::json& daemon_set, const std::string& hash,
    const std::function<bool(const std::string& key, v1::Pod& pod)>& pod_of,
    SyncOutcome& out) {
  const std::string& ns = plan.namespace_();
  const std::string key = ns + "/" + plan.name();
  using Fields = std::vector<std::pair<std::string, std::string>>;
  const Steady::time_point now = Steady::now();

  // Deletes: only the DaemonSet's own pods, within the budget.
  struct Delete {
    std::string pod, uid, node, reason;
  };
  std::vector<Delete> deletes;
  for (const v1::PodDelete& d : plan.delete_()) {
    if (static_cast<int>(deletes.size()) >= options_.burst) {
      ++out.delete_skipped;
      continue;
    }
    v1::Pod pod;
    if (!pod_of(ns + "/" + d.pod(), pod)) {
      ++out.delete_skipped;  // gone since: its event re-decides
      continue;
    }
    if (pod.controller_uid() != decided.uid()) {
      ++out.delete_skipped;
      log_("warning",
           "not deleting a pod the DaemonSet does not control (dsd-adapter "
           "does not adopt orphans)",
           {{"daemonset", key}, {"pod", d.pod()}});
      std::lock_guard<std::mutex> lock(mu_);
      ++counters_.refused_not_owned;
      continue;
    }
    deletes.push_back(
        {d.pod(), pod.uid(), d.node(), v1::DeleteReason_Name(d.reason())});
  }
  if (!deletes.empty() && !options_.dry_run) {
    std::lock_guard<std::mutex> lock(mu_);
    while (!recent_deletes_.empty() &&
           now - recent_deletes_.front() >= std::chrono::minutes(1)) {
      recent_deletes_.pop_front();
    }
    const auto allowed =
        deletes_halted_
            ? 0
            : std::max<int64_t>(
                  0, static_cast<int64_t>(options_.max_deletes_per_minute) -
                         static_cast<int64_t>(recent_deletes_.size()));
    if (static_cast<int64_t>(deletes.size()) > allowed) {
      if (!deletes_halted_) {
        log_("error",
             "deletion budget spent: dsd-adapter stops deleting pods until "
             "it is restarted; look at why so many deletes were planned",
             {{"daemonset", key},
              {"planned", std::to_string(deletes.size())},
              {"max_deletes_per_minute",
               std::to_string(options_.max_deletes_per_minute)}});
      }
      deletes_halted_ = true;
      out.delete_skipped +=
          static_cast<int>(deletes.size() - static_cast<size_t>(allowed));
      deletes.resize(static_cast<size_t>(allowed));
    }
    for (const Delete& d : deletes) {
      recent_deletes_.push_back(now);
      deletes_[d.uid] = {key, now + options_.expectations_ttl};
    }
  }
  std::mutex out_mu;
  Parallel(deletes.size(), [&](size_t i) {
    const Delete& d = deletes[i];
    const Fields fields = {{"daemonset", key},
                           {"pod", d.pod},
                           {"node", d.node},
                           {"reason", d.reason}};
    if (options_.dry_run) {
      log_("info",
           "dry-run: would DELETE /api/v1/namespaces/" + ns + "/pods/" + d.pod +
               " " +
               nlohmann::json{{"apiVersion", "v1"},
                              {"kind", "DeleteOptions"},
                              {"preconditions", {{"uid", d.uid}}}}
                   .dump(),
           fields);
      return;
    }
    const absl::Status s = client_.Delete(kube::kPods, ns, d.pod, d.uid);
    const int http = kube::HttpCode(s);
    std::lock_guard<std::mutex> lock(out_mu);
    if (s.ok() || http == 404) {
      ++out.deleted;
      log_("info", s.ok() ? "deleted pod" : "pod already gone", fields);
      if (s.ok() && events_) {
        events_->Record(daemon_set, "Normal", "SuccessfulDelete",
                        "Deleted pod: " + d.pod);
      }
      if (http == 404) {
        std::lock_guard<std::mutex> l(mu_);
        deletes_.erase(d.uid);
      }
      return;
    }
    {
      std::lock_guard<std::mutex> l(mu_);
      deletes_.erase(d.uid);
    }
    if (http == 409) {
      // dsd's uid precondition: the pod decided about is not the one
      // there now. The next plan decides again.
      ++out.delete_skipped;
      log_("info", "pod changed since it was decided; not deleted", fields);
      return;
    }
    ++out.delete_failures;
    Fields f = fields;
    f.emplace_back("error", std::string(s.message()));
    log_("error", "cannot delete pod", f);
    if (events_) {
      events_->Record(daemon_set, "Warning", "FailedDelete",
                      "Error deleting: " + std::string(s.message()));
    }
  });

  // Creates: slow start, the rest skipped after a batch with a failure.
  std::vector<std::string> nodes;
  for (const v1::PodCreate& c : plan.create()) {
    if (static_cast<int>(nodes.size()) < options_.burst) {
      nodes.push_back(c.node());
    } else {
      ++out.create_skipped;
    }
  }
  std::vector<nlohmann::json> bodies;
  for (const std::string& node : nodes) {
    absl::StatusOr<nlohmann::json> body = DaemonPod(daemon_set, node, hash);
    if (!body.ok()) {
      log_("error", "cannot build the pod",
           {{"daemonset", key},
            {"error", std::string(body.status().message())}});
      out.create_skipped += static_cast<int>(nodes.size());
      nodes.clear();
      bodies.clear();
      break;
    }
    bodies.push_back(std::move(*body));
  }
  if (!options_.dry_run && !nodes.empty()) {
    std::lock_guard<std::mutex> lock(mu_);
    for (const std::string& node : nodes) {
      creates_[key][node] = now + options_.expectations_ttl;
    }
  }
  auto lower = [&](const std::string& node) {
    std::lock_guard<std::mutex> lock(mu_);
    const auto it = creates_.find(key);
    if (it == creates_.end()) return;
    it->second.erase(node);
    if (it->second.empty()) creates_.erase(it);
  };
  size_t start = 0;
  for (size_t batch = 1; start < nodes.size(); batch *= 2) {
    const size_t size = std::min(batch, nodes.size() - start);
    std::atomic<int> failures{0};
    Parallel(size, [&](size_t i) {
      const std::string& node = nodes[start + i];
      const nlohmann::json& body = bodies[start + i];
      const Fields fields = {{"daemonset", key}, {"node", node}};
      if (options_.dry_run) {
        log_("info",
             "dry-run: would POST /api/v1/namespaces/" + ns + "/pods " +
                 body.dump(),
             fields);
        return;
      }
      absl::StatusOr<nlohmann::json> pod =
          client_.Create(kube::kPods, ns, body);
      std::lock_guard<std::mutex> lock(out_mu);
      if (pod.ok()) {
        ++out.created;
        Fields f = fields;
        const std::string name = Text(Member(*pod, "metadata"), "name");
        f.emplace_back("pod", name);
        log_("info", "created pod", f);
        if (events_) {
          events_->Record(daemon_set, "Normal", "SuccessfulCreate",
                          "Created pod: " + name);
        }
        return;
      }
      Fields f = fields;
      f.emplace_back("error", std::string(pod.status().message()));
      if (kube::HttpCode(pod.status()) == 403 &&
          pod.status().message().find("being terminated") !=
              std::string::npos) {
        // Upstream: a namespace being deleted is no failure.
        lower(node);
        ++out.create_skipped;
        return;
      }
      if (!OutcomeUnknown(pod.status())) lower(node);
      ++out.create_failures;
      ++failures;
      log_("error", "cannot create pod", f);
      if (events_) {
        events_->Record(
            daemon_set, "Warning", "FailedCreate",
            "Error creating: " + std::string(pod.status().message()));
      }
    });
    start += size;
    if (failures.load() > 0 && start < nodes.size()) {
      const size_t rest = nodes.size() - start;
      out.create_skipped += static_cast<int>(rest);
      log_("warning", "creates skipped after a failed batch (slow start)",
           {{"daemonset", key}, {"skipped", std::to_string(rest)}});
      for (size_t i = start; i < nodes.size(); ++i) lower(nodes[i]);
      break;
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  counters_.creates += out.created;
  counters_.create_failures += out.create_failures;
  counters_.deletes += out.deleted;
  counters_.delete_failures += out.delete_failures;
}

}  // namespace dsd::adapter
