// client/kube/client.h against the fake API server: lists (paging,
// retries, every error class), watches (events, bookmarks, 410, cut
// connections, hostile lines), the writes (create, delete with a uid
// precondition: which failures are retried, which never) and what goes
// on the wire (User-Agent, bearer token, bodies).
#include "client/kube/client.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/kube/fake_apiserver.h"

// Case tables name only the fields a row sets.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace dsd::kube {
namespace {

using testing::FakeApiServer;
using testing::Fault;

nlohmann::json Node(const std::string& name) {
  return {{"apiVersion", "v1"},
          {"kind", "Node"},
          {"metadata", {{"name", name}, {"labels", {{"disk", "ssd"}}}}}};
}

RestConfig ConfigFor(const FakeApiServer& server) {
  RestConfig c;
  c.server = server.url();
  c.source = "test";
  return c;
}

ClientOptions FastOptions() {
  ClientOptions o;
  o.user_agent = "kube_client_test/1.2.3";
  o.qps = 0;  // no limit
  o.max_retries = 3;
  o.request_timeout_seconds = 10;
  return o;
}

template <typename Case>
std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  return info.param.name;
}

// ------------------------------------------------------------------ List

struct ListCase {
  std::string name;
  std::vector<Fault> faults;
  int64_t limit = 2;
  std::string resource_version;
  int64_t max_body_bytes = 0;  // 0: the default
  // Expected: an error whose message contains `error` (empty: success
  // with all 5 nodes), its HTTP code, and how many requests were made.
  std::string error;
  int http_code = 0;
  bool gone = false;
  bool too_large = false;
  size_t requests = 3;
};

// ctest lists each case by its name.
void PrintTo(const ListCase& c, std::ostream* os) { *os << c.name; }

Fault StatusFault(std::string match, int status, int retry_after, int times = 1,
                  std::string cause = "") {
  Fault f;
  f.match = std::move(match);
  f.status = status;
  f.retry_after = retry_after;
  f.times = times;
  f.cause = std::move(cause);
  return f;
}

Fault KindFault(Fault::Kind kind, std::string match, int times = 1,
                std::string body = "") {
  Fault f;
  f.kind = kind;
  f.match = std::move(match);
  f.times = times;
  f.body = std::move(body);
  return f;
}

const ListCase kListCases[] = {
    {.name = "ThreePagesOfTwo"},
    {.name = "OnePageWithoutLimit", .limit = 0, .requests = 1},
    {.name = "Retry429WithRetryAfter",
     .faults = {StatusFault("GET /api/v1/nodes", 429, 0)},
     .requests = 4},
    {.name = "Retry503WithRetryAfterOnSecondPage",
     .faults = {StatusFault("continue=", 503, 0)},
     .requests = 4},
    {.name = "No500RetryWithoutRetryAfter",
     .faults = {StatusFault("GET /api/v1/nodes", 500, -1)},
     .error = "HTTP 500 InternalError: fault injected",
     .http_code = 500,
     .requests = 1},
    {.name = "RetriesEndAfterMaxRetries",
     .faults = {StatusFault("GET /api/v1/nodes", 429, 0, 100)},
     .error = "HTTP 429 TooManyRequests",
     .http_code = 429,
     .requests = 4},
    {.name = "Forbidden",
     .faults = {StatusFault("GET /api/v1/nodes", 403, -1)},
     .error = "HTTP 403 Forbidden",
     .http_code = 403,
     .requests = 1},
    {.name = "NotFound",
     .faults = {StatusFault("GET /api/v1/nodes", 404, -1)},
     .error = "HTTP 404 NotFound",
     .http_code = 404,
     .requests = 1},
    {.name = "ExpiredContinueIsGone",
     .faults = {StatusFault("continue=", 410, -1)},
     .error = "HTTP 410 Expired",
     .http_code = 410,
     .gone = true,
     .requests = 2},
    {.name = "TooLargeResourceVersion",
     .resource_version = "999999999",
     .error = "HTTP 504 Timeout: Too large resource version",
     .http_code = 504,
     .too_large = true,
     .requests = 1},
    {.name = "DroppedConnectionRetried",
     .faults = {KindFault(Fault::Kind::kDrop, "GET /api/v1/nodes")},
     .requests = 4},
    {.name = "DroppedConnectionEveryTime",
     .faults = {KindFault(Fault::Kind::kDrop, "GET /api/v1/nodes", 100)},
     .error = "LIST http://",
     .requests = 4},
    {.name = "GarbageBody",
     .faults = {KindFault(Fault::Kind::kGarbage, "GET /api/v1/nodes", 1,
                          "<html>not json")},
     .error = "the answer is not a JSON object",
     .requests = 1},
    {.name = "ObjectThatIsNoList",
     .faults = {KindFault(Fault::Kind::kGarbage, "GET /api/v1/nodes", 1,
                          R"({"kind":"Status"})")},
     .error = "not a Kubernetes List",
     .requests = 1},
    {.name = "ItemThatIsNoObject",
     .faults = {KindFault(Fault::Kind::kGarbage, "GET /api/v1/nodes", 1,
                          R"({"metadata":{},"items":[1]})")},
     .error = "an item is not an object",
     .requests = 1},
    {.name = "BodyOverCap",
     .limit = 0,
     .max_body_bytes = 100,
     .error = "response larger than 100 bytes",
     .requests = 1},
};

