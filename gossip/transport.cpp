#include "gossip/transport.hpp"

#include "gossip/membership.hpp"

namespace vigil::gossip {

std::vector<Event> pump(Membership& m, Transport& t) {
  Output out = m.take_output();
  for (auto& d : out.datagrams) t.send_datagram(d.to, d.bytes);
  for (auto& s : out.streams) t.send_stream(std::move(s));
  return std::move(out.events);
}

}  // namespace vigil::gossip
