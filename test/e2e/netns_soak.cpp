// netns_soak: the long randomized run of issue 7 (scripts/soak.sh). N agents in network
// namespaces (NetnsCluster); one fault at a time, drawn from a seed: kill -9 (held past the
// detection bound, then restarted), graceful restart (SIGTERM + start), a gossip partition
// (UDP and TCP) into two random groups (held past its bound, then healed), 20% loss on one node's
// link; kills and partitions sometimes run with 10% loss on a bystander. n1 and n2 are never
// killed, so their RSS covers the whole run.
//
// Judged from every agent's own history (/v1/history NodeFailed, recorded where it happened):
//   false failure     a NodeFailed (observer, target, t) that no fault explains: target killed,
//                     or the two on different sides of a partition, during [start, end + grace]
//   missed detection  a kill or partition held longer than its bound, and an observer (running
//                     throughout) has no NodeFailed for the target within the bound
//   not converged     after a restart or heal, not every node alive everywhere within the bound
//   crashes           agent exits the driver did not cause
//   RSS               VmRSS per agent at the start (after warm-up) and at the end; flat means
//                     the long-lived agents grew less than 10% + 1 MiB
// Exit 0 when all of these are 0 and RSS is flat, 1 otherwise, 2 on bad arguments, 77 when not
// root.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>

#include "test/checkers/subprocess.hpp"
#include "test/e2e/netns_cluster.hpp"

using namespace vigil::e2e;
using nlohmann::json;

namespace {

struct Options {
  int nodes = 8;
  double minutes = 30;
  unsigned seed = 1;
  std::string json_out;
  std::string logs;         ///< copy every agent's log here at the end
  int retransmit_mult = 0;  ///< 0: netns_timings()' value
  std::string vigil = VIGIL_BIN;
};

// An interval in which `target` may legitimately be declared failed by `observers`.
struct Window {
  std::set<int> observers;
  int target = 0;
  std::int64_t start_ms = 0, end_ms = 0;
  bool must_detect = false;  ///< held longer than `bound_s`: every observer must see it
  double bound_s = 0;
  std::string what;
};

// One injected fault, for the report: when it ran (wall ms) and what it was.
struct Fault {
  std::int64_t start_ms = 0, end_ms = 0;
  std::string text;
};

struct Stats {
  int faults = 0, kills = 0, restarts = 0, partitions = 0, losses = 0;
  int false_failures = 0, missed = 0, not_converged = 0;
  double max_detect_s = 0, max_converge_s = 0;
  std::vector<std::string> notes;
};

void log_line(Clock::time_point t0, const std::string& s) {
  std::printf("[%7.1fs] %s\n", Seconds(Clock::now() - t0).count(), s.c_str());
  std::fflush(stdout);
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

bool parse(int argc, char** argv, Options* o) {
  for (int k = 1; k < argc; ++k) {
    const std::string a = argv[k];
    auto val = [&]() -> std::string { return k + 1 < argc ? argv[++k] : ""; };
    if (a == "--nodes") {
      o->nodes = std::atoi(val().c_str());
    } else if (a == "--minutes") {
      o->minutes = std::atof(val().c_str());
    } else if (a == "--seed") {
      o->seed = static_cast<unsigned>(std::strtoul(val().c_str(), nullptr, 10));
    } else if (a == "--retransmit-mult") {
      o->retransmit_mult = std::atoi(val().c_str());
    } else if (a == "--logs") {
      o->logs = val();
    } else if (a == "--json") {
      o->json_out = val();
    } else if (a == "--vigil") {
      o->vigil = val();
    } else {
      std::fprintf(stderr,
                   "netns_soak: unknown argument '%s' (want --nodes N --minutes M "
                   "--seed S --json FILE --logs DIR --retransmit-mult K --vigil BIN)\n",
                   a.c_str());
      return false;
    }
  }
  if (o->nodes < 4 || o->nodes > 40 || !(o->minutes > 0)) {
    std::fprintf(stderr, "netns_soak: --nodes must be 4..40 and --minutes > 0\n");
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  if (!parse(argc, argv, &opt)) return 2;
  if (::geteuid() != 0) {
    std::printf("SKIPPED netns_soak: needs root (network namespaces, nft, iptables)\n");
    return 77;
  }
  vigil::gossip::GossipConfig timings = netns_timings();
  if (opt.retransmit_mult > 0) timings.retransmit_mult = opt.retransmit_mult;
  NetnsCluster c(opt.nodes, opt.vigil, "vgsk", timings);
  if (!c.ok()) {
    std::printf("netns setup failed: %s\n", c.error().c_str());
    return 1;
  }
  const int n = opt.nodes;
  std::mt19937 rng(opt.seed);
  auto uniform = [&](double a, double b) { return std::uniform_real_distribution<>(a, b)(rng); };
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<>(lo, hi)(rng); };
  const double detect = c.detect_bound().count();
  const double converge = c.converge_bound().count();
  // A node alone on its side of a partition fails every probe: Lifeguard raises its probe
  // interval up to awareness_max_multiplier times, which stretches its detection.
  const double detect_partition = c.isolated_detect_bound().count();
  const double grace = converge;
  Stats st;
  std::vector<Window> windows;
  std::vector<Fault> faults;
  const auto t0 = Clock::now();
  const std::int64_t start_ms = wall_ms();

  for (int i = 1; i <= n; ++i) c.start(i);
  if (!NetnsCluster::eventually([&] { return c.converged(); }, 60s)) {
    std::printf("the mesh did not converge at start\n");
    return 1;
  }
  log_line(t0, "mesh of " + std::to_string(n) + " converged; detection bound " +
                   fmt("%.1fs", detect) + " (partition " + fmt("%.1fs", detect_partition) +
                   "), convergence bound " + fmt("%.1fs", converge) + ", seed " +
                   std::to_string(opt.seed) + ", retransmit_mult " +
                   std::to_string(timings.retransmit_mult));
  std::this_thread::sleep_for(10s);  // warm-up before the RSS baseline
  std::map<int, long> rss_start, rss_min, rss_max;
  std::set<int> restarted;
  for (int i = 1; i <= n; ++i) rss_start[i] = rss_min[i] = rss_max[i] = c.rss_kib(i);

  auto wait_converged = [&](const std::string& what) {
    const auto t = Clock::now();
    const bool ok = NetnsCluster::eventually([&] { return c.converged(); }, Seconds(converge));
    const double took = Seconds(Clock::now() - t).count();
    st.max_converge_s = std::max(st.max_converge_s, took);
    if (!ok) {
      ++st.not_converged;
      st.notes.push_back("not converged within " + fmt("%.1fs", converge) + " after " + what);
      // Let it settle (bounded) so that one miss does not cascade into the next fault.
      NetnsCluster::eventually([&] { return c.converged(); }, 120s);
    }
    return took;
  };
  auto sleep_s = [](double s) {
    std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<long>(s * 1000)));
  };
  auto check_alive = [&] {
    for (int i = 1; i <= n; ++i) {
      if (!c.running(i)) c.start(i);  // a crash is recorded by running(); bring it back
    }
  };

