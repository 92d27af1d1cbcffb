// The two-pass request reader (server/convert/wire.h) against protobuf's
// own parser: for every input, the reader accepts exactly what
// DecideRequest::ParseFromString accepts, and what it reads (the request
// but its snapshot, the snapshot's nodes and DaemonSets, the pods in order)
// equals what protobuf parses, unknown fields aside (the reader drops the
// snapshot's). Then the streamed pods against the parsed ones through
// validation and the engine: same violations, same plans.
#include "server/convert/wire.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "client/synthetic/synthetic_cluster.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "server/convert/from_proto.h"
#include "server/convert/limits.h"
#include "server/convert/plan.h"
#include "server/convert/snapshot.h"
#include "server/convert/time.h"
#include "server/engine/decide.h"
#include "server/engine/selectors.h"
#include "tests/testing/mutate.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/wire_bytes.h"

namespace dsd::convert {
namespace {

using ::dsd::testing::IsOk;
using ::dsd::testing::StatusIs;
using ::testing::HasSubstr;

// A request split as the reader splits it, each part serialized.
struct Split {
  std::string head;     // the request without its snapshot
  std::string objects;  // the snapshot without its pods
  std::vector<std::string> pods;

  bool operator==(const Split&) const = default;
};

OpenBytes Open(const std::string& bytes) {
  return [&bytes](bool /*last*/) {
    // Small chunks: the reader must not assume contiguous bytes.
    return std::make_unique<google::protobuf::io::ArrayInputStream>(
        bytes.data(), static_cast<int>(bytes.size()), /*block_size=*/61);
  };
}

// What protobuf makes of `bytes`; nullopt when it rejects them.
std::optional<Split> ByProtobuf(const std::string& bytes) {
  v1::DecideRequest request;
  if (!request.ParseFromString(bytes)) return std::nullopt;
  request.DiscardUnknownFields();
  Split out;
  for (const v1::Pod& pod : request.snapshot().pods()) {
    out.pods.push_back(pod.SerializeAsString());
  }
  request.mutable_snapshot()->clear_pods();
  out.objects = request.snapshot().SerializeAsString();
  request.clear_snapshot();
  out.head = request.SerializeAsString();
  return out;
}

// What the reader makes of `bytes` (read through `open` when given);
// nullopt when it rejects them (then `error` says why).
std::optional<Split> ByReader(const std::string& bytes,
                              absl::Status* error = nullptr,
                              OpenBytes open = {}) {
  if (!open) open = Open(bytes);
  v1::DecideRequest request;
  v1::Snapshot objects;
  const absl::StatusOr<int> count = ReadRequestHead(open, request, objects);
  if (!count.ok()) {
    if (error != nullptr) *error = count.status();
    return std::nullopt;
  }
  Split out;
  WirePods pods(open, *count);
  EXPECT_EQ(pods.size(), *count);
  while (const v1::Pod* pod = pods.Next()) {
    v1::Pod copy = *pod;
    // A large pod's values were taken out of it (selector_values.h).
    if (pods.values() != nullptr) pods.values()->Restore(copy);
    copy.DiscardUnknownFields();
    out.pods.push_back(copy.SerializeAsString());
  }
  if (!pods.error().ok()) {
    if (error != nullptr) *error = pods.error();
    return std::nullopt;
  }
  EXPECT_EQ(out.pods.size(), static_cast<size_t>(*count));
  request.DiscardUnknownFields();
  objects.DiscardUnknownFields();
  out.objects = objects.SerializeAsString();
  out.head = request.SerializeAsString();
  return out;
}

v1::DecideRequest SmallRequest() {
  client::SyntheticClusterSpec spec;
  spec.nodes = 12;
  spec.daemon_sets = 3;
  return client::MakeSyntheticDecideRequest(spec);
}

using testing::Field;
using testing::Varint;
std::string VarintField(int number, uint64_t value) {
  return Varint(static_cast<uint64_t>(number) << 3) + Varint(value);
}

// The snapshot's parts: pods only, and nodes and DaemonSets only.
std::string PodsOnly(const v1::DecideRequest& r) {
  v1::Snapshot s;
  *s.mutable_pods() = r.snapshot().pods();
  return s.SerializeAsString();
}
std::string ObjectsOnly(const v1::DecideRequest& r) {
  v1::Snapshot s = r.snapshot();
  s.clear_pods();
  return s.SerializeAsString();
}
std::string AllButSnapshot(const v1::DecideRequest& r) {
  v1::DecideRequest copy = r;
  copy.clear_snapshot();
  return copy.SerializeAsString();
}

struct WellFormed {
  const char* name;
  std::string bytes;
  int pods;  // as protobuf counts them
};

std::vector<WellFormed> WellFormedCases() {
  const v1::DecideRequest r = SmallRequest();
  const int n = r.snapshot().pods_size();
  v1::DecideRequest other = SmallRequest();
  other.mutable_options()->set_explain(true);
  other.mutable_snapshot()->mutable_pods(0)->set_name("another-pod");
  return {
      {"canonical", r.SerializeAsString(), n},
      {"empty request", "", 0},
      {"empty snapshot", Field(1, ""), 0},
      {"pods before nodes",
       Field(1, PodsOnly(r) + ObjectsOnly(r)) + AllButSnapshot(r), n},
      {"options before snapshot",
       AllButSnapshot(r) + Field(1, PodsOnly(r)) + Field(1, ObjectsOnly(r)), n},
      // A repeated message field appears twice: protobuf merges them.
      {"two requests concatenated",
       r.SerializeAsString() + other.SerializeAsString(), 2 * n},
      {"unknown fields at every level",
       VarintField(99, 7) +
           Field(1, Field(42, "x") + VarintField(43, 1) + PodsOnly(r) +
                        Field(3, Field(77, "unknown in a pod")) +
                        ObjectsOnly(r)) +
           AllButSnapshot(r),
       n + 1},
      // A known field number with another wire type is an unknown field.
      {"pods field as a varint", Field(1, VarintField(3, 5) + PodsOnly(r)), n},
      {"snapshot field as a varint", VarintField(1, 5) + r.SerializeAsString(),
       n},
  };
}

TEST(WireTest, ReadsWhatProtobufParses) {
  for (const WellFormed& c : WellFormedCases()) {
    SCOPED_TRACE(c.name);
    const std::optional<Split> expected = ByProtobuf(c.bytes);
    ASSERT_TRUE(expected.has_value()) << "the case must be valid protobuf";
    ASSERT_EQ(expected->pods.size(), static_cast<size_t>(c.pods));
    absl::Status error;
    const std::optional<Split> actual = ByReader(c.bytes, &error);
    ASSERT_TRUE(actual.has_value()) << error;
    EXPECT_EQ(actual->head, expected->head);
    EXPECT_EQ(actual->objects, expected->objects);
    EXPECT_EQ(actual->pods, expected->pods);
  }
}

// A stream over `bytes` in small chunks that, opened for the last pass,
// overwrites each chunk once it has moved past it, as dsd-server frees
// the request's slices: a pass that read bytes a last pass had passed
// would read garbage.
class ReleasingStream final : public google::protobuf::io::ZeroCopyInputStream {
 public:
  ReleasingStream(std::string& bytes, bool release)
      : bytes_(bytes), release_(release) {}
  bool Next(const void** data, int* size) override {
    if (backed_up_ > 0) {
      *data = bytes_.data() + end_ - backed_up_;
      *size = backed_up_;
      backed_up_ = 0;
      return true;
    }
    if (release_) std::fill(&bytes_[start_], &bytes_[end_], '\xff');
    if (end_ >= bytes_.size()) return false;
    start_ = end_;
    end_ = std::min(bytes_.size(), start_ + 61);
    *data = bytes_.data() + start_;
    *size = static_cast<int>(end_ - start_);
    return true;
  }
  void BackUp(int count) override { backed_up_ = count; }
  bool Skip(int count) override {
    const void* data = nullptr;
    int size = 0;
    while (count > 0) {
      if (!Next(&data, &size)) return false;
      if (size > count) BackUp(size - count);
      count -= std::min(size, count);
    }
    return true;
  }
  int64_t ByteCount() const override {
    return static_cast<int64_t>(end_) - backed_up_;
  }

