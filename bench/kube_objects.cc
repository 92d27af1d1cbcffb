#include "bench/kube_objects.h"

#include <algorithm>
#include <cstdint>

#include "absl/time/time.h"

namespace dsd::bench {
namespace {

using Json = nlohmann::ordered_json;

std::string Time(const google::protobuf::Timestamp& t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ",
                          absl::FromUnixSeconds(t.seconds()),
                          absl::UTCTimeZone());
}

template <typename Labels>
Json LabelMap(const Labels& labels) {
  Json out = Json::object();
  for (const v1::Label& l : labels) out[l.key()] = l.value();
  return out;
}

const char* EffectName(v1::TaintEffect e) {
  switch (e) {
    case v1::TAINT_EFFECT_NO_SCHEDULE:
      return "NoSchedule";
    case v1::TAINT_EFFECT_PREFER_NO_SCHEDULE:
      return "PreferNoSchedule";
    case v1::TAINT_EFFECT_NO_EXECUTE:
      return "NoExecute";
    default:
      return "";
  }
}

const char* OperatorName(v1::SelectorOperator op) {
  switch (op) {
    case v1::SELECTOR_OPERATOR_IN:
      return "In";
    case v1::SELECTOR_OPERATOR_NOT_IN:
      return "NotIn";
    case v1::SELECTOR_OPERATOR_EXISTS:
      return "Exists";
    case v1::SELECTOR_OPERATOR_DOES_NOT_EXIST:
      return "DoesNotExist";
    case v1::SELECTOR_OPERATOR_GT:
      return "Gt";
    case v1::SELECTOR_OPERATOR_LT:
      return "Lt";
    default:
      return "";
  }
}

Json NodeAffinity(const v1::RequiredNodeAffinity& a) {
  Json terms = Json::array();
  for (const v1::NodeSelectorTerm& t : a.node_selector_terms()) {
    Json term = Json::object();
    for (const auto* list : {&t.match_expressions(), &t.match_fields()}) {
      Json reqs = Json::array();
      for (const v1::SelectorRequirement& r : *list) {
        Json req = {{"key", r.key()},
                    {"operator", OperatorName(r.operator_())}};
        if (r.values_size() > 0) {
          req["values"] =
              std::vector<std::string>(r.values().begin(), r.values().end());
        }
        reqs.push_back(req);
      }
      if (!reqs.empty()) {
        term[list == &t.match_fields() ? "matchFields" : "matchExpressions"] =
            reqs;
      }
    }
    terms.push_back(term);
  }
  return {{"nodeAffinity",
           {{"requiredDuringSchedulingIgnoredDuringExecution",
             {{"nodeSelectorTerms", terms}}}}}};
}

Json Tolerations(const v1::PodTemplate& t) {
  Json out = Json::array();
  for (const v1::Toleration& tol : t.tolerations()) {
    Json j = {{"key", tol.key()}};
    if (tol.operator_() == v1::TOLERATION_OPERATOR_EXISTS) {
      j["operator"] = "Exists";
    } else {
      j["operator"] = "Equal";
      j["value"] = tol.value();
    }
    if (tol.effect() != v1::TAINT_EFFECT_UNSPECIFIED) {
      j["effect"] = EffectName(tol.effect());
    }
    out.push_back(j);
  }
  return out;
}

// The tolerations the DaemonSet controller adds to every daemon pod.
Json DaemonPodTolerations() {
  Json out = Json::array();
  for (const char* key :
       {"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"}) {
    out.push_back(
        {{"key", key}, {"operator", "Exists"}, {"effect", "NoExecute"}});
  }
  for (const char* key :
       {"node.kubernetes.io/disk-pressure",
        "node.kubernetes.io/memory-pressure", "node.kubernetes.io/pid-pressure",
        "node.kubernetes.io/unschedulable"}) {
    out.push_back(
        {{"key", key}, {"operator", "Exists"}, {"effect", "NoSchedule"}});
  }
  return out;
}

// What a server-side apply or controller leaves: a fieldsV1 tree per
// manager.
Json ManagedFields(const std::string& manager, const std::string& time,
                   int fields) {
  Json tree = Json::object();
  for (int i = 0; i < fields; ++i) {
    tree["f:spec"]["f:field" + std::to_string(i)] = {
        {"f:name", Json::object()},
        {"f:value", Json::object()},
        {".", Json::object()}};
  }
  tree["f:metadata"]["f:labels"] = {{".", Json::object()},
                                    {"f:app", Json::object()}};
  return Json::array({{{"manager", manager},
                       {"operation", "Update"},
                       {"apiVersion", "v1"},
                       {"time", time},
                       {"fieldsType", "FieldsV1"},
                       {"fieldsV1", tree}}});
}

Json Containers(const std::string& app) {
  Json env = Json::array();
  for (int i = 0; i < 12; ++i) {
    env.push_back({{"name", "AGENT_SETTING_" + std::to_string(i)},
                   {"value", "value-of-setting-" + std::to_string(i)}});
  }
  env.push_back({{"name", "NODE_NAME"},
                 {"valueFrom",
                  {{"fieldRef",
                    {{"apiVersion", "v1"}, {"fieldPath", "spec.nodeName"}}}}}});
  Json mounts = Json::array();
  for (const char* m : {"config", "host-proc", "host-sys", "varlog", "tls"}) {
    mounts.push_back({{"name", m},
                      {"mountPath", std::string("/host/") + m},
                      {"readOnly", true}});
  }
  mounts.push_back(
      {{"name", "kube-api-access-x7k2p"},
       {"mountPath", "/var/run/secrets/kubernetes.io/serviceaccount"},
       {"readOnly", true}});
  Json probe = {
      {"httpGet", {{"path", "/healthz"}, {"port", 8080}, {"scheme", "HTTP"}}},
      {"initialDelaySeconds", 10},
      {"periodSeconds", 10},
      {"timeoutSeconds", 1},
      {"successThreshold", 1},
      {"failureThreshold", 3}};
  Json main = {
      {"name", app},
      {"image", "registry.example.com/agents/" + app + ":v1.27.3"},
      {"args",
       {"--config=/etc/agent/config.yaml", "--v=2",
        "--metrics-bind-address=:8080"}},
      {"env", env},
      {"ports",
       {{{"name", "metrics"}, {"containerPort", 8080}, {"protocol", "TCP"}}}},
      {"resources",
       {{"limits", {{"cpu", "200m"}, {"memory", "256Mi"}}},
        {"requests", {{"cpu", "50m"}, {"memory", "64Mi"}}}}},
      {"volumeMounts", mounts},
      {"livenessProbe", probe},
      {"readinessProbe", probe},
      {"securityContext",
       {{"privileged", true}, {"readOnlyRootFilesystem", true}}},
      {"terminationMessagePath", "/dev/termination-log"},
      {"terminationMessagePolicy", "File"},
      {"imagePullPolicy", "IfNotPresent"}};
  Json sidecar = {
      {"name", "log-forwarder"},
      {"image", "registry.example.com/agents/log-forwarder:2.1.0"},
      {"resources", {{"requests", {{"cpu", "10m"}, {"memory", "32Mi"}}}}},
      {"volumeMounts", mounts},
      {"terminationMessagePath", "/dev/termination-log"},
      {"terminationMessagePolicy", "File"},
      {"imagePullPolicy", "IfNotPresent"}};
  return Json::array({main, sidecar});
}

Json Volumes() {
  Json v = Json::array();
  v.push_back(
      {{"name", "config"},
       {"configMap", {{"name", "agent-config"}, {"defaultMode", 420}}}});
  for (const char* h : {"proc", "sys", "varlog"}) {
    v.push_back({{"name", std::string("host-") + h},
                 {"hostPath", {{"path", std::string("/") + h}, {"type", ""}}}});
  }
  v.push_back(
      {{"name", "tls"},
       {"secret", {{"secretName", "agent-tls"}, {"defaultMode", 420}}}});
  v.push_back({{"name", "kube-api-access-x7k2p"},
               {"projected",
                {{"defaultMode", 420},
                 {"sources",
                  {{{"serviceAccountToken",
                     {{"expirationSeconds", 3607}, {"path", "token"}}}},
                   {{"configMap",
                     {{"name", "kube-root-ca.crt"},
                      {"items", {{{"key", "ca.crt"}, {"path", "ca.crt"}}}}}}},
                   {{"downwardAPI",
                     {{"items",
                       {{{"path", "namespace"},
                         {"fieldRef",
                          {{"apiVersion", "v1"},
                           {"fieldPath", "metadata.namespace"}}}}}}}}}}}}}});
  return v;
}

std::string Label(const v1::Pod& pod, const std::string& key) {
  for (const v1::Label& l : pod.labels()) {
    if (l.key() == key) return l.value();
  }
  return "";
}

}  // namespace