  const auto deadline = t0 + std::chrono::milliseconds(static_cast<long>(opt.minutes * 60000));
  while (Clock::now() < deadline) {
    check_alive();
    ++st.faults;
    const int kind = pick(0, 99);
    int bystander = 0;
    if (kind < 60 && pick(0, 1) == 1) {  // sometimes 10% loss on a bystander meanwhile
      bystander = pick(1, n);
    }
    if (kind < 35) {  // kill -9, held past the bound, restart
      const int v = pick(3, n);
      if (bystander == v) bystander = 0;
      if (bystander) c.set_loss(bystander, 0.1);
      const double hold = detect + uniform(2, 12);
      Window w;
      for (int i = 1; i <= n; ++i) {
        if (i != v) w.observers.insert(i);
      }
      w.target = v;
      w.start_ms = wall_ms();
      w.must_detect = true;
      w.bound_s = detect;
      w.what = "kill -9 " + c.name(v);
      c.kill9(v);
      restarted.insert(v);
      sleep_s(hold);
      c.start(v);
      w.end_ms = wall_ms();
      windows.push_back(w);
      if (bystander) c.set_loss(bystander, 0);
      faults.push_back({w.start_ms, w.end_ms,
                        w.what + (bystander ? " + 10% loss on " + c.name(bystander) : "")});
      const double took = wait_converged(w.what);
      ++st.kills;
      log_line(t0, w.what + " held " + fmt("%.1fs", hold) +
                       (bystander ? ", 10% loss on " + c.name(bystander) : "") +
                       "; restarted, converged in " + fmt("%.1fs", took));
    } else if (kind < 55) {  // graceful restart: left, then alive; never failed
      const int v = pick(3, n);
      const std::int64_t s = wall_ms();
      c.signal(v, SIGTERM);
      const int code = c.wait_exit(v);
      if (code != 0)
        st.notes.push_back("SIGTERM of " + c.name(v) + ": exit " + std::to_string(code));
      sleep_s(uniform(0, 3));
      c.start(v);
      restarted.insert(v);
      faults.push_back({s, wall_ms(), "graceful restart of " + c.name(v)});
      const double took = wait_converged("restart of " + c.name(v));
      ++st.restarts;
      log_line(t0, "graceful restart of " + c.name(v) + ", converged in " + fmt("%.1fs", took));
    } else if (kind < 80) {  // partition into two random groups
      std::vector<int> all;
      for (int i = 1; i <= n; ++i) all.push_back(i);
      std::shuffle(all.begin(), all.end(), rng);
      const int na = pick(1, n / 2);
      const std::vector<int> a(all.begin(), all.begin() + na), b(all.begin() + na, all.end());
      if (bystander) c.set_loss(bystander, 0.1);
      const double hold = detect_partition + uniform(2, 10);
      const std::int64_t s = wall_ms();
      const std::string err = c.partition(a, b);
      if (!err.empty()) st.notes.push_back("partition: " + err);
      std::string desc = "partition {";
      for (int i : a) desc += " " + c.name(i);
      desc += " } | {";
      for (int i : b) desc += " " + c.name(i);
      desc += " }";
      sleep_s(hold);
      c.heal_partition();
      const std::int64_t e = wall_ms();
      for (const auto& [side, other] : {std::pair{a, b}, std::pair{b, a}}) {
        for (int target : other) {
          Window w;
          w.observers.insert(side.begin(), side.end());
          w.target = target;
          w.start_ms = s;
          w.end_ms = e;
          w.must_detect = true;
          w.bound_s = detect_partition;
          w.what = desc;
          windows.push_back(w);
        }
      }
      if (bystander) c.set_loss(bystander, 0);
      faults.push_back({s, e, desc + (bystander ? " + 10% loss on " + c.name(bystander) : "")});
      const double took = wait_converged(desc);
      ++st.partitions;
      log_line(t0, desc + " held " + fmt("%.1fs", hold) +
                       (bystander ? ", 10% loss on " + c.name(bystander) : "") +
                       "; healed, converged in " + fmt("%.1fs", took));
    } else {  // 20% loss on one node's link, both directions: nothing may fail
      const int v = pick(1, n);
      const double hold = uniform(20, 60);
      const std::int64_t s = wall_ms();
      c.set_loss(v, 0.2);
      sleep_s(hold);
      c.set_loss(v, 0);
      faults.push_back({s, wall_ms(), "20% loss on " + c.name(v)});
      ++st.losses;
      log_line(t0, "20% loss on " + c.name(v) + " for " + fmt("%.1fs", hold));
    }
    for (int i = 1; i <= n; ++i) {
      const long r = c.rss_kib(i);
      if (r > 0 && !restarted.count(i)) {
        rss_min[i] = std::min(rss_min[i], r);
        rss_max[i] = std::max(rss_max[i], r);
      }
    }
    sleep_s(uniform(2, 6));  // quiet time between faults
  }
  check_alive();
  // Let the last suspicion windows close before judging.
  sleep_s(grace);

