// Culprit diagnosis on synthetic reachability matrices: every kind, healthy and quiet
// matrices, small clusters, combined faults, and "a larger fault explains the smaller ones".
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "api/diagnosis.hpp"

using namespace vigil::api;

namespace {

/// A synthetic cluster: every fresh node probes every other node with `probes` probes, loss 0,
/// until a test changes a link.
class Mesh {
 public:
  explicit Mesh(std::vector<std::pair<std::string, std::string>> nodes_and_zones,
                std::uint32_t probes = 20)
      : probes_(probes) {
    for (auto& [name, zone] : nodes_and_zones) {
      in_.nodes.push_back({name, PeerStatus::alive, zone});
    }
    for (const auto& a : in_.nodes) {
      for (const auto& b : in_.nodes) {
        if (a.name != b.name) loss_[{a.name, b.name}] = 0.0;
      }
    }
  }
  static Mesh plain(int n) {
    std::vector<std::pair<std::string, std::string>> v;
    for (int i = 1; i <= n; ++i) v.push_back({"node-" + std::to_string(i), ""});
    return Mesh(v);
  }
  Mesh& set(const std::string& from, const std::string& to, double loss) {
    loss_[{from, to}] = loss;
    return *this;
  }
  /// Both directions of every link touching `n` lose `loss`.
  Mesh& cut(const std::string& n, double loss = 1.0) {
    for (auto& [k, v] : loss_) {
      if (k.first == n || k.second == n) v = loss;
    }
    return *this;
  }
  Mesh& status(const std::string& n, PeerStatus s) {
    for (auto& node : in_.nodes) {
      if (node.name == n) node.status = s;
    }
    return *this;
  }
  /// The observer `n` stops reporting (its row is gone, as with a dead node).
  Mesh& silent(const std::string& n) {
    silent_.push_back(n);
    return *this;
  }
  Mesh& observer(const std::string& n) {
    in_.observer = n;
    return *this;
  }
  DiagnosisInput input() const {
    DiagnosisInput in = in_;
    for (const auto& [k, v] : loss_) {
      if (std::find(silent_.begin(), silent_.end(), k.first) != silent_.end()) continue;
      in.links.push_back({k.first, k.second, v, std::chrono::milliseconds{1}, probes_});
    }
    return in;
  }
  std::vector<DiagnosisEntry> run(const DiagnosisConfig& cfg = {}) const {
    return diagnose(input(), cfg);
  }

 private:
  DiagnosisInput in_;
  std::map<std::pair<std::string, std::string>, double> loss_;
  std::vector<std::string> silent_;
  std::uint32_t probes_;
};

std::string kinds(const std::vector<DiagnosisEntry>& d) {
  std::string s;
  for (const auto& e : d) {
    s += (s.empty() ? "" : " ") + std::string(to_string(e.kind)) + (e.node.empty() ? "" : ":") +
         e.node;
  }
  return s;
}

}  // namespace

TEST_CASE("kind names are the JSON names") {
  CHECK(to_string(DiagnosisKind::node_unreachable) == "node-unreachable");
  CHECK(to_string(DiagnosisKind::node_isolated) == "node-isolated");
  CHECK(to_string(DiagnosisKind::zone_partition) == "zone-partition");
  CHECK(to_string(DiagnosisKind::asymmetric_link) == "asymmetric-link");
  CHECK(to_string(DiagnosisKind::lossy_node) == "lossy-node");
  CHECK(to_string(DiagnosisKind::split_brain) == "split-brain");
  CHECK(to_string(DiagnosisKind::link_down) == "link-down");
}

TEST_CASE("a healthy cluster, an empty input and a quiet matrix yield nothing") {
  CHECK(Mesh::plain(5).run().empty());
  CHECK(diagnose(DiagnosisInput{}).empty());
  // Total loss everywhere, but only 3 probes per link: not evidence.
  std::vector<std::pair<std::string, std::string>> v;
  for (int i = 1; i <= 5; ++i) v.push_back({"node-" + std::to_string(i), ""});
  Mesh quiet(v, 3);
  quiet.cut("node-1").cut("node-2");
  CHECK(quiet.run().empty());
  // A little loss under the lossy threshold is normal.
  auto m = Mesh::plain(5);
  m.set("node-1", "node-2", 0.05).set("node-3", "node-4", 0.05);
  CHECK(m.run().empty());
}

