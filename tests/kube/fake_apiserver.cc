#include "tests/kube/fake_apiserver.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>
#include <utility>

#include "absl/strings/str_split.h"
#include "client/k8s/internal/document_parser.h"
#include "httplib.h"

namespace dsd::testing {
namespace {

struct KindInfo {
  std::string kind, api_version, group_path;
  bool namespaced;
};

// plural -> what it is.
const std::map<std::string, KindInfo>& Kinds() {
  static const auto* kinds = new std::map<std::string, KindInfo>{
      {"nodes", {"Node", "v1", "/api/v1", false}},
      {"pods", {"Pod", "v1", "/api/v1", true}},
      {"events", {"Event", "v1", "/api/v1", true}},
      {"daemonsets", {"DaemonSet", "apps/v1", "/apis/apps/v1", true}},
      {"controllerrevisions",
       {"ControllerRevision", "apps/v1", "/apis/apps/v1", true}},
      {"leases",
       {"Lease", "coordination.k8s.io/v1", "/apis/coordination.k8s.io/v1",
        true}}};
  return *kinds;
}

const KindInfo* ByKind(const std::string& kind) {
  for (const auto& [plural, info] : Kinds()) {
    if (info.kind == kind) return &info;
  }
  return nullptr;
}

std::string DefaultReason(int code) {
  switch (code) {
    case 400:
      return "BadRequest";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "NotFound";
    case 410:
      return "Expired";
    case 429:
      return "TooManyRequests";
    case 503:
      return "ServiceUnavailable";
    case 504:
      return "Timeout";
    default:
      return code >= 500 ? "InternalError" : "";
  }
}

nlohmann::json StatusJson(int code, const std::string& reason,
                          const std::string& message,
                          const std::string& cause = "") {
  nlohmann::json s = {{"kind", "Status"},
                      {"apiVersion", "v1"},
                      {"metadata", nlohmann::json::object()},
                      {"status", "Failure"},
                      {"message", message},
                      {"reason", reason.empty() ? DefaultReason(code) : reason},
                      {"code", code}};
  if (!cause.empty()) {
    s["details"] = {{"causes", {{{"reason", cause}, {"message", message}}}}};
  }
  return s;
}

void SendStatus(httplib::Response& res, int code, const std::string& reason,
                const std::string& message, const std::string& cause = "") {
  res.status = code;
  res.set_content(StatusJson(code, reason, message, cause).dump(),
                  "application/json");
}

std::string Meta(const nlohmann::json& o, const char* key) {
  const auto m = o.find("metadata");
  if (m == o.end() || !m->is_object()) return "";
  const auto v = m->find(key);
  return v != m->end() && v->is_string() ? v->get<std::string>() : "";
}

// "k=v,k2,!k3" (equality and existence; enough for the tests).
bool Matches(const nlohmann::json& object, const std::string& selector) {
  if (selector.empty()) return true;
  nlohmann::json labels = nlohmann::json::object();
  if (auto m = object.find("metadata"); m != object.end() && m->is_object()) {
    if (auto l = m->find("labels"); l != m->end() && l->is_object()) {
      labels = *l;
    }
  }
  size_t start = 0;
  while (start <= selector.size()) {
    size_t end = selector.find(',', start);
    if (end == std::string::npos) end = selector.size();
    std::string term = selector.substr(start, end - start);
    start = end + 1;
    if (term.empty()) continue;
    if (term[0] == '!') {
      if (labels.contains(term.substr(1))) return false;
      continue;
    }
    const size_t eq = term.find('=');
    if (eq == std::string::npos) {
      if (!labels.contains(term)) return false;
      continue;
    }
    const std::string key = term.substr(0, eq);
    const std::string value =
        term.substr(term[eq + 1] == '=' ? eq + 2 : eq + 1);
    if (!labels.contains(key) || labels[key] != value) return false;
  }
  return true;
}

// A request as the log keeps it.
LoggedRequest Logged(const httplib::Request& req, int status) {
  return {req.method,
          req.target,
          req.get_header_value("User-Agent"),
          req.get_header_value("Authorization"),
          status,
          req.get_header_value("Accept-Encoding"),
          req.body,
          req.get_header_value("Content-Type"),
          std::chrono::steady_clock::now(),
          req.remote_port};
}

// Set by a write, which logs itself (serve and its handler run on one
// thread).
thread_local bool logged_by_write = false;

int64_t ParseRv(const std::string& s) {
  try {
    return s.empty() ? 0 : std::stoll(s);
  } catch (...) {
    return -1;
  }
}

}  // namespace

std::unique_ptr<FakeApiServer> FakeApiServer::Start(const Options& options) {
  std::unique_ptr<FakeApiServer> s(new FakeApiServer());
  s->options_ = options;
  s->token_ = options.token;
  if (!options.cert_file.empty()) {
    s->tls_ = true;
    s->server_ = std::make_unique<httplib::SSLServer>(options.cert_file.c_str(),
                                                      options.key_file.c_str());
  } else {
    s->server_ = std::make_unique<httplib::Server>();
  }
  s->server_->new_task_queue = [] { return new httplib::ThreadPool(64); };
  s->server_->set_keep_alive_timeout(1);
  // As Go's net/http (kube-apiserver): without it an answer's second write
  // on a kept-alive connection waits for the client's delayed ACK (40 ms).
  s->server_->set_tcp_nodelay(true);
  s->Route();
  if (options.port > 0) {
    s->port_ =
        s->server_->bind_to_port("127.0.0.1", options.port) ? options.port : 0;
  } else {
    s->port_ = s->server_->bind_to_any_port("127.0.0.1");
  }
  if (s->port_ <= 0) return nullptr;
  s->thread_ =
      std::thread([srv = s->server_.get()] { srv->listen_after_bind(); });
  return s;
}

FakeApiServer::~FakeApiServer() {
  stopping_.store(true);
  changed_.notify_all();
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

std::string FakeApiServer::url() const {
  return std::string(tls_ ? "https" : "http") +
         "://127.0.0.1:" + std::to_string(port_);
}

nlohmann::json FakeApiServer::Apply(nlohmann::json object) {
  const std::string kind = object.value("kind", "");
  const KindInfo* info = ByKind(kind);
  if (info == nullptr) return nullptr;
  nlohmann::json& meta = object["metadata"];
  if (info->namespaced && !meta.contains("namespace")) {
    meta["namespace"] = "default";
  }
  const std::string ns = Meta(object, "namespace");
  const std::string name = Meta(object, "name");
  if (!meta.contains("uid")) meta["uid"] = "uid-" + ns + "-" + name;
  if (!meta.contains("creationTimestamp")) {
    meta["creationTimestamp"] = "2026-01-01T00:00:00Z";
  }
  std::lock_guard<std::mutex> lock(mu_);
  StoreLocked(kind, ns, object);
  return object;
}

void FakeApiServer::StoreLocked(const std::string& kind, const std::string& ns,
                                nlohmann::json& object) {
  object["metadata"]["resourceVersion"] = std::to_string(++rv_);
  auto& by_key = objects_[kind];
  const std::string key = ns + "/" + Meta(object, "name");
  const auto it = by_key.find(key);
  nlohmann::json prev = it != by_key.end() ? it->second : nullptr;
  by_key[key] = object;
  events_.push_back({rv_, kind, ns, prev.is_null() ? "ADDED" : "MODIFIED",
                     object, std::move(prev)});
  changed_.notify_all();
}

std::pair<int, nlohmann::json> FakeApiServer::Write(const std::string& method,
                                                    const std::string& path,
                                                    const std::string& body) {
  // /api/v1/namespaces/NS/PLURAL[/NAME], /apis/apps/v1/namespaces/...
  auto status = [](int code, const std::string& reason,
                   const std::string& message) {
    return std::make_pair(code, StatusJson(code, reason, message));
  };
  std::string rest;
  for (const char* group : {"/api/v1/namespaces/", "/apis/apps/v1/namespaces/",
                            "/apis/coordination.k8s.io/v1/namespaces/"}) {
    if (path.rfind(group, 0) == 0) rest = path.substr(std::strlen(group));
  }
  const std::vector<std::string> parts = absl::StrSplit(rest, '/');
  const auto kind_it =
      parts.size() >= 2 ? Kinds().find(parts[1]) : Kinds().end();
  const bool status_path = parts.size() == 4 && parts[3] == "status";
  if (kind_it == Kinds().end() || (parts.size() > 3 && !status_path) ||
      parts[0].empty()) {
    return status(405, "MethodNotAllowed",
                  "the fake API server writes only namespaced objects");
  }
  const std::string& ns = parts[0];
  const std::string& plural = parts[1];
  const KindInfo& info = kind_it->second;
  const std::string name = parts.size() >= 3 ? parts[2] : "";
  nlohmann::json in = body.empty()
                          ? nlohmann::json::object()
                          : nlohmann::json::parse(body, nullptr, false);
  if (!in.is_object()) {
    return status(400, "BadRequest",
                  "couldn't get version/kind; json parse error");
  }
  auto& by_key = objects_[info.kind];
  if (method == "POST" && name.empty()) {
    if (in.value("kind", info.kind) != info.kind ||
        in.value("apiVersion", info.api_version) != info.api_version) {
      return status(
          400, "BadRequest",
          "the object is not a " + info.api_version + " " + info.kind);
    }
    nlohmann::json& meta = in["metadata"];
    if (!meta.is_object()) meta = nlohmann::json::object();
    if (meta.value("namespace", ns) != ns) {
      return status(400, "BadRequest",
                    "the namespace of the provided object does not match "
                    "the namespace sent on the request");
    }
    std::string object_name = meta.value("name", "");
    if (object_name.empty()) {
      const std::string prefix = meta.value("generateName", "");
      if (prefix.empty()) {
        return status(422, "Invalid",
                      info.kind +
                          " is invalid: metadata.name: Required value: name "
                          "or generateName is required");
      }
      // apiserver pkg/storage/names: the prefix cut to 58, five characters
      // from this alphabet (here from a counter, so tests can name them).
      static constexpr char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
      uint64_t n = next_uid_ + 1;
      std::string suffix;
      for (int i = 0; i < 5; ++i, n /= 27) suffix += kAlphabet[n % 27];
      object_name = prefix.substr(0, 58) + suffix;
    }
    if (by_key.count(ns + "/" + object_name) > 0) {
      return status(409, "AlreadyExists",
                    plural + " \"" + object_name + "\" already exists");
    }
    meta["name"] = object_name;
    meta["namespace"] = ns;
    meta["uid"] = "uid-created-" + std::to_string(++next_uid_);
    const std::time_t now = std::time(nullptr);
    char stamp[32];
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    meta["creationTimestamp"] = stamp;
    StoreLocked(info.kind, ns, in);
    const nlohmann::json created = in;
    if (options_.run_created_pods && info.kind == "Pod") {
      // The node a DaemonSet pod is pinned to (matchFields metadata.name).
      const nlohmann::json terms = in.value(
          nlohmann::json::json_pointer("/spec/affinity/nodeAffinity/"
                                       "requiredDuringSchedulingIgnoredDuring"
                                       "Execution/nodeSelectorTerms"),
          nlohmann::json::array());
      std::string node;
      for (const nlohmann::json& term : terms) {
        for (const nlohmann::json& f :
             term.value("matchFields", nlohmann::json::array())) {
          if (f.value("key", "") == "metadata.name" &&
              f.value("values", nlohmann::json::array()).size() == 1) {
            node = f["values"][0].get<std::string>();
          }
        }
      }
      if (!node.empty()) {
        in["spec"]["nodeName"] = node;
        StoreLocked(info.kind, ns, in);
        in["status"] = {{"phase", "Running"},
                        {"conditions",
                         {{{"type", "Ready"},
                           {"status", "True"},
                           {"lastTransitionTime", stamp}}}}};
        StoreLocked(info.kind, ns, in);
      }
    }
    return {201, created};
  }
  if (method == "PUT" && !name.empty()) {
    // Optimistic: the body's resourceVersion must be the stored one. The
    // status subresource takes only the status; the object, all but it.
    const auto it = by_key.find(ns + "/" + name);
    if (it == by_key.end()) {
      return status(404, "NotFound", plural + " \"" + name + "\" not found");
    }
    if (Meta(in, "name") != name) {
      return status(400, "BadRequest",
                    "the name of the object does not match the name on the "
                    "URL");
    }
    if (Meta(in, "resourceVersion") != Meta(it->second, "resourceVersion")) {
      return status(409, "Conflict",
                    "Operation cannot be fulfilled on " + plural + " \"" +
                        name +
                        "\": the object has been modified; please apply your "
                        "changes to the latest version and try again");
    }
    nlohmann::json updated = it->second;
    if (status_path) {
      updated["status"] = in.value("status", nlohmann::json::object());
    } else {
      const nlohmann::json kept = updated.value("status", nlohmann::json());
      updated = in;
      updated["metadata"]["uid"] = Meta(it->second, "uid");
      updated["metadata"]["namespace"] = ns;
      if (!kept.is_null()) updated["status"] = kept;
    }
    StoreLocked(info.kind, ns, updated);
    return {200, updated};
  }
  if (method == "DELETE" && !name.empty() && !status_path) {
    const auto it = by_key.find(ns + "/" + name);
    if (it == by_key.end()) {
      auto answer =
          status(404, "NotFound", plural + " \"" + name + "\" not found");
      answer.second["details"] = {{"name", name}, {"kind", plural}};
      return answer;
    }
    const std::string uid = Meta(it->second, "uid");
    const nlohmann::json want = in.value(
        nlohmann::json::json_pointer("/preconditions/uid"), nlohmann::json());
    if (want.is_string() && want != uid) {
      return status(
          409, "Conflict",
          "Operation cannot be fulfilled on " + plural + " \"" + name +
              "\": Precondition failed: UID in precondition: " +
              want.get<std::string>() + ", UID in object meta: " + uid);
    }
    nlohmann::json object = it->second;
    by_key.erase(it);
    object["metadata"]["resourceVersion"] = std::to_string(++rv_);
    events_.push_back({rv_, info.kind, ns, "DELETED", object, nullptr});
    changed_.notify_all();
    return {200, object};
  }
  return status(405, "MethodNotAllowed",
                "the fake API server serves POST to a collection, PUT of an "
                "object or its status, and DELETE of an object");
}

void FakeApiServer::Load(const std::string& text) {
  client::internal::ParsedText parsed = client::internal::ParseDocuments(text);
  for (nlohmann::json& doc : parsed.documents) {
    if (doc.is_object() && doc.value("kind", "") == "List") {
      for (nlohmann::json& item : doc["items"]) Apply(std::move(item));
    } else if (doc.is_object()) {
      Apply(std::move(doc));
    }
  }
}

void FakeApiServer::Delete(const std::string& kind, const std::string& ns,
                           const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& by_key = objects_[kind];
  auto it = by_key.find(ns + "/" + name);
  if (it == by_key.end()) return;
  nlohmann::json object = it->second;
  by_key.erase(it);
  object["metadata"]["resourceVersion"] = std::to_string(++rv_);
  events_.push_back({rv_, kind, ns, "DELETED", object, nullptr});
  changed_.notify_all();
}

nlohmann::json FakeApiServer::Get(const std::string& kind,
                                  const std::string& ns,
                                  const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto k = objects_.find(kind);
  if (k == objects_.end()) return nullptr;
  auto it = k->second.find(ns + "/" + name);
  return it == k->second.end() ? nlohmann::json() : it->second;
}

std::vector<nlohmann::json> FakeApiServer::List(const std::string& kind) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<nlohmann::json> out;
  if (const auto k = objects_.find(kind); k != objects_.end()) {
    for (const auto& [key, object] : k->second) out.push_back(object);
  }
  return out;
}

void FakeApiServer::RunCreatedPods(bool run) {
  std::lock_guard<std::mutex> lock(mu_);
  options_.run_created_pods = run;
}

void FakeApiServer::HoldWatches(const std::string& kind, bool hold) {
  std::lock_guard<std::mutex> lock(mu_);
  if (hold) {
    held_kinds_.insert(kind);
  } else {
    held_kinds_.erase(kind);
  }
  changed_.notify_all();
}

void FakeApiServer::Compact() {
  std::lock_guard<std::mutex> lock(mu_);
  compacted_rv_ = rv_;
  events_.clear();
}

void FakeApiServer::CutWatches() {
  std::lock_guard<std::mutex> lock(mu_);
  ++cut_generation_;
  changed_.notify_all();
}

int64_t FakeApiServer::resource_version() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rv_;
}

