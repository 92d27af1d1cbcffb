#include "bench/hostile_requests.h"

#include <algorithm>
#include <string>
#include <vector>

#include "bench/cluster.h"
#include "dsd/v1/dsd.pb.h"

namespace dsd::bench {
namespace {

// A valid request with one DaemonSet (the synthetic cluster's first) and
// no node: the base the DaemonSet shapes change.
v1::DecideRequest OneDaemonSet() {
  v1::DecideRequest request = BenchRequest(/*nodes=*/0, /*daemon_sets=*/1);
  request.mutable_snapshot()
      ->mutable_daemon_sets(0)
      ->mutable_template_()
      ->clear_tolerations();
  return request;
}

constexpr char kAffinityKey[] = "zone";

// `i` in decimal, zero-padded to `width` digits.
std::string Padded(int64_t i, size_t width) {
  std::string digits = std::to_string(i);
  if (digits.size() < width) digits.insert(0, width - digits.size(), '0');
  return digits;
}

// `nodes` nodes whose kAffinityKey label is in none of the In values, and
// the DaemonSet requiring one of `values` values. Every value and the
// nodes' label value have the same length and first letter, so that no
// comparison can stop at a length or a first byte that differ.
void AddManyInValues(v1::Snapshot& s, int64_t nodes, int64_t values) {
  const size_t width = std::to_string(std::max<int64_t>(values - 1, 0)).size();
  v1::SelectorRequirement& r = *s.mutable_daemon_sets(0)
                                    ->mutable_template_()
                                    ->mutable_required_node_affinity()
                                    ->add_node_selector_terms()
                                    ->add_match_expressions();
  r.set_key(kAffinityKey);
  r.set_operator_(v1::SELECTOR_OPERATOR_IN);
  r.mutable_values()->Reserve(static_cast<int>(values));
  for (int64_t i = 0; i < values; ++i) r.add_values("v" + Padded(i, width));
  const std::string none = "v" + std::string(width, 'x');
  s.mutable_nodes()->Reserve(static_cast<int>(nodes));
  for (int64_t i = 0; i < nodes; ++i) {
    v1::Node& node = *s.add_nodes();
    node.set_name("n" + std::to_string(i));
    v1::Label& label = *node.add_labels();
    label.set_key(kAffinityKey);
    label.set_value(none);
  }
}

void AppendVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// Field 1 (snapshot) of a Decide/Explain request, holding `snapshot`.
std::string WrapSnapshot(const std::string& snapshot) {
  std::string out;
  out.reserve(snapshot.size() + 16);
  out.push_back(0x0a);
  AppendVarint(out, snapshot.size());
  out += snapshot;
  return out;
}

// The request's `now` (field 2), serialized: appended to a snapshot it
// merges as protobuf merges concatenated messages.
std::string NowField() {
  v1::DecideRequest r;
  r.mutable_now()->set_seconds(1767225600);
  return r.SerializeAsString();
}

// `nodes` nodes with `n` NoSchedule taints each, and one DaemonSet with `n`
// tolerations, none of which matches.
std::string TaintsTolerations(int64_t nodes, int64_t n) {
  v1::DecideRequest request = OneDaemonSet();
  v1::Snapshot& s = *request.mutable_snapshot();
  auto& tolerations =
      *s.mutable_daemon_sets(0)->mutable_template_()->mutable_tolerations();
  tolerations.Reserve(static_cast<int>(n));
  // Keys of one length: no comparison stops at differing lengths.
  const size_t width = std::to_string(std::max<int64_t>(n - 1, 0)).size();
  for (int64_t i = 0; i < n; ++i) {
    v1::Toleration& tol = *tolerations.Add();
    tol.set_key("o" + Padded(i, width));
    tol.set_operator_(v1::TOLERATION_OPERATOR_EXISTS);
    tol.set_effect(v1::TAINT_EFFECT_NO_SCHEDULE);
  }
  for (int64_t k = 0; k < nodes; ++k) {
    v1::Node& node = *s.add_nodes();
    node.set_name("n" + std::to_string(k));
    node.mutable_taints()->Reserve(static_cast<int>(n));
    for (int64_t i = 0; i < n; ++i) {
      v1::Taint& t = *node.add_taints();
      t.set_key("t" + Padded(i, width));
      t.set_effect(v1::TAINT_EFFECT_NO_SCHEDULE);
    }
  }
  return request.SerializeAsString();
}

// Node names and `m` distinct short label keys for each of `nodes` nodes:
// 2-character keys, then 3-character ones, each node's list rotated by 7
// from the previous node's (so that no two lists are alike).
template <typename Add>
void ShortKeyNodes(v1::Snapshot& s, int64_t nodes, int64_t m, Add add) {
  std::vector<std::string> pool;
  const std::string first = "abcdefghijklmnopqrstuvwxyz";
  const std::string rest = first + "0123456789";
  for (char a : first) {
    for (char b : rest) pool.push_back({a, b});
  }
  for (char a : first) {
    for (char b : rest) {
      for (char c : rest) pool.push_back({a, b, c});
    }
  }
  const auto count = static_cast<int64_t>(pool.size());
  s.mutable_nodes()->Reserve(static_cast<int>(nodes));
  for (int64_t i = 0; i < nodes; ++i) {
    v1::Node& node = *s.add_nodes();
    node.set_name("n" + std::to_string(i));
    for (int64_t j = 0; j < std::min(m, count); ++j) {
      add(node, pool[static_cast<size_t>((i * 7 + j) % count)]);
    }
  }
}

}  // namespace

ShapeSize DefaultSize(HostileShape shape, Scale scale) {
  const bool issue = scale == Scale::kIssue;
  switch (shape) {
    case HostileShape::kManyInValues:
      return issue ? ShapeSize{50'000, 100'000} : ShapeSize{10'000, 20'000};
    case HostileShape::kManyTaintsTolerations:
      return issue ? ShapeSize{60'000, 0} : ShapeSize{10'000, 0};
    case HostileShape::kEmptyTaints:  // 16.8 MB at the issue's size
    case HostileShape::kEmptyNodes:
      return issue ? ShapeSize{8'400'000, 0} : ShapeSize{1'000'000, 0};
    case HostileShape::kExplainManyInValues:
      return issue ? ShapeSize{1'000, 100'000} : ShapeSize{200, 20'000};
    case HostileShape::kTaintsTolerationsAtCaps:
      return issue ? ShapeSize{200, 1'000} : ShapeSize{40, 1'000};
    case HostileShape::kShortLabels:
      return issue ? ShapeSize{300, 1'000} : ShapeSize{60, 1'000};
    case HostileShape::kShortTaints:
      return issue ? ShapeSize{250, 1'000} : ShapeSize{50, 1'000};
    case HostileShape::kPodManyInValues:
      return issue ? ShapeSize{1, 100'000} : ShapeSize{1, 20'000};
  }
  return {};
}

const char* ShapeName(HostileShape shape) {
  switch (shape) {
    case HostileShape::kManyInValues:
      return "in_values";
    case HostileShape::kManyTaintsTolerations:
      return "taints_tolerations";
    case HostileShape::kEmptyTaints:
      return "empty_taints";
    case HostileShape::kEmptyNodes:
      return "empty_nodes";
    case HostileShape::kExplainManyInValues:
      return "explain_in_values";
    case HostileShape::kTaintsTolerationsAtCaps:
      return "taints_tolerations_at_caps";
    case HostileShape::kShortLabels:
      return "short_labels";
    case HostileShape::kShortTaints:
      return "short_taints";
    case HostileShape::kPodManyInValues:
      return "pod_in_values";
  }
  return "unknown";
}

bool IsExplain(HostileShape shape) {
  return shape == HostileShape::kExplainManyInValues;
}

std::string HostileRequestBytes(HostileShape shape, ShapeSize size) {
  switch (shape) {
    case HostileShape::kManyInValues: {
      v1::DecideRequest request = OneDaemonSet();
      AddManyInValues(*request.mutable_snapshot(), size.n, size.m);
      return request.SerializeAsString();
    }
    case HostileShape::kManyTaintsTolerations:
      return TaintsTolerations(1, size.n);
    case HostileShape::kTaintsTolerationsAtCaps:
      return TaintsTolerations(size.n, size.m);
    case HostileShape::kEmptyTaints: {
      // Node { name: "n0", taints: {} x n }.
      std::string node = "\x0a\x02n0";
      node.reserve(node.size() + 2 * static_cast<size_t>(size.n));
      for (int64_t i = 0; i < size.n; ++i) node.append("\x1a\x00", 2);
      std::string snapshot;
      snapshot.reserve(node.size() + 16);
      snapshot.push_back(0x0a);
      AppendVarint(snapshot, node.size());
      snapshot += node;
      return WrapSnapshot(snapshot) + NowField();
    }
    case HostileShape::kEmptyNodes: {
      std::string snapshot;
      snapshot.reserve(2 * static_cast<size_t>(size.n));
      for (int64_t i = 0; i < size.n; ++i) snapshot.append("\x0a\x00", 2);
      return WrapSnapshot(snapshot) + NowField();
    }
    case HostileShape::kShortLabels: {
      v1::DecideRequest request = OneDaemonSet();
      ShortKeyNodes(*request.mutable_snapshot(), size.n, size.m,
                    [](v1::Node& node, const std::string& key) {
                      node.add_labels()->set_key(key);
                    });
      return request.SerializeAsString();
    }
    case HostileShape::kShortTaints: {
      v1::DecideRequest request = OneDaemonSet();
      ShortKeyNodes(*request.mutable_snapshot(), size.n, size.m,
                    [](v1::Node& node, const std::string& key) {
                      v1::Taint& t = *node.add_taints();
                      t.set_key(key);
                      t.set_effect(v1::TAINT_EFFECT_NO_SCHEDULE);
                    });
      return request.SerializeAsString();
    }
    case HostileShape::kPodManyInValues: {
      v1::DecideRequest request = OneDaemonSet();
      v1::Snapshot& s = *request.mutable_snapshot();
      for (int64_t i = 0; i < size.n; ++i) {
        s.add_nodes()->set_name("n" + std::to_string(i));
      }
      v1::Pod& pod = *s.add_pods();
      pod.set_namespace_("default");
      pod.set_name("p");
      pod.set_uid("p-uid");
      v1::SelectorRequirement& r = *pod.mutable_required_node_affinity()
                                        ->add_node_selector_terms()
                                        ->add_match_expressions();
      r.set_key(kAffinityKey);
      r.set_operator_(v1::SELECTOR_OPERATOR_IN);
      const size_t width =
          std::to_string(std::max<int64_t>(size.m - 1, 0)).size();
      r.mutable_values()->Reserve(static_cast<int>(size.m));
      for (int64_t i = 0; i < size.m; ++i) r.add_values("v" + Padded(i, width));
      return request.SerializeAsString();
    }
    case HostileShape::kExplainManyInValues: {
      v1::DecideRequest decide = OneDaemonSet();
      AddManyInValues(*decide.mutable_snapshot(), size.n, size.m);
      v1::ExplainRequest request;
      request.mutable_snapshot()->Swap(decide.mutable_snapshot());
      *request.mutable_now() = decide.now();
      return request.SerializeAsString();
    }
  }
  return {};
}

std::string BenignRequestBytes(size_t target_bytes, bool explain, int* nodes) {
  const auto make = [explain](int n) {
    v1::DecideRequest decide = BenchRequest(n, /*daemon_sets=*/10);
    if (!explain) return decide.SerializeAsString();
    v1::ExplainRequest request;
    request.mutable_snapshot()->Swap(decide.mutable_snapshot());
    *request.mutable_now() = decide.now();
    return request.SerializeAsString();
  };
  // The size is linear in the nodes (pods are per node): size 100 nodes,
  // scale, then correct once.
  constexpr int kProbe = 100;
  const double per_node = static_cast<double>(make(kProbe).size()) / kProbe;
  int n = std::max(
      10, static_cast<int>(static_cast<double>(target_bytes) / per_node));
  std::string bytes = make(n);
  const int corrected =
      std::max(10, static_cast<int>(static_cast<double>(n) *
                                    static_cast<double>(target_bytes) /
                                    static_cast<double>(bytes.size())));
  if (corrected != n) {
    n = corrected;
    bytes = make(n);
  }
  if (nodes != nullptr) *nodes = n;
  return bytes;
}

}  // namespace dsd::bench
