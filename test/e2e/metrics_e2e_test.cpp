// End to end, issue 6 metrics: four real agents on 127.0.0.1 in two zones (za: n1 n2, zb: n3
// n4) with the ping checker (ICMP to the peers' 127.0.0.1) and metrics.max_peers = 2.
// n1's /metrics must pass `promtool check metrics`, name every metric test/chart/metrics.txt
// promises (what the alerts and the dashboard query), hold per-peer series for at most 2
// peers with both nodes' zones and both protocols, and zone aggregates for every peer; a
// peer that leaves (SIGTERM) and one killed and reaped lose their per-peer series.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "agent_fixture.hpp"
#include "test/skip.hpp"

using namespace vigil::e2e;

namespace {

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// Parses sample lines of a text exposition (label values here have no escapes).
std::vector<Sample> parse(const std::string& text) {
  static const std::regex line_re(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)$)");
  static const std::regex label_re(R"re(([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)")re");
  std::vector<Sample> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (line.empty() || line[0] == '#' || !std::regex_match(line, m, line_re)) continue;
    Sample s;
    s.name = m[1];
    const std::string labels = m[3];
    for (std::sregex_iterator it(labels.begin(), labels.end(), label_re), end; it != end; ++it)
      s.labels[(*it)[1]] = (*it)[2];
    s.value = m[4] == "+Inf" ? 1e300 : std::stod(m[4]);
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<Sample> named(const std::vector<Sample>& all, const std::string& name) {
  std::vector<Sample> out;
  for (const Sample& s : all)
    if (s.name == name) out.push_back(s);
  return out;
}

std::set<std::string> destinations(const std::vector<Sample>& all) {
  std::set<std::string> d;
  for (const Sample& s : named(all, "vigil_peer_packets_sent_total"))
    d.insert(s.labels.at("destination_node"));
  return d;
}

// "name type ..." lines of test/chart/metrics.txt that start with vigil_.
std::map<std::string, std::string> promised_metrics() {
  std::ifstream in(VIGIL_SOURCE_DIR "/test/chart/metrics.txt");
  std::map<std::string, std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string name, type;
    if (ls >> name >> type && name.rfind("vigil_", 0) == 0) out[name] = type;
  }
  return out;
}

std::string zone_of(const std::string& node) {
  return node == "n1" || node == "n2" ? "za" : "zb";
}

}  // namespace