Json KubeNode(const v1::Node& node) {
  const std::string created = "2025-11-01T08:00:00Z";
  Json taints = Json::array();
  for (const v1::Taint& t : node.taints()) {
    Json j = {{"key", t.key()}, {"effect", EffectName(t.effect())}};
    if (!t.value().empty()) j["value"] = t.value();
    taints.push_back(j);
  }
  Json spec = {{"podCIDR", "10.244.0.0/24"},
               {"podCIDRs", {"10.244.0.0/24"}},
               {"providerID", "example://" + node.name()}};
  if (!taints.empty()) spec["taints"] = taints;
  Json conditions = Json::array();
  for (const char* c : {"MemoryPressure", "DiskPressure", "PIDPressure"}) {
    conditions.push_back({{"type", c},
                          {"status", "False"},
                          {"lastHeartbeatTime", "2026-01-01T00:00:00Z"},
                          {"lastTransitionTime", created},
                          {"reason", std::string("KubeletHasNo") + c},
                          {"message", "kubelet has no pressure"}});
  }
  conditions.push_back({{"type", "Ready"},
                        {"status", "True"},
                        {"lastHeartbeatTime", "2026-01-01T00:00:00Z"},
                        {"lastTransitionTime", created},
                        {"reason", "KubeletReady"},
                        {"message", "kubelet is posting ready status"}});
  Json images = Json::array();
  for (int i = 0; i < 12; ++i) {
    images.push_back(
        {{"names",
          {"registry.example.com/app/image-" + std::to_string(i) +
               "@sha256:"
               "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde"
               "f",
           "registry.example.com/app/image-" + std::to_string(i) + ":v1"}},
         {"sizeBytes", 100000000 + i}});
  }
  const Json resources = {{"cpu", "16"},
                          {"ephemeral-storage", "101430960Ki"},
                          {"memory", "65842520Ki"},
                          {"pods", "110"}};
  return {
      {"apiVersion", "v1"},
      {"kind", "Node"},
      {"metadata",
       {{"name", node.name()},
        {"uid", "node-uid-" + node.name()},
        {"creationTimestamp", created},
        {"labels", LabelMap(node.labels())},
        {"annotations",
         {{"node.alpha.kubernetes.io/ttl", "0"},
          {"volumes.kubernetes.io/controller-managed-attach-detach", "true"}}},
        {"managedFields", ManagedFields("kubelet", created, 6)}}},
      {"spec", spec},
      {"status",
       {{"capacity", resources},
        {"allocatable", resources},
        {"conditions", conditions},
        {"addresses",
         {{{"type", "InternalIP"}, {"address", "10.0.0.1"}},
          {{"type", "Hostname"}, {"address", node.name()}}}},
        {"daemonEndpoints", {{"kubeletEndpoint", {{"Port", 10250}}}}},
        {"nodeInfo",
         {{"architecture", "amd64"},
          {"containerRuntimeVersion", "containerd://1.7.2"},
          {"kernelVersion", "6.1.0-13-amd64"},
          {"kubeletVersion", "v1.32.0"},
          {"operatingSystem", "linux"},
          {"osImage", "Debian GNU/Linux 12 (bookworm)"}}},
        {"images", images}}}};
}

