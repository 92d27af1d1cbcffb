// Engine time versus cluster size: nodes x DaemonSets, one daemon pod per
// eligible node in a realistic state mix (bench/cluster.h: the synthetic
// cluster of client/synthetic, converted once by the production path,
// outside the timed loop). Counters: pods in the snapshot and nanoseconds
// per (node x DaemonSet) pair and per pod, whose flatness across sizes
// shows O(nodes x DaemonSets + pods).
#include <benchmark/benchmark.h>

#include "bench/cluster.h"
#include "server/engine/decide.h"

namespace dsd {
namespace {

void BM_Decide(benchmark::State& state) {
  const int nodes = static_cast<int>(state.range(0));
  const int daemon_sets = static_cast<int>(state.range(1));
  const auto cluster =
      bench::ToEngineCluster(bench::BenchRequest(nodes, daemon_sets));
  const engine::Snapshot& snap = cluster->snapshot;
  const engine::Options options;
  size_t actions = 0;
  for (auto _ : state) {
    engine::Plan plan = engine::Decide(snap, cluster->now, options);
    actions = 0;
    for (const auto& p : plan.daemon_sets) {
      actions += p.creates.size() + p.deletes.size();
    }
    benchmark::DoNotOptimize(plan);
  }
  const double pairs = static_cast<double>(nodes) * daemon_sets;
  state.counters["pods"] = static_cast<double>(snap.pods.size());
  state.counters["actions"] = static_cast<double>(actions);
  state.counters["ns_per_node_ds"] =
      benchmark::Counter(pairs, benchmark::Counter::kIsIterationInvariantRate |
                                    benchmark::Counter::kInvert);
  state.counters["ns_per_pod"] =
      benchmark::Counter(static_cast<double>(snap.pods.size()),
                         benchmark::Counter::kIsIterationInvariantRate |
                             benchmark::Counter::kInvert);
}

BENCHMARK(BM_Decide)
    ->ArgNames({"nodes", "daemonsets"})
    ->ArgsProduct({{100, 1000, 5000}, {1, 10, 50}})
    ->Unit(benchmark::kMillisecond);

// With per-node explanations: the cost of answering "why" for every node.
void BM_DecideExplain(benchmark::State& state) {
  const auto cluster = bench::ToEngineCluster(
      bench::BenchRequest(static_cast<int>(state.range(0)), 10));
  engine::Options options;
  options.explain = true;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        engine::Decide(cluster->snapshot, cluster->now, options));
  }
}
BENCHMARK(BM_DecideExplain)
    ->Arg(1000)
    ->Arg(5000)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace dsd

BENCHMARK_MAIN();
