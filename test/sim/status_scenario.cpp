#include "status_scenario.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <utility>
#include <vector>

#include "agent/health_state.hpp"
#include "sim_network.hpp"
#include "sim_prober.hpp"

namespace vigil::sim {
namespace {

using dsec = std::chrono::duration<double>;
constexpr std::int64_t kEpochUs = 1'790'000'000'000'000;  // a wall time in 2026
constexpr auto kCheckerInterval = std::chrono::seconds(10);
constexpr auto kTickInterval = std::chrono::seconds(2);  // StatusExtensionOptions::refresh

double rss_peak_mb() {
  std::ifstream f("/proc/self/status");
  std::string key;
  while (f >> key) {
    if (key == "VmHWM:") {
      double kb = 0;
      f >> kb;
      return kb / 1024.0;
    }
    f.ignore(1 << 12, '\n');
  }
  return 0;
}

Percentiles percentiles(std::vector<double> v) {
  Percentiles p;
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {
    return v[std::min(v.size() - 1, static_cast<std::size_t>(std::ceil(q * v.size())) - 1)];
  };
  p.p50 = at(0.5), p.p99 = at(0.99), p.max = v.back();
  return p;
}

struct Totals {
  std::uint64_t bytes = 0, user_bytes = 0, packets = 0, streams = 0, user_msgs = 0;
  std::uint64_t pp_bytes = 0, pp_started = 0, pp_sync = 0, pp_sync_bytes = 0;
};

Totals totals(SimNetwork& net) {
  Totals t;
  for (std::size_t i = 0; i < net.size(); ++i) {
    if (!net.up(i)) continue;
    const gossip::Stats& s = net.node(i).stats();
    t.bytes += s.bytes_out, t.user_bytes += s.user_bytes_out, t.packets += s.packets_out;
    t.user_msgs += s.msgs_out[static_cast<std::size_t>(gossip::MsgType::user)];
    t.streams += s.msgs_out[static_cast<std::size_t>(gossip::MsgType::push_pull)];
    t.pp_bytes += s.push_pull_bytes_out, t.pp_started += s.push_pulls_started;
    t.pp_sync += s.push_pulls_in_sync, t.pp_sync_bytes += s.push_pull_sync_bytes;
  }
  return t;
}

/// One verdict flip on its way through the cluster.
struct Change {
  TimePoint at;
  bool failed = false;
  std::vector<double> arrivals;  ///< seconds after `at`, one per node that stored it
  std::vector<bool> seen;
};

}  // namespace

StatusResult run_status(const StatusOptions& o) {
  const auto wall_start = std::chrono::steady_clock::now();
  StatusResult r;
  r.nodes = o.nodes, r.seed = o.seed, r.checkers = o.checkers, r.churn = o.churn;
  const Duration pp = gossip::push_pull_scaled(o.config.push_pull_interval, o.nodes);
  r.push_pull_interval_s = dsec(pp).count();
  r.window_s = o.window_s > 0 ? o.window_s : std::max(300.0, 2 * r.push_pull_interval_s);

  SimNetwork net(o.seed, o.config, LinkModel{500us, 1500us, o.loss});
  std::vector<std::unique_ptr<agent::HealthState>> health;
  auto wall_us = [&net] {
    return kEpochUs +
           std::chrono::duration_cast<std::chrono::microseconds>(net.now() - net.start()).count();
  };
  for (std::size_t i = 0; i < o.nodes; ++i) {
    agent::HealthOptions opt;
    opt.wall_us = wall_us;
    opt.steady_now = [&net] { return net.now(); };
    health.push_back(std::make_unique<agent::HealthState>("node-" + std::to_string(i), opt));
  }
  net.delegate_for = [&](std::size_t i) -> gossip::Delegate* { return health[i].get(); };
  for (std::size_t i = 0; i < o.nodes; ++i) net.add_node({{"zone", std::string(1, "abc"[i % 3])}});
  net.warm_start();

  // Every node's checkers pass at the start and its first ping rounds fill its reachability
  // summary, and every node already knows all of it (as once the records issued at start-up
  // have spread): the measurement starts from a converged view, not the start-up storm.
  std::mt19937_64 rng(o.seed ^ 0x57a75ull);
  std::vector<std::vector<bool>> failed(o.nodes, std::vector<bool>(o.checkers, false));
  auto probe = [&](std::size_t i, int k) {
    checkers::Probe p =
        failed[i][k] ? checkers::Probe::fail(checkers::Severity::critical, "simulated failure")
                     : checkers::Probe::ok();
    p.checker = "check-" + std::to_string(k);
    p.type = "sim";
    p.detail = "latency " + std::to_string(rng() % 1000) + "us";
    return p;
  };
  // Changes in flight, by (origin, checker); finished ones move to `done`.
  std::map<std::pair<std::size_t, int>, Change> flying;
  std::vector<Change> done;
  auto connect = [&](std::size_t i) {
    health[i]->set_broadcaster([&net, i](std::string key, agent::Bytes payload, int prio) {
      net.node(i).queue_broadcast(std::move(key), std::move(payload), prio);
    });
    health[i]->set_change_handler([&, i](const agent::ProbeChange& ch) {
      if (ch.origin == net.name(i)) return;
      const std::size_t origin = net.index_of(ch.origin);
      const int k = std::atoi(ch.after.checker.c_str() + 6);  // "check-<k>"
      auto it = flying.find({origin, k});
      if (it == flying.end() || it->second.seen[i]) return;
      if ((ch.after.status == agent::WireStatus::failed) != it->second.failed) return;
      it->second.seen[i] = true;
      it->second.arrivals.push_back(dsec(net.now() - it->second.at).count());
    });
  };

  // Cold: every node starts gossiping at once (a DaemonSet rolled out on a whole cluster).
  if (o.cold)
    for (std::size_t i = 0; i < o.nodes; ++i) connect(i);
  for (std::size_t i = 0; i < o.nodes; ++i)
    for (int k = 0; k < o.checkers; ++k) health[i]->set_local_probe(probe(i, k), 0);
  SimIcmpProber prober(net, o.seed ^ 0x9e3779b97f4a7c15ull);
  auto feed = [&](std::size_t i, const std::vector<checkers::PeerResult>& res) {
    health[i]->add_peer_results(res);
  };
  for (int s = 0; s < 30 && !o.cold; ++s) {  // three ping rounds, nothing gossiped yet
    net.run_for(std::chrono::seconds(1));
    prober.step(feed);
    if (s % 2)
      for (auto& h : health) h->tick();
  }
  for (std::size_t i = 0; i < o.nodes && !o.cold; ++i) {
    const agent::NodeHealth* mine = health[i]->find(net.name(i));
    if (!mine) continue;
    std::vector<agent::Bytes> records;
    for (const auto& [name, rec] : mine->probes) records.push_back(agent::encode_record(rec));
    if (mine->reach) records.push_back(agent::encode_record(*mine->reach));
    for (const agent::Bytes& bytes : records)
      for (std::size_t j = 0; j < o.nodes; ++j)
        if (j != i) health[j]->notify_message("warm", bytes);
  }

  if (!o.cold)
    for (std::size_t i = 0; i < o.nodes; ++i) connect(i);

  std::vector<TimePoint> next_run(o.nodes);
  for (auto& t : next_run)
    t = net.now() + Duration(std::uniform_int_distribution<Duration::rep>(
                        0, std::chrono::duration_cast<Duration>(kCheckerInterval).count())(rng));
  std::uniform_real_distribution<double> coin(0, 1);
  const double flip_per_s = o.churn / 60.0;

  const TimePoint begin = net.now();
  const auto window_start = begin + std::chrono::duration_cast<Duration>(dsec(o.warmup_s));
  const auto window_end = window_start + std::chrono::duration_cast<Duration>(dsec(r.window_s));
  // Flips stop 15 s before the end, so each measured one has time to arrive everywhere.
  const auto flips_end = window_end - std::chrono::seconds(15);
  TimePoint last_tick = begin;
  Totals t0;
  bool measuring = false;
  while (net.now() < window_end) {
    net.run_for(std::chrono::seconds(1));
    const TimePoint now = net.now();
    if (!measuring && now >= window_start) {
      t0 = totals(net);
      measuring = true;
    }
    prober.step(feed);
    for (std::size_t i = 0; i < o.nodes; ++i) {
      if (now < next_run[i]) continue;
      next_run[i] += kCheckerInterval;
      for (int k = 0; k < o.checkers; ++k) health[i]->set_local_probe(probe(i, k), 0);
    }
    if (measuring && now < flips_end && o.checkers > 0) {
      for (std::size_t i = 0; i < o.nodes; ++i) {
        if (coin(rng) >= flip_per_s) continue;
        const int k = static_cast<int>(rng() % o.checkers);
        auto key = std::make_pair(i, k);
        if (auto it = flying.find(key); it != flying.end()) {
          done.push_back(std::move(it->second));
          flying.erase(it);
        }
        failed[i][k] = !failed[i][k];
        Change& c = flying[key];
        c.at = now;
        c.failed = failed[i][k];
        c.seen.assign(o.nodes, false);
        c.seen[i] = true;
        health[i]->set_local_probe(probe(i, k), 0);
      }
    }
    if (now - last_tick >= kTickInterval) {
      last_tick = now;
      for (auto& h : health) h->tick();
    }
    if (o.cold && r.cold_converge_s < 0 && (now - begin) % std::chrono::seconds(5) == Duration{}) {
      const std::size_t want = o.nodes * (static_cast<std::size_t>(o.checkers) + 1);
      bool all = true;
      for (std::size_t i = 0; i < o.nodes && all; ++i) all = health[i]->record_count() == want;
      if (all) r.cold_converge_s = dsec(now - begin).count();
    }
  }
  const Totals t1 = totals(net);
  for (auto& [key, c] : flying) done.push_back(std::move(c));

  const double per = 1.0 / (static_cast<double>(o.nodes) * r.window_s);
  r.bytes_per_node_s = static_cast<double>(t1.bytes - t0.bytes) * per;
  r.status_bytes_per_node_s = static_cast<double>(t1.user_bytes - t0.user_bytes) * per;
  r.membership_bytes_per_node_s = r.bytes_per_node_s - r.status_bytes_per_node_s;
  r.msgs_per_node_s =
      static_cast<double>((t1.packets - t0.packets) + (t1.streams - t0.streams)) * per;
  r.status_msgs_per_node_s = static_cast<double>(t1.user_msgs - t0.user_msgs) * per;
  const auto started = t1.pp_started - t0.pp_started, in_sync = t1.pp_sync - t0.pp_sync;
  if (started) {
    r.push_pull_bytes_per_exchange = static_cast<double>(t1.pp_bytes - t0.pp_bytes) / started;
    r.push_pull_in_sync_share = static_cast<double>(in_sync) / started;
  }
  if (in_sync)
    r.push_pull_in_sync_bytes = static_cast<double>(t1.pp_sync_bytes - t0.pp_sync_bytes) / in_sync;

  std::vector<double> r50, r99, r100;
  const std::size_t others = o.nodes - 1;
  for (Change& c : done) {
    ++r.changes;
    std::sort(c.arrivals.begin(), c.arrivals.end());
    auto nth = [&](double q) {
      const std::size_t need = static_cast<std::size_t>(std::ceil(q * others));
      return need == 0 ? 0.0 : need <= c.arrivals.size() ? c.arrivals[need - 1] : -1.0;
    };
    const double a = nth(0.5), b = nth(0.99), all = nth(1.0);
    if (all < 0) ++r.changes_incomplete;
    if (a >= 0) r50.push_back(a);
    if (b >= 0) r99.push_back(b);
    if (all >= 0) r100.push_back(all);
  }
  r.reach50_s = percentiles(r50), r.reach99_s = percentiles(r99), r.reach100_s = percentiles(r100);
  r.state_bytes_per_node = static_cast<double>(health[0]->full_state().size());
  r.records_per_node = static_cast<double>(health[0]->record_count());
  r.rss_peak_mb = rss_peak_mb();
  r.ok = r.changes_incomplete == 0;
  r.wall_s = dsec(std::chrono::steady_clock::now() - wall_start).count();
  return r;
}

std::string to_json(const StatusResult& r) {
  char buf[2048];
  auto pc = [](const Percentiles& p) {
    char b[128];
    std::snprintf(b, sizeof b, "{\"p50\": %.2f, \"p99\": %.2f, \"max\": %.2f}", p.p50, p.p99,
                  p.max);
    return std::string(b);
  };
  std::snprintf(
      buf, sizeof buf,
      "{\"scenario\": \"status\", \"nodes\": %zu, \"seed\": %llu, \"checkers\": %d, "
      "\"churn\": %.4f, \"window_s\": %.0f, \"push_pull_interval_s\": %.0f, "
      "\"bytes_per_node_s\": %.1f, \"membership_bytes_per_node_s\": %.1f, "
      "\"status_bytes_per_node_s\": %.1f, \"msgs_per_node_s\": %.2f, "
      "\"status_msgs_per_node_s\": %.2f, \"push_pull_bytes_per_exchange\": %.0f, "
      "\"push_pull_in_sync_bytes\": %.0f, \"push_pull_in_sync_share\": %.3f, \"changes\": %llu, "
      "\"changes_incomplete\": %llu, \"reach50_s\": %s, \"reach99_s\": %s, \"reach100_s\": %s, "
      "\"state_bytes_per_node\": %.0f, \"records_per_node\": %.0f, \"rss_peak_mb\": %.0f, "
      "\"cold_converge_s\": %.0f, \"wall_s\": %.1f, \"ok\": %s}",
      r.nodes, static_cast<unsigned long long>(r.seed), r.checkers, r.churn, r.window_s,
      r.push_pull_interval_s, r.bytes_per_node_s, r.membership_bytes_per_node_s,
      r.status_bytes_per_node_s, r.msgs_per_node_s, r.status_msgs_per_node_s,
      r.push_pull_bytes_per_exchange, r.push_pull_in_sync_bytes, r.push_pull_in_sync_share,
      static_cast<unsigned long long>(r.changes),
      static_cast<unsigned long long>(r.changes_incomplete), pc(r.reach50_s).c_str(),
      pc(r.reach99_s).c_str(), pc(r.reach100_s).c_str(), r.state_bytes_per_node, r.records_per_node,
      r.rss_peak_mb, r.cold_converge_s, r.wall_s, r.ok ? "true" : "false");
  return buf;
}

}  // namespace vigil::sim
