// dsd-server's Filter answers, remembered. The answer for one node depends
// only on the DaemonSet (its template and identity, as the DaemonSet cache
// holds it) and on the Node (as the node cache holds it). The DaemonSet
// cache hands out immutable shared messages, a new one whenever the
// converted DaemonSet changes, and the node cache a version number that
// no other message of it ever gets; an update of what the messages do not
// hold (the objects' status) keeps both. So a node-names request whose
// DaemonSet and nodes are those of an earlier answer is answered as
// dsd-server answered then, and any change to either is a miss that asks
// dsd-server again: the decisions stay dsd-server's, the extender only
// does not ask twice. Answers older than a maximum age are asked again
// too (a dsd-server upgrade may word or decide differently).
#ifndef DSD_CLIENT_EXTENDER_VERDICTS_H_
#define DSD_CLIENT_EXTENDER_VERDICTS_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "dsd/v1/dsd.pb.h"

namespace dsd::extender {

// One node's answer: passed, or refused with its FailedAndUnresolvableNodes
// message, already a JSON string literal, shared by the nodes refused
// alike.
struct Verdict {
  std::shared_ptr<const std::string> refusal;  // null: passed
  bool passed() const { return refusal == nullptr; }
};

class Verdicts {
 public:
  using Clock = std::chrono::steady_clock;
  // At most `max_entries` answers in all (past it everything is forgotten
  // at once; 0 remembers nothing); each DaemonSet's are forgotten
  // `max_age` after the first.
  Verdicts(size_t max_entries, Clock::duration max_age)
      : max_entries_(max_entries), max_age_(max_age) {}

  // What Find knows of one node.
  struct Known {
    bool known = false;
    const std::string* refusal = nullptr;  // null: passed
  };
  // The remembered answer for `daemon_set` (this very message) and each
  // node version (0: none). A refusal's text stays valid while `held`
  // (one entry per distinct text) is kept. Thread-safe.
  std::vector<Known> Find(
      const std::shared_ptr<const v1::DaemonSet>& daemon_set,
      const std::vector<uint64_t>& versions, Clock::time_point now,
      std::vector<std::shared_ptr<const std::string>>& held) const;
  // Remembers verdicts[i] for node version versions[i]. Thread-safe.
  void Remember(const std::shared_ptr<const v1::DaemonSet>& daemon_set,
                const std::vector<uint64_t>& versions,
                const std::vector<Verdict>& verdicts, Clock::time_point now);

  size_t size() const;

 private:
  struct ForDaemonSet {
    std::shared_ptr<const v1::DaemonSet> daemon_set;  // the message
    Clock::time_point since;
    // By node version. Old versions stay until the DaemonSet's entry is
    // renewed (max_age) or everything is forgotten (max_entries).
    absl::flat_hash_map<uint64_t, Verdict> by_node;
  };

  const size_t max_entries_;
  const Clock::duration max_age_;
  mutable std::shared_mutex mu_;
  // By "namespace/name": one version of each DaemonSet at a time.
  std::map<std::string, ForDaemonSet, std::less<>> by_daemon_set_;
  size_t entries_ = 0;
};

}  // namespace dsd::extender

#endif  // DSD_CLIENT_EXTENDER_VERDICTS_H_
