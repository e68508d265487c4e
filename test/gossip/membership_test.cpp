// Membership through FakeNetwork: join, probes, suspicion and failure, leave, reaping, restart,
// ping-req and nacks, awareness, and hostile input. Time moves only through the ManualClock.
#include <doctest/doctest.h>

#include <algorithm>

#include "test/gossip/cluster.hpp"

using namespace vigil::gossip;
using namespace vigil::gossip::test;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST_CASE("join: push-pull with a seed makes both sides know each other, gossip does the rest") {
  Cluster c;
  for (auto n : {"n1", "n2", "n3"}) c.add(n);
  CHECK_FALSE(c["n2"].has_peers());
  c["n2"].join({addr_of("n1"), addr_of("n2")}, c.now());  // our own address is skipped
  c["n3"].join({addr_of("n1")}, c.now());
  c.net.deliver();
  // The join exchange itself: n1 learnt both, each joiner learnt n1.
  CHECK(c["n1"].size() == 3);
  CHECK(c["n2"].find("n1") != nullptr);
  CHECK(c["n3"].find("n1") != nullptr);
  CHECK(c["n2"].has_peers());
  CHECK(c["n1"].stats().push_pulls == 2);
  const auto& log = c.net.stream_log();
  CHECK(std::count_if(log.begin(), log.end(),
                      [](const auto& r) { return r.purpose == StreamPurpose::join && r.ok; }) == 2);
  CHECK(c.net.saw(addr_of("n1"), EventKind::joined, "n2"));
  CHECK(c.net.saw(addr_of("n2"), EventKind::joined, "n1"));
  // n2 and n3 learn of each other through gossip.
  CHECK(c.net.run_until([&] { return c.converged(); }, seconds(10)));
  CHECK(c.net.saw(addr_of("n2"), EventKind::joined, "n3"));
  CHECK(c.net.saw(addr_of("n3"), EventKind::joined, "n2"));
  // A joiner never reports itself.
  CHECK_FALSE(c.net.saw(addr_of("n2"), EventKind::joined, "n2"));
}

TEST_CASE("join with an unreachable seed changes nothing") {
  Cluster c;
  c.add("n1");
  c["n1"].join({addr_of("nowhere")}, c.now());
  c.net.deliver();
  CHECK(c["n1"].size() == 1);
  CHECK_FALSE(c["n1"].has_peers());
  CHECK(c.net.counters().streams_failed == 1);
}

TEST_CASE("probes of healthy peers are acked: no suspicion, health score 0") {
  Cluster c;
  c.start(3);
  const auto before = c["n1"].stats();
  c.net.run_for(seconds(20));
  const auto& s = c["n1"].stats();
  CHECK(s.probes - before.probes >= 15);
  CHECK(s.probe_failures == 0);
  CHECK(s.suspicions == 0);
  CHECK(s.msgs_in[static_cast<int>(MsgType::ack)] > before.msgs_in[static_cast<int>(MsgType::ack)]);
  CHECK(c["n1"].health_score() == 0);
  CHECK(c.converged());
}

TEST_CASE("a silent node becomes suspect, then failed after the suspicion timeout") {
  Cluster c;
  c.start(3);
  c.net.isolate(addr_of("n3"));
  REQUIRE(
      c.net.run_until([&] { return c.state("n1", "n3") == MemberState::suspect; }, seconds(10)));
  const TimePoint suspected = c["n1"].find("n3")->state_change;
  CHECK(c.net.saw(addr_of("n1"), EventKind::suspect, "n3"));
  CHECK(c["n1"].stats().suspicions == 1);
  CHECK(c["n1"].num_alive() == 3);  // a suspect still counts as alive

  REQUIRE(c.net.run_until([&] { return c.state("n1", "n3") == MemberState::dead; }, seconds(60)));
  const TimePoint failed = c["n1"].find("n3")->state_change;
  CHECK(c.net.saw(addr_of("n1"), EventKind::failed, "n3"));
  CHECK(c["n1"].num_alive() == 2);
  // 3 nodes: no confirmations are expected (k = 0), so the minimum applies, but n2 may have
  // declared n3 dead first (its own suspicion started at a different time).
  const Duration min = suspicion_min_timeout(c.config(), 3);
  CHECK(failed - suspected <= min + milliseconds(10));
  CHECK(to_string(c["n1"].find("n3")->state) == "failed");
  // Everyone that is not cut off agrees.
  CHECK(c.net.run_until([&] { return c.state("n2", "n3") == MemberState::dead; }, seconds(10)));
}

