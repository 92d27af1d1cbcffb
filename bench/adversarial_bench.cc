// Hostile requests (issue 11) versus a benign one of the same size, through
// the service handler as dsd-server runs it (SchedulerService::Decide or
// Explain on the request bytes, as bench/service_bench does). Per
// iteration the benign request (the synthetic cluster of bench/cluster.h with
// its node count picked to match the hostile request's bytes) runs, then
// the hostile one; each time is divided by its request's megabytes, and
// the counter `per_mb_over_benign` is hostile time per MB / benign time per
// MB, both measured in the same run. Target: <= 3.
//
// A hostile request may be rejected (RESOURCE_EXHAUSTED over a limit,
// INVALID_ARGUMENT over a per-object cap): that counts as handled, and its
// time is what the rejection took. The label says `status=<code>`.
//
// The shapes (bench/hostile_requests.h) run at their kBench size, which
// keeps a run short even where a shape is quadratic; with the environment
// variable DSD_HOSTILE_SCALE=issue they run at the sizes of the issue
// instead (tens of seconds and gigabytes before the fixes: one at a time).
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "bench/hostile_requests.h"
#include "bench/timing.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "server/service/scheduler_service.h"

namespace dsd {
namespace {

using bench::Clock;
using bench::OpenArray;
using bench::Seconds;

struct Outcome {
  absl::StatusCode code = absl::StatusCode::kOk;
  size_t response_bytes = 0;
};

// One call of the handler, on the server's default limits.
Outcome Handle(const service::SchedulerService& svc, const std::string& bytes,
               bool explain) {
  const service::RequestBytes request{OpenArray(bytes), nullptr};
  Outcome out;
  if (explain) {
    auto response = svc.Explain(request, {});
    benchmark::DoNotOptimize(response);
    out.code = response.status().code();
    if (response.ok()) out.response_bytes = response->ByteSizeLong();
  } else {
    auto response = svc.Decide(request, {});
    benchmark::DoNotOptimize(response);
    out.code = response.status().code();
    if (response.ok()) out.response_bytes = response->ByteSizeLong();
  }
  return out;
}

void BM_Hostile(benchmark::State& state, bench::HostileShape shape,
                bench::ShapeSize size) {
  const bool explain = bench::IsExplain(shape);
  const std::string hostile = bench::HostileRequestBytes(shape, size);
  int benign_nodes = 0;
  const std::string benign =
      bench::BenignRequestBytes(hostile.size(), explain, &benign_nodes);
  const service::SchedulerService svc({}, [] { return absl::Now(); });
  double hostile_s = 0, benign_s = 0;
  int64_t benign_runs = 0;
  Outcome outcome;
  for (auto _ : state) {
    // The benign request is small and fast: run it at least 3 times and
    // for at least 20 ms, so that its time per MB is not one noisy call.
    const auto b0 = Clock::now();
    int runs = 0;
    do {
      if (Handle(svc, benign, explain).code != absl::StatusCode::kOk) {
        state.SkipWithError("the benign request failed");
        return;
      }
      ++runs;
    } while ((runs < 3 || Clock::now() - b0 < std::chrono::milliseconds(20)) &&
             runs < 1000);
    const auto t0 = Clock::now();
    outcome = Handle(svc, hostile, explain);
    const auto t1 = Clock::now();
    benign_s += Seconds(t0 - b0);
    benign_runs += runs;
    hostile_s += Seconds(t1 - t0);
  }
  const auto n = static_cast<double>(state.iterations());
  const double hostile_mb = static_cast<double>(hostile.size()) / 1e6;
  const double benign_mb = static_cast<double>(benign.size()) / 1e6;
  const double hostile_ms = hostile_s / n * 1e3;
  const double benign_ms = benign_s / static_cast<double>(benign_runs) * 1e3;
  state.counters["shape"] = static_cast<double>(static_cast<int>(shape));
  state.counters["request_MB"] = hostile_mb;
  state.counters["benign_MB"] = benign_mb;
  state.counters["benign_nodes"] = benign_nodes;
  state.counters["hostile_ms"] = hostile_ms;
  state.counters["benign_ms"] = benign_ms;
  state.counters["hostile_ms_per_MB"] = hostile_ms / hostile_mb;
  state.counters["benign_ms_per_MB"] = benign_ms / benign_mb;
  state.counters["per_mb_over_benign"] =
      (hostile_ms / hostile_mb) / (benign_ms / benign_mb);
  state.counters["response_MB"] =
      static_cast<double>(outcome.response_bytes) / 1e6;
  state.counters["ok"] = outcome.code == absl::StatusCode::kOk ? 1 : 0;
  state.SetLabel("status=" + absl::StatusCodeToString(outcome.code));
}

void RegisterAll(bench::Scale scale) {
  for (int i = 1; i <= bench::kHostileShapes; ++i) {
    const auto shape = static_cast<bench::HostileShape>(i);
    const bench::ShapeSize size = bench::DefaultSize(shape, scale);
    // BM_Hostile/<shape number>_<name>/n:<n>/m:<m>
    const std::string name =
        "BM_Hostile/" + std::to_string(i) + "_" + bench::ShapeName(shape) +
        "/n:" + std::to_string(size.n) + "/m:" + std::to_string(size.m);
    benchmark::RegisterBenchmark(name.c_str(), BM_Hostile, shape, size)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
}

}  // namespace
}  // namespace dsd

int main(int argc, char** argv) {
  const char* scale = std::getenv("DSD_HOSTILE_SCALE");
  dsd::RegisterAll(scale != nullptr && std::string_view(scale) == "issue"
                       ? dsd::bench::Scale::kIssue
                       : dsd::bench::Scale::kBench);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
