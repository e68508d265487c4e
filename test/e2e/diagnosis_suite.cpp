// diagnosis_suite: the diagnosis scenario suite of issue 13 point 4 (scripts/diagnosis-suite.sh).
// Nine real agents in network namespaces (NetnsCluster), three zones tagged zone=a|b|c
// ({n1,n2,n3}, {n4,n5,n6}, {n7,n8,n9}). For each fault and seed: wait for a clean baseline
// (everybody alive everywhere, no diagnosis entry anywhere), wait a random offset within the
// probe interval, inject the fault, hold it, heal it, and wait until every entry has cleared.
// Meanwhile every running agent's /v1/status is polled every 250 ms (from inside its own
// namespace) and each entry of its "diagnosis" array is judged by the table below.
//
// Faults (the seed picks the culprit node/zone/link and the offset, deterministically):
//   power  kill -9 of node X; healed by starting X again
//   cut    X's veth on the bridge down; healed by setting it up
//   zone   zone Z cut from the two others (UDP, TCP and ICMP dropped in the bridge)
//   udp    UDP alone dropped between zones A and B (TCP and ICMP pass: a broken overlay)
//   asym   60% of X's packets to Y dropped (one way, on one link; iptables in X's namespace)
//   lossy  20% loss on X's link, both directions
//   b2b    cut of X held, healed, and zone Z partitioned at the same moment (two faults back to
//          back: the second must not inherit the first's evidence)
//   mtu    X's veth on the bridge at MTU 1280 while X sends 1500 (large packets blackholed);
//          only meaningful once the `mtu-blackhole` kind exists (the script checks)
//
// JUDGING TABLE (rule_for() implements exactly this). An entry is RIGHT, PARTIAL (names only
// the culprit, with an imprecise kind: neither right nor wrong), NEUTRAL (kind `investigating`)
// or WRONG (everything else: a healthy node or zone named, or a wrong kind; transitional
// entries count).
//   fault      observer     RIGHT                                       PARTIAL
//   power X    survivors    node-unreachable node=X                     node-isolated node=X
//   cut X      others       node-unreachable|node-isolated node=X       -
//              X itself     node-isolated node=X                        -
//   zone Z     everyone     zone-partition, zones contain Z             -
//   udp A|B    everyone     udp-blocked, zones = {A,B}                  udp-blocked naming only
//                                                                       nodes/zones of A and B
//   asym X->Y  everyone     asymmetric-link node=X, nodes = {X,Y}       link-down nodes = {X,Y}
//   lossy X    everyone     lossy-node node=X                           -
//   mtu X      everyone     mtu-blackhole node=X (or node "" and        mtu-blackhole, nodes
//                           nodes = {X})                                contain X
//   b2b X,Z    phase 1 = cut X, phase 2 = zone Z (an entry of phase 1 shown in phase 2 is WRONG,
//              marked stale)
// After the heal, RIGHT/PARTIAL entries of the fault are only "not cleared yet"; anything else
// is WRONG (phase "heal").
//
// Recorded per (fault, seed), one JSON line: per observer the time until a RIGHT entry is shown
// (from the fault), for cut the time until X names itself isolated, every WRONG entry (kind,
// node, nodes, zones, evidence, first time, polls), and after the heal the time until the
// observer's diagnosis is empty for good (empty for 5 s in a row; at most 90 s).
// Summary per fault against the issue's targets:
//   right at every observer within 20 s (power, cut, zone, udp, b2b's zone phase);
//   the cut node names itself isolated within 10 s (cut, b2b's cut phase);
//   zero wrong culprits over >= 10 seeds (fewer seeds: not established, counted as missed);
//   every entry cleared within 60 s after the heal.
// Exit 0 when every target is met, 1 otherwise, 2 on bad arguments, 77 when not root,
// 130 when interrupted (the namespaces are removed in every case).
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "test/e2e/netns_cluster.hpp"

using namespace vigil::e2e;
using nlohmann::json;

namespace {

constexpr int kNodes = 9;
constexpr int kPerZone = 3;
const char* const kZones[] = {"a", "b", "c"};
constexpr auto kPoll = std::chrono::milliseconds(250);
// The issue's targets.
constexpr double kRightTarget = 20, kIsolatedTarget = 10, kClearTarget = 60;
constexpr int kSeedsTarget = 10;
// After the heal: cleared = empty for kClearStable in a row; given up after kClearMax.
constexpr double kClearStable = 5, kClearMax = 90;

std::atomic<bool> g_stop{false};
void on_signal(int) {
  g_stop = true;
}

std::string zone_of(int i) {
  return kZones[(i - 1) / kPerZone];
}
std::string nm(int i) {
  return "n" + std::to_string(i);
}
std::vector<int> zone_nodes(const std::string& z) {
  std::vector<int> v;
  for (int i = 1; i <= kNodes; ++i)
    if (zone_of(i) == z) v.push_back(i);
  return v;
}
double since(Clock::time_point t) {
  return Seconds(Clock::now() - t).count();
}
std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}
// Sleeps up to `s` seconds, waking early on SIGINT/SIGTERM; false when interrupted.
bool nap(double s) {
  const auto end = Clock::now() + std::chrono::milliseconds(static_cast<long>(s * 1000));
  while (Clock::now() < end) {
    if (g_stop) return false;
    std::this_thread::sleep_for(std::min<Clock::duration>(end - Clock::now(), 100ms));
  }
  return !g_stop;
}