class ListTest : public ::testing::TestWithParam<ListCase> {};

TEST_P(ListTest, Lists) {
  const ListCase& c = GetParam();
  auto server = FakeApiServer::Start();
  ASSERT_NE(server, nullptr);
  for (const char* n : {"a", "b", "c", "d", "e"}) server->Apply(Node(n));
  for (const Fault& f : c.faults) server->AddFault(f);
  ClientOptions options = FastOptions();
  if (c.max_body_bytes > 0) options.max_body_bytes = c.max_body_bytes;
  Client client(ConfigFor(*server), options);
  ListOptions list;
  list.limit = c.limit;
  list.resource_version = c.resource_version;
  absl::StatusOr<ListResult> result = client.List(kNodes, list);
  if (c.error.empty()) {
    ASSERT_TRUE(result.ok()) << result.status();
    ASSERT_EQ(result->items.size(), 5u);
    EXPECT_EQ(result->items[0]["metadata"]["name"], "a");
    EXPECT_EQ(result->items[4]["metadata"]["name"], "e");
    EXPECT_EQ(result->items[0]["kind"], "Node");
    EXPECT_EQ(result->resource_version,
              std::to_string(server->resource_version()));
  } else {
    ASSERT_FALSE(result.ok());
    EXPECT_NE(result.status().message().find(c.error), std::string::npos)
        << result.status();
    EXPECT_NE(result.status().message().find("/api/v1/nodes"),
              std::string::npos)
        << "the error names the request: " << result.status();
    EXPECT_EQ(HttpCode(result.status()), c.http_code);
    EXPECT_EQ(IsGone(result.status()), c.gone);
    EXPECT_EQ(IsTooLargeResourceVersion(result.status()), c.too_large);
  }
  const std::vector<testing::LoggedRequest> log = server->Log();
  EXPECT_EQ(log.size(), c.requests);
  for (const testing::LoggedRequest& r : log) {
    EXPECT_EQ(r.method, "GET");
    EXPECT_EQ(r.user_agent, "kube_client_test/1.2.3");
    // As client-go: gzip, the one compression kube-apiserver speaks.
    EXPECT_EQ(r.accept_encoding, "gzip");
  }
}

INSTANTIATE_TEST_SUITE_P(Faults, ListTest, ::testing::ValuesIn(kListCases),
                         CaseName<ListCase>);

// The apiVersion set on List items and watch events, from each resource's
// path: the core group is "v1", any other group is its path's group/version.
TEST(ResourceTest, ApiVersionFollowsThePath) {
  EXPECT_EQ(ApiVersion(kNodes), "v1");
  EXPECT_EQ(ApiVersion(kPods), "v1");
  EXPECT_EQ(ApiVersion(kEvents), "v1");
  EXPECT_EQ(ApiVersion(kDaemonSets), "apps/v1");
  EXPECT_EQ(ApiVersion(kControllerRevisions), "apps/v1");
  EXPECT_EQ(ApiVersion(kLeases), "coordination.k8s.io/v1");
}