 private:
  std::string& bytes_;
  const bool release_;
  size_t start_ = 0, end_ = 0;
  int backed_up_ = 0;
};

// The passes free the bytes only when nothing reads them again: a request
// without pods frees them in pass 1 (there is no pass 2 to read), one with
// pods in pass 2. Whatever the encoding, the reader reads what protobuf
// parses through streams that destroy what a last pass has passed.
TEST(WireTest, BytesAreFreedOnlyByThePassThatReadsThemLast) {
  v1::DecideRequest no_pods = SmallRequest();
  no_pods.mutable_snapshot()->clear_pods();
  std::vector<WellFormed> cases = WellFormedCases();
  cases.push_back({"no pods", no_pods.SerializeAsString(), 0});
  for (const WellFormed& c : cases) {
    SCOPED_TRACE(c.name);
    std::string bytes = c.bytes;  // overwritten as the passes free it
    std::vector<bool> lasts;
    const OpenBytes open = [&bytes, &lasts](bool last) {
      lasts.push_back(last);
      return std::make_unique<ReleasingStream>(bytes, last);
    };
    absl::Status error;
    const std::optional<Split> actual = ByReader(c.bytes, &error, open);
    ASSERT_TRUE(actual.has_value()) << error;
    EXPECT_EQ(actual, ByProtobuf(c.bytes));
    // The head, pass 1 (the last without pods), pass 2 (only for pods).
    const std::vector<bool> want = c.pods == 0
                                       ? std::vector<bool>{false, true}
                                       : std::vector<bool>{false, false, true};
    EXPECT_EQ(lasts, want);
  }
}

struct Malformed {
  const char* name;
  std::string bytes;
  const char* message;  // in the reader's error
};

std::vector<Malformed> MalformedCases() {
  const v1::DecideRequest r = SmallRequest();
  const std::string good = r.SerializeAsString();
  v1::DecideRequest bad_pod = r;
  bad_pod.mutable_snapshot()->mutable_pods(2)->set_name("ok");
  std::string bad_pod_bytes = bad_pod.SerializeAsString();
  // Overwrite "ok" with bytes that are not UTF-8.
  const size_t at = bad_pod_bytes.find(std::string("\x12\x02ok", 4));
  bad_pod_bytes.replace(at + 2, 2, "\xff\xfe");
  v1::DecideRequest bad_node = r;
  bad_node.mutable_snapshot()->mutable_nodes(1)->set_name("zz");
  std::string bad_node_bytes = bad_node.SerializeAsString();
  const size_t node_at = bad_node_bytes.find(std::string("\x0a\x02zz", 4));
  bad_node_bytes.replace(node_at + 2, 2, "\xc3\x28");
  return {
      {"truncated in a pod", good.substr(0, good.size() - 5),
       "not a dsd.v1.DecideRequest"},
      {"truncated in the length", good.substr(0, 2),
       "not a dsd.v1.DecideRequest"},
      {"length beyond the end", Field(1, "") + "\x0a\x7f",
       "not a dsd.v1.DecideRequest"},
      {"a pod's length beyond the snapshot",
       Field(1, std::string("\x1a\x40", 2) + "abc"),
       "not a dsd.v1.DecideRequest"},
      {"varint of 11 bytes",
       std::string("\x08") + std::string(10, '\xff') + "\x01",
       "not a dsd.v1.DecideRequest"},
      {"tag 0", std::string("\x00\x01", 2), "not a dsd.v1.DecideRequest"},
      {"stray end-group", std::string("\x0c"), "not a dsd.v1.DecideRequest"},
      {"length over 2 GiB", std::string("\x0a\xff\xff\xff\xff\x0f"),
       "not a dsd.v1.DecideRequest"},
      {"a pod name not UTF-8", bad_pod_bytes, "snapshot.pods[2]"},
      {"a node name not UTF-8", bad_node_bytes,
       "snapshot.nodes[1] is not a dsd.v1.Node"},
  };
}

// A sink that records the Reserve hint and the objects around it.
class CountingSink final : public ObjectSink {
 public:
  absl::Status Node(const WireNode&, int) override {
    ++nodes;
    return absl::OkStatus();
  }
  absl::Status DaemonSet(v1::DaemonSet&, int, SelectorValues&) override {
    ++daemon_sets;
    return absl::OkStatus();
  }
  void Reserve(int n, int d) override {
    EXPECT_EQ(reserved_nodes, -1) << "Reserve twice";
    EXPECT_EQ(nodes + daemon_sets, 0) << "Reserve after an object";
    reserved_nodes = n;
    reserved_daemon_sets = d;
  }
  int nodes = 0, daemon_sets = 0;
  int reserved_nodes = -1, reserved_daemon_sets = -1;  // -1: no Reserve
};

// The sink is told how many nodes and DaemonSets come before the first:
// exactly as many as protobuf parses, wherever they sit in the bytes and
// however many snapshot fields hold them.
TEST(WireTest, TheSinkReservesForTheObjectsThatCome) {
  for (const WellFormed& c : WellFormedCases()) {
    v1::DecideRequest parsed;
    ASSERT_TRUE(parsed.ParseFromString(c.bytes)) << c.name;
    v1::DecideRequest request;
    CountingSink sink;
    ASSERT_THAT(ReadRequestHead(Open(c.bytes), request, sink).status(), IsOk())
        << c.name;
    EXPECT_EQ(sink.nodes, parsed.snapshot().nodes_size()) << c.name;
    EXPECT_EQ(sink.daemon_sets, parsed.snapshot().daemon_sets_size()) << c.name;
    EXPECT_EQ(sink.reserved_nodes, sink.nodes) << c.name;
    EXPECT_EQ(sink.reserved_daemon_sets, sink.daemon_sets) << c.name;
  }
}

// A read that passes a count limit fails there; the count before it stops
// at the limit too (no more work than the read does), and no room is made:
// a request of millions of empty nodes reserves nothing.
TEST(WireTest, NoRoomIsMadeForAReadPastALimit) {
  const v1::DecideRequest r = SmallRequest();  // 12 nodes, 3 DaemonSets
  const std::string bytes = r.SerializeAsString();
  // The pods first: a count that went on past their limit would reach
  // the nodes and DaemonSets after them.
  const std::string pods_first =
      Field(1, PodsOnly(r) + ObjectsOnly(r)) + AllButSnapshot(r);
  struct Row {
    const char* name;
    const std::string* bytes;
    WireLimits limits;
    int want_nodes, want_daemon_sets;  // reserved; -1: no Reserve
  };
  for (const Row& row : {Row{"none", &bytes, {}, 12, 3},
                         Row{"at the counts", &bytes, {12, 3, 0}, 12, 3},
                         Row{"nodes", &bytes, {5, 0, 0}, -1, -1},
                         Row{"daemon sets", &bytes, {0, 2, 0}, -1, -1},
                         Row{"pods", &pods_first, {0, 0, 1}, -1, -1}}) {
    v1::DecideRequest request;
    CountingSink sink;
    const absl::StatusOr<int> read =
        ReadRequestHead(Open(*row.bytes), request, sink, row.limits);
    EXPECT_EQ(sink.reserved_nodes, row.want_nodes) << row.name;
    EXPECT_EQ(sink.reserved_daemon_sets, row.want_daemon_sets) << row.name;
    if (row.want_nodes < 0) {
      EXPECT_THAT(read.status(), StatusIs(absl::StatusCode::kResourceExhausted))
          << row.name;
    } else {
      EXPECT_THAT(read.status(), IsOk()) << row.name;
    }
  }
}

TEST(WireTest, RejectsWhatProtobufRejects) {
  for (const Malformed& c : MalformedCases()) {
    SCOPED_TRACE(c.name);
    ASSERT_FALSE(ByProtobuf(c.bytes).has_value())
        << "the case must be invalid protobuf";
    absl::Status error;
    EXPECT_FALSE(ByReader(c.bytes, &error).has_value());
    EXPECT_THAT(error, StatusIs(absl::StatusCode::kInvalidArgument)) << error;
    EXPECT_THAT(std::string(error.message()), HasSubstr(c.message));
  }
}

// Encodings at the edges of the wire format, where CodedInputStream (which
// the reader drives) is more lenient than protobuf's parser: varints of
// more than 5 bytes for lengths and tags, lengths of 2^32 + n, field
// number 0, groups in unknown fields. `protobuf_accepts` is protobuf 3.21's
// own verdict (checked: the test fails if protobuf says otherwise), and
// the reader must agree with it and read the same content.
TEST(WireTest, AgreesWithProtobufOnEdgeEncodings) {
  const std::string snapshot = Field(1, "");
  struct Case {
    const char* name;
    std::string bytes;
    bool protobuf_accepts;
  };
  const Case cases[] = {
      {"length of 5 bytes, overlong zero",
       std::string("\x0a\x80\x80\x80\x80\x00", 6), true},
      {"length of 6 bytes", std::string("\x0a\x80\x80\x80\x80\x80\x00", 7),
       false},
      // The example: 2^32 + 0 in 5 bytes (a 32-bit read sees 0).
      {"length 2^32 in 5 bytes",
       std::string("\x0a\x80\x80\x80\x80\x10\x0a\x00", 8), false},
      {"length 2^32 + 2 in 5 bytes",
       std::string("\x0a\x82\x80\x80\x80\x10\x0a\x00", 8), false},
      {"length INT_MAX", std::string("\x0a\xff\xff\xff\xff\x07", 6), false},
      {"unknown field with a 6-byte length",
       Field(1, std::string("\x52\x80\x80\x80\x80\x80\x00", 7)), false},
      {"unknown top-level field with a 6-byte length",
       std::string("\x9a\x06\x81\x80\x80\x80\x80\x00x", 9), false},
      {"tag of 5 bytes, overlong", std::string("\x88\x80\x80\x80\x00\x01", 6),
       true},
      {"tag of 6 bytes", std::string("\x88\x80\x80\x80\x80\x00\x01", 7), false},
      {"tag of 6 bytes in the snapshot",
       Field(1, std::string("\x98\x86\x80\x80\x80\x00\x07", 7)), false},
      {"field number 0 at the top", std::string("\x02\x00", 2), false},
      {"field number 0 in the snapshot", Field(1, std::string("\x02\x00", 2)),
       false},
      {"unknown group in the snapshot",
       Field(1, std::string("\x9b\x06\x08\x01\x9c\x06", 6)) + snapshot, true},
      {"unknown group ended by another field number",
       Field(1, std::string("\x9b\x06\x94\x06", 4)), false},
      {"unknown group never ended", Field(1, std::string("\x9b\x06", 2)),
       false},
      {"unknown group at the top",
       std::string("\x9b\x06\x08\x01\x9c\x06", 6) + snapshot, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::optional<Split> expected = ByProtobuf(c.bytes);
    ASSERT_EQ(expected.has_value(), c.protobuf_accepts)
        << "protobuf's verdict differs from the table";
    absl::Status error;
    const std::optional<Split> actual = ByReader(c.bytes, &error);
    ASSERT_EQ(actual.has_value(), expected.has_value()) << error;
    if (expected) {
      EXPECT_EQ(*actual, *expected);
    }
  }
}

// The count limits and the per-object caps (server/convert/limits.h) hold
// while the head is read: RESOURCE_EXHAUSTED naming the field path, before
// what is past the limit is parsed; at the limit, the request reads.
// An object too small to pass a per-object cap is not scanned (protobuf's
// parse checks it): SmallestOverACap must be a true lower bound. The
// smallest objects that pass a cap, 1,001 empty elements of a field capped
// at 1,000 (2 bytes each), are at least that long and are caught.
TEST(WireTest, TheSmallestObjectOverACapIsScanned) {
  const std::string empty_labels = [] {
    std::string out;
    for (int i = 0; i < 1001; ++i) out += Field(2, "");  // Node.labels
    return out;
  }();
  std::string pod_labels;
  for (int i = 0; i < 1001; ++i) pod_labels += Field(4, "");  // Pod.labels
  // DaemonSet.template.labels.
  const std::string template_labels = [] {
    std::string out;
    for (int i = 0; i < 1001; ++i) out += Field(1, "");
    return Field(10, out);
  }();
  struct Case {
    const char* name;
    const google::protobuf::Descriptor* type;
    int snapshot_field;
    std::string object;
    const char* path;
  };
  const Case cases[] = {
      {"node", v1::Node::descriptor(), 1, empty_labels,
       "snapshot.nodes[0].labels"},
      {"pod", v1::Pod::descriptor(), 3, pod_labels, "snapshot.pods[0].labels"},
      {"DaemonSet", v1::DaemonSet::descriptor(), 2, template_labels,
       "snapshot.daemon_sets[0].template.labels"},
  };
  ASSERT_EQ(v1::Pod::kLabelsFieldNumber, 4);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(SmallestOverACap(*c.type), 2002u);
    EXPECT_GE(c.object.size(), SmallestOverACap(*c.type));
    const std::string bytes = Field(1, Field(c.snapshot_field, c.object));
    absl::Status error;
    EXPECT_FALSE(ByReader(bytes, &error).has_value());
    EXPECT_THAT(error, StatusIs(absl::StatusCode::kResourceExhausted));
    EXPECT_THAT(std::string(error.message()), HasSubstr(c.path));
  }
}

TEST(WireTest, LimitsAndCapsHoldWhileReading) {
  const auto taints = [](int n) {
    v1::DecideRequest r;
    v1::Node& node = *r.mutable_snapshot()->add_nodes();
    node.set_name("n");
    for (int i = 0; i < n; ++i)
      node.add_taints()->set_key("k" + std::to_string(i));
    return r.SerializeAsString();
  };
  const auto values = [](int n) {
    v1::DecideRequest r;
    v1::SelectorRequirement& req = *r.mutable_snapshot()
                                        ->add_daemon_sets()
                                        ->mutable_template_()
                                        ->mutable_required_node_affinity()
                                        ->add_node_selector_terms()
                                        ->add_match_expressions();
    req.set_key("kubernetes.io/hostname");
    for (int i = 0; i < n; ++i) req.add_values("");  // empty: 2 bytes each
    return r.SerializeAsString();
  };
  const auto tolerations = [](int n) {
    v1::DaemonSet ds;
    for (int i = 0; i < n; ++i) ds.mutable_template_()->add_tolerations();
    return ds.SerializeAsString();
  };
  const auto pod_labels = [](int n) {
    v1::DecideRequest r;
    v1::Pod& pod = *r.mutable_snapshot()->add_pods();
    for (int i = 0; i < n; ++i) {
      v1::Label& l = *pod.add_labels();
      l.set_key("key-" + std::to_string(i));
      l.set_value("v");
    }
    return r.SerializeAsString();
  };
  const auto nodes = [](int n) {
    v1::DecideRequest r;
    for (int i = 0; i < n; ++i) r.mutable_snapshot()->add_nodes();
    return r.SerializeAsString();
  };
  struct Case {
    const char* name;
    std::string bytes;
    WireLimits limits;
    const char* subject;  // empty: the request reads
  };
  const std::string ds_with = tolerations(600);
  const Case cases[] = {
      {"1,000 taints on a node", taints(1000), {}, ""},
      {"1,001 taints on a node", taints(1001), {}, "snapshot.nodes[0].taints"},
      {"100,000 values", values(100'000), {}, ""},
      {"100,001 values",
       values(100'001),
       {},
       "snapshot.daemon_sets[0].template.required_node_affinity."
       "node_selector_terms[0].match_expressions[0].values"},
      // protobuf merges the two DaemonSet occurrences' templates: 1,200.
      {"tolerations over two occurrences of the template",
       Field(1, Field(2, ds_with + ds_with)),
       {},
       "snapshot.daemon_sets[0].template.tolerations"},
      {"1,000 labels on a large pod", pod_labels(1000), {}, ""},
      {"1,001 labels on a large pod",
       pod_labels(1001),
       {},
       "snapshot.pods[0].labels"},
      {"nodes at the limit", nodes(3), {3, 0, 0}, ""},
      {"nodes over the limit", nodes(4), {3, 0, 0}, "snapshot.nodes"},
      {"pods over the limit",
       pod_labels(1) + pod_labels(1),
       {0, 0, 1},
       "snapshot.pods"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    v1::DecideRequest request;
    v1::Snapshot objects;
    const absl::StatusOr<int> count =
        ReadRequestHead(Open(c.bytes), request, objects, c.limits);
    if (std::string(c.subject).empty()) {
      EXPECT_THAT(count, IsOk()) << count.status();
      continue;
    }
    ASSERT_THAT(count, StatusIs(absl::StatusCode::kResourceExhausted))
        << count.status();
    EXPECT_THAT(std::string(count.status().message()),
                ::testing::StartsWith(std::string(c.subject) + ": "));
  }
}

// SmallRequest cut to 3 nodes and 6 pods (after `change`), serialized.
std::string TrimmedRequest(void (*change)(v1::DecideRequest&)) {
  v1::DecideRequest r = SmallRequest();
  change(r);
  r.mutable_snapshot()->mutable_pods()->DeleteSubrange(
      6, r.snapshot().pods_size() - 6);
  r.mutable_snapshot()->mutable_nodes()->DeleteSubrange(
      3, r.snapshot().nodes_size() - 3);
  return r.SerializeAsString();
}

// Every `step`-th prefix of `good`, and `mutations` random byte changes:
// the reader and protobuf agree on acceptance and, when accepted, on the
// content; each outcome comes at least `each` times.
void ExpectAgreementOnCorruptions(const std::string& good, size_t step,
                                  int mutations, uint32_t seed, int each) {
  int accepted = 0;
  int rejected = 0;
  testing::ForPrefixesAndMutations(
      good, step, mutations, seed, [&](const std::string& bytes) {
        const std::optional<Split> expected = ByProtobuf(bytes);
        const std::optional<Split> actual = ByReader(bytes);
        ASSERT_EQ(actual.has_value(), expected.has_value());
        if (expected) {
          ++accepted;
          EXPECT_EQ(*actual, *expected);
        } else {
          ++rejected;
        }
      });
  EXPECT_GT(accepted, each);
  EXPECT_GT(rejected, each);
}

TEST(WireTest, AgreesWithProtobufOnCorruptedBytes) {
  ExpectAgreementOnCorruptions(TrimmedRequest([](v1::DecideRequest&) {}), 7,
                               3000, 20261129, 100);
}

// Pod 4 unscheduled, targeted at its node through matchFields, with a
// matchExpressions requirement of 500 zone values: over 2,002 bytes.
void LargeAffinityPod(v1::DecideRequest& r) {
  v1::Pod& p = *r.mutable_snapshot()->mutable_pods(4);
  const std::string node = p.node_name();
  p.clear_node_name();
  v1::NodeSelectorTerm& term =
      *p.mutable_required_node_affinity()->add_node_selector_terms();
  v1::SelectorRequirement& e = *term.add_match_expressions();
  e.set_key("topology.kubernetes.io/zone");
  e.set_operator_(v1::SELECTOR_OPERATOR_IN);
  for (int i = 0; i < 500; ++i) e.add_values("zone-" + std::to_string(i));
  v1::SelectorRequirement& f = *term.add_match_fields();
  f.set_key("metadata.name");
  f.set_operator_(v1::SELECTOR_OPERATOR_IN);
  f.add_values(node);
}

// The same with a pod over 2,002 bytes, which pass 1 scans for caps where
// it is and pass 2 reads into a buffer to take its values out (truncated
// inside the pod too).
TEST(WireTest, AgreesWithProtobufOnALargePodsBytes) {
  ExpectAgreementOnCorruptions(TrimmedRequest(LargeAffinityPod), 13, 1000,
                               20261207, 50);
}

// The violations and, for a valid request, the plan, from a parsed
// request's pods or from pods streamed off its bytes (which the converter
// copies: the streamed message is reused).
struct Outcome {
  std::vector<std::string> violations;
  std::string plan;
};

// The violations as "path: description", and the plan when there are none.
Outcome OutcomeOf(const v1::DecideRequest& head,
                  const std::vector<Violation>& violations,
                  const engine::Snapshot& snapshot) {
  Outcome out;
  for (const Violation& v : violations) {
    out.violations.push_back(v.field + ": " + v.description);
  }
  if (violations.empty()) {
    const absl::Time now = TimeFromProto(head.now());
    v1::DecideResponse response;
    PlanToProto(engine::Decide(snapshot, now, OptionsFromProto(head.options())),
                now, response);
    out.plan = response.SerializeAsString();
  }
  return out;
}

Outcome Decide(const v1::DecideRequest& head, const v1::Snapshot& objects,
               PodSource& pods) {
  std::vector<Violation> violations;
  engine::Snapshot snapshot;
  ValidateAndConvertSnapshot(objects, pods, head.options(), "snapshot",
                             violations, &snapshot);
  return OutcomeOf(head, violations, snapshot);
}

class ParsedPods final : public PodSource {
 public:
  explicit ParsedPods(const v1::Snapshot& s) : pods_(s.pods()) {}
  int size() const override { return pods_.size(); }
  const v1::Pod* Next() override {
    return next_ < pods_.size() ? &pods_[next_++] : nullptr;
  }
  bool reuses_pods() const override { return false; }

 private:
  const google::protobuf::RepeatedPtrField<v1::Pod>& pods_;
  int next_ = 0;
};

TEST(WireTest, StreamedPodsDecideAsParsedPods) {
  struct Case {
    const char* name;
    void (*change)(v1::DecideRequest&);
  };
  const Case cases[] = {
      {"valid", [](v1::DecideRequest&) {}},
      {"duplicate pod uid",
       [](v1::DecideRequest& r) {
         r.mutable_snapshot()->mutable_pods(7)->set_uid(
             r.snapshot().pods(3).uid());
       }},
      {"duplicate pod name",
       [](v1::DecideRequest& r) {
         r.mutable_snapshot()->mutable_pods(9)->set_name(
             r.snapshot().pods(1).name());
       }},
      {"bad namespace then duplicates",
       [](v1::DecideRequest& r) {
         r.mutable_snapshot()->mutable_pods(0)->set_namespace_("Bad_NS");
         r.mutable_snapshot()->mutable_pods(5)->set_uid(
             r.snapshot().pods(4).uid());
       }},
      {"bad label key",
       [](v1::DecideRequest& r) {
         v1::Label& l = *r.mutable_snapshot()->mutable_pods(2)->add_labels();
         l.set_key("-bad");
         l.set_value("x");
       }},
      {"unscheduled pod with affinity",
       [](v1::DecideRequest& r) {
         v1::Pod& p = *r.mutable_snapshot()->mutable_pods(4);
         const std::string node = p.node_name();
         p.clear_node_name();
         v1::SelectorRequirement& f = *p.mutable_required_node_affinity()
                                           ->add_node_selector_terms()
                                           ->add_match_fields();
         f.set_key("metadata.name");
         f.set_operator_(v1::SELECTOR_OPERATOR_IN);
         f.add_values(node);
       }},
      {"pod on an unknown node",
       [](v1::DecideRequest& r) {
         r.mutable_snapshot()->mutable_pods(6)->set_node_name("gone-node");
       }},
      // Over 2,002 bytes: the reader takes the values out of the pod's
      // bytes (WirePods::values).
      {"large unscheduled pod with affinity", LargeAffinityPod},
      {"large pod with a bad value",
       [](v1::DecideRequest& r) {
         LargeAffinityPod(r);
         r.mutable_snapshot()
             ->mutable_pods(4)
             ->mutable_required_node_affinity()
             ->mutable_node_selector_terms(0)
             ->mutable_match_expressions(0)
             ->set_values(250, "not a value!");
       }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    v1::DecideRequest request = SmallRequest();
    c.change(request);
    v1::Snapshot objects = request.snapshot();
    objects.clear_pods();
    ParsedPods parsed(request.snapshot());
    const Outcome expected = Decide(request, objects, parsed);

    const std::string bytes = request.SerializeAsString();
    v1::DecideRequest head;
    v1::Snapshot streamed_objects;
    const absl::StatusOr<int> count =
        ReadRequestHead(Open(bytes), head, streamed_objects);
    ASSERT_THAT(count, IsOk()) << count.status();
    WirePods pods(Open(bytes), *count);
    const Outcome actual = Decide(head, streamed_objects, pods);
    ASSERT_THAT(pods.error(), IsOk()) << pods.error();
    EXPECT_EQ(actual.violations, expected.violations);
    EXPECT_EQ(actual.plan, expected.plan);
    // The cases that should fail do.
    EXPECT_EQ(
        expected.violations.empty(),
        std::string(c.name) == "valid" ||
            std::string(c.name) == "unscheduled pod with affinity" ||
            std::string(c.name) == "large unscheduled pod with affinity" ||
            std::string(c.name) == "pod on an unknown node");
  }
}

// The nodes and DaemonSets streamed from the bytes into SnapshotConverter
// (as dsd-server reads a request) against the parsed request: same
// violations in the same order (every node's, then every DaemonSet's, then
// the pods'), same plan, whatever order the objects come in on the wire.
struct Streamed {
  v1::DecideRequest head;
  engine::Snapshot snapshot;
  std::vector<Violation> violations;
  bool read = false;  // the bytes were read (violations or not)
};

// The request read and converted as dsd-server does.
Streamed ConvertStreamed(const std::string& bytes) {
  Streamed out;
  SnapshotConverter converter(
      [&out]() -> const v1::DecideOptions& { return out.head.options(); },
      "snapshot", &out.snapshot, {});
  const absl::StatusOr<int> count =
      ReadRequestHead(Open(bytes), out.head, converter);
  EXPECT_THAT(count, IsOk()) << count.status();
  if (!count.ok()) return out;
  // The objects went to the converter.
  EXPECT_EQ(out.head.snapshot().nodes_size(), 0);
  WirePods pods(Open(bytes), *count);
  converter.Finish(pods, out.violations);
  EXPECT_THAT(pods.error(), IsOk()) << pods.error();
  out.read = pods.error().ok();
  return out;
}

Outcome DecideStreamed(const std::string& bytes) {
  const Streamed streamed = ConvertStreamed(bytes);
  if (!streamed.read) return {};
  return OutcomeOf(streamed.head, streamed.violations, streamed.snapshot);
}

// Requirement values in every list a DaemonSet has (the reader takes
// them out of its bytes: selector_values.h): the decisions depend on
// them (zones b and c only, not node-00002, the rollout in zone c).
void WithValues(v1::DecideRequest& r) {
  v1::Snapshot& s = *r.mutable_snapshot();
  const auto requirement =
      [](google::protobuf::RepeatedPtrField<v1::SelectorRequirement>& list,
         const char* key, v1::SelectorOperator op,
         std::initializer_list<const char*> values) {
        v1::SelectorRequirement& req = *list.Add();
        req.set_key(key);
        req.set_operator_(op);
        for (const char* v : values) req.add_values(v);
      };
  v1::NodeSelectorTerm& term = *s.mutable_daemon_sets(0)
                                    ->mutable_template_()
                                    ->mutable_required_node_affinity()
                                    ->add_node_selector_terms();
  requirement(*term.mutable_match_expressions(), "topology.kubernetes.io/zone",
              v1::SELECTOR_OPERATOR_IN, {"zone-b", "zone-c"});
  requirement(*term.mutable_match_fields(), "metadata.name",
              v1::SELECTOR_OPERATOR_NOT_IN, {"node-00002"});
  requirement(*s.mutable_daemon_sets(1)
                   ->mutable_selector()
                   ->mutable_match_expressions(),
              "app", v1::SELECTOR_OPERATOR_NOT_IN, {"nothing", "none"});
  requirement(*s.mutable_daemon_sets(2)
                   ->mutable_update_strategy()
                   ->mutable_rollout_node_selector()
                   ->mutable_match_expressions(),
              "topology.kubernetes.io/zone", v1::SELECTOR_OPERATOR_IN,
              {"zone-c"});
}

// The same, with bad values: where each is reported.
void BadValues(v1::DecideRequest& r) {
  WithValues(r);
  v1::Snapshot& s = *r.mutable_snapshot();
  v1::NodeSelectorTerm& term = *s.mutable_daemon_sets(0)
                                    ->mutable_template_()
                                    ->mutable_required_node_affinity()
                                    ->mutable_node_selector_terms(0);
  term.mutable_match_expressions(0)->add_values("not a value!");
  term.mutable_match_fields(0)->add_values("node-00003");
  s.mutable_daemon_sets(1)
      ->mutable_selector()
      ->mutable_match_expressions(0)
      ->set_operator_(v1::SELECTOR_OPERATOR_EXISTS);
}

// A large pod's values are taken out of its bytes; of its affinity the
// engine pod keeps the matchFields, which target it (GetTargetNodeName
// reads nothing else; the matchExpressions are validated, not kept).
TEST(WireTest, ALargePodKeepsItsMatchFields) {
  v1::DecideRequest request = SmallRequest();
  LargeAffinityPod(request);
  ASSERT_GE(request.snapshot().pods(4).ByteSizeLong(), 2002u);
  const Streamed streamed = ConvertStreamed(request.SerializeAsString());
  ASSERT_TRUE(streamed.read);
  ASSERT_THAT(streamed.violations, ::testing::IsEmpty());
  const engine::Pod& pod = streamed.snapshot.pods[4];
  ASSERT_EQ(pod.required_node_affinity.size(), 1u);
  const engine::NodeSelectorTerm& term = pod.required_node_affinity[0];
  EXPECT_THAT(term.match_expressions, ::testing::IsEmpty());
  // The node it targets, through the matchFields value.
  const std::string node = SmallRequest().snapshot().pods(4).node_name();
  ASSERT_EQ(term.match_fields.size(), 1u);
  ASSERT_EQ(term.match_fields[0].values.size(), 1u);
  EXPECT_EQ(term.match_fields[0].values[0], node);
  EXPECT_EQ(engine::TargetNodeName(pod), node);
}

// The values the reader takes out of a DaemonSet's bytes reach the
// engine's requirements, each list's its own, whatever order the objects
// come in.
TEST(WireTest, RequirementValuesReachTheEngine) {
  v1::DecideRequest request = SmallRequest();
  WithValues(request);
  // As it is, and with the DaemonSets in a snapshot occurrence before the
  // request's other fields and the nodes and pods.
  v1::Snapshot dss;
  *dss.mutable_daemon_sets() = request.snapshot().daemon_sets();
  v1::Snapshot rest = request.snapshot();
  rest.clear_daemon_sets();
  const std::string encodings[] = {
      request.SerializeAsString(),
      Field(1, dss.SerializeAsString()) + AllButSnapshot(request) +
          Field(1, rest.SerializeAsString()),
  };
  using Values = engine::RequirementValues;
  for (const std::string& bytes : encodings) {
    const Streamed streamed = ConvertStreamed(bytes);
    ASSERT_TRUE(streamed.read);
    ASSERT_THAT(streamed.violations, ::testing::IsEmpty());
    const engine::Snapshot& snapshot = streamed.snapshot;
    ASSERT_EQ(snapshot.daemon_sets.size(), 3u);
    const engine::DaemonSet& ds0 = snapshot.daemon_sets[0];
    ASSERT_TRUE(ds0.required_node_affinity.has_value());
    ASSERT_EQ(ds0.required_node_affinity->size(), 1u);
    const engine::NodeSelectorTerm& term = ds0.required_node_affinity->front();
    ASSERT_EQ(term.match_expressions.size(), 1u);
    EXPECT_EQ(term.match_expressions[0].values, (Values{"zone-b", "zone-c"}));
    ASSERT_EQ(term.match_fields.size(), 1u);
    EXPECT_EQ(term.match_fields[0].values, (Values{"node-00002"}));
    const auto& selector = snapshot.daemon_sets[1].selector.match_expressions;
    ASSERT_EQ(selector.size(), 1u);
    EXPECT_EQ(selector[0].values, (Values{"nothing", "none"}));
    const auto& rollout = snapshot.daemon_sets[2].update_strategy.node_selector;
    ASSERT_TRUE(rollout.has_value());
    ASSERT_EQ(rollout->match_expressions.size(), 1u);
    EXPECT_EQ(rollout->match_expressions[0].values, (Values{"zone-c"}));
  }
}

TEST(WireTest, StreamedObjectsDecideAsParsedObjects) {
  // The snapshot's DaemonSets, nodes and pods as separate occurrences of
  // the snapshot field, in the order given (protobuf merges them).
  const auto reordered = [](const v1::DecideRequest& r) {
    v1::Snapshot dss;
    *dss.mutable_daemon_sets() = r.snapshot().daemon_sets();
    v1::Snapshot nodes;
    *nodes.mutable_nodes() = r.snapshot().nodes();
    return Field(1, dss.SerializeAsString()) + AllButSnapshot(r) +
           Field(1, nodes.SerializeAsString()) + Field(1, PodsOnly(r));
  };
  // Half the nodes, then the DaemonSets, then the other half.
  const auto interleaved = [](const v1::DecideRequest& r) {
    v1::Snapshot first;
    v1::Snapshot second;
    for (int i = 0; i < r.snapshot().nodes_size(); ++i) {
      *(i % 2 == 0 ? first : second).add_nodes() = r.snapshot().nodes(i);
    }
    *first.mutable_daemon_sets() = r.snapshot().daemon_sets();
    return AllButSnapshot(r) + Field(1, first.SerializeAsString()) +
           Field(1, second.SerializeAsString()) + Field(1, PodsOnly(r));
  };
  const auto canonical = [](const v1::DecideRequest& r) {
    return r.SerializeAsString();
  };
  struct Case {
    const char* name;
    void (*change)(v1::DecideRequest&);
    std::string (*encode)(const v1::DecideRequest&);
    bool valid;
  };
  const auto bad_objects = [](v1::DecideRequest& r) {
    v1::Snapshot& s = *r.mutable_snapshot();
    s.mutable_daemon_sets(1)->set_namespace_("Bad_NS");
    s.mutable_nodes(3)->set_name("Bad_Node");
    s.mutable_nodes(5)->mutable_taints()->Add()->set_key("-bad");
    s.mutable_daemon_sets(2)->set_uid(s.daemon_sets(0).uid());
    s.mutable_nodes(7)->set_name(s.nodes(2).name());
    s.mutable_pods(1)->set_namespace_("Bad_NS");
  };
  const auto lt_toleration = [](v1::DecideRequest& r) {
    // Valid only with the gate, in the options after the snapshot.
    r.mutable_options()->set_toleration_comparison_operators(true);
    v1::Toleration& t = *r.mutable_snapshot()
                             ->mutable_daemon_sets(0)
                             ->mutable_template_()
                             ->add_tolerations();
    t.set_key("example.com/level");
    t.set_operator_(v1::TOLERATION_OPERATOR_LT);
    t.set_value("5");
    t.set_effect(v1::TAINT_EFFECT_NO_SCHEDULE);
  };
  const Case cases[] = {
      {"valid", [](v1::DecideRequest&) {}, canonical, true},
      {"values in every list", WithValues, canonical, true},
      {"values in every list, DaemonSets first", WithValues, reordered, true},
      {"bad values", BadValues, canonical, false},
      {"bad values, interleaved", BadValues, interleaved, false},
      {"valid, DaemonSets first", [](v1::DecideRequest&) {}, reordered, true},
      {"valid, interleaved", [](v1::DecideRequest&) {}, interleaved, true},
      {"bad objects", bad_objects, canonical, false},
      {"bad objects, DaemonSets first", bad_objects, reordered, false},
      {"bad objects, interleaved", bad_objects, interleaved, false},
      {"Lt toleration with the gate", lt_toleration, canonical, true},
      {"Lt toleration without the gate",
       [](v1::DecideRequest& r) {
         v1::Toleration& t = *r.mutable_snapshot()
                                  ->mutable_daemon_sets(0)
                                  ->mutable_template_()
                                  ->add_tolerations();
         t.set_key("example.com/level");
         t.set_operator_(v1::TOLERATION_OPERATOR_LT);
         t.set_value("5");
       },
       canonical, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    v1::DecideRequest request = SmallRequest();
    c.change(request);
    const std::string bytes = c.encode(request);
    v1::DecideRequest parsed;
    ASSERT_TRUE(parsed.ParseFromString(bytes));
    v1::Snapshot objects = parsed.snapshot();
    objects.clear_pods();
    ParsedPods parsed_pods(parsed.snapshot());
    const Outcome expected = Decide(parsed, objects, parsed_pods);
    EXPECT_EQ(expected.violations.empty(), c.valid)
        << (expected.violations.empty() ? "" : expected.violations[0]);
    const Outcome actual = DecideStreamed(bytes);
    EXPECT_EQ(actual.violations, expected.violations);
    EXPECT_EQ(actual.plan, expected.plan);
    if (std::string_view(c.name).starts_with("bad values")) {
      // Checked against the rules (semantics doc, section 10), not copied
      // from the output: a value that is no label value, a second node
      // name, values with Exists.
      const std::string term =
          "snapshot.daemon_sets[0].template.required_node_affinity."
          "node_selector_terms[0].";
      EXPECT_THAT(
          actual.violations,
          ::testing::ElementsAre(
              ::testing::StartsWith(term + "match_expressions[0].values[2]: "),
              ::testing::StartsWith(term + "match_fields[0].values: must "
                                           "have exactly one value"),
              ::testing::StartsWith(
                  "snapshot.daemon_sets[1].selector.match_expressions[0]."
                  "values: must be empty for Exists")));
    }
  }
}

}  // namespace
}  // namespace dsd::convert