// --- the judging table ------------------------------------------------------------------------

enum class Verdict { right, partial, neutral, wrong };

struct Entry {
  std::string kind, node, evidence;
  std::set<std::string> nodes, zones;
  std::vector<std::string> zones_list;
  static Entry from(const json& j) {
    Entry e;
    e.kind = j.value("kind", "");
    e.node = j.value("node", "");
    e.evidence = j.value("evidence", "");
    for (const auto& n : j.value("nodes", json::array()))
      if (n.is_string()) e.nodes.insert(n.get<std::string>());
    for (const auto& z : j.value("zones", json::array())) {
      if (!z.is_string()) continue;
      e.zones.insert(z.get<std::string>());
      e.zones_list.push_back(z.get<std::string>());
    }
    return e;
  }
  std::string key() const {
    std::string k = kind + "|" + node + "|";
    for (const auto& n : nodes) k += n + ",";
    k += "|";
    for (const auto& z : zones_list) k += z + ",";
    return k;
  }
  json to_json() const {
    return json{{"kind", kind},
                {"node", node},
                {"nodes", std::vector<std::string>(nodes.begin(), nodes.end())},
                {"zones", zones_list},
                {"evidence", evidence}};
  }
};

// One phase's fault as the judge sees it.
struct Rule {
  std::string fault;  ///< power, cut, zone, udp, asym, lossy, mtu
  int x = 0, y = 0;   ///< culprit node(s)
  std::string z, z2;  ///< culprit zone(s)
  std::string text() const {
    if (fault == "power") return "power-off " + nm(x);
    if (fault == "cut") return "link cut " + nm(x);
    if (fault == "zone") return "zone " + z + " partitioned";
    if (fault == "udp") return "UDP cut " + z + "|" + z2;
    if (fault == "asym") return "60% loss " + nm(x) + "->" + nm(y);
    if (fault == "lossy") return "20% loss at " + nm(x);
    if (fault == "mtu") return "MTU 1280 on " + nm(x) + "'s link";
    return fault;
  }
  /// Observers that must show a RIGHT entry (power: the culprit is down).
  bool observes(int obs) const { return !(fault == "power" && obs == x); }
  /// Whether this phase has an isolated-self measurement (cut: X names itself isolated).
  bool has_isolated_self() const { return fault == "cut"; }
  bool isolated_self(int obs, const Entry& e) const {
    return fault == "cut" && obs == x && e.kind == "node-isolated" && e.node == nm(x);
  }
  Verdict judge(int obs, const Entry& e) const {
    if (e.kind == "investigating") return Verdict::neutral;
    const std::string X = nm(x), Y = y ? nm(y) : "";
    if (fault == "power") {
      if (e.kind == "node-unreachable" && e.node == X) return Verdict::right;
      if (e.kind == "node-isolated" && e.node == X) return Verdict::partial;
      return Verdict::wrong;
    }
    if (fault == "cut") {
      if (obs == x)
        return e.kind == "node-isolated" && e.node == X ? Verdict::right : Verdict::wrong;
      if ((e.kind == "node-unreachable" || e.kind == "node-isolated") && e.node == X)
        return Verdict::right;
      return Verdict::wrong;
    }
    if (fault == "zone") {
      return e.kind == "zone-partition" && e.zones.count(z) ? Verdict::right : Verdict::wrong;
    }
    if (fault == "udp") {
      if (e.kind != "udp-blocked") return Verdict::wrong;
      if (e.zones == std::set<std::string>{z, z2}) return Verdict::right;
      for (const auto& zz : e.zones)
        if (zz != z && zz != z2) return Verdict::wrong;
      auto inside = [&](const std::string& n) {
        if (n.empty()) return true;
        const int i = std::atoi(n.c_str() + 1);
        return i >= 1 && i <= kNodes && (zone_of(i) == z || zone_of(i) == z2);
      };
      if (!inside(e.node)) return Verdict::wrong;
      for (const auto& n : e.nodes)
        if (!inside(n)) return Verdict::wrong;
      return Verdict::partial;
    }
    if (fault == "asym") {
      const std::set<std::string> xy{X, Y};
      if (e.kind == "asymmetric-link" && e.node == X && e.nodes == xy) return Verdict::right;
      if (e.kind == "link-down" && e.nodes == xy) return Verdict::partial;
      return Verdict::wrong;
    }
    if (fault == "lossy") {
      return e.kind == "lossy-node" && e.node == X ? Verdict::right : Verdict::wrong;
    }
    if (fault == "mtu") {
      if (e.kind != "mtu-blackhole") return Verdict::wrong;
      if (e.node == X || (e.node.empty() && e.nodes == std::set<std::string>{X}))
        return Verdict::right;
      if (e.nodes.count(X) && (e.node.empty() || e.node == X || e.nodes.count(e.node)))
        return Verdict::partial;
      return Verdict::wrong;
    }
    return Verdict::wrong;
  }
};