void FakeApiServer::AddFault(const Fault& fault) {
  std::lock_guard<std::mutex> lock(mu_);
  faults_.push_back(fault);
}

void FakeApiServer::SetToken(const std::string& token) {
  std::lock_guard<std::mutex> lock(mu_);
  token_ = token;
}

std::vector<LoggedRequest> FakeApiServer::Log() const {
  std::lock_guard<std::mutex> lock(mu_);
  return log_;
}

std::vector<LoggedRequest> FakeApiServer::LogSince(size_t from) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (from >= log_.size()) return {};
  return {log_.begin() + static_cast<std::ptrdiff_t>(from), log_.end()};
}

void FakeApiServer::Route() {
  // Every verb is routed, so that a write is logged whether or not it is
  // served: read-only clients' tests assert that none comes. Each request
  // is logged
  // before its answer goes out, so a client that has its answer finds its
  // request in the log.
  auto serve = [this](const httplib::Request& req, httplib::Response& res) {
    std::optional<Fault> fault;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!token_.empty() &&
          req.get_header_value("Authorization") != "Bearer " + token_) {
        SendStatus(res, 401, "Unauthorized", "Unauthorized");
        return;
      }
      const std::string line = req.method + " " + req.target;
      for (Fault& f : faults_) {
        if (f.times > 0 && line.find(f.match) != std::string::npos) {
          --f.times;
          fault = f;
          break;
        }
      }
    }
    if (fault && fault->kind == Fault::Kind::kStatus) {
      if (fault->retry_after >= 0) {
        res.set_header("Retry-After", std::to_string(fault->retry_after));
      }
      SendStatus(res, fault->status, fault->reason,
                 "fault injected by the test", fault->cause);
      return;
    }
    if (fault && fault->kind == Fault::Kind::kDrop) {
      // Headers go out, then the connection is cut mid-body.
      res.set_content_provider(
          1000, "application/json",
          [](size_t, size_t, httplib::DataSink&) { return false; });
      return;
    }
    if (fault && fault->kind == Fault::Kind::kGarbage) {
      res.set_content(fault->body, "application/json");
      return;
    }
    if (req.method != "GET") {
      // The change and its log entry under one lock: whoever sees the
      // change finds the request in the log.
      std::lock_guard<std::mutex> lock(mu_);
      auto [code, answer] = Write(req.method, req.path, req.body);
      res.status = code;
      res.set_content(answer.dump(), "application/json");
      log_.push_back(Logged(req, code));
      logged_by_write = true;
      return;
    }
    const std::string& path = req.path;
    if (path == "/version") {
      res.set_content(R"({"major":"1","minor":"32","gitVersion":"v1.32.0"})",
                      "application/json");
      return;
    }
    if (path == "/api") {
      res.set_content(
          R"({"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[{"clientCIDR":"0.0.0.0/0","serverAddress":"127.0.0.1"}]})",
          "application/json");
      return;
    }
    if (path == "/apis") {
      res.set_content(
          R"({"kind":"APIGroupList","apiVersion":"v1","groups":[{"name":"apps","versions":[{"groupVersion":"apps/v1","version":"v1"}],"preferredVersion":{"groupVersion":"apps/v1","version":"v1"}}]})",
          "application/json");
      return;
    }
    if (path == "/api/v1" || path == "/apis/apps/v1") {
      nlohmann::json list = {
          {"kind", "APIResourceList"},
          {"apiVersion", "v1"},
          {"groupVersion", path == "/api/v1" ? "v1" : "apps/v1"},
          {"resources", nlohmann::json::array()}};
      for (const auto& [plural, info] : Kinds()) {
        if (info.group_path != path) continue;
        list["resources"].push_back(
            {{"name", plural},
             {"singularName", ""},
             {"namespaced", info.namespaced},
             {"kind", info.kind},
             {"verbs", {"get", "list", "watch"}},
             {"shortNames", plural == "daemonsets" ? nlohmann::json{"ds"}
                            : plural == "nodes"    ? nlohmann::json{"no"}
                            : plural == "pods"     ? nlohmann::json{"po"}
                                                   : nlohmann::json::array()}});
      }
      res.set_content(list.dump(), "application/json");
      return;
    }
    // /api/v1[/namespaces/NS]/PLURAL, /apis/apps/v1[/namespaces/NS]/PLURAL
    std::string rest;
    std::string group;
    if (path.rfind("/api/v1/", 0) == 0) {
      group = "/api/v1";
    } else if (path.rfind("/apis/apps/v1/", 0) == 0) {
      group = "/apis/apps/v1";
    } else if (path.rfind("/apis/coordination.k8s.io/v1/", 0) == 0) {
      group = "/apis/coordination.k8s.io/v1";
    } else {
      SendStatus(res, 404, "NotFound",
                 "the server could not find the "
                 "requested resource");
      return;
    }
    rest = path.substr(group.size() + 1);
    std::string ns;
    if (rest.rfind("namespaces/", 0) == 0) {
      const size_t slash = rest.find('/', 11);
      if (slash == std::string::npos) {
        SendStatus(res, 404, "NotFound", "namespaces are not served");
        return;
      }
      ns = rest.substr(11, slash - 11);
      rest = rest.substr(slash + 1);
    }
    std::string object_name;  // GET of one object
    if (const size_t slash = rest.find('/'); slash != std::string::npos) {
      object_name = rest.substr(slash + 1);
      rest = rest.substr(0, slash);
    }
    auto kind_it = Kinds().find(rest);
    if (kind_it == Kinds().end() || kind_it->second.group_path != group ||
        (!ns.empty() && !kind_it->second.namespaced)) {
      SendStatus(res, 404, "NotFound",
                 "the server could not find the requested resource");
      return;
    }
    const KindInfo& info = kind_it->second;
    if (!object_name.empty()) {
      std::lock_guard<std::mutex> lock(mu_);
      const auto& by_key = objects_[info.kind];
      const auto it = by_key.find(ns + "/" + object_name);
      if (it == by_key.end() || object_name.find('/') != std::string::npos) {
        SendStatus(res, 404, "NotFound",
                   rest + " \"" + object_name + "\" not found");
        return;
      }
      nlohmann::json object = it->second;
      object["kind"] = info.kind;
      object["apiVersion"] = info.api_version;
      res.set_content(object.dump(), "application/json");
      return;
    }
    const std::string selector = req.get_param_value("labelSelector");
    const std::string rv_param = req.get_param_value("resourceVersion");
    const bool watch = req.get_param_value("watch") == "1" ||
                       req.get_param_value("watch") == "true";
    if (!watch) {
      // LIST
      std::lock_guard<std::mutex> lock(mu_);
      int64_t list_rv = rv_;
      size_t offset = 0;
      const std::string cont = req.get_param_value("continue");
      if (!cont.empty()) {
        const size_t colon = cont.find(':');
        const int64_t crv = ParseRv(cont.substr(0, colon));
        if (colon == std::string::npos || crv < 0) {
          SendStatus(res, 400, "BadRequest", "invalid continue token");
          return;
        }
        if (crv < compacted_rv_) {
          SendStatus(res, 410, "Expired",
                     "The provided continue parameter is too old to display "
                     "a consistent list result. You can start a new list "
                     "without the continue parameter.");
          return;
        }
        list_rv = crv;
        offset = static_cast<size_t>(ParseRv(cont.substr(colon + 1)));
      } else if (!rv_param.empty() && rv_param != "0") {
        const int64_t want = ParseRv(rv_param);
        if (want < 0) {
          SendStatus(res, 400, "BadRequest", "invalid resourceVersion");
          return;
        }
        if (want < compacted_rv_) {
          SendStatus(res, 410, "Expired",
                     "too old resource version: " + rv_param + " (" +
                         std::to_string(compacted_rv_) + ")");
          return;
        }
        if (want > rv_) {
          SendStatus(res, 504, "Timeout",
                     "Too large resource version: " + rv_param +
                         ", current: " + std::to_string(rv_),
                     "ResourceVersionTooLarge");
          return;
        }
      }
      std::vector<const nlohmann::json*> matching;
      for (const auto& [key, object] : objects_[info.kind]) {
        if ((ns.empty() || Meta(object, "namespace") == ns) &&
            Matches(object, selector)) {
          matching.push_back(&object);
        }
      }
      const int64_t limit = ParseRv(req.get_param_value("limit"));
      nlohmann::json list = {
          {"kind", info.kind + "List"},
          {"apiVersion", info.api_version},
          {"metadata", {{"resourceVersion", std::to_string(list_rv)}}},
          {"items", nlohmann::json::array()}};
      size_t end = matching.size();
      if (limit > 0 && offset + static_cast<size_t>(limit) < end) {
        end = offset + static_cast<size_t>(limit);
        list["metadata"]["continue"] =
            std::to_string(list_rv) + ":" + std::to_string(end);
        list["metadata"]["remainingItemCount"] = matching.size() - end;
      }
      for (size_t i = offset; i < end && i < matching.size(); ++i) {
        nlohmann::json item = *matching[i];
        item.erase("kind");  // items of a List carry neither
        item.erase("apiVersion");
        list["items"].push_back(std::move(item));
      }
      res.set_content(list.dump(), "application/json");
      return;
    }
    // WATCH
    struct WatchState {
      int64_t last_rv = 0;
      int sent = 0;
      bool initial_done = false;
      std::vector<std::string> initial;
      bool expired = false;
      uint64_t cut_generation = 0;
      std::chrono::steady_clock::time_point deadline, last_bookmark;
    };
    auto st = std::make_shared<WatchState>();
    int64_t compacted_at_start = 0;
    const bool bookmarks = req.get_param_value("allowWatchBookmarks") == "true";
    const int64_t timeout = ParseRv(req.get_param_value("timeoutSeconds"));
    st->deadline = std::chrono::steady_clock::now() +
                   std::chrono::seconds(timeout > 0 ? timeout : 1800);
    st->last_bookmark = std::chrono::steady_clock::now();
    {
      std::lock_guard<std::mutex> lock(mu_);
      st->cut_generation = cut_generation_;
      compacted_at_start = compacted_rv_;
      const int64_t want = ParseRv(rv_param);
      if (rv_param.empty() || rv_param == "0") {
        for (const auto& [key, object] : objects_[info.kind]) {
          if ((ns.empty() || Meta(object, "namespace") == ns) &&
              Matches(object, selector)) {
            st->initial.push_back(
                nlohmann::json{{"type", "ADDED"}, {"object", object}}.dump());
          }
        }
        st->last_rv = rv_;
      } else if (want < 0) {
        SendStatus(res, 400, "BadRequest", "invalid resourceVersion");
        return;
      } else if (want < compacted_rv_) {
        st->expired = true;  // 200, then one ERROR event, as the apiserver
      } else if (want > rv_) {
        SendStatus(res, 504, "Timeout",
                   "Too large resource version: " + rv_param +
                       ", current: " + std::to_string(rv_),
                   "ResourceVersionTooLarge");
        return;
      } else {
        st->last_rv = want;
      }
    }
    const std::string kind = info.kind;
    const std::string api_version = info.api_version;
    open_watches_.fetch_add(1);
    res.set_chunked_content_provider(
        "application/json;stream=watch",
        [this, st, fault, kind, api_version, ns, selector, bookmarks, rv_param,
         compacted_at_start](size_t, httplib::DataSink& sink) {
          auto write = [&](const std::string& line) {
            const std::string with_nl = line + "\n";
            return sink.write(with_nl.data(), with_nl.size());
          };
          if (st->expired) {
            write(nlohmann::json{
                {"type", "ERROR"},
                {"object",
                 StatusJson(410, "Expired",
                            "too old resource version: " + rv_param + " (" +
                                std::to_string(compacted_at_start) + ")")}}
                      .dump());
            sink.done();
            return true;
          }
          if (fault && fault->kind == Fault::Kind::kHugeLine) {
            const std::string chunk(64 << 10, 'a');
            for (int64_t n = 0; n < fault->body_bytes; n += 64 << 10) {
              if (!sink.write(chunk.data(), chunk.size())) return false;
            }
            sink.done();
            return true;
          }
          if (!st->initial_done) {
            st->initial_done = true;
            for (const std::string& line : st->initial) {
              if (!write(line)) return false;
              ++st->sent;
            }
          }
          std::vector<std::string> lines;
          bool cut = false;
          {
            std::unique_lock<std::mutex> lock(mu_);
            changed_.wait_for(lock, std::chrono::milliseconds(50), [&] {
              return stopping_.load() ||
                     (!events_.empty() && events_.back().rv > st->last_rv &&
                      held_kinds_.count(kind) == 0) ||
                     cut_generation_ != st->cut_generation;
            });
            cut = cut_generation_ != st->cut_generation;
            // By resourceVersion, not index: Compact clears the history.
            auto it = std::upper_bound(
                events_.begin(), events_.end(), st->last_rv,
                [](int64_t rv, const Event& e) { return rv < e.rv; });
            for (; it != events_.end(); ++it) {
              const Event& e = *it;
              if (e.kind == kind && held_kinds_.count(kind) > 0) break;
              st->last_rv = e.rv;
              if (e.kind != kind || (!ns.empty() && e.ns != ns)) continue;
              // As the API server's watch cache: an object relabelled out
              // of the selector is DELETED (as it was, at the event's
              // resourceVersion), one relabelled into it ADDED.
              const bool now = Matches(e.object, selector);
              const bool before =
                  !e.prev.is_null() && Matches(e.prev, selector);
              if (!now && !before) continue;
              std::string type = e.type;
              nlohmann::json object = e.object;
              if (e.type == "MODIFIED" && !before) type = "ADDED";
              if (e.type == "MODIFIED" && !now) {
                type = "DELETED";
                object = e.prev;
                object["metadata"]["resourceVersion"] = std::to_string(e.rv);
              }
              lines.push_back(
                  nlohmann::json{{"type", type}, {"object", object}}.dump());
            }
          }
          if (cut || stopping_.load()) {
            open_watches_.fetch_sub(1);
            if (stopping_.load()) sink.done();
            return !cut;
          }
          for (const std::string& line : lines) {
            if (fault && fault->kind == Fault::Kind::kCutWatch &&
                st->sent >= fault->after_events) {
              open_watches_.fetch_sub(1);
              return false;
            }
            if (!write(line)) {
              open_watches_.fetch_sub(1);
              return false;
            }
            ++st->sent;
          }
          if (fault && fault->kind == Fault::Kind::kCutWatch &&
              st->sent >= fault->after_events) {
            open_watches_.fetch_sub(1);
            return false;
          }
          const auto now = std::chrono::steady_clock::now();
          if (bookmarks &&
              now - st->last_bookmark >=
                  std::chrono::milliseconds(options_.bookmark_interval_ms)) {
            st->last_bookmark = now;
            write(nlohmann::json{
                {"type", "BOOKMARK"},
                {"object",
                 {{"kind", kind},
                  {"apiVersion", api_version},
                  {"metadata",
                   {{"resourceVersion", std::to_string(st->last_rv)}}}}}}
                      .dump());
          }
          if (now >= st->deadline) {
            open_watches_.fetch_sub(1);
            sink.done();
          }
          return true;
        });
  };
  auto handler = [this, serve](const httplib::Request& req,
                               httplib::Response& res) {
    logged_by_write = false;
    serve(req, res);
    if (logged_by_write) return;
    std::lock_guard<std::mutex> lock(mu_);
    log_.push_back(Logged(req, res.status == -1 ? 200 : res.status));
  };
  server_->Get(".*", handler);
  server_->Post(".*", handler);
  server_->Put(".*", handler);
  server_->Patch(".*", handler);
  server_->Delete(".*", handler);
}

}  // namespace dsd::testing
