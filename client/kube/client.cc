#include "client/kube/client.h"

#include <curl/curl.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <random>
#include <sstream>
#include <string_view>
#include <thread>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "client/kube/slim.h"

namespace dsd::kube {
namespace {

// The JSON text of an object sent or quoted in an error: a string that is
// not UTF-8 (from a cluster's own objects) gets U+FFFD instead of a throw.
std::string Text(const nlohmann::json& object) {
  return object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

constexpr char kHttpPayload[] = "type.dsd.dev/kube.http";
// How much of an error body goes into a message.
constexpr size_t kMaxMessageBytes = 512;

void GlobalInit() {
  static const bool done = [] {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return true;
  }();
  (void)done;
}

std::string Cut(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, kMaxMessageBytes)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? ' ' : c;
  }
  if (s.size() > kMaxMessageBytes) {
    out += "... (" + std::to_string(s.size()) + " bytes)";
  }
  return out;
}

absl::StatusCode CodeFor(int http) {
  switch (http) {
    case 400:
      return absl::StatusCode::kInvalidArgument;
    case 401:
      return absl::StatusCode::kUnauthenticated;
    case 403:
      return absl::StatusCode::kPermissionDenied;
    case 404:
      return absl::StatusCode::kNotFound;
    case 409:
      return absl::StatusCode::kAborted;
    case 410:
      return absl::StatusCode::kOutOfRange;
    case 429:
      return absl::StatusCode::kResourceExhausted;
    case 504:
      return absl::StatusCode::kDeadlineExceeded;
    default:
      return http >= 500 ? absl::StatusCode::kUnavailable
                         : absl::StatusCode::kUnknown;
  }
}

// An error for an HTTP answer or a watch ERROR event: `body` is a
// metav1.Status when the server is Kubernetes, anything otherwise.
absl::Status ApiError(const std::string& what, int http,
                      std::string_view body) {
  std::string reason, message, cause;
  const nlohmann::json status = nlohmann::json::parse(body, nullptr, false);
  if (status.is_object() &&
      status.value("kind", nlohmann::json()) == "Status") {
    if (auto it = status.find("reason"); it != status.end() && it->is_string())
      reason = it->get<std::string>();
    if (auto it = status.find("message"); it != status.end() && it->is_string())
      message = it->get<std::string>();
    if (auto it = status.find("code");
        http == 0 && it != status.end() && it->is_number_integer()) {
      http = it->get<int>();
    }
    if (auto d = status.find("details"); d != status.end() && d->is_object()) {
      if (auto c = d->find("causes"); c != d->end() && c->is_array()) {
        for (const nlohmann::json& one : *c) {
          if (one.is_object() && one.value("reason", nlohmann::json()) ==
                                     "ResourceVersionTooLarge") {
            cause = "ResourceVersionTooLarge";
          }
        }
      }
    }
  } else {
    message = std::string(body);
  }
  // The apiserver writes "Too large resource version" in the message too.
  if (http == 504 &&
      message.find("Too large resource version") != std::string::npos) {
    cause = "ResourceVersionTooLarge";
  }
  std::string text = what + ": HTTP " + std::to_string(http);
  if (!reason.empty()) text += " " + reason;
  if (!message.empty()) text += ": " + Cut(message);
  absl::Status s(CodeFor(http), text);
  s.SetPayload(kHttpPayload,
               absl::Cord(std::to_string(http) + " " + reason + " " + cause));
  return s;
}

std::vector<std::string> PayloadParts(const absl::Status& status) {
  const auto p = status.GetPayload(kHttpPayload);
  if (!p) return {};
  return absl::StrSplit(std::string(*p), ' ');
}

// Decorrelated exponential backoff with full jitter, capped.
std::chrono::milliseconds Backoff(int attempt) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const double base = std::min(30'000.0, 200.0 * (1 << std::min(attempt, 8)));
  std::uniform_real_distribution<double> jitter(0.5, 1.0);
  return std::chrono::milliseconds(static_cast<int64_t>(base * jitter(rng)));
}

struct Transfer {
  // Filled by the callbacks.
  std::string body;         // whole body (non-streaming or error)
  std::string retry_after;  // the header's value
  std::string line;         // streaming: the partial line
  bool over_limit = false;  // body or line past its cap
  bool consumer_stopped = false;
  // Set up by the caller.
  CURL* curl = nullptr;
  int64_t max_body = 0;
  int64_t max_line = 0;
  std::function<absl::Status(std::string_view)> on_line;  // streaming
  const std::atomic<bool>* stop = nullptr;
};

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view h(data, size * n);
  constexpr std::string_view kName = "retry-after:";
  if (h.size() > kName.size()) {
    std::string lower(h.substr(0, kName.size()));
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    if (lower == kName) {
      std::string v(h.substr(kName.size()));
      v.erase(0, v.find_first_not_of(" \t"));
      v.erase(v.find_last_not_of(" \t\r\n") + 1);
      t->retry_after = v.substr(0, 64);
    }
  }
  return size * n;
}

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t bytes = size * n;
  long code = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
  if (!t->on_line || code != 200) {
    // An error body is kept short whatever the caps.
    const int64_t cap = code == 200 ? t->max_body : 1 << 20;
    if (static_cast<int64_t>(t->body.size() + bytes) > cap) {
      t->over_limit = true;
      return 0;
    }
    t->body.append(data, bytes);
    return bytes;
  }
  std::string_view in(data, bytes);
  while (!in.empty()) {
    const size_t nl = in.find('\n');
    const std::string_view part = in.substr(0, nl);
    if (static_cast<int64_t>(t->line.size() + part.size()) > t->max_line) {
      t->over_limit = true;
      return 0;
    }
    t->line.append(part);
    if (nl == std::string_view::npos) break;
    in.remove_prefix(nl + 1);
    if (t->line.find_first_not_of(" \t\r") != std::string::npos) {
      absl::Status s = t->on_line(t->line);
      if (!s.ok()) {
        // The line handler keeps its error (with its HTTP code) itself.
        t->consumer_stopped = s.code() == absl::StatusCode::kCancelled;
        t->line.clear();
        return 0;
      }
    }
    t->line.clear();
  }
  return bytes;
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  return t->stop != nullptr && t->stop->load() ? 1 : 0;
}