  // --- judge from every agent's own history ------------------------------------------------
  std::map<int, std::vector<std::pair<int, std::int64_t>>> failed;  // observer -> (target, t)
  for (int o = 1; o <= n; ++o) {
    auto [code, body] =
        c.get(o, "/v1/history?type=NodeFailed&limit=10000&since=" + rfc3339(start_ms));
    const json h = json::parse(body, nullptr, false);
    if (code != 200 || !h.is_array()) {
      st.notes.push_back("history of " + c.name(o) + " unreadable (HTTP " + std::to_string(code) +
                         ")");
      continue;
    }
    for (const auto& r : h) {
      const std::string node = r.value("node", "");
      if (node.size() < 2 || node[0] != 'n') continue;
      failed[o].emplace_back(std::atoi(node.c_str() + 1), parse_rfc3339(r.value("timestamp", "")));
    }
  }
  int failed_events = 0;
  for (const auto& [o, evs] : failed) {
    for (const auto& [target, t] : evs) {
      ++failed_events;
      bool explained = false;
      for (const Window& w : windows) {
        if (w.target == target && w.observers.count(o) && t >= w.start_ms &&
            t <= w.end_ms + static_cast<std::int64_t>(grace * 1000))
          explained = true;
      }
      if (!explained) {
        ++st.false_failures;
        std::string during;
        const auto g = static_cast<std::int64_t>(grace * 1000);
        for (const Fault& f : faults) {
          if (t >= f.start_ms - g && t <= f.end_ms + g) {
            during += (during.empty() ? "" : "; ") + f.text + " [+" +
                      fmt("%.1f", static_cast<double>(f.start_ms - start_ms) / 1000) + "s..+" +
                      fmt("%.1f", static_cast<double>(f.end_ms - start_ms) / 1000) + "s]";
          }
        }
        st.notes.push_back("false failure: " + c.name(o) + " declared " + c.name(target) +
                           " failed at " + rfc3339(t) + " (+" +
                           fmt("%.1f", static_cast<double>(t - start_ms) / 1000) +
                           "s), near: " + (during.empty() ? "no fault" : during));
      }
    }
  }
  int detections = 0;
  for (const Window& w : windows) {
    if (!w.must_detect || (w.end_ms - w.start_ms) < static_cast<std::int64_t>(w.bound_s * 1000))
      continue;
    for (int o : w.observers) {
      std::int64_t first = -1;
      for (const auto& [target, t] : failed[o]) {
        if (target == w.target && t >= w.start_ms && t <= w.end_ms && (first < 0 || t < first))
          first = t;
      }
      const double took = first < 0 ? -1 : static_cast<double>(first - w.start_ms) / 1000.0;
      if (first < 0 || took > w.bound_s) {
        ++st.missed;
        st.notes.push_back("missed: " + c.name(o) + " did not see " + c.name(w.target) +
                           " failed within " + fmt("%.1fs", w.bound_s) + " (" + w.what + ")" +
                           (first < 0 ? "" : ", took " + fmt("%.1fs", took)));
      } else {
        ++detections;
        st.max_detect_s = std::max(st.max_detect_s, took);
      }
    }
  }

