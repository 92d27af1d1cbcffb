// Where dsd-extender gets cluster facts the extender protocol does not
// carry: the DaemonSet a daemon pod belongs to (its current template) and,
// with nodeCacheCapable: true, the Node objects behind node names. Both are
// interfaces: the watch-based caches (caches.h) implement them, and tests
// plug in their own; without API access dsd-extender runs without them.
#ifndef DSD_CLIENT_EXTENDER_SOURCES_H_
#define DSD_CLIENT_EXTENDER_SOURCES_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dsd/v1/dsd.pb.h"

namespace dsd::extender {

// The current DaemonSets. Implementations must be thread-safe: Find is
// called from every HTTP worker at once.
class DaemonSetSource {
 public:
  virtual ~DaemonSetSource() = default;
  // The DaemonSet namespace/name as last seen, converted; null when it is
  // unknown (the filter then uses the pod's own spec). `uid` is the pod's
  // ownerReference uid (may be empty): a DaemonSet with another uid is a
  // re-created one, and implementations return null for it. The message
  // is immutable and shared: a change to it is a new message (the
  // filter's verdicts rely on it); an update of what it does not hold (the
  // DaemonSet's status) may keep it.
  virtual std::shared_ptr<const v1::DaemonSet> Find(
      const std::string& namespace_name, const std::string& name,
      const std::string& uid) const = 0;
};

// The current Nodes, for requests that carry only node names. Thread-safe
// as above.
class NodeSource {
 public:
  virtual ~NodeSource() = default;
  // Calls visit(i, node, version) for each of `names`, in order, with the
  // node as last seen, or null (version 0) where the cache does not have
  // it (yet). `node` is valid during the call only. `version` names this
  // very message: a change to the message gets another, and none is ever
  // reused (the filter's verdicts rely on it); an update of what it does
  // not hold (the node's status) may keep it.
  using Visitor =
      std::function<void(size_t i, const v1::Node* node, uint64_t version)>;
  virtual void Visit(const std::vector<std::string_view>& names,
                     const Visitor& visit) const = 0;
};

}  // namespace dsd::extender

#endif  // DSD_CLIENT_EXTENDER_SOURCES_H_
