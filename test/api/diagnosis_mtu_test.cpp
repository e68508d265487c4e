// mtu-blackhole on synthetic matrices: large echoes (DF, sized to the MTU) lost while the small
// echoes pass, by pair, by node, by zone pair and across the whole cluster; never where the
// small echoes are lost too, never from one unlucky echo.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "api/diagnosis.hpp"

using namespace vigil::api;

namespace {

std::string node(int i) {
  return "node-" + std::to_string(i);
}

/// n nodes (zones by `zone_of`), every one probing every other with 20 small echoes, no loss.
DiagnosisInput mesh(int n, std::string (*zone_of)(int) = nullptr) {
  DiagnosisInput in;
  for (int i = 1; i <= n; ++i)
    in.nodes.push_back({node(i), PeerStatus::alive, zone_of ? zone_of(i) : ""});
  for (int i = 1; i <= n; ++i)
    for (int j = 1; j <= n; ++j)
      if (i != j) in.links.push_back({node(i), node(j), 0.0, std::chrono::milliseconds{1}, 20});
  return in;
}

/// `from`'s large echoes to `to`: `sent`, all lost unless `lost` says otherwise.
void large(DiagnosisInput& in, int from, int to, std::uint32_t sent, std::uint32_t lost,
           std::uint32_t bytes = 1500) {
  in.large_echoes.push_back({node(from), node(to), sent, lost, bytes});
}

/// Small echoes between a and b lose `loss`, both ways.
void small_loss(DiagnosisInput& in, int a, int b, double loss) {
  for (auto& l : in.links)
    if ((l.from == node(a) && l.to == node(b)) || (l.from == node(b) && l.to == node(a)))
      l.loss = loss;
}

std::vector<DiagnosisEntry> mtu_entries(const std::vector<DiagnosisEntry>& d) {
  std::vector<DiagnosisEntry> out;
  std::copy_if(d.begin(), d.end(), std::back_inserter(out),
               [](const DiagnosisEntry& e) { return e.kind == DiagnosisKind::mtu_blackhole; });
  return out;
}

std::string zone_ab(int i) {
  return i <= 3 ? "a" : "b";
}

}  // namespace

TEST_CASE("mtu-blackhole: one node, to and from every peer (each peer's row or its own)") {
  DiagnosisInput in = mesh(5);
  for (int p : {1, 2, 4, 5}) large(in, p, 3, 2, 2);  // everyone's large echoes to node-3
  large(in, 3, 1, 2, 2);                             // and node-3's own
  const auto d = diagnose(in);
  REQUIRE(d.size() == 1);
  CHECK(d[0].kind == DiagnosisKind::mtu_blackhole);
  CHECK(d[0].node == "node-3");
  CHECK(d[0].nodes == std::vector<std::string>{"node-3"});
  INFO(d[0].evidence);
  CHECK(d[0].evidence.find("1500-byte packets to and from node-3 are lost: 4 of 4 peers (10 of "
                           "10 large echoes (DF set) lost)") == 0);
  CHECK(d[0].evidence.find("small packets pass") != std::string::npos);
  CHECK(to_string(DiagnosisKind::mtu_blackhole) == "mtu-blackhole");

  SUBCASE("from the culprit's own row alone (the first news to arrive)") {
    DiagnosisInput own = mesh(5);
    for (int p : {1, 2, 4, 5}) large(own, 3, p, 1, 1);
    own.observer = "node-3";
    const auto o = diagnose(own);
    REQUIRE(o.size() == 1);
    CHECK(o[0].node == "node-3");
  }
  SUBCASE("two witnesses of five peers are not most of them: nothing yet") {
    DiagnosisInput few = mesh(6);
    large(few, 1, 3, 1, 1);
    large(few, 2, 3, 1, 1);
    CHECK(mtu_entries(diagnose(few)).empty());
  }
}

TEST_CASE("mtu-blackhole: one pair needs a pattern (>= 2 large echoes lost)") {
  DiagnosisInput in = mesh(5);
  large(in, 1, 4, 2, 2);
  large(in, 4, 1, 1, 1);
  large(in, 2, 5, 1, 1);  // one unlucky echo: nothing
  const auto d = diagnose(in);
  REQUIRE(d.size() == 1);
  CHECK(d[0].kind == DiagnosisKind::mtu_blackhole);
  CHECK(d[0].node.empty());
  CHECK(d[0].nodes == std::vector<std::string>{"node-1", "node-4"});
  CHECK(d[0].evidence.find("1500-byte packets between node-1 and node-4 are lost (3 of 3") == 0);
  // Half lost is still a pattern; a third is not.
  DiagnosisInput half = mesh(4);
  large(half, 1, 2, 4, 2);
  CHECK(mtu_entries(diagnose(half)).size() == 1);
  DiagnosisInput third = mesh(4);
  large(third, 1, 2, 6, 2);
  CHECK(mtu_entries(diagnose(third)).empty());
}