std::string Escape(CURL* curl, const std::string& s) {
  char* e = curl_easy_escape(curl, s.c_str(), static_cast<int>(s.size()));
  std::string out = e != nullptr ? e : "";
  curl_free(e);
  return out;
}

std::string Query(CURL* curl,
                  const std::vector<std::pair<std::string, std::string>>& q) {
  std::string out;
  for (const auto& [k, v] : q) {
    if (v.empty()) continue;
    out += (out.empty() ? "?" : "&") + k + "=" + Escape(curl, v);
  }
  return out;
}

}  // namespace

int HttpCode(const absl::Status& status) {
  std::vector<std::string> parts = PayloadParts(status);
  int code = 0;
  if (!parts.empty()) (void)absl::SimpleAtoi(parts[0], &code);
  return code;
}

std::string StatusReason(const absl::Status& status) {
  std::vector<std::string> parts = PayloadParts(status);
  return parts.size() > 1 ? parts[1] : "";
}

bool IsGone(const absl::Status& status) {
  return HttpCode(status) == 410 || StatusReason(status) == "Expired" ||
         StatusReason(status) == "Gone";
}

bool IsTooLargeResourceVersion(const absl::Status& status) {
  std::vector<std::string> parts = PayloadParts(status);
  return parts.size() > 2 && parts[2] == "ResourceVersionTooLarge";
}

std::string ResourcePath(const Resource& resource, const std::string& ns) {
  if (resource.namespaced && !ns.empty()) {
    return resource.api_path + "/namespaces/" + ns + "/" + resource.plural;
  }
  return resource.api_path + "/" + resource.plural;
}

