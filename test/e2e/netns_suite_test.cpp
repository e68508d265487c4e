// Multi-host end to end (issue 7): five real `vigil agent` processes, each in its own network
// namespace with its own address and data dir (NetnsCluster), a real etcd inside n1's
// namespace. Nine scenarios, each asserting on /v1/status, /v1/members and /v1/history of every
// surviving node, with bounds computed from the gossip timings:
//   1 kill -9 + restart   2 SIGTERM -> left   3 link cut -> failed, the cut node isolated
//   4 partition {1,2}|{3,4,5} + heal           5 20% loss on one link: no false failure
//   (4b UDP-only cut between the groups: udp-blocked; 4c MTU 1280 on n3's bridge port:
//    mtu-blackhole n3)
//   6 a starved process (SIGSTOP/SIGCONT)       7 etcd killed -> n1's etcd probe failed
//   8 full disk under a data dir -> store warns  9 restart -> history kept
// Scenarios 5 and 6 run VIGIL_NETNS_LOSS_SECONDS (40) and VIGIL_NETNS_STARVE_SECONDS (30);
// set them to 300 for the issue's five-minute version. Needs root, ip, nft, iptables, etcd;
// otherwise it is skipped with the reason (test/skip.hpp: exit 77, ctest Skipped).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "test/checkers/subprocess.hpp"
#include "test/e2e/netns_cluster.hpp"
#include "test/skip.hpp"

using namespace vigil::e2e;
using nlohmann::json;

namespace {

constexpr int kNodes = 5;
NetnsCluster* g_cluster = nullptr;
vigil::test::Process* g_etcd = nullptr;

NetnsCluster& C() {
  return *g_cluster;
}

double seconds_since(Clock::time_point t) {
  return Seconds(Clock::now() - t).count();
}

int env_seconds(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && std::atoi(v) > 0 ? std::atoi(v) : fallback;
}

// Node i's history rows of `type` since `since_ms` (null when unreachable).
json history(int i, const std::string& type, std::int64_t since_ms) {
  std::string q = "/v1/history?limit=10000&since=" + rfc3339(since_ms);
  if (!type.empty()) q += "&type=" + type;
  auto [code, body] = C().get(i, q);
  if (code != 200) return nullptr;
  return json::parse(body, nullptr, false);
}

// Names node i recorded as NodeFailed since `since_ms`.
std::multiset<std::string> failed_seen_by(int i, std::int64_t since_ms) {
  std::multiset<std::string> out;
  const json h = history(i, "NodeFailed", since_ms);
  if (h.is_array()) {
    for (const auto& r : h) out.insert(r.value("node", ""));
  }
  return out;
}

// Whether node i's history (written in batches every 200 ms) holds such an event since
// `since_ms`, polled for up to kHistoryFlush. Prints what it holds instead when not.
constexpr Seconds kHistoryFlush = 5s;
bool history_has(int i, const std::string& type, const std::string& node, std::int64_t since_ms,
                 const std::string& checker = "") {
  auto found = [&] {
    const json h = history(i, type, since_ms);
    if (!h.is_array()) return false;
    for (const auto& r : h) {
      if (r.value("node", "") == node && (checker.empty() || r.value("checker", "") == checker))
        return true;
    }
    return false;
  };
  if (NetnsCluster::eventually(found, kHistoryFlush)) return true;
  std::printf("history of %s since %s has no %s of %s%s: %s\n", C().name(i).c_str(),
              rfc3339(since_ms).c_str(), type.c_str(), node.c_str(), checker.c_str(),
              C().get(i, "/v1/history?limit=30&since=" + rfc3339(since_ms - 60000)).second.c_str());
  return false;
}

// Node j's entry in node i's /v1/status (null when absent).
json status_entry(int i, int j) {
  const json s = C().get_json(i, "/v1/status");
  if (!s.is_object()) return nullptr;
  for (const auto& n : s.value("nodes", json::array())) {
    if (n.value("name", "") == C().name(j)) return n;
  }
  return nullptr;
}

json probe(const json& entry, const std::string& checker) {
  if (!entry.is_object()) return nullptr;
  for (const auto& p : entry.value("probes", json::array())) {
    if (p.value("checker", "") == checker) return p;
  }
  return nullptr;
}

std::string member_status_in_status(int i, int j) {
  const json e = status_entry(i, j);
  return e.is_object() ? e["member_status"].value("status", "") : "";
}

std::vector<int> all_but(std::initializer_list<int> skip) {
  std::vector<int> v;
  for (int i = 1; i <= kNodes; ++i) {
    if (std::find(skip.begin(), skip.end(), i) == skip.end()) v.push_back(i);
  }
  return v;
}

// Every node's failed observations since t, as one line for failure messages.
std::string failed_report(std::int64_t since_ms) {
  std::string out;
  for (int i = 1; i <= kNodes; ++i) {
    out += C().name(i) + " saw failed:";
    for (const auto& n : failed_seen_by(i, since_ms)) out += " " + n;
    out += "; ";
  }
  return out;
}

// Every agent running and every one alive everywhere (restarts what a failed scenario left).
// A suspicion raised just before the end of a fault may still run out: wait that long.
void wait_out_late_suspicions() {
  std::this_thread::sleep_for(
      std::chrono::duration_cast<std::chrono::milliseconds>(C().converge_bound() - C().slack()));
}

void baseline() {
  C().heal_partition();
  for (int i = 1; i <= kNodes; ++i) {
    C().cut(i, false);
    C().set_bridge_mtu(i, 1500);
    C().set_loss(i, 0);
    C().signal(i, SIGCONT);
    if (!C().running(i)) C().start(i);
  }
  const bool ok = NetnsCluster::eventually([] { return C().converged(); },
                                           C().converge_bound() + C().detect_bound());
  INFO("n1 members: " << C().get(1, "/v1/members").second);
  REQUIRE(ok);
}

// For each survivor, the seconds until it sees `victim` with `state` (-1: not within bound).
std::vector<double> time_until_all(const std::vector<int>& observers, int victim,
                                   const std::string& state, Seconds bound) {
  const auto t0 = Clock::now();
  std::vector<double> when(observers.size(), -1);
  NetnsCluster::eventually(
      [&] {
        bool all = true;
        for (std::size_t k = 0; k < observers.size(); ++k) {
          if (when[k] >= 0) continue;
          if (C().member_status(observers[k], victim) == state)
            when[k] = seconds_since(t0);
          else
            all = false;
        }
        return all;
      },
      bound);
  return when;
}

std::string times_text(const std::vector<int>& observers, const std::vector<double>& t) {
  std::string s;
  char buf[48];
  for (std::size_t k = 0; k < observers.size(); ++k) {
    std::snprintf(buf, sizeof buf, "%s %.2fs ", C().name(observers[k]).c_str(), t[k]);
    s += buf;
  }
  return s;
}

}  // namespace

