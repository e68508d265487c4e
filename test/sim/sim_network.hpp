#pragma once
// SimNetwork: many gossip::Membership cores in one process on a simulated network with a
// logical clock (the pattern of ScyllaDB's test/raft). One seed drives everything: latency,
// loss, the cores' own randomness. Per-link latency distribution, per-node and global loss,
// partitions, crash/restart, graceful leave, per-node clock offset and stalls (a node that
// processes nothing for a while, as under CPU starvation), directional per-link loss, hosts
// that power off (they answer nothing, not even ICMP) and node tags (e.g. `zone`).

#include <cstdint>
#include <functional>
#include <memory>
#include <queue>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "gossip/membership.hpp"

namespace vigil::sim {

using gossip::Duration;
using gossip::TimePoint;
using namespace std::chrono_literals;

struct LinkModel {
  Duration base_latency = 500us;  ///< one-way latency floor
  Duration jitter = 1500us;       ///< plus an exponential with this mean, capped at 20x
  double loss = 0.0;              ///< probability a datagram is lost, every link
};

struct Traffic {
  std::uint64_t datagrams = 0, datagram_bytes = 0, streams = 0, stream_bytes = 0;
};

class SimNetwork {
 public:
  SimNetwork(std::uint64_t seed, gossip::GossipConfig config, LinkModel link = {});
  ~SimNetwork();

  /// Adds a node (not yet joined) with its tags (e.g. {{"zone", "a"}}). Names are "node-<i>",
  /// addresses "10.x.y.z:7946".
  std::size_t add_node(gossip::Tags tags = {});
  /// Every node starts knowing every other node alive (Membership::restore): skips the join
  /// storm, for steady-state measurements of large clusters.
  void warm_start();
  /// Node i joins through node `seed` (a push-pull) at the current time.
  void join(std::size_t i, std::size_t seed);

  void run_for(Duration d);
  void run_until(TimePoint t);
  TimePoint now() const { return now_; }
  TimePoint start() const { return start_; }
  double seconds_since_start() const;

  // ---- faults
  void crash(std::size_t i);      ///< the process dies: no more packets in or out
  void power_off(std::size_t i);  ///< the host goes down: crash() and no ICMP answers either
  void restart(std::size_t i);    ///< a new process under the same name (incarnation 0)
  void leave(std::size_t i);      ///< graceful leave, the node then stops after 2 s
  void set_node_loss(std::size_t i, double p);  ///< loss of datagrams in and out of node i
  void set_loss(double p) { link_.loss = p; }
  /// Loss of datagrams sent by `from` to `to` only (one direction; 0 clears it).
  void set_link_loss(std::size_t from, std::size_t to, double p);
  /// Every datagram (UDP) between a and b is lost, both ways, while streams (TCP) and ICMP
  /// (delivery()) pass: a broken overlay or a firewall rule. `blocked` false lifts it.
  void block_udp(std::size_t a, std::size_t b, bool blocked = true);
  /// Nodes in different non-zero groups cannot exchange anything. Group 0 talks to all.
  void set_partition(const std::vector<int>& group_of_node);
  void heal() { group_.assign(group_.size(), 0); }
  void stall(std::size_t i, Duration d);  ///< node i processes nothing for d
  void set_clock_offset(std::size_t i, Duration offset);

  // ---- observation
  std::size_t size() const { return nodes_.size(); }
  bool up(std::size_t i) const;
  gossip::Membership& node(std::size_t i);
  const std::string& name(std::size_t i) const;
  const gossip::Tags& tags(std::size_t i) const;
  bool host_up(std::size_t i) const;
  /// Probability that one datagram sent now from `from` to `to` arrives: 0 across a partition
  /// or when either host is down, else the product of the global, per-node and per-link
  /// delivery chances. For simulated probers (ICMP) that share the network's faults.
  double delivery(std::size_t from, std::size_t to) const;
  /// One draw of the one-way latency of the link model, from the caller's generator (so a
  /// prober does not perturb the network's own random sequence).
  Duration sample_latency(std::mt19937_64& rng) const;
  std::size_t index_of(const std::string& name) const;
  /// Optional: the Delegate of node i (extension channel), asked when the node is created or
  /// restarted. Not owned; must outlive the network.
  std::function<gossip::Delegate*(std::size_t)> delegate_for;
  /// Called for every membership event: (observer index, event, simulated time).
  std::function<void(std::size_t, const gossip::Event&, TimePoint)> on_event;
  const Traffic& traffic() const { return traffic_; }
  std::uint64_t seed() const { return seed_; }

 public:
  struct Item;  ///< a scheduled delivery or timer (sim_network.cpp)

 private:
  struct Node;
  struct Later {
    bool operator()(const Item* a, const Item* b) const;
  };
  void schedule(std::unique_ptr<Item> item);
  void reschedule_tick(std::size_t i);
  void dispatch(Item& item);
  void drain(std::size_t i);
  bool can_talk(std::size_t a, std::size_t b) const;
  Duration latency() { return sample_latency(rng_); }
  TimePoint local_now(std::size_t i) const;

  std::uint64_t seed_;
  gossip::GossipConfig config_;
  LinkModel link_;
  std::mt19937_64 rng_;
  TimePoint start_, now_;
  std::uint64_t next_seq_ = 0;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::unordered_map<std::string, std::size_t> by_addr_;
  std::vector<int> group_;
  std::unordered_map<std::uint64_t, double> link_loss_;  ///< (from << 32 | to) -> loss
  std::unordered_map<std::uint64_t, bool> udp_blocked_;  ///< (min << 32 | max) -> blocked
  std::priority_queue<Item*, std::vector<Item*>, Later> queue_;
  Traffic traffic_;
};

}  // namespace vigil::sim
