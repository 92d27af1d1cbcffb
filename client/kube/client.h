// A Kubernetes API client: list (with limit/continue) and watch
// (resourceVersion, bookmarks, timeoutSeconds) over HTTP(S) with libcurl,
// and the writes dsd-adapter's apply mode makes: create an object, update
// one (optimistically, on its resourceVersion), delete one with a uid
// precondition. It decides nothing.
//
// What it does as client-go does: kept-alive connections shared by its
// requests (a POST excepted: see Perform in client.cc), one User-Agent, a
// QPS/burst token bucket, retries only on 429 and 5xx answers that carry
// Retry-After (never a POST after a 5xx: it may have created the object)
// and on dropped connections (not for a POST either), bearer tokens
// (static, tokenFile re-read when it changes, exec plugins re-run on
// expiry or 401), client certificates. What the API server sends is bounded: a
// response body (list page) past max_body_bytes and a watch line past
// max_line_bytes end the request with an error naming the limit; nothing it
// sends can crash it.
#ifndef DSD_CLIENT_KUBE_CLIENT_H_
#define DSD_CLIENT_KUBE_CLIENT_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "client/kube/exec_credential.h"
#include "client/kube/kubeconfig.h"
#include "client/kube/rate_limiter.h"
#include "client/kube/slim.h"

