#include "scenarios.hpp"

#include <chrono>
#include <cstdio>
#include <random>
#include <set>

#include "sim_network.hpp"

namespace vigil::sim {
namespace {

using gossip::EventKind;
using gossip::MemberState;
using dsec = std::chrono::duration<double>;

double secs(Duration d) {
  return dsec(d).count();
}

// Runs in steps until pred() or `cap` elapsed; returns seconds taken or -1.
template <class Pred>
double run_until_true(SimNetwork& net, Duration cap, Pred pred, Duration step = 100ms) {
  const TimePoint begin = net.now();
  while (net.now() - begin < cap) {
    if (pred()) return secs(net.now() - begin);
    net.run_for(step);
  }
  return pred() ? secs(net.now() - begin) : -1;
}

bool all_alive(SimNetwork& net) {
  std::size_t up = 0;
  for (std::size_t i = 0; i < net.size(); ++i) up += net.up(i);
  for (std::size_t i = 0; i < net.size(); ++i) {
    if (!net.up(i)) continue;
    auto& m = net.node(i);
    if (m.num_alive() != up) return false;
    for (std::size_t j = 0; j < net.size(); ++j) {
      if (!net.up(j)) continue;
      const auto* peer = m.find(net.name(j));
      if (!peer || peer->state != MemberState::alive) return false;
    }
  }
  return true;
}

// Cheap convergence test for large clusters: every node counts everyone alive.
bool all_counted(SimNetwork& net) {
  std::size_t up = 0;
  for (std::size_t i = 0; i < net.size(); ++i) up += net.up(i);
  for (std::size_t i = 0; i < net.size(); ++i)
    if (net.up(i) && net.node(i).num_alive() != up) return false;
  return true;
}

std::size_t count_state(SimNetwork& net, std::size_t subject, MemberState s) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < net.size(); ++i) {
    if (i == subject || !net.up(i)) continue;
    const auto* m = net.node(i).find(net.name(subject));
    n += m && m->state == s;
  }
  return n;
}

std::size_t survivors(SimNetwork& net, std::size_t except) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < net.size(); ++i) n += i != except && net.up(i);
  return n;
}

}  // namespace