TEST_CASE("mtu-blackhole: never where the small echoes are lost too (loss, a cut)") {
  SUBCASE("a node cut off: its own kind, not an MTU fault") {
    DiagnosisInput in = mesh(5);
    for (int p : {1, 2, 4, 5}) {
      small_loss(in, p, 3, 1.0);
      large(in, p, 3, 2, 2);
    }
    const auto d = diagnose(in);
    REQUIRE_FALSE(d.empty());
    CHECK((d[0].kind == DiagnosisKind::node_unreachable ||
           d[0].kind == DiagnosisKind::node_isolated));  // its own row loses everything too
    CHECK(d[0].node == "node-3");
    CHECK(mtu_entries(d).empty());
  }
  SUBCASE("a lossy pair (small loss 30%)") {
    DiagnosisInput in = mesh(5);
    small_loss(in, 1, 4, 0.3);
    large(in, 1, 4, 3, 3);
    large(in, 4, 1, 3, 3);
    CHECK(mtu_entries(diagnose(in)).empty());
  }
  SUBCASE("a lossy node") {
    DiagnosisInput in = mesh(5);
    for (int p : {1, 2, 4, 5}) {
      small_loss(in, p, 3, 0.25);
      large(in, p, 3, 2, 2);
    }
    const auto d = diagnose(in);
    CHECK(mtu_entries(d).empty());
    REQUIRE_FALSE(d.empty());
    CHECK(d[0].kind == DiagnosisKind::lossy_node);
  }
  SUBCASE("a pair whose small echoes nobody measured") {
    DiagnosisInput in = mesh(4);
    in.links.erase(std::remove_if(in.links.begin(), in.links.end(),
                                  [](const LinkSample& l) {
                                    return (l.from == "node-1" && l.to == "node-2") ||
                                           (l.from == "node-2" && l.to == "node-1");
                                  }),
                   in.links.end());
    large(in, 1, 2, 3, 3);
    CHECK(mtu_entries(diagnose(in)).empty());
  }
  SUBCASE("failed or left nodes' rows are stale") {
    DiagnosisInput in = mesh(5);
    for (int p : {1, 2, 4, 5}) large(in, 3, p, 2, 2);
    in.nodes[2].status = PeerStatus::left;
    CHECK(mtu_entries(diagnose(in)).empty());
  }
}

TEST_CASE("mtu-blackhole: between two zones, large echoes pass inside each") {
  DiagnosisInput in = mesh(6, zone_ab);
  for (int i = 1; i <= 3; ++i)
    for (int j = 4; j <= 6; ++j) large(in, i, j, 2, 2);
  const auto d = diagnose(in);
  REQUIRE(d.size() == 1);
  CHECK(d[0].kind == DiagnosisKind::mtu_blackhole);
  CHECK(d[0].node.empty());
  CHECK(d[0].zones == std::vector<std::string>{"a", "b"});
  CHECK(d[0].nodes.size() == 6);
  INFO(d[0].evidence);
  CHECK(d[0].evidence.find("1500-byte packets are lost between zone a and zone b: 9 of 9 node "
                           "pairs across") == 0);
  CHECK(d[0].evidence.find("large ones pass inside the zones (6 of 6 pairs)") != std::string::npos);
}

TEST_CASE("mtu-blackhole: two sick nodes in two zones are two nodes, not the zones") {
  DiagnosisInput in = mesh(6, zone_ab);
  for (int p = 1; p <= 6; ++p) {
    if (p != 1) large(in, p, 1, 1, 1);
    if (p != 5 && p != 1) large(in, p, 5, 1, 1);
  }
  const auto d = mtu_entries(diagnose(in));
  std::vector<std::string> culprits;
  for (const auto& e : d) culprits.push_back(e.node);
  std::sort(culprits.begin(), culprits.end());
  CHECK(culprits == std::vector<std::string>{"node-1", "node-5"});
}

TEST_CASE("mtu-blackhole: most pairs everywhere is the network's MTU, nobody blamed") {
  // ping `mtu` 9000 on a 1500-byte network that drops instead of saying so.
  DiagnosisInput in = mesh(5);
  for (int i = 1; i <= 5; ++i)
    for (int j = 1; j <= 5; ++j)
      if (i != j) large(in, i, j, 2, 2, 9000);
  const auto d = diagnose(in);
  REQUIRE(d.size() == 1);
  CHECK(d[0].kind == DiagnosisKind::mtu_blackhole);
  CHECK(d[0].node.empty());
  CHECK(d[0].nodes.size() == 5);
  INFO(d[0].evidence);
  CHECK(d[0].evidence.find("9000-byte packets are lost between 10 of 10 node pairs") == 0);
  CHECK(d[0].evidence.find("the network's MTU is below") != std::string::npos);
}

TEST_CASE("mtu-blackhole: observers configured with different sizes; healthy rows say nothing") {
  DiagnosisInput in = mesh(4);
  large(in, 1, 2, 2, 2, 1500);
  large(in, 2, 1, 2, 2, 9000);
  large(in, 3, 4, 5, 0, 1500);  // the observer's own row shows healthy large echoes too
  const auto d = diagnose(in);
  REQUIRE(d.size() == 1);
  CHECK(d[0].evidence.find("1500-9000-byte packets between node-1 and node-2") == 0);
  CHECK(diagnose(mesh(4)).empty());
}
