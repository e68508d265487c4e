#pragma once
// PeerRotation: which peers a node probes this round, when it may not probe them all.
//
// Every node orders its peers by a hash of (own name, peer name): a per-node pseudo-random
// permutation that stays stable as members come and go (a newcomer slots in at its hash).
// Each round takes the next `max_per_round` peers after a cursor, in that order, wrapping.
// Bounds (N = peer count, k = max_per_round):
//   - coverage: a peer present throughout is probed at least once every ceil(N/k) rounds by
//     every other node, so every ordered pair is measured within ceil(N/k) intervals (when the
//     membership grows during a sweep, N is the largest count seen);
//   - load: each node sends to exactly min(N, k) peers per round; because the orders of
//     different nodes are independent, a node receives from k peers per round on average.
// Pure logic, no I/O; not thread-safe (one instance per checker, used by its runs in turn).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::checkers {

class PeerRotation {
 public:
  /// `self` seeds the permutation; `max_per_round` >= 1.
  PeerRotation(std::string self, std::size_t max_per_round);

  /// Indices into `peers` (names, any order, unique) to probe this round; advances the cursor.
  std::vector<std::size_t> next_round(const std::vector<std::string>& peers);

  /// The coverage bound: rounds within which every one of `peers` peers is probed.
  static std::size_t rounds_to_cover(std::size_t peers, std::size_t max_per_round);

 private:
  std::uint64_t key(std::string_view peer) const;

  std::string self_;
  std::size_t max_per_round_;
  std::uint64_t cursor_ = 0;  ///< hash key of the last peer probed
};

}  // namespace vigil::checkers