TEST_CASE("node-unreachable: a dead node that every peer loses") {
  auto m = Mesh::plain(5);
  m.cut("node-3").silent("node-3").status("node-3", PeerStatus::failed);
  const auto d = m.run();
  REQUIRE(kinds(d) == "node-unreachable:node-3");
  CHECK(d[0].evidence == "4 of 4 peers lose > 50% of probes to node-3; gossip marks it failed");
  CHECK(d[0].nodes == std::vector<std::string>{"node-3"});
  CHECK(d[0].confidence > 0.7);
  // Still alive in gossip (just cut off for probes): the same culprit.
  auto alive = Mesh::plain(5);
  alive.cut("node-3").silent("node-3");
  CHECK(kinds(alive.run()) == "node-unreachable:node-3");
  // With the window named, the evidence reads as in design.md.
  DiagnosisInput in = alive.input();
  in.window = std::chrono::seconds{60};
  const auto w = diagnose(in);
  REQUIRE(w.size() == 1);
  CHECK(w[0].evidence == "4 of 4 peers lose > 50% of probes to node-3 for 60s");
}

TEST_CASE("node-unreachable from gossip alone when peers stopped probing it") {
  Mesh m = Mesh::plain(4);
  DiagnosisInput in = m.status("node-4", PeerStatus::failed).silent("node-4").input();
  std::erase_if(in.links, [](const LinkSample& s) { return s.to == "node-4"; });
  const auto d = diagnose(in);
  REQUIRE(kinds(d) == "node-unreachable:node-4");
  CHECK(d[0].evidence == "gossip marks node-4 failed; no recent probe results");
  CHECK(d[0].confidence < 0.5);
  // A left node is a graceful departure: nothing to diagnose.
  auto left = Mesh::plain(4);
  left.status("node-4", PeerStatus::left).silent("node-4").cut("node-4");
  CHECK(left.run().empty());
}

TEST_CASE("gossip says failed but probes reach it: no blame") {
  auto m = Mesh::plain(5);
  m.status("node-2", PeerStatus::failed).silent("node-2");
  CHECK(m.run().empty());
}

TEST_CASE("node-isolated: its own network is broken, and nobody else is blamed") {
  auto m = Mesh::plain(5);
  m.cut("node-2");  // node-2 still reports: it loses everyone, everyone loses it
  const auto d = m.run();
  REQUIRE(kinds(d) == "node-isolated:node-2");
  CHECK(d[0].evidence ==
        "node-2 loses > 50% of probes to 4 of 4 peers, which reach each other (12 of 12 links "
        "fine)");
  // Only its outgoing probes fail (peers still reach it): still its own network.
  auto out = Mesh::plain(5);
  for (int i = 1; i <= 5; ++i) {
    if (i != 2) out.set("node-2", "node-" + std::to_string(i), 1.0);
  }
  CHECK(kinds(out.run()) == "node-isolated:node-2");
}

TEST_CASE("zone-partition: both sides report; no node is blamed") {
  Mesh m({{"a1", "eu-1a"},
          {"a2", "eu-1a"},
          {"a3", "eu-1a"},
          {"b1", "eu-1b"},
          {"b2", "eu-1b"},
          {"b3", "eu-1b"}});
  for (const char* a : {"a1", "a2", "a3"}) {
    for (const char* b : {"b1", "b2", "b3"}) m.set(a, b, 1.0).set(b, a, 1.0);
  }
  const auto d = m.run();
  REQUIRE(kinds(d) == "zone-partition");
  CHECK(d[0].zones == std::vector<std::string>{"eu-1a", "eu-1b"});
  CHECK(d[0].nodes.size() == 6);
  CHECK(d[0].evidence ==
        "zone eu-1a is cut from zone eu-1b: 18 of 18 cross-zone links lose > 50% of probes, "
        "while 12 of 12 links inside the zones are fine");
}

