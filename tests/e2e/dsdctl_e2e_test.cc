// End to end: a real dsd-server (in-process, 127.0.0.1, OS-chosen port)
// and dsdctl's commands on the bundled examples, compared with hand-checked
// plans (tests/e2e/golden), plus every input error class and the real
// dsdctl binary's exit codes and streams (the plan contract).
#include <fcntl.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "client/common/decide_options.h"
#include "client/dsdctl/commands.h"
#include "server/engine/taints.h"
#include "tests/kube/fake_apiserver.h"
#include "tests/testing/local_server.h"
#include "tests/testing/param_name.h"
#include "tests/testing/sanitizers.h"
#include "tests/transport/server_process.h"

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

  // A temporary input file holding `text`, removed after the test.
  std::string TempFile(const std::string& name, const std::string& text) {
    std::filesystem::create_directories(temp_dir_);
    const std::string path = (temp_dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }

  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(temp_dir_, ignored);
    testing::LocalServerTest::TearDown();
  }

  const std::filesystem::path temp_dir_ =
      std::filesystem::temp_directory_path() /
      ("dsdctl_e2e_" + std::to_string(::getpid()));
};

// --- Golden plans of the bundled examples --------------------------------

struct GoldenCase {
  std::string name;
  std::string input;   // file under examples/ (ssd-monitor/ by default)
  std::string golden;  // file under tests/e2e/golden
};

std::string ExampleOf(const GoldenCase& c) {
  return c.input.find('/') == std::string::npos
             ? Example(c.input)
             : std::string(DSD_EXAMPLES_DIR) + "/" + c.input;
}

class GoldenTest : public DsdctlTest,
                   public ::testing::WithParamInterface<GoldenCase> {};

TEST_P(GoldenTest, PlanMatchesHandCheckedGolden) {
  const Result r = Decide({ExampleOf(GetParam())});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto want = nlohmann::json::parse(
      ReadFile(std::string(DSD_GOLDEN_DIR) + "/" + GetParam().golden));
  ExpectSubset(want, nlohmann::json::parse(r.out), "$");
}

INSTANTIATE_TEST_SUITE_P(
    Examples, GoldenTest,
    ::testing::Values(
        GoldenCase{"PlacementOnSsdAndCordonedNodes", "01-cluster.yaml",
                   "01-cluster.json"},
        GoldenCase{"EvictionAfterRelabelYaml", "02-after-relabel.yaml",
                   "02-after-relabel.json"},
        GoldenCase{"EvictionAfterRelabelKubectlJson", "02-after-relabel.json",
                   "02-after-relabel.json"},
        // dsd.dev/ rollout annotations (README).
        GoldenCase{"RolloutCanaryByNodeSelector", "rollout/01-canary.yaml",
                   "01-canary.json"},
        GoldenCase{"RolloutPartitionKeepsOldNodes", "rollout/02-partition.yaml",
                   "02-partition.json"},
        GoldenCase{"RolloutPausedStillCreates", "rollout/03-paused.yaml",
                   "03-paused.json"}),
    dsd::testing::ParamName<GoldenCase>);

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

std::string ManyLabelsNode(int labels) {
  std::string out =
      "apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\n"
      "  labels:\n";
  for (int i = 0; i < labels; ++i) {
    out += "    l" + std::to_string(i) + ": x\n";
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(
    Inputs, ErrorTest,
    ::testing::Values(
        // Caught by the client: Kubernetes would reject the operator.
        ErrorCase{"UnknownTolerationOperator", kSsdMonitorLike, kExitInput,
                  "DaemonSet kube-system/ssd-monitor: "
                  "spec.template.spec.tolerations[0].operator: must be "
                  "Exists or Equal, got \"Like\""},
        ErrorCase{"BrokenYaml", "kind: Node\nmetadata: {name: [\n", kExitInput,
                  "BrokenYaml.yaml: invalid YAML at line 3, column 1: end of "
                  "sequence flow not found\n"},
        // Caught by the server, translated back to the user's object.
        ErrorCase{"InvalidLabelValueFromServer",
                  "apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\n"
                  "  labels: {disk: -ssd-}\n",
                  kExitInput, "Node n1: metadata.labels[\"disk\"]"},
        // Over a per-object limit of the server: the object, not a hint
        // to raise request limits.
        ErrorCase{"LabelsOverThePerObjectLimit", ManyLabelsNode(1001),
                  kExitInput,
                  "LabelsOverThePerObjectLimit.yaml: Node n1: "
                  "metadata.labels: 1001 entries exceed the limit of 1000 per "
                  "object\n"}),
    dsd::testing::ParamName<ErrorCase>);

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
  int code = -1;  // the exit status, or 128 + the signal that ended it
  std::string out;
  std::string err;
};

struct BinaryOptions {
  std::string stdin_path = "/dev/null";
  // RLIMIT_AS in bytes for the child; 0: unlimited. AddressSanitizer
  // reserves terabytes of address space, so tests that set it skip there.
  rlim_t address_space = 0;
  // Added to the child's environment ("NAME=value"). The child never sees
  // the developer's cluster: KUBECONFIG and KUBERNETES_SERVICE_HOST/PORT
  // are removed and HOME is an empty folder, unless set here.
  std::vector<std::string> env;
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The binary under test: this build's dsdctl, or $DSD_DSDCTL_UNDER_TEST
// (to check that these tests fail against another build, an older one).
std::string DsdctlPath() {
  const char* other = std::getenv("DSD_DSDCTL_UNDER_TEST");
  return other != nullptr && *other != '\0' ? other : DSD_DSDCTL;
}

// Runs the dsdctl binary with `args` (no shell), stdout and stderr kept
// apart.
BinaryRun RunDsdctl(const std::vector<std::string>& args,
                    const BinaryOptions& options = {}) {
  const std::string base =
      ::testing::TempDir() + "/dsdctl_run_" + std::to_string(::getpid());
  const std::string out_path = base + ".out";
  const std::string err_path = base + ".err";
  std::vector<std::string> argv_storage = {DsdctlPath()};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  // The environment is built before fork (the test process has threads).
  const std::string home = base + ".home";
  std::filesystem::create_directories(home);
  std::set<std::string> replaced = {"HOME", "KUBECONFIG",
                                    "KUBERNETES_SERVICE_HOST",
                                    "KUBERNETES_SERVICE_PORT"};
  std::vector<std::string> env_storage = options.env;
  bool home_set = false;
  for (const std::string& e : options.env) {
    const std::string name = e.substr(0, e.find('='));
    replaced.insert(name);
    home_set = home_set || name == "HOME";
  }
  if (!home_set) env_storage.push_back("HOME=" + home);
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    if (replaced.count(entry.substr(0, entry.find('='))) == 0) {
      env_storage.push_back(entry);
    }
  }
  std::vector<char*> envp;
  for (std::string& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (options.address_space > 0) {
      const rlimit limit{options.address_space, options.address_space};
      ::setrlimit(RLIMIT_AS, &limit);
    }
    const int in = ::open(options.stdin_path.c_str(), O_RDONLY);
    const int out =
        ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err =
        ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0 || err < 0) ::_exit(127);
    ::dup2(in, STDIN_FILENO);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(err, STDERR_FILENO);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  BinaryRun r;
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid) return r;
  r.code = WIFEXITED(status)     ? WEXITSTATUS(status)
           : WIFSIGNALED(status) ? 128 + WTERMSIG(status)
                                 : -1;
  r.out = ReadAll(out_path);
  r.err = ReadAll(err_path);
  std::error_code ignored;
  std::filesystem::remove(out_path, ignored);
  std::filesystem::remove(err_path, ignored);
  std::filesystem::remove_all(home, ignored);
  return r;
}

