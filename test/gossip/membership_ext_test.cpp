// The extension channel (user broadcasts, push-pull user state, ack payloads), tag updates and
// push-pull anti-entropy with digests.
#include <doctest/doctest.h>

#include <algorithm>

#include "test/gossip/cluster.hpp"

using namespace vigil::gossip;
using namespace vigil::gossip::test;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {
Bytes b(std::string_view s) {
  return Bytes(s.begin(), s.end());
}
}  // namespace

TEST_CASE("tags change spreads as an updated event with a higher incarnation") {
  Cluster c;
  c.start(3);
  const auto inc = c["n1"].self().incarnation;
  REQUIRE(c["n1"].set_tags({{"zone", "b"}, {"role", "db"}}, c.now()));
  CHECK(c["n1"].self().incarnation == inc + 1);
  CHECK(c["n1"].self().tags.front().first == "role");  // kept sorted
  REQUIRE(c.net.run_until(
      [&] {
        return c.net.saw(addr_of("n2"), EventKind::updated, "n1") &&
               c.net.saw(addr_of("n3"), EventKind::updated, "n1");
      },
      seconds(5)));
  CHECK(tag_value(c["n3"].find("n1")->tags, "role") == "db");
  CHECK(c["n3"].find("n1")->incarnation == inc + 1);
  // Over max_tags_bytes: refused, nothing changes.
  CHECK_FALSE(c["n1"].set_tags({{"big", std::string(c.config().max_tags_bytes, 'x')}}, c.now()));
  CHECK(c["n1"].self().incarnation == inc + 1);
  CHECK(tag_value(c["n1"].self().tags, "role") == "db");
  // Within max_tags_bytes but over what a peer decodes (a value over 256 bytes, or more than
  // 64 tags): refused too, else every message carrying our alive would be dropped as malformed
  // (fuzz_membership found a join whose push-pull did not decode).
  CHECK_FALSE(c["n1"].set_tags({{"k", std::string(300, 'x')}}, c.now()));
  Tags many;
  for (int i = 0; i < 65; ++i) many.emplace_back("t" + std::to_string(100 + i), "");
  CHECK_FALSE(c["n1"].set_tags(many, c.now()));
  CHECK(c["n1"].self().incarnation == inc + 1);
  CHECK(codec::tags_problem({{"k", std::string(256, 'x')}}, 512).empty());
  CHECK(codec::tags_problem({{"k", std::string(257, 'x')}}, 512) ==
        "tag \"k\" has a key or value over 256 bytes");
  CHECK(codec::tags_problem(many, 4096) == "65 tags, more than 64");
}

TEST_CASE("queue_broadcast reaches notify_message on every other node, epidemically") {
  Cluster c;
  c.start(3);
  c.net.cut(addr_of("n1"), addr_of("n3"));  // n3 only hears it through n2
  c["n1"].queue_broadcast("health/n1", b("1:ok"));
  REQUIRE(c.net.run_until(
      [&] {
        return c.delegate("n2").messages.count("health/n1") &&
               c.delegate("n3").messages.count("health/n1");
      },
      seconds(10)));
  CHECK(c.delegate("n3").messages["health/n1"] == b("1:ok"));
  CHECK(c.delegate("n2").messages["health/n1"] == b("1:ok"));
  // A newer broadcast under the same key replaces the value.
  c["n1"].queue_broadcast("health/n1", b("2:degraded"));
  REQUIRE(c.net.run_until([&] { return c.delegate("n3").messages["health/n1"] == b("2:degraded"); },
                          seconds(10)));
  // Retransmits are bounded: the queues drain.
  CHECK(c.net.run_until(
      [&] {
        return c["n1"].pending_broadcasts() == 0 && c["n2"].pending_broadcasts() == 0 &&
               c["n3"].pending_broadcasts() == 0;
      },
      seconds(30)));
  const int calls = c.delegate("n3").message_calls;
  c.net.run_for(seconds(5));
  CHECK(c.delegate("n3").message_calls == calls);
  CHECK(c["n2"].stats().msgs_in[static_cast<int>(MsgType::user)] >= 2);
}

