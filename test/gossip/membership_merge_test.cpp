// Precedence rules (higher incarnation wins; dead > suspect > alive at equal incarnation;
// left vs failed) and refutation, by feeding hand-made messages to one Membership and then
// through a small cluster.
#include <doctest/doctest.h>

#include "test/gossip/cluster.hpp"

using namespace vigil::gossip;
using namespace vigil::gossip::test;
using std::chrono::seconds;

namespace {

// One Membership "a" fed hand-made datagrams from "x".
struct Single {
  ManualClock clock;
  Membership m{test_config(), LocalNode{"a", "a:1", {}, 0}, 1, clock.now()};
  std::vector<Event> feed(const codec::Message& msg) {
    m.on_datagram("x:1", codec::encode_packet(msg), clock.now());
    return m.take_output().events;
  }
  MemberState state(const std::string& n) { return m.find(n)->state; }
  std::uint32_t inc(const std::string& n) { return m.find(n)->incarnation; }
};

bool one(const std::vector<Event>& ev, EventKind k) {
  return ev.size() == 1 && ev[0].kind == k;
}

}  // namespace

TEST_CASE("alive: a new node joins; only a higher incarnation updates it") {
  Single s;
  CHECK(one(s.feed(codec::Alive{1, "b", "b:1", {}}), EventKind::joined));
  CHECK(s.m.size() == 2);
  CHECK(s.feed(codec::Alive{1, "b", "b:1", {}}).empty());  // same incarnation: old news
  CHECK(s.feed(codec::Alive{0, "b", "b:1", {{"role", "old"}}}).empty());  // older: ignored
  CHECK(tag_value(s.m.find("b")->tags, "role").empty());
  auto ev = s.feed(codec::Alive{2, "b", "b:1", {{"role", "db"}}});
  REQUIRE(one(ev, EventKind::updated));
  CHECK(tag_value(ev[0].member.tags, "role") == "db");
  CHECK(s.inc("b") == 2);
  CHECK(s.feed(codec::Alive{3, "b", "b:1", {{"role", "db"}}}).empty());  // nothing changed
  CHECK(s.inc("b") == 3);
}

TEST_CASE("suspect/dead/alive precedence at equal and higher incarnations") {
  Single s;
  s.feed(codec::Alive{2, "b", "b:1", {}});
  CHECK(s.feed(codec::Suspect{1, "b", "c"}).empty());  // older incarnation
  CHECK(s.state("b") == MemberState::alive);
  CHECK(one(s.feed(codec::Suspect{2, "b", "c"}), EventKind::suspect));  // equal: suspect wins
  CHECK(s.state("b") == MemberState::suspect);
  CHECK(s.feed(codec::Alive{2, "b", "b:1", {}}).empty());  // equal alive does not clear it
  CHECK(s.state("b") == MemberState::suspect);
  CHECK(one(s.feed(codec::Alive{3, "b", "b:1", {}}), EventKind::recovered));
  CHECK(s.state("b") == MemberState::alive);

  CHECK(one(s.feed(codec::Dead{3, "b", "c"}), EventKind::failed));  // dead beats alive at equal
  CHECK(s.state("b") == MemberState::dead);
  CHECK(s.feed(codec::Alive{3, "b", "b:1", {}}).empty());
  CHECK(s.state("b") == MemberState::dead);
  CHECK(s.feed(codec::Suspect{3, "b", "c"}).empty());  // a dead node is not re-suspected
  CHECK(s.state("b") == MemberState::dead);
  CHECK(one(s.feed(codec::Alive{4, "b", "b:1", {}}), EventKind::recovered));

  CHECK(one(s.feed(codec::Suspect{4, "b", "c"}), EventKind::suspect));
  CHECK(one(s.feed(codec::Dead{4, "b", "c"}), EventKind::failed));  // dead beats suspect
  CHECK(s.feed(codec::Dead{3, "b", "c"}).empty());
  CHECK(one(s.feed(codec::Alive{9, "b", "b:1", {}}), EventKind::recovered));
  CHECK(s.inc("b") == 9);
  CHECK(s.feed(codec::Dead{8, "b", "c"}).empty());  // older death: ignored
  CHECK(s.state("b") == MemberState::alive);
}

