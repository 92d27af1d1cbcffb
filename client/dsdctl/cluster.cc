#include "client/dsdctl/cluster.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "client/common/exit_codes.h"
#include "client/k8s/snapshot_loader.h"
#include "client/kube/client.h"
#include "client/kube/cluster_list.h"
#include "client/kube/kubeconfig.h"

namespace dsd::client {
namespace {

// "pods: 12000 (24 pages)" lines: rewritten in place on a terminal (at most
// ten a second), one line per finished kind with -v.
class Progress {
 public:
  Progress(const ClusterOptions& options, std::ostream& err)
      : in_place_(options.progress_in_place),
        verbose_(options.verbose),
        err_(err) {}
  ~Progress() { Clear(); }
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void Page(const kube::Resource& r, size_t items, int pages, bool done) {
    if (done) {
      if (r.plural == "daemonsets") daemon_sets_ = items;
      if (verbose_) {
        Clear();
        const double seconds = std::chrono::duration<double>(
                                   std::chrono::steady_clock::now() - start_)
                                   .count();
        char took[32];
        std::snprintf(took, sizeof took, "%.2f", seconds);
        err_ << "listed " << items << ' ' << r.plural << " in " << pages
             << (pages == 1 ? " page" : " pages") << ", " << took << " s\n";
      }
      start_ = std::chrono::steady_clock::now();
      return;
    }
    if (!in_place_) return;
    const auto now = std::chrono::steady_clock::now();
    if (shown_ && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    shown_ = true;
    err_ << "\r\033[Klisting " << r.plural << ": " << items << " (" << pages
         << (pages == 1 ? " page)" : " pages)") << std::flush;
  }
  size_t daemon_sets() const { return daemon_sets_; }
  // Removes the in-place line, before anything else goes to stderr.
  void Clear() {
    if (shown_) err_ << "\r\033[K" << std::flush;
    shown_ = false;
  }

 private:
  const bool in_place_;
  const bool verbose_;
  std::ostream& err_;
  bool shown_ = false;
  size_t daemon_sets_ = 0;
  std::chrono::steady_clock::time_point last_{};
  std::chrono::steady_clock::time_point start_ =
      std::chrono::steady_clock::now();
};

// What to try after a failed list, from its HTTP code.
std::string Hint(const absl::Status& status, const std::string& server) {
  switch (kube::HttpCode(status)) {
    case 0:
      return " (is the API server at " + server +
             " up and reachable from here? kubectl cluster-info checks "
             "the same kubeconfig)";
    case 401:
      return " (the kubeconfig's credentials were refused; kubectl auth "
             "whoami checks them)";
    case 403:
      return " (dsdctl needs get and list on nodes, pods, "
             "daemonsets.apps and controllerrevisions.apps: README, "
             "\"Connect to a cluster\")";
    default:
      return "";
  }
}

}  // namespace

int ReadCluster(const ClusterOptions& options, std::string& text,
                std::string& source, std::ostream& err) {
  absl::StatusOr<kube::RestConfig> config =
      kube::LoadDefaultConfig(options.kubeconfig, options.context);
  if (!config.ok()) {
    if (kube::IsNoConfig(config.status())) {
      err << "error: no input: pass -f FILE, or a cluster to read: "
          << Printable(std::string(config.status().message())) << '\n';
      return kExitUsage;
    }
    err << "error: " << Printable(std::string(config.status().message()))
        << '\n';
    return kExitInput;
  }
  for (const std::string& w : config->warnings) err << Printable(w) << '\n';
  kube::ClusterListOptions list;
  list.namespace_ = options.all_namespaces        ? ""
                    : !options.namespace_.empty() ? options.namespace_
                    : !config->namespace_.empty() ? config->namespace_
                                                  : "default";
  list.page_size = options.chunk_size;
  Progress progress(options, err);
  list.progress = [&](const kube::Resource& r, size_t items, int pages,
                      bool done) { progress.Page(r, items, pages, done); };
  kube::ClientOptions client_options;
  client_options.user_agent = std::string("dsdctl/") + kDsdctlVersion;
  // One read of four kinds: a few pages each, not a controller's steady
  // stream; client-go's 5 qps would make a large cluster's pods wait.
  client_options.qps = 50;
  client_options.burst = 100;
  const std::string server = config->server;
  source = "cluster of " + config->source;
  kube::Client client(std::move(*config), client_options);
  absl::StatusOr<std::string> listed = kube::ListCluster(client, list);
  progress.Clear();
  if (!listed.ok()) {
    err << "error: reading the " << Printable(source) << ": "
        << Printable(std::string(listed.status().message()))
        << Hint(listed.status(), server) << '\n';
    return kExitInput;
  }
  text = std::move(*listed);
  if (!list.namespace_.empty() && progress.daemon_sets() == 0) {
    // As kubectl says it; the plan is still printed (and empty).
    err << "No DaemonSets found in " << list.namespace_
        << " namespace (-A reads every namespace).\n";
  }
  return kExitOk;
}

int RunSnapshot(const ClusterOptions& options, const std::string& output_file,
                std::ostream& out, std::ostream& err) {
  std::string text, source;
  if (const int code = ReadCluster(options, text, source, err)) return code;
  if (output_file.empty() || output_file == "-") {
    out << text << std::flush;
    if (!out) {
      err << "error: writing the snapshot to stdout failed\n";
      return kExitInput;
    }
    return kExitOk;
  }
  const std::string tmp = output_file + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << text;
    f.close();
    if (!f) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      err << "error: --output-file " << Printable(output_file)
          << ": cannot write " << Printable(tmp) << '\n';
      return kExitUsage;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, output_file, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    err << "error: --output-file " << Printable(output_file)
        << ": cannot replace it: " << ec.message() << '\n';
    return kExitUsage;
  }
  return kExitOk;
}

}  // namespace dsd::client
