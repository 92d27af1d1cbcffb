// ControllerRevision history against upstream's rules (cluster-integration
// 2.5; pkg/controller/daemon/update.go: snapshot, Match, getPatch;
// pkg/controller/controller_utils.go: ComputeHash). The hashes below were
// computed apart from this code (a few lines of Python: FNV-32a over the
// sorted compact JSON, then SafeEncodeString's alphabet).
#include "client/adapter/history.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/testing/param_name.h"

namespace dsd::adapter {
namespace {

using nlohmann::json;

json Template() {
  return json::parse(R"({"metadata": {"labels": {"app": "agent"}},
    "spec": {"containers": [{"name": "a", "image": "busybox"}]}})");
}

json DaemonSet() {
  return {
      {"apiVersion", "apps/v1"},
      {"kind", "DaemonSet"},
      {"metadata",
       {{"name", "agent"},
        {"namespace", "ns"},
        {"uid", "ds-uid"},
        {"annotations", {{"deprecated.daemonset.template.generation", "2"}}}}},
      {"spec", {{"template", Template()}}}};
}

struct MatchCase {
  const char* name;
  json data;  // the revision's data
  bool matches;
};

const MatchCase kMatchCases[] = {
    {"SameTemplate", {{"spec", {{"template", Template()}}}}, true},
    // What Go's json.Marshal of the revision adds: "$patch", nulls
    // (creationTimestamp: null) and empty objects (resources: {}).
    {"GoZeroValuesAndPatchMarker",
     json::parse(R"({"spec": {"template": {"$patch": "replace",
       "metadata": {"labels": {"app": "agent"}, "creationTimestamp": null},
       "spec": {"containers": [{"name": "a", "image": "busybox",
                                "resources": {}}]}}}})"),
     true},
    {"OtherImage",
     json::parse(
         R"({"spec": {"template": {"metadata": {"labels": {"app": "agent"}},
       "spec": {"containers": [{"name": "a", "image": "busybox:2"}]}}}})"),
     false},
    {"OtherLabel",
     json::parse(R"({"spec": {"template": {"metadata": {"labels": {"app": "b"}},
       "spec": {"containers": [{"name": "a", "image": "busybox"}]}}}})"),
     false},
    {"NoData", json(), false},
    {"DataNotAnObject", json::array({1}), false},
};

class RevisionMatchTest : public ::testing::TestWithParam<MatchCase> {};

TEST_P(RevisionMatchTest, AsUpstreamMatch) {
  const json revision = {{"data", GetParam().data}};
  EXPECT_EQ(RevisionMatches(DaemonSet(), revision), GetParam().matches);
}

INSTANTIATE_TEST_SUITE_P(Revisions, RevisionMatchTest,
                         ::testing::ValuesIn(kMatchCases),
                         dsd::testing::ParamName<MatchCase>);

TEST(RevisionHashTest, FnvOfTheCanonicalTemplateInUpstreamsAlphabet) {
  EXPECT_EQ(RevisionHash(Template(), std::nullopt), "dd5d9c747");
  // The collision count changes it (ComputeHash's extra bytes).
  EXPECT_EQ(RevisionHash(Template(), 1), "5ffb777458");
  // The same template read back with Go's zero values: the same hash.
  json with_zero_values = Template();
  with_zero_values["metadata"]["creationTimestamp"] = nullptr;
  with_zero_values["$patch"] = "replace";
  EXPECT_EQ(RevisionHash(with_zero_values, std::nullopt), "dd5d9c747");
}

TEST(NewRevisionTest, AsUpstreamSnapshotMakesIt) {
  const json r = NewRevision(DaemonSet(), "dd5d9c747", 3);
  const json want = json::parse(R"({
    "apiVersion": "apps/v1", "kind": "ControllerRevision",
    "metadata": {
      "name": "agent-dd5d9c747",
      "labels": {"app": "agent", "controller-revision-hash": "dd5d9c747"},
      "annotations": {"deprecated.daemonset.template.generation": "2"},
      "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet",
        "name": "agent", "uid": "ds-uid", "controller": true,
        "blockOwnerDeletion": true}]},
    "data": {"spec": {"template": {"$patch": "replace",
      "metadata": {"labels": {"app": "agent"}},
      "spec": {"containers": [{"name": "a", "image": "busybox"}]}}}},
    "revision": 3})");
  EXPECT_EQ(r, want) << r.dump(1);
  // And it matches the DaemonSet it was made from.
  EXPECT_TRUE(RevisionMatches(DaemonSet(), r));
}

}  // namespace
}  // namespace dsd::adapter
