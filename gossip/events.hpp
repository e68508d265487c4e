#pragma once
// What a Membership emits: packets to send and membership events. Drained with take_output().

#include <cstdint>
#include <vector>

#include "gossip/types.hpp"

namespace vigil::gossip {

/// A UDP-style datagram to send (best effort, unordered).
struct Datagram {
  Address to;
  Bytes bytes;
};

/// Why the core wants a stream (TCP) exchange.
enum class StreamPurpose : std::uint8_t {
  push_pull,  ///< periodic anti-entropy
  join,       ///< push-pull with a seed during join()
  ping,       ///< TCP fallback probe (the reply is an ack)
};

/// A request/response exchange over a reliable stream: connect to `to`, write `bytes` as one
/// frame, read one reply frame, hand it to Membership::on_stream_reply(id, ...). On any
/// error or after `timeout`, call on_stream_reply(id, std::nullopt, now).
struct StreamRequest {
  std::uint64_t id = 0;
  Address to;
  Bytes bytes;
  Duration timeout{};
  StreamPurpose purpose = StreamPurpose::push_pull;
};

enum class EventKind : std::uint8_t {
  joined,     ///< a node was seen for the first time (or again after being reaped)
  updated,    ///< address or tags changed
  suspect,    ///< a node became suspect
  recovered,  ///< a suspect/failed node is alive again (refuted or rejoined)
  failed,     ///< a node was declared dead after its suspicion timed out
  left,       ///< a node left gracefully
  reaped,     ///< a failed/left node was removed after the reap timeout
};

std::string_view to_string(EventKind k);

struct Event {
  EventKind kind;
  Member member;  ///< the member as it is after the change
};

struct Output {
  std::vector<Datagram> datagrams;
  std::vector<StreamRequest> streams;
  std::vector<Event> events;
  bool empty() const { return datagrams.empty() && streams.empty() && events.empty(); }
};

}  // namespace vigil::gossip