TEST(ListTest, RetryAfterIsWaited) {
  auto server = FakeApiServer::Start();
  server->Apply(Node("a"));
  server->AddFault(StatusFault("GET", 429, 1));
  Client client(ConfigFor(*server), FastOptions());
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(client.List(kNodes, {}).ok());
  EXPECT_GE(std::chrono::steady_clock::now() - start,
            std::chrono::milliseconds(950));
}

TEST(ListTest, QpsLimitSpacesRequests) {
  auto server = FakeApiServer::Start();
  for (const char* n : {"a", "b", "c", "d", "e"}) server->Apply(Node(n));
  ClientOptions options = FastOptions();
  options.qps = 20;
  options.burst = 1;
  Client client(ConfigFor(*server), options);
  ListOptions list;
  list.limit = 1;  // five requests: four waits of 50 ms
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(client.List(kNodes, list).ok());
  EXPECT_GE(std::chrono::steady_clock::now() - start,
            std::chrono::milliseconds(190));
}

TEST(ListTest, BearerTokenSentAndRefusedWhenWrong) {
  FakeApiServer::Options so;
  so.token = "s3cret";
  auto server = FakeApiServer::Start(so);
  server->Apply(Node("a"));
  RestConfig config = ConfigFor(*server);
  config.token = "wrong";
  absl::StatusOr<ListResult> bad =
      Client(config, FastOptions()).List(kNodes, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(HttpCode(bad.status()), 401);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kUnauthenticated);
  config.token = "s3cret";
  EXPECT_TRUE(Client(config, FastOptions()).List(kNodes, {}).ok());
  EXPECT_EQ(server->Log().back().authorization, "Bearer s3cret");
}

TEST(ListTest, NoServerNamesTheUrl) {
  RestConfig config;
  config.server = "http://127.0.0.1:1";
  absl::StatusOr<ListResult> r = Client(config, FastOptions()).List(kNodes, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("http://127.0.0.1:1/api/v1/nodes"),
            std::string::npos)
      << r.status();
}

// on_item takes each item as its page arrives (none is kept in the
// result), with its kind and apiVersion; on_page counts items and pages.
TEST(ListTest, OnItemStreamsEveryPageOnPageCounts) {
  auto server = FakeApiServer::Start();
  for (const char* n : {"a", "b", "c", "d", "e"}) server->Apply(Node(n));
  Client client(ConfigFor(*server), FastOptions());
  ListOptions list;
  list.limit = 2;  // pages of 2, 2 and 1
  std::vector<std::string> names;
  std::vector<std::pair<size_t, int>> pages;
  list.on_item = [&](nlohmann::json&& item) {
    EXPECT_EQ(item["kind"], "Node");
    EXPECT_EQ(item["apiVersion"], "v1");
    names.push_back(item["metadata"]["name"].get<std::string>());
  };
  list.on_page = [&](size_t items, int page) {
    pages.emplace_back(items, page);
  };
  absl::StatusOr<ListResult> r = client.List(kNodes, list);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->items.empty());
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  EXPECT_EQ(pages,
            (std::vector<std::pair<size_t, int>>{{2, 1}, {4, 2}, {5, 3}}));
}

TEST(ListTest, NamespaceAndSelectorGoOnThePath) {
  auto server = FakeApiServer::Start();
  Client client(ConfigFor(*server), FastOptions());
  ListOptions list;
  list.namespace_ = "kube-system";
  list.label_selector = "app=x,tier in (a,b)";
  ASSERT_TRUE(client.List(kDaemonSets, list).ok());
  EXPECT_EQ(server->Log().back().target,
            "/apis/apps/v1/namespaces/kube-system/daemonsets?labelSelector="
            "app%3Dx%2Ctier%20in%20%28a%2Cb%29&limit=500");
}

// ----------------------------------------------------------------- Watch

struct WatchCase {
  std::string name;
  std::vector<Fault> faults;
  bool compact = false;  // compact before watching from the list's RV
  int timeout_seconds = 2;
  // Expected: events seen (types, in order) and an error containing
  // `error` (empty: the stream ended cleanly).
  std::vector<std::string> events;
  std::string error;
  bool gone = false;
};