// Whether `text` holds a control byte other than the newline ending a line.
bool HasControlByte(const std::string& text) {
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && u != '\n') || u == 0x7F) return true;
  }
  return false;
}

class DsdctlBinaryTest : public DsdctlTest {
 protected:
  std::string Server() const { return Connection().server; }
  // `dsdctl --server ADDRESS decide ARGS...`: the server flag where every
  // version took it, so each test fails only for the behaviour it tests.
  // `global` goes before `decide` too.
  std::vector<std::string> Decide(
      const std::vector<std::string>& args,
      const std::vector<std::string>& global = {}) const {
    std::vector<std::string> out = {"--server", Server()};
    out.insert(out.end(), global.begin(), global.end());
    out.push_back("decide");
    out.insert(out.end(), args.begin(), args.end());
    return out;
  }
};

TEST_F(DsdctlBinaryTest, PrintsContractJsonWhenNotATerminal) {
  const BinaryRun r = RunDsdctl({"--server", Server(), "decide", "--now", kNow,
                                 "-f", Example("02-after-relabel.yaml")});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto plan = nlohmann::json::parse(r.out);  // json: stdout is a pipe
  EXPECT_EQ(plan["daemonSets"][0]["delete"][0]["reason"],
            "NodeAffinityMismatch");
}

TEST_F(DsdctlBinaryTest, UsageErrorExitsTwo) {
  // Neither -f nor a kubeconfig: nothing says what to read.
  EXPECT_EQ(RunDsdctl({"decide"}).code, 2);
  EXPECT_EQ(RunDsdctl({"decide", "-o", "xml", "-f", "x"}).code, 2);
}

TEST_F(DsdctlBinaryTest, Version) {
  const BinaryRun r = RunDsdctl({"version"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("dsdctl"), std::string::npos);
}

// kubectl takes its global flags anywhere; so does dsdctl (the plan
// contract writes `dsdctl decide --server HOST:PORT -f FILE`).
TEST_F(DsdctlBinaryTest, ConnectionFlagsBeforeOrAfterTheCommand) {
  const std::string file = Example("02-after-relabel.yaml");
  const std::vector<std::vector<std::string>> placements = {
      {"--server", Server(), "--timeout", "60", "decide", "--now", kNow, "-f",
       file},
      {"decide", "--server", Server(), "--timeout", "60", "--now", kNow, "-f",
       file},
      {"decide", "--now", kNow, "-f", file, "--server", Server(), "--timeout",
       "60"},
      {"--timeout", "60", "decide", "-f", file, "--now", kNow, "--server",
       Server()},
      {"explain", "-f", file, "--now", kNow, "--server", Server(), "-o",
       "json"},
  };
  for (const std::vector<std::string>& args : placements) {
    std::string line;
    for (const std::string& a : args) line += a + " ";
    SCOPED_TRACE(line);
    const BinaryRun r = RunDsdctl(args);
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(nlohmann::json::accept(r.out)) << r.out;
  }
}

TEST_F(DsdctlBinaryTest, EveryCommandsHelpListsTheConnectionFlags) {
  for (const char* command : {"decide", "explain", "load", "version"}) {
    SCOPED_TRACE(command);
    const BinaryRun r = RunDsdctl({command, "--help"});
    EXPECT_EQ(r.code, 0);
    for (const char* flag :
         {"--server", "--timeout", "--tls_ca", "--tls_cert", "--tls_key"}) {
      EXPECT_NE(r.out.find(flag), std::string::npos) << flag << "\n" << r.out;
    }
  }
}

TEST_F(DsdctlBinaryTest, UnknownArgumentIsNamedAsTyped) {
  struct Row {
    std::vector<std::string> args;
    std::string message;
  };
  for (const Row& row : {
           Row{{"decide", "-f", "x.yaml", "--bogus", "1"},
               "error: unknown flag \"--bogus\" for \"dsdctl decide\""},
           Row{{"--bogus", "decide", "-f", "x.yaml"},
               "error: unknown flag \"--bogus\" for \"dsdctl\""},
           Row{{"decid", "-f", "x.yaml"},
               "error: unknown command \"decid\" for \"dsdctl\""},
           Row{{"explain", "-f", "x.yaml", "--node", "n1", "extra"},
               "error: unexpected argument \"extra\" for \"dsdctl "
               "explain\""},
       }) {
    SCOPED_TRACE(row.message);
    const BinaryRun r = RunDsdctl(row.args);
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find(row.message), std::string::npos) << r.err;
  }
}

// TLS fails closed: a TLS flag that cannot be used is a usage error naming
// it, never a plaintext or system-roots connection.
TEST_F(DsdctlBinaryTest, TlsFlagsThatCannotBeUsedAreUsageErrors) {
  const std::string dir = ::testing::TempDir();
  const std::string empty_pem = TempFile("empty.pem", "");
  const std::string not_pem = TempFile("not.pem", "hello\n");
  struct Row {
    std::vector<std::string> flags;
    std::string message;
  };
  for (const Row& row : {
           Row{{"--tls_key", "/nonexistent/key.pem"},
               "error: --tls_key /nonexistent/key.pem given without "
               "--tls_cert"},
           Row{{"--tls_cert", not_pem},
               "error: --tls_cert " + not_pem + " given without --tls_key"},
           Row{{"--tls_ca", dir},
               "error: --tls_ca " + dir + ": not a regular file"},
           Row{{"--tls_ca", "/dev/null"},
               "error: --tls_ca /dev/null: not a regular file"},
           Row{{"--tls_ca", "/nonexistent/ca.pem"},
               "error: --tls_ca /nonexistent/ca.pem: cannot read: No such "
               "file or directory"},
           Row{{"--tls_ca", empty_pem},
               "error: --tls_ca " + empty_pem + ": holds no PEM certificate"},
           Row{{"--tls_cert", not_pem, "--tls_key", not_pem},
               "error: --tls_cert " + not_pem + ": holds no PEM certificate"},
       }) {
    SCOPED_TRACE(row.message);
    const BinaryRun r =
        RunDsdctl(Decide({"-f", Example("01-cluster.yaml")}, row.flags));
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find(row.message), std::string::npos) << r.err;
  }
}