Json KubeDaemonSet(const v1::DaemonSet& ds) {
  const std::string created = Time(ds.creation_timestamp());
  const v1::PodTemplate& t = ds.template_();
  Json pod_spec = {{"containers", Containers(ds.name())},
                   {"volumes", Volumes()},
                   {"tolerations", Tolerations(t)},
                   {"restartPolicy", "Always"},
                   {"dnsPolicy", "ClusterFirst"},
                   {"serviceAccountName", ds.name()},
                   {"terminationGracePeriodSeconds", 30},
                   {"schedulerName", "default-scheduler"}};
  if (t.node_selector_size() > 0)
    pod_spec["nodeSelector"] = LabelMap(t.node_selector());
  if (t.has_required_node_affinity())
    pod_spec["affinity"] = NodeAffinity(t.required_node_affinity());
  if (t.host_network()) pod_spec["hostNetwork"] = true;
  Json strategy = {
      {"type", "RollingUpdate"},
      {"rollingUpdate",
       {{"maxUnavailable", ds.update_strategy().max_unavailable().count()},
        {"maxSurge", 0}}}};
  return {
      {"apiVersion", "apps/v1"},
      {"kind", "DaemonSet"},
      {"metadata",
       {{"name", ds.name()},
        {"namespace", ds.namespace_()},
        {"uid", ds.uid()},
        {"generation", ds.generation()},
        {"creationTimestamp", created},
        {"labels", {{"app", ds.name()}}},
        {"annotations",
         {{"deprecated.daemonset.template.generation",
           std::to_string(ds.template_generation())},
          {"kubectl.kubernetes.io/last-applied-configuration",
           std::string(1500, 'x')}}},
        {"managedFields",
         ManagedFields("kubectl-client-side-apply", created, 20)}}},
      {"spec",
       {{"selector", {{"matchLabels", LabelMap(ds.selector().match_labels())}}},
        {"template",
         {{"metadata", {{"labels", LabelMap(t.labels())}}},
          {"spec", pod_spec}}},
        {"updateStrategy", strategy},
        {"revisionHistoryLimit", 10},
        {"minReadySeconds", ds.min_ready_seconds()}}},
      {"status", {{"observedGeneration", ds.generation()}}}};
}

