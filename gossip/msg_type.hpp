#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace vigil::gossip {

/// Message types. These values are on the wire: append only, never renumber or reuse.
enum class MsgType : std::uint8_t {
  ping = 0,
  indirect_ping = 1,  ///< ping-req: "probe this node for me"
  ack = 2,
  nack = 3,  ///< Lifeguard: an intermediary got no ack from the target in time
  suspect = 4,
  alive = 5,
  dead = 6,       ///< dead with from == node means a graceful leave
  push_pull = 7,  ///< stream only: full state exchange
  user = 8,       ///< extension channel broadcast (opaque to the core)
};
inline constexpr std::size_t kMsgTypeCount = 9;

std::string_view to_string(MsgType t);

}  // namespace vigil::gossip