TEST_CASE("local_state and merge_remote_state ride on join and on push-pull, answers bounded") {
  GossipConfig cfg = test_config();
  cfg.push_pull_interval = seconds(5);
  Cluster c(cfg);
  c.add("n1");
  c.add("n2");
  c.delegate("n1").state = b("state-of-n1");
  c.delegate("n2").state = b("state-of-n2");
  c.delegate("n1").answer = b("answer-of-n1");
  c.delegate("n2").answer = b("answer-of-n2");
  c["n2"].join({addr_of("n1")}, c.now());
  c.net.deliver();
  c.net.deliver();
  c.net.deliver();
  // join -> answer -> answer -> last answer: the joiner's opening state, then each side's
  // answer, and the exchange stops however much the delegates have to say.
  using M = std::vector<std::pair<Bytes, bool>>;
  CHECK(c.delegate("n1").merged == M{{b("state-of-n2"), true}, {b("answer-of-n2"), false}});
  CHECK(c.delegate("n2").merged == M{{b("answer-of-n1"), true}, {b("answer-of-n1"), false}});
  // Periodic push-pull: the user digests differ (different state), so the opening state flows
  // (the member lists are equal and stay home) and the answers follow.
  REQUIRE(c.net.run_until(
      [&] {
        for (const char* n : {"n1", "n2"}) {
          const M& m = c.delegate(n).merged;
          const Bytes other = b(std::string("state-of-") + (n[1] == '1' ? "n2" : "n1"));
          if (std::count(m.begin(), m.end(), std::make_pair(other, false))) return true;
        }
        return false;
      },
      seconds(30)));
  c.net.run_for(seconds(1));
  CHECK(c.delegate("n1").merged.size() >= 3);
  CHECK(c.delegate("n2").merged.size() >= 3);
}

TEST_CASE("push-pull: equal member lists stay home when only the user state differs") {
  GossipConfig cfg = test_config();
  cfg.push_pull_interval = seconds(5);
  Cluster c(cfg);
  c.start(3);
  c.net.run_for(seconds(2));
  for (const char* n : {"n1", "n2", "n3"}) c.delegate(n).state = b(std::string("s-") + n);
  const std::size_t before = c.net.stream_log().size();
  c.net.run_for(seconds(30));
  const auto& log = c.net.stream_log();
  std::size_t largest = 0;
  for (std::size_t i = before; i < log.size(); ++i)
    if (log[i].purpose == StreamPurpose::push_pull)
      largest = std::max({largest, log[i].request_bytes, log[i].reply_bytes});
  CHECK(c["n1"].stats().push_pulls >= 2);
  // A frame with three members is over 100 bytes; digests plus a 4-byte state stay well under.
  codec::PushPull three;
  for (const char* n : {"n1", "n2", "n3"})
    three.nodes.push_back({n, addr_of(n), 1, MemberState::alive, {}});
  CHECK(largest < codec::encode_frame(three).size());
  CHECK(largest > 0);
}

TEST_CASE("ack_payload reaches notify_ping_complete of the prober") {
  Cluster c;
  c.start(2);
  c.delegate("n2").ack = b("clock=1234");
  REQUIRE(c.net.run_until(
      [&] {
        const auto& p = c.delegate("n1").pings;
        return std::any_of(p.begin(), p.end(),
                           [](const auto& x) { return x.payload == b("clock=1234"); });
      },
      seconds(10)));
  const auto& last = c.delegate("n1").pings.back();
  CHECK(last.peer == "n2");
  CHECK(last.rtt >= Duration::zero());
  CHECK(last.rtt < c.config().probe_timeout);
}