Json KubeControllerRevision(const v1::DaemonSet& ds) {
  return {{"apiVersion", "apps/v1"},
          {"kind", "ControllerRevision"},
          {"metadata",
           {{"name", ds.name() + "-" + ds.current_revision_hash()},
            {"namespace", ds.namespace_()},
            {"uid", "rev-" + ds.uid()},
            {"creationTimestamp", Time(ds.creation_timestamp())},
            {"labels",
             {{"app", ds.name()},
              {"controller-revision-hash", ds.current_revision_hash()}}},
            {"ownerReferences",
             {{{"apiVersion", "apps/v1"},
               {"kind", "DaemonSet"},
               {"name", ds.name()},
               {"uid", ds.uid()},
               {"controller", true},
               {"blockOwnerDeletion", true}}}}}},
          {"revision", ds.template_generation()},
          {"data",
           {{"spec",
             {{"template",
               {{"$patch", "replace"},
                {"spec", {{"containers", Containers(ds.name())}}}}}}}}}};
}

Json KubePod(const v1::Pod& pod) {
  const std::string created = Time(pod.creation_timestamp());
  const std::string app = Label(pod, "app");
  const char* phase = "Running";
  switch (pod.phase()) {
    case v1::POD_PHASE_PENDING:
      phase = "Pending";
      break;
    case v1::POD_PHASE_SUCCEEDED:
      phase = "Succeeded";
      break;
    case v1::POD_PHASE_FAILED:
      phase = "Failed";
      break;
    case v1::POD_PHASE_UNKNOWN:
      phase = "Unknown";
      break;
    default:
      break;
  }
  const std::string ready_at = pod.has_ready_transition_time()
                                   ? Time(pod.ready_transition_time())
                                   : created;
  const char* ready = pod.ready() ? "True" : "False";
  Json conditions = Json::array();
  conditions.push_back({{"type", "Initialized"},
                        {"status", "True"},
                        {"lastProbeTime", nullptr},
                        {"lastTransitionTime", created}});
  conditions.push_back({{"type", "Ready"},
                        {"status", ready},
                        {"lastProbeTime", nullptr},
                        {"lastTransitionTime", ready_at}});
  conditions.push_back({{"type", "ContainersReady"},
                        {"status", ready},
                        {"lastProbeTime", nullptr},
                        {"lastTransitionTime", ready_at}});
  conditions.push_back({{"type", "PodScheduled"},
                        {"status", "True"},
                        {"lastProbeTime", nullptr},
                        {"lastTransitionTime", created}});
  Json statuses = Json::array();
  for (const char* c : {"main", "log-forwarder"}) {
    statuses.push_back(
        {{"name", std::string(c) == "main" ? app : c},
         {"ready", pod.ready()},
         {"restartCount", 0},
         {"started", true},
         {"image", "registry.example.com/agents/" + app + ":v1.27.3"},
         {"imageID", "registry.example.com/agents/" + app +
                         "@sha256:"
                         "0123456789abcdef0123456789abcdef0123456789abcdef01234"
                         "56789abcdef"},
         {"containerID",
          "containerd://"
          "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
         {"lastState", Json::object()},
         {"state", {{"running", {{"startedAt", created}}}}}});
  }
  Json spec = {{"containers", Containers(app)},
               {"volumes", Volumes()},
               {"tolerations", DaemonPodTolerations()},
               {"restartPolicy", "Always"},
               {"dnsPolicy", "ClusterFirst"},
               {"serviceAccountName", app},
               {"serviceAccount", app},
               {"nodeName", pod.node_name()},
               {"terminationGracePeriodSeconds", 30},
               {"schedulerName", "default-scheduler"},
               {"priority", 0},
               {"enableServiceLinks", true},
               {"preemptionPolicy", "PreemptLowerPriority"}};
  if (pod.has_required_node_affinity())
    spec["affinity"] = NodeAffinity(pod.required_node_affinity());
  Json meta = {
      {"name", pod.name()},
      {"generateName", app + "-"},
      {"namespace", pod.namespace_()},
      {"uid", pod.uid()},
      {"creationTimestamp", created},
      {"labels", LabelMap(pod.labels())},
      {"ownerReferences",
       {{{"apiVersion", "apps/v1"},
         {"kind", "DaemonSet"},
         {"name", app},
         {"uid", pod.controller_uid()},
         {"controller", true},
         {"blockOwnerDeletion", true}}}},
      {"managedFields", ManagedFields("kube-controller-manager", created, 12)}};
  if (pod.has_deletion_timestamp())
    meta["deletionTimestamp"] = Time(pod.deletion_timestamp());
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", meta},
          {"spec", spec},
          {"status",
           {{"phase", phase},
            {"conditions", conditions},
            {"hostIP", "10.0.0.1"},
            {"podIP", "10.244.0.17"},
            {"podIPs", {{{"ip", "10.244.0.17"}}}},
            {"startTime", created},
            {"qosClass", "Burstable"},
            {"containerStatuses", statuses}}}};
}