// ctest lists each case by its name.
void PrintTo(const WatchCase& c, std::ostream* os) { *os << c.name; }

const WatchCase kWatchCases[] = {
    {.name = "EventsThenTimeout", .events = {"ADDED", "MODIFIED", "DELETED"}},
    {.name = "CompactedIsGone",
     .compact = true,
     .error = "HTTP 410 Expired: too old resource version",
     .gone = true},
    {.name = "CutAfterOneEvent",
     .faults = {[] {
       Fault f = KindFault(Fault::Kind::kCutWatch, "watch=1");
       f.after_events = 1;
       return f;
     }()},
     .events = {"ADDED"},
     .error = "connection dropped"},
    {.name = "EndlessLine",
     .faults = {[] {
       Fault f = KindFault(Fault::Kind::kHugeLine, "watch=1");
       f.body_bytes = int64_t{8} << 20;
       return f;
     }()},
     .error = "an event line longer than 1048576 bytes"},
    {.name = "GarbageLine",
     .faults = {KindFault(Fault::Kind::kGarbage, "watch=1", 1,
                          "{\"type\":\"ADDED\"}\n")},
     .error = "event 1: needs a string \"type\" and an \"object\""},
    {.name = "NotJson",
     .faults = {KindFault(Fault::Kind::kGarbage, "watch=1", 1, "\x01\xff\n")},
     .error = "event 1: not a JSON object"},
    {.name = "UnknownType",
     .faults = {KindFault(Fault::Kind::kGarbage, "watch=1", 1,
                          "{\"type\":\"EXPLODED\",\"object\":{}}\n")},
     .error = "unknown type \"EXPLODED\""},
    // Found by kube_watch_fuzzer: a kind of another type threw out of
    // the error's decoding and ended the program.
    {.name = "ErrorEventWithAKindOfAnotherType",
     .faults = {KindFault(Fault::Kind::kGarbage, "watch=1", 1,
                          "{\"type\":\"ERROR\",\"object\":{\"kind\":5}}\n")},
     .error = "HTTP 0: {\"kind\":5}"},
    {.name = "StreamEndsInsideAnEvent",
     .faults = {KindFault(Fault::Kind::kGarbage, "watch=1", 1,
                          "{\"type\":\"ADDED\",")},
     .error = "the stream ended inside an event"},
    {.name = "Forbidden",
     .faults = {StatusFault("watch=1", 403, -1)},
     .error = "HTTP 403 Forbidden"},
};

class WatchTest : public ::testing::TestWithParam<WatchCase> {};

TEST_P(WatchTest, Watches) {
  const WatchCase& c = GetParam();
  FakeApiServer::Options so;
  so.bookmark_interval_ms = 100000;  // none in these cases
  auto server = FakeApiServer::Start(so);
  server->Apply(Node("a"));
  for (const Fault& f : c.faults) server->AddFault(f);
  ClientOptions options = FastOptions();
  options.max_line_bytes = 1 << 20;
  Client client(ConfigFor(*server), options);
  absl::StatusOr<ListResult> list = client.List(kNodes, {});
  ASSERT_TRUE(list.ok()) << list.status();
  server->Apply(Node("b"));
  nlohmann::json b = Node("b");
  b["metadata"]["labels"]["disk"] = "hdd";
  server->Apply(b);
  server->Delete("Node", "", "b");
  if (c.compact) server->Compact();
  WatchOptions watch;
  watch.resource_version = list->resource_version;
  watch.timeout_seconds = c.timeout_seconds;
  std::vector<std::string> types;
  absl::Status s = client.Watch(kNodes, watch, [&](WatchEvent&& e) {
    types.push_back(e.type);
    EXPECT_EQ(e.object["metadata"]["name"], "b");
    EXPECT_EQ(e.object["kind"], "Node");
    return true;
  });
  EXPECT_EQ(types, c.events);
  if (c.error.empty()) {
    EXPECT_TRUE(s.ok()) << s;
  } else {
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.message().find(c.error), std::string::npos) << s;
    EXPECT_NE(s.message().find("WATCH http://"), std::string::npos) << s;
    EXPECT_EQ(IsGone(s), c.gone) << s;
  }
}