TEST_CASE(
    "1: kill -9 -> failed everywhere within the bound; restart -> refutes, alive everywhere") {
  baseline();
  const int victim = 4;
  const auto survivors = all_but({victim});
  const std::int64_t t0 = wall_ms();
  const long inc_before = [&] {
    for (const auto& m : C().get_json(1, "/v1/members"))
      if (m.value("name", "") == C().name(victim)) return m.value("incarnation", -1L);
    return -1L;
  }();
  C().kill9(victim);
  const Seconds bound = C().detect_bound();
  const auto when = time_until_all(survivors, victim, "failed", bound);
  MESSAGE("kill -9 detection (bound " << bound.count() << "s): " << times_text(survivors, when));
  for (double t : when) {
    CHECK(t >= 0);
    CHECK(t <= bound.count());
  }
  for (int i : survivors) {
    INFO("observer " << C().name(i));
    CHECK(member_status_in_status(i, victim) == "failed");
    const json s = C().get_json(i, "/v1/status");
    CHECK(s.value("status", "") == "degraded");
    CHECK(history_has(i, "NodeFailed", C().name(victim), t0));
  }

  REQUIRE(C().start(victim));
  const auto back = time_until_all(survivors, victim, "alive", C().converge_bound());
  MESSAGE("restart -> alive: " << times_text(survivors, back));
  CHECK(NetnsCluster::eventually([] { return C().converged(); }, C().converge_bound()));
  for (int i = 1; i <= kNodes; ++i) {
    INFO("observer " << C().name(i));
    // Eventually: on a loaded machine a converged mesh may still see a brief suspicion.
    CHECK(NetnsCluster::eventually([&] { return member_status_in_status(i, victim) == "alive"; },
                                   C().converge_bound()));
    if (i != victim) CHECK(history_has(i, "NodeRecovered", C().name(victim), t0));
  }
  // It refuted: its incarnation moved past the one it was declared failed with.
  for (const auto& m : C().get_json(1, "/v1/members")) {
    if (m.value("name", "") == C().name(victim)) CHECK(m.value("incarnation", -1L) > inc_before);
  }
  // No healthy node was ever marked failed, by anyone.
  for (int i = 1; i <= kNodes; ++i) {
    for (const auto& n : failed_seen_by(i, t0)) {
      INFO(failed_report(t0));
      CHECK(n == C().name(victim));
    }
  }
}

TEST_CASE("2: SIGTERM -> left everywhere, never failed") {
  baseline();
  const int victim = 5;
  const auto survivors = all_but({victim});
  const std::int64_t t0 = wall_ms();
  C().signal(victim, SIGTERM);
  CHECK(C().wait_exit(victim) == 0);
  const auto when = time_until_all(survivors, victim, "left", C().detect_bound());
  MESSAGE("SIGTERM -> left: " << times_text(survivors, when));
  for (double t : when) CHECK(t >= 0);
  for (int i : survivors) {
    INFO("observer " << C().name(i));
    // A node that left is not listed in /v1/status and does not degrade the cluster.
    CHECK(!status_entry(i, victim).is_object());
    CHECK(C().get_json(i, "/v1/status").value("status", "") == "running");
    CHECK(history_has(i, "NodeRemoved", C().name(victim), t0));
    CHECK(failed_seen_by(i, t0).empty());
  }
  // Stays left (not failed) for longer than a detection would take.
  std::this_thread::sleep_for(
      std::chrono::duration_cast<std::chrono::milliseconds>(C().detect_bound() - C().slack()));
  for (int i : survivors) CHECK(C().member_status(i, victim) == "left");
  for (int i : survivors) CHECK(failed_seen_by(i, t0).empty());
  REQUIRE(C().start(victim));
}

