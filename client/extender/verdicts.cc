#include "client/extender/verdicts.h"

#include <utility>

namespace dsd::extender {

std::vector<Verdicts::Known> Verdicts::Find(
    const std::shared_ptr<const v1::DaemonSet>& daemon_set,
    const std::vector<uint64_t>& versions, Clock::time_point now,
    std::vector<std::shared_ptr<const std::string>>& held) const {
  std::vector<Known> out(versions.size());
  const std::string key = daemon_set->namespace_() + "/" + daemon_set->name();
  std::shared_lock<std::shared_mutex> lock(mu_);
  const auto it = by_daemon_set_.find(key);
  if (it == by_daemon_set_.end() || it->second.daemon_set != daemon_set ||
      now - it->second.since > max_age_) {
    return out;
  }
  const auto& by_node = it->second.by_node;
  const std::string* last_held = nullptr;
  for (size_t i = 0; i < versions.size(); ++i) {
    if (versions[i] == 0) continue;
    const auto entry = by_node.find(versions[i]);
    if (entry == by_node.end()) continue;
    const std::shared_ptr<const std::string>& refusal = entry->second.refusal;
    out[i] = Known{true, refusal.get()};
    // Few distinct texts, mostly in runs: hold each once.
    if (refusal != nullptr && refusal.get() != last_held) {
      last_held = refusal.get();
      bool have = false;
      for (const auto& h : held) have = have || h == refusal;
      if (!have) held.push_back(refusal);
    }
  }
  return out;
}

void Verdicts::Remember(const std::shared_ptr<const v1::DaemonSet>& daemon_set,
                        const std::vector<uint64_t>& versions,
                        const std::vector<Verdict>& verdicts,
                        Clock::time_point now) {
  if (max_entries_ == 0) return;
  std::string key = daemon_set->namespace_() + "/" + daemon_set->name();
  std::unique_lock<std::shared_mutex> lock(mu_);
  if (entries_ + versions.size() > max_entries_) {
    by_daemon_set_.clear();
    entries_ = 0;
  }
  ForDaemonSet& mine = by_daemon_set_[std::move(key)];
  if (mine.daemon_set != daemon_set || now - mine.since > max_age_) {
    // Another version of the DaemonSet (or too old): start over.
    entries_ -= mine.by_node.size();
    mine.by_node.clear();
    mine.daemon_set = daemon_set;
    mine.since = now;
  }
  for (size_t i = 0; i < versions.size() && i < verdicts.size(); ++i) {
    if (versions[i] == 0) continue;
    if (mine.by_node.insert_or_assign(versions[i], verdicts[i]).second) {
      ++entries_;
    }
  }
}

size_t Verdicts::size() const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  return entries_;
}

}  // namespace dsd::extender
