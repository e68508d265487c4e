#pragma once
// ReachTracker: this node's recent measurements of its peers (ICMP from the ping checker's
// PeerResults, gossip from probe acks), per (peer, protocol), over a sliding window; and the
// bounded summary of them that HealthState gossips (the node's row of the reachability matrix).
//
// Gossip probes only report successes (Delegate::notify_ping_complete), so `gossip` entries
// carry RTT and sent == answered (lost 0); loss comes from protocols that count it (icmp).
// Large echoes (the ping checker's DF echoes sized to its `mtu`) are counted apart from the
// small probes of the same (peer, protocol) (add_large), and summarised in the same entry.
//
// Loop thread only. Memory: at most max_samples per (peer, protocol); pruned by the window.

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "agent/health_record.hpp"

namespace vigil::agent {

class ReachTracker {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using Duration = std::chrono::steady_clock::duration;

  /// `window`: how far back samples count (default of HealthOptions: 60s).
  explicit ReachTracker(Duration window, std::size_t max_samples = 256)
      : window_(window), max_samples_(max_samples) {}

  /// One measurement: `sent` probes, `lost` of them unanswered, `rtt` their mean RTT.
  void add(const std::string& peer, const std::string& protocol, std::uint32_t sent,
           std::uint32_t lost, std::chrono::microseconds rtt, TimePoint now);
  /// Large echoes to `peer`: `sent`, `lost` of them unanswered, `bytes` their IP size. Kept
  /// apart from add()'s probes; an entry shows them only while it has small probes too (large
  /// loss means nothing without small probes that pass).
  void add_large(const std::string& peer, const std::string& protocol, std::uint32_t sent,
                 std::uint32_t lost, std::uint32_t bytes, TimePoint now);
  /// Drops every sample of `peer` (it left or was reaped).
  void forget(const std::string& peer);
  /// The summary: peers with loss (or MTU news, PeerReach::mtu_news) first (highest loss, then
  /// most probes), then the healthy
  /// entries of `wanted` peers, then the rest by name; at most `max_peers` entries (and the
  /// caller trims to the byte bound).
  std::vector<PeerReach> summary(TimePoint now, std::size_t max_peers = kMaxReachPeers,
                                 const std::set<std::string>& wanted = {});
  /// Coarse fingerprint of a summary: the lossy peers and their loss in tenths, and how many
  /// peers each non-gossip protocol measured while the summary has fewer than `max_healthy`
  /// healthy entries. It changes when a peer starts or stops losing probes, its loss moves by a
  /// tenth, or the ICMP peer count changes (a join), or a `wanted` peer's measured entry appears or
  /// goes, or a peer's large echoes start or stop being lost while its small probes pass
  /// (mtu_news): news worth a broadcast at once. Healthy gossip peers coming and going (random
  /// members) and RTT drift do not change it and are never broadcast, so a quiet cluster of
  /// any size stays quiet.
  /// `max_healthy`: the summary's cap on healthy peers besides wanted ones (the ICMP peer
  /// count counts only while the summary has fewer).
  static std::string signature(const std::vector<PeerReach>& s,
                               std::size_t max_healthy = kMaxReachPeers,
                               const std::set<std::string>& wanted = {});

 private:
  struct Sample {
    TimePoint at;
    std::uint32_t sent, lost;
    std::uint64_t rtt_sum_us;                                       // rtt * answered
    std::uint32_t large_sent = 0, large_lost = 0, large_bytes = 0;  // add_large()
  };
  void push(const std::string& peer, const std::string& protocol, const Sample& s, TimePoint now);
  void prune(TimePoint now);
  /// Fresh evidence (issue 13): the index of the first sample of `q` that the summary counts
  /// for the counters `sent`/`lost` of Sample (the small echoes, or the large ones). Normally 0
  /// (the whole window). When the newest `recent` probes were ALL lost while the older samples
  /// of the window lost at most half, the link went down: only the run of fully lost samples
  /// counts (a cut shows as 100% loss after one ping run, not as a loss creeping up over the
  /// window). Symmetrically, when they were all answered after a window that lost more than
  /// half, the link came back: only the run of clean samples counts. A lossy link (<= 50%)
  /// loses 5 probes in a row with probability <= 3%, and a lossy node is judged over all its
  /// peers, so the window average stays what such a link reports.
  using Counter = std::uint32_t Sample::*;
  static std::size_t regime_start(const std::deque<Sample>& q, Counter sent, Counter lost,
                                  std::uint64_t recent);
  static constexpr std::uint64_t kRecentProbes = 5;
  /// Large echoes (one per mtu_interval): 2 in a row lost after a window that passed them is a
  /// blackhole starting, not a creeping average (their loss while small ones pass is rare).
  static constexpr std::uint64_t kRecentLarge = 2;

  Duration window_;
  std::size_t max_samples_;
  std::map<std::pair<std::string, std::string>, std::deque<Sample>> samples_;
};

}  // namespace vigil::agent