TEST_CASE("zone-partition as one side sees it: the other zone failed and silent") {
  Mesh m({{"a1", "eu-1a"},
          {"a2", "eu-1a"},
          {"b1", "eu-1b"},
          {"b2", "eu-1b"},
          {"b3", "eu-1b"},
          {"c1", ""}});
  for (const char* b : {"b1", "b2", "b3"}) {
    m.cut(b).silent(b).status(b, PeerStatus::failed);
  }
  m.observer("a1");
  const auto d = m.run();
  REQUIRE(kinds(d) == "zone-partition");
  CHECK(d[0].zones == std::vector<std::string>{"eu-1b", "eu-1a"});
  // Gossip only, no probes toward the lost zone: still one zone verdict, not 3 nodes.
  DiagnosisInput in = m.input();
  std::erase_if(in.links, [](const LinkSample& s) { return s.to[0] == 'b'; });
  const auto g = diagnose(in);
  REQUIRE(kinds(g) == "zone-partition");
  CHECK(g[0].evidence ==
        "all 3 nodes of zone eu-1b are failed in gossip while zone eu-1a is up; no recent probe "
        "results");
}

TEST_CASE("split-brain: a partition not along zones blames no node") {
  auto m = Mesh::plain(6);
  for (const char* a : {"node-1", "node-2", "node-3"}) {
    for (const char* b : {"node-4", "node-5", "node-6"}) m.set(a, b, 1.0).set(b, a, 1.0);
  }
  const auto d = m.run();
  REQUIRE(kinds(d) == "split-brain");
  CHECK(d[0].evidence ==
        "the cluster is split into 2 groups that lose > 50% of probes to each other (18 of 18 "
        "links): {node-1, node-2, node-3} | {node-4, node-5, node-6}");
  // The same split plus an isolated node: both named, nothing else.
  auto m2 = Mesh::plain(7);
  for (const char* a : {"node-1", "node-2", "node-3"}) {
    for (const char* b : {"node-4", "node-5", "node-6"}) m2.set(a, b, 1.0).set(b, a, 1.0);
  }
  m2.cut("node-7");
  CHECK(kinds(m2.run()) == "split-brain node-isolated:node-7");
}

TEST_CASE("asymmetric-link: A->B lost, B->A fine") {
  auto m = Mesh::plain(4);
  m.set("node-1", "node-2", 1.0);
  const auto d = m.run();
  REQUIRE(kinds(d) == "asymmetric-link:node-1");
  CHECK(d[0].nodes == std::vector<std::string>{"node-1", "node-2"});
  CHECK(d[0].evidence ==
        "node-1 loses 100% of probes to node-2 (20 probes) while node-2 loses 0% to node-1 "
        "(20 probes)");
}

TEST_CASE("link-down: one link broken both ways in a larger cluster blames neither node") {
  auto m = Mesh::plain(5);
  m.set("node-1", "node-2", 1.0).set("node-2", "node-1", 0.9);
  const auto d = m.run();
  REQUIRE(kinds(d) == "link-down");
  CHECK(d[0].nodes == std::vector<std::string>{"node-1", "node-2"});
  CHECK(d[0].evidence.find("while both reach other peers") != std::string::npos);
}

TEST_CASE("lossy-node: moderate loss to/from one node across peers") {
  auto m = Mesh::plain(5);
  m.cut("node-4", 0.2);
  const auto d = m.run();
  REQUIRE(kinds(d) == "lossy-node:node-4");
  CHECK(d[0].evidence ==
        "4 of 4 peers see 10%-50% loss to/from node-4 (average 20%) while they see little "
        "loss among themselves (12 of 12 links fine)");
  // Loss on a single link is not a lossy node.
  auto one = Mesh::plain(5);
  one.set("node-4", "node-1", 0.3).set("node-1", "node-4", 0.3);
  CHECK(one.run().empty());
}

