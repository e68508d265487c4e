// ReachTracker's fresh-evidence regimes (issue 13): a link that went down (or came back) is
// reported from the samples since the change, not as a window average creeping for a minute;
// random loss keeps the window average.
#include <doctest/doctest.h>

#include "agent/reach_tracker.hpp"

using namespace vigil::agent;
using namespace std::chrono_literals;

namespace {

const PeerReach& entry(const std::vector<PeerReach>& s, const std::string& peer) {
  for (const PeerReach& r : s)
    if (r.peer == peer) return r;
  FAIL("no entry for " << peer);
  return s.front();
}

}  // namespace

TEST_CASE("reach regimes: down now, back now, random loss") {
  ReachTracker t(60s);
  auto now = std::chrono::steady_clock::time_point{} + 1h;
  // Six healthy ping runs of 5 echoes to each peer, 5 s apart.
  for (int run = 0; run < 6; ++run, now += 5s) {
    t.add("down", "icmp", 5, 0, 300us, now);
    t.add("lossy", "icmp", 5, run % 2, 300us, now);  // 1 of 5 lost every other run
    t.add("mtu", "icmp", 5, 0, 300us, now);
    t.add_large("mtu", "icmp", 1, 0, 1500, now);
  }
  SUBCASE("one fully lost run after a healthy window: the link is down now") {
    t.add("down", "icmp", 5, 5, 0us, now);
    const PeerReach e = entry(t.summary(now), "down");  // a copy: the summary is a temporary
    CHECK(e.sent == 5);
    CHECK(e.lost == 5);
  }
  SUBCASE("random loss keeps the window average") {
    t.add("lossy", "icmp", 5, 2, 300us, now);
    const PeerReach e = entry(t.summary(now), "lossy");  // a copy: the summary is a temporary
    CHECK(e.sent == 35);
    CHECK(e.lost == 5);
  }
  SUBCASE("two large echoes lost in a row, small ones fine: the blackhole began") {
    for (int k = 0; k < 2; ++k, now += 5s) {
      t.add("mtu", "icmp", 5, 0, 300us, now);
      t.add_large("mtu", "icmp", 1, 1, 1500, now);
    }
    const PeerReach e = entry(t.summary(now), "mtu");  // a copy: the summary is a temporary
    CHECK(e.large_sent == 2);
    CHECK(e.large_lost == 2);
    CHECK(e.lost == 0);
  }
  SUBCASE("a link back after being down: the clean run only") {
    for (int k = 0; k < 12; ++k, now += 5s) t.add("down", "icmp", 5, 5, 0us, now);
    const PeerReach before = entry(t.summary(now), "down");
    CHECK(before.lost == before.sent);  // down for the whole window by now
    t.add("down", "icmp", 5, 0, 300us, now);
    const PeerReach e = entry(t.summary(now), "down");  // a copy: the summary is a temporary
    CHECK(e.sent == 5);
    CHECK(e.lost == 0);
  }
}
