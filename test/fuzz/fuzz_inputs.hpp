#pragma once
// Shared by the fuzz targets and the seed generator: sample messages and the record format of
// fuzz_membership's input.
//
// fuzz_membership input = records, each [op:1][len:2, little endian][payload:len] (a short
// final record takes what is left). The op byte's low 3 bits select the Op; the rest picks
// the sending peer for datagrams/streams.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "gossip/codec.hpp"

namespace vigil::gossip::fuzz {

enum class Op : std::uint8_t {
  datagram = 0,      ///< on_datagram(peer, payload)
  stream = 1,        ///< on_stream(peer, payload); a non-empty reply must decode
  tick = 2,          ///< advance the clock by payload[0..1] (LE) milliseconds, tick when due
  stream_reply = 3,  ///< on_stream_reply(oldest pending id, payload or nullopt when empty)
  join = 4,          ///< join({"p1:1", "seed:1"})
  leave = 5,         ///< leave()
  set_tags = 6,      ///< set_tags({{"k", payload}})
  broadcast = 7,     ///< queue_broadcast("k<payload[0]>", payload)
};

/// The peers a fuzzed Membership knows from the start, and one it does not.
inline const char* const kPeers[] = {"p1:1", "p2:1", "stranger:1"};

inline void append_record(Bytes& out, Op op, std::span<const std::uint8_t> payload,
                          std::uint8_t peer = 0) {
  const auto n = static_cast<std::uint16_t>(std::min<std::size_t>(payload.size(), 0xffff));
  out.push_back(static_cast<std::uint8_t>(static_cast<std::uint8_t>(op) | (peer << 3)));
  out.push_back(static_cast<std::uint8_t>(n & 0xff));
  out.push_back(static_cast<std::uint8_t>(n >> 8));
  out.insert(out.end(), payload.begin(), payload.begin() + n);
}

/// One message of every type, aimed at the fuzzed node "self" and its peers p1/p2.
inline std::vector<codec::Message> sample_messages() {
  using namespace codec;
  Tags tags{{"role", "worker"}, {"zone", "a"}};
  PushPull pp;
  pp.join = true;
  pp.digest = 12345;
  pp.nodes = {PushNode{"p1", "p1:1", 3, MemberState::alive, tags},
              PushNode{"p2", "p2:1", 2, MemberState::suspect, {}},
              PushNode{"p3", "p3:1", 1, MemberState::dead, {}},
              PushNode{"p4", "p4:1", 1, MemberState::left, {}},
              PushNode{"self", "self:1", 5, MemberState::dead, {}}};
  pp.user_state = Bytes{1, 2, 3};
  PushPull digest_only;
  digest_only.digest = 1;
  digest_only.digest_only = true;
  return {
      Ping{1, "self", "p1", "p1:1"},
      IndirectPing{2, "p2", "p2:1", "p1", "p1:1", true},
      Ack{1, Bytes{9, 9}},
      Nack{2},
      Suspect{1, "p2", "p1"},
      Suspect{1, "self", "p1"},
      Alive{4, "p3", "p3:1", tags},
      Alive{2, "p1", "p1:1", {{"role", "db"}}},
      Dead{1, "p2", "p1"},
      Dead{1, "p1", "p1"},
      pp,
      digest_only,
      User{"health", Bytes{'o', 'k'}},
  };
}

}  // namespace vigil::gossip::fuzz