TEST_CASE("suspicion timeout is not shorter than the minimum when the node decides alone") {
  Cluster c;
  c.start(2);
  c.net.isolate(addr_of("n2"));
  REQUIRE(
      c.net.run_until([&] { return c.state("n1", "n2") == MemberState::suspect; }, seconds(10)));
  const TimePoint suspected = c.now();
  REQUIRE(c.net.run_until([&] { return c.state("n1", "n2") == MemberState::dead; }, seconds(60)));
  CHECK(c.now() - suspected >= suspicion_min_timeout(c.config(), 2) - milliseconds(10));
}

TEST_CASE("ping-req: a node whose direct path is cut is acked through an intermediary") {
  Cluster c;
  c.start(3);
  c.net.cut(addr_of("n1"), addr_of("n3"));
  REQUIRE(c.net.run_until([&] { return c["n1"].stats().indirect_acks >= 2; }, seconds(30)));
  c.net.run_for(seconds(10));
  CHECK(c["n1"].stats().suspicions == 0);
  CHECK(c["n3"].stats().suspicions == 0);
  CHECK_FALSE(c.net.saw(addr_of("n1"), EventKind::suspect, "n3"));
  CHECK(c["n2"].stats().msgs_in[static_cast<int>(MsgType::indirect_ping)] >= 2);
  CHECK(c.converged());
}

TEST_CASE("Lifeguard nack: an intermediary nacks when the target stays silent") {
  Cluster c;
  c.start(3);
  c.net.isolate(addr_of("n3"));
  REQUIRE(c.net.run_until([&] { return c["n1"].stats().nacks_in >= 1; }, seconds(20)));
  CHECK(c["n2"].stats().msgs_out[static_cast<int>(MsgType::nack)] >= 1);
  // Nobody nacks a probe that succeeded.
  Cluster ok;
  ok.start(3);
  ok.net.run_for(seconds(20));
  for (auto n : {"n1", "n2", "n3"}) CHECK(ok[n].stats().nacks_in == 0);
}

TEST_CASE("Lifeguard: nacks from helpers keep a healthy prober's score at 0") {
  Cluster c;
  c.start(5);
  c.net.isolate(addr_of("n5"));  // n5 is the broken one; the helpers can say so
  REQUIRE(c.net.run_until([&] { return c["n1"].stats().probe_failures >= 1; }, seconds(30)));
  CHECK(c["n1"].stats().nacks_in >= 3);  // every helper nacked before the probe deadline
  CHECK(c["n1"].health_score() == 0);
}

TEST_CASE("Lifeguard: a prober that hears no nacks suspects itself (score += missing nacks)") {
  Cluster c;
  c.start(5);
  c.net.isolate(addr_of("n1"));  // n1 is the broken one: no acks and no nacks reach it
  REQUIRE(c.net.run_until([&] { return c["n1"].stats().probe_failures >= 1; }, seconds(30)));
  CHECK(c["n1"].stats().nacks_in == 0);
  CHECK(c["n1"].health_score() >= 3);  // three helpers asked, none answered
  CHECK(c["n1"].health_score() <= c.config().awareness_max_multiplier - 1);
}