  // --- RSS and crashes ----------------------------------------------------------------------
  bool rss_flat = true;
  json rss = json::array();
  std::printf("\nagent  RSS start KiB  RSS end KiB  min..max (long-lived)  note\n");
  for (int i = 1; i <= n; ++i) {
    const long end = c.rss_kib(i);
    const bool long_lived = !restarted.count(i);
    const bool flat = !long_lived || end <= rss_start[i] + rss_start[i] / 10 + 1024;
    rss_flat = rss_flat && flat;
    std::printf("%-6s %13ld %12ld  %8ld..%-8ld       %s\n", c.name(i).c_str(), rss_start[i], end,
                rss_min[i], rss_max[i],
                long_lived ? (flat ? "long-lived, flat" : "long-lived, GREW")
                           : "restarted during the run (end = its last process)");
    rss.push_back({{"node", c.name(i)},
                   {"rss_start_kib", rss_start[i]},
                   {"rss_end_kib", end},
                   {"long_lived", long_lived},
                   {"flat", flat}});
  }
  for (int i = 1; i <= n; ++i) {
    if (c.running(i)) {
      c.signal(i, SIGTERM);
      if (c.wait_exit(i) != 0) st.notes.push_back(c.name(i) + " did not exit 0 on SIGTERM");
    }
  }
  if (!opt.logs.empty()) {
    std::filesystem::create_directories(opt.logs);
    for (int i = 1; i <= n; ++i) {
      std::error_code ec;
      std::filesystem::copy_file(c.dir() + "/" + c.name(i) + ".log",
                                 opt.logs + "/" + c.name(i) + ".log",
                                 std::filesystem::copy_options::overwrite_existing, ec);
    }
  }
  const int crashes = static_cast<int>(c.crashes().size());
  for (const auto& s : c.crashes()) st.notes.push_back("crash: " + s);

  const double ran = Seconds(Clock::now() - t0).count();
  std::printf(
      "\nsoak: %d nodes, %.1f min, seed %u: %d faults (%d kill -9, %d graceful restarts, %d "
      "partitions, %d loss periods)\n"
      "false failures %d (of %d NodeFailed events), missed detections %d (%d detections, max "
      "%.1fs), not converged %d (max %.1fs), crashes %d, RSS %s\n",
      n, ran / 60, opt.seed, st.faults, st.kills, st.restarts, st.partitions, st.losses,
      st.false_failures, failed_events, st.missed, detections, st.max_detect_s, st.not_converged,
      st.max_converge_s, crashes, rss_flat ? "flat" : "GREW");
  for (const auto& s : st.notes) std::printf("  %s\n", s.c_str());
  if (!opt.json_out.empty()) {
    json j = {{"nodes", n},
              {"minutes", ran / 60},
              {"seed", opt.seed},
              {"retransmit_mult", timings.retransmit_mult},
              {"faults", st.faults},
              {"kills", st.kills},
              {"restarts", st.restarts},
              {"partitions", st.partitions},
              {"loss_periods", st.losses},
              {"nodefailed_events", failed_events},
              {"false_failures", st.false_failures},
              {"missed_detections", st.missed},
              {"detections", detections},
              {"max_detect_s", st.max_detect_s},
              {"not_converged", st.not_converged},
              {"max_converge_s", st.max_converge_s},
              {"crashes", crashes},
              {"rss", rss},
              {"rss_flat", rss_flat},
              {"detect_bound_s", detect},
              {"detect_partition_bound_s", detect_partition},
              {"converge_bound_s", converge},
              {"notes", st.notes}};
    std::ofstream(opt.json_out) << j.dump(2) << "\n";
  }
  const bool ok =
      st.false_failures == 0 && st.missed == 0 && st.not_converged == 0 && crashes == 0 && rss_flat;
  std::printf("%s\n", ok ? "SOAK OK" : "SOAK FAILED");
  return ok ? 0 : 1;
}
