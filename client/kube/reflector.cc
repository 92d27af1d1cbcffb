#include "client/kube/reflector.h"

#include <chrono>
#include <cstring>
#include <new>
#include <random>
#include <utility>

namespace dsd::kube {
namespace {

std::string ResourceVersionOf(const nlohmann::json& object) {
  const auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return "";
  auto it = meta->find("resourceVersion");
  return it != meta->end() && it->is_string() ? it->get<std::string>() : "";
}

// Debian's Abseil has its own string_view type, which its hash maps take
// for heterogeneous lookup.
absl::string_view AbslView(std::string_view v) { return {v.data(), v.size()}; }

}  // namespace

Reflector::Reflector(Client& client, Resource resource,
                     ReflectorOptions options)
    : client_(client),
      resource_(std::move(resource)),
      options_(std::move(options)) {}

Reflector::~Reflector() { Stop(); }

void Reflector::Start() {
  thread_ = std::thread([this] { Run(); });
}

void Reflector::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_.store(true);
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  SetState("stopped");
}

std::string Reflector::state() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_;
}

std::string Reflector::last_error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_error_;
}

// A stored object: the header, then the key's and the value's bytes.
struct Reflector::Store::Record {
  const std::string* index;  // a key of indexed_, or null
  uint32_t key_size;
  uint32_t value_size;

  static Record* Make(std::string_view key, std::string_view value) {
    void* memory = ::operator new(sizeof(Record) + key.size() + value.size());
    auto* r = new (memory) Record{nullptr, static_cast<uint32_t>(key.size()),
                                  static_cast<uint32_t>(value.size())};
    char* data = reinterpret_cast<char*>(r + 1);
    std::memcpy(data, key.data(), key.size());
    std::memcpy(data + key.size(), value.data(), value.size());
    return r;
  }
  static void Free(Record* r) { ::operator delete(r); }
  std::string_view key() const {
    return {reinterpret_cast<const char*>(this + 1), key_size};
  }
  std::string_view value() const {
    return {reinterpret_cast<const char*>(this + 1) + key_size, value_size};
  }
};

std::string_view Reflector::Store::ByKey::KeyOf(const Record* r) {
  return r->key();
}

Reflector::Store::Store(Store&& other) noexcept
    : objects_(std::move(other.objects_)), indexed_(std::move(other.indexed_)) {
  other.objects_.clear();
  other.indexed_.clear();
}

Reflector::Store& Reflector::Store::operator=(Store&& other) noexcept {
  if (this != &other) {
    Clear();
    objects_ = std::move(other.objects_);
    indexed_ = std::move(other.indexed_);
    other.objects_.clear();
    other.indexed_.clear();
  }
  return *this;
}

Reflector::Store::~Store() { Clear(); }

void Reflector::Store::Clear() {
  indexed_.clear();
  for (Record* r : objects_) Record::Free(r);
  objects_.clear();
}

std::string Reflector::Store::Put(std::string_view key, std::string_view value,
                                  std::string_view index) {
  // Key and value share one allocation: a new value is a new record.
  std::string previous = Remove(key);
  Record* fresh = Record::Make(key, value);
  objects_.insert(fresh);
  if (!index.empty()) {
    const auto set = indexed_.try_emplace(AbslView(index)).first;
    set->second.insert(fresh);
    fresh->index = &set->first;
  }
  return previous;
}

std::string Reflector::Store::Remove(std::string_view key) {
  const auto it = objects_.find(key);
  if (it == objects_.end()) return "";
  Record* r = *it;
  std::string previous;
  if (r->index != nullptr) {
    previous = *r->index;
    const auto set = indexed_.find(previous);
    set->second.erase(r);
    if (set->second.empty()) indexed_.erase(set);
  }
  objects_.erase(it);
  Record::Free(r);
  return previous;
}

void Reflector::Store::ForEach(
    const std::function<void(std::string_view key, std::string_view value)>& f)
    const {
  for (const Record* r : objects_) f(r->key(), r->value());
}

bool Reflector::Store::Find(std::string_view key,
                            std::string_view& value) const {
  const auto it = objects_.find(key);
  if (it == objects_.end()) return false;
  value = (*it)->value();
  return true;
}

void Reflector::Store::ForEachIndexed(
    std::string_view index,
    const std::function<void(std::string_view value)>& f) const {
  const auto set = indexed_.find(AbslView(index));
  if (set == indexed_.end()) return;
  for (const Record* r : set->second) f(r->value());
}

size_t Reflector::Store::IndexedCount(std::string_view index) const {
  const auto set = indexed_.find(AbslView(index));
  return set == indexed_.end() ? 0 : set->second.size();
}

void Reflector::ForEach(
    const std::function<void(std::string_view json)>& f) const {
  std::lock_guard<std::mutex> lock(mu_);
  store_.ForEach([&f](std::string_view, std::string_view json) { f(json); });
}

size_t Reflector::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return store_.size();
}

std::vector<std::string> Reflector::Keys() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> keys;
  keys.reserve(store_.size());
  store_.ForEach([&keys](std::string_view key, std::string_view) {
    keys.emplace_back(key);
  });
  return keys;
}

bool Reflector::Get(std::string_view key, std::string& json) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string_view value;
  if (!store_.Find(key, value)) return false;
  json.assign(value);
  return true;
}

void Reflector::ForEachIndexed(
    std::string_view value,
    const std::function<void(std::string_view json)>& f) const {
  std::lock_guard<std::mutex> lock(mu_);
  store_.ForEachIndexed(value, f);
}

size_t Reflector::IndexedCount(std::string_view value) const {
  std::lock_guard<std::mutex> lock(mu_);
  return store_.IndexedCount(value);
}

