// SplitMix64 (Steele, Lea, Flood 2014): the deterministic generator behind
// the synthetic cluster (synthetic_cluster.h). One 64-bit state and no <random>
// distributions, whose output differs between standard libraries: the same seed
// gives the same cluster everywhere. Header-only.
#ifndef DSD_CLIENT_SYNTHETIC_SPLIT_MIX_H_
#define DSD_CLIENT_SYNTHETIC_SPLIT_MIX_H_

#include <cstdint>

namespace dsd::client {

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1000) (up to the modulo's negligible bias).
  int PerMille() { return static_cast<int>(Next() % 1000); }

 private:
  uint64_t state_;
};

}  // namespace dsd::client

#endif  // DSD_CLIENT_SYNTHETIC_SPLIT_MIX_H_