TEST_CASE("3: one node's link cut -> failed elsewhere; the cut node reports it is isolated") {
  baseline();
  const int cut = 3;
  const auto others = all_but({cut});
  const std::int64_t t0 = wall_ms();
  REQUIRE(C().cut(cut, true) == "");
  const auto when = time_until_all(others, cut, "failed", C().detect_bound());
  MESSAGE("link cut -> failed: " << times_text(others, when));
  for (double t : when) {
    CHECK(t >= 0);
    CHECK(t <= C().detect_bound().count());
  }
  for (int i : others) {
    INFO("observer " << C().name(i));
    CHECK(member_status_in_status(i, cut) == "failed");
    CHECK(history_has(i, "NodeFailed", C().name(cut), t0));
    // The others blame the cut node, and nobody else.
    CHECK(NetnsCluster::eventually(
        [&] {
          for (const auto& d : C().get_json(i, "/v1/status").value("diagnosis", json::array()))
            if (d.value("node", "") == C().name(cut)) return true;
          return false;
        },
        5s));
  }
  // The cut node itself: every peer unreachable, its ping probe (peers + gateway) says it looks
  // isolated, and its diagnosis names itself isolated.
  const Seconds ping_bound = 2 * 2s + 1500ms + C().slack();  // 2 ping intervals + timeout
  bool isolated = NetnsCluster::eventually(
      [&] {
        const json p = probe(status_entry(cut, cut), "ping");
        return p.is_object() && p.value("status", "") == "failed" &&
               p.value("severity", "") == "critical" &&
               p.value("error", "").find("isolated") != std::string::npos;
      },
      C().detect_bound() + ping_bound);
  INFO("cut node's status: " << C().get(cut, "/v1/status").second);
  CHECK(isolated);
  // A node that fails every probe slows down (Lifeguard awareness), so it sees the others
  // failed within the awareness-scaled bound.
  const auto t_cut_view = Clock::now();
  CHECK(NetnsCluster::eventually(
      [&] {
        for (int j : others)
          if (C().member_status(cut, j) != "failed") return false;
        return true;
      },
      C().isolated_detect_bound()));
  MESSAGE("the cut node saw every other node failed "
          << seconds_since(t_cut_view) << "s after its ping said isolated (bound "
          << C().isolated_detect_bound().count() << "s)");
  const json own = C().get_json(cut, "/v1/status");
  bool self_named = false;
  for (const auto& d : own.value("diagnosis", json::array())) {
    const std::string kind = d.value("kind", "");
    self_named = self_named || (kind == "node-isolated" && d.value("node", "") == C().name(cut));
  }
  INFO("cut node's diagnosis: " << own.value("diagnosis", json::array()).dump());
  CHECK(self_named);
  CHECK(own.value("status", "") == "degraded");
  auto [code, out] = C().cli(cut, {"status"});
  CHECK(code == 1);

  // While the link is cut, the others fail only the cut node.
  for (int i : others) {
    for (const auto& n : failed_seen_by(i, t0)) CHECK(n == C().name(cut));
  }
  REQUIRE(C().cut(cut, false) == "");
  const auto t_heal = Clock::now();
  CHECK(NetnsCluster::eventually([] { return C().converged(); }, C().converge_bound()));
  MESSAGE("link back -> converged in " << seconds_since(t_heal) << "s (bound "
                                       << C().converge_bound().count() << "s)");
  for (int i : others) CHECK(history_has(i, "NodeRecovered", C().name(cut), t0));
  // After the heal too: the deaths the cut node declared reach the others as suspicions
  // (doubt_returnee_verdicts), so none of them is marked failed (memberlist would, until it
  // refutes). A suspicion raised just before convergence may still run out: wait that long.
  wait_out_late_suspicions();
  for (int i : others) {
    for (const auto& n : failed_seen_by(i, t0)) {
      INFO(C().name(i) << " saw " << n << " failed");
      CHECK(n == C().name(cut));
    }
  }
}

TEST_CASE(
    "4: gossip partition (UDP+TCP) {1,2}|{3,4,5}: each side sees the other failed; heal "
    "converges") {
  baseline();
  const std::vector<int> a{1, 2}, b{3, 4, 5};
  const std::int64_t t0 = wall_ms();
  REQUIRE(C().partition(a, b) == "");
  const auto t_cut = Clock::now();
  auto sides_see = [&](const std::string& state) {
    for (int i : a)
      for (int j : b)
        if (C().member_status(i, j) != state || C().member_status(j, i) != state) return false;
    return true;
  };
  CHECK(NetnsCluster::eventually([&] { return sides_see("failed"); }, C().detect_bound()));
  MESSAGE("partition -> each side sees the other failed in " << seconds_since(t_cut) << "s (bound "
                                                             << C().detect_bound().count() << "s)");
  for (int i : a) {
    for (int j : a) CHECK(C().member_status(i, j) == "alive");
    for (int j : b) {
      CHECK(member_status_in_status(i, j) == "failed");
      CHECK(history_has(i, "NodeFailed", C().name(j), t0));
    }
  }
  for (int i : b) {
    for (int j : b) CHECK(C().member_status(i, j) == "alive");
    for (int j : a) {
      CHECK(member_status_in_status(i, j) == "failed");
      CHECK(history_has(i, "NodeFailed", C().name(j), t0));
    }
  }
  // Nobody on a side marks its own side failed.
  for (int i = 1; i <= kNodes; ++i) {
    const bool in_a = i <= 2;
    for (const auto& n : failed_seen_by(i, t0)) {
      const int j = std::atoi(n.c_str() + 1);
      INFO(C().name(i) << " saw " << n << " failed");
      CHECK((j <= 2) != in_a);
    }
  }
  REQUIRE(C().heal_partition() == "");
  const auto t_heal = Clock::now();
  const bool converged =
      NetnsCluster::eventually([] { return C().converged(); }, C().converge_bound());
  MESSAGE("heal -> converged in " << seconds_since(t_heal) << "s (bound "
                                  << C().converge_bound().count() << "s)");
  CHECK(converged);
  for (int i = 1; i <= kNodes; ++i) {
    CHECK(C().get_json(i, "/v1/status").value("status", "") == "running");
    for (int j : (i <= 2 ? b : a)) CHECK(history_has(i, "NodeRecovered", C().name(j), t0));
  }
  // Nor after the heal: one side's late death notices about the other reach the other side
  // as suspicions, not as failures of its own members.
  wait_out_late_suspicions();
  for (int i = 1; i <= kNodes; ++i) {
    for (const auto& n : failed_seen_by(i, t0)) {
      INFO(C().name(i) << " saw " << n << " failed (after the heal)");
      CHECK((std::atoi(n.c_str() + 1) <= 2) != (i <= 2));
    }
  }
}

