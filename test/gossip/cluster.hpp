#pragma once
// A few Memberships wired by hand through FakeNetwork, each with a RecordingDelegate; shared by
// the membership tests. Node "nX" lives at address "nX:7946".

#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gossip/codec.hpp"
#include "gossip/membership.hpp"
#include "test/fakes/fake_network.hpp"
#include "test/fakes/manual_clock.hpp"

namespace vigil::gossip::test {

/// Records every delegate call. notify_message() keeps the greatest payload per key (payloads
/// start with a version, as a real user of the channel versions its values) and reports news
/// when a key is new or its payload is greater than the one kept.
class RecordingDelegate final : public Delegate {
 public:
  struct Ping {
    std::string peer;
    Duration rtt;
    Bytes payload;
  };
  std::map<std::string, Bytes> messages;
  int message_calls = 0;
  Bytes state;   ///< what local_state() returns
  Bytes answer;  ///< what merge_remote_state() returns
  std::vector<std::pair<Bytes, bool>> merged;
  Bytes ack;  ///< what ack_payload() returns
  std::vector<Ping> pings;

  bool notify_message(std::string_view key, std::span<const std::uint8_t> payload) override {
    ++message_calls;
    Bytes p(payload.begin(), payload.end());
    auto [it, fresh] = messages.try_emplace(std::string(key), p);
    if (!fresh && it->second >= p) return false;
    it->second = std::move(p);
    return true;
  }
  Bytes local_state(bool) override { return state; }
  Bytes merge_remote_state(std::span<const std::uint8_t> s, bool join) override {
    merged.emplace_back(Bytes(s.begin(), s.end()), join);
    return answer;
  }
  Bytes ack_payload() override { return ack; }
  void notify_ping_complete(const Member& peer, Duration rtt,
                            std::span<const std::uint8_t> payload) override {
    pings.push_back(Ping{peer.name, rtt, Bytes(payload.begin(), payload.end())});
  }
  std::vector<std::string> lost;  ///< peers of notify_ping_lost, in order
  void notify_ping_lost(const Member& peer) override { lost.push_back(peer.name); }
};

inline Address addr_of(const std::string& name) {
  return name + ":7946";
}

/// Test config: LAN timings, short reap timeouts.
inline GossipConfig test_config() {
  GossipConfig c = GossipConfig::lan();
  c.dead_reap_timeout = std::chrono::seconds(60);
  c.left_reap_timeout = std::chrono::seconds(60);
  return c;
}

class Cluster {
 public:
  explicit Cluster(GossipConfig cfg = test_config()) : cfg_(std::move(cfg)) {
    REQUIRE(cfg_.validate().empty());
  }
  ManualClock clock;
  FakeNetwork net{clock};

  /// Creates (or re-creates: a restart) node `name` and attaches it to the network.
  Membership& add(const std::string& name, std::uint32_t incarnation = 0, Tags tags = {}) {
    auto& n = nodes_[name];
    if (n.m) net.detach(addr_of(name));
    n.m.reset();
    n.d = std::make_unique<RecordingDelegate>();
    LocalNode self{name, addr_of(name), std::move(tags), incarnation};
    n.m = std::make_unique<Membership>(cfg_, self, ++seed_ * 7919, clock.now(), n.d.get());
    net.attach(*n.m);
    return *n.m;
  }
  Membership& operator[](const std::string& name) { return *nodes_.at(name).m; }
  RecordingDelegate& delegate(const std::string& name) { return *nodes_.at(name).d; }

  /// Adds n1..nN; every node but n1 joins n1; runs until everyone sees everyone alive.
  void start(int n) {
    for (int i = 1; i <= n; ++i) add("n" + std::to_string(i));
    for (int i = 2; i <= n; ++i) (*this)["n" + std::to_string(i)].join({addr_of("n1")}, now());
    net.deliver();
    REQUIRE(net.run_until([&] { return converged(); }, std::chrono::seconds(30)));
  }

  /// Every node sees every node (itself included) alive, and nothing else.
  bool converged() {
    for (auto& [name, n] : nodes_) {
      if (n.m->size() != nodes_.size() || n.m->num_alive() != nodes_.size()) return false;
      for (auto& [other, o] : nodes_) {
        const Member* m = n.m->find(other);
        if (!m || m->state != MemberState::alive) return false;
      }
    }
    return true;
  }
  /// The state of `member` as `viewer` sees it; nullopt when `viewer` does not know it.
  std::optional<MemberState> state(const std::string& viewer, const std::string& member) {
    const Member* m = (*this)[viewer].find(member);
    if (!m) return std::nullopt;
    return m->state;
  }
  TimePoint now() const { return clock.now(); }
  const GossipConfig& config() const { return cfg_; }

  /// Hands a hand-made datagram to `to` as if `from` sent it, then delivers the fallout.
  void inject(const std::string& to, const std::string& from, const codec::Message& msg) {
    (*this)[to].on_datagram(addr_of(from), codec::encode_packet(msg), now());
    net.deliver();
  }

 private:
  struct Node {
    std::unique_ptr<RecordingDelegate> d;
    std::unique_ptr<Membership> m;
  };
  GossipConfig cfg_;
  std::uint64_t seed_ = 0;
  std::map<std::string, Node> nodes_;
};

}  // namespace vigil::gossip::test
