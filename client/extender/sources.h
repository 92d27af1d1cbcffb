// Where dsd-extender gets cluster facts the extender protocol does not
// carry: the DaemonSet a daemon pod belongs to (its current template) and,
// with nodeCacheCapable: true, the Node objects behind node names. Both are
// interfaces: the watch-based caches (caches.h) implement them, and tests
// plug in their own; without API access dsd-extender runs without them.
#ifndef DSD_CLIENT_EXTENDER_SOURCES_H_
#define DSD_CLIENT_EXTENDER_SOURCES_H_

#include <optional>
#include <string>

#include "dsd/v1/dsd.pb.h"

namespace dsd::extender {

// The current DaemonSets. Implementations must be thread-safe: Find is
// called from every HTTP worker at once.
class DaemonSetSource {
 public:
  virtual ~DaemonSetSource() = default;
  // The DaemonSet namespace/name as last seen, converted; nullopt when it
  // is unknown (the filter then uses the pod's own spec). `uid` is the
  // pod's ownerReference uid (may be empty): a DaemonSet with another uid
  // is a re-created one, and implementations return nullopt for it.
  virtual std::optional<v1::DaemonSet> Find(const std::string& namespace_name,
                                            const std::string& name,
                                            const std::string& uid) const = 0;
};

// The current Nodes, for requests that carry only node names. Thread-safe
// as above.
class NodeSource {
 public:
  virtual ~NodeSource() = default;
  // The node as last seen; nullopt when the cache does not have it (yet).
  virtual std::optional<v1::Node> Find(const std::string& name) const = 0;
};

}  // namespace dsd::extender

#endif  // DSD_CLIENT_EXTENDER_SOURCES_H_