TEST_CASE("4b: UDP-only cut {1,2}|{3,4,5} (TCP, ICMP pass): nobody failed; udp-blocked named") {
  // What a broken VXLAN/Geneve overlay or a firewall rule looks like: the TCP fallback keeps
  // everybody alive (right for membership); the probes it rescued name the fault everywhere.
  baseline();
  const std::vector<int> a{1, 2}, b{3, 4, 5};
  const std::int64_t t0 = wall_ms();
  REQUIRE(C().partition(a, b, "udp") == "");
  const auto t_cut = Clock::now();
  auto names_it = [&](int i) {
    const json d = C().get_json(i, "/v1/status").value("diagnosis", json::array());
    for (const auto& e : d)
      if (e.value("kind", "") == "udp-blocked" && e.value("node", "x").empty() &&
          e.value("nodes", json::array()).size() == 5)
        return true;
    return false;
  };
  // Each pair sees a few gossip probes per minute; 2 rescued ones make a pattern: within the
  // reach window (60 s) with margin.
  const Seconds bound{90};
  std::vector<double> when(kNodes + 1, -1);
  NetnsCluster::eventually(
      [&] {
        bool all = true;
        for (int i = 1; i <= kNodes; ++i) {
          if (when[i] < 0 && names_it(i)) when[i] = seconds_since(t_cut);
          all = all && when[i] >= 0;
        }
        return all;
      },
      bound);
  std::string times;
  for (int i = 1; i <= kNodes; ++i) times += C().name(i) + " " + std::to_string(when[i]) + "s ";
  MESSAGE("UDP-only cut -> udp-blocked named at: " << times);
  for (int i = 1; i <= kNodes; ++i) {
    INFO(C().name(i) << "'s diagnosis: "
                     << C().get_json(i, "/v1/status").value("diagnosis", json()).dump());
    CHECK(when[i] >= 0);
    for (int j = 1; j <= kNodes; ++j) CHECK(C().member_status(i, j) == "alive");
    CHECK(failed_seen_by(i, t0).empty());  // nobody was declared failed
  }
  REQUIRE(C().heal_partition() == "");
  // After the heal every udp-blocked entry clears, of any shape (as the group's evidence ages
  // out, what is left of it must not linger as a node or a pair): issue 13's "every fault
  // entry clears within 60 s of the heal", plus the view's upkeep.
  auto any_udp = [&](int i) {
    for (const auto& e : C().get_json(i, "/v1/status").value("diagnosis", json::array()))
      if (e.value("kind", "") == "udp-blocked") return true;
    return false;
  };
  const auto t_heal = Clock::now();
  const bool cleared = NetnsCluster::eventually(
      [&] {
        for (int i = 1; i <= kNodes; ++i)
          if (any_udp(i)) return false;
        return true;
      },
      Seconds{60} + C().detect_bound());
  MESSAGE("heal -> every udp-blocked entry gone after " << seconds_since(t_heal) << "s");
  CHECK(cleared);
}

// The value of every /metrics sample of `family` whose labels contain `needle`, summed (-1
// when there is none).
double metric_sum(int i, const std::string& family, const std::string& needle) {
  auto [code, body] = C().get(i, "/metrics");
  if (code != 200) return -1;
  double sum = 0;
  bool any = false;
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(family + "{", 0) != 0 || line.find(needle) == std::string::npos) continue;
    sum += std::stod(line.substr(line.rfind(' ') + 1));
    any = true;
  }
  return any ? sum : -1;
}

// The named nft counters of `table` ("bridge vigil_mtu") in namespace `ns`, as
// "udp packets 12 bytes 34, tcp ...".
std::string nft_counters(const std::string& ns, const std::string& family,
                         const std::string& table) {
  const vigil::test::RunResult r =
      vigil::test::run_cmd({"ip", "netns", "exec", ns, "nft", "list", "table", family, table}, 10s);
  std::string out;
  std::istringstream in(r.output);
  std::string line;
  while (std::getline(in, line)) {
    const auto c = line.find("counter packets ");
    const auto q = line.find("comment \"");
    if (c == std::string::npos || q == std::string::npos) continue;
    const std::string name = line.substr(q + 9, line.find('"', q + 9) - q - 9);
    out += (out.empty() ? "" : ", ") + name + " " + line.substr(c + 8, q - c - 9);
  }
  return out;
}

// Node i's view of the large echoes in the matrix: "n1->n3 3/3 (icmp 0/9)" per link carrying
// them, for failure messages.
std::string large_links(int i) {
  const json r = C().get_json(i, "/v1/reachability");
  std::string out;
  for (const auto& l : r.value("links", json::array())) {
    if (!l.contains("large_sent")) continue;
    out += l.value("from", "") + "->" + l.value("to", "") + " " +
           std::to_string(l.value("large_lost", 0)) + "/" +
           std::to_string(l.value("large_sent", 0)) + " (small " +
           std::to_string(l.value("lost", 0)) + "/" + std::to_string(l.value("sent", 0)) + "); ";
  }
  return out;
}