INSTANTIATE_TEST_SUITE_P(Faults, WatchTest, ::testing::ValuesIn(kWatchCases),
                         CaseName<WatchCase>);

TEST(WatchTest, BookmarksAndQuery) {
  FakeApiServer::Options so;
  so.bookmark_interval_ms = 100;
  auto server = FakeApiServer::Start(so);
  server->Apply(Node("a"));
  Client client(ConfigFor(*server), FastOptions());
  WatchOptions watch;
  watch.resource_version = std::to_string(server->resource_version());
  watch.timeout_seconds = 1;
  int bookmarks = 0;
  ASSERT_TRUE(client
                  .Watch(kNodes, watch,
                         [&](WatchEvent&& e) {
                           if (e.type == "BOOKMARK") ++bookmarks;
                           return true;
                         })
                  .ok());
  EXPECT_GE(bookmarks, 3);
  EXPECT_EQ(server->Log().back().target,
            "/api/v1/nodes?watch=1&resourceVersion=" + watch.resource_version +
                "&allowWatchBookmarks=true&timeoutSeconds=1");
}

TEST(WatchTest, StopEndsAWatchAtOnce) {
  auto server = FakeApiServer::Start();
  Client client(ConfigFor(*server), FastOptions());
  WatchOptions watch;
  watch.resource_version = "0";
  watch.timeout_seconds = 60;
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    client.Stop();
  });
  const auto start = std::chrono::steady_clock::now();
  absl::Status s =
      client.Watch(kNodes, watch, [](WatchEvent&&) { return true; });
  stopper.join();
  EXPECT_EQ(s.code(), absl::StatusCode::kCancelled) << s;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

// ----------------------------------------------------------------- Writes

nlohmann::json DaemonPod() {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata",
           {{"generateName", "agent-"}, {"labels", {{"app", "agent"}}}}},
          {"spec", {{"containers", {{{"name", "a"}, {"image", "busybox"}}}}}}};
}

struct CreateCase {
  std::string name;
  std::vector<Fault> faults;
  nlohmann::json pod = DaemonPod();
  std::string error;  // empty: created
  int http_code = 0;
  std::string reason;
  size_t requests = 1;
};
void PrintTo(const CreateCase& c, std::ostream* os) { *os << c.name; }

const CreateCase kCreateCases[] = {
    {.name = "Created"},
    // API Priority and Fairness refused it before it ran: sent again.
    {.name = "Throttled429IsSentAgain",
     .faults = {StatusFault("POST /api/v1/namespaces/ns/pods", 429, 0)},
     .requests = 2},
    // It may have been created: never sent again (cluster-integration 4).
    {.name = "ServerError503IsNotSentAgain",
     .faults = {StatusFault("POST /api/v1/namespaces/ns/pods", 503, 0)},
     .error = "HTTP 503 ServiceUnavailable",
     .http_code = 503,
     .reason = "ServiceUnavailable"},
    {.name = "DroppedIsNotSentAgain",
     .faults = {KindFault(Fault::Kind::kDrop,
                          "POST /api/v1/namespaces/ns/pods")},
     .error = "CREATE "},
    {.name = "NoNameIsInvalid",
     .pod = {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {}}},
     .error = "name or generateName is required",
     .http_code = 422,
     .reason = "Invalid"},
    {.name = "OtherNamespaceIsBadRequest",
     .pod = {{"apiVersion", "v1"},
             {"kind", "Pod"},
             {"metadata", {{"name", "p"}, {"namespace", "other"}}}},
     .error = "does not match the namespace",
     .http_code = 400,
     .reason = "BadRequest"},
    {.name = "TakenNameAlreadyExists",
     .pod = {{"apiVersion", "v1"},
             {"kind", "Pod"},
             {"metadata", {{"name", "taken"}}}},
     .error = "already exists",
     .http_code = 409,
     .reason = "AlreadyExists"},
};

class CreateTest : public ::testing::TestWithParam<CreateCase> {};