TEST_CASE("left vs failed: a node's own death notice is a graceful leave") {
  Single s;
  s.feed(codec::Alive{1, "b", "b:1", {}});
  s.feed(codec::Alive{1, "c", "c:1", {}});
  CHECK(one(s.feed(codec::Dead{1, "b", "b"}), EventKind::left));
  CHECK(s.state("b") == MemberState::left);
  CHECK(one(s.feed(codec::Dead{1, "c", "b"}), EventKind::failed));
  CHECK(s.state("c") == MemberState::dead);
  // Once gone, other death notices change nothing (left stays left, failed stays failed).
  CHECK(s.feed(codec::Dead{5, "b", "c"}).empty());
  CHECK(s.state("b") == MemberState::left);
  CHECK(s.feed(codec::Dead{5, "c", "c"}).empty());
  CHECK(s.state("c") == MemberState::dead);
  CHECK(s.feed(codec::Suspect{5, "b", "c"}).empty());
  CHECK(s.m.num_alive() == 1);
  CHECK(s.m.size() == 3);
}

TEST_CASE("name reuse: a failed/left name may be reclaimed from a new address, a live one not") {
  Single s;
  s.feed(codec::Alive{5, "b", "b:1", {}});
  CHECK(s.feed(codec::Alive{9, "b", "b:2", {}}).empty());  // b is alive at b:1: keep it
  CHECK(s.m.find("b")->addr == "b:1");
  s.feed(codec::Dead{5, "b", "b"});
  auto ev = s.feed(codec::Alive{1, "b", "b:2", {}});  // a restarted pod, new address
  REQUIRE(one(ev, EventKind::recovered));
  CHECK(s.m.find("b")->addr == "b:2");
  CHECK(s.state("b") == MemberState::alive);
}

TEST_CASE("refutation: a node told it is suspect or dead bumps its incarnation") {
  Single s;
  const auto inc = s.m.self().incarnation;
  CHECK(inc == 1);  // starts one above the configured incarnation
  s.feed(codec::Suspect{inc, "a", "x"});
  CHECK(s.m.self().incarnation == inc + 1);
  CHECK(s.m.self().state == MemberState::alive);
  CHECK(s.m.stats().refutations == 1);
  CHECK(s.m.health_score() == 1);    // being accused hints that we are the slow one
  s.feed(codec::Dead{7, "a", "x"});  // accused at a higher incarnation than ours
  CHECK(s.m.self().incarnation == 8);
  CHECK(s.m.self().state == MemberState::alive);
  CHECK(s.m.stats().refutations == 2);
  s.feed(codec::Suspect{3, "a", "x"});  // older accusation: nothing to refute
  CHECK(s.m.stats().refutations == 2);
  // Our own alive coming back unchanged is not refuted; a different one (other tags) is.
  s.feed(codec::Alive{8, "a", "a:1", {}});
  CHECK(s.m.stats().refutations == 2);
  s.feed(codec::Alive{8, "a", "a:1", {{"impostor", "1"}}});
  CHECK(s.m.stats().refutations == 3);
  CHECK(s.m.self().incarnation == 9);
  CHECK(s.m.self().tags.empty());
  CHECK(s.m.pending_broadcasts() >= 1);  // the refutation is queued for gossip
}

TEST_CASE("refutation spreads: a node suspected by hearsay is alive again everywhere") {
  Cluster c;
  c.start(3);
  const auto inc = c["n3"].self().incarnation;
  c.inject("n1", "n2", codec::Suspect{inc, "n3", "n2"});
  CHECK(c.state("n1", "n3") == MemberState::suspect);
  REQUIRE(c.net.run_until(
      [&] {
        return c.converged() && c["n1"].find("n3")->incarnation > inc &&
               c["n2"].find("n3")->incarnation == c["n3"].self().incarnation;
      },
      seconds(10)));
  CHECK(c["n3"].stats().refutations >= 1);
  CHECK(c.net.saw(addr_of("n1"), EventKind::recovered, "n3"));
  CHECK_FALSE(c.net.saw(addr_of("n1"), EventKind::failed, "n3"));
}

TEST_CASE("refutation spreads: a node declared dead by hearsay comes back") {
  Cluster c;
  c.start(3);
  const auto inc = c["n3"].self().incarnation;
  c.inject("n1", "n2", codec::Dead{inc, "n3", "n2"});
  CHECK(c.state("n1", "n3") == MemberState::dead);
  CHECK(c.net.saw(addr_of("n1"), EventKind::failed, "n3"));
  REQUIRE(c.net.run_until([&] { return c.converged(); }, seconds(10)));
  CHECK(c["n3"].self().incarnation > inc);
  CHECK(c.net.saw(addr_of("n1"), EventKind::recovered, "n3"));
}

