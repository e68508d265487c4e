#pragma once
// GossipConfig: every tunable of the SWIM core, each with its meaning, default and trade-off.
// Defaults equal hashicorp/memberlist's DefaultLANConfig; wan() and local() mirror its
// DefaultWANConfig and DefaultLocalConfig. gossip/ never reads files or the environment:
// agent/ maps flags and JSON onto this struct.

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "gossip/types.hpp"

namespace vigil::gossip {

using std::chrono::milliseconds;
using std::chrono::seconds;

struct GossipConfig {
  /// Interval between failure-detector probes of one random member (round robin over a
  /// shuffled list). Lower: faster detection, more traffic. Scaled up by the local health
  /// multiplier (Lifeguard) while this node itself looks unhealthy.
  Duration probe_interval = milliseconds(1000);
  /// How long to wait for a direct ack before asking `indirect_checks` peers to probe for us.
  /// Should exceed the network's 99th-percentile RTT. Also scaled by the local health multiplier.
  Duration probe_timeout = milliseconds(500);
  /// Number of peers asked to ping-req a member that missed its direct ack. More: fewer false
  /// suspicions on a lossy network, more traffic per failed probe.
  int indirect_checks = 3;
  /// Try a TCP ping (through the transport's stream) in parallel with indirect probes, so a
  /// node whose UDP is filtered is reported as such instead of suspected.
  bool tcp_fallback_probe = true;

  /// Multiplier of the *minimum* suspicion timeout: min = suspicion_mult * max(1, log10(n)) *
  /// probe_interval. Higher: fewer false failures, slower detection.
  int suspicion_mult = 4;
  /// The suspicion timeout starts at suspicion_max_timeout_mult * min and shrinks towards min
  /// as independent confirmations arrive (Lifeguard dynamic suspicion).
  int suspicion_max_timeout_mult = 6;
  /// Local health multiplier cap (Lifeguard awareness): probe interval/timeout scale with
  /// (score + 1), score in [0, awareness_max_multiplier - 1].
  int awareness_max_multiplier = 8;

  /// Each broadcast is retransmitted retransmit_mult * ceil(log10(n + 1)) times. Higher: more
  /// reliable spread, more bytes.
  int retransmit_mult = 4;
  /// The same for extension broadcasts (the status layer's records). Every node must receive
  /// every status record, and a node misses one with probability ~e^-L when each node sends it
  /// L times; a miss waits for push-pull (tens of seconds). 0 (default): L = max(the
  /// membership limit, ceil(ln(n + 1)) + 7), so fewer than 1 change in 1,000 misses a node at
  /// any size (it raises only clusters of 10 to 99 nodes, from 8 to 11-12). Each node pays the
  /// cluster's change rate times L records.
  int user_retransmit_mult = 0;
  /// Extension broadcasts queued as background (BroadcastQueue::kBackground: news that says
  /// all is well, e.g. a checker's first `running`) are sent background_retransmit_mult *
  /// ceil(log10(n + 1)) times (3 at 100-999 nodes): when a whole cluster starts at once, every
  /// node relays every node's first records, n x records x L sends per node, so this cuts the
  /// start-up storm ~5x; the ~5% of nodes a record misses get it by push-pull. Default 1.
  int background_retransmit_mult = 1;
  /// Interval of the gossip (dissemination) round. Lower: faster spread, more packets.
  Duration gossip_interval = milliseconds(200);
  /// Number of random members each gossip round sends pending broadcasts to.
  int gossip_nodes = 3;
  /// After a node is declared dead, keep gossiping to it this long so it can learn it was
  /// declared dead and refute (it may be alive behind a healed partition).
  Duration gossip_to_the_dead_time = seconds(30);

  /// Doubt failure verdicts from a member that is suspect or failed in our view, or that came
  /// back from either less than one maximum suspicion timeout ago: its view was formed while
  /// it was cut off from us, so "dead" from it is taken as a suspicion (it counts as a
  /// confirmation, the target refutes if alive, our own timer still declares it dead if not).
  /// Off (memberlist): after a partition heals, the stale death notices of one side mark
  /// healthy members of the other side failed until they refute (a false failure).
  /// Costs at most one suspicion timeout of detection at nodes that hear of a real death
  /// only from such a member.
  bool doubt_returnee_verdicts = true;

  /// Full state exchange (anti-entropy) with one random member every push_pull_interval,
  /// scaled up above 32 nodes by ceil(log2(n) - log2(32)) + 1 to keep the rate per cluster flat.
  /// 0 disables periodic push-pull (join still uses it).
  Duration push_pull_interval = seconds(30);
  /// Every reconnect_interval, with probability min(1, failed / alive), push-pull with one
  /// random failed member (serf's reconnect): how two sides of a healed partition find each
  /// other again once gossip_to_the_dead_time has passed. 0 disables it. Costs nothing while
  /// no member is failed.
  Duration reconnect_interval = seconds(10);
  /// Timeout of one stream (TCP) exchange: push-pull, join, TCP fallback ping. Also the idle
  /// limit of inbound connections: one that has not completed its exchange by then (silent,
  /// or a partial frame) is closed.
  Duration stream_timeout = seconds(10);

  /// Largest datagram the core emits (piggybacked broadcasts fill it up to this size).
  /// 1400 stays under a 1500-byte Ethernet MTU with room for IP/UDP and encryption overhead.
  std::size_t udp_buffer_size = 1400;
  /// At most this many bytes of each datagram carry extension broadcasts (the status layer's
  /// records), after membership updates took what they need: pings and acks stay small, and a
  /// burst of health changes can never crowd out suspicions or refutations. Must hold one
  /// extension record (agent: at most 1000 bytes). Default 1024.
  std::size_t max_user_bytes_per_packet = 1024;
  /// Largest accepted metadata: all tag keys and values together, in bytes.
  std::size_t max_tags_bytes = 512;

  /// Failed members are removed from the member list after this long (they stay visible as
  /// `failed` until then). serf's ReconnectTimeout default.
  Duration dead_reap_timeout = std::chrono::hours(24);
  /// Members that left gracefully are removed after this long (serf's TombstoneTimeout).
  Duration left_reap_timeout = std::chrono::hours(24);

  /// memberlist's DefaultLANConfig: the defaults above.
  static GossipConfig lan();
  /// memberlist's DefaultWANConfig: slower, more tolerant timings for high-latency links.
  static GossipConfig wan();
  /// memberlist's DefaultLocalConfig: faster timings for a loopback or same-rack network.
  static GossipConfig local();

  /// Every problem with the values, one readable sentence each; empty when valid.
  std::vector<std::string> validate() const;
};

/// Minimum suspicion timeout for a cluster of n members (memberlist suspicionTimeout()).
Duration suspicion_min_timeout(const GossipConfig& c, std::size_t n);
/// Retransmit limit for a cluster of n members: retransmit_mult * ceil(log10(n + 1)).
int retransmit_limit(int retransmit_mult, std::size_t n);
/// Retransmit limit of extension broadcasts for n members (user_retransmit_mult).
int user_retransmit_limit(const GossipConfig& c, std::size_t n);
/// Push-pull interval scaled for n members (memberlist pushPullScale()).
Duration push_pull_scaled(Duration interval, std::size_t n);

}  // namespace vigil::gossip