TEST_P(CreateTest, Creates) {
  const CreateCase& c = GetParam();
  auto server = FakeApiServer::Start();
  ASSERT_NE(server, nullptr);
  server->Apply({{"apiVersion", "v1"},
                 {"kind", "Pod"},
                 {"metadata", {{"name", "taken"}, {"namespace", "ns"}}}});
  for (const Fault& f : c.faults) server->AddFault(f);
  Client client(ConfigFor(*server), FastOptions());
  absl::StatusOr<nlohmann::json> created = client.Create(kPods, "ns", c.pod);
  const std::vector<testing::LoggedRequest> log = server->Log();
  ASSERT_EQ(log.size(), c.requests);
  for (const testing::LoggedRequest& r : log) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.target, "/api/v1/namespaces/ns/pods");
    EXPECT_EQ(r.content_type, "application/json");
    EXPECT_EQ(nlohmann::json::parse(r.body), c.pod) << "sent as given";
    EXPECT_EQ(r.user_agent, "kube_client_test/1.2.3");
  }
  if (c.error.empty()) {
    ASSERT_TRUE(created.ok()) << created.status();
    const std::string name = (*created)["metadata"]["name"];
    // generateName: the prefix and five characters.
    EXPECT_EQ(name.size(), 6u + 5u) << name;
    EXPECT_EQ(name.rfind("agent-", 0), 0u) << name;
    EXPECT_EQ((*created)["metadata"]["namespace"], "ns");
    EXPECT_FALSE((*created)["metadata"]["uid"].get<std::string>().empty());
    EXPECT_EQ(server->Get("Pod", "ns", name)["metadata"]["uid"],
              (*created)["metadata"]["uid"]);
    return;
  }
  ASSERT_FALSE(created.ok());
  EXPECT_NE(created.status().message().find(c.error), std::string::npos)
      << created.status();
  EXPECT_EQ(HttpCode(created.status()), c.http_code);
  EXPECT_EQ(StatusReason(created.status()), c.reason);
}

INSTANTIATE_TEST_SUITE_P(Faults, CreateTest, ::testing::ValuesIn(kCreateCases),
                         CaseName<CreateCase>);

struct DeleteCase {
  std::string name;
  std::vector<Fault> faults;
  std::string pod = "p";
  std::string uid = "uid-ns-p";  // the stored pod's
  std::string error;             // empty: deleted
  int http_code = 0;
  std::string reason;
  size_t requests = 1;
  bool still_there = false;
};
void PrintTo(const DeleteCase& c, std::ostream* os) { *os << c.name; }

const DeleteCase kDeleteCases[] = {
    {.name = "Deleted"},
    {.name = "NoPreconditionWithoutUid", .uid = ""},
    // dsd's addition: the pod decided about is gone, another took its name.
    {.name = "OtherUidIsConflict",
     .uid = "uid-of-an-older-pod",
     .error = "Precondition failed: UID in precondition: uid-of-an-older-pod",
     .http_code = 409,
     .reason = "Conflict",
     .still_there = true},
    {.name = "GoneIsNotFound",
     .pod = "q",
     .error = "HTTP 404 NotFound",
     .http_code = 404,
     .reason = "NotFound",
     .still_there = true},
    // A second DELETE with the precondition is harmless: sent again.
    {.name = "ServerError503WithRetryAfterIsSentAgain",
     .faults = {StatusFault("DELETE /api/v1/namespaces/ns/pods/p", 503, 0)},
     .requests = 2},
    {.name = "DroppedIsSentAgain",
     .faults = {KindFault(Fault::Kind::kDrop,
                          "DELETE /api/v1/namespaces/ns/pods/p")},
     .requests = 2},
    {.name = "ServerError500WithoutRetryAfterIsAnError",
     .faults = {StatusFault("DELETE /api/v1/namespaces/ns/pods/p", 500, -1)},
     .error = "HTTP 500",
     .http_code = 500,
     .reason = "InternalError",
     .still_there = true},
};

class DeleteTest : public ::testing::TestWithParam<DeleteCase> {};

