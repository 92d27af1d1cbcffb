// The caches convert on the reflector's thread, as events arrive, and never
// in a filter call: a filter call takes a shared lock and shares messages.
// A relist (the first list, or after 410 Gone) re-reads the reflector's
// store; objects whose resourceVersion is unchanged keep their message, so
// a relist of an unchanged cluster converts nothing.
#include "client/extender/caches.h"

#include <google/protobuf/util/message_differencer.h>

#include <mutex>
#include <optional>
#include <utility>

#include "client/k8s/object_json.h"

namespace dsd::extender {
namespace {

using Json = nlohmann::json;

std::string MetaString(const Json& object, const char* key) {
  const auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return "";
  const auto it = meta->find(key);
  return it != meta->end() && it->is_string() ? it->get<std::string>() : "";
}

// The cache's key: "namespace/name", or the name alone for a
// cluster-scoped object, so that node names are looked up as they come.
std::string KeyOf(const Json& object) {
  const std::string name = MetaString(object, "name");
  if (name.empty()) return "";
  const std::string ns = MetaString(object, "namespace");
  return ns.empty() ? name : ns + "/" + name;
}

}  // namespace

ConvertedCache::ConvertedCache(kube::Client& client,
                               const kube::Resource& resource,
                               Converter convert, CacheOptions options)
    : resource_(resource),
      convert_(std::move(convert)),
      options_(std::move(options)) {
  kube::ReflectorOptions ro;
  ro.page_size = options_.page_size;
  ro.log = options_.log;
  ro.on_change = [this](const std::string& type, const Json& object,
                        const std::string& /*previous index value*/) {
    OnChange(type, object);
  };
  reflector_ = std::make_unique<kube::Reflector>(client, resource_, ro);
}

ConvertedCache::~ConvertedCache() { Stop(); }

void ConvertedCache::Start() { reflector_->Start(); }

void ConvertedCache::Stop() { reflector_->Stop(); }

ConvertedCache::Entry ConvertedCache::Convert(const Json& object,
                                              const Entry* previous) const {
  auto converted = std::make_shared<Converted>();
  converted->resource_version = MetaString(object, "resourceVersion");
  std::vector<client::InputProblem> problems;
  converted->message = convert_(object, problems);
  for (const client::InputProblem& p : problems) {
    if (!converted->problems.empty()) converted->problems += "; ";
    converted->problems += p.ToString();
  }
  if (!problems.empty() && options_.log) {
    options_.log(resource_.plural + ": " + converted->problems);
  }
  Entry entry;
  if (previous != nullptr && previous->converted->message != nullptr &&
      converted->message != nullptr &&
      google::protobuf::util::MessageDifferencer::Equals(
          *previous->converted->message, *converted->message)) {
    // A change of what dsd does not read (a node's status, a DaemonSet's):
    // the same message and version, so remembered verdicts stay valid.
    converted->message = previous->converted->message;
    entry.version = previous->version;
  } else {
    entry.version = versions_.fetch_add(1) + 1;
  }
  entry.message = converted->message.get();
  entry.converted = std::move(converted);
  return entry;
}

void ConvertedCache::OnChange(const std::string& type, const Json& object) {
  if (type == "SYNC") {
    Resync();
    return;
  }
  const std::string key = KeyOf(object);
  if (key.empty()) return;
  if (type == "DELETED") {
    std::unique_lock<std::shared_mutex> lock(mu_);
    entries_.erase(key);
    return;
  }
  const std::string rv = MetaString(object, "resourceVersion");
  std::optional<Entry> previous;  // only this thread writes entries_
  {
    std::shared_lock<std::shared_mutex> lock(mu_);
    const auto it = entries_.find(key);
    if (it != entries_.end()) {
      if (!rv.empty() && it->second.converted->resource_version == rv) {
        return;  // this version is converted already
      }
      previous = it->second;
    }
  }
  // Outside the lock: readers go on.
  Entry entry = Convert(object, previous ? &*previous : nullptr);
  {
    std::unique_lock<std::shared_mutex> lock(mu_);
    entries_[key] = std::move(entry);
  }
  conversions_.fetch_add(1);  // counted once a lookup can see it
}

void ConvertedCache::Resync() {
  // Read first: a relist that starts while this one is converted is not
  // covered by it.
  const uint64_t relists = reflector_->relists();
  absl::flat_hash_map<std::string, Entry> old;
  {
    std::shared_lock<std::shared_mutex> lock(mu_);
    old = entries_;  // shared_ptr copies: cheap
  }
  absl::flat_hash_map<std::string, Entry> fresh;
  uint64_t converted = 0;
  reflector_->ForEach([&](std::string_view text) {
    const Json object = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    const std::string key = KeyOf(object);
    if (key.empty()) return;
    const std::string rv = MetaString(object, "resourceVersion");
    const auto it = old.find(key);
    if (it != old.end() && !rv.empty() &&
        it->second.converted->resource_version == rv) {
      fresh[key] = it->second;
    } else {
      // The store's slim copy lacks only what dsd never reads (managed
      // fields, images, a template's containers).
      fresh[key] = Convert(object, it != old.end() ? &it->second : nullptr);
      ++converted;
    }
  });
  {
    std::unique_lock<std::shared_mutex> lock(mu_);
    entries_.swap(fresh);
  }
  conversions_.fetch_add(converted);
  resynced_relists_.store(relists);
}

std::shared_ptr<const google::protobuf::Message> ConvertedCache::Get(
    const std::string& key, std::string* problems) const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  const auto it = entries_.find(key);
  if (it == entries_.end()) return nullptr;
  if (problems != nullptr) *problems = it->second.converted->problems;
  return it->second.converted->message;
}