TEST_CASE("small clusters: only what can be concluded") {
  SUBCASE("2 nodes losing each other: a link, never a node") {
    auto m = Mesh::plain(2);
    m.cut("node-2");
    const auto d = m.run();
    REQUIRE(kinds(d) == "link-down");
    CHECK(d[0].evidence.find("with 2 nodes it cannot be told") != std::string::npos);
  }
  SUBCASE("2 nodes, the peer failed in gossip and silent") {
    auto m = Mesh::plain(2);
    m.cut("node-2").silent("node-2").status("node-2", PeerStatus::failed).observer("node-1");
    const auto d = m.run();
    REQUIRE(kinds(d) == "link-down");
    CHECK(d[0].nodes == std::vector<std::string>{"node-1", "node-2"});
  }
  SUBCASE("3 nodes, one dead: the other two agree and reach each other") {
    auto m = Mesh::plain(3);
    m.cut("node-3").silent("node-3").status("node-3", PeerStatus::failed);
    CHECK(kinds(m.run()) == "node-unreachable:node-3");
  }
  SUBCASE("3 nodes seen from the isolated one: it cannot blame the others") {
    auto m = Mesh::plain(3);
    m.cut("node-1").observer("node-1");
    for (const char* n : {"node-2", "node-3"}) m.silent(n).status(n, PeerStatus::failed);
    const auto d = m.run();
    REQUIRE(kinds(d) == "node-isolated:node-1");
    CHECK(d[0].evidence ==
          "node-1 sees all 2 other members failed: most likely node-1 is cut off from the "
          "network, or all of them are down");
    CHECK(d[0].nodes == std::vector<std::string>{"node-1"});
  }
  SUBCASE("3 nodes, one witness only: not enough to blame") {
    auto m = Mesh::plain(3);
    m.cut("node-3").silent("node-3").silent("node-2");
    CHECK(m.run().empty());
  }
}

TEST_CASE("combined faults are each named once, most confident first") {
  SUBCASE("zone partition plus a dead node inside one zone") {
    Mesh m({{"a1", "a"}, {"a2", "a"}, {"a3", "a"}, {"b1", "b"}, {"b2", "b"}, {"b3", "b"}});
    for (const char* a : {"a1", "a2", "a3"}) {
      for (const char* b : {"b1", "b2", "b3"}) m.set(a, b, 1.0).set(b, a, 1.0);
    }
    m.cut("a3").silent("a3").status("a3", PeerStatus::failed);
    const auto d = m.run();
    REQUIRE(kinds(d) == "zone-partition node-unreachable:a3");
    CHECK(d[1].evidence == "2 of 2 peers lose > 50% of probes to a3; gossip marks it failed");
  }
  SUBCASE("an isolated node and an asymmetric link elsewhere") {
    auto m = Mesh::plain(6);
    m.cut("node-6").set("node-1", "node-2", 1.0);
    const auto d = m.run();
    CHECK(kinds(d) == "node-isolated:node-6 asymmetric-link:node-1");
  }
  SUBCASE("a dead node and a lossy node") {
    auto m = Mesh::plain(6);
    m.cut("node-5").silent("node-5").status("node-5", PeerStatus::failed).cut("node-2", 0.25);
    m.set("node-2", "node-5", 1.0).set("node-5", "node-2", 1.0);
    const auto d = m.run();
    CHECK(kinds(d) == "node-unreachable:node-5 lossy-node:node-2");
    for (std::size_t i = 1; i < d.size(); ++i) CHECK(d[i - 1].confidence >= d[i].confidence);
  }
  SUBCASE("two dead nodes in a large cluster") {
    auto m = Mesh::plain(8);
    for (const char* n : {"node-3", "node-7"}) {
      m.cut(n).silent(n).status(n, PeerStatus::failed);
    }
    CHECK(kinds(m.run()) == "node-unreachable:node-3 node-unreachable:node-7");
  }
}

TEST_CASE("samples of one link are pooled by probe count; stale observers are ignored") {
  auto m = Mesh::plain(4);
  DiagnosisInput in = m.input();
  // node-1 -> node-2: 4 probes all lost (too few alone) + 4 more lost = 8 probes lost.
  for (auto& s : in.links) {
    if (s.from == "node-1" && s.to == "node-2") {
      s.loss = 1.0;
      s.probes = 4;
    }
  }
  in.links.push_back({"node-1", "node-2", 1.0, {}, 4});
  CHECK(kinds(diagnose(in)) == "asymmetric-link:node-1");
  // The same claim from a failed (stale) observer is not evidence.
  for (auto& n : in.nodes) {
    if (n.name == "node-1") n.status = PeerStatus::failed;
  }
  for (auto& s : in.links) {
    if (s.to == "node-1") s.loss = 0.0;
  }
  const auto d = diagnose(in);
  CHECK(kinds(d).find("asymmetric") == std::string::npos);
}