TEST_CASE("4c: MTU 1280 on n3's bridge port: mtu-blackhole n3 at every node, nobody failed") {
  // n3's veth end on the bridge drops frames above 1280 bytes, both ways, and tells nobody (an
  // L2 drop: no "fragmentation needed"); n3's own eth0 still says 1500. Small packets pass,
  // so membership must stay as it is, while the ping checkers' 1500-byte DF echoes to and
  // from n3 are lost: every node, n3 included, names it.
  baseline();
  // Right after a start, each row holds a run or two of small echoes (3 each here), fewer than
  // the 5 a link needs to count, and a row is gossiped again only with news: the fault's news
  // would go out with too few. Wait until every node's own row counts >= 5 to every peer.
  const bool warm = NetnsCluster::eventually(
      [] {
        for (int i = 1; i <= kNodes; ++i) {
          std::map<std::string, int> sent;
          for (const auto& l : C().get_json(i, "/v1/reachability").value("links", json::array()))
            if (l.value("from", "") == C().name(i) && l.value("protocol", "") == "icmp")
              sent[l.value("to", "")] = l.value("sent", 0);
          for (int j = 1; j <= kNodes; ++j)
            if (j != i && sent[C().name(j)] < 5) return false;
        }
        return true;
      },
      Seconds(NetnsPing::interval * 4));
  REQUIRE(warm);
  const int sick = 3;
  const std::string n3 = C().name(sick);
  // What else the lower MTU eats: n3's own large UDP/TCP packets (counted as they leave its
  // eth0; TCP before segmentation, so a GSO burst counts once) and everyone's towards n3
  // (counted in the bridge before its port drops them).
  auto count_rules = [](const std::string& match) {
    std::string r;
    for (const char* proto : {"udp", "tcp", "icmp"})
      r += "  " + match + "meta l4proto " + proto + " ip length > 1280 counter comment \"" + proto +
           "\"\n";
    return r + " }\n}\n";
  };
  {
    std::ofstream(C().dir() + "/mtu-out.nft")
        << "table inet vigil_mtu {\n chain output_chain {\n  type filter hook output priority "
           "0;\n"
        << count_rules("oifname \"eth0\" ");
    std::ofstream(C().dir() + "/mtu-in.nft")
        << "table bridge vigil_mtu {\n chain forward_chain {\n  type filter hook forward priority "
           "0;\n  ip daddr "
        << C().ip(sick) << " jump big_chain\n }\n chain big_chain {\n"
        << count_rules("");
  }
  std::string count_error = C().exec(sick, {"nft", "-f", C().dir() + "/mtu-out.nft"});
  if (count_error.empty()) count_error = C().exec_sw({"nft", "-f", C().dir() + "/mtu-in.nft"});
  struct Uncount {  // whatever happens below: counters gone, MTU back
    int node;
    ~Uncount() {
      C().exec(node, {"nft", "delete", "table", "inet", "vigil_mtu"});
      C().exec_sw({"nft", "delete", "table", "bridge", "vigil_mtu"});
      C().set_bridge_mtu(node, 1500);
    }
  } uncount{sick};
  auto push_pulls = [&] {  // n3's push-pull messages "out/in"
    return std::to_string(static_cast<long>(
               metric_sum(sick, "vigil_gossip_messages_total", "push_pull\",direction=\"out"))) +
           "/" +
           std::to_string(static_cast<long>(
               metric_sum(sick, "vigil_gossip_messages_total", "push_pull\",direction=\"in")));
  };
  const std::string pp_before = push_pulls();
  const std::int64_t t0 = wall_ms();
  REQUIRE(C().set_bridge_mtu(sick, 1280) == "");
  const auto t_fault = Clock::now();

  auto entries = [&](int i) {
    return C().get_json(i, "/v1/status").value("diagnosis", json::array());
  };
  auto names_it = [&](const json& d) {
    for (const auto& e : d)
      if (e.value("kind", "") == "mtu-blackhole" && e.value("node", "") == n3) return true;
    return false;
  };
  // Every culprit other than n3 any node shows at any time (there must be none).
  std::set<std::string> wrong;
  auto note_wrong = [&](int i, const json& d) {
    for (const auto& e : d) {
      const std::string who = e.value("node", "");
      if (!who.empty() && who != n3)
        wrong.insert(C().name(i) + ": " + e.value("kind", "") + " " + who);
    }
  };
  // The bound, from the config: the first run after the fault that owes a large echo to each
  // peer (mtu_interval, runs every interval), the run itself (timeout), then the summary's
  // dissemination and the view's upkeep (detect_bound covers a full round of gossip).
  const Seconds bound =
      Seconds(NetnsPing::mtu_interval + NetnsPing::interval + NetnsPing::timeout) +
      C().detect_bound();
  std::vector<double> when(kNodes + 1, -1);
  NetnsCluster::eventually(
      [&] {
        bool all = true;
        for (int i = 1; i <= kNodes; ++i) {
          const json d = entries(i);
          note_wrong(i, d);
          if (when[i] < 0 && names_it(d)) when[i] = seconds_since(t_fault);
          all = all && when[i] >= 0;
        }
        return all;
      },
      bound);
  std::string times;
  for (int i = 1; i <= kNodes; ++i) times += C().name(i) + " " + std::to_string(when[i]) + "s ";
  MESSAGE("MTU 1280 on n3's port -> mtu-blackhole n3 named at: " << times << "(bound "
                                                                 << bound.count() << "s)");
  // It holds (and nobody is failed) for a while: ten more seconds of polling.
  const auto hold_end = Clock::now() + 10s;
  int held = 0, polls = 0;
  while (Clock::now() < hold_end) {
    for (int i = 1; i <= kNodes; ++i) {
      const json d = entries(i);
      note_wrong(i, d);
      held += names_it(d);
      ++polls;
    }
    std::this_thread::sleep_for(500ms);
  }
  const json sample = entries(1);
  for (int i = 1; i <= kNodes; ++i) {
    INFO(C().name(i) << "'s diagnosis: " << entries(i).dump());
    INFO(C().name(i) << "'s large echoes: " << large_links(i));
    CHECK(when[i] >= 0);
    for (int j = 1; j <= kNodes; ++j) CHECK(C().member_status(i, j) == "alive");
    CHECK(failed_seen_by(i, t0).empty());
  }
  MESSAGE("held in " << held << " of " << polls << " polls; n1 says: " << sample.dump());
  CHECK(held == polls);
  INFO("wrong culprits: " << [&] {
    std::string w;
    for (const auto& x : wrong) w += x + "; ";
    return w;
  }());
  CHECK(wrong.empty());
  // The metric: n1's large-echo loss towards n3 is 1 (and 0 towards the others).
  const double to_n3 =
      metric_sum(1, "vigil_peer_large_packet_loss_ratio", "destination_node=\"" + n3 + "\"");
  const double to_n2 =
      metric_sum(1, "vigil_peer_large_packet_loss_ratio", "destination_node=\"n2\"");
  MESSAGE("n1: vigil_peer_large_packet_loss_ratio to n3 "
          << to_n3 << ", to n2 " << to_n2 << "; vigil_diagnosis_entries{kind=\"mtu-blackhole\"} "
          << C().metric(1, "vigil_diagnosis_entries{kind=\"mtu-blackhole\"}").value_or(-1));
  CHECK(to_n3 > 0);  // the share lost over the 60 s window: ~20 s of the fault are in it
  CHECK(to_n2 == 0);
  CHECK(C().metric(1, "vigil_diagnosis_entries{kind=\"mtu-blackhole\"}").value_or(0) == 1);
  const std::string pp_during = push_pulls();
  if (!count_error.empty()) {
    MESSAGE("no packet counters: " << count_error);
  } else {
    MESSAGE("packets above 1280 bytes: sent by n3 ["
            << nft_counters(C().ns(sick), "inet", "vigil_mtu") << "], sent to n3 ["
            << nft_counters(C().sw_ns(), "bridge", "vigil_mtu")
            << "]; n3's push-pull messages out/in " << pp_before << " -> " << pp_during);
  }

  // Restored: the entry goes once the lost echoes leave the reach window (60 s) and the
  // summaries that carried them are re-issued.
  REQUIRE(C().set_bridge_mtu(sick, 1500) == "");
  const auto t_heal = Clock::now();
  const Seconds clear_bound =
      Seconds(60s + NetnsPing::interval + NetnsPing::timeout) + C().detect_bound();
  const bool cleared = NetnsCluster::eventually(
      [&] {
        for (int i = 1; i <= kNodes; ++i)
          if (names_it(entries(i))) return false;
        return true;
      },
      clear_bound);
  MESSAGE("MTU restored -> mtu-blackhole gone everywhere after "
          << seconds_since(t_heal) << "s (bound " << clear_bound.count() << "s)");
  CHECK(cleared);
  for (int i = 1; i <= kNodes; ++i) CHECK(failed_seen_by(i, t0).empty());
}

