#pragma once
// The port the consumer of a Membership implements (the Asio UDP/TCP transport, the simulator).

#include <span>

#include "gossip/events.hpp"

namespace vigil::gossip {

class Membership;

/// Sends what a Membership emits. Called on the loop thread; must not block.
class Transport {
 public:
  /// Best-effort datagram.
  virtual void send_datagram(const Address& to, std::span<const std::uint8_t> bytes) = 0;
  /// Starts a stream exchange; the transport later calls Membership::on_stream_reply(req.id).
  virtual void send_stream(StreamRequest req) = 0;

 protected:
  ~Transport() = default;
};

/// Moves everything `m` wants to send into `t` and returns the membership events.
std::vector<Event> pump(Membership& m, Transport& t);

}  // namespace vigil::gossip
