// A fake Kubernetes API server for tests (cpp-httplib): Nodes, Pods,
// DaemonSets, ControllerRevisions and Leases as the real one serves them — List
// objects with metadata.resourceVersion and continue tokens, watch streams
// (one JSON event a line, bookmarks, timeoutSeconds), GET of one object,
// metav1.Status errors — the writes dsd-adapter's apply mode makes (POST an
// object, with generateName; DELETE one, with a uid precondition; each as the
// API server answers them: 201, 404 NotFound, 409 AlreadyExists/Conflict, 400
// for a body naming another namespace, 422 without a name), a scheduler and
// kubelet that bind a created daemon pod to the node its affinity names and
// make it Running and Ready (Options::run_created_pods) — plus what a test
// scripts: faults (any status with or without Retry-After, dropped connections,
// garbage, endless lines, a watch cut after N events), compaction (410 for
// older resourceVersions), bearer tokens, TLS, and a log of every request.
#ifndef DSD_TESTS_KUBE_FAKE_APISERVER_H_
#define DSD_TESTS_KUBE_FAKE_APISERVER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace httplib {
class Server;
}

namespace dsd::testing {

// Something the server does instead of (or while) answering a request.
struct Fault {
  enum class Kind {
    kStatus,    // HTTP `status` with a metav1.Status body
    kDrop,      // close the connection without an answer
    kGarbage,   // 200 with `body` (not a List)
    kHugeLine,  // a watch whose first line never ends (`body_bytes`)
    kCutWatch,  // a watch cut (no final chunk) after `after_events`
  };
  Kind kind = Kind::kStatus;
  // Applies to requests whose "METHOD /path?query" contains this (empty:
  // all), `times` times.
  std::string match;
  int times = 1;
  int status = 500;
  std::string reason;      // metav1.Status reason; empty: from the code
  std::string cause;       // details.causes[0].reason, e.g.
                           // ResourceVersionTooLarge
  int retry_after = -1;    // seconds; -1: no Retry-After header
  std::string body;        // kGarbage
  int64_t body_bytes = 0;  // kHugeLine
  int after_events = 0;    // kCutWatch
};

struct LoggedRequest {
  std::string method;
  std::string target;  // path?query as sent
  std::string user_agent;
  std::string authorization;
  int status = 0;  // what the fake answered (0: dropped)
  std::string accept_encoding;
  std::string body;  // of a POST, PUT, PATCH or DELETE
  std::string content_type;
  std::chrono::steady_clock::time_point at;  // when it was answered
  int remote_port = 0;                       // the client's: one per connection
};

class FakeApiServer {
 public:
  struct Options {
    std::string token;                // required bearer token; empty: no auth
    std::string cert_file, key_file;  // both: HTTPS
    int bookmark_interval_ms = 1000;
    int port = 0;  // 0: a free one
    // A created pod pinned by matchFields metadata.name (as the DaemonSet
    // controller pins it) is bound to that node and made Running and Ready
    // at once: two MODIFIED events after its ADDED, as kube-scheduler and
    // the kubelet would.
    bool run_created_pods = false;
  };
  // Listens on 127.0.0.1 (on a free port unless options.port is set).
  static std::unique_ptr<FakeApiServer> Start(const Options& options);
  static std::unique_ptr<FakeApiServer> Start() { return Start(Options()); }
  ~FakeApiServer();

  int port() const { return port_; }
  std::string url() const;  // http(s)://127.0.0.1:PORT

  // Adds or replaces an object (by kind, namespace, name): sets
  // metadata.resourceVersion (and uid, creationTimestamp when missing)
  // and sends ADDED or MODIFIED to watchers. Returns the object stored.
  nlohmann::json Apply(nlohmann::json object);
  // Every object of a `kubectl get -o json` text or of YAML manifests
  // (Lists are flattened), read by dsdctl's document parser.
  void Load(const std::string& text);
  void Delete(const std::string& kind, const std::string& ns,
              const std::string& name);
  // The stored object, or null.
  nlohmann::json Get(const std::string& kind, const std::string& ns,
                     const std::string& name) const;
  // Every stored object of `kind`, by namespace and name.
  std::vector<nlohmann::json> List(const std::string& kind) const;
  // Sets Options::run_created_pods from now on (false: kubelets that stall).
  void RunCreatedPods(bool run);
  // While held, watches of `kind` send nothing new (a watch that lags);
  // on release they catch up in order.
  void HoldWatches(const std::string& kind, bool hold);
  // Forgets the event history: lists, continues and watches from an older
  // resourceVersion get 410 Expired.
  void Compact();
  // Ends every open watch at once, as a dropped connection.
  void CutWatches();
  int64_t resource_version() const;

  void AddFault(const Fault& fault);
  void SetToken(const std::string& token);
  std::vector<LoggedRequest> Log() const;
  // The requests logged from index `from` on (a poller's cursor).
  std::vector<LoggedRequest> LogSince(size_t from) const;
  int open_watches() const { return open_watches_.load(); }

 private:
  struct Event {
    int64_t rv;
    std::string kind, ns, type;
    nlohmann::json object;
    nlohmann::json prev;  // the object before a MODIFIED, else null
  };
  FakeApiServer() = default;
  void Route();
  // A POST to a collection, a PUT or a DELETE of an object (mu_ held):
  // the HTTP code and the body to answer.
  std::pair<int, nlohmann::json> Write(const std::string& method,
                                       const std::string& path,
                                       const std::string& body);
  // Stores `object` (mu_ held): resourceVersion, event.
  void StoreLocked(const std::string& kind, const std::string& ns,
                   nlohmann::json& object);
  struct Stored;

  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  bool tls_ = false;
  Options options_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  // kind -> "ns/name" -> object
  std::map<std::string, std::map<std::string, nlohmann::json>> objects_;
  std::vector<Event> events_;
  int64_t rv_ = 1000;
  int64_t compacted_rv_ = 0;  // events at or before this are gone
  uint64_t cut_generation_ = 0;
  std::vector<Fault> faults_;
  std::vector<LoggedRequest> log_;
  std::string token_;
  std::atomic<int> open_watches_{0};
  uint64_t next_uid_ = 0;
  std::set<std::string> held_kinds_;
  std::atomic<bool> stopping_{false};
};

}  // namespace dsd::testing

#endif  // DSD_TESTS_KUBE_FAKE_APISERVER_H_