// --- polling ----------------------------------------------------------------------------------

struct Wrong {
  int observer = 0;
  std::string phase;
  double first_s = 0;  ///< since the phase began
  int polls = 0;
  bool stale = false;  ///< RIGHT for the previous phase's fault (b2b)
  Entry e;
};

struct ObsPhase {
  double right_s = -1, isolated_s = -1;
  int polls = 0, failed_polls = 0, gaps = 0;  ///< gaps: polls after the first RIGHT without one
};

struct Phase {
  std::string name;  ///< fault, fault1, fault2, heal
  Rule rule;
  std::optional<Rule> previous;  ///< for stale marks
  Clock::time_point start;
  std::map<int, ObsPhase> obs;
};

// Polls every agent in its own thread; judges under one mutex.
class Poller {
 public:
  explicit Poller(NetnsCluster& c) : c_(c) {
    for (int i = 1; i <= kNodes; ++i) threads_.emplace_back([this, i] { loop(i); });
  }
  ~Poller() { stop(); }
  void stop() {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (stopped_) return;
      stopped_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  void begin(const std::string& name, const Rule& rule, std::optional<Rule> previous = {}) {
    std::lock_guard<std::mutex> l(mu_);
    phases_.push_back(Phase{name, rule, previous, Clock::now(), {}});
    for (int i = 1; i <= kNodes; ++i) {
      empty_since_[i] = -1;
      ever_shown_[i] = false;
    }
  }
  /// Heal phase: whether every observer has been empty for `stable` seconds in a row.
  bool cleared(double stable) {
    std::lock_guard<std::mutex> l(mu_);
    const double now = since(phases_.back().start);
    for (int i = 1; i <= kNodes; ++i) {
      if (empty_since_[i] < 0 || now - empty_since_[i] < stable) return false;
    }
    return true;
  }
  /// Per observer: the start (since the heal) of its final empty streak, -1 when not empty.
  std::map<int, double> clear_times() {
    std::lock_guard<std::mutex> l(mu_);
    return empty_since_;
  }
  std::vector<Phase> phases() {
    std::lock_guard<std::mutex> l(mu_);
    return phases_;
  }
  std::vector<Wrong> wrongs() {
    std::lock_guard<std::mutex> l(mu_);
    std::vector<Wrong> out;
    for (const auto& [k, w] : wrong_) out.push_back(w);
    std::sort(out.begin(), out.end(), [](const Wrong& a, const Wrong& b) {
      return std::tie(a.phase, a.first_s) < std::tie(b.phase, b.first_s);
    });
    return out;
  }
  /// Phase-relative RIGHT at every observer that must show it; -1 when one never did.
  static double right_all(const Phase& p) {
    double worst = 0;
    for (int i = 1; i <= kNodes; ++i) {
      if (!p.rule.observes(i)) continue;
      auto it = p.obs.find(i);
      if (it == p.obs.end() || it->second.right_s < 0) return -1;
      worst = std::max(worst, it->second.right_s);
    }
    return worst;
  }

 private:
  void loop(int i) {
    for (;;) {
      const auto t = Clock::now();
      {
        std::unique_lock<std::mutex> l(mu_);
        if (stopped_) return;
      }
      // A stopped agent (power-off) refuses at once: a failed poll, nothing judged.
      const std::pair<int, std::string> r = c_.get(i, "/v1/status");
      json body =
          r.first == 200 || r.first == 503 ? json::parse(r.second, nullptr, false) : json(nullptr);
      record(i, t, body);
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait_until(l, t + kPoll, [&] { return stopped_; });
      if (stopped_) return;
    }
  }
  void record(int i, Clock::time_point t, const json& body) {
    std::lock_guard<std::mutex> l(mu_);
    if (phases_.empty()) return;
    Phase& p = phases_.back();
    if (t < p.start) return;  // a poll begun before this phase
    const double at = Seconds(t - p.start).count();
    ObsPhase& o = p.obs[i];
    if (!body.is_object() || !body.contains("diagnosis")) {
      ++o.failed_polls;
      return;
    }
    ++o.polls;
    const json& diag = body["diagnosis"];
    const bool heal = p.name == "heal";
    bool any = false, right = false;
    for (const auto& d : diag) {
      any = true;
      const Entry e = Entry::from(d);
      const Verdict v = p.rule.judge(i, e);
      if (v == Verdict::right) right = true;
      if (!heal && p.rule.isolated_self(i, e) && o.isolated_s < 0) o.isolated_s = at;
      if (v != Verdict::wrong) continue;
      const std::string key = std::to_string(i) + "#" + p.name + "#" + e.key();
      auto it = wrong_.find(key);
      if (it == wrong_.end()) {
        Wrong w;
        w.observer = i;
        w.phase = p.name;
        w.first_s = at;
        w.e = e;
        w.stale = p.previous && p.previous->judge(i, e) == Verdict::right;
        it = wrong_.emplace(key, w).first;
        std::printf("    WRONG at %s (%s +%.2fs): %s node=%s %s\n", nm(i).c_str(), p.name.c_str(),
                    at, e.kind.c_str(), e.node.c_str(), e.evidence.c_str());
        std::fflush(stdout);
      }
      ++it->second.polls;
    }
    if (!heal) {
      if (right && o.right_s < 0) o.right_s = at;
      if (!right && o.right_s >= 0) ++o.gaps;
    } else {
      if (any) {
        empty_since_[i] = -1;
        ever_shown_[i] = true;
      } else if (empty_since_[i] < 0) {
        empty_since_[i] = at;
      }
    }
  }

  NetnsCluster& c_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;
  std::vector<std::thread> threads_;
  std::vector<Phase> phases_;
  std::map<std::string, Wrong> wrong_;
  std::map<int, double> empty_since_;
  std::map<int, bool> ever_shown_;
};

// --- options, faults ----------------------------------------------------------------------------

struct Options {
  int seeds = 2, first_seed = 1;
  std::vector<std::string> faults = {"power", "cut", "zone", "udp", "asym", "lossy", "b2b"};
  std::vector<std::string> missing;  ///< faults the product cannot name yet (listed, not run)
  std::string json_out = "diagnosis-suite.json";
  std::string vigil = VIGIL_BIN;
};

const std::set<std::string> kKnownFaults = {"power", "cut",   "zone", "udp",
                                            "asym",  "lossy", "b2b",  "mtu"};

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

bool parse(int argc, char** argv, Options* o) {
  for (int k = 1; k < argc; ++k) {
    const std::string a = argv[k];
    auto val = [&]() -> std::string { return k + 1 < argc ? argv[++k] : ""; };
    if (a == "--seeds") {
      o->seeds = std::atoi(val().c_str());
    } else if (a == "--first-seed") {
      o->first_seed = std::atoi(val().c_str());
    } else if (a == "--faults") {
      o->faults = split(val());
    } else if (a == "--missing") {
      o->missing = split(val());
    } else if (a == "--json") {
      o->json_out = val();
    } else if (a == "--vigil") {
      o->vigil = val();
    } else {
      std::fprintf(stderr,
                   "diagnosis_suite: unknown argument '%s' (want --seeds N --first-seed S "
                   "--faults a,b,... --missing a,... --json FILE --vigil BIN)\n",
                   a.c_str());
      return false;
    }
  }
  if (o->seeds < 1 || o->seeds > 100) {
    std::fprintf(stderr, "diagnosis_suite: --seeds must be 1..100\n");
    return false;
  }
  for (const auto& f : o->faults) {
    if (!kKnownFaults.count(f)) {
      std::fprintf(stderr,
                   "diagnosis_suite: unknown fault '%s' (power,cut,zone,udp,asym,lossy,"
                   "b2b,mtu)\n",
                   f.c_str());
      return false;
    }
  }
  return true;
}

std::uint32_t fnv(const std::string& s) {
  std::uint32_t h = 2166136261u;
  for (unsigned char ch : s) h = (h ^ ch) * 16777619u;
  return h;
}

// One (fault, seed): the culprits and the offset, drawn from the seed.
struct Case {
  std::string fault;
  int seed = 0;
  Rule first, second;  ///< second: b2b's zone phase
  double offset_s = 0;
};

Case draw(const std::string& fault, int seed, double probe_interval_s) {
  std::seed_seq sq{static_cast<std::uint32_t>(seed), fnv(fault)};
  std::mt19937 rng(sq);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<>(lo, hi)(rng); };
  Case c;
  c.fault = fault;
  c.seed = seed;
  c.offset_s = std::uniform_real_distribution<>(0, probe_interval_s)(rng);
  Rule& r = c.first;
  r.fault = fault;
  if (fault == "zone") {
    r.z = kZones[pick(0, 2)];
  } else if (fault == "udp") {
    const int a = pick(0, 2);
    const int b = (a + pick(1, 2)) % 3;
    r.z = kZones[std::min(a, b)];
    r.z2 = kZones[std::max(a, b)];
  } else if (fault == "asym") {
    r.x = pick(1, kNodes);
    r.y = (r.x - 1 + pick(1, kNodes - 1)) % kNodes + 1;
  } else if (fault == "b2b") {
    r.fault = "cut";
    r.x = pick(1, kNodes);
    c.second.fault = "zone";
    c.second.z = kZones[pick(0, 2)];
  } else {
    r.x = pick(1, kNodes);
  }
  return c;
}

