#pragma once
// HealthState: the cluster health view every agent holds and gossips. Per origin node: its
// latest probe result per checker and its reachability summary (agent/health_record.hpp for
// the records, versions and size bounds). Implements gossip::Delegate, so it rides on the
// membership's extension channel. What it sends is news only, so an idle node's cost does not
// grow with the cluster:
//   - a verdict change (probe status, severity or error; a reachability summary whose lossy
//     peers, loss bucket or protocols moved, or whose MTU news (large echoes lost while small
//     probes pass) started or stopped) is queued at once with
//     Membership::queue_broadcast, one key per record, probes ahead of summaries. Nothing is
//     re-issued while unchanged: a record stands while membership says its origin is alive,
//     and its `updated` is the time of its last change.
//   - measurements that move every run (a probe's detail: RTTs, offsets; the summary's
//     sent/lost/RTT within its bucket) stay local: our own records are updated in place, with
//     no new version, and served by this node; peers hold the values of the last change.
//   - notify_message merges a received record and returns true when it was newer than what
//     we held (the core then keeps spreading it: epidemic);
//   - push-pull (anti-entropy) exchanges only what differs: state_digest() is compared first
//     (equal: nothing more is sent); else the 8-byte-per-origin summary goes one way, the
//     records of the k differing origins (and which of theirs we lack) come back, and the
//     records the other side lacks close the exchange: O(k) records, never the whole view;
//   - ack_payload carries our wall clock; notify_ping_complete turns a peer's into a clock
//     offset (GossipPeerClock, for the time-drift checker) and an RTT sample (reachability).
// A record of a failed node is kept (with its `updated` time) until forget() (reaped).
// Our own records coming back from peers (e.g. from before a restart) are accepted when they
// are newer; a record of a checker we no longer run is answered with a `removed` tombstone.
//
// Threads: every method runs on the loop thread (the one driving the Membership) and never
// blocks. peer_clock() is the only object shared with other threads (it is thread-safe).
// Lifecycle: construct before the Membership (it is the Membership's delegate), then
// set_broadcaster() once the Membership exists; must outlive the Membership.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "agent/health_record.hpp"
#include "agent/peer_clock.hpp"
#include "agent/reach_tracker.hpp"
#include "checkers/scheduler.hpp"
#include "gossip/delegate.hpp"

namespace vigil::agent {

struct HealthOptions {
  /// Cap of each probe's error and detail on the wire, bytes (cut on a UTF-8 boundary).
  /// Default and maximum 256 (kMaxTextBytes).
  std::size_t max_text_bytes = kMaxTextBytes;
  /// Peers in our reachability summary (peers with loss first). Default/max 24.
  std::size_t max_reach_peers = kMaxReachPeers;
  /// Healthy peers in the summary we gossip, besides lossy peers and peers that asked for our
  /// view (they report loss to or from us). Our own copy, served by this node, lists up to
  /// max_reach_peers of every protocol; gossip-probe entries (RTT only, random members) are
  /// never gossiped. Each gossiped summary reaches every node, so its size is paid n times:
  /// 8 healthy ICMP peers keep it ~250 bytes while still showing a node's row in small
  /// clusters and its healthy side when it reports loss. Default 8.
  std::size_t max_healthy_reach = 8;
  /// Window of the reachability summary: samples older than this do not count. Default 60s.
  std::chrono::steady_clock::duration reach_window = std::chrono::seconds(60);
  /// Wall clock, microseconds since the Unix epoch. Default: std::chrono::system_clock.
  std::function<std::int64_t()> wall_us;
  /// Monotonic clock. Default: std::chrono::steady_clock.
  std::function<std::chrono::steady_clock::time_point()> steady_now;
};

/// Everything known about one origin node.
struct NodeHealth {
  std::map<std::string, HealthRecord> probes;  ///< by checker name (tombstones included)
  std::optional<HealthRecord> reach;           ///< its reachability summary
  /// Latest `updated_ms` of its records (0 when none).
  std::int64_t updated_ms() const;
};

/// A probe record of some origin changed status or severity (or appeared). For the history.
struct ProbeChange {
  std::string origin;
  std::optional<ProbeFields> before;  ///< nullopt when first seen
  ProbeFields after;                  ///< `removed` status when the checker went away
};

class HealthState final : public gossip::Delegate {
 public:
  /// Broadcast priorities (Membership::queue_broadcast): verdicts before measurements.
  /// Background (gossip::BroadcastQueue::kBackground, sent fewer times): an origin's first
  /// record when it says all is well (a checker `running`, a summary without loss). When a
  /// whole cluster starts, every node relays every node's first records: this is most of the
  /// start-up storm, and a node that misses one gets it by push-pull. Changes are never
  /// background.
  static constexpr int kProbePriority = 0, kReachPriority = 1, kBackgroundPriority = 2;
  /// The priority of `r` replacing `prev` (nullptr: none), for our records and for relays.
  static int priority_of(const HealthRecord& r, const HealthRecord* prev);
  using Broadcaster = std::function<void(std::string key, Bytes payload, int priority)>;
  using ChangeHandler = std::function<void(const ProbeChange&)>;
  /// Every peer measurement as it is taken (ping checker runs, gossip acks and lost gossip
  /// pings): `sent` packets, `lost` of them unanswered, `rtts` those answered. For metrics.
  using PeerSampleHandler = std::function<void(
      const std::string& peer, const std::string& protocol, std::uint32_t sent, std::uint32_t lost,
      std::span<const std::chrono::steady_clock::duration> rtts)>;

