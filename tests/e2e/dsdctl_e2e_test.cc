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

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "client/common/decide_options.h"
#include "client/dsdctl/commands.h"
#include "server/engine/taints.h"
#include "tests/testing/local_server.h"
#include "tests/testing/param_name.h"

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
                  kExitInput, "Node n1: metadata.labels[\"disk\"]"}),
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
    ::execv(argv[0], argv.data());
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
  return r;
}

bool UnderAddressSanitizer() {
#if defined(__SANITIZE_ADDRESS__)
  return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  return true;
#endif
#endif
  return false;
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
  EXPECT_EQ(RunDsdctl({"decide"}).code, 2);  // -f is required
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
  if (UnderAddressSanitizer()) {
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
                  {row.stdin_path, /*address_space=*/rlim_t{512} << 20});
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
    ASSERT_TRUE(sent.ParseFromString(ReadFile(request)));
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

}  // namespace
}  // namespace dsd::client