// Any TLS flag turns TLS on: with usable PEM files, a plaintext server
// cannot be reached (exit 3), whichever of the flags is given.
TEST_F(DsdctlBinaryTest, AnyTlsFlagTurnsTlsOn) {
  const std::string dir =
      ::testing::TempDir() + "/dsdctl_tls_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  const std::string cert = dir + "/cert.pem";
  const std::string key = dir + "/key.pem";
  const std::string make =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 "
      "-subj /CN=dsd-test -keyout " +
      key + " -out " + cert + " >/dev/null 2>&1";
  if (std::system(make.c_str()) != 0) GTEST_SKIP() << "no openssl";
  for (const std::vector<std::string>& flags :
       {std::vector<std::string>{"--tls_ca", cert},
        std::vector<std::string>{"--tls_cert", cert, "--tls_key", key}}) {
    SCOPED_TRACE(flags[0]);
    std::vector<std::string> global = flags;
    global.insert(global.end(), {"--timeout", "5"});
    const BinaryRun r =
        RunDsdctl(Decide({"-f", Example("01-cluster.yaml")}, global));
    EXPECT_EQ(r.code, 3) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find(Server()), std::string::npos) << r.err;
  }
  std::filesystem::remove_all(dir);
}

// Empty input is a mistake, as kubectl's "no objects passed to apply".
TEST_F(DsdctlBinaryTest, NoObjectsIsAnInputError) {
  const std::string empty = TempFile("empty.yaml", "");
  const std::string blank = TempFile("blank.yaml", "  \n\t\n# comment\n---\n");
  const std::string list = TempFile("list.json", R"({"kind": "List",
      "apiVersion": "v1", "items": []})");
  struct Row {
    std::vector<std::string> args;
    std::string message;
  };
  for (const Row& row : {
           Row{{"-f", empty}, "error: no objects in " + empty + "\n"},
           Row{{"-f", blank}, "error: no objects in " + blank + "\n"},
           Row{{"-f", list}, "error: no objects in " + list + "\n"},
           Row{{"-f", "-"}, "error: no objects in <stdin>\n"},
           Row{{"-f", empty, "-f", blank},
               "error: no objects in " + empty + ", " + blank + "\n"},
       }) {
    SCOPED_TRACE(row.message);
    const BinaryRun r = RunDsdctl(Decide(row.args));
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, row.message);
  }
}

TEST_F(DsdctlBinaryTest, InputOverMaxInputBytesIsTooLarge) {
  const std::string file = Example("01-cluster.yaml");
  struct Row {
    std::vector<std::string> args;
    std::string message;
  };
  for (const Row& row : {
           Row{{"-f", file, "--max_input_bytes", "100"},
               "error: " + file +
                   ": too large to load (the input passes 100 bytes in "
                   "total; --max_input_bytes raises the limit)\n"},
           Row{{"-f", "/dev/zero", "--max_input_bytes", "1048576"},
               "error: /dev/zero: too large to load (the input passes 1 MiB "
               "in total; --max_input_bytes raises the limit)\n"},
       }) {
    SCOPED_TRACE(row.message);
    const BinaryRun r = RunDsdctl(Decide(row.args));
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, row.message);
  }
}

// Under a memory limit, endless input or aliases multiplying a large scalar
// end in an input error, never std::bad_alloc's abort (exit 134).
TEST_F(DsdctlBinaryTest, OutOfMemoryIsAnInputErrorNotAnAbort) {
  if (::dsd::testing::UnderAddressSanitizer()) {
    GTEST_SKIP() << "RLIMIT_AS and AddressSanitizer's shadow memory clash";
  }
  std::string aliases =
      "big: &big " + std::string(1'000'000, 'x') + "\nmany: [";
  for (int i = 0; i < 1000; ++i) aliases += (i == 0 ? "*big" : ", *big");
  const std::string alias_file = TempFile("aliases.yaml", aliases + "]\n");
  struct Row {
    std::vector<std::string> args;
    std::string stdin_path;
    std::string message;
  };
  for (const Row& row : {
           Row{{"-f", "/dev/zero"},
               "/dev/null",
               "error: /dev/zero: too large to load (out of memory after "
               "reading "},
           Row{{"-f", "-"},
               "/dev/zero",
               "error: <stdin>: too large to load (out of memory after "
               "reading "},
           Row{{"-f", alias_file},
               "/dev/null",
               "error: " + alias_file +
                   ": too large to load (YAML aliases expand it past "},
       }) {
    SCOPED_TRACE(row.message);
    const BinaryRun r =
        RunDsdctl(Decide(row.args),
                  {row.stdin_path, /*address_space=*/rlim_t{512} << 20, {}});
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err.rfind(row.message, 0), 0u) << r.err;
  }
}

// Input-error messages a person can act on, through the binary: where and
// why, no raw control bytes, numbers as written, nothing on stdout.
TEST_F(DsdctlBinaryTest, InputErrorsArePrintableAndPrecise) {
  std::string deep = "kind: Node\nmetadata: " + std::string(3000, '[') +
                     std::string(3000, ']') + "\n";
  struct Row {
    std::string name;
    std::string text;
    std::string message;  // after "error: FILE: "
  };
  for (const Row& row : {
           Row{"deep.yaml", deep,
               "invalid YAML at line 2, column 6011: nested too deeply to "
               "parse"},
           Row{"binary.yaml",
               std::string("kind: Node\nmetadata: {name: "
                           "\"a\\0b\\x1b[2J\"}\nspec: 7\n"),
               "Node a\\x00b\\x1B[2J: spec: must be a map, got 7"},
           Row{"nul.yaml",
               std::string("kind: Node\nmetadata: {name: \0}\n", 31),
               "invalid YAML at line 2, column 18: control character 0x00 is "
               "not allowed (binary input?)"},
           Row{"utf8.yaml",
               "apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\n"
               "  labels: {zone: \"eu\xff\"}\n",
               "Node n1: metadata.labels[\"zone\"]: the value is not UTF-8 "
               "(byte 0xFF at offset 2)"},
           Row{"generation.yaml",
               "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: ds, "
               "generation: 1e32}\n",
               "DaemonSet default/ds: metadata.generation: must be an "
               "integer, got 1e32"},
       }) {
    SCOPED_TRACE(row.name);
    const std::string path = TempFile(row.name, row.text);
    const BinaryRun r = RunDsdctl(Decide({"-f", path}));
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_FALSE(HasControlByte(r.err)) << r.err;
    EXPECT_NE(r.err.find("error: " + path + ": " + row.message),
              std::string::npos)
        << r.err;
  }
}

