#pragma once
// PeerMetrics: the per-peer and per-zone probe metrics of this node (design.md, Metrics):
//   vigil_peer_packets_sent_total / vigil_peer_packets_lost_total / vigil_peer_rtt_seconds
//     {source_node,source_zone,destination_node,destination_zone,protocol}
//   vigil_zone_packets_sent_total / vigil_zone_packets_lost_total / vigil_zone_rtt_seconds
//     {source_zone,destination_zone,protocol}
// from every measurement as it is taken (ICMP runs of the ping checker, gossip probes: one
// packet per direct ping, lost when no direct ack came), and
//   vigil_peer_large_packet_loss_ratio{source_node,source_zone,destination_node,destination_zone}
// the share of the ping checker's large echoes (DF set, sized to its `mtu`) to a peer lost over
// the last `large_window` (the reach window the diagnosis reads): near 1 while the small
// echoes' loss stays near 0 is an MTU blackhole (diagnosis `mtu-blackhole`). A gauge, not a
// counter pair: one large echo per peer per 30 s is too sparse for rate() over usual ranges,
// and the value is the very evidence the diagnosis uses. One series per exported peer with a
// large echo in the window (ICMP only, so no protocol label).
//
// Cardinality bound (per agent, P = protocols in use (icmp, gossip); 16 series per (peer,
// protocol): sent, lost, 11 RTT buckets + "+Inf", _sum, _count):
//   per-peer series <= max_peers * (P * 16 + 1) (64 peers, 2 protocols: <= 2,112)
//   per-zone series <= zones * P * 16          (the source zone is always ours)
// The per-peer series cover at most `max_peers` peers: those with a lost packet in the last
// `recent` window first, then the most recently probed. The choice is sticky: an exported
// peer keeps its series while it is probed at least once per `recent` (so series do not churn
// with the round-robin of probes in a large mesh), unless a lossy peer needs its slot. Zone
// aggregates count every peer, exported or not. Counters of unexported peers keep counting,
// so a series that comes back continues where it was.
// A peer's series disappear when it leaves or is reaped (forget()); a new zone label starts
// that peer's series from zero.
//
// Loop thread only. Memory: one entry per (peer, protocol) ever measured until forget().

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <span>
#include <string>
#include <tuple>
#include <vector>

namespace vigil::api {
class MetricsText;
}

namespace vigil::agent {

struct PeerMetricsOptions {
  /// Peers with per-peer series. Default 64; 0 exports the zone aggregates only.
  std::size_t max_peers = 64;
  /// How long a peer counts as recently probed (and, after a lost packet, as lossy).
  /// Default 10 minutes.
  std::chrono::steady_clock::duration recent = std::chrono::minutes(10);
  /// Window of vigil_peer_large_packet_loss_ratio. Default 60 s (HealthOptions::reach_window).
  std::chrono::steady_clock::duration large_window = std::chrono::seconds(60);
};

class PeerMetrics {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using Duration = std::chrono::steady_clock::duration;
  /// Upper bounds of the RTT histogram buckets, seconds (+Inf implied).
  static constexpr std::array<double, 11> kRttBuckets = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.25, 1.0};

  explicit PeerMetrics(PeerMetricsOptions o = {}) : opt_(o) {}

  /// One measurement: `sent` packets to `peer` over `protocol`, `lost` of them unanswered,
  /// `rtts` the round-trip times of the answered ones. Zones as known now ("" = unknown).
  void record(const std::string& peer, const std::string& protocol, const std::string& source_zone,
              const std::string& destination_zone, std::uint32_t sent, std::uint32_t lost,
              std::span<const Duration> rtts, TimePoint now);
  /// Large echoes to `peer` (ping `mtu`): `sent`, `lost` of them unanswered. A lost one makes
  /// the peer lossy for the choice of exported peers, like a lost small probe.
  void record_large(const std::string& peer, const std::string& source_zone,
                    const std::string& destination_zone, std::uint32_t sent, std::uint32_t lost,
                    TimePoint now);
  /// The peer left or was reaped: its per-peer series disappear (zone totals stay).
  void forget(const std::string& peer);
  /// Appends the seven families. `self` is source_node.
  void write(api::MetricsText& out, const std::string& self, TimePoint now);
  /// Chooses the exported peers (write() calls it); sorted by name. For tests.
  std::vector<std::string> select(TimePoint now);

  const PeerMetricsOptions& options() const { return opt_; }

 private:
  struct Histogram {
    std::array<std::uint64_t, kRttBuckets.size()> le{};  // cumulative counts per bound
    std::uint64_t count = 0;
    double sum = 0;
    void add(double seconds);
  };
  struct Counts {
    std::uint64_t sent = 0, lost = 0;
    Histogram rtt;
    void add(std::uint32_t sent, std::uint32_t lost, std::span<const Duration> rtts);
  };
  struct Series {  // one (peer, protocol)
    std::string source_zone, destination_zone;
    Counts counts;
  };
  struct Peer {
    TimePoint last_probe{}, last_loss{};
    bool lossy = false;  // ever lost a packet (last_loss is meaningful)
  };
  struct Large {  // one peer's large echoes over large_window
    struct Sample {
      TimePoint at;
      std::uint32_t sent, lost;
    };
    std::string source_zone, destination_zone;
    std::deque<Sample> samples;
  };
  void write_peers(api::MetricsText& out, const std::string& self,
                   const std::vector<std::string>& peers) const;
  void write_zones(api::MetricsText& out) const;
  void write_large(api::MetricsText& out, const std::string& self,
                   const std::vector<std::string>& peers, TimePoint now);

  PeerMetricsOptions opt_;
  std::map<std::pair<std::string, std::string>, Series> series_;  // (peer, protocol)
  std::map<std::string, Peer> peers_;
  std::map<std::tuple<std::string, std::string, std::string>, Counts> zones_;  // src, dst, proto
  std::set<std::string> exported_;
  std::map<std::string, Large> large_;  // peer -> its large echoes in the window
};

}  // namespace vigil::agent
