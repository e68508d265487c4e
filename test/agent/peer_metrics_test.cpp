// PeerMetrics: per-peer series with source/destination node and zone, the cap (lossy peers
// first, then the most recently probed, sticky), zone aggregates over every peer, forgetting a
// peer, and HealthState feeding it (ping checker results, gossip acks and lost pings).
#include <doctest/doctest.h>

#include <map>
#include <sstream>

#include "agent/health_state.hpp"
#include "agent/peer_metrics.hpp"
#include "api/metrics_text.hpp"

using namespace vigil;
using namespace vigil::agent;
using namespace std::chrono_literals;

namespace {

using TimePoint = PeerMetrics::TimePoint;
using Duration = PeerMetrics::Duration;

const TimePoint t0 = TimePoint{} + 1h;

// The exposition as {sample line without value -> value}, plus the families in order.
struct Scrape {
  std::map<std::string, double> samples;
  std::vector<std::string> families;
  double at(const std::string& key) const {
    auto it = samples.find(key);
    return it == samples.end() ? -1 : it->second;
  }
  int count_prefix(const std::string& prefix) const {
    int n = 0;
    for (const auto& [k, v] : samples) n += k.rfind(prefix, 0) == 0 ? 1 : 0;
    return n;
  }
};

Scrape scrape(PeerMetrics& pm, TimePoint now, const std::string& self = "n1") {
  api::MetricsText out;
  pm.write(out, self, now);
  Scrape s;
  std::istringstream in(out.str());
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# TYPE ", 0) == 0) s.families.push_back(line.substr(7));
    if (line.empty() || line[0] == '#') continue;
    auto sp = line.rfind(' ');
    s.samples[line.substr(0, sp)] = std::stod(line.substr(sp + 1));
  }
  return s;
}

std::string peer_labels(const std::string& dst, const std::string& dst_zone,
                        const std::string& proto, const std::string& src_zone = "za") {
  return R"({source_node="n1",source_zone=")" + src_zone + R"(",destination_node=")" + dst +
         R"(",destination_zone=")" + dst_zone + R"(",protocol=")" + proto + "\"";
}

void ping(PeerMetrics& pm, const std::string& peer, TimePoint at, std::uint32_t lost = 0,
          const std::string& zone = "zb") {
  std::vector<Duration> rtts(5 - lost, 2ms);
  pm.record(peer, "icmp", "za", zone, 5, lost, rtts, at);
}

}  // namespace