ScenarioResult run_scenario(const ScenarioOptions& o) {
  const auto wall_start = std::chrono::steady_clock::now();
  ScenarioResult r;
  r.scenario = o.scenario, r.nodes = o.nodes, r.seed = o.seed;
  gossip::GossipConfig c = o.config;
  if (o.trust_all_verdicts) c.doubt_returnee_verdicts = false;
  r.suspicion_min_s = secs(gossip::suspicion_min_timeout(c, o.nodes));
  r.suspicion_max_s = r.suspicion_min_s * c.suspicion_max_timeout_mult;
  r.swim_bound_first_s = 1.58 * secs(c.probe_interval) + r.suspicion_min_s;

  SimNetwork net(o.seed, c);
  std::size_t stalled = SIZE_MAX, victim = SIZE_MAX;
  TimePoint first_failed{};
  std::set<std::size_t> failed_seen;
  std::vector<int> side(o.nodes, 1);  // partition scenario: each node's group
  for (std::size_t i = 0; i < o.nodes; ++i) side[i] = i < o.nodes / 2 ? 1 : 2;
  net.on_event = [&](std::size_t observer, const gossip::Event& ev, TimePoint at) {
    if (ev.kind == EventKind::suspect) ++r.suspicions;
    if (ev.kind != EventKind::failed) return;
    const std::size_t subject = net.index_of(ev.member.name);
    if (subject == victim) {
      if (failed_seen.empty()) first_failed = at;
      failed_seen.insert(observer);
      return;
    }
    if (subject == stalled) {
      ++r.failures_of_faulty;
      return;
    }
    if (o.scenario == "partition") {
      // The other side failing is the point; a node failing an up node of its own side (during
      // the cut, or after the heal on a stale verdict from the other side) is a false failure.
      if (net.up(subject) && side[observer] == side[subject]) ++r.false_failures;
      return;
    }
    if (net.up(subject)) ++r.false_failures;
  };

  // Join: node 0 first, the rest through it at random times within the first second.
  for (std::size_t i = 0; i < o.nodes; ++i) net.add_node();
  std::mt19937_64 rng(o.seed ^ 0x5eedull);
  std::vector<std::pair<Duration, std::size_t>> joins;
  if (o.warm) net.warm_start();
  for (std::size_t i = 1; i < o.nodes && !o.warm; ++i)
    joins.emplace_back(Duration(std::uniform_int_distribution<Duration::rep>(
                           0, std::chrono::duration_cast<Duration>(1s).count())(rng)),
                       i);
  std::sort(joins.begin(), joins.end());
  const TimePoint t0 = net.now();
  for (auto& [at, i] : joins) {
    net.run_until(t0 + at);
    net.join(i, 0);
  }
  const Duration converge_cap = std::chrono::seconds(60 + o.nodes / 10);
  if (run_until_true(net, converge_cap, [&] { return all_counted(net); }) >= 0) {
    r.converge_s = secs(net.now() - t0);  // from the first join
  } else {
    r.ok = false;
  }

  // Let the join broadcasts drain, then measure the steady state.
  net.run_for(std::chrono::seconds(o.warm ? 5 : 15));
  const Duration window = std::chrono::duration_cast<Duration>(dsec(o.minutes * 60));
  auto measure_from = net.traffic();
  TimePoint measure_start = net.now();
  auto finish_measure = [&] {
    const auto& t = net.traffic();
    const double s = secs(net.now() - measure_start) * static_cast<double>(o.nodes);
    if (s <= 0) return;
    r.msgs_per_node_s = static_cast<double>((t.datagrams - measure_from.datagrams) +
                                            (t.streams - measure_from.streams)) /
                        s;
    r.bytes_per_node_s = static_cast<double>((t.datagram_bytes - measure_from.datagram_bytes) +
                                             (t.stream_bytes - measure_from.stream_bytes)) /
                         s;
  };

  const std::string& s = o.scenario;
  if (s == "converge") {
    net.run_for(window);
    finish_measure();
  } else if (s == "kill") {
    finish_measure();
    victim = 1 + rng() % (o.nodes - 1);
    const TimePoint killed = net.now();
    net.crash(victim);
    const std::size_t alive = survivors(net, victim);
    const double took =
        run_until_true(net, std::chrono::seconds(300), [&] { return failed_seen.size() >= alive; });
    if (took < 0) r.ok = false;
    if (!failed_seen.empty()) r.detect_first_s = secs(first_failed - killed);
    r.detect_all_s = took;
  } else if (s == "loss") {
    net.set_loss(o.loss);
    net.run_for(window);
    finish_measure();
  } else if (s == "stall") {
    stalled = 1 + rng() % (o.nodes - 1);
    const TimePoint end = net.now() + window;
    while (net.now() < end) {
      net.stall(stalled, 3s);
      net.run_for(30s);
    }
    finish_measure();
    r.heal_s = run_until_true(net, 120s, [&] { return all_alive(net); });
    if (r.heal_s < 0) r.ok = false;
  } else if (s == "partition") {
    net.set_partition(side);
    net.run_for(std::chrono::duration_cast<Duration>(dsec(o.partition_s)));
    net.heal();
    r.heal_s = run_until_true(net, 600s, [&] { return all_alive(net); });
    if (r.heal_s < 0) r.ok = false;
    finish_measure();
  } else if (s == "leave") {
    victim = 1 + rng() % (o.nodes - 1);
    net.leave(victim);
    r.left_all_s = run_until_true(net, 120s, [&] {
      return count_state(net, victim, MemberState::left) == survivors(net, victim);
    });
    if (r.left_all_s < 0 || !failed_seen.empty()) r.ok = false;
  } else if (s == "restart") {
    victim = 1 + rng() % (o.nodes - 1);
    net.crash(victim);
    const std::size_t alive = survivors(net, victim);
    r.detect_all_s = run_until_true(net, 300s, [&] { return failed_seen.size() >= alive; });
    net.restart(victim);
    net.join(victim, 0);
    r.heal_s = run_until_true(net, 120s, [&] { return all_alive(net); });
    if (r.detect_all_s < 0 || r.heal_s < 0) r.ok = false;
  } else {
    r.ok = false;
  }
  r.wall_s = dsec(std::chrono::steady_clock::now() - wall_start).count();
  return r;
}

std::string to_json(const ScenarioResult& r) {
  char buf[1024];
  std::snprintf(buf, sizeof buf,
                "{\"nodes\": %zu, \"scenario\": \"%s\", \"seed\": %llu, \"converge_s\": %.2f, "
                "\"detect_first_s\": %.2f, \"detect_all_s\": %.2f, \"false_failures\": %llu, "
                "\"msgs_per_node_s\": %.2f, \"bytes_per_node_s\": %.1f, \"wall_s\": %.2f, "
                "\"heal_s\": %.2f, \"left_all_s\": %.2f, \"suspicions\": %llu, "
                "\"failures_of_faulty\": %llu, \"suspicion_min_s\": %.2f, "
                "\"suspicion_max_s\": %.2f, \"swim_bound_first_s\": %.2f, \"ok\": %s}",
                r.nodes, r.scenario.c_str(), static_cast<unsigned long long>(r.seed), r.converge_s,
                r.detect_first_s, r.detect_all_s, static_cast<unsigned long long>(r.false_failures),
                r.msgs_per_node_s, r.bytes_per_node_s, r.wall_s, r.heal_s, r.left_all_s,
                static_cast<unsigned long long>(r.suspicions),
                static_cast<unsigned long long>(r.failures_of_faulty), r.suspicion_min_s,
                r.suspicion_max_s, r.swim_bound_first_s, r.ok ? "true" : "false");
  return buf;
}

}  // namespace vigil::sim
