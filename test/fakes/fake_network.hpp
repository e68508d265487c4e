#pragma once
// FakeNetwork: wires a few gossip::Membership instances together in-process with a ManualClock
// (the idea of memberlist's mock_transport.go, without sockets or sleeps). Datagrams and stream
// exchanges are delivered instantly and in order; links can be cut one way or both ways, a
// node can be isolated, and all datagrams can be dropped while streams still pass (to test
// push-pull and the TCP fallback probe alone). Header-only, single-threaded, deterministic.
//
// For large clusters, latency and loss use test/sim/ instead.
//
// Ownership: the network does not own the Memberships; attach() them and detach() (or
// attach a replacement with the same address) before destroying one.

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "gossip/membership.hpp"
#include "test/fakes/manual_clock.hpp"

namespace vigil::gossip::test {

class FakeNetwork {
 public:
  /// One stream exchange, as the network saw it.
  struct StreamRecord {
    Address from, to;
    StreamPurpose purpose;
    std::size_t request_bytes = 0, reply_bytes = 0;
    bool ok = false;  ///< the target answered with a frame
  };
  struct Counters {
    std::uint64_t datagrams = 0;          ///< delivered
    std::uint64_t datagrams_dropped = 0;  ///< cut link, isolated or unknown target
    std::uint64_t streams = 0;            ///< answered
    std::uint64_t streams_failed = 0;     ///< refused (cut, unknown) or closed without reply
  };

  explicit FakeNetwork(ManualClock& clock) : clock_(clock) {}

  /// Adds (or replaces) the node reachable at m.self().addr.
  void attach(Membership& m) { nodes_[m.self().addr] = &m; }
  /// The node at `addr` is gone (process killed): traffic to it is dropped / refused.
  void detach(const Address& addr) { nodes_.erase(addr); }
  Membership* node(const Address& addr) const {
    auto it = nodes_.find(addr);
    return it == nodes_.end() ? nullptr : it->second;
  }

  // ---- faults ---------------------------------------------------------------------------
  void cut_one_way(const Address& from, const Address& to) { cuts_.insert({from, to}); }
  void cut(const Address& a, const Address& b) { cut_one_way(a, b), cut_one_way(b, a); }
  void heal(const Address& a, const Address& b) { cuts_.erase({a, b}), cuts_.erase({b, a}); }
  void isolate(const Address& a) { isolated_.insert(a); }
  void rejoin(const Address& a) { isolated_.erase(a); }
  void heal_all() { cuts_.clear(), isolated_.clear(), drop_datagrams = false; }
  /// Drop every datagram (streams still pass).
  bool drop_datagrams = false;
  /// Called for every datagram that is about to be delivered (after the fault checks).
  std::function<void(const Address& from, const Address& to, const Bytes& bytes)> on_datagram;

  bool reachable(const Address& from, const Address& to) const {
    return !isolated_.count(from) && !isolated_.count(to) && !cuts_.count({from, to}) &&
           nodes_.count(to);
  }

  // ---- driving --------------------------------------------------------------------------
  /// Drains every node's output and delivers it, repeatedly, until nobody has anything to
  /// send (bounded: a ping-pong storm fails loudly instead of hanging).
  void deliver() {
    for (int round = 0; round < 10000; ++round) {
      bool any = false;
      // Collect first: delivering may reach into any node.
      std::vector<std::pair<Address, Output>> outs;
      for (auto& [addr, m] : nodes_) {
        Output o = m->take_output();
        if (o.empty()) continue;
        any = true;
        outs.emplace_back(addr, std::move(o));
      }
      if (!any) return;
      for (auto& [from, o] : outs) {
        auto& ev = events_[from];
        ev.insert(ev.end(), o.events.begin(), o.events.end());
        for (auto& d : o.datagrams) send_datagram(from, d);
        for (auto& s : o.streams) send_stream(from, s);
      }
    }
    throw std::runtime_error("FakeNetwork::deliver: traffic did not settle");
  }

  /// Advances the clock by `d`, ticks every node that is due, then delivers.
  void step(Duration d) {
    clock_.advance(d);
    const TimePoint now = clock_.now();
    for (auto& [addr, m] : nodes_)
      if (m->next_deadline() <= now) m->tick(now);
    deliver();
  }
  void run_for(Duration total, Duration step_size = std::chrono::milliseconds(10)) {
    for (Duration t{}; t < total; t += step_size) step(step_size);
  }
  /// Steps until `pred()` holds or `max` simulated time passed; returns pred().
  template <class Pred>
  bool run_until(Pred pred, Duration max, Duration step_size = std::chrono::milliseconds(10)) {
    for (Duration t{}; t < max; t += step_size) {
      if (pred()) return true;
      step(step_size);
    }
    return pred();
  }

  // ---- observations ---------------------------------------------------------------------
  /// Membership events emitted by the node at `addr` so far.
  const std::vector<Event>& events(const Address& addr) { return events_[addr]; }
  void clear_events() { events_.clear(); }
  /// True when `addr` emitted an event of `kind` about `member`.
  bool saw(const Address& addr, EventKind kind, const std::string& member) {
    const auto& ev = events_[addr];
    return std::any_of(ev.begin(), ev.end(),
                       [&](const Event& e) { return e.kind == kind && e.member.name == member; });
  }
  const std::vector<StreamRecord>& stream_log() const { return streams_; }
  const Counters& counters() const { return counters_; }

 private:
  void send_datagram(const Address& from, const Datagram& d) {
    if (drop_datagrams || !reachable(from, d.to)) {
      ++counters_.datagrams_dropped;
      return;
    }
    if (on_datagram) on_datagram(from, d.to, d.bytes);
    ++counters_.datagrams;
    nodes_[d.to]->on_datagram(from, d.bytes, clock_.now());
  }

  void send_stream(const Address& from, const StreamRequest& s) {
    StreamRecord rec{from, s.to, s.purpose, s.bytes.size(), 0, false};
    Bytes reply;
    if (reachable(from, s.to) && reachable(s.to, from))
      reply = nodes_[s.to]->on_stream(from, s.bytes, clock_.now());
    rec.ok = !reply.empty();
    rec.reply_bytes = reply.size();
    streams_.push_back(rec);
    ++(rec.ok ? counters_.streams : counters_.streams_failed);
    Membership* src = node(from);
    if (!src) return;
    if (rec.ok) {
      src->on_stream_reply(s.id, std::span<const std::uint8_t>(reply), clock_.now());
    } else {
      src->on_stream_reply(s.id, std::nullopt, clock_.now());
    }
  }

  ManualClock& clock_;
  std::map<Address, Membership*> nodes_;
  std::set<std::pair<Address, Address>> cuts_;
  std::set<Address> isolated_;
  std::map<Address, std::vector<Event>> events_;
  std::vector<StreamRecord> streams_;
  Counters counters_;
};

}  // namespace vigil::gossip::test