TEST_CASE("5: 20% loss on one node's link: no false failure") {
  baseline();
  const int lossy = 2;
  const int secs = env_seconds("VIGIL_NETNS_LOSS_SECONDS", 40);
  const std::string family = "vigil_peer_packets_lost_total";
  const bool has_peer_loss = C().has_metric_family(1, family);
  auto lost_to = [&](int i) {
    // Sum of the family's samples towards the lossy node, as observer i sees them.
    auto [code, body] = C().get(i, "/metrics");
    double sum = 0;
    std::istringstream in(body);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind(family + "{", 0) == 0 &&
          line.find("destination_node=\"" + C().name(lossy) + "\"") != std::string::npos)
        sum += std::stod(line.substr(line.rfind(' ') + 1));
    }
    return sum;
  };
  std::vector<double> lost_before;
  for (int i = 1; i <= kNodes; ++i) lost_before.push_back(has_peer_loss ? lost_to(i) : 0);
  const std::int64_t t0 = wall_ms();
  REQUIRE(C().set_loss(lossy, 0.2) == "");
  int polls = 0, not_alive = 0;
  const auto end = Clock::now() + std::chrono::seconds(secs);
  while (Clock::now() < end) {
    for (int i = 1; i <= kNodes; ++i) {
      for (const auto& [n, s] : C().members(i)) not_alive += s == "failed";
    }
    ++polls;
    std::this_thread::sleep_for(500ms);
  }
  REQUIRE(C().set_loss(lossy, 0) == "");
  // A suspicion raised just before the end may still time out: wait that long, then count.
  wait_out_late_suspicions();
  INFO(failed_report(t0));
  CHECK(not_alive == 0);
  for (int i = 1; i <= kNodes; ++i) {
    CHECK(failed_seen_by(i, t0).empty());
    CHECK(status_entry(i, lossy).is_object());
  }
  MESSAGE(secs << "s of 20% loss (both directions) on n2: " << polls
               << " polls of every member list, failed seen " << not_alive << " times");
  if (has_peer_loss) {
    double grew = 0;
    for (int i = 1; i <= kNodes; ++i) {
      if (i != lossy) grew += lost_to(i) - lost_before[static_cast<std::size_t>(i - 1)];
    }
    MESSAGE("peer packets lost towards n2 during the window (all observers): " << grew);
    CHECK(grew > 0);
  } else {
    MESSAGE("NOTE: " << family << " is not exported yet; the loss in peer metrics is not checked");
  }
}

