#pragma once
// Culprit diagnosis (design.md "diagnosis"): from the membership view and the reachability
// matrix (each observer's measured loss/RTT to the peers it probed, by ICMP and gossip), name
// the likely cause of reachability failures. Pure code: no I/O, no clock, deterministic.
//
// Reasoning, largest fault first; links a larger fault explains are never blamed again:
//   1. zone-partition  zone A and zone B (the `zone` tag, >= 2 nodes each) lose most probes to
//                      each other while each zone is fine internally; or every node of a zone
//                      (>= 2) is failed in gossip while another zone is up.
//   2. node-isolated   a node loses most of its peers while those peers reach each other
//                      (its own network is broken). Preferred over node-unreachable when both fit.
//      node-unreachable most peers lose a node while they reach each other (down or cut off);
//                      or gossip marks it failed and the probes do not contradict it.
//      Greedy: the node with the most witnesses first, so one isolated node does not make every
//      other node look unreachable.
//      split-brain     the reporting nodes form >= 2 groups (>= 2 nodes each) that reach each
//                      other inside and lose each other across, not along zones.
//   3. split-brain     this observer sees at least half of the cluster failed (>= 3 members): it
//                      is on the minority side of a partition, or they are down; no node blamed
//                      from gossip alone. node-isolated (the observer) when it sees every other
//                      member failed: a side of one is its own network, not a split.
//   4. lossy-node      moderate loss (lossy_loss..bad_loss) to/from one node across most peers,
//                      while those peers see little loss among themselves. Before the links:
//                      with ~10 probes per link, a node losing 20% has some link losing > 50%
//                      by chance, which is its loss, not a link fault.
//   5. udp-blocked     UDP lost while TCP and ICMP pass (a broken overlay, a firewall rule):
//                      gossip probes rescued only by ping-req or TCP, between two zones, to
//                      and from one node, or between two nodes; never where ICMP is down.
//   6. mtu-blackhole   large packets lost while small ones pass: the ping checker's large
//                      echoes (DF set, sized to its `mtu`) lost where its small echoes are
//                      answered; between two zones, to and from one node, across the whole
//                      cluster (the MTU configured is above the network's), or between two
//                      nodes; never where the small echoes fail too (that is loss or a cut).
//   7. asymmetric-link A->B lost, B->A fine (both measured).
//      link-down       A->B and B->A both lost, nothing larger explains it (always the verdict
//                      for a 2-node cluster: which side is broken cannot be told).
// Small clusters: blaming a node needs >= min_witnesses (2) peers AND a control (the witnesses
// reach each other), so 2 nodes never yield node-level blame and 3 nodes only with all rows.
// A quiet matrix (too few probes per link) yields nothing.
// Cost: O(nodes + samples) per stage (sparse matrix): ~20 ms CPU for 1,000 nodes probing 60
// peers each on the dev machine. Compute it when the matrix changes and cache the result;
// do not run it per HTTP request.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::api {

/// Membership state as the diagnosing node sees it (design.md names).
enum class PeerStatus : std::uint8_t { alive, suspect, failed, left };

struct DiagnosisNode {
  std::string name;
  PeerStatus status = PeerStatus::alive;
  std::string zone;  ///< value of the `zone` tag; "" = none (ignored by zone reasoning)
};

/// One observer's large echoes to one peer over the recent window (ping `mtu`: one echo with
/// DF set, `bytes` as an IP packet, now and then), apart from its small probes (LinkSample).
struct LargeEchoSample {
  std::string from;         ///< the observer
  std::string to;           ///< the peer it probed
  std::uint32_t sent = 0;   ///< large echoes sent in the window
  std::uint32_t lost = 0;   ///< of them unanswered
  std::uint32_t bytes = 0;  ///< their IP packet size (the observer's configured MTU)
};

/// One observer's measurement of one peer over the recent window. Several samples of the same
/// (from, to) pair (e.g. ICMP and gossip) are pooled, weighted by their probe counts.
struct LinkSample {
  std::string from;                     ///< the observer
  std::string to;                       ///< the peer it probed
  double loss = 0.0;                    ///< fraction of probes lost, 0..1
  std::chrono::duration<double> rtt{};  ///< mean RTT of answered probes (evidence only)
  std::uint32_t probes = 0;             ///< probes sent in the window
};