void MakeLean(Json& object) {
  auto child = [](Json& o, const char* key) -> Json* {
    if (!o.is_object()) return nullptr;
    auto it = o.find(key);
    return it == o.end() ? nullptr : &*it;
  };
  if (Json* meta = child(object, "metadata")) {
    meta->erase("managedFields");
    if (Json* a = child(*meta, "annotations")) {
      a->erase("kubectl.kubernetes.io/last-applied-configuration");
    }
  }
  object.erase("data");
  Json* spec = child(object, "spec");
  Json* tmpl = spec != nullptr ? child(*spec, "template") : nullptr;
  for (Json* s : {spec, tmpl != nullptr ? child(*tmpl, "spec") : nullptr}) {
    if (s == nullptr) continue;
    s->erase("containers");
    s->erase("volumes");
  }
  if (Json* status = child(object, "status")) {
    status->erase("containerStatuses");
    status->erase("images");
  }
}

std::vector<Json> KubeObjects(const v1::Snapshot& snapshot, bool lean) {
  std::vector<Json> out;
  out.reserve(static_cast<size_t>(snapshot.nodes_size() +
                                  2 * snapshot.daemon_sets_size() +
                                  snapshot.pods_size()));
  for (const v1::Node& n : snapshot.nodes()) out.push_back(KubeNode(n));
  for (const v1::DaemonSet& ds : snapshot.daemon_sets()) {
    out.push_back(KubeDaemonSet(ds));
    out.push_back(KubeControllerRevision(ds));
  }
  for (const v1::Pod& p : snapshot.pods()) out.push_back(KubePod(p));
  if (lean) {
    for (Json& o : out) MakeLean(o);
  }
  return out;
}

std::string KubePodListPage(const v1::Snapshot& snapshot, int first,
                            int count) {
  std::string out =
      R"({"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"123456","continue":"123456:)" +
      std::to_string(first + count) + R"("},"items":[)";
  const int end = std::min(snapshot.pods_size(), first + count);
  for (int i = first; i < end; ++i) {
    Json pod = KubePod(snapshot.pods(i));
    pod.erase("kind");
    pod.erase("apiVersion");
    if (i > first) out += ',';
    out += pod.dump();
  }
  out += "]}";
  return out;
}

}  // namespace dsd::bench