  /// Every large echo measurement (ping `mtu`) as it is taken: `sent` large echoes to `peer`,
  /// `lost` of them unanswered, `bytes` their IP size. For metrics.
  using LargeSampleHandler = std::function<void(const std::string& peer, std::uint32_t sent,
                                                std::uint32_t lost, std::uint32_t bytes)>;

  HealthState(std::string self, HealthOptions options = {});

  /// Where local changes go: normally Membership::queue_broadcast(key, payload, priority).
  /// Until set, changes are only kept (and spread by push-pull).
  void set_broadcaster(Broadcaster b) { broadcaster_ = std::move(b); }
  /// Called for every probe status/severity change of any origin (after it is stored).
  void set_change_handler(ChangeHandler h) { on_change_ = std::move(h); }
  /// Called for every peer measurement (see PeerSampleHandler).
  void set_peer_sample_handler(PeerSampleHandler h) { on_peer_sample_ = std::move(h); }
  /// Called for every large echo measurement (see LargeSampleHandler).
  void set_large_sample_handler(LargeSampleHandler h) { on_large_sample_ = std::move(h); }
  /// The checkers this node runs (from its config). Own records of other checkers that come
  /// back from peers are answered with a tombstone. Not set: every name is accepted.
  void set_local_checkers(std::set<std::string> names) { local_checkers_ = std::move(names); }

  // ---- local inputs (loop thread) --------------------------------------------------------
  /// A Scheduler update: stores/broadcasts the damped probe when it changed, and feeds its
  /// raw per-peer results (ping-like checkers) into the reachability summary.
  void on_probe_update(const checkers::ProbeUpdate& u);
  /// The core of on_probe_update: our probe `p` whose status began at wall `since_ms`.
  /// Returns true when the record changed (and was broadcast).
  bool set_local_probe(const checkers::Probe& p, std::int64_t since_ms);
  /// A checker was removed from the configuration: issues its tombstone.
  void remove_local_probe(const std::string& checker);
  /// Per-peer results of a ping-like run (sent/lost/RTT per peer, and large echoes).
  void add_peer_results(const std::vector<checkers::PeerResult>& peers);
  /// Periodic upkeep (call every few seconds): issues the reachability summary when it changed
  /// materially, else refreshes our own copy's measurements in place (not gossiped).
  void tick();
  /// Drops everything about `node` (reaped or removed from the mesh).
  void forget(const std::string& node);
  /// `peer` was declared failed, or came back after being failed (a healed cut, a restart):
  /// our samples of it describe the state that ended, not the next one; they are dropped, and
  /// our summary is issued again if it changes (issue 13: evidence newer than the last heal).
  void restart_samples(const std::string& peer);
  /// We were cut off ourselves (cut_off_evidence) and hear our peers again: every sample of
  /// the window is from the cut; all are dropped.
  void restart_all_samples();

