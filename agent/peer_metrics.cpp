#include "agent/peer_metrics.hpp"

#include <algorithm>
#include <charconv>

#include "api/metrics_text.hpp"

namespace vigil::agent {
namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

// "0.0005", not "5e-04": the usual spelling of bucket bounds (shortest round-trip, fixed).
std::string le_label(double bound) {
  char buf[32];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, bound, std::chars_format::fixed);
  return ec == std::errc() ? std::string(buf, p) : api::MetricsText::format_value(bound);
}

}  // namespace

void PeerMetrics::Histogram::add(double seconds) {
  for (std::size_t i = 0; i < kRttBuckets.size(); ++i) {
    if (seconds <= kRttBuckets[i]) ++le[i];
  }
  ++count;
  sum += seconds;
}

void PeerMetrics::Counts::add(std::uint32_t s, std::uint32_t l, std::span<const Duration> rtts) {
  sent += s;
  lost += l;
  for (Duration d : rtts)
    rtt.add(std::chrono::duration<double>(std::max(d, Duration::zero())).count());
}

void PeerMetrics::record(const std::string& peer, const std::string& protocol,
                         const std::string& source_zone, const std::string& destination_zone,
                         std::uint32_t sent, std::uint32_t lost, std::span<const Duration> rtts,
                         TimePoint now) {
  if (peer.empty() || protocol.empty() || sent == 0) return;
  lost = std::min(lost, sent);
  if (rtts.size() > sent - lost) rtts = rtts.first(sent - lost);
  Series& s = series_[{peer, protocol}];
  if (s.counts.sent > 0 &&
      (s.source_zone != source_zone || s.destination_zone != destination_zone)) {
    s.counts = Counts{};  // other labels: a new series, from zero
  }
  s.source_zone = source_zone;
  s.destination_zone = destination_zone;
  s.counts.add(sent, lost, rtts);
  Peer& p = peers_[peer];
  p.last_probe = now;
  if (lost > 0) {
    p.last_loss = now;
    p.lossy = true;
  }
  zones_[{source_zone, destination_zone, protocol}].add(sent, lost, rtts);
}

void PeerMetrics::record_large(const std::string& peer, const std::string& source_zone,
                               const std::string& destination_zone, std::uint32_t sent,
                               std::uint32_t lost, TimePoint now) {
  if (peer.empty() || sent == 0) return;
  lost = std::min(lost, sent);
  Large& l = large_[peer];
  l.source_zone = source_zone;
  l.destination_zone = destination_zone;
  l.samples.push_back({now, sent, lost});
  while (!l.samples.empty() && now - l.samples.front().at > opt_.large_window)
    l.samples.pop_front();
  while (l.samples.size() > 1024) l.samples.pop_front();  // bounded whatever the rate
  Peer& p = peers_[peer];
  p.last_probe = now;
  if (lost > 0) {
    p.last_loss = now;
    p.lossy = true;
  }
}

void PeerMetrics::forget(const std::string& peer) {
  large_.erase(peer);
  for (auto it = series_.lower_bound({peer, ""}); it != series_.end() && it->first.first == peer;)
    it = series_.erase(it);
  peers_.erase(peer);
  exported_.erase(peer);
}

std::vector<std::string> PeerMetrics::select(TimePoint now) {
  auto recent = [&](TimePoint t) { return now - t <= opt_.recent; };
  auto lossy = [&](const Peer& p) { return p.lossy && recent(p.last_loss); };
  // Exported peers that went quiet (not probed for `recent`) give their slot back.
  for (auto it = exported_.begin(); it != exported_.end();) {
    auto p = peers_.find(*it);
    it = (p == peers_.end() || !recent(p->second.last_probe)) ? exported_.erase(it) : std::next(it);
  }
  // Candidates not exported yet: lossy first, then the most recently probed, then by name.
  std::vector<const std::pair<const std::string, Peer>*> waiting;
  for (const auto& e : peers_) {
    if (!exported_.count(e.first) && recent(e.second.last_probe)) waiting.push_back(&e);
  }
  std::sort(waiting.begin(), waiting.end(), [&](const auto* a, const auto* b) {
    const bool la = lossy(a->second), lb = lossy(b->second);
    if (la != lb) return la;
    if (a->second.last_probe != b->second.last_probe)
      return a->second.last_probe > b->second.last_probe;
    return a->first < b->first;
  });
  for (const auto* e : waiting) {
    if (exported_.size() < opt_.max_peers) {
      exported_.insert(e->first);
      continue;
    }
    if (!lossy(e->second)) break;  // sorted: no lossy peer left to place
    // Full: a lossy peer takes the slot of the least recently probed healthy one, if any.
    const std::string* victim = nullptr;
    for (const std::string& x : exported_) {
      const Peer& p = peers_.at(x);
      if (lossy(p)) continue;
      if (!victim || p.last_probe < peers_.at(*victim).last_probe) victim = &x;
    }
    if (!victim) break;
    const std::string gone = *victim;  // erase by a copy, not by a reference into the set
    exported_.erase(gone);
    exported_.insert(e->first);
  }
  while (exported_.size() > opt_.max_peers) exported_.erase(std::prev(exported_.end()));
  return {exported_.begin(), exported_.end()};
}