// JSON is YAML: YAML's flow style is read even though it starts with '{'.
TEST_F(DsdctlBinaryTest, YamlFlowStyleIsRead) {
  const std::string path =
      TempFile("flow.yaml",
               "{kind: List, apiVersion: v1, items: [\n"
               "  {kind: Node, apiVersion: v1, metadata: {name: n1}},\n"
               "  {kind: DaemonSet, apiVersion: apps/v1,\n"
               "   metadata: {name: agent, namespace: ops},\n"
               "   spec: {selector: {matchLabels: {app: agent}},\n"
               "          template: {metadata: {labels: {app: agent}}}}}]}\n");
  const BinaryRun r = RunDsdctl(Decide({"--now", kNow, "-f", path}));
  ASSERT_EQ(r.code, 0) << r.err;
  const auto plan = nlohmann::json::parse(r.out);
  EXPECT_EQ(plan["daemonSets"][0]["name"], "agent");
  EXPECT_EQ(plan["daemonSets"][0]["create"][0]["node"], "n1");
}

// --- Issue 19: dsd's own features from annotations and flags, through the
// real binary. ---------------------------------------------------------------

std::string RolloutExample(const std::string& name) {
  return std::string(DSD_EXAMPLES_DIR) + "/rollout/" + name;
}

// The hand-checked rollout plans, this time from the binary.
TEST_F(DsdctlBinaryTest, RolloutAnnotationsGiveTheHandCheckedPlans) {
  for (const char* step : {"01-canary", "02-partition", "03-paused"}) {
    SCOPED_TRACE(step);
    const BinaryRun r = RunDsdctl(Decide(
        {"--now", kNow, "-f", RolloutExample(std::string(step) + ".yaml")}));
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    ExpectSubset(nlohmann::json::parse(ReadFile(std::string(DSD_GOLDEN_DIR) +
                                                "/" + step + ".json")),
                 nlohmann::json::parse(r.out), "$");
  }
}

// The canary example with its dsd.dev/ annotation line replaced.
std::string CanaryWith(const std::string& annotation_line) {
  std::string text = ReadFile(RolloutExample("01-canary.yaml"));
  const std::string old =
      "    dsd.dev/rollout-node-selector: \"canary=true\"\n";
  const size_t at = text.find(old);
  EXPECT_NE(at, std::string::npos);
  return text.replace(at, old.size(), annotation_line);
}

TEST_F(DsdctlBinaryTest, MalformedRolloutAnnotationsAreInputErrors) {
  struct Row {
    std::string name;
    std::string annotation_line;
    std::string message;  // after "error: FILE: DaemonSet ops/agent: "
  };
  const std::string partition =
      "metadata.annotations[\"dsd.dev/rollout-partition\"]: must be a number "
      "of nodes (0 or more) or a percentage like \"20%\", got ";
  const std::string selector =
      "metadata.annotations[\"dsd.dev/rollout-node-selector\"]: must be a "
      "label selector like \"zone in (a,b),!canary-excluded\": ";
  for (const Row& row : {
           Row{"partition-word", "    dsd.dev/rollout-partition: two\n",
               partition + "\"two\""},
           Row{"partition-negative", "    dsd.dev/rollout-partition: \"-1\"\n",
               partition + "\"-1\""},
           Row{"partition-over-100", "    dsd.dev/rollout-partition: 101%\n",
               partition + "\"101%\""},
           Row{"paused-yes", "    dsd.dev/rollout-paused: \"yes\"\n",
               "metadata.annotations[\"dsd.dev/rollout-paused\"]: must be "
               "\"true\" or \"false\", got \"yes\""},
           Row{"selector-unclosed",
               "    dsd.dev/rollout-node-selector: zone in (a,b\n",
               selector + "expected , or ) in the values of \"zone\" at "
                          "the end, got \"zone in (a,b\""},
           Row{"selector-gt", "    dsd.dev/rollout-node-selector: zone>3\n",
               selector + "operator > is not allowed in a label selector at "
                          "position 5, got \"zone>3\""},
           Row{"selector-empty", "    dsd.dev/rollout-node-selector: \"\"\n",
               selector + "is empty (it would select every node), got \"\""},
       }) {
    SCOPED_TRACE(row.name);
    const std::string path =
        TempFile(row.name + ".yaml", CanaryWith(row.annotation_line));
    const BinaryRun r = RunDsdctl(Decide({"--now", kNow, "-f", path}));
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, "error: " + path +
                         ": DaemonSet ops/agent: " + row.message + "\n");
  }
}

// A selector that parses but that Kubernetes would reject (a value that is
// not a label value) is caught by the server and named by its annotation.
TEST_F(DsdctlBinaryTest, ServerRejectionOfASelectorNamesTheAnnotation) {
  const std::string path = TempFile(
      "bad-value.yaml",
      CanaryWith("    dsd.dev/rollout-node-selector: zone in (-a-)\n"));
  const BinaryRun r = RunDsdctl(Decide({"--now", kNow, "-f", path}));
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("error: " + path +
                       ": DaemonSet ops/agent: metadata.annotations[\"dsd.dev/"
                       "rollout-node-selector\"]: "),
            std::string::npos)
      << r.err;
}

TEST_F(DsdctlBinaryTest, UnknownDsdAnnotationIsAWarning) {
  const std::string path =
      TempFile("unknown.yaml", CanaryWith("    dsd.dev/rollout-speed: fast\n"));
  const BinaryRun r = RunDsdctl(Decide({"--now", kNow, "-f", path}));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "warning: " + path +
                       ": DaemonSet ops/agent: metadata.annotations[\"dsd.dev/"
                       "rollout-speed\"]: unknown dsd annotation, ignored "
                       "(dsdctl reads dsd.dev/rollout-partition, "
                       "dsd.dev/rollout-paused and "
                       "dsd.dev/rollout-node-selector)\n");
  // Without the node selector every node takes part: two old pods go.
  const auto plan = nlohmann::json::parse(r.out);
  EXPECT_EQ(plan["daemonSets"][0]["delete"].size(), 2u) << r.out;
}

TEST(DecideOptionsTest, NewestKubernetesVersionIsTheEngines) {
  EXPECT_EQ(kNewestKubernetesMinor, engine::kCurrentKubernetesMinor);
}