TEST_CASE("awareness: failed probes without helpers raise the score, successes lower it") {
  GossipConfig cfg = test_config();
  cfg.suspicion_mult = 30;  // keep n2 suspect (not dead) long enough to be probed again
  Cluster c(cfg);
  c.start(2);
  CHECK(c["n1"].health_score() == 0);
  c.net.isolate(addr_of("n2"));
  REQUIRE(c.net.run_until([&] { return c["n1"].health_score() >= 3; }, seconds(60)));
  const auto failures = c["n1"].stats().probe_failures;
  CHECK(failures >= 3);
  // A higher score stretches the probe interval: fewer probes per minute.
  const auto probes = c["n1"].stats().probes;
  c.net.run_for(seconds(20));
  CHECK(c["n1"].stats().probes - probes <= 6);  // >= 4s between probes at score 3
  c.net.rejoin(addr_of("n2"));
  REQUIRE(c.net.run_until([&] { return c["n1"].health_score() == 0; }, seconds(120)));
  CHECK(c.state("n1", "n2") == MemberState::alive);
  CHECK(c["n2"].stats().refutations >= 1);  // it was told it was suspect
}

TEST_CASE("graceful leave marks the node left everywhere; it is reaped later") {
  Cluster c;
  c.start(3);
  c["n3"].leave(c.now());
  CHECK(c["n3"].self().state == MemberState::left);
  REQUIRE(c.net.run_until(
      [&] {
        return c.state("n1", "n3") == MemberState::left && c.state("n2", "n3") == MemberState::left;
      },
      seconds(10)));
  CHECK(c.net.saw(addr_of("n1"), EventKind::left, "n3"));
  CHECK_FALSE(c.net.saw(addr_of("n1"), EventKind::failed, "n3"));
  CHECK(to_string(c["n1"].find("n3")->state) == "left");
  CHECK(c.net.run_until([&] { return c["n3"].pending_broadcasts() == 0; }, seconds(10)));
  CHECK(c["n1"].num_alive() == 2);
  // The leaver is neither probed nor suspected afterwards.
  c.net.run_for(seconds(20));
  CHECK(c["n1"].stats().suspicions == 0);
  CHECK(c.state("n1", "n3") == MemberState::left);
  // Reaped after left_reap_timeout (60s in this config), not before.
  REQUIRE(c.net.run_until([&] { return c["n1"].find("n3") == nullptr; }, seconds(80)));
  CHECK(c.net.saw(addr_of("n1"), EventKind::reaped, "n3"));
  CHECK(c["n1"].size() == 2);
}

TEST_CASE("a failed node is reaped after dead_reap_timeout and emits reaped") {
  Cluster c;
  c.start(3);
  c.net.isolate(addr_of("n3"));
  REQUIRE(c.net.run_until([&] { return c.state("n1", "n3") == MemberState::dead; }, seconds(60)));
  const TimePoint failed = c["n1"].find("n3")->state_change;
  REQUIRE(c.net.run_until([&] { return c["n1"].find("n3") == nullptr; }, seconds(120)));
  CHECK(c.now() - failed >= c.config().dead_reap_timeout);
  CHECK(c.now() - failed <= c.config().dead_reap_timeout + seconds(10));
  CHECK(c.net.saw(addr_of("n1"), EventKind::reaped, "n3"));
  CHECK(c["n1"].size() == 2);
  CHECK(c["n1"].num_alive() == 2);
  // The event carries the member as it was.
  const auto& ev = c.net.events(addr_of("n1"));
  auto it = std::find_if(ev.begin(), ev.end(),
                         [](const Event& e) { return e.kind == EventKind::reaped; });
  REQUIRE(it != ev.end());
  CHECK(it->member.state == MemberState::dead);
  CHECK(to_string(it->kind) == "reaped");
}

TEST_CASE("restart with incarnation 0 wins by refuting the old incarnation") {
  Cluster c;
  c.start(3);
  for (int i = 0; i < 4; ++i)
    REQUIRE(c["n3"].set_tags({{"boot", "1"}, {"i", std::to_string(i)}}, c.now()));
  REQUIRE(c.net.run_until(
      [&] { return c["n1"].find("n3")->incarnation == c["n3"].self().incarnation; }, seconds(10)));
  const std::uint32_t old_inc = c["n3"].self().incarnation;
  REQUIRE(old_inc >= 5);

  Membership& fresh = c.add("n3", 0, {{"boot", "2"}});  // the process restarted
  CHECK(fresh.self().incarnation == 1);
  fresh.join({addr_of("n1")}, c.now());
  c.net.deliver();
  CHECK(fresh.self().incarnation > old_inc);
  CHECK(fresh.stats().refutations >= 1);
  REQUIRE(c.net.run_until(
      [&] {
        for (auto v : {"n1", "n2"}) {
          const Member* m = c[v].find("n3");
          if (!m || m->incarnation != fresh.self().incarnation ||
              tag_value(m->tags, "boot") != "2" || m->state != MemberState::alive)
            return false;
        }
        return true;
      },
      seconds(10)));
  CHECK(c.net.saw(addr_of("n1"), EventKind::updated, "n3"));
  CHECK(c.converged());
}

