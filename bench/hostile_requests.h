// The hostile request shapes of issue 11 ("dsd-server under hostile and
// heavy requests"), as the serialized bytes a client sends, plus a benign
// synthetic cluster of about the same size to compare them with. Shared by
// bench/adversarial_bench (the service handler in process) and
// bench/hostile_request (writes and sends them to a real dsd-server).
//
// Each shape has two sizes: kIssue, the size found against main (seconds to
// tens of seconds and up to gigabytes there), and kBench, a smaller one that
// keeps an in-process benchmark run short. Shapes 3 and 4 are encoded by
// hand: millions of empty messages would take the client a gigabyte as
// protobuf objects.
#ifndef DSD_BENCH_HOSTILE_REQUESTS_H_
#define DSD_BENCH_HOSTILE_REQUESTS_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace dsd::bench {

enum class HostileShape {
  // Decide: `n` nodes (label not in the list); one DaemonSet whose required
  // node affinity has one requirement with `m` In values.
  kManyInValues = 1,
  // Decide: one node with `n` NoSchedule taints; one DaemonSet with `n`
  // tolerations, none of which matches.
  kManyTaintsTolerations = 2,
  // Decide: one node with `n` empty taints (2 bytes each).
  kEmptyTaints = 3,
  // Decide: `n` empty nodes (2 bytes each); over --max_nodes.
  kEmptyNodes = 4,
  // Explain: `n` nodes that do not match one DaemonSet with `m` In values.
  kExplainManyInValues = 5,
  // Decide: `n` nodes, each with `m` NoSchedule taints; one DaemonSet with
  // `m` tolerations, none of which matches: shape 2 within the per-object
  // caps (m = 1,000), the worst a valid request can do with them.
  kTaintsTolerationsAtCaps = 6,
  // Decide: `n` nodes, each with `m` labels of distinct 2- and 3-character
  // keys and empty values (about 7 bytes a label, near the fewest a valid
  // label takes), no two nodes' lists alike; one DaemonSet. Every label is
  // kept: the engine's per-string cost against the wire's smallest.
  kShortLabels = 7,
  // Decide: the same with `m` NoSchedule taints of such keys a node (about
  // 9 bytes a taint); one DaemonSet tolerating none.
  kShortTaints = 8,
  // Decide: one unscheduled pod whose required node affinity has one
  // requirement with `m` In values (and `n` nodes, none targeted).
  kPodManyInValues = 9,
};
inline constexpr int kHostileShapes = 9;

struct ShapeSize {
  int64_t n = 0;
  int64_t m = 0;
};

enum class Scale { kIssue, kBench };

// The size of `shape` at `scale`.
ShapeSize DefaultSize(HostileShape shape, Scale scale);

// "in_values", "taints_tolerations", ...: stable names for files and reports.
const char* ShapeName(HostileShape shape);

// Whether the shape is an ExplainRequest (else a DecideRequest).
bool IsExplain(HostileShape shape);

// The serialized request.
std::string HostileRequestBytes(HostileShape shape, ShapeSize size);

// A benign request of about `target_bytes` (never fewer than 10 nodes): the
// synthetic cluster of bench/cluster.h with 10 DaemonSets, as a DecideRequest
// or (explain) an ExplainRequest of every DaemonSet and node. `nodes` (when
// set) receives the node count chosen.
std::string BenignRequestBytes(size_t target_bytes, bool explain,
                               int* nodes = nullptr);

}  // namespace dsd::bench

#endif  // DSD_BENCH_HOSTILE_REQUESTS_H_