// The kube-style decision flags reach the request, on every command, and
// `decide -o json` echoes them.
TEST_F(DsdctlBinaryTest, DecisionFlagsReachTheRequestAndAreEchoed) {
  struct Row {
    std::vector<std::string> flags;
    std::string field;
    nlohmann::json value;
  };
  const std::string file = Example("01-cluster.yaml");
  for (const Row& row : {
           Row{{"--kubernetes-version", "1.29"}, "kubernetesMinor", 29},
           Row{{"--kubernetes-version", "v1.8.15"}, "kubernetesMinor", 8},
           Row{{"--feature-gates", "TaintTolerationComparisonOperators=true"},
               "tolerationComparisonOperators",
               true},
           Row{{"--taint-eviction"}, "taintEviction", true},
           Row{{"--one-sync"}, "oneSync", true},
       }) {
    SCOPED_TRACE(row.flags[0]);
    std::vector<std::string> args = {"--now", kNow, "-f", file};
    args.insert(args.end(), row.flags.begin(), row.flags.end());
    const BinaryRun decide = RunDsdctl(Decide(args));
    ASSERT_EQ(decide.code, 0) << decide.err;
    const auto plan = nlohmann::json::parse(decide.out);
    EXPECT_EQ(plan["options"][row.field], row.value) << decide.out;
    EXPECT_TRUE(plan.contains("daemonSets"));

    std::vector<std::string> explain = {"--server", Server(), "explain", "-o",
                                        "json"};
    explain.insert(explain.end(), args.begin(), args.end());
    const BinaryRun e = RunDsdctl(explain);
    EXPECT_EQ(e.code, 0) << e.err;

    // load writes the request it would send: the options are in it.
    const std::string request = ::testing::TempDir() + "/dsdctl_options_" +
                                std::to_string(::getpid()) + ".bin";
    std::vector<std::string> load = {"load", "--write-request", request};
    load.insert(load.end(), args.begin(), args.end());
    const BinaryRun l = RunDsdctl(load);
    ASSERT_EQ(l.code, 0) << l.err;
    v1::DecideRequest sent;
    const std::string request_bytes = ReadFile(request);
    std::filesystem::remove(request);
    ASSERT_TRUE(sent.ParseFromString(request_bytes));
    std::string sent_json;
    ASSERT_TRUE(
        google::protobuf::util::MessageToJsonString(sent.options(), &sent_json)
            .ok());
    const auto sent_options = nlohmann::json::parse(sent_json);
    EXPECT_EQ(sent_options[row.field], row.value) << sent_json;
  }
}

TEST_F(DsdctlBinaryTest, MalformedDecisionFlagsAreUsageErrors) {
  struct Row {
    std::vector<std::string> flags;
    std::string message;
  };
  for (const Row& row : {
           Row{{"--kubernetes-version", "1.7"},
               "error: --kubernetes-version 1.7: dsd emulates 1.8 to 1.35"},
           Row{{"--kubernetes-version", "1.36"},
               "error: --kubernetes-version 1.36: dsd emulates 1.8 to 1.35"},
           Row{{"--kubernetes-version", "2.1"},
               "error: --kubernetes-version 2.1: dsd emulates 1.8 to 1.35"},
           Row{{"--kubernetes-version", "latest"},
               "error: --kubernetes-version latest: not a Kubernetes version "
               "like 1.29"},
           Row{{"--feature-gates", "SidecarContainers=true"},
               "error: --feature-gates: unrecognized feature gate "
               "\"SidecarContainers\""},
           Row{{"--feature-gates", "TaintTolerationComparisonOperators=yes"},
               "error: --feature-gates: TaintTolerationComparisonOperators "
               "must be =true or =false, got "
               "\"TaintTolerationComparisonOperators=yes\""},
       }) {
    for (const char* command : {"decide", "explain", "load"}) {
      SCOPED_TRACE(row.message + " / " + command);
      std::vector<std::string> args = {command, "-f",
                                       Example("01-cluster.yaml")};
      args.insert(args.end(), row.flags.begin(), row.flags.end());
      const BinaryRun r = RunDsdctl(args);
      EXPECT_EQ(r.code, 2) << r.err;
      EXPECT_EQ(r.out, "");
      EXPECT_EQ(r.err.rfind(row.message, 0), 0u) << r.err;
    }
  }
}

// --- A live cluster: the fake API server, the real dsd-server binary ----

// A kubeconfig at `path` whose current context "fake" reads `server`, with
// `ns` as the context's namespace and `user` as the user's body.
std::string WriteKubeconfig(const std::string& path, const std::string& server,
                            const std::string& ns = "",
                            const std::string& user = "{}") {
  std::ofstream(path) << "apiVersion: v1\nkind: Config\ncurrent-context: fake\n"
                         "clusters:\n- name: fake\n  cluster:\n    server: "
                      << server << "\nusers:\n- name: fake\n  user: " << user
                      << "\ncontexts:\n- name: fake\n  context:\n"
                         "    cluster: fake\n    user: fake\n"
                      << (ns.empty() ? "" : "    namespace: " + ns + "\n");
  return path;
}

// The set of "namespace/name" of a plan's (or explanation's) DaemonSets.
std::set<std::string> PlanDaemonSets(const std::string& json) {
  std::set<std::string> out;
  const auto plan = nlohmann::json::parse(json, nullptr, false);
  if (!plan.is_object() || !plan.contains("daemonSets")) return out;
  for (const auto& ds : plan["daemonSets"]) {
    out.insert(ds.value("namespace", "") + "/" + ds.value("name", ""));
  }
  return out;
}

class DsdctlLiveTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dsd_server_ = std::make_unique<transport::testing::ServerProcess>(
        std::vector<std::string>{"--listen", "127.0.0.1:0"});
    address_ = dsd_server_->WaitForAddress(std::chrono::seconds(20));
  }
  static void TearDownTestSuite() { dsd_server_.reset(); }

  void SetUp() override {
    ASSERT_FALSE(address_.empty()) << dsd_server_->Stderr();
    static int n = 0;
    dir_ = ::testing::TempDir() + "dsdctl_live_" + std::to_string(::getpid()) +
           "_" + std::to_string(n++);
    std::filesystem::create_directories(dir_);
    api_ = dsd::testing::FakeApiServer::Start();
    ASSERT_NE(api_, nullptr);
    kubeconfig_ = WriteKubeconfig(dir_ + "/kubeconfig", api_->url());
  }

  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  void LoadExample(const std::string& example) {
    api_->Load(ReadFile(std::string(DSD_EXAMPLES_DIR) + "/" + example));
  }

  // dsdctl --server ADDRESS COMMAND ARGS..., with `env` added.
  BinaryRun Run(const std::string& command, std::vector<std::string> args,
                std::vector<std::string> env = {}) const {
    std::vector<std::string> all = {"--server", address_, command};
    all.insert(all.end(), args.begin(), args.end());
    BinaryOptions options;
    options.env = std::move(env);
    return RunDsdctl(all, options);
  }

  // The live `decide --now kNow --kubeconfig K ARGS...`.
  BinaryRun LiveDecide(std::vector<std::string> args) const {
    std::vector<std::string> all = {"--now", kNow, "--kubeconfig", kubeconfig_};
    all.insert(all.end(), args.begin(), args.end());
    return Run("decide", all);
  }

  // No POST, PUT, PATCH or DELETE reached the API server.
  void ExpectReadOnly() const {
    for (const dsd::testing::LoggedRequest& r : api_->Log()) {
      EXPECT_EQ(r.method, "GET") << r.target;
    }
  }

  static inline std::unique_ptr<transport::testing::ServerProcess> dsd_server_;
  static inline std::string address_;
  std::string dir_, kubeconfig_;
  std::unique_ptr<dsd::testing::FakeApiServer> api_;
};

