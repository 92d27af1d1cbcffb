// Issue 14: decoding a List page of realistic Pods (bench/kube_objects.h,
// ~6 KB each, 500 a page, as a 5,000-node cluster's initial pod list
// comes) the way client/kube does it, against simdjson parsing the same
// bytes and touching every item, in one run. MB/s of page bytes.
//   BM_PageNlohmann     the path before: nlohmann parse, SlimObject and
//                       dump per item (kube::internal::DecodeListPageNlohmann)
//   BM_PageSlim         client/kube's PageDecoder: simdjson DOM, only
//                       the kept part written out
//   BM_SimdjsonDom      simdjson DOM parse; each item's metadata.name read
//   BM_SimdjsonOnDemand simdjson On-Demand; each item's metadata.name read
// Target: DecodeListPage at least half simdjson's speed (the faster of the
// two simdjson runs).
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <cstdlib>
#include <string>

#include "bench/cluster.h"
#include "bench/kube_objects.h"
#include "client/kube/client.h"
#include "client/kube/slim.h"

namespace dsd::bench {
namespace {

constexpr int kPodsPerPage = 500;

const std::string& Page() {
  static const std::string* page = [] {
    // 100 nodes x 10 DaemonSets: enough distinct pods for one page.
    client::SyntheticClusterSpec spec = BenchClusterSpec(100, 10);
    const v1::DecideRequest request = client::MakeSyntheticDecideRequest(spec);
    return new std::string(
        KubePodListPage(request.snapshot(), 0, kPodsPerPage));
  }();
  return *page;
}

void Report(benchmark::State& state, size_t bytes, int64_t items) {
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes));
  state.counters["page_bytes"] = static_cast<double>(bytes);
  state.counters["items"] = static_cast<double>(items);
}

void BM_PageNlohmann(benchmark::State& state) {
  const std::string& page = Page();
  int64_t items = 0;
  for (auto _ : state) {
    kube::SlimPage out;
    const absl::Status s =
        kube::internal::DecodeListPageNlohmann(page, kube::kPods, "LIST", &out);
    if (!s.ok()) state.SkipWithError(std::string(s.message()).c_str());
    items = static_cast<int64_t>(out.items.size());
    benchmark::DoNotOptimize(out);
  }
  Report(state, page.size(), items);
}
BENCHMARK(BM_PageNlohmann)->Unit(benchmark::kMillisecond);

void BM_PageSlim(benchmark::State& state) {
  std::string page = Page();
  page.reserve(page.size() + simdjson::SIMDJSON_PADDING);
  int64_t items = 0;
  size_t kept = 0;
  kube::PageDecoder decoder;  // one per list, as Client::ListSlim
  for (auto _ : state) {
    kube::SlimPage out;
    const absl::Status s = decoder.Decode(page, kube::kPods, "LIST", &out);
    if (!s.ok()) state.SkipWithError(std::string(s.message()).c_str());
    items = static_cast<int64_t>(out.items.size());
    kept = 0;
    for (const kube::SlimItem& i : out.items) kept += i.json.size();
    benchmark::DoNotOptimize(out);
  }
  Report(state, page.size(), items);
  state.counters["kept_bytes"] = static_cast<double>(kept);
}
BENCHMARK(BM_PageSlim)->Unit(benchmark::kMillisecond);

void BM_SimdjsonDom(benchmark::State& state) {
  const simdjson::padded_string page(Page());
  simdjson::dom::parser parser;
  int64_t items = 0;
  for (auto _ : state) {
    simdjson::dom::element doc;
    if (parser.parse(page).get(doc) != simdjson::SUCCESS) {
      state.SkipWithError("simdjson refused the page");
      break;
    }
    items = 0;
    size_t names = 0;
    simdjson::dom::array array;
    if (doc["items"].get_array().get(array) != simdjson::SUCCESS) break;
    for (simdjson::dom::element item : array) {
      std::string_view name;
      if (item["metadata"]["name"].get_string().get(name) ==
          simdjson::SUCCESS) {
        names += name.size();
      }
      ++items;
    }
    benchmark::DoNotOptimize(names);
  }
  Report(state, page.size(), items);
}
BENCHMARK(BM_SimdjsonDom)->Unit(benchmark::kMillisecond);

void BM_SimdjsonOnDemand(benchmark::State& state) {
  const simdjson::padded_string page(Page());
  simdjson::ondemand::parser parser;
  int64_t items = 0;
  for (auto _ : state) {
    simdjson::ondemand::document doc;
    if (parser.iterate(page).get(doc) != simdjson::SUCCESS) {
      state.SkipWithError("simdjson refused the page");
      break;
    }
    items = 0;
    size_t names = 0;
    simdjson::ondemand::array array;
    if (doc["items"].get_array().get(array) != simdjson::SUCCESS) break;
    for (auto item : array) {
      std::string_view name;
      if (item["metadata"]["name"].get_string().get(name) ==
          simdjson::SUCCESS) {
        names += name.size();
      }
      ++items;
    }
    benchmark::DoNotOptimize(names);
  }
  Report(state, page.size(), items);
}
BENCHMARK(BM_SimdjsonOnDemand)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace dsd::bench

BENCHMARK_MAIN();