TEST_CASE("confirmations from several nodes shorten the suspicion (Lifeguard)") {
  GossipConfig cfg = test_config();
  Cluster c(cfg);
  c.start(6);  // k = suspicion_mult - 2 = 2 confirmations expected
  for (int i = 2; i <= 6; ++i) c.net.cut(addr_of("n1"), addr_of("n" + std::to_string(i)));
  // n1 is cut from everyone: the other five all suspect it and confirm each other.
  REQUIRE(
      c.net.run_until([&] { return c.state("n2", "n1") == MemberState::suspect; }, seconds(30)));
  const TimePoint suspected = c["n2"].find("n1")->state_change;
  REQUIRE(c.net.run_until([&] { return c.state("n2", "n1") == MemberState::dead; }, seconds(120)));
  const Duration min = suspicion_min_timeout(cfg, 6);
  const Duration max = min * cfg.suspicion_max_timeout_mult;
  const Duration took = c["n2"].find("n1")->state_change - suspected;
  CHECK(took >= min - std::chrono::milliseconds(10));
  CHECK(took < max);  // confirmations pulled the deadline in from max
}

TEST_CASE("a stale accusation about ourselves is answered with our alive, straight to its sender") {
  Single s;
  s.feed(codec::Alive{1, "b", "b:1", {}});
  const std::uint32_t old = s.inc("a");
  s.feed(codec::Suspect{old, "a", "b"});  // current: refuted by broadcast
  const std::uint32_t cur = s.inc("a");
  REQUIRE(cur == old + 1);
  // Feeds `msg` from x; counts our current alive sent straight back to x.
  auto alives_to_x = [&](const codec::Message& msg) {
    s.m.on_datagram("x:1", codec::encode_packet(msg), s.clock.now());
    int n = 0;
    for (const auto& d : s.m.take_output().datagrams) {
      if (d.to != "x:1") continue;
      auto msgs = codec::decode_packet(d.bytes);
      REQUIRE(msgs);
      for (const auto& m : *msgs.value) {
        if (auto* a = std::get_if<codec::Alive>(&m); a && a->node == "a" && a->incarnation == cur)
          ++n;
      }
    }
    return n;
  };
  CHECK(alives_to_x(codec::Suspect{old, "a", "b"}) == 1);  // x missed our alive
  CHECK(s.inc("a") == cur);                             // no new incarnation for a stale accusation
  CHECK(alives_to_x(codec::Dead{old, "a", "b"}) == 0);  // at most once per probe interval
  s.clock.advance(test_config().probe_interval);
  CHECK(alives_to_x(codec::Dead{old, "a", "b"}) == 1);
  s.clock.advance(test_config().probe_interval);
  CHECK(alives_to_x(codec::Suspect{0, "b", "c"}) == 0);  // about someone else
  CHECK(alives_to_x(codec::Dead{1, "b", "b"}) == 0);     // a leave is no accusation
}

TEST_CASE("a death notice from a member that was cut off from us counts as a suspicion") {
  Single s;
  s.feed(codec::Alive{1, "b", "b:1", {}});
  s.feed(codec::Alive{1, "c", "c:1", {}});
  s.feed(codec::Alive{1, "d", "d:1", {}});
  REQUIRE(one(s.feed(codec::Dead{1, "c", "a"}), EventKind::failed));  // c is failed for us

  // c, failed in our view, says b is dead: b is suspected (c confirms), not failed.
  CHECK(one(s.feed(codec::Dead{1, "b", "c"}), EventKind::suspect));
  CHECK(s.state("b") == MemberState::suspect);
  CHECK(s.m.stats().doubted_verdicts == 1);
  CHECK(one(s.feed(codec::Alive{2, "b", "b:1", {}}), EventKind::recovered));  // b refutes

  // c comes back: for one maximum suspicion timeout its verdicts are still doubted.
  REQUIRE(one(s.feed(codec::Alive{2, "c", "c:1", {}}), EventKind::recovered));
  CHECK(one(s.feed(codec::Dead{1, "d", "c"}), EventKind::suspect));
  CHECK(one(s.feed(codec::Alive{2, "d", "d:1", {}}), EventKind::recovered));
  const Duration window =
      suspicion_min_timeout(test_config(), 4) * test_config().suspicion_max_timeout_mult;
  s.clock.advance(window);
  s.m.tick(s.clock.now());
  CHECK(one(s.feed(codec::Dead{2, "d", "c"}), EventKind::failed));  // trusted again
  CHECK(s.m.stats().doubted_verdicts == 2);

  // A leave is the sender's own word about itself: never doubted.
  CHECK(one(s.feed(codec::Suspect{2, "c", "a"}), EventKind::suspect));
  CHECK(one(s.feed(codec::Dead{2, "c", "c"}), EventKind::left));
}