void ConvertedCache::VisitAll(
    const std::vector<std::string_view>& keys,
    const std::function<void(size_t, const google::protobuf::Message*,
                             uint64_t)>& visit) const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  for (size_t i = 0; i < keys.size(); ++i) {
    // Looked up as they are: building each key in one reused buffer made
    // every lookup wait for the last (5,000 took 3x as long).
    if (const auto it =
            entries_.find(absl::string_view(keys[i].data(), keys[i].size()));
        it != entries_.end()) {
      visit(i, it->second.message, it->second.version);
    } else {
      visit(i, nullptr, 0);
    }
  }
}

bool ConvertedCache::synced() const {
  return reflector_->synced() && resynced_relists_.load() > 0 &&
         resynced_relists_.load() == reflector_->relists();
}

size_t ConvertedCache::size() const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  return entries_.size();
}

std::string ConvertedCache::Describe() const {
  if (synced()) {
    return resource_.plural + ": synced, " + std::to_string(size()) +
           " objects";
  }
  std::string out = resource_.plural + ": not synced (" + reflector_->state();
  if (const std::string error = reflector_->last_error(); !error.empty()) {
    out += "; last error: " + error;
  }
  return out + ")";
}

DaemonSetCache::DaemonSetCache(kube::Client& client, CacheOptions options)
    : cache_(
          client, kube::kDaemonSets,
          [](const nlohmann::json& object,
             std::vector<client::InputProblem>& problems) {
            return std::make_shared<const v1::DaemonSet>(
                client::DaemonSetFromJson(object, problems));
          },
          std::move(options)) {}

std::shared_ptr<const v1::DaemonSet> DaemonSetCache::Find(
    const std::string& namespace_name, const std::string& name,
    const std::string& uid) const {
  std::string problems;
  auto ds = std::static_pointer_cast<const v1::DaemonSet>(
      cache_.Get(namespace_name + "/" + name, &problems));
  if (ds == nullptr || !problems.empty()) return nullptr;
  // Another uid: the pod's DaemonSet was deleted and one of the same name
  // created; its template says nothing about this pod (the garbage
  // collector deletes the pod).
  if (!uid.empty() && ds->uid() != uid) return nullptr;
  return ds;
}

NodeCache::NodeCache(kube::Client& client, CacheOptions options)
    : cache_(
          client, kube::kNodes,
          [](const nlohmann::json& object,
             std::vector<client::InputProblem>& problems) {
            return std::make_shared<const v1::Node>(
                client::NodeFromJson(object, problems));
          },
          std::move(options)) {}

void NodeCache::Visit(const std::vector<std::string_view>& names,
                      const Visitor& visit) const {
  cache_.VisitAll(names, [&visit](size_t i, const google::protobuf::Message* m,
                                  uint64_t v) {
    visit(i, static_cast<const v1::Node*>(m), v);
  });
}

std::optional<v1::Node> NodeCache::Find(const std::string& name) const {
  const auto message = cache_.Get(name);
  if (message == nullptr) return std::nullopt;
  return static_cast<const v1::Node&>(*message);
}

}  // namespace dsd::extender
