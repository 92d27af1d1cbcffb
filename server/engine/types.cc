#include "server/engine/types.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "server/common/hash.h"

namespace dsd::engine {

namespace {

// `n` value-initialized elements at the end of the last block, starting a
// new block when it has no room. 64 KiB blocks: large enough that a
// 150,000-pod request needs a few hundred allocations, small enough to stay
// below malloc's mmap threshold.
template <typename T>
std::span<T> Carve(std::deque<std::vector<T>>& blocks, size_t n) {
  constexpr size_t kBlockElements = 65536 / sizeof(T);
  if (n == 0) return {};
  if (blocks.empty() || blocks.back().capacity() - blocks.back().size() < n) {
    blocks.emplace_back().reserve(std::max(n, kBlockElements));
  }
  std::vector<T>& block = blocks.back();
  const size_t start = block.size();
  block.resize(start + n);  // within capacity: no reallocation
  return std::span<T>(block.data() + start, n);
}

}  // namespace

std::span<Label> Snapshot::AllocateLabels(size_t n) {
  return Carve(label_blocks, n);
}

std::string_view Snapshot::CopyString(std::string_view s) {
  const std::span<char> out = Carve(char_blocks, s.size());
  std::copy(s.begin(), s.end(), out.begin());
  return std::string_view(out.data(), out.size());
}

Labels Snapshot::InternLabels(std::span<const Label> labels) {
  const std::span<Label> out = AllocateLabels(labels.size());
  std::copy(labels.begin(), labels.end(), out.begin());
  return out;
}

std::optional<std::string_view> FindLabel(const Labels& labels,
                                          std::string_view key) {
  // Called per (pod or node) x DaemonSet: the inline compare matters.
  for (const Label& l : labels) {
    if (common::Equal(l.key, key)) return l.value;
  }
  return std::nullopt;
}

std::string_view DeleteReasonName(DeleteReason reason) {
  switch (reason) {
    case DeleteReason::kNodeNameMismatch:
      return "NodeNameMismatch";
    case DeleteReason::kNodeAffinityMismatch:
      return "NodeAffinityMismatch";
    case DeleteReason::kUntoleratedNoExecuteTaint:
      return "UntoleratedNoExecuteTaint";
    case DeleteReason::kFailedPod:
      return "FailedPod";
    case DeleteReason::kSucceededPod:
      return "SucceededPod";
    case DeleteReason::kDuplicatePod:
      return "DuplicatePod";
    case DeleteReason::kOldPodNotReady:
      return "OldPodNotReady";
    case DeleteReason::kSurgeReplaced:
      return "SurgeReplaced";
    case DeleteReason::kRollingUpdate:
      return "RollingUpdate";
    case DeleteReason::kRollingUpdateUnavailable:
      return "RollingUpdateUnavailable";
    case DeleteReason::kSchedulingConstraintChanged:
      return "SchedulingConstraintChanged";
    case DeleteReason::kNodeGone:
      return "NodeGone";
    case DeleteReason::kTaintEviction:
      return "TaintEviction";
  }
  return "Unknown";
}

// A key or value longer than a Taint holds: a caller's bug (validation
// lets no such string through), not an input to cut silently.
void Taint::TooLong(const char* what, size_t size) {
  std::fprintf(stderr,
               "engine::Taint: a %s of %zu bytes is longer than a Taint "
               "holds\n",
               what, size);
  std::abort();
}

void Taint::set_time_added(absl::Time t) {
  added_seconds_ = absl::ToUnixSeconds(t);  // floor
  added_nanos_ = static_cast<uint64_t>(absl::ToInt64Nanoseconds(
                     t - absl::FromUnixSeconds(added_seconds_))) &
                 ((uint64_t{1} << 30) - 1);  // [0, 1e9): 30 bits
  has_time_ = 1;
}

}  // namespace dsd::engine
