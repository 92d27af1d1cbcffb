// The Decide handler versus protobuf parsing of the same request, measured
// in one run: per iteration, the request bytes are parsed (heap and arena),
// then the service's Decide runs on the same bytes as the server runs it
// (the two-pass read of convert/wire.h with validation and conversion, the
// engine, the response). The handler parses the request itself, so what it
// adds to parsing is handler - parse; the counter `added_over_parse` is
// (handler - arena parse) / arena parse, and the target is <= 0.5.
#include <benchmark/benchmark.h>

#include <chrono>
#include <memory>
#include <string>

#include "bench/cluster.h"
#include "bench/timing.h"
#include "google/protobuf/arena.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "server/convert/from_proto.h"
#include "server/convert/plan.h"
#include "server/convert/snapshot.h"
#include "server/convert/time.h"
#include "server/convert/wire.h"
#include "server/engine/decide.h"
#include "server/service/scheduler_service.h"

namespace dsd {
namespace {

using bench::Clock;
using bench::OpenArray;
using bench::Seconds;

// The DecideRequest of the synthetic cluster the benchmark's arguments
// (nodes, DaemonSets) describe (bench/cluster.h).
v1::DecideRequest SyntheticRequest(const benchmark::State& state) {
  return bench::BenchRequest(static_cast<int>(state.range(0)),
                             static_cast<int>(state.range(1)));
}

void BM_ParseVersusHandler(benchmark::State& state) {
  const std::string bytes = SyntheticRequest(state).SerializeAsString();
  const service::SchedulerService svc({}, [] { return absl::Now(); });
  const service::RequestBytes request_bytes{OpenArray(bytes), nullptr};
  double parse_heap = 0, parse_arena = 0, handler = 0;
  for (auto _ : state) {
    auto t0 = Clock::now();
    {
      v1::DecideRequest heap;
      benchmark::DoNotOptimize(heap.ParseFromString(bytes));
    }
    auto t1 = Clock::now();
    Clock::time_point t2;
    {
      google::protobuf::Arena arena;
      auto* request =
          google::protobuf::Arena::CreateMessage<v1::DecideRequest>(&arena);
      benchmark::DoNotOptimize(request->ParseFromString(bytes));
      t2 = Clock::now();
    }  // (untimed) the handler runs with no parsed copy alive, as in dsd-server
    auto t3 = Clock::now();
    auto response = svc.Decide(request_bytes, {});
    benchmark::DoNotOptimize(response);
    auto t4 = Clock::now();
    if (!response.ok()) {
      state.SkipWithError(std::string(response.status().message()).c_str());
      break;
    }
    parse_heap += Seconds(t1 - t0);
    parse_arena += Seconds(t2 - t1);
    handler += Seconds(t4 - t3);
  }
  const auto n = static_cast<double>(state.iterations());
  state.counters["request_MB"] = static_cast<double>(bytes.size()) / 1e6;
  state.counters["parse_heap_ms"] = parse_heap / n * 1e3;
  state.counters["parse_arena_ms"] = parse_arena / n * 1e3;
  state.counters["handler_ms"] = handler / n * 1e3;
  state.counters["added_over_parse"] = (handler - parse_arena) / parse_arena;
  state.counters["added_over_heap_parse"] = (handler - parse_heap) / parse_heap;
}

BENCHMARK(BM_ParseVersusHandler)
    ->ArgNames({"nodes", "daemonsets"})
    ->Args({100, 10})
    ->Args({1000, 10})
    ->Args({5000, 10})
    ->Args({5000, 50})
    ->Unit(benchmark::kMillisecond);

// The handler's stages timed separately through the convert and engine APIs
// the service calls (pass 1: the request but its pods; pass 2: the pods,
// validated and converted; the engine; plan -> proto), each as a fraction
// of the arena parse measured in the same run: where the handler's time
// goes, to see which stage a change moved.
void BM_HandlerStages(benchmark::State& state) {
  const std::string bytes = SyntheticRequest(state).SerializeAsString();
  const convert::OpenBytes open = OpenArray(bytes);
  double parse = 0, head = 0, pods = 0, engine = 0, to_proto = 0;
  for (auto _ : state) {
    auto t0 = Clock::now();
    Clock::time_point t1;
    {
      google::protobuf::Arena arena;
      auto* parsed =
          google::protobuf::Arena::CreateMessage<v1::DecideRequest>(&arena);
      benchmark::DoNotOptimize(parsed->ParseFromString(bytes));
      t1 = Clock::now();
    }  // (untimed, as in BM_ParseVersusHandler)
    const auto t1b = Clock::now();
    v1::DecideRequest request;
    v1::Snapshot objects;
    const absl::StatusOr<int> pod_count =
        convert::ReadRequestHead(open, request, objects);
    auto t2 = Clock::now();
    head += Seconds(t2 - t1b);
    std::vector<convert::Violation> violations;
    engine::Snapshot snapshot;
    convert::ValidateOptions(request.options(), "options", violations);
    convert::WirePods wire_pods(open, pod_count.value_or(0));
    convert::ValidateAndConvertSnapshot(objects, wire_pods, request.options(),
                                        "snapshot", violations, &snapshot);
    auto t3 = Clock::now();
    const absl::Time now = convert::TimeFromProto(request.now());
    const engine::Plan plan = engine::Decide(
        snapshot, now, convert::OptionsFromProto(request.options()));
    auto t4 = Clock::now();
    v1::DecideResponse response;
    convert::PlanToProto(plan, now, response);
    benchmark::DoNotOptimize(response);
    auto t5 = Clock::now();
    if (!pod_count.ok() || !violations.empty()) {
      state.SkipWithError("the synthetic request is invalid");
      break;
    }
    parse += Seconds(t1 - t0);
    pods += Seconds(t3 - t2);
    engine += Seconds(t4 - t3);
    to_proto += Seconds(t5 - t4);
  }
  state.counters["parse_arena_ms"] =
      parse / static_cast<double>(state.iterations()) * 1e3;
  state.counters["head_over_parse"] = head / parse;
  state.counters["pods_over_parse"] = pods / parse;
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

// Decide versus Validate on the same bytes, in process: the server-side
// part of the throughput ratio `make bench` measures over gRPC (Validate
// reads and validates only, the floor a decision service cannot go below).
void BM_DecideOverValidate(benchmark::State& state) {
  const v1::DecideRequest decide_request = SyntheticRequest(state);
  v1::ValidateRequest validate_request;
  *validate_request.mutable_snapshot() = decide_request.snapshot();
  const std::string decide_bytes = decide_request.SerializeAsString();
  const std::string validate_bytes = validate_request.SerializeAsString();
  const service::SchedulerService svc({}, [] { return absl::Now(); });
  double decide = 0, validate = 0;
  for (auto _ : state) {
    auto t0 = Clock::now();
    auto validated = svc.Validate({OpenArray(validate_bytes), nullptr}, {});
    benchmark::DoNotOptimize(validated);
    auto t1 = Clock::now();
    auto decided = svc.Decide({OpenArray(decide_bytes), nullptr}, {});
    benchmark::DoNotOptimize(decided);
    auto t2 = Clock::now();
    if (!validated.ok() || !decided.ok() || validated->violations_size() > 0) {
      state.SkipWithError("the synthetic request is invalid");
      break;
    }
    validate += Seconds(t1 - t0);
    decide += Seconds(t2 - t1);
  }
  const auto n = static_cast<double>(state.iterations());
  state.counters["decide_ms"] = decide / n * 1e3;
  state.counters["validate_ms"] = validate / n * 1e3;
  state.counters["validate_over_decide"] = validate / decide;
}

BENCHMARK(BM_DecideOverValidate)
    ->ArgNames({"nodes", "daemonsets"})
    ->Args({100, 10})
    ->Args({1000, 10})
    ->Args({5000, 10})
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace dsd

BENCHMARK_MAIN();
