// libFuzzer target: a Membership that knows two peers is fed fuzzed datagrams, stream frames,
// stream replies, clock advances and API calls (record format in fuzz_inputs.hpp). It must never
// crash, and these invariants must hold after every step:
//   - self is present, named "self", alive until leave() and never regresses its incarnation;
//   - num_alive() equals the members that are alive or suspect; size() == members().size();
//   - no event is about self;
//   - no member stays suspect longer than the longest suspicion timeout (its timer runs);
//   - every datagram and stream frame the node emits decodes (unless over kMaxDatagram).
#include <cstdint>
#include <cstdlib>
#include <deque>

#include "gossip/membership.hpp"
#include "test/fuzz/fuzz_inputs.hpp"

using namespace vigil::gossip;
using vigil::gossip::fuzz::Op;

namespace {

class FuzzDelegate final : public Delegate {
 public:
  bool notify_message(std::string_view, std::span<const std::uint8_t> p) override {
    return !p.empty() && (p[0] & 1);
  }
  Bytes local_state(bool) override { return Bytes{1, 2, 3}; }
  Bytes ack_payload() override { return Bytes{'t'}; }
};

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace std::chrono;
  GossipConfig cfg = GossipConfig::lan();
  cfg.dead_reap_timeout = seconds(30);
  cfg.left_reap_timeout = seconds(30);
  TimePoint now = TimePoint{} + hours(1);
  FuzzDelegate delegate;
  Membership m(cfg, LocalNode{"self", "self:1", {{"role", "fuzz"}}, 0}, 1, now, &delegate);
  m.on_datagram("p1:1", codec::encode_packet(codec::Alive{1, "p1", "p1:1", {}}), now);
  m.on_datagram("p2:1", codec::encode_packet(codec::Alive{1, "p2", "p2:1", {}}), now);

  const Duration suspect_bound = suspicion_min_timeout(cfg, 10000) * cfg.suspicion_max_timeout_mult;
  std::deque<std::uint64_t> pending;
  bool left = false;
  std::uint32_t inc = m.self().incarnation;
  auto drain_and_check = [&] {
    Output out = m.take_output();
    for (const auto& s : out.streams) {
      pending.push_back(s.id);
      check(static_cast<bool>(codec::decode_frame(s.bytes)));
    }
    for (const auto& d : out.datagrams)
      check(d.bytes.size() > codec::kMaxDatagram ||
            static_cast<bool>(codec::decode_packet(d.bytes)));
    for (const auto& e : out.events) check(e.member.name != "self");
    const Member& me = m.self();
    check(me.name == "self" && m.find("self") == &me);
    check(me.incarnation >= inc);
    inc = me.incarnation;
    check(left ? me.state == MemberState::left : me.state == MemberState::alive);
    const auto all = m.members();
    check(all.size() == m.size());
    std::size_t live = 0;
    for (const auto& x : all)
      live += x.state == MemberState::alive || x.state == MemberState::suspect;
    check(live == m.num_alive());
  };
  drain_and_check();

  std::size_t i = 0;
  while (i < size) {
    const std::uint8_t head = data[i++];
    std::size_t len = 0;
    if (i < size) len = data[i++];
    if (i < size) len |= static_cast<std::size_t>(data[i++]) << 8;
    len = std::min(len, size - i);
    std::span<const std::uint8_t> payload(data + i, len);
    i += len;
    const Address from = fuzz::kPeers[(head >> 3) % 3];
    switch (static_cast<Op>(head & 7)) {
      case Op::datagram:
        m.on_datagram(from, payload, now);
        break;
      case Op::stream: {
        Bytes reply = m.on_stream(from, payload, now);
        check(reply.empty() || static_cast<bool>(codec::decode_frame(reply)));
        break;
      }
      case Op::tick: {
        std::size_t ms = payload.empty() ? 100 : payload[0];
        if (payload.size() > 1) ms |= static_cast<std::size_t>(payload[1]) << 8;
        now += milliseconds(ms);
        for (int k = 0; k < 100000 && m.next_deadline() <= now; ++k) m.tick(now);
        check(m.next_deadline() > now);
        // Every suspicion has a running timer: none outlives the longest timeout possible
        // (the scale of 10,000 members bounds any n this input can have).
        for (const auto& x : m.members())
          check(x.state != MemberState::suspect || now - x.state_change <= suspect_bound);
        break;
      }
      case Op::stream_reply:
        if (pending.empty()) break;
        if (payload.empty())
          m.on_stream_reply(pending.front(), std::nullopt, now);
        else
          m.on_stream_reply(pending.front(), payload, now);
        pending.pop_front();
        break;
      case Op::join:
        m.join({"p1:1", "seed:1"}, now);
        break;
      case Op::leave:
        m.leave(now);
        left = true;
        break;
      case Op::set_tags:
        m.set_tags({{"k", std::string(payload.begin(), payload.end())}}, now);
        break;
      case Op::broadcast:
        m.queue_broadcast("k" + std::to_string(payload.empty() ? 0 : payload[0]),
                          Bytes(payload.begin(), payload.end()));
        break;
    }
    drain_and_check();
  }
  return 0;
}
