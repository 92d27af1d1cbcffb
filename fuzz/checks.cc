#include "fuzz/checks.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/extender/filter.h"
#include "client/k8s/snapshot_loader.h"
#include "client/kube/client.h"
#include "client/kube/slim.h"
#include "dsd/v1/dsd.pb.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/stubs/logging.h"
#include "grpcpp/grpcpp.h"
#include "nlohmann/json.hpp"
#include "server/convert/wire.h"
#include "server/service/scheduler_service.h"

namespace dsd::fuzz {
namespace {

[[noreturn]] void Fail(std::string_view what, std::string_view detail = "") {
  std::fprintf(stderr, "fuzz check failed: %.*s\n%.*s\n",
               static_cast<int>(what.size()), what.data(),
               static_cast<int>(std::min<size_t>(detail.size(), 4096)),
               detail.data());
  std::abort();
}

void Check(bool ok, std::string_view what, std::string_view detail = "") {
  if (!ok) Fail(what, detail);
}

std::string Both(const std::string& a, const std::string& b) {
  return "--- first:\n" + a.substr(0, 2000) + "\n--- second:\n" +
         b.substr(0, 2000);
}

const service::SchedulerService& Service() {
  // A fixed clock: the two answers compared must not differ by "now".
  static const service::SchedulerService* const kService =
      new service::SchedulerService(service::ServiceOptions{}, [] {
        return absl::FromUnixSeconds(1'767'225'600);  // 2026-01-01
      });
  return *kService;
}

struct Bytes {
  std::string_view data;
  int block_size;  // of the stream's chunks; -1: one chunk
};

convert::OpenBytes Open(const Bytes& bytes) {
  return [bytes](bool /*last*/) {
    return std::make_unique<google::protobuf::io::ArrayInputStream>(
        bytes.data.data(), static_cast<int>(bytes.data.size()),
        bytes.block_size);
  };
}

service::RequestBytes RequestOf(const Bytes& bytes) {
  return {Open(bytes), nullptr};
}

template <typename Response>
void CheckSameAnswer(const absl::StatusOr<Response>& from_bytes,
                     const absl::StatusOr<Response>& from_parsed,
                     std::string_view method) {
  Check(from_bytes.status() == from_parsed.status(),
        std::string(method) +
            ": the answer to the bytes differs from the answer to the "
            "protobuf-parsed request",
        Both(from_bytes.status().ToString(), from_parsed.status().ToString()));
  if (!from_bytes.ok()) return;
  const std::string a = from_bytes->SerializeAsString();
  const std::string b = from_parsed->SerializeAsString();
  Check(a == b,
        std::string(method) +
            ": the response to the bytes differs from the response to the "
            "protobuf-parsed request",
        Both(from_bytes->DebugString(), from_parsed->DebugString()));
}

// The wire reader against protobuf's parser on `bytes` as a `Request`.
// Returns whether the bytes are a request (both agree) and fills `parsed`;
// nullopt when the reader stopped at a cap first.
template <typename Request>
std::optional<bool> WireAgreesWithProtobuf(const Bytes& bytes,
                                           Request& parsed) {
  const bool by_protobuf = parsed.ParseFromArray(
      bytes.data.data(), static_cast<int>(bytes.data.size()));
  Request head;
  v1::Snapshot objects;
  const absl::StatusOr<int> pod_count =
      convert::ReadRequestHead(Open(bytes), head, objects);
  if (absl::IsResourceExhausted(pod_count.status())) return std::nullopt;
  bool by_wire = pod_count.ok();
  if (!by_wire) {
    Check(absl::IsInvalidArgument(pod_count.status()),
          "ReadRequestHead: a rejection that is not INVALID_ARGUMENT",
          pod_count.status().ToString());
  } else {
    convert::WirePods pods(Open(bytes), *pod_count);
    Check(pods.size() == *pod_count, "WirePods: size() is not the count");
    std::vector<std::string> read;
    while (const v1::Pod* pod = pods.Next()) {
      // A large pod's values were taken out of it (selector_values.h).
      v1::Pod copy = *pod;
      if (pods.values() != nullptr) pods.values()->Restore(copy);
      read.push_back(copy.SerializeAsString());
    }
    if (!pods.error().ok()) {
      Check(absl::IsInvalidArgument(pods.error()),
            "WirePods: an error that is not INVALID_ARGUMENT",
            pods.error().ToString());
      by_wire = false;
    } else {
      Check(read.size() == static_cast<size_t>(*pod_count),
            "WirePods: fewer pods than pass 1 counted");
      if (by_protobuf) {
        // Same content: the request but its snapshot, the snapshot but its
        // pods, the pods in order (unknown fields aside: the reader drops
        // the snapshot's own).
        Request expected = parsed;
        expected.DiscardUnknownFields();
        head.DiscardUnknownFields();
        objects.DiscardUnknownFields();
        v1::Snapshot expected_objects = expected.snapshot();
        expected_objects.clear_pods();
        Check(
            objects.SerializeAsString() == expected_objects.SerializeAsString(),
            "wire reader: the snapshot's nodes or DaemonSets differ from "
            "protobuf's",
            Both(objects.DebugString(), expected_objects.DebugString()));
        for (int i = 0; i < *pod_count; ++i) {
          v1::Pod pod;
          Check(pod.ParseFromString(read[static_cast<size_t>(i)]),
                "a pod read does not reparse");
          pod.DiscardUnknownFields();
          Check(pod.SerializeAsString() ==
                    expected.snapshot().pods(i).SerializeAsString(),
                "wire reader: pod " + std::to_string(i) +
                    " differs from protobuf's",
                Both(pod.DebugString(),
                     expected.snapshot().pods(i).DebugString()));
        }
        expected.clear_snapshot();
        Check(head.SerializeAsString() == expected.SerializeAsString(),
              "wire reader: the request's fields but its snapshot differ "
              "from protobuf's",
              Both(head.DebugString(), expected.DebugString()));
      }
    }
  }
  Check(by_wire == by_protobuf,
        by_protobuf ? "the wire reader rejects bytes protobuf's parser accepts"
                    : "the wire reader accepts bytes protobuf's parser rejects",
        pod_count.status().ToString());
  return by_wire;
}

// Violations Validate lists for a Decide or Explain request's snapshot and
// options (-1 when Validate stopped at a limit).
template <typename Request>
int ValidateViolations(const Request& request) {
  v1::ValidateRequest validate;
  *validate.mutable_snapshot() = request.snapshot();
  *validate.mutable_options() = request.options();
  const absl::StatusOr<v1::ValidateResponse> r =
      Service().Validate(validate, {});
  if (absl::IsResourceExhausted(r.status())) return -1;
  Check(r.ok(), "Validate: not OK for a parsed request", r.status().ToString());
  return r->violations_size();
}

template <typename Request, typename Call>
void CheckReadMethod(const Bytes& bytes, std::string_view method, Call call) {
  Request parsed;
  const std::optional<bool> accepted = WireAgreesWithProtobuf(bytes, parsed);
  const auto from_bytes = call(RequestOf(bytes));
  if (!accepted.has_value() || !*accepted) {
    Check(absl::IsInvalidArgument(from_bytes.status()) ||
              absl::IsResourceExhausted(from_bytes.status()),
          std::string(method) +
              ": bytes that are no request did not get INVALID_ARGUMENT",
          from_bytes.status().ToString());
    return;
  }
  CheckSameAnswer(from_bytes, call(parsed), method);
  if constexpr (std::is_same_v<Request, v1::ValidateRequest>) {
    Check(!absl::IsInvalidArgument(from_bytes.status()),
          "Validate: INVALID_ARGUMENT for a well-formed request",
          from_bytes.status().ToString());
  } else {
    const int violations = ValidateViolations(parsed);
    if (violations > 0) {
      Check(absl::IsInvalidArgument(from_bytes.status()),
            std::string(method) +
                ": Validate lists violations but the call was not "
                "INVALID_ARGUMENT",
            from_bytes.status().ToString());
    }
    if (violations == 0 && !parsed.has_now()) {
      Check(!absl::IsInvalidArgument(from_bytes.status()),
            std::string(method) +
                ": INVALID_ARGUMENT where Validate lists no violation",
            from_bytes.status().ToString());
    }
  }
}

void CheckFilter(const Bytes& bytes) {
  v1::FilterRequest request;
  if (!request.ParseFromArray(bytes.data.data(),
                              static_cast<int>(bytes.data.size()))) {
    return;  // the transport answers INVALID_ARGUMENT itself
  }
  const absl::StatusOr<v1::FilterResponse> r = Service().Filter(request, {});
  if (!r.ok()) {
    Check(absl::IsInvalidArgument(r.status()) ||
              absl::IsResourceExhausted(r.status()),
          "Filter: an error that is neither INVALID_ARGUMENT nor "
          "RESOURCE_EXHAUSTED",
          r.status().ToString());
    return;
  }
  // Each node once, feasible or failed, in the request's order.
  int feasible = 0;
  int failed = 0;
  for (const v1::Node& node : request.nodes()) {
    if (feasible < r->feasible_nodes_size() &&
        r->feasible_nodes(feasible) == node.name()) {
      ++feasible;
    } else if (failed < r->failed_nodes_size() &&
               r->failed_nodes(failed).node() == node.name()) {
      ++failed;
    } else {
      Fail("Filter: node " + node.name() + " is neither feasible nor failed",
           r->DebugString());
    }
  }
  Check(
      feasible == r->feasible_nodes_size() && failed == r->failed_nodes_size(),
      "Filter: more nodes answered than asked", r->DebugString());
}

bool HasControlByte(std::string_view s) {
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return true;
  }
  return false;
}

std::string Summary(const client::LoadedSnapshot& l) {
  std::string out = l.snapshot.SerializeAsString();
  for (const auto* list : {&l.nodes, &l.daemon_sets, &l.pods}) {
    for (const client::ObjectOrigin& o : *list) {
      out += '\n' + o.source + '\n' + o.object;
    }
  }
  for (const std::string& w : l.warnings) out += "\nW" + w;
  for (const client::InputProblem& p : l.problems) out += "\nP" + p.ToString();
  return out;
}

}  // namespace

void QuietProtobufLogs() {
  google::protobuf::SetLogHandler(
      [](google::protobuf::LogLevel, const char*, int, const std::string&) {});
}

void CheckServiceRequest(const uint8_t* data, size_t size) {
  if (size < 2) return;
  const int method = data[0] % 4;
  const int block = data[1] % 64;
  const Bytes bytes{
      std::string_view(reinterpret_cast<const char*>(data) + 2, size - 2),
      block == 0 ? -1 : block};
  const service::SchedulerService& s = Service();
  switch (method) {
    case 0:
      CheckReadMethod<v1::DecideRequest>(
          bytes, "Decide", [&s](const auto& r) { return s.Decide(r, {}); });
      break;
    case 1:
      CheckReadMethod<v1::ExplainRequest>(
          bytes, "Explain", [&s](const auto& r) { return s.Explain(r, {}); });
      break;
    case 2:
      CheckReadMethod<v1::ValidateRequest>(
          bytes, "Validate", [&s](const auto& r) { return s.Validate(r, {}); });
      break;
    default:
      CheckFilter(bytes);
      break;
  }
}

void CheckK8sLoad(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  client::SnapshotLoader loader(/*max_input_bytes=*/1 << 20);
  loader.AddText(text, "fuzz.yaml");
  const client::LoadedSnapshot l = loader.Finish();
  Check(static_cast<int>(l.nodes.size()) == l.snapshot.nodes_size() &&
            static_cast<int>(l.daemon_sets.size()) ==
                l.snapshot.daemon_sets_size() &&
            static_cast<int>(l.pods.size()) == l.snapshot.pods_size(),
        "SnapshotLoader: origins not parallel to the snapshot's objects");
  for (const client::InputProblem& p : l.problems) {
    const std::string line = p.ToString();
    Check(!HasControlByte(line), "a problem prints control bytes", line);
  }
  for (const std::string& w : l.warnings) {
    Check(!HasControlByte(w), "a warning prints control bytes", w);
  }
  // Finish does not consume what was added.
  Check(Summary(loader.Finish()) == Summary(l),
        "SnapshotLoader: Finish() twice gives different results");
  // Paths the server names, back to the objects.
  for (int i = 0; i < l.snapshot.nodes_size() && i < 2; ++i) {
    TranslateFieldPath(
        l, "snapshot.nodes[" + std::to_string(i) + "].taints[0].effect");
  }
  for (int i = 0; i < l.snapshot.daemon_sets_size() && i < 2; ++i) {
    const std::string ds = "snapshot.daemon_sets[" + std::to_string(i) + "]";
    TranslateFieldPath(l, ds + ".template.tolerations[0].operator");
    TranslateFieldPath(
        l, ds + ".template.required_node_affinity.node_selector_terms[0]"
                ".match_expressions[1].values[2]");
    TranslateFieldPath(l, ds + ".update_strategy.max_unavailable");
  }
  for (int i = 0; i < l.snapshot.pods_size() && i < 2; ++i) {
    TranslateFieldPath(l, "snapshot.pods[" + std::to_string(i) + "].labels");
  }
  TranslateFieldPath(l, "snapshot.nodes[99999999999999999999].name");
}

namespace {

std::string PageSummary(const absl::Status& status, const kube::SlimPage& p) {
  // What a failed decode leaves in the page is unspecified.
  if (!status.ok()) return status.ToString();
  std::string out =
      "rv=" + p.resource_version + " continue=" + p.continue_token + "\n";
  for (const kube::SlimItem& item : p.items) {
    out += item.key + " " + item.json + "\n";
  }
  return out;
}

// The resource an input's first byte picks (% 4).
const kube::Resource& ResourceOf(uint8_t byte) {
  const kube::Resource* const kResources[] = {&kube::kPods, &kube::kNodes,
                                              &kube::kDaemonSets,
                                              &kube::kControllerRevisions};
  return *kResources[byte % 4];
}

}  // namespace

void CheckKubeListPage(const uint8_t* data, size_t size) {
  if (size == 0) return;
  const kube::Resource& resource = ResourceOf(data[0]);
  const std::string page(reinterpret_cast<const char*>(data) + 1, size - 1);

  kube::SlimPage expected;
  const absl::Status expected_status = kube::internal::DecodeListPageNlohmann(
      page, resource, "LIST x", &expected);
  const std::string want = PageSummary(expected_status, expected);

  kube::PageDecoder decoder;
  std::string body = page;
  kube::SlimPage fast;
  absl::Status fast_status;
  if (decoder.DecodeSimdjson(body, resource, "LIST x", &fast, &fast_status)) {
    Check(PageSummary(fast_status, fast) == want,
          "simdjson page decoder differs from the nlohmann path",
          Both(PageSummary(fast_status, fast), want));
  }
  Check(body == page, "DecodeSimdjson did not give the body back");
  kube::SlimPage decoded;
  const absl::Status status =
      decoder.Decode(body, resource, "LIST x", &decoded);
  Check(PageSummary(status, decoded) == want,
        "PageDecoder::Decode differs from the nlohmann path",
        Both(PageSummary(status, decoded), want));
}

void CheckKubeWatchLines(const uint8_t* data, size_t size) {
  if (size == 0) return;
  const kube::Resource& resource = ResourceOf(data[0]);
  const std::string_view stream(reinterpret_cast<const char*>(data) + 1,
                                size - 1);
  const std::string what = "WATCH x";
  size_t start = 0;
  for (int n = 1; start < stream.size(); ++n) {
    const size_t end = std::min(stream.find('\n', start), stream.size());
    const std::string_view line = stream.substr(start, end - start);
    start = end + 1;
    const std::string where = what + ": event " + std::to_string(n);
    absl::StatusOr<kube::WatchEvent> e =
        kube::DecodeWatchEvent(line, resource, what, where);
    if (!e.ok()) {
      const std::string message(e.status().message());
      Check(message.rfind(what, 0) == 0,
            "watch: an error that does not name the request", message);
      Check(e.status().code() != absl::StatusCode::kDataLoss ||
                message.rfind(where, 0) == 0,
            "watch: a DATA_LOSS that does not name the line", message);
      continue;
    }
    Check(e->type == "ADDED" || e->type == "MODIFIED" || e->type == "DELETED" ||
              e->type == "BOOKMARK",
          "watch: an event of another type", e->type);
    Check(e->object.is_object(), "watch: an event without an object");
    if (e->type == "BOOKMARK") continue;
    Check(e->object.value("kind", nlohmann::json()) == resource.kind,
          "watch: the object lacks the resource's kind", e->object.dump());
    // The reflector's store: the key of the whole object, the slim text.
    const std::string key = kube::ObjectKey(e->object);
    const std::string stored = kube::SlimObject(e->object).dump();
    const nlohmann::json back = nlohmann::json::parse(stored, nullptr, false);
    Check(back.is_object(), "watch: the stored text is not a JSON object",
          stored);
    Check(kube::ObjectKey(back) == key,
          "watch: the stored object has another key",
          Both(kube::ObjectKey(back), key));
  }
}

void CheckExtenderFilter(const uint8_t* data, size_t size) {
  // A daemon pod's Filter call fails at once: nothing listens there.
  static const std::unique_ptr<v1::DaemonSetScheduler::Stub> stub =
      v1::DaemonSetScheduler::NewStub(
          grpc::CreateChannel("unix:/nonexistent/dsd-fuzz.sock",
                              grpc::InsecureChannelCredentials()));
  extender::FilterOptions options;
  options.decide_timeout = std::chrono::seconds(1);
  const extender::Filter filter(stub.get(), options, nullptr, nullptr);
  const extender::FilterReply reply = filter.Handle(
      std::string_view(reinterpret_cast<const char*>(data), size));
  Check(reply.http_status == 200 || reply.http_status == 400,
        "extender: an HTTP status other than 200 or 400",
        std::to_string(reply.http_status));
  const nlohmann::json body =
      nlohmann::json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
  Check(body.is_object(), "extender: the reply body is not a JSON object",
        reply.body);
  if (reply.http_status == 400) {
    Check(body.contains("Error"), "extender: a 400 without Error", reply.body);
    return;
  }
  for (const char* key : {"Nodes", "NodeNames", "FailedNodes",
                          "FailedAndUnresolvableNodes", "Error"}) {
    Check(body.contains(key), std::string("extender: a 200 without ") + key,
          reply.body);
  }
  Check(reply.nodes_passed <= reply.nodes_sent,
        "extender: more nodes passed than were sent", reply.body);
}

}  // namespace dsd::fuzz
