// A DaemonSet's template history in ControllerRevisions, as upstream's
// controller keeps it (cluster-integration 2.5; pkg/controller/daemon/
// update.go: constructHistory, snapshot, Match, getPatch). Pure: no I/O.
//
// Upstream's hash (controller.ComputeHash) is FNV-32a over Go's deep print
// of the template struct, which C++ cannot reproduce: dsd reads the hash
// of every existing revision from its label and never recomputes it. Only
// for a template no revision matches does dsd choose one, RevisionHash:
// FNV-32a over the template's canonical JSON (plus the collision count),
// spelt as upstream spells its hashes. A DaemonSet handed back to
// upstream's controller therefore gets a revision of upstream's hash for
// the same template, and its pods roll once.
#ifndef DSD_CLIENT_ADAPTER_HISTORY_H_
#define DSD_CLIENT_ADAPTER_HISTORY_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace dsd::adapter {

// What a revision of the DaemonSet's current template holds in `data`:
// {"spec":{"template":{..., "$patch":"replace"}}} (upstream's getPatch).
nlohmann::json RevisionData(const nlohmann::json& daemon_set);

// Whether `revision` holds the DaemonSet's current template (upstream's
// Match compares getPatch's bytes; here the parsed JSON, without
// "$patch", nulls and empty objects, which Go's marshalling adds or drops).
bool RevisionMatches(const nlohmann::json& daemon_set,
                     const nlohmann::json& revision);

// dsd's hash for a template no revision holds: 1 to 10 characters of
// bcdfghjklmnpqrstvwxz2456789, as upstream's SafeEncodeString spells the
// decimal FNV-32a sum.
std::string RevisionHash(const nlohmann::json& pod_template,
                         std::optional<int32_t> collision_count);

// The ControllerRevision upstream's snapshot creates: name
// "<daemonset>-<hash>", the template's labels plus
// controller-revision-hash, the DaemonSet's annotations, the controller
// owner reference, RevisionData, `revision`.
nlohmann::json NewRevision(const nlohmann::json& daemon_set,
                           const std::string& hash, int64_t revision);

}  // namespace dsd::adapter

#endif  // DSD_CLIENT_ADAPTER_HISTORY_H_
