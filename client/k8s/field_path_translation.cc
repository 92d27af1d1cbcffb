// TranslateFieldPath: the server's proto field paths
// ("snapshot.daemon_sets[2].template.tolerations[0].operator") back to the
// Kubernetes object and field the user wrote
// ("DaemonSet kube-system/x: spec.template.spec.tolerations[0].operator").
#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/k8s/internal/object_converter.h"
#include "client/k8s/snapshot_loader.h"

namespace dsd::client {
namespace {

// One path segment: name, then at most one [index] or ["key"].
struct Segment {
  std::string name;
  std::optional<size_t> index;
  std::optional<std::string> key;
};

std::optional<std::vector<Segment>> Parse(std::string_view path) {
  std::vector<Segment> out;
  size_t i = 0;
  while (i < path.size()) {
    Segment s;
    const size_t end = path.find_first_of(".[", i);
    s.name = std::string(path.substr(i, end - i));
    if (s.name.empty()) return std::nullopt;
    i = end == std::string_view::npos ? path.size() : end;
    if (i < path.size() && path[i] == '[') {
      if (path.substr(i, 2) == "[\"") {
        // Keys are label keys (no quotes), rendered unescaped.
        const size_t close = path.find("\"]", i + 2);
        if (close == std::string_view::npos) return std::nullopt;
        s.key = std::string(path.substr(i + 2, close - i - 2));
        i = close + 2;
      } else {
        const size_t close = path.find(']', i);
        if (close == std::string_view::npos || close == i + 1) {
          return std::nullopt;
        }
        size_t index = 0;
        for (size_t j = i + 1; j < close; ++j) {
          if (path[j] < '0' || path[j] > '9') return std::nullopt;
          index = index * 10 + static_cast<size_t>(path[j] - '0');
        }
        s.index = index;
        i = close + 1;
      }
    }
    if (i < path.size()) {
      if (path[i] != '.') return std::nullopt;
      ++i;
      if (i == path.size()) return std::nullopt;
    }
    out.push_back(std::move(s));
  }
  return out;
}

// time_added -> timeAdded.
std::string LowerCamel(std::string_view snake) {
  std::string out;
  bool upper = false;
  for (char c : snake) {
    if (c == '_') {
      upper = true;
      continue;
    }
    out += upper && c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
    upper = false;
  }
  return out;
}

// Segments [from, end) with camelCase names, joined by '.'.
std::string Render(const std::vector<Segment>& segments, size_t from) {
  std::string out;
  for (size_t i = from; i < segments.size(); ++i) {
    if (!out.empty()) out += '.';
    out += LowerCamel(segments[i].name);
    if (segments[i].index)
      out += "[" + std::to_string(*segments[i].index) + "]";
    if (segments[i].key) out += "[\"" + *segments[i].key + "\"]";
  }
  return out;
}

// `prefix`, then the rendered rest (if any).
std::string With(std::string prefix, const std::vector<Segment>& segments,
                 size_t from) {
  const std::string rest = Render(segments, from);
  if (rest.empty()) return prefix;
  return prefix + "." + rest;
}

bool Is(const std::vector<Segment>& s, size_t i, std::string_view name) {
  return i < s.size() && s[i].name == name;
}

// A plain segment (no index or key).
bool IsField(const std::vector<Segment>& s, size_t i, std::string_view name) {
  return Is(s, i, name) && !s[i].index && !s[i].key;
}

constexpr char kRequiredAffinity[] =
    "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution";

// The fields of the object, from segment 1 on; nullopt when not a known
// shape. "" is the object itself.
std::optional<std::string> NodeField(const std::vector<Segment>& s) {
  if (s.size() == 1) return "";
  if (IsField(s, 1, "name") && s.size() == 2) return "metadata.name";
  if (Is(s, 1, "labels")) return With("metadata", s, 1);
  if (Is(s, 1, "taints")) return With("spec", s, 1);
  return std::nullopt;
}

std::optional<std::string> TemplateField(const std::vector<Segment>& s) {
  constexpr char kSpec[] = "spec.template.spec";
  if (s.size() == 2) return "spec.template";
  if (Is(s, 2, "labels")) return With("spec.template.metadata", s, 2);
  if (IsField(s, 2, "required_node_affinity")) {
    return With(std::string(kSpec) + "." + kRequiredAffinity, s, 3);
  }
  if (Is(s, 2, "node_name") || Is(s, 2, "node_selector") ||
      Is(s, 2, "tolerations") || Is(s, 2, "host_network")) {
    return With(kSpec, s, 2);
  }
  return std::nullopt;
}

std::optional<std::string> UpdateStrategyField(const std::vector<Segment>& s) {
  constexpr char kStrategy[] = "spec.updateStrategy";
  if (s.size() == 2) return kStrategy;
  if (IsField(s, 2, "type") && s.size() == 3) {
    return std::string(kStrategy) + ".type";
  }
  // dsd extensions: dsdctl reads them from the DaemonSet's annotations.
  const auto annotation = [](std::string_view name) {
    return "metadata.annotations[\"" + std::string(name) + "\"]";
  };
  if (IsField(s, 2, "partition")) {
    return annotation(internal::kRolloutPartitionAnnotation);
  }
  if (IsField(s, 2, "paused")) {
    return annotation(internal::kRolloutPausedAnnotation);
  }
  if (IsField(s, 2, "rollout_node_selector")) {
    return annotation(internal::kRolloutNodeSelectorAnnotation);
  }
  const std::string rolling = std::string(kStrategy) + ".rollingUpdate";
  if (IsField(s, 2, "max_unavailable") || IsField(s, 2, "max_surge")) {
    // The oneof member (.count, .percent) is one IntOrString there.
    if (s.size() == 3 || (s.size() == 4 && (IsField(s, 3, "count") ||
                                            IsField(s, 3, "percent")))) {
      return rolling + "." + LowerCamel(s[2].name);
    }
    return std::nullopt;
  }
  return std::nullopt;
}

std::optional<std::string> DaemonSetField(const std::vector<Segment>& s) {
  if (s.size() == 1) return "";
  for (std::string_view meta : {"namespace", "name", "uid", "generation",
                                "creation_timestamp", "deletion_timestamp"}) {
    if (IsField(s, 1, meta) && s.size() == 2) return With("metadata", s, 1);
  }
  if (IsField(s, 1, "template_generation") && s.size() == 2) {
    return "metadata.annotations[\"deprecated.daemonset.template.generation\"]";
  }
  if (IsField(s, 1, "current_revision_hash") && s.size() == 2) {
    // Not a field of the DaemonSet: the client read it from a revision.
    return "controller-revision-hash of its newest ControllerRevision";
  }
  if (IsField(s, 1, "selector")) return With("spec", s, 1);
  if (IsField(s, 1, "template")) return TemplateField(s);
  if (IsField(s, 1, "update_strategy")) return UpdateStrategyField(s);
  if (IsField(s, 1, "min_ready_seconds") && s.size() == 2) {
    return "spec.minReadySeconds";
  }
  return std::nullopt;
}

std::optional<std::string> PodField(const std::vector<Segment>& s) {
  if (s.size() == 1) return "";
  for (std::string_view meta : {"namespace", "name", "uid",
                                "creation_timestamp", "deletion_timestamp"}) {
    if (IsField(s, 1, meta) && s.size() == 2) return With("metadata", s, 1);
  }
  if (Is(s, 1, "labels")) return With("metadata", s, 1);
  if (IsField(s, 1, "controller_uid") && s.size() == 2) {
    return "metadata.ownerReferences";
  }
  if (IsField(s, 1, "node_name") && s.size() == 2) return "spec.nodeName";
  if (IsField(s, 1, "required_node_affinity")) {
    return With(std::string("spec.") + kRequiredAffinity, s, 2);
  }
  if (IsField(s, 1, "phase") && s.size() == 2) return "status.phase";
  if (IsField(s, 1, "ready") && s.size() == 2) {
    return "status.conditions[Ready].status";
  }
  if (IsField(s, 1, "ready_transition_time") && s.size() == 2) {
    return "status.conditions[Ready].lastTransitionTime";
  }
  return std::nullopt;
}

}  // namespace

std::string TranslateFieldPath(const LoadedSnapshot& loaded,
                               std::string_view proto_path) {
  std::string_view path = proto_path;
  constexpr std::string_view kRoot = "snapshot.";
  if (path.substr(0, kRoot.size()) == kRoot) path.remove_prefix(kRoot.size());
  const std::optional<std::vector<Segment>> segments = Parse(path);
  if (!segments || segments->empty() || !(*segments)[0].index ||
      (*segments)[0].key) {
    return std::string(proto_path);
  }
  const Segment& first = (*segments)[0];
  const std::vector<ObjectOrigin>* origins = nullptr;
  std::optional<std::string> field;
  if (first.name == "nodes") {
    origins = &loaded.nodes;
    field = NodeField(*segments);
  } else if (first.name == "daemon_sets") {
    origins = &loaded.daemon_sets;
    field = DaemonSetField(*segments);
  } else if (first.name == "pods") {
    origins = &loaded.pods;
    field = PodField(*segments);
  }
  if (origins == nullptr || !field || *first.index >= origins->size()) {
    return std::string(proto_path);
  }
  const ObjectOrigin& origin = (*origins)[*first.index];
  std::string out = origin.source;
  for (const std::string& part : {origin.object, *field}) {
    if (part.empty()) continue;
    if (!out.empty()) out += ": ";
    out += part;
  }
  return out;
}

}  // namespace dsd::client