TEST_CASE("e2e metrics: per-peer series capped, with zones; gone on leave and reap; promtool") {
  if (auto r = icmp_unavailable(); !r.empty()) return vigil::test::skip(r);
  Cluster c;
  const std::string config = c.dir() + "/metrics.json";
  std::ofstream(config) << R"({
  "profile": "local",
  "metrics": {"max_peers": 2},
  "checkers": [{"type": "ping", "interval": "1s", "timeout": "900ms", "count": 2,
                "packet_interval": "50ms", "reply_timeout": "300ms"}],
  "gossip": {
    "probe_interval": "200ms", "probe_timeout": "80ms", "gossip_interval": "50ms",
    "suspicion_mult": 3, "suspicion_max_timeout_mult": 4, "push_pull_interval": "2s",
    "reconnect_interval": "1s", "stream_timeout": "1s", "gossip_to_the_dead_time": "2s",
    "dead_reap_timeout": "4s", "left_reap_timeout": "60s"
  }
})";
  std::vector<int> ix;
  int seed_port = 0;
  for (int k = 1; k <= 4; ++k) {
    const std::string name = "n" + std::to_string(k);
    AgentSpec s{.name = name, .extra = {"--tag", "zone=" + zone_of(name)}, .config = config};
    if (k > 1) s.join = {"127.0.0.1:" + std::to_string(seed_port)};
    ix.push_back(c.start(s));
    if (k == 1) seed_port = c.spec(ix[0]).gossip_port;
  }
  const int n1 = ix[0];
  auto scrape = [&] { return c.http_get(n1, "/metrics").second; };
  auto has_protocols = [](const std::vector<Sample>& all) {
    std::set<std::string> p;
    for (const Sample& s : named(all, "vigil_peer_packets_sent_total"))
      p.insert(s.labels.at("protocol"));
    return p.count("gossip") && p.count("icmp");
  };
  // Every peer probed over both protocols: two exported peers, zone totals for both zones.
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        auto all = parse(scrape());
                        return destinations(all).size() == 2 && has_protocols(all) &&
                               named(all, "vigil_zone_packets_sent_total").size() == 4;
                      },
                      40s),
                  std::string(scrape() + c.log(n1)));
  const std::string text = scrape();
  const auto all = parse(text);
  CHECK(c.metric(n1, "vigil_members_seen") == 4);
  CHECK(named(all, "vigil_build_info").size() == 1);

  // Per-peer series: capped at 2 peers, labelled with both ends' nodes and zones.
  for (const Sample& s : named(all, "vigil_peer_packets_sent_total")) {
    CHECK(s.labels.at("source_node") == "n1");
    CHECK(s.labels.at("source_zone") == "za");
    CHECK(s.labels.at("destination_zone") == zone_of(s.labels.at("destination_node")));
    CHECK(s.value > 0);
  }
  CHECK(destinations(all).size() == 2);
  for (const char* n : {"vigil_peer_packets_lost_total", "vigil_peer_rtt_seconds_count"}) {
    std::set<std::string> d;
    for (const Sample& s : named(all, n)) d.insert(s.labels.at("destination_node"));
    CHECK(d == destinations(all));
  }
  // Zone aggregates cover all three peers: at least the exported peers' packets, per pair.
  std::map<std::string, double> zone_sent, exported_sent;
  for (const Sample& s : named(all, "vigil_zone_packets_sent_total"))
    zone_sent[s.labels.at("destination_zone") + "/" + s.labels.at("protocol")] = s.value;
  for (const Sample& s : named(all, "vigil_peer_packets_sent_total"))
    exported_sent[s.labels.at("destination_zone") + "/" + s.labels.at("protocol")] += s.value;
  for (const auto& [key, v] : exported_sent) CHECK(zone_sent[key] >= v);
  CHECK(zone_sent.count("za/gossip"));
  CHECK(zone_sent.count("zb/icmp"));

  // Every metric the chart's alerts and dashboard rely on exists, with the promised type.
  const auto promised = promised_metrics();
  REQUIRE(promised.size() >= 15);
  for (const auto& [name, type] : promised) {
    const std::string want = "# TYPE " + name + (type == "any" ? " " : " " + type + "\n");
    const std::string why = name + " (" + type + ") missing from /metrics";
    CHECK_MESSAGE(text.find(want) != std::string::npos, why);
  }

  // promtool judges the exposition with peers.
  if (access("/usr/bin/promtool", X_OK) != 0) {
    vigil::test::skip("promtool check: /usr/bin/promtool missing (apt package prometheus)");
  } else {
    const std::string file = c.dir() + "/metrics.txt";
    std::ofstream(file) << text;
    const std::string cmd =
        "/usr/bin/promtool check metrics < " + file + " > " + file + ".out 2>&1";
    const int rc = std::system(cmd.c_str());
    std::ifstream out(file + ".out");
    std::string why((std::istreambuf_iterator<char>(out)), std::istreambuf_iterator<char>());
    CHECK_MESSAGE(rc == 0, why);
  }

  // An exported peer leaves gracefully: its series go at once (zone totals stay).
  const std::string leaver = *destinations(all).begin();
  const int li = ix[std::stoi(leaver.substr(1)) - 1];
  c.signal(li, SIGTERM);
  CHECK(c.wait_exit(li) == 0);
  CHECK(eventually([&] { return destinations(parse(scrape())).count(leaver) == 0; }, 20s));
  CHECK(named(parse(scrape()), "vigil_zone_packets_sent_total").size() == 4);
  // The remaining two peers are both exported now; kill -9 one: its probes are lost (loss
  // counted), it fails, and after dead_reap_timeout it is reaped and its series go too.
  CHECK(eventually([&] { return destinations(parse(scrape())).size() == 2; }, 20s));
  std::string victim;
  for (const std::string& d : destinations(parse(scrape())))
    if (d != leaver) victim = d;
  REQUIRE(!victim.empty());
  const int vi = ix[std::stoi(victim.substr(1)) - 1];
  c.signal(vi, SIGKILL);
  c.wait_exit(vi);
  CHECK(eventually(
      [&] {
        for (const Sample& s : named(parse(scrape()), "vigil_peer_packets_lost_total"))
          if (s.labels.at("destination_node") == victim && s.value > 0) return true;
        return false;
      },
      20s));
  CHECK(eventually([&] { return destinations(parse(scrape())).count(victim) == 0; }, 30s));
  CHECK(c.metric(n1, "vigil_members_seen") == 2);
}