namespace dsd::kube {

// A kind of object, by its REST path.
struct Resource {
  std::string api_path;  // "/api/v1" or "/apis/apps/v1"
  std::string plural;    // "nodes"
  std::string kind;      // "Node"
  bool namespaced = true;
};
// The apiVersion of the resource's objects, which the API server leaves
// out of List items and watch events: "v1" for the core group
// ("/api/v1"), else the group and version ("/apis/apps/v1": "apps/v1").
inline std::string ApiVersion(const Resource& resource) {
  constexpr std::string_view kGroups = "/apis/";
  return resource.api_path.rfind(kGroups, 0) == 0
             ? resource.api_path.substr(kGroups.size())
             : "v1";
}
inline const Resource kNodes{"/api/v1", "nodes", "Node", false};
inline const Resource kPods{"/api/v1", "pods", "Pod", true};
inline const Resource kDaemonSets{"/apis/apps/v1", "daemonsets", "DaemonSet",
                                  true};
inline const Resource kEvents{"/api/v1", "events", "Event", true};
inline const Resource kLeases{"/apis/coordination.k8s.io/v1", "leases", "Lease",
                              true};
inline const Resource kControllerRevisions{
    "/apis/apps/v1", "controllerrevisions", "ControllerRevision", true};

struct ClientOptions {
  std::string user_agent = "dsd/0.1.0";  // "PROGRAM/VERSION"
  double qps = 5;                        // client-go's defaults
  int burst = 10;
  int max_retries = 10;                  // per request, on Retry-After
  double max_retry_after_seconds = 60;   // a longer Retry-After is cut
  double request_timeout_seconds = 120;  // one list page
  double connect_timeout_seconds = 10;
  int64_t max_body_bytes = int64_t{512} << 20;  // one list page
  int64_t max_line_bytes = int64_t{16} << 20;   // one watch event
  // Called after every HTTP exchange: verb (LIST, WATCH, GET, CREATE,
  // UPDATE, DELETE),
  // HTTP code (0: no answer). For metrics; may be empty.
  std::function<void(const std::string& verb, int code)> on_call;
};

// An error from the API server keeps its HTTP code and metav1.Status
// reason (NotFound, Expired, TooManyRequests, ...) and, for
// ResourceVersionTooLarge, the cause; read them with these.
int HttpCode(const absl::Status& status);  // 0: no HTTP answer
std::string StatusReason(const absl::Status& status);
// 410 Gone / Expired, from an answer or a watch ERROR event.
bool IsGone(const absl::Status& status);
// 504 with cause ResourceVersionTooLarge (client-go's
// isTooLargeResourceVersionError).
bool IsTooLargeResourceVersion(const absl::Status& status);

struct ListOptions {
  std::string namespace_;  // empty: all namespaces
  std::string label_selector;
  std::string field_selector;
  std::string resource_version;  // "" (latest), "0" (any), or exact
  int64_t limit = 500;           // page size; 0: no paging
  // After each page: the items received so far and pages so far (for
  // progress lines); may be empty.
  std::function<void(size_t items, int pages)> on_page;
  // When set, each item goes here as its page is read instead of into
  // ListResult::items, so a large list is never held whole.
  std::function<void(nlohmann::json&& item)> on_item;
};

struct ListResult {
  std::string resource_version;  // of the list, to watch from
  std::vector<nlohmann::json> items;
};

// A list as the slim store holds it (see slim.h).
struct SlimListResult {
  std::string resource_version;
  std::vector<SlimItem> items;
};

struct WatchOptions {
  std::string namespace_;
  std::string label_selector;
  std::string field_selector;
  std::string resource_version;
  bool allow_bookmarks = true;
  int timeout_seconds = 300;
};

struct WatchEvent {
  std::string type;  // ADDED, MODIFIED, DELETED, BOOKMARK
  nlohmann::json object;
};

// One line of a watch stream of `resource` as the API server sends it
// ({"type": ..., "object": {...}}). An ERROR event is the API error it
// carries (a 410 is IsGone); a line that is not such an event is
// DATA_LOSS. `what` names the watch request, `where` the line. Objects of
// ADDED, MODIFIED and DELETED events get the resource's kind and
// apiVersion, which the API server leaves out.
absl::StatusOr<WatchEvent> DecodeWatchEvent(std::string_view line,
                                            const Resource& resource,
                                            const std::string& what,
                                            const std::string& where);

class Client {
 public:
  Client(RestConfig config, ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Every page of a list (limit/continue), items in order. A page that
  // comes back 410 after the first (continue token expired) is an error
  // (IsGone) for the caller to relist.
  absl::StatusOr<ListResult> List(const Resource& resource,
                                  const ListOptions& options);
  // As List, each item slimmed (SlimObject) to compact JSON text as the
  // page is read: the whole objects are never held (DecodeListPage). With
  // `on_item`, each item goes there as its page is read instead of into
  // SlimListResult::items (options.on_item is for List).
  absl::StatusOr<SlimListResult> ListSlim(
      const Resource& resource, const ListOptions& options,
      const std::function<void(SlimItem&& item)>& on_item = {});

  // Watches until the server ends the stream (OK), `on_event` returns
  // false (OK), `stop` turns true (Cancelled), or an error: the HTTP
  // answer's, a watch ERROR event's (410: IsGone), a malformed or too
  // long line, a dropped connection (Unavailable).
  absl::Status Watch(const Resource& resource, const WatchOptions& options,
                     const std::function<bool(WatchEvent&&)>& on_event);

  // GET one object (an error with HTTP 404 when there is none).
  absl::StatusOr<nlohmann::json> GetObject(const Resource& resource,
                                           const std::string& ns,
                                           const std::string& name);
  // POST the object to the resource's collection in `ns`; the object as
  // stored (with its generated name and uid). Errors keep the HTTP code and
  // reason (HttpCode, StatusReason).
  absl::StatusOr<nlohmann::json> Create(const Resource& resource,
                                        const std::string& ns,
                                        const nlohmann::json& object);
  // PUT `object` to ns/name (or its `subresource`, e.g. "status"), with
  // the metadata.resourceVersion it carries (409 Conflict when the stored
  // object has moved on); the object as stored.
  absl::StatusOr<nlohmann::json> Update(const Resource& resource,
                                        const std::string& ns,
                                        const std::string& name,
                                        const std::string& subresource,
                                        const nlohmann::json& object);
  // DELETE ns/name with DeleteOptions{preconditions: {uid}} (none when
  // `uid` is empty) and no grace-period override, as upstream's
  // controller; a 404 or 409 (the uid no longer matches) is an error for
  // the caller to read.
  absl::Status Delete(const Resource& resource, const std::string& ns,
                      const std::string& name, const std::string& uid);

  // Makes pending and future calls return Cancelled soon.
  void Stop() { stop_.store(true); }
  const RestConfig& config() const { return config_; }

 private:
  struct Auth {
    std::string bearer;
    std::string cert_pem, key_pem;
  };
  absl::StatusOr<Auth> CurrentAuth(bool refresh);
  // Every page of a list: `on_page` decodes the body into the items and
  // returns the page's metadata.continue.
  absl::Status ListPages(
      const Resource& resource, const ListOptions& options,
      const std::function<absl::StatusOr<std::string>(
          std::string& body, const std::string& what)>& on_page);
  std::string ObjectUrl(const Resource& resource, const std::string& ns,
                        const std::string& name);
  // One GET with retries; the whole body.
  absl::StatusOr<std::string> Get(const std::string& verb,
                                  const std::string& url);
  // One request with retries (see the file comment): a 2xx answer.
  struct Answer {
    int code = 0;
    std::string body;
  };
  absl::StatusOr<Answer> Send(const std::string& verb,
                              const std::string& method, const std::string& url,
                              const std::string& body);

  RestConfig config_;
  ClientOptions options_;
  // The connections (and TLS sessions) this client's requests share.
  class ConnectionPool;
  std::unique_ptr<ConnectionPool> pool_;
  RateLimiter limiter_;
  std::atomic<bool> stop_{false};
  std::mutex auth_mu_;
  std::optional<ExecCredential> exec_cred_;
  std::string file_token_;
  int64_t file_token_mtime_ = -1;
};

// "/api/v1/namespaces/ns/pods?limit=500&..." (escaped).
std::string ResourcePath(const Resource& resource, const std::string& ns);

}  // namespace dsd::kube

#endif  // DSD_CLIENT_KUBE_CLIENT_H_