TEST_CASE("config validation") {
  CHECK(DiagnosisConfig{}.validate().empty());
  DiagnosisConfig c;
  c.bad_loss = 1.5;
  c.min_probes = 0;
  c.min_witnesses = 1;
  CHECK(c.validate().size() == 3);
  c = {};
  c.lossy_loss = 0.6;
  CHECK(c.validate().size() == 1);
}

TEST_CASE("lossy links inside a zone do not hide its partition") {
  Mesh m({{"a1", "a"}, {"a2", "a"}, {"a3", "a"}, {"b1", "b"}, {"b2", "b"}, {"b3", "b"}});
  for (const char* a : {"a1", "a2", "a3"}) {
    for (const char* b : {"b1", "b2", "b3"}) m.set(a, b, 1.0).set(b, a, 1.0);
  }
  m.set("a1", "a2", 0.3).set("a2", "a1", 0.3);
  const auto d = m.run();
  REQUIRE(!d.empty());
  CHECK(d[0].kind == DiagnosisKind::zone_partition);
}

TEST_CASE("a 1000-node sparse mesh: one dead and one isolated node, nothing else") {
  DiagnosisInput in;
  constexpr int kNodes = 1000, kFanout = 12;
  for (int i = 0; i < kNodes; ++i) {
    in.nodes.push_back({"n" + std::to_string(i), PeerStatus::alive, "z" + std::to_string(i % 3)});
  }
  in.nodes[7].status = PeerStatus::failed;
  for (int i = 0; i < kNodes; ++i) {
    if (i == 7) continue;  // dead: no reports
    for (int k = 1; k <= kFanout; ++k) {
      const int j = (i + k * 37) % kNodes;
      const double loss = (j == 7 || i == 500 || j == 500) ? 1.0 : 0.0;
      in.links.push_back({in.nodes[i].name, in.nodes[j].name, loss, {}, 20});
    }
  }
  const auto d = diagnose(in);
  CHECK(kinds(d) == "node-isolated:n500 node-unreachable:n7");
}

TEST_CASE("local evidence first: a cut-off observer names only itself, whatever its view says") {
  // node-3 is cut off: its stale view (others lose node-4, node-5 marked failed) would blame
  // peers it cannot reach; its own evidence (no probe answered, nothing heard) wins.
  Mesh m = Mesh::plain(5);
  m.cut("node-4").status("node-4", PeerStatus::failed).status("node-5", PeerStatus::failed);
  m.observer("node-3");
  CHECK(kinds(m.run()) != "node-isolated:node-3");
  DiagnosisInput in = m.input();
  in.observer_cut_off =
      "its last probe got no answer (direct, indirect or TCP) and no peer has "
      "reached it for 3s";
  const auto d = diagnose(in);
  REQUIRE(d.size() == 1);
  CHECK(kinds(d) == "node-isolated:node-3");
  CHECK(d[0].nodes == std::vector<std::string>{"node-3"});
  CHECK(d[0].evidence.find("node-3 is cut off: its last probe got no answer") == 0);
  CHECK(d[0].evidence.find("(4 other members)") != std::string::npos);
  // No observer named: the evidence cannot be placed, the matrix reasoning runs as before.
  in.observer.clear();
  CHECK(kinds(diagnose(in)) != "node-isolated:node-3");
}