// Injects (on = true) or heals a phase's fault.
std::string apply(NetnsCluster& c, const Rule& r, bool on, const std::vector<std::string>& tags_x) {
  if (r.fault == "power") {
    if (on) {
      c.kill9(r.x);
      return {};
    }
    return c.start_with(r.x, tags_x) ? "" : "could not restart " + nm(r.x);
  }
  if (r.fault == "cut") return c.cut(r.x, on);
  if (r.fault == "zone") {
    if (!on) return c.heal_partition();
    std::vector<int> rest;
    for (int i = 1; i <= kNodes; ++i)
      if (zone_of(i) != r.z) rest.push_back(i);
    return c.partition(zone_nodes(r.z), rest, "udp, tcp, icmp");
  }
  if (r.fault == "udp") {
    if (!on) return c.heal_partition();
    return c.partition(zone_nodes(r.z), zone_nodes(r.z2), "udp");
  }
  if (r.fault == "asym") {
    if (!on) return c.set_loss(r.x, 0);  // flushes X's INPUT/OUTPUT chains
    return c.exec(r.x, {"iptables", "-A", "OUTPUT", "-o", "eth0", "-d", c.ip(r.y), "-m",
                        "statistic", "--mode", "random", "--probability", "0.6000", "-j", "DROP"});
  }
  if (r.fault == "lossy") return c.set_loss(r.x, on ? 0.2 : 0);
  if (r.fault == "mtu") {
    return c.exec_sw({"ip", "link", "set", "v" + std::to_string(r.x), "mtu", on ? "1280" : "1500"});
  }
  return "unknown fault " + r.fault;
}

