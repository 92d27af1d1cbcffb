// dsd-extender's watch-based caches: the DaemonSets of every namespace
// (DaemonSetSource) and, for kube-scheduler's nodeCacheCapable: true, the
// Nodes (NodeSource). Each is a client/kube Reflector (list, then watch)
// whose objects are converted to dsd.v1 messages by client/k8s once per
// resourceVersion, on the reflector's thread, so that a filter call only
// looks messages up.
#ifndef DSD_CLIENT_EXTENDER_CACHES_H_
#define DSD_CLIENT_EXTENDER_CACHES_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "client/extender/sources.h"
#include "client/k8s/snapshot_loader.h"
#include "client/kube/client.h"
#include "client/kube/reflector.h"
#include "dsd/v1/dsd.pb.h"

namespace dsd::extender {

struct CacheOptions {
  // Objects per list page (limit/continue).
  int64_t page_size = 500;
  // Where failures and unusable objects are reported, one line each
  // ("daemonsets: watch: 410 ...", "Node w1: spec.taints[0].effect: ...").
  // May be empty.
  std::function<void(const std::string& line)> log;
};

// One kind of object, converted. Thread-safe: Get and the accessors may be
// called from any thread while the reflector's thread applies changes.
// The client must outlive it.
class ConvertedCache {
 public:
  // Converts one object (the JSON as the API server sent it); problems go
  // to the vector.
  using Converter =
      std::function<std::shared_ptr<const google::protobuf::Message>(
          const nlohmann::json& object,
          std::vector<client::InputProblem>& problems)>;

  ConvertedCache(kube::Client& client, const kube::Resource& resource,
                 Converter convert, CacheOptions options);
  ~ConvertedCache();
  ConvertedCache(const ConvertedCache&) = delete;
  ConvertedCache& operator=(const ConvertedCache&) = delete;

  void Start();
  // Stops the reflector (stop the client first for a watch in flight to
  // end at once).
  void Stop();

  // A converted object as last seen, by "namespace/name" (the name alone
  // for cluster-scoped kinds); null when absent. `problems` (may be null)
  // gets the conversion's problems, joined ("" when it converted cleanly).
  std::shared_ptr<const google::protobuf::Message> Get(
      const std::string& key, std::string* problems = nullptr) const;
  // Calls visit(i, message, version) for each key, under one read lock:
  // null and 0 where absent. `version` names the message: an update that
  // converts to an equal message (a change of what dsd does not read)
  // keeps message and version; any other gets a new version, never
  // reused, never 0.
  void VisitAll(
      const std::vector<std::string_view>& keys,
      const std::function<void(size_t, const google::protobuf::Message*,
                               uint64_t)>& visit) const;

  // True once the initial list has been listed and converted, and while no
  // relist is under way.
  bool synced() const;
  // "daemonsets: synced, 12 objects" or "nodes: not synced (listing; last
  // error: ...)", for /readyz.
  std::string Describe() const;
  const std::string& name() const { return resource_.plural; }
  size_t size() const;
  // Objects converted so far, once per resourceVersion seen; each counted
  // once Get and VisitAll can see it.
  uint64_t conversions() const { return conversions_.load(); }

 private:
  // One conversion. Held by an Entry, apart from what a lookup reads.
  struct Converted {
    std::string resource_version;
    std::shared_ptr<const google::protobuf::Message> message;
    std::string problems;
  };
  // What VisitAll reads, inline in the map's slot (64 bytes with the
  // key, against 120 with the conversion inline): a filter call looks
  // thousands of names up, each a likely cache miss.
  struct Entry {
    uint64_t version = 0;  // unique to this message
    const google::protobuf::Message* message = nullptr;  // converted's
    std::shared_ptr<const Converted> converted;
  };
  void OnChange(const std::string& type, const nlohmann::json& object);
  // After a (re)list: rebuilds the map from the reflector's store, keeping
  // the entries whose resourceVersion did not change.
  void Resync();
  // Converts `object`; when it converts to the same message as
  // `previous` (may be null), the entry keeps that message and version.
  Entry Convert(const nlohmann::json& object, const Entry* previous) const;

  const kube::Resource resource_;
  const Converter convert_;
  const CacheOptions options_;
  mutable std::shared_mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_;
  // The reflector's relists() when Resync last ran: synced while they are
  // equal (the reflector is synced before it calls Resync).
  std::atomic<uint64_t> resynced_relists_{0};
  std::atomic<uint64_t> conversions_{0};
  mutable std::atomic<uint64_t> versions_{0};  // the last version given
  std::unique_ptr<kube::Reflector> reflector_;
};

// apps/v1 DaemonSets of every namespace.
class DaemonSetCache : public DaemonSetSource {
 public:
  DaemonSetCache(kube::Client& client, CacheOptions options);
  // The current DaemonSet; null when unknown, when its uid is not `uid`
  // (a re-created DaemonSet; an empty `uid` matches any) or when it did
  // not convert (reported through the log when it was received).
  std::shared_ptr<const v1::DaemonSet> Find(
      const std::string& namespace_name, const std::string& name,
      const std::string& uid) const override;
  ConvertedCache& cache() { return cache_; }
  const ConvertedCache& cache() const { return cache_; }

 private:
  ConvertedCache cache_;
};

// core/v1 Nodes. A node whose conversion reported problems (which the API
// server's validation makes impossible) is kept as converted, with its
// problems logged once.
class NodeCache : public NodeSource {
 public:
  NodeCache(kube::Client& client, CacheOptions options);
  void Visit(const std::vector<std::string_view>& names,
             const Visitor& visit) const override;
  // One node, copied; nullopt when the cache does not have it (yet).
  std::optional<v1::Node> Find(const std::string& name) const;
  ConvertedCache& cache() { return cache_; }
  const ConvertedCache& cache() const { return cache_; }

 private:
  ConvertedCache cache_;
};

}  // namespace dsd::extender

#endif  // DSD_CLIENT_EXTENDER_CACHES_H_
