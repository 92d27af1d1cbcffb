#include "client/kube/cluster_list.h"

#include <utility>

#include "client/kube/reflector.h"

namespace dsd::kube {

absl::StatusOr<std::string> ListCluster(Client& client,
                                        const ClusterListOptions& options) {
  std::string text =
      R"({"apiVersion":"v1","kind":"List","metadata":{"resourceVersion":""},)"
      "\n"
      R"("items":[)";
  bool first = true;
  for (const Resource* resource :
       {&kNodes, &kDaemonSets, &kPods, &kControllerRevisions}) {
    ListOptions list;
    list.namespace_ = resource->namespaced ? options.namespace_ : "";
    list.limit = options.page_size;
    // "": the latest, read from etcd (a quorum read), as kubectl lists.
    list.resource_version = "";
    int pages = 0;
    size_t items = 0;
    list.on_page = [&](size_t so_far, int page) {
      pages = page;
      items = so_far;
      if (options.progress) options.progress(*resource, so_far, page, false);
    };
    // Each object is slimmed and written as its page arrives: the whole
    // list is never held as JSON objects.
    list.on_item = [&](nlohmann::json&& item) {
      text += first ? "\n" : ",\n";
      first = false;
      text += SlimObject(item).dump();
    };
    absl::StatusOr<ListResult> result = client.List(*resource, list);
    if (!result.ok()) return result.status();
    if (options.progress) options.progress(*resource, items, pages, true);
  }
  text += "\n]}\n";
  return text;
}

}  // namespace dsd::kube
