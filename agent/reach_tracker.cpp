#include "agent/reach_tracker.hpp"

#include <algorithm>
#include <cmath>
#include <map>

namespace vigil::agent {

void ReachTracker::add(const std::string& peer, const std::string& protocol, std::uint32_t sent,
                       std::uint32_t lost, std::chrono::microseconds rtt, TimePoint now) {
  if (sent == 0) return;
  lost = std::min(lost, sent);
  const std::uint64_t answered = sent - lost;
  const std::uint64_t rtt_us = rtt.count() > 0 ? static_cast<std::uint64_t>(rtt.count()) : 0;
  push(peer, protocol, Sample{now, sent, lost, rtt_us * answered}, now);
}

void ReachTracker::add_large(const std::string& peer, const std::string& protocol,
                             std::uint32_t sent, std::uint32_t lost, std::uint32_t bytes,
                             TimePoint now) {
  if (sent == 0) return;
  Sample s{now, 0, 0, 0};
  s.large_sent = sent;
  s.large_lost = std::min(lost, sent);
  s.large_bytes = std::min(bytes, kMaxLargeBytes);
  push(peer, protocol, s, now);
}

void ReachTracker::push(const std::string& peer, const std::string& protocol, const Sample& s,
                        TimePoint now) {
  if (peer.empty() || peer.size() > kMaxOriginBytes) return;
  auto& q = samples_[{peer, cap_utf8(protocol, kMaxProtocolBytes)}];
  q.push_back(s);
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

std::size_t ReachTracker::regime_start(const std::deque<Sample>& q, Counter sent_of,
                                       Counter lost_of, std::uint64_t recent) {
  // The newest `recent` probes (whole samples) against everything older in the window.
  std::size_t i = q.size();
  std::uint64_t sent = 0, lost = 0;
  while (i > 0 && sent < recent) {
    --i;
    sent += q[i].*sent_of, lost += q[i].*lost_of;
  }
  std::uint64_t old_sent = 0, old_lost = 0;
  for (std::size_t k = 0; k < i; ++k) old_sent += q[k].*sent_of, old_lost += q[k].*lost_of;
  if (sent < recent || old_sent < recent) return 0;  // too little to compare
  const double old_loss = static_cast<double>(old_lost) / static_cast<double>(old_sent);
  const bool now_down = lost == sent && old_loss <= 0.5;
  const bool now_up = lost == 0 && old_loss > 0.5;
  if (!now_down && !now_up) return 0;
  // The regime began after the last sample that disagrees with it.
  std::size_t start = q.size();
  while (start > 0) {
    const Sample& s = q[start - 1];
    if (s.*sent_of != 0 && (now_down ? s.*lost_of != s.*sent_of : s.*lost_of != 0)) break;
    --start;
  }
  return start;
}

std::vector<PeerReach> ReachTracker::summary(TimePoint now, std::size_t max_peers,
                                             const std::set<std::string>& wanted) {
  prune(now);
  std::vector<PeerReach> all;
  all.reserve(samples_.size());
  for (const auto& [key, q] : samples_) {
    std::uint64_t sent = 0, lost = 0, rtt_sum = 0, large_sent = 0, large_lost = 0;
    std::uint32_t large_bytes = 0;
    // Each kind of echo over its current regime only.
    const std::size_t from = regime_start(q, &Sample::sent, &Sample::lost, kRecentProbes);
    const std::size_t from_large =
        regime_start(q, &Sample::large_sent, &Sample::large_lost, kRecentLarge);
    for (std::size_t i = 0; i < q.size(); ++i) {
      const Sample& s = q[i];
      if (i >= from) sent += s.sent, lost += s.lost, rtt_sum += s.rtt_sum_us;
      if (i >= from_large) large_sent += s.large_sent, large_lost += s.large_lost;
      large_bytes = std::max(large_bytes, s.large_bytes);
    }
    if (sent == 0) continue;  // large echoes alone: no small probe to compare them with
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
    if (large_sent > 0) {
      r.large_sent = static_cast<std::uint32_t>(std::min<std::uint64_t>(large_sent, UINT32_MAX));
      r.large_lost = static_cast<std::uint32_t>(std::min<std::uint64_t>(large_lost, r.large_sent));
      r.large_bytes = large_bytes;
    }
    all.push_back(std::move(r));
  }
  std::stable_sort(all.begin(), all.end(), [&](const PeerReach& a, const PeerReach& b) {
    const bool la = a.lost > 0 || a.mtu_news(), lb = b.lost > 0 || b.mtu_news();
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
  for (const PeerReach& r : s) healthy += r.lost == 0 && !r.mtu_news() && !wanted.count(r.peer);
  const bool full = healthy >= max_healthy;
  std::map<std::string, std::size_t> protocols;
  for (const PeerReach& r : s) protocols[r.protocol] += !full && r.protocol != "gossip";
  for (const auto& [p, count] : protocols) sig += p + '#' + std::to_string(count) + '\x1d';
  for (const PeerReach& r : s) {
    // Large echoes lost while small probes pass (an MTU blackhole): news when it starts or
    // stops, not with every count (one large echo per peer per mtu_interval).
    if (r.mtu_news()) sig += "m" + r.peer + '\x1f' + r.protocol + '\x1e';
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