TEST_CASE("6: a starved process (SIGSTOP/SIGCONT duty cycle): no false failure of the others") {
  baseline();
  const int starved = 4;
  const int secs = env_seconds("VIGIL_NETNS_STARVE_SECONDS", 30);
  const std::int64_t t0 = wall_ms();
  std::atomic<bool> stop{false};
  int cycles = 0;
  // Stopped 800 ms of every 2 s: longer than a probe interval plus its timeout, shorter than
  // the minimum suspicion timeout.
  std::thread duty([&] {
    const auto end = Clock::now() + std::chrono::seconds(secs);
    while (!stop && Clock::now() < end) {
      C().signal(starved, SIGSTOP);
      std::this_thread::sleep_for(800ms);
      C().signal(starved, SIGCONT);
      std::this_thread::sleep_for(1200ms);
      ++cycles;
    }
  });
  struct Join {
    std::thread& t;
    std::atomic<bool>& s;
    ~Join() {
      s = true;
      t.join();
      C().signal(4, SIGCONT);
    }
  } join{duty, stop};
  int failed_others = 0;
  const auto end = Clock::now() + std::chrono::seconds(secs);
  while (Clock::now() < end) {
    for (int i : all_but({starved})) {
      for (const auto& [n, s] : C().members(i)) {
        if (n != C().name(starved) && s == "failed") ++failed_others;
      }
    }
    std::this_thread::sleep_for(500ms);
  }
  stop = true;
  wait_out_late_suspicions();
  INFO(failed_report(t0));
  CHECK(failed_others == 0);
  int starved_failed = 0;
  for (int i = 1; i <= kNodes; ++i) {
    for (const auto& n : failed_seen_by(i, t0)) {
      if (n == C().name(starved)) {
        ++starved_failed;
      } else {
        CHECK(n == C().name(starved));  // a healthy node marked failed
      }
    }
    CHECK(C().get_json(i, "/v1/status").is_object());
  }
  CHECK(C().running(starved));
  MESSAGE(cycles << " stop/continue cycles of n4 (0.8 s stopped / 2 s); n4 itself declared failed "
                 << starved_failed << " times (not asserted)");
}

TEST_CASE("7: etcd killed on n1 -> its etcd probe failed on every observer within a bound") {
  baseline();
  REQUIRE(g_etcd != nullptr);
  // Running first, as every node sees it.
  REQUIRE(NetnsCluster::eventually(
      [] {
        for (int i = 1; i <= kNodes; ++i) {
          if (probe(status_entry(i, 1), "etcd").value("status", "") != "running") return false;
        }
        return true;
      },
      30s));
  const std::int64_t t0 = wall_ms();
  ::kill(g_etcd->pid(), SIGKILL);
  g_etcd->stop();
  const auto t_kill = Clock::now();
  // interval x failure_threshold + timeout + grace, then one dissemination.
  const Seconds bound = Seconds(1s * 1 + 800ms + 250ms) + C().detect_bound();
  const bool seen = NetnsCluster::eventually(
      [] {
        for (int i = 1; i <= kNodes; ++i) {
          const json p = probe(status_entry(i, 1), "etcd");
          if (p.value("status", "") != "failed" ||
              p.value("error", "").find("127.0.0.1:2379") == std::string::npos)
            return false;
        }
        return true;
      },
      bound);
  MESSAGE("etcd killed -> failed on every observer in " << seconds_since(t_kill) << "s (bound "
                                                        << bound.count() << "s)");
  INFO("n3's view: " << status_entry(3, 1).dump());
  CHECK(seen);
  for (int i = 1; i <= kNodes; ++i) {
    INFO("observer " << C().name(i));
    CHECK(status_entry(i, 1).value("status", "") == "degraded");
    CHECK(C().get(i, "/v1/status").first == 503);
    CHECK(NetnsCluster::eventually(
        [&] { return history_has(i, "ProbeFailed", C().name(1), t0, "etcd"); }, 10s));
    CHECK(C().member_status(i, 1) == "alive");  // the agent itself is fine
  }
}

TEST_CASE("8: full disk under one node's data dir -> mesh and API keep working, store warns") {
  baseline();
  const int full = 5;
  C().signal(full, SIGTERM);
  REQUIRE(C().wait_exit(full) == 0);
  const std::string dd = C().data_dir(full);
  REQUIRE(::mount("vigil-full", dd.c_str(), "tmpfs", 0, "size=1m,nr_inodes=64") == 0);
  struct Unmount {
    std::string d;
    ~Unmount() { ::umount2(d.c_str(), MNT_DETACH); }
  } unmount{dd};
  REQUIRE(C().start(full));
  REQUIRE(NetnsCluster::eventually([] { return C().converged(); }, C().converge_bound()));
  // Fill what is left (dd ends with "No space left on device").
  vigil::test::run_cmd({"dd", "if=/dev/zero", "of=" + dd + "/filler", "bs=64k"}, 20s);
  const std::int64_t t0 = wall_ms();
  // Events to write: n2's flag probe fails and recovers, n4 is killed.
  vigil::test::write_file(C().flag_path(2), "x");
  C().kill9(4);
  const bool warned = NetnsCluster::eventually(
      [&] {
        const json p = probe(status_entry(full, full), "store");
        return p.value("status", "") == "failed" && p.value("severity", "") == "warning";
      },
      C().detect_bound() + 10s);  // + the store's retry interval (5 s) and a refresh
  INFO("n5's own entry: " << status_entry(full, full).dump() << "\nlog: " << C().log_tail(full));
  CHECK(warned);
  const json store = probe(status_entry(full, full), "store");
  CHECK(store.value("error", "").find("full") != std::string::npos);
  // The mesh keeps working: n4 failed, seen from the full node too; every API answers.
  CHECK(NetnsCluster::eventually([&] { return C().member_status(full, 4) == "failed"; },
                                 C().detect_bound()));
  CHECK(member_status_in_status(full, 4) == "failed");
  CHECK(history_has(full, "NodeFailed", "n4", t0));  // from the memory ring
  CHECK(history_has(full, "ProbeFailed", "n2", t0, "flag"));
  CHECK(C().metric(full, "vigil_store_errors_total").value_or(0) > 0);
  // Other observers see n5's store warning; it stays a warning (n5 not degraded by it).
  CHECK(NetnsCluster::eventually(
      [&] {
        for (int i : all_but({4, full})) {
          if (probe(status_entry(i, full), "store").value("status", "") != "failed") return false;
        }
        return true;
      },
      C().detect_bound()));
  for (int i : all_but({4})) CHECK(status_entry(i, full).value("status", "") == "running");
  std::remove(C().flag_path(2).c_str());
  REQUIRE(C().start(4));
  CHECK(NetnsCluster::eventually([] { return C().converged(); }, C().converge_bound()));
  // Back to the real data dir for the next scenarios.
  C().signal(full, SIGTERM);
  CHECK(C().wait_exit(full) == 0);
}

