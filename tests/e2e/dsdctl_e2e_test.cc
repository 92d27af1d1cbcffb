// End to end: a real dsd-server (in-process, 127.0.0.1, OS-chosen port)
// and dsdctl's commands on the bundled examples, compared with hand-checked
// plans (tests/e2e/golden), plus every input error class and the real
// dsdctl binary's exit codes and streams (the plan contract).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "client/dsdctl/commands.h"
#include "tests/testing/local_server.h"

namespace dsd::client {
namespace {

constexpr char kNow[] = "2026-01-02T03:00:00Z";

std::string Example(const std::string& name) {
  return std::string(DSD_EXAMPLES_DIR) + "/ssd-monitor/" + name;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Every key of `want` is in `got` with an equal value (recursively);
// arrays must have the same length and match element-wise.
void ExpectSubset(const nlohmann::json& want, const nlohmann::json& got,
                  const std::string& path) {
  if (want.is_object()) {
    ASSERT_TRUE(got.is_object()) << path;
    for (const auto& [key, value] : want.items()) {
      ASSERT_TRUE(got.contains(key)) << path << "." << key << " missing";
      ExpectSubset(value, got.at(key), path + "." + key);
    }
  } else if (want.is_array()) {
    ASSERT_TRUE(got.is_array()) << path;
    ASSERT_EQ(want.size(), got.size()) << path << ": " << got.dump();
    for (size_t i = 0; i < want.size(); ++i) {
      ExpectSubset(want[i], got[i], path + "[" + std::to_string(i) + "]");
    }
  } else {
    EXPECT_EQ(want, got) << path;
  }
}

template <typename Case>
std::string CaseName(const ::testing::TestParamInfo<Case>& param) {
  return param.param.name;
}

class DsdctlTest : public testing::LocalServerTest {
 protected:
  struct Result {
    int code = -1;
    std::string out;
    std::string err;
  };
  Result Decide(std::vector<std::string> files,
                OutputFormat format = OutputFormat::kJson) const {
    std::ostringstream out, err;
    Result r;
    r.code =
        RunDecide(Connection(), {std::move(files), kNow}, format, out, err);
    r.out = out.str();
    r.err = err.str();
    return r;
  }

  // A temporary input file holding `text`.
  std::string TempFile(const std::string& name, const std::string& text) {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("dsdctl_e2e_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const std::string path = (dir / name).string();
    std::ofstream(path) << text;
    return path;
  }
};

// --- Golden plans of the bundled examples --------------------------------

struct GoldenCase {
  std::string name;
  std::string input;   // file under examples/ssd-monitor
  std::string golden;  // file under tests/e2e/golden
};

class GoldenTest : public DsdctlTest,
                   public ::testing::WithParamInterface<GoldenCase> {};

TEST_P(GoldenTest, PlanMatchesHandCheckedGolden) {
  const Result r = Decide({Example(GetParam().input)});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto want = nlohmann::json::parse(
      ReadFile(std::string(DSD_GOLDEN_DIR) + "/" + GetParam().golden));
  ExpectSubset(want, nlohmann::json::parse(r.out), "$");
}

INSTANTIATE_TEST_SUITE_P(
    Examples, GoldenTest,
    ::testing::Values(GoldenCase{"PlacementOnSsdAndCordonedNodes",
                                 "01-cluster.yaml", "01-cluster.json"},
                      GoldenCase{"EvictionAfterRelabelYaml",
                                 "02-after-relabel.yaml",
                                 "02-after-relabel.json"},
                      GoldenCase{"EvictionAfterRelabelKubectlJson",
                                 "02-after-relabel.json",
                                 "02-after-relabel.json"}),
    CaseName<GoldenCase>);

TEST_F(DsdctlTest, YamlAndJsonInputsGiveIdenticalPlans) {
  const Result yaml = Decide({Example("02-after-relabel.yaml")});
  const Result json = Decide({Example("02-after-relabel.json")});
  ASSERT_EQ(yaml.code, 0) << yaml.err;
  ASSERT_EQ(json.code, 0) << json.err;
  EXPECT_EQ(yaml.out, json.out);
}

TEST_F(DsdctlTest, TableShowsActionsReasonsAndCounters) {
  const Result r =
      Decide({Example("02-after-relabel.yaml")}, OutputFormat::kTable);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("delete"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ssd-monitor-1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("NodeAffinityMismatch"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("kube-system/fluentd-elasticsearch: nothing to do"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("misscheduled 1"), std::string::npos) << r.out;
}

TEST_F(DsdctlTest, YamlOutputIsTheSameDocument) {
  const Result r = Decide({Example("01-cluster.yaml")}, OutputFormat::kYaml);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("evaluatedAt: \"2026-01-02T03:00:00Z\""),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("desiredNumberScheduled: 2"), std::string::npos);
}

TEST_F(DsdctlTest, ExplainSaysWhyNot) {
  std::ostringstream out, err;
  const int code = RunExplain(
      Connection(), {{Example("02-after-relabel.yaml")}, kNow},
      {"default/ssd-monitor", "k8s-node1"}, OutputFormat::kTable, out, err);
  ASSERT_EQ(code, 0) << err.str();
  EXPECT_NE(out.str().find("node label disk=hdd does not match nodeSelector "
                           "disk=ssd"),
            std::string::npos)
      << out.str();
  EXPECT_EQ(out.str().find("k8s-node2"), std::string::npos)
      << "the --node filter keeps only k8s-node1";
}

// --- Input errors: non-zero exit, one line per problem, nothing on stdout.

struct ErrorCase {
  std::string name;
  std::string file_text;  // one input file
  int code;
  std::string stderr_has;  // a line (or part) the user must see
};

class ErrorTest : public DsdctlTest,
                  public ::testing::WithParamInterface<ErrorCase> {};

TEST_P(ErrorTest, ExitsNonZeroNamesTheProblemAndPrintsNothing) {
  const std::string path =
      TempFile(GetParam().name + ".yaml", GetParam().file_text);
  const Result r = Decide({path});
  EXPECT_EQ(r.code, GetParam().code) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find(GetParam().stderr_has), std::string::npos) << r.err;
}

constexpr char kSsdMonitorLike[] = R"(apiVersion: apps/v1
kind: DaemonSet
metadata: {name: ssd-monitor, namespace: kube-system}
spec:
  selector: {matchLabels: {app: ssd-monitor}}
  template:
    metadata: {labels: {app: ssd-monitor}}
    spec:
      tolerations:
      - {key: dedicated, operator: Like, value: x}
)";

INSTANTIATE_TEST_SUITE_P(
    Inputs, ErrorTest,
    ::testing::Values(
        // Caught by the client: Kubernetes would reject the operator.
        ErrorCase{"UnknownTolerationOperator", kSsdMonitorLike, kExitInput,
                  "DaemonSet kube-system/ssd-monitor: "
                  "spec.template.spec.tolerations[0].operator: must be "
                  "Exists or Equal, got \"Like\""},
        ErrorCase{"BrokenYaml", "kind: Node\nmetadata: {name: [\n", kExitInput,
                  "error: "},
        // Caught by the server, translated back to the user's object.
        ErrorCase{"InvalidLabelValueFromServer",
                  "apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\n"
                  "  labels: {disk: -ssd-}\n",
                  kExitInput, "Node n1: metadata.labels[\"disk\"]"}),
    CaseName<ErrorCase>);

TEST_F(DsdctlTest, UnreachableServerNamesAddressAndSuggestsMakeRun) {
  ConnectionOptions c;
  c.server = "127.0.0.1:1";
  c.timeout_seconds = 5;
  std::ostringstream out, err;
  const int code = RunDecide(c, {{Example("01-cluster.yaml")}, kNow},
                             OutputFormat::kJson, out, err);
  EXPECT_EQ(code, kExitServer);
  EXPECT_EQ(out.str(), "");
  EXPECT_NE(err.str().find("127.0.0.1:1"), std::string::npos) << err.str();
  EXPECT_NE(err.str().find("make run"), std::string::npos) << err.str();
}

// --- The real binary: flags, exit codes and streams. ------------------------

struct BinaryRun {
  int code;
  std::string out;
};

BinaryRun RunBinary(const std::string& args) {
  const std::string command =
      std::string(DSD_DSDCTL) + " " + args + " 2>/dev/null";
  FILE* pipe = ::popen(command.c_str(), "r");
  BinaryRun r{-1, ""};
  if (pipe == nullptr) return r;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) {
    r.out.append(buffer, n);
  }
  const int status = ::pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

TEST_F(DsdctlTest, BinaryPrintsContractJsonWhenNotATerminal) {
  const BinaryRun r =
      RunBinary("--server " + Connection().server + " decide --now " + kNow +
                " -f " + Example("02-after-relabel.yaml"));
  ASSERT_EQ(r.code, 0);
  const auto plan = nlohmann::json::parse(r.out);  // json: stdout is a pipe
  EXPECT_EQ(plan["daemonSets"][0]["delete"][0]["reason"],
            "NodeAffinityMismatch");
}

TEST_F(DsdctlTest, BinaryUsageErrorExitsTwo) {
  EXPECT_EQ(RunBinary("decide").code, 2);  // -f is required
  EXPECT_EQ(RunBinary("decide -o xml -f x").code, 2);
}

TEST_F(DsdctlTest, BinaryVersion) {
  const BinaryRun r = RunBinary("version");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("dsdctl"), std::string::npos);
}

}  // namespace
}  // namespace dsd::client