TEST_P(DeleteTest, Deletes) {
  const DeleteCase& c = GetParam();
  auto server = FakeApiServer::Start();
  ASSERT_NE(server, nullptr);
  server->Apply({{"apiVersion", "v1"},
                 {"kind", "Pod"},
                 {"metadata", {{"name", "p"}, {"namespace", "ns"}}}});
  for (const Fault& f : c.faults) server->AddFault(f);
  Client client(ConfigFor(*server), FastOptions());
  const absl::Status s = client.Delete(kPods, "ns", c.pod, c.uid);
  const std::vector<testing::LoggedRequest> log = server->Log();
  ASSERT_EQ(log.size(), c.requests);
  for (const testing::LoggedRequest& r : log) {
    EXPECT_EQ(r.method, "DELETE");
    EXPECT_EQ(r.target, "/api/v1/namespaces/ns/pods/" + c.pod);
    // Upstream's empty DeleteOptions (no grace-period override), plus
    // dsd's uid precondition.
    nlohmann::json want = {{"apiVersion", "v1"}, {"kind", "DeleteOptions"}};
    if (!c.uid.empty()) want["preconditions"] = {{"uid", c.uid}};
    EXPECT_EQ(nlohmann::json::parse(r.body), want);
  }
  if (c.error.empty()) {
    EXPECT_TRUE(s.ok()) << s;
  } else {
    EXPECT_NE(s.message().find(c.error), std::string::npos) << s;
    EXPECT_EQ(HttpCode(s), c.http_code);
    EXPECT_EQ(StatusReason(s), c.reason);
  }
  EXPECT_EQ(server->Get("Pod", "ns", "p").is_null(), !c.still_there);
}

INSTANTIATE_TEST_SUITE_P(Faults, DeleteTest, ::testing::ValuesIn(kDeleteCases),
                         CaseName<DeleteCase>);

struct UpdateCase {
  std::string name;
  std::vector<Fault> faults;
  std::string subresource;
  bool stale = false;  // send an older resourceVersion
  std::string error;   // empty: updated
  int http_code = 0;
  size_t requests = 1;
};
void PrintTo(const UpdateCase& c, std::ostream* os) { *os << c.name; }

const UpdateCase kUpdateCases[] = {
    {.name = "StatusUpdated", .subresource = "status"},
    {.name = "ObjectUpdated"},
    {.name = "StaleResourceVersionIsConflict",
     .subresource = "status",
     .stale = true,
     .error = "the object has been modified",
     .http_code = 409},
    // It carries its resourceVersion: sent again, it cannot apply twice.
    {.name = "ServerError503WithRetryAfterIsSentAgain",
     .faults = {StatusFault("PUT /apis/apps/v1/namespaces/ns/daemonsets/ds",
                            503, 0)},
     .subresource = "status",
     .requests = 2},
};

class UpdateTest : public ::testing::TestWithParam<UpdateCase> {};

TEST_P(UpdateTest, Updates) {
  const UpdateCase& c = GetParam();
  auto server = FakeApiServer::Start();
  ASSERT_NE(server, nullptr);
  nlohmann::json ds =
      server->Apply({{"apiVersion", "apps/v1"},
                     {"kind", "DaemonSet"},
                     {"metadata", {{"name", "ds"}, {"namespace", "ns"}}},
                     {"spec", {{"minReadySeconds", 1}}},
                     {"status", {{"numberReady", 1}}}});
  const std::string stored_rv = ds["metadata"]["resourceVersion"];
  if (c.stale) ds["metadata"]["resourceVersion"] = "1";
  ds["spec"]["minReadySeconds"] = 5;
  ds["status"]["numberReady"] = 3;
  for (const Fault& f : c.faults) server->AddFault(f);
  Client client(ConfigFor(*server), FastOptions());
  absl::StatusOr<nlohmann::json> updated =
      client.Update(kDaemonSets, "ns", "ds", c.subresource, ds);
  const std::vector<testing::LoggedRequest> log = server->Log();
  ASSERT_EQ(log.size(), c.requests);
  for (const testing::LoggedRequest& r : log) {
    EXPECT_EQ(r.method, "PUT");
    EXPECT_EQ(r.target, "/apis/apps/v1/namespaces/ns/daemonsets/ds" +
                            (c.subresource.empty() ? "" : "/" + c.subresource));
    EXPECT_EQ(nlohmann::json::parse(r.body), ds);
  }
  const nlohmann::json now = server->Get("DaemonSet", "ns", "ds");
  if (!c.error.empty()) {
    ASSERT_FALSE(updated.ok());
    EXPECT_NE(updated.status().message().find(c.error), std::string::npos)
        << updated.status();
    EXPECT_EQ(HttpCode(updated.status()), c.http_code);
    EXPECT_EQ(now["metadata"]["resourceVersion"], stored_rv) << "unchanged";
    return;
  }
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_NE((*updated)["metadata"]["resourceVersion"], stored_rv);
  // The status subresource takes the status only; the object all else.
  const bool status_only = c.subresource == "status";
  EXPECT_EQ(now["status"]["numberReady"], status_only ? 3 : 1);
  EXPECT_EQ(now["spec"]["minReadySeconds"], status_only ? 1 : 5);
}