struct LiveCase {
  std::string name;
  std::string example;  // under examples/
  std::vector<std::string> flags;
  bool kubeconfig_from_env = false;  // KUBECONFIG instead of --kubeconfig
};

void PrintTo(const LiveCase& c, std::ostream* os) { *os << c.name; }

class LiveEqualsFileTest : public DsdctlLiveTest,
                           public ::testing::WithParamInterface<LiveCase> {};

// The cluster holding an example's objects gives, byte for byte, the plan
// and the explanation of the example's file.
TEST_P(LiveEqualsFileTest, LiveDecideAndExplainAreThoseOfTheFile) {
  const LiveCase& c = GetParam();
  LoadExample(c.example);
  const std::string file = std::string(DSD_EXAMPLES_DIR) + "/" + c.example;
  std::vector<std::string> live_args = {"--now", kNow, "-A"};
  std::vector<std::string> env;
  if (c.kubeconfig_from_env) {
    // Several files, a missing one skipped, as kubectl merges them.
    env.push_back("KUBECONFIG=" + dir_ + "/missing:" + kubeconfig_);
  } else {
    live_args.insert(live_args.end(), {"--kubeconfig", kubeconfig_});
  }
  live_args.insert(live_args.end(), c.flags.begin(), c.flags.end());
  for (const char* command : {"decide", "explain"}) {
    SCOPED_TRACE(command);
    const BinaryRun want =
        Run(command, {"--now", kNow, "-f", file, "-o", "json"});
    ASSERT_EQ(want.code, 0) << want.err;
    std::vector<std::string> args = live_args;
    args.insert(args.end(), {"-o", "json"});
    const BinaryRun live = Run(command, args, env);
    ASSERT_EQ(live.code, 0) << live.err;
    EXPECT_FALSE(PlanDaemonSets(live.out).empty()) << live.out;
    EXPECT_EQ(live.out, want.out);
    EXPECT_EQ(live.err, "");  // no progress noise when stderr is a pipe
  }
  const std::vector<dsd::testing::LoggedRequest> log = api_->Log();
  ASSERT_FALSE(log.empty());
  EXPECT_EQ(log.front().user_agent.rfind("dsdctl/", 0), 0u)
      << log.front().user_agent;
  int continued = 0;
  for (const dsd::testing::LoggedRequest& r : log) {
    continued += r.target.find("continue=") != std::string::npos;
  }
  if (std::find(c.flags.begin(), c.flags.end(), "--chunk-size") !=
      c.flags.end()) {
    EXPECT_GT(continued, 0) << "--chunk-size 1 lists page by page";
  } else {
    EXPECT_EQ(continued, 0);  // 500 a page: one page per kind here
  }
  ExpectReadOnly();
}

INSTANTIATE_TEST_SUITE_P(
    Examples, LiveEqualsFileTest,
    ::testing::Values(
        LiveCase{"SsdMonitor", "ssd-monitor/01-cluster.yaml", {}},
        LiveCase{"AfterRelabel", "ssd-monitor/02-after-relabel.yaml", {}},
        LiveCase{"RolloutCanary", "rollout/01-canary.yaml", {}},
        LiveCase{"OneObjectPerPage",
                 "ssd-monitor/01-cluster.yaml",
                 {"--chunk-size", "1"}},
        LiveCase{"KubeconfigFromEnv", "ssd-monitor/01-cluster.yaml", {}, true}),
    dsd::testing::ParamName<LiveCase>);

// dsdctl snapshot writes a kubectl List (docs: cluster-integration §2.6)
// that decide -f turns into the live plan, byte for byte; objects are
// slimmed as documented.
TEST_F(DsdctlLiveTest, SnapshotThenDecideFileIsTheLivePlan) {
  LoadExample("ssd-monitor/01-cluster.yaml");
  // A fifth node with what a real one carries and dsd never reads.
  api_->Apply(nlohmann::json::parse(R"({
    "apiVersion": "v1", "kind": "Node",
    "metadata": {"name": "k8s-node9",
      "labels": {"disk": "ssd", "kubernetes.io/hostname": "k8s-node9"},
      "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}",
                      "team": "storage"},
      "managedFields": [{"manager": "kubelet", "operation": "Update"}]},
    "spec": {},
    "status": {"conditions": [{"type": "Ready", "status": "True"}],
               "images": [{"names": ["registry/agent:1"], "sizeBytes": 1}]}
  })"));
  const BinaryRun live = LiveDecide({"-A"});
  ASSERT_EQ(live.code, 0) << live.err;
  // k8s-node9 is an ssd node: ssd-monitor creates a pod there too.
  EXPECT_NE(live.out.find("k8s-node9"), std::string::npos) << live.out;

  const BinaryRun out = Run("snapshot", {"--kubeconfig", kubeconfig_, "-A"});
  ASSERT_EQ(out.code, 0) << out.err;
  EXPECT_EQ(out.err, "");
  const std::string path = dir_ + "/snapshot.json";
  const BinaryRun to_file = Run("snapshot", {"--kubeconfig", kubeconfig_, "-A",
                                             "--output-file", path, "-v"});
  ASSERT_EQ(to_file.code, 0) << to_file.err;
  EXPECT_EQ(to_file.out, "");
  EXPECT_EQ(ReadFile(path), out.out);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  for (const char* line : {"listed 5 nodes in 1 page", "listed 2 daemonsets",
                           "listed 3 pods", "listed 2 controllerrevisions"}) {
    EXPECT_NE(to_file.err.find(line), std::string::npos) << to_file.err;
  }

  const auto list = nlohmann::json::parse(out.out);
  EXPECT_EQ(list["apiVersion"], "v1");
  EXPECT_EQ(list["kind"], "List");
  EXPECT_EQ(list["metadata"]["resourceVersion"], "");
  std::map<std::string, int> kinds;
  for (const auto& item : list["items"]) {
    const std::string pair =
        item.value("apiVersion", "?") + "/" + item.value("kind", "?");
    ++kinds[pair];
    if (item["metadata"]["name"] == "k8s-node9") {
      EXPECT_FALSE(item["metadata"].contains("managedFields"));
      EXPECT_FALSE(item["status"].contains("images"));
      EXPECT_EQ(item["metadata"]["annotations"],
                nlohmann::json({{"team", "storage"}}));
      EXPECT_EQ(item["metadata"]["labels"]["disk"], "ssd");
    }
    if (item.value("kind", "") == "Pod") {
      EXPECT_FALSE(item["spec"].contains("containers")) << item.dump();
    }
  }
  // The example's objects and the fifth node, each with its apiVersion.
  EXPECT_EQ(kinds,
            (std::map<std::string, int>{{"v1/Node", 5},
                                        {"apps/v1/DaemonSet", 2},
                                        {"v1/Pod", 3},
                                        {"apps/v1/ControllerRevision", 2}}));

  const BinaryRun from_file = Run("decide", {"--now", kNow, "-f", path});
  ASSERT_EQ(from_file.code, 0) << from_file.err;
  EXPECT_EQ(from_file.out, live.out);
  ExpectReadOnly();
}

