#include "agent/reach_tracker.hpp"

#include <algorithm>
#include <cmath>
#include <map>

namespace vigil::agent {

void ReachTracker::add(const std::string& peer, const std::string& protocol, std::uint32_t sent,
                       std::uint32_t lost, std::chrono::microseconds rtt, TimePoint now) {
  if (peer.empty() || peer.size() > kMaxOriginBytes || sent == 0) return;
  lost = std::min(lost, sent);
  const std::uint64_t answered = sent - lost;
  const std::uint64_t rtt_us = rtt.count() > 0 ? static_cast<std::uint64_t>(rtt.count()) : 0;
  auto& q = samples_[{peer, cap_utf8(protocol, kMaxProtocolBytes)}];
  q.push_back(Sample{now, sent, lost, rtt_us * answered});
  while (q.size() > max_samples_) q.pop_front();
  prune(now);
}

void ReachTracker::forget(const std::string& peer) {
  for (auto it = samples_.begin(); it != samples_.end();) {
    it = it->first.first == peer ? samples_.erase(it) : std::next(it);
  }
}

void ReachTracker::prune(TimePoint now) {
  for (auto it = samples_.begin(); it != samples_.end();) {
    auto& q = it->second;
    while (!q.empty() && now - q.front().at > window_) q.pop_front();
    it = q.empty() ? samples_.erase(it) : std::next(it);
  }
}

std::vector<PeerReach> ReachTracker::summary(TimePoint now, std::size_t max_peers,
                                             const std::set<std::string>& wanted) {
  prune(now);
  std::vector<PeerReach> all;
  all.reserve(samples_.size());
  for (const auto& [key, q] : samples_) {
    std::uint64_t sent = 0, lost = 0, rtt_sum = 0;
    for (const Sample& s : q) sent += s.sent, lost += s.lost, rtt_sum += s.rtt_sum_us;
    const std::uint64_t answered = sent - lost;
    PeerReach r;
    r.peer = key.first;
    r.protocol = key.second;
    r.sent = static_cast<std::uint32_t>(std::min<std::uint64_t>(sent, UINT32_MAX));
    r.lost = static_cast<std::uint32_t>(std::min<std::uint64_t>(lost, r.sent));
    r.rtt_us =
        answered
            ? static_cast<std::uint32_t>(std::min<std::uint64_t>(rtt_sum / answered, UINT32_MAX))
            : 0;
    all.push_back(std::move(r));
  }
  std::stable_sort(all.begin(), all.end(), [&](const PeerReach& a, const PeerReach& b) {
    const bool la = a.lost > 0, lb = b.lost > 0;
    if (la != lb) return la;
    if (la && a.loss() != b.loss()) return a.loss() > b.loss();
    if (la && a.sent != b.sent) return a.sent > b.sent;
    const bool wa = wanted.count(a.peer) > 0, wb = wanted.count(b.peer) > 0;
    if (wa != wb) return wa;
    return false;  // already sorted by (peer, protocol) from the map
  });
  if (all.size() > max_peers) all.resize(max_peers);
  return all;
}

std::string ReachTracker::signature(const std::vector<PeerReach>& s, std::size_t max_healthy,
                                    const std::set<std::string>& wanted) {
  std::string sig;
  // Which protocols are measured at all (so the first ICMP results are issued at once), then the
  // lossy links by loss bucket.
  // Peers measured by a checker that probes a fixed set each run (ICMP: every peer, or a
  // rotation that fills the window) are counted, so a summary that gains peers (the first run
  // after a join knew only the seed) goes out at once; gossip probes random members, so its
  // healthy peers come and go and are not counted. Nor is anything in a full summary: which
  // healthy peers make the cut there shifts with the gossip ones.
  std::size_t healthy = 0;
  for (const PeerReach& r : s) healthy += r.lost == 0 && !wanted.count(r.peer);
  const bool full = healthy >= max_healthy;
  std::map<std::string, std::size_t> protocols;
  for (const PeerReach& r : s) protocols[r.protocol] += !full && r.protocol != "gossip";
  for (const auto& [p, count] : protocols) sig += p + '#' + std::to_string(count) + '\x1d';
  for (const PeerReach& r : s) {
    const int loss_bucket = static_cast<int>(std::lround(r.loss() * 10));
    if (loss_bucket == 0) {
      // A healthy entry is news only as counter-evidence a peer asked for (it reports loss
      // to/from us: our view of it tells a link or asymmetric fault from a sick node).
      if (r.protocol != "gossip" && wanted.count(r.peer))
        sig += "w" + r.peer + '\x1f' + r.protocol + '\x1e';
      continue;
    }
    sig += r.peer + '\x1f' + r.protocol + '\x1f' + std::to_string(loss_bucket) + '\x1e';
  }
  return sig;
}

}  // namespace vigil::agent
