// The Decide handler versus protobuf parsing of the same request, measured
// in one run: per iteration, the request bytes are parsed (heap and arena),
// then the service's Decide runs (validation, conversion, engine, response).
// The counter `handler_over_parse` is (validate + convert + engine + plan
// to proto) / parse; the target is <= 0.5.
#include <benchmark/benchmark.h>

#include <chrono>
#include <string>

#include "google/protobuf/arena.h"
#include "server/convert/plan.h"
#include "server/convert/snapshot.h"
#include "server/engine/decide.h"
#include "server/service/scheduler_service.h"
#include "tests/testing/synthetic_cluster.h"
#include "tests/testing/synthetic_request.h"

namespace dsd {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

void BM_ParseVersusHandler(benchmark::State& state) {
  testing::SyntheticSpec spec;
  spec.nodes = static_cast<int>(state.range(0));
  spec.daemon_sets = static_cast<int>(state.range(1));
  const std::string bytes =
      testing::ToDecideRequest(testing::MakeSyntheticCluster(spec),
                               testing::SyntheticNow())
          .SerializeAsString();
  const service::SchedulerService svc({}, [] { return absl::Now(); });
  double parse_heap = 0, parse_arena = 0, handler = 0;
  for (auto _ : state) {
    auto t0 = Clock::now();
    {
      v1::DecideRequest heap;
      benchmark::DoNotOptimize(heap.ParseFromString(bytes));
    }
    auto t1 = Clock::now();
    google::protobuf::Arena arena;
    auto* request =
        google::protobuf::Arena::CreateMessage<v1::DecideRequest>(&arena);
    benchmark::DoNotOptimize(request->ParseFromString(bytes));
    auto t2 = Clock::now();
    auto response = svc.Decide(*request, {});
    benchmark::DoNotOptimize(response);
    auto t3 = Clock::now();
    if (!response.ok()) {
      state.SkipWithError(std::string(response.status().message()).c_str());
      break;
    }
    parse_heap += Seconds(t1 - t0);
    parse_arena += Seconds(t2 - t1);
    handler += Seconds(t3 - t2);
  }
  const auto n = static_cast<double>(state.iterations());
  state.counters["request_MB"] = static_cast<double>(bytes.size()) / 1e6;
  state.counters["parse_heap_ms"] = parse_heap / n * 1e3;
  state.counters["parse_arena_ms"] = parse_arena / n * 1e3;
  state.counters["handler_ms"] = handler / n * 1e3;
  state.counters["handler_over_parse"] = handler / parse_arena;
}

BENCHMARK(BM_ParseVersusHandler)
    ->ArgNames({"nodes", "daemonsets"})
    ->Args({100, 10})
    ->Args({1000, 10})
    ->Args({5000, 10})
    ->Args({5000, 50})
    ->Unit(benchmark::kMillisecond);

// The handler's stages timed separately through the convert and engine APIs
// the service calls (validation with conversion in one pass, the engine,
// plan -> proto), each as a fraction of the arena parse measured in the same
// run: where the handler's time goes, to see which stage a change moved.
void BM_HandlerStages(benchmark::State& state) {
  testing::SyntheticSpec spec;
  spec.nodes = static_cast<int>(state.range(0));
  spec.daemon_sets = static_cast<int>(state.range(1));
  const std::string bytes =
      testing::ToDecideRequest(testing::MakeSyntheticCluster(spec),
                               testing::SyntheticNow())
          .SerializeAsString();
  double parse = 0, validate = 0, engine = 0, to_proto = 0;
  for (auto _ : state) {
    auto t0 = Clock::now();
    google::protobuf::Arena arena;
    auto* request =
        google::protobuf::Arena::CreateMessage<v1::DecideRequest>(&arena);
    benchmark::DoNotOptimize(request->ParseFromString(bytes));
    auto t1 = Clock::now();
    std::vector<convert::Violation> violations;
    engine::Snapshot snapshot;
    convert::ValidateOptions(request->options(), "options", violations);
    convert::ValidateAndConvertSnapshot(request->snapshot(), request->options(),
                                        "snapshot", violations, snapshot);
    auto t2 = Clock::now();
    const absl::Time now = convert::TimeFromProto(request->now());
    const engine::Plan plan = engine::Decide(
        snapshot, now, convert::OptionsFromProto(request->options()));
    auto t3 = Clock::now();
    v1::DecideResponse response;
    convert::PlanToProto(plan, now, response);
    benchmark::DoNotOptimize(response);
    auto t4 = Clock::now();
    if (!violations.empty()) {
      state.SkipWithError(violations.front().description.c_str());
      break;
    }
    parse += Seconds(t1 - t0);
    validate += Seconds(t2 - t1);
    engine += Seconds(t3 - t2);
    to_proto += Seconds(t4 - t3);
  }
  state.counters["parse_arena_ms"] =
      parse / static_cast<double>(state.iterations()) * 1e3;
  state.counters["validate_convert_over_parse"] = validate / parse;
  state.counters["engine_over_parse"] = engine / parse;
  state.counters["to_proto_over_parse"] = to_proto / parse;
}

BENCHMARK(BM_HandlerStages)
    ->ArgNames({"nodes", "daemonsets"})
    ->Args({100, 10})
    ->Args({1000, 10})
    ->Args({5000, 10})
    ->Args({5000, 50})
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace dsd

BENCHMARK_MAIN();