TEST_CASE("udp-blocked: UDP lost while ICMP passes, by zone pair, by node, by pair") {
  std::vector<std::pair<std::string, std::string>> v;
  for (int i = 1; i <= 6; ++i) v.push_back({"node-" + std::to_string(i), i <= 3 ? "a" : "b"});
  Mesh m(v);  // ICMP fine everywhere
  auto rescued = [](std::string from, std::string to, std::uint32_t probes, double loss) {
    return LinkSample{std::move(from), std::move(to), loss, std::chrono::milliseconds{1}, probes};
  };
  SUBCASE("between two zones") {
    DiagnosisInput in = m.input();
    for (int i = 1; i <= 3; ++i)
      for (int j = 4; j <= 6; ++j)
        in.udp_links.push_back(
            rescued("node-" + std::to_string(i), "node-" + std::to_string(j), 4, 0.75));
    const auto d = diagnose(in);
    REQUIRE(d.size() == 1);
    CHECK(d[0].kind == DiagnosisKind::udp_blocked);
    CHECK(d[0].zones == std::vector<std::string>{"a", "b"});
    CHECK(d[0].nodes.size() == 6);
    CHECK(d[0].evidence.find("UDP lost between zone a and zone b: 27 of 36") == 0);
  }
  SUBCASE("between two groups the zone tags do not name") {
    Mesh plain = Mesh::plain(5);
    DiagnosisInput in = plain.input();
    for (int i : {1, 2})
      for (int j : {3, 4, 5})
        in.udp_links.push_back(
            rescued("node-" + std::to_string(i), "node-" + std::to_string(j), 4, 1.0));
    const auto d = diagnose(in);
    REQUIRE(d.size() == 1);
    CHECK(d[0].kind == DiagnosisKind::udp_blocked);
    CHECK(d[0].node.empty());
    CHECK(d[0].nodes.size() == 5);
    CHECK(d[0].evidence.find("UDP lost between {node-1, node-2} and {node-3, node-4, node-5}") ==
          0);
  }
  SUBCASE("one node, to and from its peers") {
    DiagnosisInput in = m.input();
    in.udp_links.push_back(rescued("node-1", "node-2", 3, 1.0));
    in.udp_links.push_back(rescued("node-3", "node-1", 3, 1.0));
    const auto d = diagnose(in);
    REQUIRE(d.size() == 1);
    CHECK(kinds(d) == "udp-blocked:node-1");
    CHECK(d[0].evidence.find("UDP to and from node-1 is lost") == 0);
  }
  SUBCASE("one pair; chance (one rescued probe) is nothing") {
    DiagnosisInput in = m.input();
    in.udp_links.push_back(rescued("node-2", "node-5", 6, 0.5));
    in.udp_links.push_back(rescued("node-3", "node-6", 5, 0.2));  // 1 of 5: a lost datagram
    in.udp_links.push_back(rescued("node-1", "node-3", 3, 1.0));  // < min_probes: too little
    const auto d = diagnose(in);
    REQUIRE(d.size() == 1);
    CHECK(d[0].kind == DiagnosisKind::udp_blocked);
    CHECK(d[0].nodes == std::vector<std::string>{"node-2", "node-5"});
    CHECK(d[0].node.empty());
  }
  SUBCASE("where ICMP is down too, it is a cut, not a UDP fault") {
    m.cut("node-4");
    DiagnosisInput in = m.input();
    in.udp_links.push_back(rescued("node-1", "node-4", 4, 1.0));
    in.udp_links.push_back(rescued("node-2", "node-4", 4, 1.0));
    const auto d = diagnose(in);
    REQUIRE_FALSE(d.empty());
    CHECK(std::none_of(d.begin(), d.end(),
                       [](const auto& e) { return e.kind == DiagnosisKind::udp_blocked; }));
  }
  CHECK(to_string(DiagnosisKind::udp_blocked) == "udp-blocked");
}