void PeerMetrics::write(api::MetricsText& out, const std::string& self, TimePoint now) {
  const std::vector<std::string> peers = select(now);
  write_peers(out, self, peers);
  write_zones(out);
  write_large(out, self, peers, now);
}

void PeerMetrics::write_large(api::MetricsText& out, const std::string& self,
                              const std::vector<std::string>& peers, TimePoint now) {
  out.family("vigil_peer_large_packet_loss_ratio", "gauge",
             "Share of the large echoes (DF set, sized to the ping checker's mtu) to a peer lost "
             "over the reach window; near 1 while small probes pass is an MTU blackhole.");
  for (const std::string& peer : peers) {
    auto it = large_.find(peer);
    if (it == large_.end()) continue;
    Large& l = it->second;
    while (!l.samples.empty() && now - l.samples.front().at > opt_.large_window)
      l.samples.pop_front();
    std::uint64_t sent = 0, lost = 0;
    for (const auto& s : l.samples) sent += s.sent, lost += s.lost;
    if (sent == 0) continue;  // none in the window: no series (it comes back with the next)
    out.sample("vigil_peer_large_packet_loss_ratio",
               Labels{{"source_node", self},
                      {"source_zone", l.source_zone},
                      {"destination_node", peer},
                      {"destination_zone", l.destination_zone}},
               static_cast<double>(lost) / static_cast<double>(sent));
  }
}

void PeerMetrics::write_peers(api::MetricsText& out, const std::string& self,
                              const std::vector<std::string>& peers) const {
  std::vector<std::pair<Labels, const Series*>> rows;
  for (const std::string& peer : peers) {
    for (auto it = series_.lower_bound({peer, ""}); it != series_.end() && it->first.first == peer;
         ++it) {
      const Series& s = it->second;
      rows.push_back({Labels{{"source_node", self},
                             {"source_zone", s.source_zone},
                             {"destination_node", peer},
                             {"destination_zone", s.destination_zone},
                             {"protocol", it->first.second}},
                      &s});
    }
  }
  out.family("vigil_peer_packets_sent_total", "counter",
             "Probe packets this node sent to a peer (gossip: direct pings; icmp: echo requests).");
  for (const auto& [labels, s] : rows) {
    out.sample("vigil_peer_packets_sent_total", labels, static_cast<double>(s->counts.sent));
  }
  out.family("vigil_peer_packets_lost_total", "counter",
             "Probe packets to a peer without an answer in time.");
  for (const auto& [labels, s] : rows) {
    out.sample("vigil_peer_packets_lost_total", labels, static_cast<double>(s->counts.lost));
  }
  out.family("vigil_peer_rtt_seconds", "histogram",
             "Round-trip time of answered probes to a peer.");
  for (const auto& [labels, s] : rows) {
    const Histogram& h = s->counts.rtt;
    Labels l = labels;
    l.emplace_back("le", "");
    for (std::size_t i = 0; i < kRttBuckets.size(); ++i) {
      l.back().second = le_label(kRttBuckets[i]);
      out.sample("vigil_peer_rtt_seconds_bucket", l, static_cast<double>(h.le[i]));
    }
    l.back().second = "+Inf";
    out.sample("vigil_peer_rtt_seconds_bucket", l, static_cast<double>(h.count));
    out.sample("vigil_peer_rtt_seconds_sum", labels, h.sum);
    out.sample("vigil_peer_rtt_seconds_count", labels, static_cast<double>(h.count));
  }
}

void PeerMetrics::write_zones(api::MetricsText& out) const {
  auto labels = [](const auto& key) {
    return Labels{{"source_zone", std::get<0>(key)},
                  {"destination_zone", std::get<1>(key)},
                  {"protocol", std::get<2>(key)}};
  };
  out.family("vigil_zone_packets_sent_total", "counter",
             "Probe packets this node sent to the peers of a zone (every peer, never capped).");
  for (const auto& [key, c] : zones_) {
    out.sample("vigil_zone_packets_sent_total", labels(key), static_cast<double>(c.sent));
  }
  out.family("vigil_zone_packets_lost_total", "counter",
             "Probe packets to the peers of a zone without an answer in time.");
  for (const auto& [key, c] : zones_) {
    out.sample("vigil_zone_packets_lost_total", labels(key), static_cast<double>(c.lost));
  }
  out.family("vigil_zone_rtt_seconds", "histogram",
             "Round-trip time of answered probes to the peers of a zone.");
  for (const auto& [key, c] : zones_) {
    Labels l = labels(key);
    l.emplace_back("le", "");
    for (std::size_t i = 0; i < kRttBuckets.size(); ++i) {
      l.back().second = le_label(kRttBuckets[i]);
      out.sample("vigil_zone_rtt_seconds_bucket", l, static_cast<double>(c.rtt.le[i]));
    }
    l.back().second = "+Inf";
    out.sample("vigil_zone_rtt_seconds_bucket", l, static_cast<double>(c.rtt.count));
    out.sample("vigil_zone_rtt_seconds_sum", labels(key), c.rtt.sum);
    out.sample("vigil_zone_rtt_seconds_count", labels(key), static_cast<double>(c.rtt.count));
  }
}

}  // namespace vigil::agent