TEST_CASE("peer metrics: labelled counters, cumulative RTT histogram, zone aggregates") {
  PeerMetrics pm;
  const std::vector<Duration> rtts{300us, 2ms, 2ms, 40ms};
  pm.record("n2", "icmp", "za", "zb", 5, 1, rtts, t0);
  pm.record("n2", "gossip", "za", "zb", 1, 0, std::vector<Duration>{700us}, t0);
  pm.record("n2", "gossip", "za", "zb", 1, 1, {}, t0 + 1s);
  pm.record("n3", "gossip", "za", "zb", 1, 0, std::vector<Duration>{3s}, t0 + 1s);
  const Scrape s = scrape(pm, t0 + 2s);

  CHECK(s.families ==
        std::vector<std::string>{
            "vigil_peer_packets_sent_total counter", "vigil_peer_packets_lost_total counter",
            "vigil_peer_rtt_seconds histogram", "vigil_zone_packets_sent_total counter",
            "vigil_zone_packets_lost_total counter", "vigil_zone_rtt_seconds histogram",
            "vigil_peer_large_packet_loss_ratio gauge"});
  const std::string icmp = peer_labels("n2", "zb", "icmp");
  CHECK(s.at("vigil_peer_packets_sent_total" + icmp + "}") == 5);
  CHECK(s.at("vigil_peer_packets_lost_total" + icmp + "}") == 1);
  CHECK(s.at("vigil_peer_rtt_seconds_bucket" + icmp + R"(,le="0.00025"})") == 0);
  CHECK(s.at("vigil_peer_rtt_seconds_bucket" + icmp + R"(,le="0.0005"})") == 1);
  CHECK(s.at("vigil_peer_rtt_seconds_bucket" + icmp + R"(,le="0.0025"})") == 3);
  CHECK(s.at("vigil_peer_rtt_seconds_bucket" + icmp + R"(,le="0.025"})") == 3);
  CHECK(s.at("vigil_peer_rtt_seconds_bucket" + icmp + R"(,le="0.1"})") == 4);
  CHECK(s.at("vigil_peer_rtt_seconds_bucket" + icmp + R"(,le="+Inf"})") == 4);
  CHECK(s.at("vigil_peer_rtt_seconds_count" + icmp + "}") == 4);
  CHECK(s.at("vigil_peer_rtt_seconds_sum" + icmp + "}") == doctest::Approx(0.0443));
  const std::string gossip = peer_labels("n2", "zb", "gossip");
  CHECK(s.at("vigil_peer_packets_sent_total" + gossip + "}") == 2);
  CHECK(s.at("vigil_peer_packets_lost_total" + gossip + "}") == 1);
  CHECK(s.at("vigil_peer_rtt_seconds_count" + gossip + "}") == 1);
  // A 3 s RTT is above every finite bound: only in +Inf.
  const std::string n3 = peer_labels("n3", "zb", "gossip");
  CHECK(s.at("vigil_peer_rtt_seconds_bucket" + n3 + R"(,le="1"})") == 0);
  CHECK(s.at("vigil_peer_rtt_seconds_bucket" + n3 + R"(,le="+Inf"})") == 1);

  const std::string zg = R"({source_zone="za",destination_zone="zb",protocol="gossip")";
  CHECK(s.at("vigil_zone_packets_sent_total" + zg + "}") == 3);
  CHECK(s.at("vigil_zone_packets_lost_total" + zg + "}") == 1);
  CHECK(s.at("vigil_zone_rtt_seconds_count" + zg + "}") == 2);
  CHECK(s.at("vigil_zone_rtt_seconds_bucket" + zg + R"(,le="+Inf"})") == 2);
  const std::string zi = R"({source_zone="za",destination_zone="zb",protocol="icmp")";
  CHECK(s.at("vigil_zone_packets_sent_total" + zi + "}") == 5);
  // 15 series per (peer, protocol): sent, lost, 12 buckets, sum, count = 3 * 16.
  CHECK(s.count_prefix("vigil_peer_") == 3 * (2 + 12 + 2));
}