  // ---- queries (loop thread) -------------------------------------------------------------
  const std::map<std::string, NodeHealth>& nodes() const { return nodes_; }
  const NodeHealth* find(const std::string& origin) const;
  const std::string& self() const { return self_; }
  /// For CheckContext::peer_clock (thread-safe object).
  std::shared_ptr<const checkers::PeerClock> peer_clock() const { return clock_; }
  std::uint64_t decode_errors() const { return decode_errors_; }  ///< rejected payloads
  /// Bumped on every stored change (any origin, any field): republish the ClusterView when
  /// it moved since the last publish.
  std::uint64_t revision() const { return revision_; }
  std::size_t record_count() const;
  /// Every record we hold, encoded as one full state (fmt 1): the size of the view, for
  /// benchmarks and tests. Not what push-pull sends.
  Bytes full_state() const;
  /// The push-pull summary: one entry per origin hash, sorted (cached until a record changes).
  const std::vector<OriginDigest>& summary() { return summary_cache().entries; }

  // ---- gossip::Delegate ------------------------------------------------------------------
  bool notify_message(std::string_view key, std::span<const std::uint8_t> payload) override;
  int relay_priority() override { return relay_priority_; }
  std::uint64_t state_digest() override;
  Bytes local_state(bool join) override;
  Bytes merge_remote_state(std::span<const std::uint8_t> state, bool join) override;
  Bytes ack_payload() override;
  void notify_ping_complete(const gossip::Member& peer, gossip::Duration rtt,
                            std::span<const std::uint8_t> payload) override;
  void notify_ping_lost(const gossip::Member& peer) override;
  void notify_probe_rescue(const gossip::Member& peer, Rescue how) override;
  /// Protocol of the UDP-path entries: gossip probes, lost when a ping-req or TCP saved them.
  static constexpr const char* kUdpProtocol = "udp";

 private:
  enum class Merge { stale, stored, refuted };
  Merge merge(HealthRecord r);
  void issue(HealthRecord r);  // version, store, broadcast (own records)
  void refresh_reach(bool in_place);
  void fit(HealthRecord& r) const;           // trims a summary to kMaxRecordBytes
  static bool udp_news(const PeerReach& e);  // a UDP entry worth gossiping
  /// Our own copy's entries (not gossiped): every protocol but healthy UDP duplicates.
  std::vector<PeerReach> local_summary(std::chrono::steady_clock::time_point now,
                                       const std::set<std::string>& wanted);
  /// Our records of the origins with these hashes; with `theirs`, only those newer than the
  /// other side's copy (a record absent from `theirs` counts as newer).
  std::vector<const HealthRecord*> records_of(const std::vector<std::uint32_t>& hashes,
                                              const std::vector<HealthRecord>* theirs);
  std::uint64_t next_version(const HealthRecord* prev) const;
  std::int64_t wall_ms() const { return wall_us_() / 1000; }
  void changed() {  // a record's version moved: the summary and digest too
    summary_.reset();
    ++revision_;
  }
  void touched() { ++revision_; }  // only values served locally moved

  std::string self_;
  HealthOptions opt_;
  std::function<std::int64_t()> wall_us_;
  std::function<std::chrono::steady_clock::time_point()> steady_;
  Broadcaster broadcaster_;
  ChangeHandler on_change_;
  PeerSampleHandler on_peer_sample_;
  LargeSampleHandler on_large_sample_;
  std::optional<std::set<std::string>> local_checkers_;
  std::map<std::string, NodeHealth> nodes_;
  ReachTracker tracker_;
  std::string reach_sig_;
  std::set<std::string> gossiped_peers_;  ///< peers our last issued summary lists
  /// Peers that report loss to or from us in their summaries, and when they last did: our
  /// healthy entries of them are put in our summary (counter-evidence) for one reach_window.
  std::map<std::string, std::chrono::steady_clock::time_point> wanted_;
  /// Reaped origins: the newest version we dropped, kept kForgetMemory (forget()).
  struct Forgotten {
    std::uint64_t version;
    std::chrono::steady_clock::time_point at;
  };
  static constexpr std::chrono::hours kForgetMemory{1};
  std::map<std::string, Forgotten> forgotten_;
  std::shared_ptr<GossipPeerClock> clock_ = std::make_shared<GossipPeerClock>();
  std::set<std::string> issued_;  ///< keys of records issued by this process
  struct Summary {
    std::vector<OriginDigest> entries;                         // sorted by origin_hash
    std::multimap<std::uint32_t, const std::string*> origins;  // hash -> origin (keys of nodes_)
    std::uint64_t root = 0;
  };
  std::optional<Summary> summary_;
  Summary& summary_cache();
  std::uint64_t decode_errors_ = 0;
  int relay_priority_ = 0;  ///< of the record notify_message last stored
  std::uint64_t revision_ = 0;
};

}  // namespace vigil::agent