struct ScopeCase {
  std::string name;
  std::string context_namespace;  // the kubeconfig context's
  std::vector<std::string> flags;
  std::set<std::string> daemon_sets;  // in the plan
  std::string listed_namespace;       // of the namespaced lists; "": all
};

void PrintTo(const ScopeCase& c, std::ostream* os) { *os << c.name; }

class ScopeTest : public DsdctlLiveTest,
                  public ::testing::WithParamInterface<ScopeCase> {};

// -n/-A choose the DaemonSets (with their Pods and ControllerRevisions) as
// kubectl chooses its namespace; nodes are always all, so a DaemonSet's
// plan is the same scoped or not.
TEST_P(ScopeTest, NamespaceFlagsScopeDaemonSetsNotNodes) {
  const ScopeCase& c = GetParam();
  LoadExample("ssd-monitor/01-cluster.yaml");
  WriteKubeconfig(kubeconfig_, api_->url(), c.context_namespace);
  const BinaryRun all = LiveDecide({"-A"});
  ASSERT_EQ(all.code, 0) << all.err;
  const size_t requests_before = api_->Log().size();
  const BinaryRun scoped = LiveDecide(c.flags);
  ASSERT_EQ(scoped.code, 0) << scoped.err;
  EXPECT_EQ(PlanDaemonSets(scoped.out), c.daemon_sets) << scoped.out;
  // Each DaemonSet's entry is the one of the unscoped plan.
  const auto whole = nlohmann::json::parse(all.out);
  const auto part = nlohmann::json::parse(scoped.out);
  for (const auto& ds : part["daemonSets"]) {
    bool found = false;
    for (const auto& w : whole["daemonSets"]) {
      if (w["namespace"] == ds["namespace"] && w["name"] == ds["name"]) {
        EXPECT_EQ(ds, w);
        found = true;
      }
    }
    EXPECT_TRUE(found) << ds.dump();
  }
  if (c.daemon_sets.empty()) {
    EXPECT_NE(scoped.err.find("No DaemonSets found in " + c.listed_namespace +
                              " namespace"),
              std::string::npos)
        << scoped.err;
  }
  // What was asked of the API server: nodes cluster-wide, the rest scoped.
  const std::vector<dsd::testing::LoggedRequest> log = api_->Log();
  ASSERT_EQ(log.size(), requests_before + 4);
  const std::string in =
      c.listed_namespace.empty() ? "" : "/namespaces/" + c.listed_namespace;
  const std::vector<std::string> want = {
      "/api/v1/nodes?", "/apis/apps/v1" + in + "/daemonsets?",
      "/api/v1" + in + "/pods?",
      "/apis/apps/v1" + in + "/controllerrevisions?"};
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(log[requests_before + i].target.rfind(want[i], 0), 0u)
        << log[requests_before + i].target;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Flags, ScopeTest,
    ::testing::Values(
        ScopeCase{
            "DefaultNamespace", "", {}, {"default/ssd-monitor"}, "default"},
        ScopeCase{"ContextNamespace",
                  "kube-system",
                  {},
                  {"kube-system/fluentd-elasticsearch"},
                  "kube-system"},
        ScopeCase{"FlagOverContext",
                  "kube-system",
                  {"-n", "default"},
                  {"default/ssd-monitor"},
                  "default"},
        ScopeCase{"LongFlag",
                  "",
                  {"--namespace", "kube-system"},
                  {"kube-system/fluentd-elasticsearch"},
                  "kube-system"},
        ScopeCase{"AllNamespaces",
                  "kube-system",
                  {"--all-namespaces"},
                  {"default/ssd-monitor", "kube-system/fluentd-elasticsearch"},
                  ""},
        ScopeCase{"AllWinsOverNamespace",
                  "",
                  {"-n", "default", "-A"},
                  {"default/ssd-monitor", "kube-system/fluentd-elasticsearch"},
                  ""},
        ScopeCase{"EmptyNamespace", "", {"-n", "nowhere"}, {}, "nowhere"}),
    dsd::testing::ParamName<ScopeCase>);

struct LiveErrorCase {
  std::string name;
  std::string command;  // decide, explain or snapshot
  // {kubeconfig} and {dir} are replaced by the test's.
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::function<void(dsd::testing::FakeApiServer&, const std::string& dir)>
      setup;
  int code;
  std::vector<std::string> err;  // each in stderr
  bool reaches_api = true;       // false: no request at all
};

void PrintTo(const LiveErrorCase& c, std::ostream* os) { *os << c.name; }

class LiveErrorTest : public DsdctlLiveTest,
                      public ::testing::WithParamInterface<LiveErrorCase> {};

TEST_P(LiveErrorTest, ClearErrorDocumentedExitCodeNothingOnStdout) {
  const LiveErrorCase& c = GetParam();
  LoadExample("ssd-monitor/01-cluster.yaml");
  if (c.setup) c.setup(*api_, dir_);
  auto expand = [&](std::string s) {
    for (const auto& [key, value] :
         {std::pair<std::string, std::string>{"{kubeconfig}", kubeconfig_},
          {"{dir}", dir_}}) {
      for (size_t at; (at = s.find(key)) != std::string::npos;) {
        s.replace(at, key.size(), value);
      }
    }
    return s;
  };
  std::vector<std::string> args, env;
  for (const std::string& a : c.args) args.push_back(expand(a));
  for (const std::string& e : c.env) env.push_back(expand(e));
  const BinaryRun r = Run(c.command, args, env);
  EXPECT_EQ(r.code, c.code) << r.err;
  EXPECT_EQ(r.out, "");
  for (const std::string& want : c.err) {
    EXPECT_NE(r.err.find(expand(want)), std::string::npos)
        << "want: " << expand(want) << "\nstderr: " << r.err;
  }
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  if (!c.reaches_api) {
    EXPECT_TRUE(api_->Log().empty());
  }
  ExpectReadOnly();
}

void AddStatusFault(dsd::testing::FakeApiServer& api, const std::string& match,
                    int status, const std::string& reason) {
  dsd::testing::Fault f;
  f.match = match;
  f.times = 100;
  f.status = status;
  f.reason = reason;
  api.AddFault(f);
}