void Reflector::SetState(const std::string& state, const std::string& error) {
  std::lock_guard<std::mutex> lock(mu_);
  state_ = state;
  if (!error.empty()) last_error_ = error;
}

bool Reflector::SleepBackoff(int attempt) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  // client-go: 800 ms doubling to 30 s, jitter 1.0.
  const double base = std::min(
      30'000.0, 800.0 * static_cast<double>(1 << std::min(attempt, 6)));
  std::uniform_real_distribution<double> jitter(1.0, 2.0);
  const auto wait = std::chrono::milliseconds(
      static_cast<int64_t>(std::min(30'000.0, base * jitter(rng))));
  std::unique_lock<std::mutex> lock(mu_);
  state_ = "backoff";
  return !stop_cv_.wait_for(lock, wait, [this] { return stop_.load(); });
}

bool Reflector::ListOnce() {
  ListOptions list;
  list.namespace_ = options_.namespace_;
  list.label_selector = options_.label_selector;
  list.limit = options_.page_size;
  {
    std::lock_guard<std::mutex> lock(mu_);
    state_ = "listing";
    // client-go's relistResourceVersion.
    list.resource_version =
        rv_unavailable_ ? "" : (last_rv_.empty() ? "0" : last_rv_);
  }
  // The new store is built as the pages arrive: the list is never held
  // whole, slim or not.
  Store fresh;
  absl::StatusOr<SlimListResult> result =
      client_.ListSlim(resource_, list, [&](SlimItem&& item) {
        if (item.key.empty()) return;
        // The slim text keeps what an index reads (metadata); parsed only
        // for reflectors that have one.
        const std::string index =
            options_.index ? options_.index(nlohmann::json::parse(item.json))
                           : std::string();
        fresh.Put(std::move(item.key),
                  options_.encode ? options_.encode(std::move(item.json))
                                  : std::move(item.json),
                  index);
      });
  if (!result.ok()) {
    const std::string error(result.status().message());
    if (options_.log &&
        result.status().code() != absl::StatusCode::kCancelled) {
      options_.log(resource_.plural + ": list: " + error);
    }
    std::lock_guard<std::mutex> lock(mu_);
    last_error_ = error;
    if (IsGone(result.status()) || IsTooLargeResourceVersion(result.status())) {
      rv_unavailable_ = true;  // relist from the latest
    }
    return false;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::swap(store_, fresh);
    last_rv_ = result->resource_version;
    rv_unavailable_ = false;
  }
  relists_.fetch_add(1);
  generation_.fetch_add(1);
  synced_.store(true);
  if (options_.on_change) options_.on_change("SYNC", nlohmann::json(), "");
  return true;
}

void Reflector::Run() {
  int failures = 0;
  bool need_list = true;
  while (!stop_.load()) {
    if (need_list) {
      if (!ListOnce()) {
        if (!SleepBackoff(failures++)) break;
        continue;
      }
      need_list = false;
      failures = 0;
    }
    WatchOptions watch;
    watch.namespace_ = options_.namespace_;
    watch.label_selector = options_.label_selector;
    watch.timeout_seconds = options_.watch_timeout_seconds;
    {
      std::lock_guard<std::mutex> lock(mu_);
      watch.resource_version = last_rv_;
      state_ = "watching";
    }
    bool got_event = false;
    absl::Status s = client_.Watch(resource_, watch, [&](WatchEvent&& e) {
      if (stop_.load()) return false;
      got_event = true;
      const std::string rv = ResourceVersionOf(e.object);
      if (e.type == "BOOKMARK") {
        std::lock_guard<std::mutex> lock(mu_);
        if (!rv.empty()) last_rv_ = rv;
        return true;
      }
      const std::string key = ObjectKey(e.object);
      const bool deleted = e.type == "DELETED";
      // Outside the lock: the index function parses nothing, but it is
      // the caller's code.
      const std::string value = options_.index && !deleted && !key.empty()
                                    ? options_.index(e.object)
                                    : std::string();
      std::string stored;
      if (!deleted && !key.empty()) {
        stored = SlimObject(e.object).dump();
        if (options_.encode) stored = options_.encode(std::move(stored));
      }
      std::string previous;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (!key.empty()) {
          previous = deleted ? store_.Remove(key)
                             : store_.Put(key, std::move(stored), value);
        }
        if (!rv.empty()) last_rv_ = rv;
      }
      generation_.fetch_add(1);
      if (options_.on_change) options_.on_change(e.type, e.object, previous);
      return true;
    });
    if (stop_.load()) break;
    if (s.code() == absl::StatusCode::kCancelled) {
      // The client was stopped: wait for Stop without logging.
      if (!SleepBackoff(0)) break;
      continue;
    }
    if (s.ok()) {
      failures = 0;  // the server ended the watch (timeoutSeconds)
      continue;
    }
    const std::string error(s.message());
    if (options_.log) options_.log(resource_.plural + ": watch: " + error);
    if (IsGone(s) || IsTooLargeResourceVersion(s)) {
      // The cache may have missed events: not synced until relisted.
      synced_.store(false);
      std::lock_guard<std::mutex> lock(mu_);
      last_error_ = error;
      if (IsTooLargeResourceVersion(s)) rv_unavailable_ = true;
      need_list = true;
      continue;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      last_error_ = error;
    }
    if (got_event) failures = 0;
    if (!SleepBackoff(failures++)) break;
  }
}

std::string ListText(const std::vector<const Reflector*>& reflectors) {
  std::string text = R"({"apiVersion":"v1","kind":"List","items":[)";
  bool first = true;
  for (const Reflector* r : reflectors) {
    r->ForEach([&](std::string_view json) {
      if (!first) text += ',';
      first = false;
      text += json;
    });
  }
  text += "]}";
  return text;
}

}  // namespace dsd::kube
