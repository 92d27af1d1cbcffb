// A reflector and its slim store, as client-go's Reflector + Store: list
// (paged), then watch from the list's resourceVersion, applying events to
// the store; on 410 Gone relist from the last resourceVersion, and when
// that is gone too (or too large, 504), from the latest; other watch
// failures re-watch after a backoff with jitter. One thread per reflector.
//
// The store keeps each object as compact JSON text without what dsd never
// reads (metadata.managedFields, the last-applied-configuration
// annotation, a Pod's spec.containers/initContainers/volumes and
// status.containerStatuses, which are most of a pod's bytes; slim.h), so a
// 150,000-pod cluster is held in a fraction of client-go's memory; with
// ReflectorOptions::encode, in whatever the caller makes of that text
// (dsd-adapter: the dsd.v1 message). List pages are slimmed as they are
// read (Client::ListSlim) and the store is built page by page, so a list
// is never held whole.
#ifndef DSD_CLIENT_KUBE_REFLECTOR_H_
#define DSD_CLIENT_KUBE_REFLECTOR_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/container/btree_set.h"
#include "absl/container/node_hash_map.h"
#include "client/kube/client.h"

namespace dsd::kube {

struct ReflectorOptions {
  std::string namespace_;  // empty: all
  std::string label_selector;
  int64_t page_size = 500;
  int watch_timeout_seconds = 300;
  // One line per state change or failure ("pods: watch: 410 ..."); may be
  // empty.
  std::function<void(const std::string& line)> log;
  // An index over the store, as client-go's Indexers with one index
  // function: the value an object is filed under ("" files it nowhere).
  // Optional; ForEachIndexed reads it.
  std::function<std::string(const nlohmann::json& object)> index;
  // What the store keeps of an object, from its slim compact JSON text
  // (SlimObject(object).dump()); unset: that text. dsd-adapter keeps each
  // object converted to its dsd.v1 message instead. Called on the
  // reflector's thread, without its lock held. ForEach, Get and
  // ForEachIndexed hand out what it returned.
  std::function<std::string(std::string slim_json)> encode;
  // After each change to the store: the event type ("ADDED", "MODIFIED",
  // "DELETED"; "SYNC" after a list replaced the whole store, with a null
  // object), the object as received, and the index value the object's key
  // was filed under before this change ("" when none), so a consumer sees
  // an object leaving its old place too. Called on the reflector's thread,
  // without its lock held.
  std::function<void(const std::string& type, const nlohmann::json& object,
                     const std::string& previous_index)>
      on_change;
};

class Reflector {
 public:
  Reflector(Client& client, Resource resource, ReflectorOptions options);
  ~Reflector();
  Reflector(const Reflector&) = delete;
  Reflector& operator=(const Reflector&) = delete;

  void Start();
  // Stops the thread (the client must be stopped too for a watch in
  // flight to end at once: Client::Stop).
  void Stop();

  const Resource& resource() const { return resource_; }
  // True once a list has been applied and no relist is under way.
  bool synced() const { return synced_.load(); }
  // Bumped on every change to the store.
  uint64_t generation() const { return generation_.load(); }
  // "listing", "watching", "backoff", "stopped".
  std::string state() const;
  std::string last_error() const;
  uint64_t relists() const { return relists_.load(); }
  // Runs `f` on each stored object's compact JSON, in key order, under the
  // lock.
  void ForEach(const std::function<void(std::string_view json)>& f) const;
  size_t size() const;
  // The stored keys ("ns/name", "/name" for cluster-scoped kinds), sorted.
  std::vector<std::string> Keys() const;
  // The compact JSON stored under `key`; false when there is none.
  bool Get(std::string_view key, std::string& json) const;
  // Runs `f` on each stored object filed under `value` by
  // ReflectorOptions::index, in key order, under the lock. Nothing without
  // an index function.
  void ForEachIndexed(
      std::string_view value,
      const std::function<void(std::string_view json)>& f) const;
  // How many stored objects are filed under `value`.
  size_t IndexedCount(std::string_view value) const;

 private:
  // The objects and the index over them. Each object is one allocation,
  // its key and value side by side (a std::map of strings cost ~460 bytes
  // a pod beside its ~230 message bytes); the ordered sets hold pointers
  // to them, so each key is held once and iteration is in key order.
  class Store {
   public:
    Store() = default;
    Store(Store&& other) noexcept;
    Store& operator=(Store&& other) noexcept;
    ~Store();
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    // Sets `key`'s value and files it under `index` ("" nowhere); the
    // value it was filed under before ("" none).
    std::string Put(std::string_view key, std::string_view value,
                    std::string_view index);
    // Removes `key`; the value it was filed under ("" none).
    std::string Remove(std::string_view key);

    size_t size() const { return objects_.size(); }
    void ForEach(const std::function<void(std::string_view key,
                                          std::string_view value)>& f) const;
    // The value stored under `key`; false when there is none.
    bool Find(std::string_view key, std::string_view& value) const;
    void ForEachIndexed(
        std::string_view index,
        const std::function<void(std::string_view value)>& f) const;
    size_t IndexedCount(std::string_view index) const;

   private:
    struct Record;
    struct ByKey {
      using is_transparent = void;
      static std::string_view KeyOf(const Record* r);
      static std::string_view KeyOf(std::string_view key) { return key; }
      template <typename A, typename B>
      bool operator()(const A& a, const B& b) const {
        return KeyOf(a) < KeyOf(b);
      }
    };
    using Set = absl::btree_set<Record*, ByKey>;
    void Clear();

    Set objects_;  // owns the records
    // Index value -> its records; nodes stay put, so a record can point at
    // its index value's key.
    absl::node_hash_map<std::string, Set> indexed_;
  };

  void Run();
  // Lists and replaces the store; false on error (logged).
  bool ListOnce();
  void SetState(const std::string& state, const std::string& error = "");
  bool SleepBackoff(int attempt);

  Client& client_;
  const Resource resource_;
  const ReflectorOptions options_;
  mutable std::mutex mu_;
  Store store_;  // "ns/name" -> slim JSON text, or what encode made of it
  std::string state_ = "stopped";
  std::string last_error_;
  std::string last_rv_;
  bool rv_unavailable_ = false;
  std::atomic<bool> synced_{false};
  std::atomic<uint64_t> generation_{0};
  std::atomic<uint64_t> relists_{0};
  std::atomic<bool> stop_{false};
  std::condition_variable stop_cv_;
  std::thread thread_;
};

// Every stored object of the reflectors as one kubectl `List` JSON text,
// the input SnapshotLoader::AddText reads (as `kubectl get -o json`).
std::string ListText(const std::vector<const Reflector*>& reflectors);

}  // namespace dsd::kube

#endif  // DSD_CLIENT_KUBE_REFLECTOR_H_
