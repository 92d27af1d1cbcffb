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
    if (options.progress) {
      list.on_page = [&](size_t items, int page) {
        pages = page;
        options.progress(*resource, items, page, false);
      };
    }
    absl::StatusOr<ListResult> result = client.List(*resource, list);
    if (!result.ok()) return result.status();
    for (nlohmann::json& item : result->items) {
      text += first ? "\n" : ",\n";
      first = false;
      text += SlimObject(item).dump();
      item = nlohmann::json();  // the page's memory goes as it is written
    }
    if (options.progress) {
      options.progress(*resource, result->items.size(), pages, true);
    }
  }
  text += "\n]}\n";
  return text;
}

}  // namespace dsd::kube