const LiveErrorCase kLiveErrorCases[] = {
    {"NoKubeconfigAnywhere",
     "decide",
     {},
     {},
     nullptr,
     kExitUsage,
     {"error: no input: pass -f FILE", "no --kubeconfig",
      "KUBECONFIG is not set", "/.kube/config does not exist",
      "KUBERNETES_SERVICE_HOST is not set"},
     false},
    {"NoKubeconfigAnywhereSnapshot",
     "snapshot",
     {},
     {},
     nullptr,
     kExitUsage,
     {"error: no input", "KUBECONFIG is not set"},
     false},
    {"KubeconfigFileMissing",
     "decide",
     {"--kubeconfig", "{dir}/nope"},
     {},
     nullptr,
     kExitInput,
     {"--kubeconfig {dir}/nope: not a readable"},
     false},
    {"NoFileOfKubeconfigEnv",
     "explain",
     {},
     {"KUBECONFIG={dir}/a:{dir}/b"},
     nullptr,
     kExitInput,
     {"KUBECONFIG={dir}/a:{dir}/b: none of its files"},
     false},
    {"UnknownContext",
     "decide",
     {"--kubeconfig", "{kubeconfig}", "--context", "nope"},
     {},
     nullptr,
     kExitInput,
     {"kubeconfig {kubeconfig}: context \"nope\" not found"},
     false},
    {"AuthProviderIsNotSupported",
     "snapshot",
     {"--kubeconfig", "{dir}/auth"},
     {},
     [](dsd::testing::FakeApiServer& api, const std::string& dir) {
       WriteKubeconfig(dir + "/auth", api.url(), "",
                       "{auth-provider: {name: oidc, config: {}}}");
     },
     kExitInput,
     {"user \"fake\": auth-provider \"oidc\" is not supported",
      "exec credential plugin"},
     false},
    {"UnreachableApiServer",
     "decide",
     {"--kubeconfig", "{dir}/down"},
     {},
     [](dsd::testing::FakeApiServer&, const std::string& dir) {
       WriteKubeconfig(dir + "/down", "http://127.0.0.1:1");
     },
     kExitInput,
     {"reading the cluster of kubeconfig {dir}/down (context fake)",
      "LIST http://127.0.0.1:1/api/v1/nodes",
      "is the API server at http://127.0.0.1:1 up"},
     false},
    {"Forbidden",
     "decide",
     {"--kubeconfig", "{kubeconfig}", "-A"},
     {},
     [](dsd::testing::FakeApiServer& api, const std::string&) {
       AddStatusFault(api, "", 403, "Forbidden");
     },
     kExitInput,
     {"/api/v1/nodes", "HTTP 403 Forbidden",
      "dsdctl needs get and list on nodes, pods, daemonsets.apps and "
      "controllerrevisions.apps"}},
    {"ForbiddenPodsOnly",
     "snapshot",
     {"--kubeconfig", "{kubeconfig}"},
     {},
     [](dsd::testing::FakeApiServer& api, const std::string&) {
       AddStatusFault(api, "/pods", 403, "Forbidden");
     },
     kExitInput,
     {"LIST http", "/api/v1/namespaces/default/pods", "HTTP 403"}},
    {"Unauthorized",
     "explain",
     {"--kubeconfig", "{kubeconfig}"},
     {},
     [](dsd::testing::FakeApiServer& api, const std::string&) {
       api.SetToken("secret");
     },
     kExitInput,
     {"HTTP 401", "credentials were refused"}},
    {"NotAList",
     "decide",
     {"--kubeconfig", "{kubeconfig}"},
     {},
     [](dsd::testing::FakeApiServer& api, const std::string&) {
       dsd::testing::Fault f;
       f.kind = dsd::testing::Fault::Kind::kGarbage;
       f.match = "/daemonsets";
       f.body = "[1,2]";
       api.AddFault(f);
     },
     kExitInput,
     {"/daemonsets", "not a JSON object"}},
    {"FileAndKubeconfig",
     "decide",
     {"-f", "{dir}/x.json", "--kubeconfig", "{kubeconfig}"},
     {},
     nullptr,
     kExitUsage,
     {"error: -f and --kubeconfig cannot be used together"},
     false},
    {"FileAndContext",
     "explain",
     {"--context", "fake", "-f", "{dir}/x.json"},
     {},
     nullptr,
     kExitUsage,
     {"error: -f and --context cannot be used"},
     false},
    {"FileAndAllNamespaces",
     "decide",
     {"-A", "-f", "{dir}/x.json"},
     {},
     nullptr,
     kExitUsage,
     {"error: -f and --all-namespaces cannot"},
     false},
    {"SnapshotFileUnwritable",
     "snapshot",
     {"--kubeconfig", "{kubeconfig}", "--output-file", "{dir}/no/such/x"},
     {},
     nullptr,
     kExitUsage,
     {"--output-file {dir}/no/such/x: cannot write"}},
    {"SnapshotHasNoFileFlag",
     "snapshot",
     {"-f", "{dir}/x.json"},
     {},
     nullptr,
     kExitUsage,
     {"error: unknown flag \"-f\""},
     false},
};

INSTANTIATE_TEST_SUITE_P(Cases, LiveErrorTest,
                         ::testing::ValuesIn(kLiveErrorCases),
                         dsd::testing::ParamName<LiveErrorCase>);

TEST_F(DsdctlBinaryTest, HelpTeachesTheClusterFlags) {
  for (const char* command : {"decide", "explain", "snapshot"}) {
    SCOPED_TRACE(command);
    const BinaryRun r = RunDsdctl({command, "--help"});
    EXPECT_EQ(r.code, 0);
    for (const char* flag :
         {"--kubeconfig", "--context", "-n,--namespace", "-A,--all-namespaces",
          "--chunk-size", "-v,--verbose", "KUBECONFIG",
          "Nodes are always all"}) {
      EXPECT_NE(r.out.find(flag), std::string::npos) << flag << "\n" << r.out;
    }
  }
  EXPECT_NE(RunDsdctl({"decide", "--help"})
                .out.find("Without -f the current kubeconfig context's "
                          "cluster is read"),
            std::string::npos);
  const std::string snapshot = RunDsdctl({"snapshot", "--help"}).out;
  for (const char* text : {"--output-file", "kubectl List", "get/list on"}) {
    EXPECT_NE(snapshot.find(text), std::string::npos) << text << snapshot;
  }
  EXPECT_NE(RunDsdctl({"--help"}).out.find("dsdctl snapshot"),
            std::string::npos);
}

// kubectl, where installed, as an independent client of the fake: its
// `get -o json` List gives the live plan too.
TEST_F(DsdctlLiveTest, KubectlListGivesTheLivePlan) {
  if (std::system("command -v kubectl >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "kubectl is not installed";
  }
  LoadExample("ssd-monitor/01-cluster.yaml");
  const std::string out = dir_ + "/kubectl.json";
  const std::string cmd =
      "kubectl --kubeconfig " + kubeconfig_ + " --cache-dir " + dir_ +
      "/kubectl-cache get nodes,daemonsets,pods,controllerrevisions -A -o "
      "json > " +
      out + " 2>" + out + ".err";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << ReadFile(out + ".err");
  const BinaryRun from_kubectl = Run("decide", {"--now", kNow, "-f", out});
  ASSERT_EQ(from_kubectl.code, 0) << from_kubectl.err;
  const BinaryRun live = LiveDecide({"-A"});
  ASSERT_EQ(live.code, 0) << live.err;
  EXPECT_EQ(live.out, from_kubectl.out);
}

}  // namespace
}  // namespace dsd::client