TEST_CASE("investigating: transitional shapes name no culprit they cannot support") {
  // Three zones of three; links are re-measured one ping run at a time after a fault.
  auto mesh = [] {
    return Mesh({{"a1", "a"},
                 {"a2", "a"},
                 {"a3", "a"},
                 {"b1", "b"},
                 {"b2", "b"},
                 {"b3", "b"},
                 {"c1", "c"},
                 {"c2", "c"},
                 {"c3", "c"}});
  };
  SUBCASE("a node lost from one other zone only, alive in gossip: a zone cut forming") {
    Mesh m = mesh();
    m.set("a1", "b1", 1).set("a2", "b1", 1).set("a3", "b1", 1);  // zone a re-measured b1 so far
    const auto d = m.run();
    REQUIRE(d.size() == 1);
    CHECK(d[0].kind == DiagnosisKind::investigating);
    CHECK(d[0].node.empty());
    CHECK(d[0].zones == std::vector<std::string>{"a", "b"});
    CHECK(d[0].evidence.find("a1 loses b1") != std::string::npos);
  }
  SUBCASE("the same node lost from two zones is node-unreachable") {
    Mesh m = mesh();
    m.set("a1", "b1", 1).set("a2", "b1", 1).set("c1", "b1", 1).set("c2", "b1", 1);
    m.set("a3", "b1", 1).set("c3", "b1", 1);
    CHECK(kinds(m.run()) == "node-unreachable:b1");
  }
  SUBCASE("two one-way links between the same zones are one fault forming, not two") {
    Mesh m = mesh();
    m.set("a1", "b1", 1).set("a2", "b2", 1);
    const auto d = m.run();
    REQUIRE(d.size() == 1);
    CHECK(d[0].kind == DiagnosisKind::investigating);
    CHECK(d[0].zones == std::vector<std::string>{"a", "b"});
    CHECK(d[0].nodes == std::vector<std::string>{"a1", "a2", "b1", "b2"});
  }
  SUBCASE("one one-way link stays an asymmetric link") {
    Mesh m = mesh();
    m.set("a1", "b1", 1);
    CHECK(kinds(m.run()) == "asymmetric-link:a1");
  }
  SUBCASE("'t reaches f fine' from a t that gossip suspects proves nothing") {
    Mesh m = mesh();
    m.set("a1", "b1", 1).status("b1", PeerStatus::suspect);
    const auto d = m.run();
    REQUIRE(d.size() == 1);
    CHECK(d[0].kind == DiagnosisKind::investigating);
    CHECK(d[0].zones == std::vector<std::string>{"a", "b"});
  }
  SUBCASE("'t reaches f fine' from a t that others lose too proves nothing") {
    Mesh m = mesh();
    m.set("a1", "c1", 1).set("b1", "c1", 1).set("b2", "c1", 1);
    for (const auto& e : m.run()) {
      INFO(kinds({e}));
      CHECK(e.kind != DiagnosisKind::asymmetric_link);
    }
  }
  SUBCASE("a node whose links go down one run at a time: loss rising, not a lossy node") {
    Mesh m = mesh();
    // c1's links: three re-measured since (all lost), two lossy (old and new samples pooled).
    m.set("a1", "c1", 1).set("c1", "a1", 1).set("b1", "c1", 1).set("c1", "b1", 1);
    m.set("b2", "c1", 1).set("c1", "b2", 1);
    m.set("a2", "c1", 0.3).set("c1", "a2", 0.3).set("b3", "c1", 0.3).set("c1", "b3", 0.3);
    const auto d = m.run();
    for (const auto& e : d) CHECK(e.kind != DiagnosisKind::lossy_node);
  }
  SUBCASE("a zone's members failed one at a time: its cut forming, not one node down") {
    Mesh m = mesh();
    m.observer("a1").status("c1", PeerStatus::failed).status("c2", PeerStatus::suspect);
    m.cut("c1").silent("c1");
    const auto d = m.run();
    REQUIRE_FALSE(d.empty());
    for (const auto& e : d) CHECK(e.kind != DiagnosisKind::node_unreachable);
    CHECK(d[0].kind == DiagnosisKind::investigating);
    CHECK(d[0].zones == std::vector<std::string>{"a", "c"});
  }
  SUBCASE("one node failed, its zone-mates alive: node-unreachable") {
    Mesh m = mesh();
    m.observer("a1").status("c1", PeerStatus::failed).cut("c1").silent("c1");
    CHECK(kinds(m.run()) == "node-unreachable:c1");
  }
  SUBCASE("inside a cut zone, the far side failing is not a minority split") {
    Mesh m = mesh();
    m.observer("c1");
    for (const char* n : {"a1", "a2", "a3", "b1", "b2"}) m.status(n, PeerStatus::failed).silent(n);
    const auto d = m.run();
    for (const auto& e : d) CHECK(e.kind != DiagnosisKind::split_brain);
  }
  CHECK(to_string(DiagnosisKind::investigating) == "investigating");
}
