// The engine's entry point: one plan per DaemonSet, exactly as the upstream
// DaemonSet controller would act on this snapshot at time `now` (manage, then
// the rolling update on the state after manage's actions, then status from
// the snapshot as given). Pure: no clock, no I/O, no logging, deterministic
// regardless of input order. O(nodes x DaemonSets + pods).
#ifndef DSD_SERVER_ENGINE_DECIDE_H_
#define DSD_SERVER_ENGINE_DECIDE_H_

#include <functional>

#include "absl/time/time.h"
#include "server/engine/types.h"

namespace dsd::engine {

// Preconditions (convert guarantees them; the engine does not crash without
// them but may then give meaningless plans): node names unique and
// non-empty, pod uids unique, label keys unique per object.
// The returned plan holds views into `snapshot`; keep the snapshot alive.
// `cancelled`, when given, is polled between DaemonSets and every few dozen
// nodes or a thousand pods within one (cheaply: a call past its deadline
// stops within milliseconds whatever the request's shape); once it returns
// true Decide stops and sets Plan::cancelled (how callers honour deadlines
// without the engine reading a clock).
Plan Decide(const Snapshot& snapshot, absl::Time now, const Options& options,
            const std::function<bool()>& cancelled = {});

}  // namespace dsd::engine

#endif  // DSD_SERVER_ENGINE_DECIDE_H_