TEST_CASE("a death notice from a suspect member, or one that just refuted, is doubted too") {
  Single s;
  for (const char* n : {"b", "c", "d", "e"}) s.feed(codec::Alive{1, n, std::string(n) + ":1", {}});
  REQUIRE(one(s.feed(codec::Suspect{1, "c", "a"}), EventKind::suspect));
  CHECK(one(s.feed(codec::Dead{1, "b", "c"}), EventKind::suspect));
  REQUIRE(one(s.feed(codec::Alive{2, "c", "c:1", {}}), EventKind::recovered));
  REQUIRE(one(s.feed(codec::Alive{2, "b", "b:1", {}}), EventKind::recovered));
  CHECK(one(s.feed(codec::Dead{2, "b", "c"}), EventKind::suspect));
  // Another doubted notice about b, now suspect, leaves its suspicion's timer running: b
  // still ends failed when it does not refute.
  CHECK(s.feed(codec::Dead{2, "b", "c"}).empty());
  CHECK(s.state("b") == MemberState::suspect);
  s.clock.advance(suspicion_min_timeout(test_config(), 5) *
                  test_config().suspicion_max_timeout_mult);
  s.m.tick(s.clock.now());
  CHECK(one(s.m.take_output().events, EventKind::failed));
  CHECK(s.state("b") == MemberState::dead);
  // A member that never left our view is believed at once (memberlist's rule).
  CHECK(one(s.feed(codec::Dead{1, "d", "e"}), EventKind::failed));
  // Nor is a member that left: its last notices were formed while it was in touch.
  REQUIRE(one(s.feed(codec::Dead{1, "e", "e"}), EventKind::left));
  s.feed(codec::Alive{1, "f", "f:1", {}});
  CHECK(one(s.feed(codec::Dead{1, "f", "e"}), EventKind::failed));
}

TEST_CASE("doubt_returnee_verdicts off: memberlist's rule, a death notice is believed") {
  GossipConfig cfg = test_config();
  cfg.doubt_returnee_verdicts = false;
  ManualClock clock;
  Membership m{cfg, LocalNode{"a", "a:1", {}, 0}, 1, clock.now()};
  auto feed = [&](const codec::Message& msg) {
    m.on_datagram("x:1", codec::encode_packet(msg), clock.now());
    return m.take_output().events;
  };
  feed(codec::Alive{1, "b", "b:1", {}});
  feed(codec::Alive{1, "c", "c:1", {}});
  REQUIRE(one(feed(codec::Dead{1, "c", "a"}), EventKind::failed));
  CHECK(one(feed(codec::Dead{1, "b", "c"}), EventKind::failed));
  CHECK(m.stats().doubted_verdicts == 0);
}

TEST_CASE("after a partition heals, no node is failed by a member of its own side") {
  // {n1, n2} | {n3, n4, n5} for 12 s: long enough for each side to suspect the other, and for
  // some suspicions to run out only after the heal. Each side's late verdicts about the other
  // reach nodes that shared the other side: memberlist marks them failed until they refute.
  for (std::uint64_t round = 0; round < 4; ++round) {
    CAPTURE(round);
    Cluster c;
    c.start(5);
    for (int i = 0; i < static_cast<int>(round); ++i) c.net.run_for(std::chrono::milliseconds(370));
    const std::vector<std::string> a{"n1", "n2"}, b{"n3", "n4", "n5"};
    for (const auto& x : a)
      for (const auto& y : b) c.net.cut(addr_of(x), addr_of(y));
    c.net.run_for(seconds(12));
    c.net.heal_all();
    REQUIRE(c.net.run_until([&] { return c.converged(); }, seconds(120)));
    c.net.run_for(seconds(30));
    for (const auto& side : {a, b}) {
      for (const auto& observer : side) {
        for (const auto& member : side) {
          INFO(observer << " about " << member);
          CHECK_FALSE(c.net.saw(addr_of(observer), EventKind::failed, member));
        }
      }
    }
  }
}