TEST_CASE("restart after being declared failed: the node refutes and recovers everywhere") {
  Cluster c;
  c.start(3);
  c.net.isolate(addr_of("n3"));
  REQUIRE(c.net.run_until(
      [&] {
        return c.state("n1", "n3") == MemberState::dead && c.state("n2", "n3") == MemberState::dead;
      },
      seconds(60)));
  const std::uint32_t dead_inc = c["n1"].find("n3")->incarnation;
  c.net.rejoin(addr_of("n3"));
  Membership& fresh = c.add("n3");
  fresh.join({addr_of("n1")}, c.now());
  c.net.deliver();
  CHECK(fresh.self().incarnation > dead_inc);
  REQUIRE(c.net.run_until([&] { return c.converged(); }, seconds(30)));
  CHECK(c.net.saw(addr_of("n1"), EventKind::recovered, "n3"));
  CHECK(c.net.saw(addr_of("n2"), EventKind::recovered, "n3"));
}

TEST_CASE("a partition heals: reconnect push-pulls with failed members") {
  Cluster c;
  c.start(3);
  c.net.isolate(addr_of("n3"));
  REQUIRE(c.net.run_until(
      [&] {
        return c.state("n1", "n3") == MemberState::dead &&
               c.state("n3", "n1") == MemberState::dead && c.state("n3", "n2") == MemberState::dead;
      },
      seconds(60)));
  // Past gossip_to_the_dead_time: only reconnect can bring the sides back together.
  c.net.run_for(c.config().gossip_to_the_dead_time);
  c.net.rejoin(addr_of("n3"));
  REQUIRE(c.net.run_until([&] { return c.converged(); }, seconds(120)));
  CHECK(c.net.saw(addr_of("n1"), EventKind::recovered, "n3"));
  CHECK(c.net.saw(addr_of("n3"), EventKind::recovered, "n1"));
}

TEST_CASE("malformed datagrams and frames are counted and change nothing") {
  Cluster c;
  c.start(2);
  Membership& m = c["n1"];
  c.net.clear_events();
  const auto members_before = m.members().size();
  const auto inc_before = m.self().incarnation;
  const auto errors_before = m.stats().decode_errors;
  const std::vector<Bytes> junk = {
      {},
      {0x01},
      {0x02, 0x91, 0x92, 0x03, 0x01},           // wrong version
      {0x01, 0xc1},                             // never-used msgpack byte
      {0x01, 0x91, 0x92, 0x2a, 0x01},           // unknown type 42
      {0x01, 0xdc, 0xff, 0xff},                 // array16 of 65535: over the part limit
      {0x01, 0x91, 0x94, 0x05, 0x01, 0xa1},     // truncated alive
      codec::encode_packet(codec::PushPull{}),  // stream-only message in a datagram
  };
  for (const auto& j : junk) m.on_datagram(addr_of("n2"), j, c.now());
  CHECK(m.stats().decode_errors - errors_before == junk.size());
  for (const auto& j : junk) CHECK(m.on_stream(addr_of("n2"), j, c.now()).empty());
  // A well-formed frame that is not valid on a stream.
  CHECK(m.on_stream(addr_of("n2"), codec::encode_frame(codec::Nack{1}), c.now()).empty());
  CHECK(m.stats().decode_errors - errors_before == 2 * junk.size() + 1);
  // A garbage reply to a stream we never opened is ignored; to one we opened, counted.
  m.on_stream_reply(999999, std::span<const std::uint8_t>(junk[3]), c.now());
  CHECK(m.stats().decode_errors - errors_before == 2 * junk.size() + 1);
  c["n2"].join({addr_of("n1")}, c.now());
  auto out = c["n2"].take_output();
  REQUIRE(out.streams.size() == 1);
  const auto e2 = c["n2"].stats().decode_errors;
  c["n2"].on_stream_reply(out.streams[0].id, std::span<const std::uint8_t>(junk[3]), c.now());
  CHECK(c["n2"].stats().decode_errors == e2 + 1);

  auto o = m.take_output();
  CHECK(o.events.empty());
  CHECK(o.datagrams.empty());
  CHECK(o.streams.empty());
  CHECK(m.members().size() == members_before);
  CHECK(m.self().incarnation == inc_before);
  CHECK(c.converged());
}