// Everybody alive everywhere and no diagnosis entry anywhere (bounded).
bool clean_baseline(NetnsCluster& c, Seconds timeout, std::string* leftovers) {
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(timeout);
  for (;;) {
    bool ok = c.converged();
    std::string left;
    for (int i = 1; ok && i <= kNodes; ++i) {
      const json s = c.get_json(i, "/v1/status");
      if (!s.is_object()) {
        ok = false;
        break;
      }
      for (const auto& d : s.value("diagnosis", json::array())) {
        ok = false;
        left += nm(i) + ": " + d.dump() + "; ";
      }
    }
    if (ok) return true;
    *leftovers = left.empty() ? "not converged" : left;
    if (Clock::now() >= deadline || !nap(0.5)) return false;
  }
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  const auto idx = static_cast<std::size_t>(std::ceil(p * static_cast<double>(v.size())) - 1);
  return v[std::min(idx, v.size() - 1)];
}

json num_or_null(double v) {
  return v < 0 ? json(nullptr) : json(std::round(v * 100) / 100);
}

// Per fault, what the summary needs from each run.
struct RunResult {
  int seed = 0;
  double right_all = -1;  ///< of the phase the right-time target applies to
  double isolated = -1;   ///< -2: not applicable
  int wrong = 0;
  double clear_max = -1;
  bool aborted = false;
};

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  if (!parse(argc, argv, &opt)) return 2;
  if (::geteuid() != 0) {
    std::printf("SKIPPED diagnosis_suite: needs root (network namespaces, nft, iptables)\n");
    return 77;
  }
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  for (int s : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(s, &sa, nullptr);

  std::ofstream jout(opt.json_out, std::ios::trunc);
  if (!jout) {
    std::fprintf(stderr, "diagnosis_suite: cannot write %s\n", opt.json_out.c_str());
    return 2;
  }
  std::map<std::string, std::vector<RunResult>> results;
  std::vector<std::string> all_wrong_lines;
  int crashes = 0;
  bool interrupted = false;
  const auto t_start = Clock::now();
  {
    NetnsCluster c(kNodes, opt.vigil, "vgdx");
    if (!c.ok()) {
      std::printf("netns setup failed: %s\n", c.error().c_str());
      return 1;
    }
    auto tags = [](int i) { return std::vector<std::string>{"--tag", "zone=" + zone_of(i)}; };
    for (int i = 1; i <= kNodes; ++i) c.start_with(i, tags(i));
    const double probe_s = Seconds(c.timings().probe_interval).count();
    const double detect = c.detect_bound().count();
    const double converge = c.converge_bound().count();
    // Holds derived from the gossip config: past the detection bound and the 20 s target with
    // margin; faults measured only by loss ratios (udp, asym, lossy, mtu) need more probes per
    // link in the window, so at least 45 s.
    const double hold = std::max(kRightTarget, detect) + 10;
    const double hold_ratio = std::max(hold, 45.0);
    // mtu: the ping checker sends one large echo per peer per mtu_interval (30 s by default):
    // two rounds.
    const double hold_mtu = std::max(hold_ratio, 60.0);
    std::printf(
        "diagnosis suite: %d agents in zones a={n1,n2,n3} b={n4,n5,n6} c={n7,n8,n9}; "
        "detection bound %.1fs, isolated %.1fs, convergence %.1fs; hold %.0fs (loss "
        "faults %.0fs, mtu %.0fs); seeds %d..%d; JSON -> %s\n",
        kNodes, detect, c.isolated_detect_bound().count(), converge, hold, hold_ratio, hold_mtu,
        opt.first_seed, opt.first_seed + opt.seeds - 1, opt.json_out.c_str());
    std::fflush(stdout);
    if (!NetnsCluster::eventually([&] { return c.converged() || g_stop; }, 60s) || g_stop) {
      std::printf("the mesh did not converge at start\n");
      return g_stop ? 130 : 1;
    }

    for (int seed = opt.first_seed; seed < opt.first_seed + opt.seeds && !g_stop; ++seed) {
      for (const std::string& fault : opt.faults) {
        if (g_stop) break;
        for (int i = 1; i <= kNodes; ++i)
          if (!c.running(i)) c.start_with(i, tags(i));  // a crash (recorded) or a failed restart
        const Case k = draw(fault, seed, probe_s);
        const bool b2b = fault == "b2b";
        std::string what = k.first.text() + (b2b ? " then " + k.second.text() : "");
        std::printf("[%6.0fs] %s seed %d: %s (offset %.0f ms)\n", since(t_start), fault.c_str(),
                    seed, what.c_str(), k.offset_s * 1000);
        std::fflush(stdout);
        std::string leftovers;
        const auto t_base = Clock::now();
        const bool base_ok = clean_baseline(c, Seconds(120), &leftovers);
        const double base_s = since(t_base);
        if (!base_ok && !g_stop)
          std::printf("    baseline not clean after %.0fs: %s\n", base_s, leftovers.c_str());
        if (!nap(k.offset_s)) break;

        RunResult rr;
        rr.seed = seed;
        std::vector<std::string> errors;
        auto err = [&](const std::string& e) {
          if (!e.empty()) {
            errors.push_back(e);
            std::printf("    ERROR %s\n", e.c_str());
          }
        };
        Poller poller(c);
        const std::int64_t fault_ms = wall_ms();
        if (!b2b) {
          poller.begin("fault", k.first);
          err(apply(c, k.first, true, tags(k.first.x)));
          nap(fault == "mtu"                                          ? hold_mtu
              : fault == "udp" || fault == "asym" || fault == "lossy" ? hold_ratio
                                                                      : hold);
          err(apply(c, k.first, false, tags(k.first.x)));
        } else {
          poller.begin("fault1", k.first);
          err(apply(c, k.first, true, {}));
          nap(std::max(detect, 10.0));
          // Heal and the next fault at the same moment.
          poller.begin("fault2", k.second, k.first);
          err(apply(c, k.first, false, {}));
          err(apply(c, k.second, true, {}));
          nap(hold);
          err(apply(c, k.second, false, {}));
        }
        poller.begin("heal", b2b ? k.second : k.first);
        const auto t_heal = Clock::now();
        while (!g_stop && since(t_heal) < kClearMax && !poller.cleared(kClearStable)) nap(0.25);
        poller.stop();
        if (g_stop) {
          interrupted = true;
          rr.aborted = true;
        }
        // --- the record of this run
        const auto phases = poller.phases();
        const auto wrongs = poller.wrongs();
        const auto clear = poller.clear_times();
        json line{{"fault", fault},
                  {"seed", seed},
                  {"what", what},
                  {"culprit", k.first.x ? nm(k.first.x)
                                        : k.first.z + (k.first.z2.empty() ? "" : "|" + k.first.z2)},
                  {"offset_ms", std::lround(k.offset_s * 1000)},
                  {"fault_at", rfc3339(fault_ms)},
                  {"baseline_clean", base_ok},
                  {"baseline_wait_s", num_or_null(base_s)},
                  {"errors", errors},
                  {"interrupted", rr.aborted}};
        json jphases = json::array();
        for (const Phase& p : phases) {
          if (p.name == "heal") continue;
          json o = json::object();
          for (int i = 1; i <= kNodes; ++i) {
            auto it = p.obs.find(i);
            const ObsPhase op = it == p.obs.end() ? ObsPhase{} : it->second;
            json oj{{"zone", zone_of(i)},
                    {"must_show", p.rule.observes(i)},
                    {"right_s", num_or_null(op.right_s)},
                    {"gaps", op.gaps},
                    {"polls", op.polls},
                    {"failed_polls", op.failed_polls}};
            if (p.rule.has_isolated_self() && i == p.rule.x)
              oj["isolated_self_s"] = num_or_null(op.isolated_s);
            o[nm(i)] = oj;
          }
          json pj{{"phase", p.name},
                  {"rule", p.rule.text()},
                  {"right_all_s", num_or_null(Poller::right_all(p))},
                  {"observers", o}};
          if (p.rule.has_isolated_self()) {
            auto it = p.obs.find(p.rule.x);
            pj["isolated_self_s"] = num_or_null(it == p.obs.end() ? -1 : it->second.isolated_s);
          }
          jphases.push_back(pj);
          // The right-time target applies to the last fault phase (b2b: the zone partition);
          // the isolated-self target to the cut phase.
          rr.right_all = Poller::right_all(p);
          if (p.rule.has_isolated_self()) {
            auto it = p.obs.find(p.rule.x);
            rr.isolated = it == p.obs.end() ? -1 : it->second.isolated_s;
          }
        }
        bool has_iso = false;
        for (const Phase& p : phases)
          has_iso = has_iso || (p.name != "heal" && p.rule.has_isolated_self());
        if (!has_iso) rr.isolated = -2;
        line["phases"] = jphases;
        json cj = json::object();
        double cmax = 0;
        for (int i = 1; i <= kNodes; ++i) {
          auto it = clear.find(i);
          const double v = it == clear.end() ? -1 : it->second;
          cj[nm(i)] = num_or_null(v);
          cmax = v < 0 ? 1e9 : std::max(cmax, v);
        }
        rr.clear_max = cmax >= 1e9 ? -1 : cmax;
        line["clear_s"] = cj;
        line["clear_max_s"] = num_or_null(rr.clear_max);
        json wj = json::array();
        for (const Wrong& w : wrongs) {
          json e = w.e.to_json();
          e["observer"] = nm(w.observer);
          e["phase"] = w.phase;
          e["first_s"] = num_or_null(w.first_s);
          e["polls"] = w.polls;
          if (w.stale) e["stale_from_previous_fault"] = true;
          wj.push_back(e);
          std::string nodes;
          for (const auto& n : w.e.nodes) nodes += (nodes.empty() ? "" : ",") + n;
          std::string zones;
          for (const auto& z : w.e.zones_list) zones += (zones.empty() ? "" : ",") + z;
          all_wrong_lines.push_back(
              fault + " seed " + std::to_string(seed) + " (" + what + ") at " + nm(w.observer) +
              " [" + w.phase + " +" + fmt("%.1fs", w.first_s) + ", " + std::to_string(w.polls) +
              " polls" + (w.stale ? ", stale" : "") + "]: " + w.e.kind + " node=" + w.e.node +
              " nodes=[" + nodes + "] zones=[" + zones + "] \"" + w.e.evidence + "\"");
        }
        rr.wrong = static_cast<int>(wrongs.size());
        line["wrong"] = wj;
        line["wrong_count"] = rr.wrong;
        line["right_all_s"] = num_or_null(rr.right_all);
        if (rr.isolated != -2) line["isolated_self_s"] = num_or_null(rr.isolated);
        jout << line.dump() << "\n";
        jout.flush();
        std::printf("    right at all %s, isolated-self %s, wrong %d, clear max %s\n",
                    rr.right_all < 0 ? "never" : fmt("%.1fs", rr.right_all).c_str(),
                    rr.isolated == -2 ? "n/a"
                    : rr.isolated < 0 ? "never"
                                      : fmt("%.1fs", rr.isolated).c_str(),
                    rr.wrong, rr.clear_max < 0 ? ">90s" : fmt("%.1fs", rr.clear_max).c_str());
        std::fflush(stdout);
        if (!rr.aborted) results[fault].push_back(rr);
      }
    }
    for (int i = 1; i <= kNodes; ++i) {
      if (c.running(i)) {
        c.signal(i, SIGTERM);
        c.wait_exit(i);
      }
    }
    for (const auto& cr : c.crashes()) {
      std::printf("CRASH %s\n", cr.c_str());
      ++crashes;
    }
  }  // the namespaces are removed here
  interrupted = interrupted || g_stop;

  // --- summary --------------------------------------------------------------------------------
  auto cell = [](double v) { return v < 0 ? std::string("miss") : fmt("%.1f", v); };
  std::printf("\nwrong culprits (every distinct entry, per observer and phase):\n");
  if (all_wrong_lines.empty()) std::printf("  none\n");
  for (const auto& l : all_wrong_lines) std::printf("  %s\n", l.c_str());
  std::printf(
      "\ntargets: right at every observer <= %.0fs (power, cut, zone, udp, b2b); cut node "
      "isolated-self <= %.0fs (cut, b2b); 0 wrong culprits over >= %d seeds; clear <= "
      "%.0fs after the heal\n",
      kRightTarget, kIsolatedTarget, kSeedsTarget, kClearTarget);
  std::printf("%-6s %5s | %-17s | %-17s | %6s | %9s | %s\n", "fault", "seeds", "right-all p50/max",
              "isolated p50/max", "wrong", "clear max", "verdict");
  json summary = json::object();
  bool all_met = true;
  const std::set<std::string> timed = {"power", "cut", "zone", "udp", "b2b"};
  for (const std::string& fault : opt.faults) {
    const auto& rs = results[fault];
    std::vector<double> right, iso;
    bool right_miss = false, iso_miss = false, clear_miss = false;
    int wrong = 0;
    double clear_max = 0;
    bool has_iso = false;
    for (const auto& r : rs) {
      if (r.right_all < 0)
        right_miss = true;
      else
        right.push_back(r.right_all);
      if (r.isolated != -2) {
        has_iso = true;
        if (r.isolated < 0)
          iso_miss = true;
        else
          iso.push_back(r.isolated);
      }
      wrong += r.wrong;
      if (r.clear_max < 0)
        clear_miss = true;
      else
        clear_max = std::max(clear_max, r.clear_max);
    }
    std::vector<std::string> missed;
    if (rs.empty()) missed.push_back("not run");
    if (timed.count(fault) && (right_miss || percentile(right, 1) > kRightTarget))
      missed.push_back("right > 20s");
    if (has_iso && (iso_miss || percentile(iso, 1) > kIsolatedTarget))
      missed.push_back("isolated > 10s");
    if (wrong > 0) missed.push_back("wrong culprits");
    if (static_cast<int>(rs.size()) < kSeedsTarget)
      missed.push_back("< " + std::to_string(kSeedsTarget) + " seeds");
    if (clear_miss || clear_max > kClearTarget) missed.push_back("clear > 60s");
    std::string verdict;
    for (const auto& m : missed) verdict += (verdict.empty() ? "MISSED: " : ", ") + m;
    if (verdict.empty()) verdict = "met";
    if (!missed.empty()) all_met = false;
    const std::string rcol =
        right.empty() && !right_miss ? "-"
        : right_miss ? (right.empty() ? "miss/miss" : cell(percentile(right, 0.5)) + "/miss")
                     : cell(percentile(right, 0.5)) + "/" + cell(percentile(right, 1));
    const std::string icol =
        !has_iso   ? "-"
        : iso_miss ? (iso.empty() ? "miss/miss" : cell(percentile(iso, 0.5)) + "/miss")
                   : cell(percentile(iso, 0.5)) + "/" + cell(percentile(iso, 1));
    const std::string ccol = rs.empty() ? "-" : clear_miss ? ">90" : cell(clear_max);
    std::printf("%-6s %5zu | %-17s | %-17s | %6d | %9s | %s\n", fault.c_str(), rs.size(),
                rcol.c_str(), icol.c_str(), wrong, ccol.c_str(), verdict.c_str());
    summary[fault] =
        json{{"seeds", rs.size()},
             {"right_all_p50_s", num_or_null(right_miss ? -1 : percentile(right, 0.5))},
             {"right_all_max_s", num_or_null(right_miss ? -1 : percentile(right, 1))},
             {"right_all_missed_runs", right_miss},
             {"wrong_culprits", wrong},
             {"clear_max_s", num_or_null(clear_miss ? -1 : clear_max)},
             {"verdict", verdict}};
    if (has_iso) {
      summary[fault]["isolated_self_p50_s"] = num_or_null(iso_miss ? -1 : percentile(iso, 0.5));
      summary[fault]["isolated_self_max_s"] = num_or_null(iso_miss ? -1 : percentile(iso, 1));
    }
  }
  for (const auto& m : opt.missing) {
    std::printf("%-6s %5s | %-17s | %-17s | %6s | %9s | %s\n", m.c_str(), "-", "-", "-", "-", "-",
                m == "mtu" ? "MISSING: no mtu-blackhole kind in api/diagnosis.hpp" : "MISSING");
    summary[m] = json{{"verdict", "missing"}};
  }
  if (crashes) std::printf("agent crashes: %d\n", crashes);
  std::printf("total %.0fs%s; JSON lines in %s\n", since(t_start),
              interrupted ? " (INTERRUPTED)" : "", opt.json_out.c_str());
  jout << json{{"summary", summary}, {"crashes", crashes}, {"interrupted", interrupted}}.dump()
       << "\n";
  if (interrupted) return 130;
  return all_met && crashes == 0 ? 0 : 1;
}