INSTANTIATE_TEST_SUITE_P(Faults, UpdateTest, ::testing::ValuesIn(kUpdateCases),
                         CaseName<UpdateCase>);

// ----------------------------------------------------------- Connections

// The calls of one Client, in order, and the connections the server saw
// them on (told apart by the client's port).
struct ConnectionCase {
  std::string name;
  // "list", "delete" (pod p, once), "create" (a pod by generateName),
  // "idle" (1.5 s: past the fake's 1 s keep-alive, it closes the idle
  // connection).
  std::vector<std::string> calls;
  size_t connections;  // distinct ones
  // Requests (by index) that went on a connection no earlier one used.
  std::vector<size_t> fresh;
};
void PrintTo(const ConnectionCase& c, std::ostream* os) { *os << c.name; }

const ConnectionCase kConnectionCases[] = {
    {.name = "ListsShareOne",
     .calls = {"list", "list", "list", "list"},
     .connections = 1,
     .fresh = {0}},
    {.name = "ADeleteSharesTheListsOne",
     .calls = {"list", "delete", "list"},
     .connections = 1,
     .fresh = {0}},
    {.name = "OneClosedWhileIdleIsReplaced",
     .calls = {"list", "idle", "list"},
     .connections = 2,
     .fresh = {0, 1}},
    // libcurl sends a request again when a reused connection closes
    // before any answer; the server may have created the pod already.
    {.name = "EachCreateHasOneOfItsOwn",
     .calls = {"list", "create", "create", "list"},
     .connections = 3,
     .fresh = {0, 1, 2}},
};

class ConnectionTest : public ::testing::TestWithParam<ConnectionCase> {};

TEST_P(ConnectionTest, Reuses) {
  const ConnectionCase& c = GetParam();
  auto server = FakeApiServer::Start();
  ASSERT_NE(server, nullptr);
  server->Apply(Node("a"));
  server->Apply({{"apiVersion", "v1"},
                 {"kind", "Pod"},
                 {"metadata", {{"name", "p"}, {"namespace", "ns"}}}});
  Client client(ConfigFor(*server), FastOptions());
  for (const std::string& call : c.calls) {
    if (call == "list") {
      ASSERT_TRUE(client.List(kNodes, {}).ok());
    } else if (call == "delete") {
      ASSERT_TRUE(client.Delete(kPods, "ns", "p", "uid-ns-p").ok());
    } else if (call == "create") {
      const absl::StatusOr<nlohmann::json> created =
          client.Create(kPods, "ns",
                        {{"apiVersion", "v1"},
                         {"kind", "Pod"},
                         {"metadata", {{"generateName", "agent-"}}}});
      ASSERT_TRUE(created.ok()) << created.status();
    } else {
      ASSERT_EQ(call, "idle");
      std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    }
  }
  const std::vector<testing::LoggedRequest> log = server->Log();
  std::set<int> ports;
  std::vector<size_t> fresh;
  for (size_t i = 0; i < log.size(); ++i) {
    ASSERT_NE(log[i].remote_port, 0);
    if (ports.insert(log[i].remote_port).second) fresh.push_back(i);
  }
  EXPECT_EQ(ports.size(), c.connections);
  EXPECT_EQ(fresh, c.fresh);
}

INSTANTIATE_TEST_SUITE_P(Calls, ConnectionTest,
                         ::testing::ValuesIn(kConnectionCases),
                         CaseName<ConnectionCase>);

}  // namespace
}  // namespace dsd::kube
