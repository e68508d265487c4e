// Diagnosis right after a failure, on synthetic matrices shaped like the simulator's
// (test/sim/diagnosis_sim_test.cpp): the 60 s window still pools answered probes from before
// the failure, and the cut-off node's own view still holds the others' last rows.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "api/diagnosis.hpp"

using namespace vigil::api;

namespace {

std::string name(int i) {
  return "node-" + std::to_string(i);
}

/// n nodes, all alive, every ordered pair measured with 10 probes, nothing lost.
DiagnosisInput healthy(int n) {
  DiagnosisInput in;
  in.window = std::chrono::seconds{60};
  for (int i = 0; i < n; ++i) in.nodes.push_back({name(i), PeerStatus::alive, ""});
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j)
      if (i != j) in.links.push_back({name(i), name(j), 0.0, std::chrono::milliseconds{1}, 10});
  return in;
}

void set_loss(DiagnosisInput& in, const std::string& from, const std::string& to, double loss) {
  for (auto& l : in.links)
    if (l.from == from && l.to == to) l.loss = loss;
}

void set_status(DiagnosisInput& in, const std::string& n, PeerStatus s) {
  for (auto& node : in.nodes)
    if (node.name == n) node.status = s;
}

}  // namespace

TEST_CASE("a node gossip marks failed while the window still pools probes from before") {
  // node-7 died ~10 s ago: three peers probed it since (half of their window's probes lost),
  // the others only before (all answered). Gossip marks it failed.
  DiagnosisInput in = healthy(12);
  std::erase_if(in.links, [](const LinkSample& l) { return l.from == name(7); });  // silent
  set_status(in, name(7), PeerStatus::failed);
  for (int w : {1, 4, 9}) set_loss(in, name(w), name(7), 0.5);
  const auto d = diagnose(in);
  REQUIRE(d.size() == 1);
  CHECK(d[0].kind == DiagnosisKind::node_unreachable);
  CHECK(d[0].node == name(7));
  CHECK(d[0].evidence ==
        "gossip marks node-7 failed; 3 of 11 peers lose some of their probes to it");

  SUBCASE("one witness is not enough against ten peers that reach it") {
    for (int w : {4, 9}) set_loss(in, name(w), name(7), 0.0);
    CHECK(diagnose(in).empty());
  }
  SUBCASE("witnesses losing everything are named as such") {
    set_loss(in, name(1), name(7), 1.0);
    const auto d2 = diagnose(in);
    REQUIRE(d2.size() == 1);
    CHECK(d2[0].evidence ==
          "gossip marks node-7 failed; 1 of 11 peers lose > 50% of probes to it, 2 more lose "
          "some");
  }
}

TEST_CASE("the cut-off node's own view: it is isolated, and blames none it marked failed") {
  // node-0 lost every peer; it still holds their last rows (they reach each other) and has
  // already marked two of them failed, which those rows do not mention (a summary keeps 24
  // entries, healthy peers by name).
  DiagnosisInput in = healthy(10);
  in.observer = name(0);
  for (int j = 1; j < 10; ++j) set_loss(in, name(0), name(j), 1.0);
  std::erase_if(in.links, [](const LinkSample& l) {
    return l.from != name(0) && (l.to == name(3) || l.to == name(5));
  });
  set_status(in, name(3), PeerStatus::failed);
  set_status(in, name(5), PeerStatus::failed);
  const auto d = diagnose(in);
  REQUIRE(d.size() == 1);
  CHECK(d[0].kind == DiagnosisKind::node_isolated);
  CHECK(d[0].node == name(0));

  SUBCASE("another observer's view of the same members blames them (gossip alone)") {
    in.observer = name(1);
    const auto d1 = diagnose(in);
    REQUIRE(d1.size() == 3);
    CHECK(d1[0].kind == DiagnosisKind::node_isolated);
    CHECK(d1[1].kind == DiagnosisKind::node_unreachable);
    CHECK(d1[2].kind == DiagnosisKind::node_unreachable);
  }
}

TEST_CASE("a lossy node's noisiest link is its loss, not an asymmetric link") {
  // node-5 loses ~20% both ways to everyone; with 10 probes per link, one sample came out at
  // 60% (node-5 -> node-2) while node-2's probes to it all came back.
  DiagnosisInput in = healthy(8);
  for (int j = 0; j < 8; ++j) {
    if (j == 5) continue;
    set_loss(in, name(5), name(j), 0.2);
    set_loss(in, name(j), name(5), 0.2);
  }
  set_loss(in, name(5), name(2), 0.6);
  set_loss(in, name(2), name(5), 0.0);
  const auto d = diagnose(in);
  REQUIRE(d.size() == 1);
  CHECK(d[0].kind == DiagnosisKind::lossy_node);
  CHECK(d[0].node == name(5));
}
