#include "server/engine/types.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

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

std::span<Taint> Snapshot::AllocateTaints(size_t n) {
  return Carve(taint_blocks, n);
}

Taints Snapshot::InternTaints(std::span<const Taint> taints) {
  const std::span<Taint> out = AllocateTaints(taints.size());
  std::copy(taints.begin(), taints.end(), out.begin());
  return out;
}

std::string_view Snapshot::CopyString(std::string_view s) {
  const std::span<char> out = Carve(char_blocks, s.size());
  std::copy(s.begin(), s.end(), out.begin());
  return std::string_view(out.data(), out.size());
}

std::string_view Snapshot::CopyCounted(std::string_view s) {
  return CountedString::Write(
             s, Carve(char_blocks, CountedString::Footprint(s.size())).data())
      .view();
}

Taint Snapshot::MakeTaint(std::string_view key, std::string_view value,
                          TaintEffect effect, std::optional<absl::Time> added) {
  if (value.size() > Taint::kMaxValueSize) {
    std::fprintf(stderr,
                 "engine::Taint: a value of %zu bytes is longer than a Taint "
                 "holds\n",
                 value.size());
    std::abort();
  }
  Taint taint;
  int64_t seconds = 0;
  if (added) {
    seconds = absl::ToUnixSeconds(*added);  // floor
    taint.added_nanos_ = static_cast<uint64_t>(absl::ToInt64Nanoseconds(
                             *added - absl::FromUnixSeconds(seconds))) &
                         ((uint64_t{1} << 30) - 1);  // [0, 1e9): 30 bits
    taint.has_time_ = 1;
  }
  // [size of key][key][value][seconds, when there is a time]
  const size_t key_bytes = CountedString::Footprint(key.size());
  const size_t time = added ? sizeof seconds : 0;
  const std::span<char> out =
      Carve(char_blocks, key_bytes + value.size() + time);
  taint.key_ = CountedString::Write(key, out.data());
  char* p = std::copy(value.begin(), value.end(), out.data() + key_bytes);
  if (added) std::memcpy(p, &seconds, sizeof seconds);
  taint.value_size_ = value.size() & Taint::kMaxValueSize;
  taint.effect_ = static_cast<uint8_t>(effect) & 3u;
  return taint;
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
    if (common::Equal(l.key(), key)) return l.value();
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

size_t CountedString::PrefixSize(size_t size) {
  size_t n = 1;
  while (size >= 0x80) {
    size >>= 7;
    ++n;
  }
  return n;
}

CountedString CountedString::Write(std::string_view s, char* out) {
  char* const data = out + PrefixSize(s.size());
  // The size's nearest byte first, each with "more" set but the farthest.
  size_t size = s.size();
  for (char* p = data - 1;; --p) {
    const auto low = static_cast<unsigned char>(size & 0x7f);
    size >>= 7;
    *p = static_cast<char>(size != 0 ? (low | 0x80) : low);
    if (size == 0) break;
  }
  std::copy(s.begin(), s.end(), data);
  return CountedString(data);
}

size_t CountedString::LongSize(const unsigned char* p) {
  size_t size = 0;
  for (int shift = 0;; shift += 7) {
    const unsigned char b = *--p;
    size |= static_cast<size_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return size;
  }
}

std::optional<absl::Time> Taint::time_added() const {
  if (has_time_ == 0) return std::nullopt;
  int64_t seconds;
  std::memcpy(&seconds, value().data() + value_size_, sizeof seconds);
  return absl::FromUnixSeconds(seconds) +
         absl::Nanoseconds(static_cast<int64_t>(added_nanos_));
}

}  // namespace dsd::engine
