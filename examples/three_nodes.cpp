// Three gossip::Membership nodes in one process. A tiny loop plays the network: it hands every
// datagram and stream exchange a node emits to its addressee (the agent's UDP/TCP transport
// does this for real). Time is simulated, so the run takes milliseconds:
//   n2 and n3 join through n1, everyone learns everyone, n1 changes its tags,
//   then n3 is cut off and the others suspect it and declare it failed.
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "gossip/membership.hpp"

using namespace vigil::gossip;
using namespace std::chrono_literals;

int main() {
  const GossipConfig cfg = GossipConfig::local();
  const TimePoint start{};
  TimePoint now = start;
  std::map<Address, std::unique_ptr<Membership>> net;  // address -> node
  std::uint64_t seed = 1;
  for (std::string name : {"n1", "n2", "n3"}) {
    const Address addr = name + ":7946";
    net[addr] = std::make_unique<Membership>(cfg, LocalNode{name, addr, {}, 0}, seed++, now);
  }
  Address silent;  // a node cut off from the network: its traffic is dropped both ways
  auto up = [&](const Address& a) { return net.count(a) && a != silent; };

  // Drain every node's output and deliver it until nobody has anything left to send.
  auto deliver = [&] {
    for (bool busy = true; busy;) {
      busy = false;
      for (auto& [from, node] : net) {
        Output out = node->take_output();
        busy |= !out.empty();
        for (const Event& e : out.events)
          std::printf("t=%5.1fs %s: %-9s %s (incarnation %u)\n",
                      std::chrono::duration<double>(now - start).count(), node->self().name.c_str(),
                      std::string(to_string(e.kind)).c_str(), e.member.name.c_str(),
                      e.member.incarnation);
        for (const Datagram& d : out.datagrams)
          if (up(from) && up(d.to)) net[d.to]->on_datagram(from, d.bytes, now);
        for (const StreamRequest& s : out.streams) {
          Bytes reply;
          if (up(from) && up(s.to)) reply = net[s.to]->on_stream(from, s.bytes, now);
          if (reply.empty())
            node->on_stream_reply(s.id, std::nullopt, now);
          else
            node->on_stream_reply(s.id, std::span<const std::uint8_t>(reply), now);
        }
      }
    }
  };
  // Advance simulated time in 10ms steps until `done` (or a minute passed).
  auto run_until = [&](const char* what, const std::function<bool()>& done) {
    for (int i = 0; i < 6000 && !done(); ++i) {
      now += 10ms;
      for (auto& [addr, node] : net)
        if (node->next_deadline() <= now) node->tick(now);
      deliver();
    }
    std::printf("-- %s: %s\n", what, done() ? "yes" : "NO (gave up)");
    return done();
  };

  Membership& n1 = *net["n1:7946"];
  Membership& n2 = *net["n2:7946"];
  net["n2:7946"]->join({"n1:7946"}, now);
  net["n3:7946"]->join({"n1:7946"}, now);
  deliver();
  bool ok = run_until("everyone sees three alive members", [&] {
    for (auto& [a, node] : net)
      if (node->num_alive() != 3) return false;
    return true;
  });

  n1.set_tags({{"role", "control-plane"}}, now);
  ok &= run_until("n2 sees n1's new tags",
                  [&] { return tag_value(n2.find("n1")->tags, "role") == "control-plane"; });

  silent = "n3:7946";
  ok &= run_until("n1 declared the silent n3 failed",
                  [&] { return n1.find("n3")->state == MemberState::dead; });
  std::printf("n1 stats: probes=%llu failures=%llu suspicions=%llu\n",
              static_cast<unsigned long long>(n1.stats().probes),
              static_cast<unsigned long long>(n1.stats().probe_failures),
              static_cast<unsigned long long>(n1.stats().suspicions));
  return ok ? 0 : 1;
}