TEST_CASE("every direct ping of a probe is reported once: acked (with RTT) or lost") {
  Cluster c;
  c.start(3);
  auto count = [](const std::vector<std::string>& v, const std::string& name) {
    return std::count(v.begin(), v.end(), name);
  };
  auto acked = [&](const std::string& peer) {
    const auto& p = c.delegate("n1").pings;
    return std::count_if(p.begin(), p.end(), [&](const auto& x) { return x.peer == peer; });
  };
  const auto probes0 = c["n1"].stats().probes;
  const auto acked0 = acked("n2") + acked("n3");
  const auto lost0 = c.delegate("n1").lost.size();
  // n1 -> n3 is cut one way: n1's direct pings to n3 are lost, the ping-req through n2 still
  // gets an answer, so n3 stays alive and every probe of n3 reports a lost ping.
  c.net.cut_one_way(addr_of("n1"), addr_of("n3"));
  c.net.run_for(seconds(20));
  const auto& lost = c.delegate("n1").lost;
  CHECK(count(lost, "n3") >= 5);
  CHECK(count(lost, "n2") == 0);
  CHECK(acked("n2") > 0);
  // One report per probe: the window may cut one probe at either end.
  const auto probes = static_cast<long>(c["n1"].stats().probes - probes0);
  const auto reports = static_cast<long>(acked("n2") + acked("n3") - acked0) +
                       static_cast<long>(lost.size() - lost0);
  CHECK(reports <= probes + 1);
  CHECK(reports + 1 >= probes);
  CHECK(c.state("n1", "n3") != MemberState::dead);
  // Healed: n3's pings are answered again.
  c.net.heal_all();
  const auto lost_n3 = count(lost, "n3");
  const auto acked_n3 = acked("n3");
  c.net.run_for(seconds(20));
  CHECK(acked("n3") > acked_n3);
  CHECK(count(lost, "n3") == lost_n3);
}

TEST_CASE("push-pull: identical states exchange only digests") {
  GossipConfig cfg = test_config();
  cfg.push_pull_interval = seconds(5);
  Cluster c(cfg);
  c.start(3);
  c.net.run_for(seconds(2));
  const std::size_t before = c.net.stream_log().size();
  c.net.run_for(seconds(60));
  const auto& log = c.net.stream_log();
  int exchanges = 0;
  std::size_t largest = 0;
  for (std::size_t i = before; i < log.size(); ++i) {
    if (log[i].purpose != StreamPurpose::push_pull) continue;
    ++exchanges;
    CHECK(log[i].ok);
    largest = std::max({largest, log[i].request_bytes, log[i].reply_bytes});
  }
  MESSAGE("digest-only push-pulls: ", exchanges, ", largest frame: ", largest, " bytes");
  CHECK(exchanges >= 10);
  // version + [type, join, digest(9), digest_only, in_sync, [], bin, user_digest(9)]
  CHECK(largest <= 33);
  CHECK(c["n1"].stats().push_pulls_in_sync >= 1);
  CHECK(c["n1"].stats().push_pulls_in_sync <= c["n1"].stats().push_pulls_started);
  // A full state of three members is much larger.
  CHECK(codec::encode_frame(codec::PushPull{}).size() <= largest);
}

TEST_CASE("push-pull: differing states converge with datagrams blocked; TCP probes keep peers") {
  GossipConfig cfg = test_config();
  cfg.push_pull_interval = seconds(5);
  Cluster c(cfg);
  c.start(2);
  c.net.drop_datagrams = true;
  REQUIRE(c["n1"].set_tags({{"role", "ingress"}}, c.now()));
  REQUIRE(c.net.run_until([&] { return tag_value(c["n2"].find("n1")->tags, "role") == "ingress"; },
                          seconds(60)));
  CHECK(c.net.saw(addr_of("n2"), EventKind::updated, "n1"));
  // Probes failed over UDP but the TCP fallback ping answered: nobody is suspected.
  c.net.run_for(seconds(10));
  CHECK(c["n1"].stats().tcp_fallback_acks >= 1);
  CHECK(c["n2"].stats().tcp_fallback_acks >= 1);
  CHECK(c["n1"].stats().suspicions == 0);
  CHECK(c["n2"].stats().suspicions == 0);
  CHECK(c.converged());
  // Full exchanges happened (at least one frame larger than a digest).
  const auto& log = c.net.stream_log();
  CHECK(std::any_of(log.begin(), log.end(), [](const auto& r) {
    return r.purpose == StreamPurpose::push_pull && r.reply_bytes > 40;
  }));
}
