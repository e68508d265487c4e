#pragma once
// Counters kept by a Membership, read by metrics and tests (tests assert stats, not logs).

#include <array>
#include <cstdint>

#include "gossip/msg_type.hpp"

namespace vigil::gossip {

struct Stats {
  std::array<std::uint64_t, kMsgTypeCount> msgs_in{};   ///< messages received, by MsgType
  std::array<std::uint64_t, kMsgTypeCount> msgs_out{};  ///< messages sent, by MsgType
  std::uint64_t packets_in = 0, packets_out = 0;        ///< datagrams (compound counts once)
  std::uint64_t bytes_in = 0, bytes_out = 0;            ///< datagram + stream bytes
  std::uint64_t decode_errors = 0;                      ///< malformed datagrams/frames, dropped
  std::uint64_t misdirected = 0;         ///< pings meant for another node name, dropped
  std::uint64_t probes = 0;              ///< probes started
  std::uint64_t probe_failures = 0;      ///< probes that ended without any ack
  std::uint64_t indirect_acks = 0;       ///< probes saved by an indirect (ping-req) ack
  std::uint64_t tcp_fallback_acks = 0;   ///< probes saved only by the TCP fallback ping
  std::uint64_t nacks_in = 0;            ///< nacks received from ping-req intermediaries
  std::uint64_t suspicions = 0;          ///< members this node started suspecting
  std::uint64_t refutations = 0;         ///< times this node refuted a suspicion/death of itself
  std::uint64_t doubted_verdicts = 0;    ///< death notices taken as suspicions (returnee source)
  std::uint64_t push_pulls = 0;          ///< push-pull exchanges completed (either side)
  std::uint64_t broadcasts_dropped = 0;  ///< broadcasts invalidated or over the queue cap
  std::uint64_t user_bytes_out = 0;  ///< extension bytes sent: broadcasts + push-pull user state
  std::uint64_t push_pull_bytes_out = 0;   ///< push-pull frames sent (either side), bytes
  std::uint64_t push_pulls_started = 0;    ///< push-pull exchanges this node opened
  std::uint64_t push_pulls_in_sync = 0;    ///< of those, answered "in sync" at once (digests equal)
  std::uint64_t push_pull_sync_bytes = 0;  ///< both frames of those in-sync exchanges
};

}  // namespace vigil::gossip
