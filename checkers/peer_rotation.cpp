#include "checkers/peer_rotation.hpp"

#include <algorithm>

namespace vigil::checkers {

PeerRotation::PeerRotation(std::string self, std::size_t max_per_round)
    : self_(std::move(self)), max_per_round_(std::max<std::size_t>(1, max_per_round)) {}

std::uint64_t PeerRotation::key(std::string_view peer) const {
  // FNV-1a over "self \0 peer", then a murmur3 finaliser for a well-spread 64-bit key.
  std::uint64_t h = 1469598103934665603ull;
  auto mix = [&h](unsigned char c) {
    h ^= c;
    h *= 1099511628211ull;
  };
  for (unsigned char c : self_) mix(c);
  mix(0);
  for (unsigned char c : peer) mix(c);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

std::vector<std::size_t> PeerRotation::next_round(const std::vector<std::string>& peers) {
  std::vector<std::size_t> all(peers.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  if (peers.size() <= max_per_round_) return all;

  std::vector<std::pair<std::uint64_t, std::size_t>> order;
  order.reserve(peers.size());
  for (std::size_t i = 0; i < peers.size(); ++i) order.emplace_back(key(peers[i]), i);
  std::sort(order.begin(), order.end());
  // First peer strictly after the cursor, wrapping around.
  auto start = std::upper_bound(order.begin(), order.end(),
                                std::pair<std::uint64_t, std::size_t>{cursor_, SIZE_MAX});
  std::size_t pos = static_cast<std::size_t>(start - order.begin()) % order.size();
  std::vector<std::size_t> out;
  for (std::size_t n = 0; n < max_per_round_; ++n) {
    out.push_back(order[pos].second);
    cursor_ = order[pos].first;
    pos = (pos + 1) % order.size();
  }
  return out;
}

std::size_t PeerRotation::rounds_to_cover(std::size_t peers, std::size_t max_per_round) {
  max_per_round = std::max<std::size_t>(1, max_per_round);
  return peers == 0 ? 0 : (peers + max_per_round - 1) / max_per_round;
}

}  // namespace vigil::checkers