// libcurl's share interface: one cache of open connections, TLS sessions
// and DNS answers for all of a Client's requests (each its own easy
// handle, on any thread), so a request reuses an idle keep-alive
// connection rather than connecting (and, for https, handshaking) again.
class Client::ConnectionPool {
 public:
  ConnectionPool() : share_(curl_share_init()) {
    curl_share_setopt(share_, CURLSHOPT_LOCKFUNC, Lock);
    curl_share_setopt(share_, CURLSHOPT_UNLOCKFUNC, Unlock);
    curl_share_setopt(share_, CURLSHOPT_USERDATA, this);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  }
  ~ConnectionPool() { curl_share_cleanup(share_); }
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  CURLSH* share() const { return share_; }

 private:
  static void Lock(CURL*, curl_lock_data data, curl_lock_access, void* self) {
    static_cast<ConnectionPool*>(self)->mu_[Slot(data)].lock();
  }
  static void Unlock(CURL*, curl_lock_data data, void* self) {
    static_cast<ConnectionPool*>(self)->mu_[Slot(data)].unlock();
  }
  static size_t Slot(curl_lock_data data) {
    return std::min(static_cast<size_t>(data), kSlots - 1);
  }

  static constexpr size_t kSlots = CURL_LOCK_DATA_LAST;
  CURLSH* const share_;
  std::mutex mu_[kSlots];  // one per kind of data, as libcurl asks
};

Client::Client(RestConfig config, ClientOptions options)
    : config_(std::move(config)),
      options_(std::move(options)),
      limiter_(options_.qps, options_.burst) {
  GlobalInit();
  pool_ = std::make_unique<ConnectionPool>();
}

Client::~Client() = default;

absl::StatusOr<Client::Auth> Client::CurrentAuth(bool refresh) {
  std::lock_guard<std::mutex> lock(auth_mu_);
  Auth auth;
  auth.cert_pem = config_.client_cert_pem;
  auth.key_pem = config_.client_key_pem;
  auth.bearer = config_.token;
  if (!config_.token_file.empty()) {
    struct stat st {};
    if (stat(config_.token_file.c_str(), &st) == 0 &&
        st.st_mtim.tv_sec * 1'000'000'000 + st.st_mtim.tv_nsec !=
            file_token_mtime_) {
      std::ifstream in(config_.token_file);
      std::ostringstream s;
      s << in.rdbuf();
      std::string token = s.str();
      token.erase(token.find_last_not_of(" \t\r\n") + 1);
      if (!token.empty() && token.size() < (1 << 20)) {
        file_token_ = token;
        file_token_mtime_ =
            st.st_mtim.tv_sec * 1'000'000'000 + st.st_mtim.tv_nsec;
      }
    }
    if (!file_token_.empty()) auth.bearer = file_token_;
  }
  if (config_.has_exec) {
    if (refresh || !exec_cred_ ||
        exec_cred_->expires <= std::chrono::system_clock::now()) {
      absl::StatusOr<ExecCredential> cred =
          RunExecPlugin(config_.exec, config_.server);
      if (!cred.ok()) return cred.status();
      exec_cred_ = *cred;
    }
    if (!exec_cred_->token.empty()) auth.bearer = exec_cred_->token;
    if (!exec_cred_->client_cert_pem.empty()) {
      auth.cert_pem = exec_cred_->client_cert_pem;
      auth.key_pem = exec_cred_->client_key_pem;
    }
  }
  return auth;
}

