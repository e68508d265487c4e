#pragma once
// gossip::Membership: SWIM with the Lifeguard refinements, as a pure state machine.
//
// Inputs are received bytes and "now"; outputs are datagrams, stream requests and events,
// drained with take_output(). No sockets, threads, timers or clocks inside (the pattern of
// ScyllaDB's raft::fsm): the caller owns time and I/O, so one process can run thousands of
// Memberships deterministically (test/sim/) and the agent drives one from its Asio loop.
//
// Threading: not thread-safe. Every method must be called from one thread (the loop thread).
// Call tick(now) at or after next_deadline(), and after every input drain take_output().

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "gossip/config.hpp"
#include "gossip/delegate.hpp"
#include "gossip/events.hpp"
#include "gossip/stats.hpp"
#include "gossip/types.hpp"

namespace vigil::gossip {

/// Who this node is.
struct LocalNode {
  std::string name;
  Address addr;  ///< advertised address, the one peers send to
  Tags tags;
  std::uint32_t incarnation = 0;  ///< start value (a restart may start at 0: refutation fixes it)
};

class Membership {
 public:
  /// `config` must be valid (GossipConfig::validate() empty). `seed` drives every random
  /// choice. `delegate` may be null; it is not owned and must outlive this object.
  Membership(GossipConfig config, LocalNode self, std::uint64_t seed, TimePoint now,
             Delegate* delegate = nullptr);
  ~Membership();
  Membership(const Membership&) = delete;
  Membership& operator=(const Membership&) = delete;

  // ---- inputs ---------------------------------------------------------------------------
  /// A datagram arrived from `from`. Malformed bytes are counted (stats().decode_errors) and
  /// dropped; they never change membership.
  void on_datagram(const Address& from, std::span<const std::uint8_t> bytes, TimePoint now);
  /// An inbound stream frame (push-pull or TCP ping). Returns the reply frame to write back;
  /// empty means "close without reply".
  Bytes on_stream(const Address& from, std::span<const std::uint8_t> bytes, TimePoint now);
  /// Completion of a StreamRequest this core emitted: the reply frame, or nullopt on error.
  void on_stream_reply(std::uint64_t id, std::optional<std::span<const std::uint8_t>> reply,
                       TimePoint now);
  /// Advances timers: probes, suspicion timeouts, gossip rounds, push-pull, reaping.
  void tick(TimePoint now);
  /// The earliest time at which tick() has something to do.
  TimePoint next_deadline() const;

  /// Push-pull (join) with each seed; each result comes back as a StreamRequest reply.
  void join(const std::vector<Address>& seeds, TimePoint now);
  /// Restores a member list saved earlier (as serf's snapshot does across restarts), or warms
  /// up a simulated cluster: unknown members are added with their state, without broadcasts
  /// or events; known members and ourselves are left alone. They are then probed as usual
  /// and fail or refute like any member.
  void restore(const std::vector<Member>& members, TimePoint now);
  /// Graceful leave: broadcasts our own death with from == self, marks self left. Keep
  /// driving the loop for a short while afterwards so the broadcast spreads.
  void leave(TimePoint now);
  /// Replaces our tags and spreads them as an alive update with a higher incarnation.
  /// Returns false (and changes nothing) when they exceed max_tags_bytes or a codec limit
  /// (codec::tags_problem).
  bool set_tags(Tags tags, TimePoint now);
  /// Extension channel: queue an opaque broadcast piggybacked on gossip. A newer broadcast
  /// with the same key replaces an unsent older one. Receivers see it in
  /// Delegate::notify_message and keep spreading it when it was news to them.
  void queue_broadcast(std::string key, Bytes payload, int priority = 0);

  // ---- outputs --------------------------------------------------------------------------
  Output take_output();

  // ---- queries --------------------------------------------------------------------------
  const Member& self() const;
  /// Every known member, self included, in no particular order.
  std::vector<Member> members() const;
  /// The member named `name`, or nullptr. Valid until the next input call.
  const Member* find(std::string_view name) const;
  std::size_t size() const;       ///< members known, any state, self included
  std::size_t num_alive() const;  ///< alive or suspect, self included
  int health_score() const;       ///< Lifeguard local health score (0 = healthy)
  const Stats& stats() const;
  const GossipConfig& config() const;
  /// True once a join() got at least one reply or any peer contacted us.
  bool has_peers() const;
  /// Broadcasts still waiting to be (re)transmitted; after leave(), 0 means it has spread.
  std::size_t pending_broadcasts() const;
  /// What this node knows first-hand about its own connectivity (diagnosis: "local evidence
  /// first"): its probes in a row that got no ack at all (direct, indirect nor TCP), and when
  /// it last received anything valid from a peer (datagram or stream).
  struct LocalEvidence {
    int failed_probes_in_a_row = 0;
    TimePoint last_heard{};  ///< epoch until the first packet
  };
  LocalEvidence local_evidence() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::gossip
