// docker/: the Kubernetes manifests, compose.yaml and the Dockerfile agree
// with the programs. Every file parses; every kustomization names files that
// exist and every file is used; every --flag exists in `dsd-server --help`;
// ports, probes, the health service name, the user and the image names match
// the Dockerfile, the server and the project version; and every container
// runs with least privilege. Where kubectl is installed, `kubectl kustomize`
// renders each overlay and the rendered Deployment passes the same checks.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "server/transport/server.h"

namespace dsd::testing {
namespace {

namespace fs = std::filesystem;

const fs::path kDocker = fs::path(DSD_SOURCE_DIR) / "docker";
const fs::path kKube = kDocker / "kubernetes";
constexpr char kUser[] = "65532";

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct CommandResult {
  int code = -1;
  std::string out;
};

// Runs a shell command and captures its stdout.
CommandResult Command(const std::string& command) {
  CommandResult r;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return r;
  char buffer[4096];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) {
    r.out.append(buffer, n);
  }
  const int status = ::pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// The flag names dsd-server's --help lists ("  --listen (Address ...").
const std::set<std::string>& ServerFlags() {
  static const std::set<std::string>* flags = [] {
    auto* names = new std::set<std::string>;
    const CommandResult help =
        Command(std::string(DSD_SERVER) + " --help 2>&1");
    const std::regex line(R"(^\s+--([A-Za-z0-9_]+) \()");
    std::istringstream in(help.out);
    for (std::string l; std::getline(in, l);) {
      std::smatch m;
      if (std::regex_search(l, m, line)) names->insert(m[1]);
    }
    return names;
  }();
  return *flags;
}

// "--name=value" or "--name" -> "name".
std::string FlagName(const std::string& arg) {
  return arg.substr(2, arg.find('=') == std::string::npos ? std::string::npos
                                                          : arg.find('=') - 2);
}

// Every string in a YAML tree that looks like a flag ("--x...").
void CollectFlags(const YAML::Node& node, std::vector<std::string>& out) {
  if (node.IsScalar()) {
    const std::string s = node.as<std::string>();
    if (s.rfind("--", 0) == 0) out.push_back(s);
  } else if (node.IsSequence()) {
    for (const YAML::Node& child : node) CollectFlags(child, out);
  } else if (node.IsMap()) {
    for (const auto& kv : node) CollectFlags(kv.second, out);
  }
}

// The value of --name=value among args; "" when absent.
std::string FlagValue(const std::vector<std::string>& args,
                      const std::string& name) {
  const std::string prefix = "--" + name + "=";
  for (const std::string& a : args) {
    if (a.rfind(prefix, 0) == 0) return a.substr(prefix.size());
  }
  return "";
}

int PortOf(const std::string& host_port) {
  return std::atoi(host_port.substr(host_port.rfind(':') + 1).c_str());
}

std::vector<fs::path> YamlFiles(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().extension() == ".yaml") {
      files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<YAML::Node> Documents(const std::string& text) {
  std::vector<YAML::Node> docs;
  for (const YAML::Node& d : YAML::LoadAll(text)) {
    if (!d.IsNull()) docs.push_back(d);
  }
  return docs;
}

// The objects a kustomization's resources (files, not directories) hold.
std::vector<YAML::Node> BaseObjects() {
  std::vector<YAML::Node> objects;
  const YAML::Node k = YAML::LoadFile((kKube / "base/kustomization.yaml"));
  for (const YAML::Node& r : k["resources"]) {
    for (const YAML::Node& d :
         Documents(ReadFile(kKube / "base" / r.as<std::string>()))) {
      objects.push_back(d);
    }
  }
  return objects;
}

YAML::Node Find(const std::vector<YAML::Node>& objects,
                const std::string& kind) {
  for (const YAML::Node& o : objects) {
    if (o["kind"] && o["kind"].as<std::string>() == kind) return o;
  }
  return YAML::Node();
}

// The Dockerfile's CMD of stage `stage`, parsed as the JSON array it is.
std::vector<std::string> DockerfileCmd(const std::string& stage) {
  std::istringstream in(ReadFile(kDocker / "Dockerfile"));
  bool in_stage = false;
  for (std::string l; std::getline(in, l);) {
    if (l.rfind("FROM ", 0) == 0) {
      in_stage = l.size() >= stage.size() + 4 &&
                 l.compare(l.size() - stage.size() - 4, std::string::npos,
                           " AS " + stage) == 0;
    } else if (in_stage && l.rfind("CMD ", 0) == 0) {
      return YAML::Load(l.substr(4)).as<std::vector<std::string>>();
    }
  }
  return {};
}

bool IsSubset(const YAML::Node& small, const YAML::Node& big) {
  for (const auto& kv : small) {
    const std::string key = kv.first.as<std::string>();
    if (!big[key] || big[key].as<std::string>() != kv.second.as<std::string>())
      return false;
  }
  return true;
}

// The flag names a CLI11 program's --help lists ("  -n,--namespace TEXT").
const std::set<std::string>& ClientFlags(const std::string& program) {
  static std::map<std::string, std::set<std::string>> cache;
  auto [it, inserted] = cache.try_emplace(program);
  if (!inserted) return it->second;
  const std::string binary =
      program == "dsd-adapter" ? DSD_ADAPTER : DSD_EXTENDER;
  const CommandResult help = Command(binary + " --help 2>&1");
  const std::regex line(R"(^\s+(?:-[A-Za-z],)?--([A-Za-z0-9_]+)\b)");
  std::istringstream in(help.out);
  for (std::string l; std::getline(in, l);) {
    std::smatch m;
    if (std::regex_search(l, m, line)) it->second.insert(m[1]);
  }
  return it->second;
}

// The flags of `program` (dsd-server, dsd-adapter or dsd-extender).
const std::set<std::string>& FlagsOf(const std::string& program) {
  return program == "dsd-server" ? ServerFlags() : ClientFlags(program);
}

// The program a manifest document runs: the name of the first dsd image in
// it ("dsd-adapter:0.1.0" -> dsd-adapter); dsd-server when it names none
// (patches and compose.yaml are the server's).
std::string ProgramOf(const YAML::Node& node) {
  if (node.IsMap()) {
    if (node["image"] && node["image"].IsScalar()) {
      const std::string image = node["image"].as<std::string>();
      for (const char* p : {"dsd-adapter", "dsd-extender"}) {
        if (image.rfind(std::string(p) + ":", 0) == 0) return p;
      }
    }
    for (const auto& kv : node) {
      const std::string p = ProgramOf(kv.second);
      if (p != "dsd-server") return p;
    }
  } else if (node.IsSequence()) {
    for (const YAML::Node& child : node) {
      const std::string p = ProgramOf(child);
      if (p != "dsd-server") return p;
    }
  }
  return "dsd-server";
}

// --- Every file parses; kustomizations and files agree. ---------------------

class ManifestFileTest : public ::testing::TestWithParam<fs::path> {};

TEST_P(ManifestFileTest, ParsesAndIsWellFormed) {
  std::vector<YAML::Node> docs;
  ASSERT_NO_THROW(docs = Documents(ReadFile(GetParam())));
  ASSERT_FALSE(docs.empty());
  for (const YAML::Node& d : docs) {
    if (d.IsSequence()) {  // a JSON 6902 patch: operations on paths
      for (const YAML::Node& op : d) {
        EXPECT_TRUE(op["op"] && op["path"])
            << "patch operation without op/path";
      }
      continue;
    }
    ASSERT_TRUE(d.IsMap());
    if (GetParam().filename() == "compose.yaml") {
      EXPECT_TRUE(d["services"]);
      continue;
    }
    EXPECT_TRUE(d["apiVersion"]) << "an object without apiVersion";
    ASSERT_TRUE(d["kind"]) << "an object without kind";
    if (d["kind"].as<std::string>() != "Kustomization") {
      EXPECT_TRUE(d["metadata"]["name"]) << d["kind"].as<std::string>();
    }
  }
}

std::vector<fs::path> AllManifestFiles() {
  std::vector<fs::path> files = YamlFiles(kKube);
  files.push_back(kDocker / "compose.yaml");
  return files;
}

INSTANTIATE_TEST_SUITE_P(Docker, ManifestFileTest,
                         ::testing::ValuesIn(AllManifestFiles()),
                         [](const ::testing::TestParamInfo<fs::path>& p) {
                           std::string name =
                               fs::relative(p.param, kDocker).string();
                           std::replace_if(
                               name.begin(), name.end(),
                               [](char c) {
                                 return std::isalnum(
                                            static_cast<unsigned char>(c)) == 0;
                               },
                               '_');
                           return name;
                         });

TEST(KustomizationTest, NamesExistingFilesAndEveryFileIsUsed) {
  std::set<fs::path> used;
  std::vector<fs::path> kustomizations;
  for (const fs::path& f : YamlFiles(kKube)) {
    if (f.filename() == "kustomization.yaml") kustomizations.push_back(f);
  }
  ASSERT_GE(kustomizations.size(), 2u);  // the base and an overlay at least
  for (const fs::path& k : kustomizations) {
    SCOPED_TRACE(k.string());
    used.insert(k);
    const YAML::Node node = YAML::LoadFile(k.string());
    const fs::path dir = k.parent_path();
    for (const YAML::Node& r : node["resources"]) {
      const fs::path p = fs::weakly_canonical(dir / r.as<std::string>());
      EXPECT_TRUE(fs::exists(p)) << r.as<std::string>();
      used.insert(p);
    }
    for (const YAML::Node& patch : node["patches"]) {
      if (!patch["path"]) continue;
      const fs::path p =
          fs::weakly_canonical(dir / patch["path"].as<std::string>());
      EXPECT_TRUE(fs::exists(p)) << patch["path"].as<std::string>();
      used.insert(p);
    }
  }
  for (const fs::path& f : YamlFiles(kKube)) {
    EXPECT_TRUE(used.count(fs::weakly_canonical(f)) == 1)
        << f << " is in no kustomization";
  }
}

// --- Flags exist in dsd-server --help. --------------------------------------

TEST(FlagsTest, HelpListsTheServerFlags) {
  // Guards the parser below: if --help changed format, every other flag
  // check would pass vacuously.
  EXPECT_EQ(ServerFlags().count("listen"), 1u);
  EXPECT_EQ(ServerFlags().count("metrics_listen"), 1u);
  EXPECT_GE(ServerFlags().size(), 10u);
}

TEST(FlagsTest, HelpListsTheClientFlags) {
  // As above, for the CLI11 help of the adapter and the extender.
  EXPECT_EQ(ClientFlags("dsd-adapter").count("health_listen"), 1u);
  EXPECT_EQ(ClientFlags("dsd-adapter").count("namespace"), 1u);
  EXPECT_EQ(ClientFlags("dsd-extender").count("listen"), 1u);
  EXPECT_EQ(ClientFlags("dsd-extender").count("decide_timeout"), 1u);
}

TEST(FlagsTest, EveryFlagInAManifestExists) {
  struct Use {
    std::string file, program, flag;
  };
  std::vector<Use> uses;
  for (const fs::path& f : AllManifestFiles()) {
    for (const YAML::Node& d : Documents(ReadFile(f))) {
      std::vector<std::string> flags;
      CollectFlags(d, flags);
      for (const std::string& flag : flags) {
        uses.push_back({f, ProgramOf(d), flag});
      }
    }
  }
  for (const char* program : {"dsd-server", "dsd-adapter", "dsd-extender"}) {
    for (const std::string& flag : DockerfileCmd(program)) {
      uses.push_back({"docker/Dockerfile", program, flag});
    }
  }
  ASSERT_GE(uses.size(), 4u);
  std::set<std::string> programs;
  for (const Use& u : uses) {
    programs.insert(u.program);
    EXPECT_EQ(FlagsOf(u.program).count(FlagName(u.flag)), 1u)
        << u.file << ": " << u.flag << " is not a " << u.program << " flag";
  }
  EXPECT_EQ(programs.size(), 3u);  // every program's flags were checked
}

// --- The Deployment: ports, probes, security, image. ------------------------

// Checks one dsd-server Deployment, as written in base/ or as rendered.
void CheckDeployment(const YAML::Node& deployment) {
  ASSERT_TRUE(deployment.IsMap()) << "no Deployment";
  const YAML::Node pod = deployment["spec"]["template"]["spec"];
  const YAML::Node labels =
      deployment["spec"]["template"]["metadata"]["labels"];
  EXPECT_TRUE(IsSubset(deployment["spec"]["selector"]["matchLabels"], labels));

  const YAML::Node psc = pod["securityContext"];
  EXPECT_TRUE(psc["runAsNonRoot"].as<bool>());
  EXPECT_EQ(psc["runAsUser"].as<std::string>(), kUser);
  EXPECT_EQ(psc["seccompProfile"]["type"].as<std::string>(), "RuntimeDefault");
  EXPECT_FALSE(pod["automountServiceAccountToken"].as<bool>());
  EXPECT_FALSE(pod["hostNetwork"] && pod["hostNetwork"].as<bool>());

  ASSERT_EQ(pod["containers"].size(), 1u);
  const YAML::Node c = pod["containers"][0];
  EXPECT_EQ(c["image"].as<std::string>(),
            std::string("dsd-server:") + DSD_VERSION);

  const YAML::Node sc = c["securityContext"];
  EXPECT_TRUE(sc["runAsNonRoot"].as<bool>());
  EXPECT_FALSE(sc["allowPrivilegeEscalation"].as<bool>());
  EXPECT_TRUE(sc["readOnlyRootFilesystem"].as<bool>());
  EXPECT_FALSE(sc["privileged"] && sc["privileged"].as<bool>());
  const auto drop = sc["capabilities"]["drop"].as<std::vector<std::string>>();
  EXPECT_NE(std::find(drop.begin(), drop.end(), "ALL"), drop.end());
  EXPECT_FALSE(sc["capabilities"]["add"]);

  EXPECT_TRUE(c["resources"]["requests"]["cpu"]);
  EXPECT_TRUE(c["resources"]["requests"]["memory"]);
  EXPECT_TRUE(c["resources"]["limits"]["memory"]);

  const auto args = c["args"].as<std::vector<std::string>>();
  for (const std::string& a : args) {
    EXPECT_EQ(ServerFlags().count(FlagName(a)), 1u) << a;
  }
  const std::string listen = FlagValue(args, "listen");
  const std::string metrics = FlagValue(args, "metrics_listen");
  // Reachable from other pods: not the default 127.0.0.1.
  EXPECT_EQ(listen.substr(0, listen.rfind(':')), "0.0.0.0");
  EXPECT_EQ(metrics.substr(0, metrics.rfind(':')), "0.0.0.0");

  std::map<std::string, int> ports;
  for (const YAML::Node& p : c["ports"]) {
    ports[p["name"].as<std::string>()] = p["containerPort"].as<int>();
  }
  EXPECT_EQ(ports["grpc"], PortOf(listen));
  EXPECT_EQ(ports["metrics"], PortOf(metrics));
  EXPECT_EQ(deployment["spec"]["template"]["metadata"]["annotations"]
                      ["prometheus.io/port"]
                          .as<int>(),
            PortOf(metrics));

  const bool tls = !FlagValue(args, "tls_cert").empty();
  for (const char* probe : {"readinessProbe", "livenessProbe"}) {
    SCOPED_TRACE(probe);
    const YAML::Node p = c[probe];
    ASSERT_TRUE(p.IsMap());
    if (tls) {
      // Kubernetes' gRPC probes speak plaintext only.
      EXPECT_FALSE(p["grpc"]);
      EXPECT_EQ(p["tcpSocket"]["port"].as<std::string>(), "grpc");
    } else {
      ASSERT_TRUE(p["grpc"].IsMap());
      EXPECT_EQ(p["grpc"]["port"].as<int>(), PortOf(listen));
    }
  }
  if (!tls) {
    // Readiness follows the service's own status, which the server turns
    // NOT_SERVING when it starts draining.
    EXPECT_EQ(c["readinessProbe"]["grpc"]["service"].as<std::string>(),
              transport::Server::kServiceName);
  } else {
    const std::string key = FlagValue(args, "tls_key");
    bool mounted = false;
    for (const YAML::Node& m : c["volumeMounts"]) {
      mounted |= key.rfind(m["mountPath"].as<std::string>() + "/", 0) == 0;
    }
    EXPECT_TRUE(mounted) << "--tls_key " << key << " is on no volume";
  }
}

TEST(BaseTest, DeploymentMatchesTheServer) {
  const std::vector<YAML::Node> objects = BaseObjects();
  const YAML::Node deployment = Find(objects, "Deployment");
  CheckDeployment(deployment);
  EXPECT_EQ(deployment["spec"]["replicas"].as<int>(), 2);
}

TEST(BaseTest, ServicePdbAndAutoscalerSelectTheDeployment) {
  const std::vector<YAML::Node> objects = BaseObjects();
  const YAML::Node deployment = Find(objects, "Deployment");
  const YAML::Node labels =
      deployment["spec"]["template"]["metadata"]["labels"];
  const YAML::Node container =
      deployment["spec"]["template"]["spec"]["containers"][0];

  const YAML::Node service = Find(objects, "Service");
  ASSERT_TRUE(service.IsMap());
  // Headless, so DNS lists every replica for client-side round_robin.
  EXPECT_EQ(service["spec"]["clusterIP"].as<std::string>(), "None");
  EXPECT_TRUE(IsSubset(service["spec"]["selector"], labels));
  std::set<std::string> container_ports;
  for (const YAML::Node& p : container["ports"]) {
    container_ports.insert(p["name"].as<std::string>());
  }
  for (const YAML::Node& p : service["spec"]["ports"]) {
    EXPECT_EQ(container_ports.count(p["targetPort"].as<std::string>()), 1u);
  }

  const YAML::Node pdb = Find(objects, "PodDisruptionBudget");
  ASSERT_TRUE(pdb.IsMap());
  EXPECT_TRUE(IsSubset(pdb["spec"]["selector"]["matchLabels"], labels));

  const YAML::Node hpa = Find(objects, "HorizontalPodAutoscaler");
  ASSERT_TRUE(hpa.IsMap());
  EXPECT_EQ(hpa["spec"]["scaleTargetRef"]["kind"].as<std::string>(),
            "Deployment");
  EXPECT_EQ(hpa["spec"]["scaleTargetRef"]["name"].as<std::string>(),
            deployment["metadata"]["name"].as<std::string>());
  EXPECT_GE(hpa["spec"]["minReplicas"].as<int>(),
            deployment["spec"]["replicas"].as<int>());

  const YAML::Node account = Find(objects, "ServiceAccount");
  ASSERT_TRUE(account.IsMap());
  EXPECT_FALSE(account["automountServiceAccountToken"].as<bool>());
  EXPECT_EQ(deployment["spec"]["template"]["spec"]["serviceAccountName"]
                .as<std::string>(),
            account["metadata"]["name"].as<std::string>());
  // dsd-server reads no Kubernetes API: no RBAC at all.
  for (const char* kind :
       {"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"}) {
    EXPECT_FALSE(Find(objects, kind).IsMap()) << kind;
  }

  const YAML::Node ns = Find(objects, "Namespace");
  ASSERT_TRUE(ns.IsMap());
  EXPECT_EQ(ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]
                .as<std::string>(),
            "restricted");
  const YAML::Node k = YAML::LoadFile((kKube / "base/kustomization.yaml"));
  EXPECT_EQ(k["namespace"].as<std::string>(),
            ns["metadata"]["name"].as<std::string>());
}

// --- Images: Dockerfile, kustomize, compose and the project version. --------

TEST(ImageTest, NamesAndTagsAgree) {
  const YAML::Node k = YAML::LoadFile((kKube / "base/kustomization.yaml"));
  ASSERT_EQ(k["images"].size(), 1u);
  EXPECT_EQ(k["images"][0]["name"].as<std::string>(), "dsd-server");
  EXPECT_EQ(k["images"][0]["newTag"].as<std::string>(), DSD_VERSION);

  const YAML::Node compose = YAML::LoadFile((kDocker / "compose.yaml"));
  const YAML::Node server = compose["services"]["dsd-server"];
  EXPECT_EQ(server["image"].as<std::string>(),
            std::string("dsd-server:") + DSD_VERSION);
  EXPECT_EQ(server["build"]["target"].as<std::string>(), "dsd-server");
  EXPECT_EQ(server["build"]["dockerfile"].as<std::string>(),
            "docker/Dockerfile");
  EXPECT_EQ(server["user"].as<std::string>(), std::string(kUser) + ":" + kUser);
  EXPECT_TRUE(server["read_only"].as<bool>());
}

TEST(ImageTest, DockerfileStagesUserPortsAndBases) {
  const std::string dockerfile = ReadFile(kDocker / "Dockerfile");
  for (const char* stage :
       {"builder", "prebuilt", "runtime", "runtime-kube", "dsd-server",
        "dsdctl", "dsd-adapter", "dsd-extender"}) {
    EXPECT_NE(dockerfile.find(std::string(" AS ") + stage + "\n"),
              std::string::npos)
        << stage;
  }
  EXPECT_NE(dockerfile.find(std::string("\nUSER ") + kUser + ":" + kUser),
            std::string::npos);
  const std::vector<std::string> cmd = DockerfileCmd("dsd-server");
  const std::string listen = FlagValue(cmd, "listen");
  const std::string metrics = FlagValue(cmd, "metrics_listen");
  EXPECT_EQ(listen, "0.0.0.0:50051");
  EXPECT_NE(dockerfile.find("\nEXPOSE " + std::to_string(PortOf(listen)) + " " +
                            std::to_string(PortOf(metrics)) + "\n"),
            std::string::npos);
  // Only the Debian bases (made locally by scripts/base-image.sh where no
  // registry answers), scratch, and the file's own stages.
  const std::set<std::string> allowed = {
      "debian:bookworm", "debian:bookworm-slim", "scratch", "${BINARIES}",
      "runtime",         "runtime-kube"};
  std::istringstream in(dockerfile);
  for (std::string l; std::getline(in, l);) {
    if (l.rfind("FROM ", 0) != 0) continue;
    const std::string image = l.substr(5, l.find(' ', 5) - 5);
    EXPECT_EQ(allowed.count(image), 1u) << l;
  }
}

// --- dsd-adapter and dsd-extender: Deployment, RBAC, Service. ---------------

struct ClientCase {
  std::string dir;        // under docker/kubernetes
  std::string program;    // the image name and binary
  std::string port_flag;  // the flag whose port the probes use
  // RBAC rules (ClusterRole and Role together): API group -> resource ->
  // verbs, exactly.
  std::map<std::string, std::map<std::string, std::set<std::string>>> rules;
  bool token;  // whether the pod mounts its service account token
  std::vector<std::string> kinds;  // what the kustomization holds
};

const std::set<std::string> kRead = {"get", "list", "watch"};

const ClientCase kClients[] = {
    // Audit mode reads only.
    {"adapter",
     "dsd-adapter",
     "health_listen",
     {{"", {{"nodes", kRead}, {"pods", kRead}}},
      {"apps", {{"daemonsets", kRead}, {"controllerrevisions", kRead}}}},
     true,
     {"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Deployment"}},
    // Apply mode writes what upstream's controller writes, and its Lease.
    {"adapter-apply",
     "dsd-adapter",
     "health_listen",
     {{"",
       {{"nodes", kRead},
        {"pods", {"get", "list", "watch", "create", "delete"}},
        {"events", {"create"}}}},
      {"apps",
       {{"daemonsets", kRead},
        {"daemonsets/status", {"update"}},
        {"controllerrevisions",
         {"get", "list", "watch", "create", "update", "delete"}}}},
      {"coordination.k8s.io", {{"leases", {"create", "get", "update"}}}}},
     true,
     {"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role",
      "RoleBinding", "Deployment"}},
    {"extender",
     "dsd-extender",
     "listen",
     {{"", {{"nodes", kRead}}}, {"apps", {{"daemonsets", kRead}}}},
     false,
     {"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Deployment",
      "Service"}},
};

// ctest lists each case by its directory.
void PrintTo(const ClientCase& c, std::ostream* os) { *os << c.dir; }

const ClientCase* ClientCaseFor(const std::string& dir) {
  for (const ClientCase& c : kClients) {
    if (c.dir == dir) return &c;
  }
  return nullptr;
}

std::vector<YAML::Node> KustomizationObjects(const std::string& dir) {
  std::vector<YAML::Node> objects;
  const YAML::Node k = YAML::LoadFile((kKube / dir / "kustomization.yaml"));
  for (const YAML::Node& r : k["resources"]) {
    for (const YAML::Node& d :
         Documents(ReadFile(kKube / dir / r.as<std::string>()))) {
      objects.push_back(d);
    }
  }
  return objects;
}

// One client's objects, as written or as rendered.
void CheckClient(const ClientCase& c, const std::vector<YAML::Node>& objects) {
  const YAML::Node deployment = Find(objects, "Deployment");
  ASSERT_TRUE(deployment.IsMap());
  const YAML::Node pod = deployment["spec"]["template"]["spec"];
  const YAML::Node labels =
      deployment["spec"]["template"]["metadata"]["labels"];
  EXPECT_TRUE(IsSubset(deployment["spec"]["selector"]["matchLabels"], labels));
  EXPECT_TRUE(pod["securityContext"]["runAsNonRoot"].as<bool>());
  EXPECT_EQ(pod["securityContext"]["runAsUser"].as<std::string>(), kUser);
  EXPECT_EQ(pod["automountServiceAccountToken"].as<bool>(), c.token);
  ASSERT_EQ(pod["containers"].size(), 1u);
  const YAML::Node container = pod["containers"][0];
  EXPECT_EQ(container["image"].as<std::string>(),
            c.program + ":" + DSD_VERSION);
  const YAML::Node sc = container["securityContext"];
  EXPECT_FALSE(sc["allowPrivilegeEscalation"].as<bool>());
  EXPECT_TRUE(sc["readOnlyRootFilesystem"].as<bool>());
  const auto drop = sc["capabilities"]["drop"].as<std::vector<std::string>>();
  EXPECT_NE(std::find(drop.begin(), drop.end(), "ALL"), drop.end());
  EXPECT_TRUE(container["resources"]["limits"]["memory"]);

  const auto args = container["args"].as<std::vector<std::string>>();
  for (const std::string& a : args) {
    EXPECT_EQ(ClientFlags(c.program).count(FlagName(a)), 1u) << a;
  }
  // dsd-server's headless Service in base/, over round_robin.
  const std::vector<YAML::Node> base = BaseObjects();
  const YAML::Node service = Find(base, "Service");
  int grpc_port = 0;
  for (const YAML::Node& p : service["spec"]["ports"]) {
    if (p["name"].as<std::string>() == "grpc") grpc_port = p["port"].as<int>();
  }
  EXPECT_EQ(FlagValue(args, "server"),
            "dns:///" + service["metadata"]["name"].as<std::string>() +
                ".dsd-system.svc:" + std::to_string(grpc_port));
  const std::string listen = FlagValue(args, c.port_flag);
  EXPECT_EQ(listen.substr(0, listen.rfind(':')), "0.0.0.0");
  EXPECT_EQ(container["livenessProbe"]["httpGet"]["path"].as<std::string>(),
            "/healthz");
  EXPECT_EQ(container["readinessProbe"]["httpGet"]["path"].as<std::string>(),
            "/readyz");
  for (const char* probe : {"livenessProbe", "readinessProbe"}) {
    EXPECT_EQ(container[probe]["httpGet"]["port"].as<int>(), PortOf(listen))
        << probe;
  }

  // RBAC: exactly the verbs it needs on each kind, bound to its account
  // in dsd-system.
  const YAML::Node account = Find(objects, "ServiceAccount");
  ASSERT_TRUE(account.IsMap());
  EXPECT_EQ(pod["serviceAccountName"].as<std::string>(),
            account["metadata"]["name"].as<std::string>());
  std::map<std::string, std::map<std::string, std::set<std::string>>> rules;
  for (const char* kind : {"ClusterRole", "Role"}) {
    const YAML::Node role = Find(objects, kind);
    if (!role.IsMap()) continue;
    for (const YAML::Node& rule : role["rules"]) {
      const auto verbs = rule["verbs"].as<std::vector<std::string>>();
      for (const YAML::Node& g : rule["apiGroups"]) {
        for (const YAML::Node& r : rule["resources"]) {
          rules[g.as<std::string>()][r.as<std::string>()].insert(verbs.begin(),
                                                                 verbs.end());
        }
      }
    }
    const std::string binding_kind = std::string(kind) + "Binding";
    const YAML::Node binding = Find(objects, binding_kind);
    ASSERT_TRUE(binding.IsMap()) << binding_kind;
    EXPECT_EQ(binding["roleRef"]["kind"].as<std::string>(), kind);
    EXPECT_EQ(binding["roleRef"]["name"].as<std::string>(),
              role["metadata"]["name"].as<std::string>());
    ASSERT_EQ(binding["subjects"].size(), 1u);
    EXPECT_EQ(binding["subjects"][0]["name"].as<std::string>(),
              account["metadata"]["name"].as<std::string>());
    EXPECT_EQ(binding["subjects"][0]["namespace"].as<std::string>(),
              "dsd-system");
  }
  EXPECT_EQ(rules, c.rules);

  if (const YAML::Node svc = Find(objects, "Service"); svc.IsMap()) {
    EXPECT_TRUE(IsSubset(svc["spec"]["selector"], labels));
    std::set<std::string> names;
    for (const YAML::Node& p : container["ports"]) {
      names.insert(p["name"].as<std::string>());
    }
    for (const YAML::Node& p : svc["spec"]["ports"]) {
      EXPECT_EQ(names.count(p["targetPort"].as<std::string>()), 1u);
    }
  }
}

class ClientManifestTest : public ::testing::TestWithParam<ClientCase> {};

TEST_P(ClientManifestTest, DeploymentRbacAndImageMatchTheProgram) {
  const ClientCase& c = GetParam();
  CheckClient(c, KustomizationObjects(c.dir));
  const YAML::Node k = YAML::LoadFile((kKube / c.dir / "kustomization.yaml"));
  EXPECT_EQ(k["namespace"].as<std::string>(), "dsd-system");
  ASSERT_EQ(k["images"].size(), 1u);
  EXPECT_EQ(k["images"][0]["name"].as<std::string>(), c.program);
  EXPECT_EQ(k["images"][0]["newTag"].as<std::string>(), DSD_VERSION);
  // The image's own CMD reaches the same dsd-server.
  const YAML::Node deployment = Find(KustomizationObjects(c.dir), "Deployment");
  ASSERT_TRUE(deployment.IsMap());
  EXPECT_EQ(
      FlagValue(DockerfileCmd(c.program), "server"),
      FlagValue(deployment["spec"]["template"]["spec"]["containers"][0]["args"]
                    .as<std::vector<std::string>>(),
                "server"));
}

INSTANTIATE_TEST_SUITE_P(Docker, ClientManifestTest,
                         ::testing::ValuesIn(kClients), [](const auto& p) {
                           std::string name = p.param.dir;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

// --- kubectl kustomize renders each kustomization. --------------------------

std::vector<std::string> Kustomizations() {
  std::vector<std::string> dirs;
  for (const fs::path& f : YamlFiles(kKube)) {
    if (f.filename() == "kustomization.yaml") {
      dirs.push_back(fs::relative(f.parent_path(), kKube).string());
    }
  }
  return dirs;
}

class KustomizeTest : public ::testing::TestWithParam<std::string> {};

TEST_P(KustomizeTest, RendersAValidDeployment) {
  if (Command("command -v kubectl >/dev/null 2>&1").code != 0) {
    GTEST_SKIP() << "kubectl is not installed; the rendering is not checked";
  }
  const CommandResult render =
      Command("kubectl kustomize '" + (kKube / GetParam()).string() + "' 2>&1");
  ASSERT_EQ(render.code, 0) << render.out;
  std::vector<YAML::Node> objects;
  ASSERT_NO_THROW(objects = Documents(render.out));
  std::set<std::string> kinds;
  const std::set<std::string> cluster_scoped = {"Namespace", "ClusterRole",
                                                "ClusterRoleBinding"};
  for (const YAML::Node& o : objects) {
    kinds.insert(o["kind"].as<std::string>());
    if (cluster_scoped.count(o["kind"].as<std::string>()) == 0) {
      EXPECT_EQ(o["metadata"]["namespace"].as<std::string>(), "dsd-system")
          << o["kind"].as<std::string>();
    }
  }
  if (const ClientCase* c = ClientCaseFor(GetParam())) {
    for (const std::string& kind : c->kinds) {
      EXPECT_EQ(kinds.count(kind), 1u) << kind;
    }
    CheckClient(*c, objects);
    return;
  }
  for (const char* kind :
       {"Namespace", "ServiceAccount", "Deployment", "Service",
        "PodDisruptionBudget", "HorizontalPodAutoscaler"}) {
    EXPECT_EQ(kinds.count(kind), 1u) << kind;
  }
  CheckDeployment(Find(objects, "Deployment"));
}

INSTANTIATE_TEST_SUITE_P(Docker, KustomizeTest,
                         ::testing::ValuesIn(Kustomizations()),
                         [](const ::testing::TestParamInfo<std::string>& p) {
                           std::string name = p.param;
                           std::replace_if(
                               name.begin(), name.end(),
                               [](char c) {
                                 return std::isalnum(
                                            static_cast<unsigned char>(c)) == 0;
                               },
                               '_');
                           return name;
                         });

}  // namespace
}  // namespace dsd::testing