TEST_CASE("peer metrics: capped; lossy peers first, then the most recently probed; sticky") {
  PeerMetricsOptions o;
  o.max_peers = 2;
  o.recent = 60s;
  PeerMetrics pm(o);
  ping(pm, "a", t0);
  ping(pm, "b", t0 + 1s);
  ping(pm, "c", t0 + 2s);
  CHECK(pm.select(t0 + 3s) == std::vector<std::string>{"b", "c"});  // the two most recent
  Scrape s = scrape(pm, t0 + 3s);
  CHECK(s.count_prefix("vigil_peer_packets_sent_total") == 2);
  CHECK(s.at("vigil_peer_packets_sent_total" + peer_labels("a", "zb", "icmp") + "}") == -1);
  // Zone aggregates count every peer, exported or not.
  CHECK(
      s.at(
          R"(vigil_zone_packets_sent_total{source_zone="za",destination_zone="zb",protocol="icmp"})") ==
      15);

  // A newer probe of `a` does not push out an exported healthy peer (no churn)...
  ping(pm, "a", t0 + 4s);
  CHECK(pm.select(t0 + 5s) == std::vector<std::string>{"b", "c"});
  // ...a loss does: `a` takes the slot of the least recently probed healthy peer (b).
  ping(pm, "a", t0 + 6s, 2);
  CHECK(pm.select(t0 + 7s) == std::vector<std::string>{"a", "c"});
  s = scrape(pm, t0 + 7s);
  CHECK(s.at("vigil_peer_packets_sent_total" + peer_labels("a", "zb", "icmp") + "}") == 15);
  CHECK(s.at("vigil_peer_packets_lost_total" + peer_labels("a", "zb", "icmp") + "}") == 2);
  // Two lossy peers fill the cap; a third lossy one waits (lossy peers are not displaced).
  ping(pm, "b", t0 + 8s, 1);
  CHECK(pm.select(t0 + 9s) == std::vector<std::string>{"a", "b"});
  ping(pm, "c", t0 + 10s, 1);
  CHECK(pm.select(t0 + 11s) == std::vector<std::string>{"a", "b"});
  // Quiet for longer than `recent`: slots go back; c (probed since) takes one.
  ping(pm, "c", t0 + 60s);
  ping(pm, "b", t0 + 65s);
  CHECK(pm.select(t0 + 68s) == std::vector<std::string>{"b", "c"});
  // Cap 0: zone aggregates only.
  PeerMetricsOptions none;
  none.max_peers = 0;
  PeerMetrics zero(none);
  ping(zero, "a", t0);
  s = scrape(zero, t0 + 1s);
  CHECK(s.count_prefix("vigil_peer_") == 0);
  CHECK(s.count_prefix("vigil_zone_packets_sent_total") == 1);
}

TEST_CASE("peer metrics: a peer that leaves loses its series; a new zone restarts them") {
  PeerMetrics pm;
  ping(pm, "a", t0);
  ping(pm, "b", t0);
  pm.forget("a");
  Scrape s = scrape(pm, t0 + 1s);
  CHECK(s.count_prefix("vigil_peer_packets_sent_total") == 1);
  CHECK(s.at("vigil_peer_packets_sent_total" + peer_labels("b", "zb", "icmp") + "}") == 5);
  CHECK(
      s.at(
          R"(vigil_zone_packets_sent_total{source_zone="za",destination_zone="zb",protocol="icmp"})") ==
      10);
  // It comes back: counting starts again.
  ping(pm, "a", t0 + 2s);
  s = scrape(pm, t0 + 3s);
  CHECK(s.at("vigil_peer_packets_sent_total" + peer_labels("a", "zb", "icmp") + "}") == 5);
  // b's zone label changes (tags updated): a new series from zero, the old one is gone.
  ping(pm, "b", t0 + 4s, 0, "zc");
  s = scrape(pm, t0 + 5s);
  CHECK(s.at("vigil_peer_packets_sent_total" + peer_labels("b", "zb", "icmp") + "}") == -1);
  CHECK(s.at("vigil_peer_packets_sent_total" + peer_labels("b", "zc", "icmp") + "}") == 5);
  // Nonsense is ignored: no sent packets, no name; lost and RTTs are clamped to sent.
  pm.record("x", "icmp", "za", "zb", 0, 0, {}, t0);
  pm.record("", "icmp", "za", "zb", 1, 0, {}, t0);
  pm.record("y", "icmp", "za", "zb", 2, 9, std::vector<Duration>{1ms, 1ms, 1ms}, t0 + 5s);
  s = scrape(pm, t0 + 6s);
  CHECK(s.at("vigil_peer_packets_sent_total" + peer_labels("x", "zb", "icmp") + "}") == -1);
  CHECK(s.at("vigil_peer_packets_lost_total" + peer_labels("y", "zb", "icmp") + "}") == 2);
  CHECK(s.at("vigil_peer_rtt_seconds_count" + peer_labels("y", "zb", "icmp") + "}") == 0);
}

