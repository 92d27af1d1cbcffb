#include "client/kube/kubeconfig.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_split.h"

namespace dsd::kube {
namespace {

namespace fs = std::filesystem;

// A kubeconfig file bigger than this is not one (client-go has no limit;
// real ones are a few KiB).
constexpr std::uintmax_t kMaxKubeconfigBytes = 16 << 20;
constexpr std::uintmax_t kMaxPemBytes = 1 << 20;

absl::StatusOr<std::string> ReadSmallFile(const std::string& path,
                                          std::uintmax_t max_bytes) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    return absl::NotFoundError(path + ": not a readable regular file");
  }
  if (fs::file_size(path, ec) > max_bytes) {
    return absl::InvalidArgumentError(path + ": larger than " +
                                      std::to_string(max_bytes) + " bytes");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(path + ": cannot be read");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// One named entry (cluster, user or context) and the file it came from.
struct Entry {
  YAML::Node node;
  std::string file;
};

struct Merged {
  std::map<std::string, Entry> clusters, users, contexts;
  std::string current_context;
  std::vector<std::string> files;
};

std::string Str(const YAML::Node& node, const char* key) {
  const YAML::Node v = node[key];
  if (!v || !v.IsScalar()) return "";
  return v.Scalar();
}

absl::Status AddFile(const std::string& path, Merged& merged) {
  absl::StatusOr<std::string> text = ReadSmallFile(path, kMaxKubeconfigBytes);
  if (!text.ok()) return text.status();
  YAML::Node root;
  try {
    root = YAML::Load(*text);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError("kubeconfig " + path +
                                      ": invalid YAML: " + e.what());
  }
  merged.files.push_back(path);
  if (!root || root.IsNull()) return absl::OkStatus();  // empty file
  if (!root.IsMap()) {
    return absl::InvalidArgumentError("kubeconfig " + path + ": not a mapping");
  }
  auto add = [&](const char* list, const char* item,
                 std::map<std::string, Entry>& into) -> absl::Status {
    const YAML::Node entries = root[list];
    if (!entries || entries.IsNull()) return absl::OkStatus();
    if (!entries.IsSequence()) {
      return absl::InvalidArgumentError("kubeconfig " + path + ": " + list +
                                        ": not a list");
    }
    for (size_t i = 0; i < entries.size(); ++i) {
      const std::string name = Str(entries[i], "name");
      const YAML::Node body = entries[i][item];
      if (name.empty() || !body || !body.IsMap()) {
        return absl::InvalidArgumentError(
            "kubeconfig " + path + ": " + list + "[" + std::to_string(i) +
            "]: needs a name and a " + item + " mapping");
      }
      into.emplace(name, Entry{body, path});  // the first file wins
    }
    return absl::OkStatus();
  };
  try {
    if (absl::Status s = add("clusters", "cluster", merged.clusters); !s.ok())
      return s;
    if (absl::Status s = add("users", "user", merged.users); !s.ok()) return s;
    if (absl::Status s = add("contexts", "context", merged.contexts); !s.ok())
      return s;
    if (merged.current_context.empty()) {
      merged.current_context = Str(root, "current-context");
    }
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError("kubeconfig " + path + ": " + e.what());
  }
  return absl::OkStatus();
}

std::string Resolve(const std::string& path, const std::string& file) {
  if (path.empty() || fs::path(path).is_absolute()) return path;
  return (fs::path(file).parent_path() / path).string();
}

// PEM from `key-data` (base64) or `key` (a file); "" when neither is set.
absl::StatusOr<std::string> Pem(const Entry& e, const std::string& key,
                                const std::string& what) {
  const std::string data = Str(e.node, (key + "-data").c_str());
  if (!data.empty()) {
    std::string out;
    if (!absl::Base64Unescape(data, &out)) {
      return absl::InvalidArgumentError("kubeconfig " + e.file + ": " + what +
                                        "." + key + "-data: not base64");
    }
    return out;
  }
  const std::string file = Str(e.node, key.c_str());
  if (file.empty()) return std::string();
  absl::StatusOr<std::string> pem =
      ReadSmallFile(Resolve(file, e.file), kMaxPemBytes);
  if (!pem.ok()) {
    return absl::InvalidArgumentError("kubeconfig " + e.file + ": " + what +
                                      "." + key + ": " +
                                      std::string(pem.status().message()));
  }
  return *pem;
}

absl::StatusOr<RestConfig> FromMerged(const Merged& merged,
                                      const std::string& context_flag) {
  const std::string files = [&] {
    std::string s;
    for (const std::string& f : merged.files) s += (s.empty() ? "" : ":") + f;
    return s;
  }();
  const std::string context_name =
      context_flag.empty() ? merged.current_context : context_flag;
  if (context_name.empty()) {
    return absl::InvalidArgumentError(
        "kubeconfig " + files +
        ": no current-context; pass --context or run kubectl config "
        "use-context");
  }
  auto ctx = merged.contexts.find(context_name);
  if (ctx == merged.contexts.end()) {
    return absl::NotFoundError("kubeconfig " + files + ": context \"" +
                               context_name + "\" not found");
  }
  const std::string cluster_name = Str(ctx->second.node, "cluster");
  const std::string user_name = Str(ctx->second.node, "user");
  auto cluster = merged.clusters.find(cluster_name);
  if (cluster == merged.clusters.end()) {
    return absl::NotFoundError("kubeconfig " + files + ": context \"" +
                               context_name + "\": cluster \"" + cluster_name +
                               "\" not found");
  }
  RestConfig config;
  config.source = "kubeconfig " + files + " (context " + context_name + ")";
  config.namespace_ = Str(ctx->second.node, "namespace");
  config.server = Str(cluster->second.node, "server");
  while (!config.server.empty() && config.server.back() == '/') {
    config.server.pop_back();
  }
  if (config.server.empty()) {
    return absl::InvalidArgumentError("kubeconfig " + cluster->second.file +
                                      ": cluster \"" + cluster_name +
                                      "\": no server");
  }
  const std::string cluster_what = "cluster \"" + cluster_name + "\"";
  absl::StatusOr<std::string> ca =
      Pem(cluster->second, "certificate-authority", cluster_what);
  if (!ca.ok()) return ca.status();
  config.ca_pem = *ca;
  config.tls_server_name = Str(cluster->second.node, "tls-server-name");
  config.proxy_url = Str(cluster->second.node, "proxy-url");
  if (!config.proxy_url.empty() && config.proxy_url.rfind("http://", 0) != 0 &&
      config.proxy_url.rfind("https://", 0) != 0 &&
      config.proxy_url.rfind("socks5://", 0) != 0) {
    return absl::InvalidArgumentError(
        "kubeconfig " + cluster->second.file + ": " + cluster_what +
        ": proxy-url \"" + config.proxy_url +
        "\": only http://, https:// and socks5:// proxies are supported");
  }
  config.insecure_skip_tls_verify =
      Str(cluster->second.node, "insecure-skip-tls-verify") == "true";
  if (config.insecure_skip_tls_verify) {
    config.warnings.push_back(
        "warning: " + cluster_what +
        " has insecure-skip-tls-verify: the API server's certificate is not "
        "checked, and anyone on the path can read and change the traffic");
  }
  auto user = merged.users.find(user_name);
  if (user_name.empty()) return config;
  if (user == merged.users.end()) {
    return absl::NotFoundError("kubeconfig " + files + ": context \"" +
                               context_name + "\": user \"" + user_name +
                               "\" not found");
  }
  const Entry& u = user->second;
  const std::string user_what = "user \"" + user_name + "\"";
  absl::StatusOr<std::string> cert = Pem(u, "client-certificate", user_what);
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = Pem(u, "client-key", user_what);
  if (!key.ok()) return key.status();
  config.client_cert_pem = *cert;
  config.client_key_pem = *key;
  if (config.client_cert_pem.empty() != config.client_key_pem.empty()) {
    return absl::InvalidArgumentError(
        "kubeconfig " + u.file + ": " + user_what +
        ": a client certificate needs its key and the reverse");
  }
  if (const YAML::Node provider = u.node["auth-provider"];
      provider && !provider.IsNull()) {
    // Sending no credentials instead would end in 401s or, worse, in an
    // anonymous view of the cluster.
    const std::string name =
        provider.IsMap() ? Str(provider, "name") : std::string();
    return absl::InvalidArgumentError(
        "kubeconfig " + u.file + ": " + user_what + ": auth-provider" +
        (name.empty() ? "" : " \"" + name + "\"") +
        " is not supported (the in-tree providers were removed in Kubernetes "
        "1.26); use an exec credential plugin (users[].user.exec), e.g. "
        "gke-gcloud-auth-plugin or kubelogin");
  }
  config.token = Str(u.node, "token");
  config.token_file = Resolve(Str(u.node, "tokenFile"), u.file);
  if (const YAML::Node exec = u.node["exec"]; exec && exec.IsMap()) {
    config.has_exec = true;
    ExecConfig& e = config.exec;
    e.api_version = Str(exec, "apiVersion");
    if (e.api_version != "client.authentication.k8s.io/v1") {
      return absl::InvalidArgumentError(
          "kubeconfig " + u.file + ": " + user_what + ": exec.apiVersion \"" +
          e.api_version +
          "\": only client.authentication.k8s.io/v1 is supported");
    }
    e.command = Str(exec, "command");
    if (e.command.empty()) {
      return absl::InvalidArgumentError("kubeconfig " + u.file + ": " +
                                        user_what + ": exec.command is empty");
    }
    if (e.command.find('/') != std::string::npos) {
      e.command = Resolve(e.command, u.file);
    }
    if (const YAML::Node args = exec["args"]; args && args.IsSequence()) {
      for (const YAML::Node& a : args) e.args.push_back(a.Scalar());
    }
    if (const YAML::Node env = exec["env"]; env && env.IsSequence()) {
      for (const YAML::Node& v : env) {
        e.env.emplace_back(Str(v, "name"), Str(v, "value"));
      }
    }
    e.interactive_mode = Str(exec, "interactiveMode");
    e.provide_cluster_info = Str(exec, "provideClusterInfo") == "true";
  }
  return config;
}

}  // namespace

absl::StatusOr<RestConfig> LoadKubeconfig(const KubeconfigOptions& options) {
  Merged merged;
  if (!options.kubeconfig.empty()) {
    if (absl::Status s = AddFile(options.kubeconfig, merged); !s.ok()) {
      return absl::Status(s.code(), "--kubeconfig " + std::string(s.message()));
    }
  } else if (!options.kubeconfig_env.empty()) {
    for (const absl::string_view part :
         absl::StrSplit(options.kubeconfig_env, ':', absl::SkipEmpty())) {
      const std::string path(part);
      std::error_code ec;
      if (!fs::exists(path, ec)) continue;  // kubectl skips missing files
      if (absl::Status s = AddFile(path, merged); !s.ok()) return s;
    }
    if (merged.files.empty()) {
      return absl::NotFoundError("KUBECONFIG=" + options.kubeconfig_env +
                                 ": none of its files exists");
    }
  } else {
    const std::string path = options.home + "/.kube/config";
    if (absl::Status s = AddFile(path, merged); !s.ok()) return s;
  }
  return FromMerged(merged, options.context);
}

absl::StatusOr<RestConfig> InClusterConfig(
    const std::map<std::string, std::string>& env, const std::string& sa_dir) {
  auto get = [&](const char* name) -> std::string {
    auto it = env.find(name);
    return it == env.end() ? "" : it->second;
  };
  const std::string host = get("KUBERNETES_SERVICE_HOST");
  const std::string port = get("KUBERNETES_SERVICE_PORT");
  if (host.empty() || port.empty()) {
    return absl::FailedPreconditionError(
        "not in a cluster: KUBERNETES_SERVICE_HOST and "
        "KUBERNETES_SERVICE_PORT must be set");
  }
  RestConfig config;
  config.source = "in-cluster service account (" + sa_dir + ")";
  const bool ipv6 = host.find(':') != std::string::npos;
  config.server = "https://" + (ipv6 ? "[" + host + "]" : host) + ":" + port;
  config.token_file = sa_dir + "/token";
  absl::StatusOr<std::string> token =
      ReadSmallFile(config.token_file, kMaxPemBytes);
  if (!token.ok()) {
    return absl::FailedPreconditionError("in-cluster: service account token " +
                                         std::string(token.status().message()));
  }
  absl::StatusOr<std::string> ca =
      ReadSmallFile(sa_dir + "/ca.crt", kMaxPemBytes);
  if (!ca.ok()) {
    return absl::FailedPreconditionError("in-cluster: CA " +
                                         std::string(ca.status().message()));
  }
  config.ca_pem = *ca;
  // kubectl's default namespace in a pod; optional, as in client-go.
  if (absl::StatusOr<std::string> ns =
          ReadSmallFile(sa_dir + "/namespace", kMaxPemBytes);
      ns.ok()) {
    config.namespace_ = std::string(absl::StripAsciiWhitespace(*ns));
  }
  return config;
}

// The payload IsNoConfig looks for.
constexpr char kNoConfigPayload[] = "dsd.kube/no-config";

bool IsNoConfig(const absl::Status& status) {
  return status.GetPayload(kNoConfigPayload).has_value();
}

absl::StatusOr<RestConfig> LoadDefaultConfig(const std::string& kubeconfig,
                                             const std::string& context) {
  KubeconfigOptions options;
  options.kubeconfig = kubeconfig;
  options.context = context;
  if (const char* v = std::getenv("KUBECONFIG")) options.kubeconfig_env = v;
  if (const char* v = std::getenv("HOME")) options.home = v;
  std::error_code ec;
  const bool have_default =
      !options.home.empty() && fs::exists(options.home + "/.kube/config", ec);
  if (kubeconfig.empty() && options.kubeconfig_env.empty() && !have_default) {
    std::map<std::string, std::string> env;
    for (const char* name :
         {"KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"}) {
      if (const char* v = std::getenv(name)) env[name] = v;
    }
    if (!env.empty()) return InClusterConfig(env);
    absl::Status none = absl::NotFoundError(
        "no kubeconfig: no --kubeconfig, KUBECONFIG is not set, " +
        (options.home.empty()
             ? std::string("HOME is not set (no ~/.kube/config)")
             : options.home + "/.kube/config does not exist") +
        ", and not in a pod (KUBERNETES_SERVICE_HOST is not set)");
    none.SetPayload(kNoConfigPayload, absl::Cord("1"));
    return none;
  }
  return LoadKubeconfig(options);
}

}  // namespace dsd::kube
