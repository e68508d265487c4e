#pragma once
// Internal state of gossip::Membership (not part of the public API). The implementation is
// split by concern: membership.cpp (timers, gossip, push-pull, public wrappers),
// membership_probe.cpp (failure detector: ping, ping-req, ack, nack), membership_merge.cpp
// (alive/suspect/dead precedence, refutation, state merge).

#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "gossip/awareness.hpp"
#include "gossip/broadcast_queue.hpp"
#include "gossip/codec.hpp"
#include "gossip/membership.hpp"
#include "gossip/suspicion.hpp"

namespace vigil::gossip {

struct Membership::Impl {
  Impl(GossipConfig c, LocalNode self, std::uint64_t seed, TimePoint now, Delegate* d);

  // ---- configuration and collaborators
  GossipConfig cfg;
  Delegate* delegate;
  std::mt19937_64 rng;
  std::string self_name;

  // ---- members: `nodes` is the probe order (memberlist's m.nodes), `index` maps name -> slot
  std::vector<Member> nodes;
  std::unordered_map<std::string, std::size_t> index;
  std::size_t probe_pos = 0;
  std::size_t live_count = 0;  ///< alive + suspect
  std::size_t gone_count = 0;  ///< dead + left

  // ---- protocol state
  Stats stats;
  Awareness awareness;
  BroadcastQueue broadcasts;       ///< membership updates, keyed by node name
  BroadcastQueue user_broadcasts;  ///< extension channel, keyed by user key
  std::unordered_map<std::string, Suspicion> suspicions;
  Output out;
  TimePoint now;
  bool leaving = false;
  bool has_peers = false;
  std::uint32_t next_seq = 0;
  std::uint64_t next_stream_id = 0;

  struct Probe {
    bool active = false;
    std::string target;
    std::uint32_t seq = 0, indirect_seq = 0;
    TimePoint start{}, direct_deadline{}, deadline{};
    bool indirect_sent = false;
    bool tcp_acked = false;
    int expected_nacks = 0, nacks = 0;
  } probe;
  /// The last probe a ping-req helper rescued: its TCP fallback ack, arriving after the probe
  /// ended, still tells the delegate that TCP reaches the peer (notify_probe_rescue, tcp).
  std::uint32_t rescued_seq = 0;
  std::string rescued_target;
  struct Relay {  ///< a ping we send on behalf of a ping-req
    Address requester;
    std::uint32_t orig_seq = 0;
    bool nack = false;
    TimePoint nack_deadline{};
  };
  std::unordered_map<std::uint32_t, Relay> relays;
  struct PendingStream {
    StreamPurpose purpose;
    std::uint32_t seq = 0;     ///< ping: the probe seq
    bool digest_only = false;  ///< push-pull: we sent only our digest
    Address to;
    std::size_t sent_bytes = 0;  ///< the request frame (set by open_stream)
  };
  std::unordered_map<std::uint64_t, PendingStream> streams;
  /// When we last answered a stale accusation about ourselves, per sender address.
  std::unordered_map<Address, TimePoint> stale_refuted;
  /// Members that came back from suspect or failed, and when (cfg.doubt_returnee_verdicts);
  /// pruned after one maximum suspicion timeout.
  std::unordered_map<std::string, TimePoint> returned;

  TimePoint next_probe{}, next_gossip{}, next_push_pull{}, next_reap{}, next_reconnect{};
  int failed_probes_in_a_row = 0;  ///< Membership::local_evidence
  TimePoint last_heard{};

  // ---- helpers (membership.cpp)
  Member* find(const std::string& name);
  Member& self() { return nodes[index.at(self_name)]; }
  void set_state(Member& m, MemberState s);
  void add_member(Member m);  ///< inserts at a random slot of the probe order
  void reset_nodes();         ///< start of a probe pass: reshuffle
  void reap();
  std::vector<std::size_t> random_nodes(int k, bool include_recent_dead);
  void emit(EventKind kind, const Member& m);
  void send(const Address& to, const codec::Message& msg);
  void send_compound(const Address& to, std::span<const codec::Message> msgs);
  void broadcast(const std::string& node, const codec::Message& msg);
  /// Appends queued broadcasts to `parts` up to `budget` bytes (membership first).
  void piggyback(std::vector<Bytes>& parts, std::size_t budget);
  /// Encodes `parts` as one datagram to `to` and counts it.
  void emit_packet(const Address& to, std::vector<Bytes>& parts);
  void gossip();
  void start_push_pull();
  void reconnect();
  std::uint64_t digest();            ///< of the member states only
  codec::PushPull digest_message();  ///< the opening of a periodic push-pull
  /// A push-pull carrying our member list and/or the extension's opening state.
  codec::PushPull local_state(bool join, bool with_nodes, bool with_user);
  /// Merges the member list and the user state; returns the extension's answer.
  Bytes merge_push_pull(const codec::PushPull& pp);
  void open_stream(const Address& to, const codec::Message& msg, Duration timeout,
                   PendingStream pending);
  void handle(const Address& from, codec::Message& msg);

  // ---- failure detector (membership_probe.cpp)
  void start_probe();
  void probe_tick();
  void finish_probe(bool ok);
  /// The direct ping of the current probe got no ack; the probe ended as `how`.
  void report_ping_lost(Delegate::Rescue how);
  void on_ping(const Address& from, const codec::Ping& m);
  void on_indirect_ping(const Address& from, const codec::IndirectPing& m);
  void on_ack(const Address& from, codec::Ack& m);
  void on_nack(const codec::Nack& m);
  void relay_tick();

  // ---- precedence rules (membership_merge.cpp)
  void on_alive(const codec::Alive& a, bool bootstrap);
  void on_suspect(const codec::Suspect& s);
  void on_dead(const codec::Dead& d);
  /// True when a failure verdict from `from` should count only as a suspicion.
  bool doubtful_verdict_source(const std::string& from);
  Duration suspicion_max_timeout() const;
  void refute(std::uint32_t accused_incarnation);
  void answer_stale_accusation(const Address& from, std::uint32_t accused_incarnation);
  void suspicion_tick();
};

}  // namespace vigil::gossip