TEST_CASE("peer metrics: large-echo loss ratio over the window, per exported peer") {
  PeerMetricsOptions o;
  o.large_window = 60s;
  o.max_peers = 2;
  PeerMetrics pm(o);
  const std::string labels =
      R"({source_node="n1",source_zone="za",destination_node="a",destination_zone="zb"})";
  ping(pm, "a", t0);
  Scrape s = scrape(pm, t0 + 1s);
  CHECK(s.count_prefix("vigil_peer_large_packet_loss_ratio") == 0);  // none sent: no series
  pm.record_large("a", "za", "zb", 1, 0, t0 + 1s);
  s = scrape(pm, t0 + 2s);
  CHECK(s.at("vigil_peer_large_packet_loss_ratio" + labels) == 0);
  pm.record_large("a", "za", "zb", 1, 1, t0 + 31s);
  pm.record_large("a", "za", "zb", 1, 1, t0 + 61s);
  s = scrape(pm, t0 + 62s);  // the first (answered) one left the window
  CHECK(s.at("vigil_peer_large_packet_loss_ratio" + labels) == 1);
  s = scrape(pm, t0 + 200s);  // nothing in the window
  CHECK(s.count_prefix("vigil_peer_large_packet_loss_ratio") == 0);
  // A lost large echo makes its peer lossy for the cap, like a lost small probe.
  ping(pm, "b", t0 + 300s);
  ping(pm, "c", t0 + 301s);
  ping(pm, "d", t0 + 302s);
  pm.record_large("d", "za", "zb", 1, 0, t0 + 302s);
  pm.record_large("b", "za", "zb", 1, 1, t0 + 303s);
  s = scrape(pm, t0 + 304s);
  CHECK(s.count_prefix("vigil_peer_large_packet_loss_ratio") == 1);
  CHECK(s.at(R"(vigil_peer_large_packet_loss_ratio{source_node="n1",source_zone="za",)"
             R"(destination_node="b",destination_zone="zb"})") == 1);
  pm.forget("b");
  s = scrape(pm, t0 + 305s);
  CHECK(s.at(R"(vigil_peer_large_packet_loss_ratio{source_node="n1",source_zone="za",)"
             R"(destination_node="b",destination_zone="zb"})") == -1);
}

TEST_CASE("HealthState hands every peer measurement to the peer sample handler") {
  HealthState hs("n1");
  struct Got {
    std::string peer, protocol;
    std::uint32_t sent, lost;
    std::size_t rtts;
  };
  std::vector<Got> got;
  hs.set_peer_sample_handler([&](const std::string& peer, const std::string& protocol,
                                 std::uint32_t sent, std::uint32_t lost,
                                 std::span<const Duration> rtts) {
    got.push_back({peer, protocol, sent, lost, rtts.size()});
  });
  gossip::Member m;
  m.name = "n2";
  hs.notify_ping_complete(m, 3ms, {});
  hs.notify_ping_lost(m);
  checkers::PeerResult with_samples;
  with_samples.peer = "n3";
  with_samples.sent = 5;
  with_samples.lost = 2;
  with_samples.rtt = 1ms;
  with_samples.rtt_samples = {1ms, 1ms, 1ms};
  checkers::PeerResult mean_only = with_samples;
  mean_only.peer = "n4";
  mean_only.rtt_samples.clear();
  hs.add_peer_results({with_samples, mean_only});
  REQUIRE(got.size() == 4);
  CHECK((got[0].peer == "n2" && got[0].protocol == "gossip" && got[0].sent == 1 &&
         got[0].lost == 0 && got[0].rtts == 1));
  CHECK(
      (got[1].peer == "n2" && got[1].protocol == "gossip" && got[1].lost == 1 && got[1].rtts == 0));
  CHECK((got[2].peer == "n3" && got[2].protocol == "icmp" && got[2].sent == 5 && got[2].lost == 2 &&
         got[2].rtts == 3));
  CHECK((got[3].peer == "n4" && got[3].rtts == 3));  // the mean, once per answered packet
}
