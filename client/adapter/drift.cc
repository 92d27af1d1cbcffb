#include "client/adapter/drift.h"

#include <set>

namespace dsd::adapter {

std::string Action::Key() const {
  return namespace_ + "/" + daemon_set + " " + action + " " +
         (action == "create" ? node : pod);
}

DriftChange DriftTracker::Update(const v1::DecideResponse& response, bool all,
                                 Clock::time_point now) {
  const std::set<std::string> none;
  return Replace(response, all ? nullptr : &none, now);
}

DriftChange DriftTracker::Update(const v1::DecideResponse& response,
                                 const std::set<std::string>& scope,
                                 Clock::time_point now) {
  return Replace(response, &scope, now);
}

DriftChange DriftTracker::Forget(const std::string& ds) {
  DriftChange change;
  for (auto it = actions_.begin(); it != actions_.end();) {
    if (it->second.namespace_ + "/" + it->second.daemon_set == ds) {
      if (reported_.erase(it->first) > 0) change.resolved.push_back(it->second);
      it = actions_.erase(it);
    } else {
      ++it;
    }
  }
  return change;
}

// `scope` nullptr: the response covers every DaemonSet.
DriftChange DriftTracker::Replace(const v1::DecideResponse& response,
                                  const std::set<std::string>* scope,
                                  Clock::time_point now) {
  std::set<std::string> planned_ds;
  std::map<std::string, Action> fresh;
  for (const v1::DaemonSetPlan& plan : response.daemon_sets()) {
    planned_ds.insert(plan.namespace_() + "/" + plan.name());
    std::map<std::string, const v1::NodeExplanation*> explanations;
    for (const v1::NodeExplanation& e : plan.explanations()) {
      explanations[e.node()] = &e;
    }
    auto fill = [&](Action& a) {
      a.namespace_ = plan.namespace_();
      a.daemon_set = plan.name();
      if (auto it = explanations.find(a.node); it != explanations.end()) {
        a.has_explanation = true;
        a.should_run = it->second->should_run();
        a.should_continue_running = it->second->should_continue_running();
        a.failed_predicates.assign(it->second->failed_predicates().begin(),
                                   it->second->failed_predicates().end());
      }
      const std::string key = a.Key();
      auto old = actions_.find(key);
      a.since = old != actions_.end() ? old->second.since : now;
      fresh[key] = std::move(a);
    };
    for (const v1::PodCreate& c : plan.create()) {
      Action a;
      a.action = "create";
      a.node = c.node();
      fill(a);
    }
    for (const v1::PodDelete& d : plan.delete_()) {
      Action a;
      a.action = "delete";
      a.node = d.node();
      a.pod = d.pod();
      a.reason = v1::DeleteReason_Name(d.reason());
      a.message = d.message();
      fill(a);
    }
  }
  DriftChange change;
  for (auto it = actions_.begin(); it != actions_.end();) {
    const std::string ds = it->second.namespace_ + "/" + it->second.daemon_set;
    const bool replaced =
        scope == nullptr || planned_ds.count(ds) > 0 || scope->count(ds) > 0;
    if (replaced && fresh.count(it->first) == 0) {
      if (reported_.erase(it->first) > 0) change.resolved.push_back(it->second);
      it = actions_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [key, action] : fresh) actions_[key] = std::move(action);
  DriftChange tick = Tick(now);
  change.started = std::move(tick.started);
  return change;
}

DriftChange DriftTracker::Tick(Clock::time_point now) {
  DriftChange change;
  for (const auto& [key, action] : actions_) {
    if (now - action.since >= drift_after_ && reported_.insert(key).second) {
      change.started.push_back(action);
    }
  }
  return change;
}

std::set<std::string> DriftTracker::DaemonSets() const {
  std::set<std::string> out;
  for (const auto& [key, action] : actions_) {
    out.insert(action.namespace_ + "/" + action.daemon_set);
  }
  return out;
}

std::vector<Action> DriftTracker::Drift(Clock::time_point now) const {
  std::vector<Action> out;
  for (const auto& [key, action] : actions_) {
    if (now - action.since >= drift_after_) out.push_back(action);
  }
  return out;
}

}  // namespace dsd::adapter
