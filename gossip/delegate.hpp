#pragma once
// The extension channel: how the layers above (health results, time drift) ride on gossip
// without the core knowing what they carry. Modelled on memberlist's Delegate/PingDelegate.

#include <span>
#include <string_view>

#include "gossip/types.hpp"

namespace vigil::gossip {

/// Implemented by the owner of a Membership. Every method is called on the loop thread that
/// drives the Membership, synchronously from on_datagram/on_stream/on_stream_reply/tick, and
/// must not block. The Membership does not take ownership; the delegate must outlive it.
class Delegate {
 public:
  /// A user broadcast (queued somewhere with Membership::queue_broadcast) arrived.
  /// Return true when it was news to this node: the core then keeps spreading it
  /// (re-queues it under the same key), which makes user broadcasts epidemic.
  virtual bool notify_message(std::string_view key, std::span<const std::uint8_t> payload) {
    (void)key, (void)payload;
    return false;
  }
  /// The priority (Membership::queue_broadcast) under which the message that notify_message
  /// just called news is relayed, so relays keep the origin's urgency. Default 0.
  virtual int relay_priority() { return 0; }
  /// Order-independent digest of the layer's whole state. A periodic push-pull opens with it:
  /// when both sides' digests are equal, no user state is exchanged at all. Default: a hash of
  /// local_state(false).
  virtual std::uint64_t state_digest();
  /// The opening user state of a push-pull or join (sent to the other side first, or in
  /// answer to a digest that differed). Typically a compact summary, not the whole state.
  virtual Bytes local_state(bool join) {
    (void)join;
    return {};
  }
  /// User state from the remote side of a push-pull: its local_state(), or an answer that its
  /// merge_remote_state() returned. Returns the answer to send back (empty: nothing more to
  /// say). The exchange is bounded: the core carries at most two answers per push-pull
  /// (opening -> answer -> answer), so a layer whose answer to an answer is empty converges
  /// in one exchange (the status layer: summary -> differing records + wants -> wanted records).
  virtual Bytes merge_remote_state(std::span<const std::uint8_t> state, bool join) {
    (void)state, (void)join;
    return {};
  }
  /// Payload carried on every ack this node sends (e.g. its wall clock, for time drift).
  virtual Bytes ack_payload() { return {}; }
  /// A direct probe of `peer` completed: round-trip time and the peer's ack payload.
  virtual void notify_ping_complete(const Member& peer, Duration rtt,
                                    std::span<const std::uint8_t> payload) {
    (void)peer, (void)rtt, (void)payload;
  }
  /// A probe of `peer` ended without an answer to its direct ping (the ping or its ack was
  /// lost or late; an indirect or TCP ack may still have kept the peer alive). With
  /// notify_ping_complete, every direct ping of a probe is reported exactly once (unless the
  /// peer was removed meanwhile): the packet loss towards a peer as this node measures it.
  virtual void notify_ping_lost(const Member& peer) { (void)peer; }
  /// How a probe whose direct ping was lost ended (right after notify_ping_lost): saved by a
  /// ping-req helper's ack (UDP reaches the peer by another path), by the TCP fallback ping
  /// (TCP reaches it where UDP did not: a firewall or overlay fault), or not at all. A probe a
  /// helper saved is reported again as `tcp` when its TCP fallback ping is answered later.
  enum class Rescue : std::uint8_t { indirect, tcp, none };
  virtual void notify_probe_rescue(const Member& peer, Rescue how) { (void)peer, (void)how; }

 protected:
  ~Delegate() = default;
};

}  // namespace vigil::gossip