namespace {

// One HTTP exchange. Returns the HTTP code (0 and `error` on no answer).
struct Outcome {
  int http = 0;
  CURLcode curl = CURLE_OK;
  std::string curl_error;
};

// For tls-server-name: `url` with its host replaced by `name`, and the
// CURLOPT_CONNECT_TO entry and Host header that still reach (and name) the
// original host. libcurl checks the certificate against the URL's host, so
// this is how it checks another name (docs: cluster-integration 5.4).
struct ServerNameRoute {
  std::string url, connect_to, host_header;
};
std::optional<ServerNameRoute> RouteForServerName(const std::string& url,
                                                  const std::string& name) {
  constexpr std::string_view kHttps = "https://";
  if (name.empty() || url.rfind(kHttps, 0) != 0) return std::nullopt;
  const size_t start = kHttps.size();
  const size_t end = std::min(url.find('/', start), url.size());
  const std::string authority = url.substr(start, end - start);
  std::string host = authority;
  std::string port = "443";
  const size_t bracket = authority.find(']');
  const size_t colon = authority.rfind(':');
  if (colon != std::string::npos &&
      (bracket == std::string::npos || colon > bracket)) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  ServerNameRoute r;
  r.url = std::string(kHttps) + name + ":" + port + url.substr(end);
  r.connect_to = name + ":" + port + ":" + host + ":" + port;
  r.host_header = "Host: " + authority;
  return r;
}

// A request: GET unless `method` says otherwise; `body` (JSON) is sent
// when not empty.
struct Request {
  const std::string& method;
  const std::string& url;
  const std::string& body;
};

Outcome Perform(CURLSH* pool, const RestConfig& config,
                const ClientOptions& options, const Request& request,
                const std::string& bearer, const std::string& cert,
                const std::string& key, double timeout_seconds, Transfer& t) {
  const std::string& url = request.url;
  CURL* curl = curl_easy_init();
  t.curl = curl;
  curl_easy_setopt(curl, CURLOPT_SHARE, pool);
  // libcurl sends a request again, unasked, when a reused connection
  // closes before any answer. The server may have carried it out: a POST
  // (a pod by generateName) would then be made twice. A POST has a
  // connection of its own, closed after it (no POST would reuse it: kept,
  // it would only sit idle).
  if (request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(curl, CURLOPT_FORBID_REUSE, 1L);
  }
  // Idle connections kept (the oldest is closed past it): enough for the
  // requests one Client has in flight (watches, a batch of writes).
  curl_easy_setopt(curl, CURLOPT_MAXCONNECTS, 64L);
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Accept: application/json");
  if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  if (!request.body.empty()) {
    headers = curl_slist_append(headers, "Content-Type: application/json");
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
  }
  std::string auth_header;
  if (!bearer.empty()) {
    auth_header = "Authorization: Bearer " + bearer;
    headers = curl_slist_append(headers, auth_header.c_str());
  }
  const std::optional<ServerNameRoute> route =
      RouteForServerName(url, config.tls_server_name);
  curl_slist* connect_to = nullptr;
  if (route) {
    headers = curl_slist_append(headers, route->host_header.c_str());
    connect_to = curl_slist_append(connect_to, route->connect_to.c_str());
    curl_easy_setopt(curl, CURLOPT_CONNECT_TO, connect_to);
  }
  curl_easy_setopt(curl, CURLOPT_URL, route ? route->url.c_str() : url.c_str());
  if (!config.proxy_url.empty()) {
    curl_easy_setopt(curl, CURLOPT_PROXY, config.proxy_url.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, options.user_agent.c_str());
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  // gzip, as client-go asks: the one compression kube-apiserver speaks.
  // ("" would offer every encoding libcurl has, brotli and zstd too.)
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "gzip");
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options.connect_timeout_seconds * 1000));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(timeout_seconds * 1000));
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, OnProgress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &t);
  curl_blob ca{}, cert_blob{}, key_blob{};
  if (!config.ca_pem.empty()) {
    ca = {const_cast<char*>(config.ca_pem.data()), config.ca_pem.size(),
          CURL_BLOB_NOCOPY};
    curl_easy_setopt(curl, CURLOPT_CAINFO_BLOB, &ca);
  }
  if (!cert.empty()) {
    cert_blob = {const_cast<char*>(cert.data()), cert.size(), CURL_BLOB_NOCOPY};
    key_blob = {const_cast<char*>(key.data()), key.size(), CURL_BLOB_NOCOPY};
    curl_easy_setopt(curl, CURLOPT_SSLCERTTYPE, "PEM");
    curl_easy_setopt(curl, CURLOPT_SSLCERT_BLOB, &cert_blob);
    curl_easy_setopt(curl, CURLOPT_SSLKEYTYPE, "PEM");
    curl_easy_setopt(curl, CURLOPT_SSLKEY_BLOB, &key_blob);
  }
  if (config.insecure_skip_tls_verify) {
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  Outcome out;
  out.curl = curl_easy_perform(curl);
  long code = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  out.http = static_cast<int>(code);
  out.curl_error = errbuf[0] != 0 ? errbuf : curl_easy_strerror(out.curl);
  curl_easy_cleanup(curl);
  curl_slist_free_all(headers);
  curl_slist_free_all(connect_to);
  t.curl = nullptr;
  return out;
}