TEST_CASE("well-formed but invalid updates are ignored") {
  Cluster c;
  c.start(2);
  Membership& m = c["n1"];
  c.inject("n1", "n2", codec::Alive{5, "", "x:1", {}});  // no name
  c.inject("n1", "n2", codec::Alive{5, "x", "", {}});    // no address
  Tags big;
  set_tag(big, "k", std::string(c.config().max_tags_bytes, 'v'));
  c.inject("n1", "n2", codec::Alive{5, "x", "x:1", big});  // tags over max_tags_bytes
  c.inject("n1", "n2", codec::Suspect{9, "ghost", "n2"});  // unknown node
  c.inject("n1", "n2", codec::Dead{9, "ghost", "n2"});
  CHECK(m.size() == 2);
  CHECK(m.find("x") == nullptr);
  CHECK(m.find("ghost") == nullptr);
  // A ping for another name (the address was reused) is dropped, not acked.
  const auto acks = m.stats().msgs_out[static_cast<int>(MsgType::ack)];
  c.inject("n1", "n2", codec::Ping{77, "someone-else", "n2", addr_of("n2")});
  CHECK(m.stats().misdirected == 1);
  CHECK(m.stats().msgs_out[static_cast<int>(MsgType::ack)] == acks);
  CHECK(m.on_stream(addr_of("n2"), codec::encode_frame(codec::Ping{78, "other", "n2", ""}), c.now())
            .empty());
  CHECK(m.stats().misdirected == 2);
  // ... and a ping for us over a stream is acked with our seq.
  Bytes reply =
      m.on_stream(addr_of("n2"), codec::encode_frame(codec::Ping{79, "n1", "n2", ""}), c.now());
  auto d = codec::decode_frame(reply);
  REQUIRE(d);
  CHECK(std::get<codec::Ack>(*d.value).seq == 79);
}

TEST_CASE("restore: saved members return without events or broadcasts and are probed as usual") {
  Cluster c;
  c.start(2);
  c.net.clear_events();
  const std::vector<Member> saved = {
      Member{"n2", addr_of("n2"), {}, 99, MemberState::alive, {}},     // known: left alone
      Member{"gone", addr_of("gone"), {}, 3, MemberState::alive, {}},  // not there any more
      Member{"old", addr_of("old"), {}, 2, MemberState::dead, {}},     // restored as failed
      Member{"", addr_of("x"), {}, 1, MemberState::alive, {}},         // invalid: skipped
  };
  const auto queued = c["n1"].pending_broadcasts();
  c["n1"].restore(saved, c.now());
  CHECK(c["n1"].size() == 4);
  CHECK(c["n1"].num_alive() == 3);
  CHECK(c["n1"].find("n2")->incarnation < 99);
  CHECK(c["n1"].pending_broadcasts() == queued);  // nothing new to gossip
  c.net.deliver();
  CHECK(c.net.events(addr_of("n1")).empty());
  REQUIRE(c.net.run_until([&] { return c.state("n1", "gone") == MemberState::dead; }, seconds(60)));
  CHECK(c.net.saw(addr_of("n1"), EventKind::failed, "gone"));
  CHECK(c.state("n1", "n2") == MemberState::alive);
}
