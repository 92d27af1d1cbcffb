// What the slim store keeps of an object, and the decoding of List pages
// into it. A 5,000-node cluster's pod list is hundreds of MB, most of it
// what dsd never reads (containers, volumes, managedFields), so a page
// goes through simdjson's stage 1 (structural characters, UTF-8) and our
// own walk of its structure, which checks all of the page but writes out
// only the kept part. The text is the same, byte for byte, as the
// nlohmann path's SlimObject(item).dump(), so the one converter of
// client/k8s reads live objects and kubectl's alike.
#ifndef DSD_CLIENT_KUBE_SLIM_H_
#define DSD_CLIENT_KUBE_SLIM_H_

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace dsd::kube {

struct Resource;

// What dsd keeps of an object: the object without metadata.managedFields,
// the kubectl.kubernetes.io/last-applied-configuration annotation, and by
// kind: a Pod's spec.containers/initContainers/ephemeralContainers/volumes
// and status.containerStatuses/initContainerStatuses/
// ephemeralContainerStatuses (the same four of a DaemonSet's
// spec.template.spec), a ControllerRevision's data, a Node's status.images/
// volumesInUse/volumesAttached. The kind is the object's "kind". The
// object itself is left as it was.
nlohmann::json SlimObject(const nlohmann::json& object);

// Go's encoding/json, and so the API server, refuses JSON nested deeper
// than this; dsd too, before nlohmann's copy and dump, which recurse once
// a level (about 0.8 KB of stack each in Release).
inline constexpr size_t kMaxJsonNesting = 10'000;

// Whether `json` nests arrays and objects deeper than `limit`; strings are
// skipped, nothing else is checked. One pass, no recursion.
bool NestedDeeperThan(std::string_view json, size_t limit);

// DATA_LOSS for `what` (a List page, a watch event) nested deeper than
// kMaxJsonNesting.
absl::Status TooDeep(const std::string& what);

// The store's key of an object: "namespace/name" from its metadata ("/name"
// for a cluster-scoped one), "" when it has no name.
std::string ObjectKey(const nlohmann::json& object);

// One item of a List page as the store holds it.
struct SlimItem {
  std::string key;   // ObjectKey(item)
  std::string json;  // SlimObject(item with kind and apiVersion).dump()
};

struct SlimPage {
  std::vector<SlimItem> items;
  std::string resource_version;  // metadata.resourceVersion ("" if absent)
  std::string continue_token;    // metadata.continue ("" if absent)
};

// Decodes one List page of `resource`, as the API server sends it: each
// item gets the resource's kind and apiVersion (items of a List carry
// neither) and is slimmed. Duplicate keys keep the last value, as
// nlohmann::json and Go's encoding/json do. `what` ("LIST <url>") starts
// every error: DATA_LOSS when the body is not a JSON object, not a List
// (items and metadata), or an item is not an object. A body the fast path
// does not take (any JSON error, nesting past 1,024 levels) goes to the
// nlohmann path, which accepts or refuses it as before. `body` may be
// changed (padding is appended for simdjson).
absl::Status DecodeListPage(std::string& body, const Resource& resource,
                            const std::string& what, SlimPage* page);

// DecodeListPage for the pages of one list: keeps its buffers (about five
// times the largest page: simdjson's structural index, 4 bytes a byte,
// and room for unescaped strings) from page to page. Not thread-safe.
class PageDecoder {
 public:
  PageDecoder();
  ~PageDecoder();
  PageDecoder(const PageDecoder&) = delete;
  PageDecoder& operator=(const PageDecoder&) = delete;

  absl::Status Decode(std::string& body, const Resource& resource,
                      const std::string& what, SlimPage* page);
  // The fast path alone; false when it does not take the body (Decode
  // then takes the nlohmann path). Exposed for tests.
  bool DecodeSimdjson(std::string& body, const Resource& resource,
                      const std::string& what, SlimPage* page,
                      absl::Status* status);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

namespace internal {
// The nlohmann path: nlohmann::json::parse, then SlimObject and dump per
// item. The reference DecodeListPage must equal; exposed for tests and the
// benchmark.
absl::Status DecodeListPageNlohmann(std::string_view body,
                                    const Resource& resource,
                                    const std::string& what, SlimPage* page);
}  // namespace internal

}  // namespace dsd::kube

#endif  // DSD_CLIENT_KUBE_SLIM_H_