// Retry-After in seconds (client-go reads integers only); -1 if absent.
double RetryAfterSeconds(const std::string& value) {
  int seconds = 0;
  if (value.empty() || !absl::SimpleAtoi(value, &seconds) || seconds < 0) {
    return -1;
  }
  return seconds;
}

bool Dropped(CURLcode c) {
  return c == CURLE_RECV_ERROR || c == CURLE_GOT_NOTHING ||
         c == CURLE_PARTIAL_FILE || c == CURLE_SEND_ERROR;
}

}  // namespace

absl::StatusOr<std::string> Client::Get(const std::string& verb,
                                        const std::string& url) {
  absl::StatusOr<Answer> a = Send(verb, "GET", url, "");
  if (!a.ok()) return a.status();
  return std::move(a->body);
}

absl::StatusOr<Client::Answer> Client::Send(const std::string& verb,
                                            const std::string& method,
                                            const std::string& url,
                                            const std::string& body) {
  const std::string what = verb + " " + url;
  // What may be sent again. A GET, a PUT (it carries a resourceVersion: a
  // second one answers 409) and a DELETE (dsd's carry a uid precondition:
  // a second one answers 404 or 409), after a dropped connection; every
  // verb after a 429 with Retry-After (API Priority and Fairness refused
  // it before it ran); not a POST after a 5xx, which may have created the
  // object (cluster-integration 4: check first).
  const bool replayable = method != "POST";
  bool refreshed = false;
  int dropped = 0;
  for (int attempt = 0;; ++attempt) {
    if (!limiter_.Wait(&stop_)) return absl::CancelledError(what + ": stopped");
    absl::StatusOr<Auth> auth = CurrentAuth(false);
    if (!auth.ok()) return auth.status();
    Transfer t;
    t.max_body = options_.max_body_bytes;
    t.stop = &stop_;
    const Outcome o =
        Perform(pool_->share(), config_, options_, Request{method, url, body},
                auth->bearer, auth->cert_pem, auth->key_pem,
                options_.request_timeout_seconds, t);
    if (options_.on_call) options_.on_call(verb, o.http);
    if (stop_.load()) return absl::CancelledError(what + ": stopped");
    if (t.over_limit) {
      return absl::ResourceExhaustedError(
          what + ": response larger than " +
          std::to_string(options_.max_body_bytes) +
          " bytes (a smaller --chunk-size/limit helps)");
    }
    if (o.curl != CURLE_OK) {
      if (replayable && Dropped(o.curl) && dropped < 3 &&
          attempt < options_.max_retries) {
        std::this_thread::sleep_for(Backoff(dropped++));
        continue;
      }
      return absl::UnavailableError(what + ": " + o.curl_error);
    }
    if (o.http >= 200 && o.http < 300) return Answer{o.http, std::move(t.body)};
    if (o.http == 401 && config_.has_exec && !refreshed) {
      refreshed = true;  // the credential may have been revoked: re-run
      if (absl::StatusOr<Auth> a = CurrentAuth(true); !a.ok()) {
        return a.status();
      }
      continue;
    }
    const double after = RetryAfterSeconds(t.retry_after);
    if ((o.http == 429 || (o.http >= 500 && method != "POST")) && after >= 0 &&
        attempt < options_.max_retries) {
      const auto wait = std::chrono::duration<double>(
          std::min(after, options_.max_retry_after_seconds));
      const auto until = std::chrono::steady_clock::now() + wait;
      while (std::chrono::steady_clock::now() < until && !stop_.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      continue;
    }
    return ApiError(what, o.http, t.body);
  }
}

// The object path of `name` in `resource` (escaped).
std::string Client::ObjectUrl(const Resource& resource, const std::string& ns,
                              const std::string& name) {
  CURL* esc = curl_easy_init();
  std::string url =
      config_.server + ResourcePath(resource, ns) + "/" + Escape(esc, name);
  curl_easy_cleanup(esc);
  return url;
}

absl::StatusOr<nlohmann::json> Client::GetObject(const Resource& resource,
                                                 const std::string& ns,
                                                 const std::string& name) {
  absl::StatusOr<std::string> body = Get("GET", ObjectUrl(resource, ns, name));
  if (!body.ok()) return body.status();
  nlohmann::json object = nlohmann::json::parse(*body, nullptr, false);
  if (!object.is_object()) {
    return absl::DataLossError("GET " + resource.plural + " " + ns + "/" +
                               name + ": the answer is not a JSON object");
  }
  return object;
}

absl::StatusOr<nlohmann::json> Client::Create(const Resource& resource,
                                              const std::string& ns,
                                              const nlohmann::json& object) {
  absl::StatusOr<Answer> a =
      Send("CREATE", "POST", config_.server + ResourcePath(resource, ns),
           Text(object));
  if (!a.ok()) return a.status();
  nlohmann::json stored = nlohmann::json::parse(a->body, nullptr, false);
  if (!stored.is_object()) {
    return absl::DataLossError("CREATE " + resource.plural +
                               ": the answer is not a JSON object");
  }
  return stored;
}

absl::StatusOr<nlohmann::json> Client::Update(const Resource& resource,
                                              const std::string& ns,
                                              const std::string& name,
                                              const std::string& subresource,
                                              const nlohmann::json& object) {
  std::string url = ObjectUrl(resource, ns, name);
  if (!subresource.empty()) url += "/" + subresource;
  absl::StatusOr<Answer> a = Send("UPDATE", "PUT", url, Text(object));
  if (!a.ok()) return a.status();
  nlohmann::json stored = nlohmann::json::parse(a->body, nullptr, false);
  if (!stored.is_object()) {
    return absl::DataLossError("UPDATE " + url +
                               ": the answer is not a JSON object");
  }
  return stored;
}

absl::Status Client::Delete(const Resource& resource, const std::string& ns,
                            const std::string& name, const std::string& uid) {
  nlohmann::json options = {{"apiVersion", "v1"}, {"kind", "DeleteOptions"}};
  if (!uid.empty()) options["preconditions"] = {{"uid", uid}};
  return Send("DELETE", "DELETE", ObjectUrl(resource, ns, name), options.dump())
      .status();
}

absl::Status Client::ListPages(
    const Resource& resource, const ListOptions& options,
    const std::function<absl::StatusOr<std::string>(
        std::string& body, const std::string& what)>& on_page) {
  std::string continue_token;
  CURL* esc = curl_easy_init();
  for (int page = 0;; ++page) {
    std::vector<std::pair<std::string, std::string>> q = {
        {"labelSelector", options.label_selector},
        {"fieldSelector", options.field_selector},
        {"limit", options.limit > 0 ? std::to_string(options.limit) : ""},
        {"continue", continue_token}};
    // The resourceVersion goes with the first page only; the continue
    // token carries it after.
    if (continue_token.empty()) {
      q.emplace_back("resourceVersion", options.resource_version);
    }
    const std::string url = config_.server +
                            ResourcePath(resource, options.namespace_) +
                            Query(esc, q);
    absl::StatusOr<std::string> body = Get("LIST", url);
    if (!body.ok()) {
      curl_easy_cleanup(esc);
      return body.status();
    }
    absl::StatusOr<std::string> next = on_page(*body, "LIST " + url);
    if (!next.ok()) {
      curl_easy_cleanup(esc);
      return next.status();
    }
    continue_token = std::move(*next);
    if (continue_token.empty()) break;
  }
  curl_easy_cleanup(esc);
  return absl::OkStatus();
}

absl::StatusOr<ListResult> Client::List(const Resource& resource,
                                        const ListOptions& options) {
  ListResult result;
  size_t items_seen = 0;
  int pages = 0;
  absl::Status status = ListPages(
      resource, options,
      [&](std::string& body,
          const std::string& what) -> absl::StatusOr<std::string> {
        nlohmann::json list = nlohmann::json::parse(body, nullptr, false);
        body.clear();
        body.shrink_to_fit();
        if (!list.is_object()) {
          return absl::DataLossError(what +
                                     ": the answer is not a JSON object");
        }
        auto items = list.find("items");
        auto meta = list.find("metadata");
        if (items == list.end() || !(items->is_array() || items->is_null()) ||
            meta == list.end() || !meta->is_object()) {
          return absl::DataLossError(
              what + ": not a Kubernetes List (needs items and metadata)");
        }
        if (items->is_array()) {
          for (nlohmann::json& item : *items) {
            if (!item.is_object()) {
              return absl::DataLossError(what + ": an item is not an object");
            }
            // Items of a List have no kind; the converter needs it.
            item["kind"] = resource.kind;
            item["apiVersion"] = ApiVersion(resource);
            ++items_seen;
            if (options.on_item) {
              options.on_item(std::move(item));
            } else {
              result.items.push_back(std::move(item));
            }
          }
        }
        auto str = [&](const char* key) -> std::string {
          auto it = meta->find(key);
          return it != meta->end() && it->is_string() ? it->get<std::string>()
                                                      : "";
        };
        result.resource_version = str("resourceVersion");
        if (options.on_page) options.on_page(items_seen, ++pages);
        return str("continue");
      });
  if (!status.ok()) return status;
  return result;
}

absl::StatusOr<SlimListResult> Client::ListSlim(
    const Resource& resource, const ListOptions& options,
    const std::function<void(SlimItem&& item)>& on_item) {
  SlimListResult result;
  PageDecoder decoder;
  int pages = 0;
  size_t items = 0;
  absl::Status status =
      ListPages(resource, options,
                [&](std::string& body,
                    const std::string& what) -> absl::StatusOr<std::string> {
                  SlimPage page;
                  absl::Status s = decoder.Decode(body, resource, what, &page);
                  body.clear();
                  body.shrink_to_fit();
                  if (!s.ok()) return s;
                  items += page.items.size();
                  if (on_item) {
                    for (SlimItem& item : page.items) on_item(std::move(item));
                  } else if (result.items.empty()) {
                    result.items = std::move(page.items);
                  } else {
                    for (SlimItem& item : page.items) {
                      result.items.push_back(std::move(item));
                    }
                  }
                  result.resource_version = std::move(page.resource_version);
                  if (options.on_page) options.on_page(items, ++pages);
                  return std::move(page.continue_token);
                });
  if (!status.ok()) return status;
  return result;
}

absl::StatusOr<WatchEvent> DecodeWatchEvent(std::string_view line,
                                            const Resource& resource,
                                            const std::string& what,
                                            const std::string& where) {
  if (NestedDeeperThan(line, kMaxJsonNesting)) return TooDeep(where);
  nlohmann::json event = nlohmann::json::parse(line, nullptr, false);
  if (!event.is_object()) {
    return absl::DataLossError(
        where + ": not a JSON object: " + Cut(line.substr(0, 80)));
  }
  auto type = event.find("type");
  auto object = event.find("object");
  if (type == event.end() || !type->is_string() || object == event.end() ||
      !object->is_object()) {
    return absl::DataLossError(where +
                               ": needs a string \"type\" and an \"object\"");
  }
  WatchEvent e{type->get<std::string>(), std::move(*object)};
  if (e.type == "ERROR") return ApiError(what, 0, Text(e.object));
  if (e.type != "ADDED" && e.type != "MODIFIED" && e.type != "DELETED" &&
      e.type != "BOOKMARK") {
    return absl::DataLossError(where + ": unknown type \"" + Cut(e.type) +
                               "\"");
  }
  if (e.type != "BOOKMARK") {
    e.object["kind"] = resource.kind;
    e.object["apiVersion"] = ApiVersion(resource);
  }
  return e;
}

absl::Status Client::Watch(const Resource& resource,
                           const WatchOptions& options,
                           const std::function<bool(WatchEvent&&)>& on_event) {
  CURL* esc = curl_easy_init();
  const std::string url =
      config_.server + ResourcePath(resource, options.namespace_) +
      Query(esc,
            {{"watch", "1"},
             {"labelSelector", options.label_selector},
             {"fieldSelector", options.field_selector},
             {"resourceVersion", options.resource_version},
             {"allowWatchBookmarks", options.allow_bookmarks ? "true" : ""},
             {"timeoutSeconds", options.timeout_seconds > 0
                                    ? std::to_string(options.timeout_seconds)
                                    : ""}});
  curl_easy_cleanup(esc);
  const std::string what = "WATCH " + url;
  if (!limiter_.Wait(&stop_)) return absl::CancelledError(what + ": stopped");
  absl::StatusOr<Auth> auth = CurrentAuth(false);
  if (!auth.ok()) return auth.status();
  Transfer t;
  t.max_line = options_.max_line_bytes;
  t.stop = &stop_;
  absl::Status event_error;
  int64_t line_number = 0;
  t.on_line = [&](std::string_view line) -> absl::Status {
    ++line_number;
    absl::StatusOr<WatchEvent> e = DecodeWatchEvent(
        line, resource, what, what + ": event " + std::to_string(line_number));
    if (!e.ok()) {
      event_error = e.status();
      return event_error;
    }
    if (!on_event(*std::move(e))) return absl::CancelledError("");
    return absl::OkStatus();
  };
  static const std::string kGet = "GET", kNoBody;
  const Outcome o = Perform(
      pool_->share(), config_, options_, Request{kGet, url, kNoBody},
      auth->bearer, auth->cert_pem, auth->key_pem,
      options.timeout_seconds > 0 ? options.timeout_seconds + 30.0 : 0, t);
  if (options_.on_call) options_.on_call("WATCH", o.http);
  if (t.consumer_stopped) return absl::OkStatus();
  if (!event_error.ok()) return event_error;
  if (stop_.load()) return absl::CancelledError(what + ": stopped");
  if (t.over_limit) {
    return absl::ResourceExhaustedError(
        what + ": an event line longer than " +
        std::to_string(options_.max_line_bytes) + " bytes");
  }
  if (o.http != 200 && o.http != 0) return ApiError(what, o.http, t.body);
  if (o.curl != CURLE_OK) {
    return absl::UnavailableError(what +
                                  ": connection dropped: " + o.curl_error);
  }
  if (t.line.find_first_not_of(" \t\r\n") != std::string::npos) {
    return absl::UnavailableError(what + ": the stream ended inside an event");
  }
  return absl::OkStatus();
}

}  // namespace dsd::kube