TEST_CASE("9: agent restart -> the history from before is still there") {
  baseline();
  const int node = 2;
  // Make sure there is history to keep: the flag probe fails once. It may still be failed from
  // scenario 8 (the flag was removed there, the probe may not have run since): wait until it
  // runs clean, so raising the flag again is a new ProbeFailed.
  std::remove(C().flag_path(node).c_str());
  CHECK(NetnsCluster::eventually(
      [&] { return probe(status_entry(node, node), "flag").value("status", "") == "running"; },
      20s));
  const std::int64_t t0 = wall_ms();
  vigil::test::write_file(C().flag_path(node), "x");
  INFO("n2's own entry: " << status_entry(node, node).dump());
  CHECK(NetnsCluster::eventually(
      [&] { return history_has(node, "ProbeFailed", C().name(node), t0, "flag"); }, 20s));
  std::remove(C().flag_path(node).c_str());
  CHECK(NetnsCluster::eventually(
      [&] { return history_has(node, "ProbeSucceeded", C().name(node), t0, "flag"); }, 20s));
  const json before = history(node, "", 0);
  REQUIRE(before.is_array());
  REQUIRE(before.size() >= 2);  // at least the flag events (plus what earlier scenarios left)
  C().signal(node, SIGTERM);
  REQUIRE(C().wait_exit(node) == 0);
  REQUIRE(C().start(node));
  REQUIRE(NetnsCluster::eventually([] { return C().converged(); }, C().converge_bound()));
  const json after = history(node, "", 0);
  REQUIRE(after.is_array());
  std::set<std::string> now;
  for (const auto& r : after) now.insert(r.dump());
  std::size_t missing = 0;
  for (const auto& r : before) missing += now.count(r.dump()) == 0;
  MESSAGE(before.size() << " history rows before the restart, " << after.size() << " after, "
                        << missing << " missing");
  CHECK(missing == 0);
  CHECK(after.size() >= before.size());
  for (int i = 1; i <= kNodes; ++i) CHECK(C().member_status(i, node) == "alive");
}

int main(int argc, char** argv) {
  doctest::Context ctx(argc, argv);
  for (int k = 1; k < argc; ++k) {
    const std::string a = argv[k];
    if (a.rfind("--list", 0) == 0 || a == "-ltc" || a == "-h" || a == "--help") return ctx.run();
  }
  std::string why;
  if (::geteuid() != 0) why = "needs root (network namespaces, nft, iptables, mount)";
  for (const char* exe : {"ip", "nft", "iptables", "etcd", "dd"}) {
    if (why.empty() && vigil::test::find_exe(exe).empty())
      why = std::string(exe) + " not installed (scripts/setup.sh)";
  }
  if (!why.empty()) {
    vigil::test::skip(why);
    return vigil::test::exit_code(0);
  }
  NetnsCluster cluster(kNodes, VIGIL_BIN, "vgns");
  if (!cluster.ok()) {
    std::printf("netns setup failed: %s\n", cluster.error().c_str());
    return 1;
  }
  g_cluster = &cluster;
  // A real etcd inside n1's namespace (its own loopback), and n1 checks it.
  vigil::test::Process etcd;
  const std::string etcd_dir = cluster.dir() + "/etcd";
  if (!etcd.start({"ip", "netns", "exec", cluster.ns(1), "etcd", "--data-dir", etcd_dir,
                   "--listen-client-urls", "http://127.0.0.1:2379", "--advertise-client-urls",
                   "http://127.0.0.1:2379", "--listen-peer-urls", "http://127.0.0.1:2380",
                   "--initial-advertise-peer-urls", "http://127.0.0.1:2380", "--initial-cluster",
                   "default=http://127.0.0.1:2380"},
                  cluster.dir() + "/etcd.log")) {
    std::printf("could not start etcd\n");
    return 1;
  }
  g_etcd = &etcd;
  std::string chk = cluster.default_checkers(1);
  chk.pop_back();  // ']'
  chk += R"(, {"type": "etcd", "endpoints": ["http://127.0.0.1:2379"], "interval": "1s",
    "timeout": "800ms", "failure_threshold": 1}])";
  cluster.set_checkers(1, chk);
  for (int i = 1; i <= kNodes; ++i) cluster.start(i);
  std::printf("netns cluster: %d agents, detection bound %.1fs, convergence bound %.1fs\n", kNodes,
              cluster.detect_bound().count(), cluster.converge_bound().count());
  const int rc = ctx.run();
  for (int i = 1; i <= kNodes; ++i) {
    if (cluster.running(i)) {
      cluster.signal(i, SIGTERM);
      cluster.wait_exit(i);
    }
  }
  int crashes = 0;
  for (const auto& c : cluster.crashes()) {
    std::printf("CRASH %s\n", c.c_str());
    ++crashes;
  }
  etcd.stop();
  g_etcd = nullptr;
  g_cluster = nullptr;
  return vigil::test::exit_code(rc != 0 ? rc : (crashes > 0 ? 1 : 0));
}