struct DiagnosisInput {
  std::vector<DiagnosisNode> nodes;
  /// Samples from observers that are failed/left are stale and ignored; unknown names too.
  std::vector<LinkSample> links;
  /// The UDP path alone (gossip probes): `loss` is the share of probes whose direct UDP ping
  /// was lost although a ping-req helper or the TCP fallback reached the peer. Kept apart
  /// from `links` (ICMP): UDP lost while ICMP and TCP pass is its own fault, udp-blocked.
  std::vector<LinkSample> udp_links;
  /// Large echoes (MTU probes), kept apart from `links` (small ICMP probes): large ones lost
  /// while small ones pass is its own fault, mtu-blackhole. Peers report them only while they
  /// are lost (a peer that says nothing about a link lost none).
  std::vector<LargeEchoSample> large_echoes;
  /// The node whose membership view `nodes` is ("" = unknown); named in split-brain evidence.
  std::string observer;
  /// The window the samples cover (e.g. 60s); when > 0, evidence says "... for 60s".
  std::chrono::seconds window{0};
  /// First-hand evidence that the observer itself is cut off ("" = none), e.g. "its last 3
  /// probes got no answer ... for 4s". Local evidence first: the diagnosis is then only
  /// node-isolated (the observer); its stale view of the others blames no one.
  std::string observer_cut_off;
};

/// Thresholds. Defaults suit 1 s probe intervals and a ~60 s window.
struct DiagnosisConfig {
  /// A link with fewer probes is not evidence at all. Default 5.
  std::uint32_t min_probes = 5;
  /// A link losing MORE than this fraction is down ("lose > 50% of probes"). Default 0.5.
  double bad_loss = 0.5;
  /// A link losing at least this (and at most bad_loss) is lossy; below it, fine. Default 0.1.
  double lossy_loss = 0.1;
  /// "Most" peers: strictly more than this fraction of the measured ones. Default 0.5.
  double most = 0.5;
  /// Fewest agreeing peers to blame one node (isolated/unreachable/lossy). Default 2.
  std::size_t min_witnesses = 2;
  /// The witnesses must reach each other: at least this fraction of their measured mutual
  /// links fine (and at least one measured). Default 0.8.
  double control_good = 0.8;
  /// Zone partition: at least this fraction of measured cross-zone links down. Default 0.8.
  double zone_cut = 0.8;
  /// Zone partition: at most this fraction of a zone's internal links down. Default 0.2.
  double zone_internal_bad_max = 0.2;

  /// Problems with the values above, one line each; empty = valid.
  std::vector<std::string> validate() const;
};

enum class DiagnosisKind : std::uint8_t {
  zone_partition,
  split_brain,
  node_isolated,
  node_unreachable,
  link_down,
  asymmetric_link,
  lossy_node,
  udp_blocked,
  mtu_blackhole,
  /// Not a verdict: the evidence so far fits no fault shape without naming a node it cannot
  /// support (links re-measured one ping run at a time right after a fault). `nodes`/`zones`
  /// say where; the evidence says what is known. (api/diagnosis_investigating.cpp)
  investigating,
};

/// "zone-partition", "split-brain", "node-isolated", "node-unreachable", "link-down",
/// "asymmetric-link", "lossy-node", "udp-blocked", "mtu-blackhole": the JSON `kind`.
std::string_view to_string(DiagnosisKind k);

struct DiagnosisEntry {
  DiagnosisKind kind = DiagnosisKind::node_unreachable;
  /// The culprit node (JSON `node`): the blamed node; for links the side that loses probes
  /// (asymmetric-link: the sender whose probes are lost); "" for zone-partition/split-brain
  /// without an observer.
  std::string node;
  /// Every node involved (asymmetric-link/link-down: {from, to}), sorted otherwise.
  std::vector<std::string> nodes;
  /// zone-partition: {cut zone, zones it is cut from...}; else empty.
  std::vector<std::string> zones;
  /// One line a person reads, e.g. "4 of 4 peers lose > 50% of probes to node-3".
  std::string evidence;
  /// 0..1, entries are sorted by it (highest first).
  double confidence = 0.0;
};

/// The diagnosis of `in`, most confident first; empty when nothing is wrong or evidence is thin.
std::vector<DiagnosisEntry> diagnose(const DiagnosisInput& in, const DiagnosisConfig& cfg = {});

}  // namespace vigil::api
