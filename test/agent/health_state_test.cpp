// HealthState: several instances exchanging broadcasts and push-pull state by hand, with a
// manual clock. Covers versions (newer wins, stale ignored, restart), the codec's rejection
// of malformed bytes, the size bounds, convergence, time-drift offsets.
#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <random>

#include "agent/health_state.hpp"

using namespace vigil;
using namespace vigil::agent;
using namespace std::chrono_literals;

namespace {

struct TestClock {
  std::int64_t wall_us = 1'790'000'000'000'000;  // 2026-09
  std::chrono::steady_clock::time_point steady = std::chrono::steady_clock::time_point{} + 1h;
  void advance(std::chrono::microseconds d) {
    wall_us += d.count();
    steady += d;
  }
};

struct Sent {
  std::string key;
  Bytes payload;
  int priority = 0;
};

// One agent's HealthState with its outbox of broadcasts.
struct Peer {
  std::shared_ptr<TestClock> clock;
  std::unique_ptr<HealthState> hs;
  std::vector<Sent> outbox;
  std::vector<ProbeChange> changes;

  Peer(std::string name, std::shared_ptr<TestClock> c, HealthOptions o = {}) : clock(c) {
    o.wall_us = [c] { return c->wall_us; };
    o.steady_now = [c] { return c->steady; };
    hs = std::make_unique<HealthState>(std::move(name), std::move(o));
    hs->set_broadcaster([this](std::string k, Bytes p, int prio) {
      outbox.push_back({k, std::move(p), prio});
    });
    hs->set_change_handler([this](const ProbeChange& ch) { changes.push_back(ch); });
  }
};

// Delivers every queued broadcast of `from` to each of `to`; returns how many were news.
int deliver(Peer& from, std::initializer_list<Peer*> to) {
  int news = 0;
  for (const Sent& s : from.outbox) {
    for (Peer* p : to) news += p->hs->notify_message(s.key, s.payload) ? 1 : 0;
  }
  from.outbox.clear();
  return news;
}

checkers::Probe failed(std::string checker, std::string error,
                       checkers::Severity sev = checkers::Severity::critical) {
  checkers::Probe p = checkers::Probe::fail(sev, std::move(error));
  p.checker = checker;
  p.type = checker;
  return p;
}
checkers::Probe ok(std::string checker) {
  checkers::Probe p = checkers::Probe::ok();
  p.checker = checker;
  p.type = checker;
  return p;
}

const ProbeFields* probe_of(const HealthState& hs, const std::string& origin,
                            const std::string& checker) {
  const NodeHealth* n = hs.find(origin);
  if (!n) return nullptr;
  auto it = n->probes.find(checker);
  return it == n->probes.end() ? nullptr : &it->second.probe;
}

// One push-pull between `opener` and `other`, as the gossip core runs it: the opener's summary,
// the other side's answer (differing records + its entries), the opener's last records.
// Returns the user-state bytes that crossed the wire.
std::size_t exchange(Peer& opener, Peer& other) {
  const Bytes opening = opener.hs->local_state(false);
  std::size_t bytes = opening.size();
  const Bytes answer = other.hs->merge_remote_state(opening, false);
  bytes += answer.size();
  if (answer.empty()) return bytes;
  const Bytes last = opener.hs->merge_remote_state(answer, false);
  bytes += last.size();
  if (!last.empty()) CHECK(other.hs->merge_remote_state(last, false).empty());
  return bytes;
}

}  // namespace

TEST_CASE("a local probe change is broadcast once and merged by peers; stale is ignored") {
  auto clock = std::make_shared<TestClock>();
  Peer a("node-a", clock), b("node-b", clock), c("node-c", clock);

  CHECK(a.hs->set_local_probe(failed("etcd", "GET /health: 503"), 1000));
  REQUIRE(a.outbox.size() == 1);
  CHECK(a.outbox[0].key.size() == 17);
  const Sent first = a.outbox[0];
  CHECK(deliver(a, {&b, &c}) == 2);
  REQUIRE(probe_of(*b.hs, "node-a", "etcd"));
  CHECK(probe_of(*b.hs, "node-a", "etcd")->status == WireStatus::failed);
  CHECK(probe_of(*b.hs, "node-a", "etcd")->error == "GET /health: 503");
  REQUIRE(b.changes.size() == 1);
  CHECK(b.changes[0].origin == "node-a");
  CHECK_FALSE(b.changes[0].before.has_value());

  // The same result again: no change, no broadcast.
  clock->advance(1s);
  CHECK_FALSE(a.hs->set_local_probe(failed("etcd", "GET /health: 503"), 2000));
  CHECK(a.outbox.empty());

  // Recovery: newer version wins everywhere.
  clock->advance(1s);
  CHECK(a.hs->set_local_probe(ok("etcd"), 3000));
  CHECK(deliver(a, {&b}) == 1);
  CHECK(probe_of(*b.hs, "node-a", "etcd")->status == WireStatus::running);
  REQUIRE(b.changes.size() == 2);
  CHECK(b.changes[1].before->status == WireStatus::failed);

  // The old (failed) broadcast arriving late is stale: not news, nothing changes.
  CHECK_FALSE(b.hs->notify_message(first.key, first.payload));
  CHECK(probe_of(*b.hs, "node-a", "etcd")->status == WireStatus::running);
  CHECK(b.changes.size() == 2);
  // A duplicate is not news either (so it stops spreading).
  CHECK_FALSE(c.hs->notify_message(first.key, first.payload));
}

TEST_CASE("status unchanged keeps `since`; error change is re-broadcast without a verdict change") {
  auto clock = std::make_shared<TestClock>();
  Peer a("a", clock), b("b", clock);
  a.hs->set_local_probe(failed("disk", "84% used", checkers::Severity::warning), 5000);
  deliver(a, {&b});
  clock->advance(10s);
  CHECK(a.hs->set_local_probe(failed("disk", "85% used", checkers::Severity::warning), 15000));
  deliver(a, {&b});
  const ProbeFields* p = probe_of(*b.hs, "a", "disk");
  REQUIRE(p);
  CHECK(p->error == "85% used");
  CHECK(p->since_ms == 5000);
  CHECK(b.changes.size() == 1);  // only the first sighting; same status and severity after
  // Severity change is a verdict change.
  a.hs->set_local_probe(failed("disk", "95% used", checkers::Severity::critical), 20000);
  deliver(a, {&b});
  CHECK(b.changes.size() == 2);
}

TEST_CASE("a detail-only change stays local (never gossiped); a new error goes at once") {
  auto clock = std::make_shared<TestClock>();
  Peer a("a", clock);
  auto with_detail = [](checkers::Probe p, std::string d) {
    p.detail = std::move(d);
    return p;
  };
  CHECK(a.hs->set_local_probe(with_detail(ok("ping"), "rtt 0.31ms"), 1000));
  a.outbox.clear();
  clock->advance(10s);
  Peer b("b", clock);
  exchange(b, a);
  const auto version = a.hs->find("a")->probes.at("ping").version;
  const auto revision = a.hs->revision();
  CHECK_FALSE(a.hs->set_local_probe(with_detail(ok("ping"), "rtt 0.29ms"), 11000));
  CHECK(a.outbox.empty());
  // Our own copy shows the new numbers (served by this node), with no new version.
  CHECK(probe_of(*a.hs, "a", "ping")->detail == "rtt 0.29ms");
  CHECK(a.hs->find("a")->probes.at("ping").version == version);
  CHECK(a.hs->revision() > revision);  // the local view is republished
  for (int i = 0; i < 60; ++i) {       // an hour of runs: never re-issued
    clock->advance(1min);
    CHECK_FALSE(a.hs->set_local_probe(with_detail(ok("ping"), "rtt 0." + std::to_string(i)), 0));
  }
  CHECK(a.outbox.empty());
  // Peers keep the detail of the last verdict; a push-pull does not count it as a difference.
  CHECK(probe_of(*b.hs, "a", "ping")->detail == "rtt 0.31ms");
  CHECK(a.hs->state_digest() == b.hs->state_digest());
  clock->advance(1s);
  CHECK(a.hs->set_local_probe(failed("ping", "n2 100% loss"), 33000));  // verdict: at once
  REQUIRE(a.outbox.size() == 1);
  CHECK(a.outbox[0].priority == HealthState::kProbePriority);
}

TEST_CASE("a restarted origin (versions forgotten) wins with its wall clock") {
  auto clock = std::make_shared<TestClock>();
  Peer b("b", clock);
  {
    Peer a("a", clock);
    for (int i = 0; i < 5; ++i) {  // many versions in quick succession
      a.hs->set_local_probe(i % 2 ? ok("etcd") : failed("etcd", "down"), 1000 + i);
    }
    deliver(a, {&b});
  }
  const std::uint64_t before = b.hs->find("a")->probes.at("etcd").version;
  clock->advance(5s);
  Peer a2("a", clock);  // fresh process, same name
  a2.hs->set_local_probe(ok("etcd"), 9000);
  CHECK(deliver(a2, {&b}) == 1);
  CHECK(b.hs->find("a")->probes.at("etcd").version > before);
  CHECK(probe_of(*b.hs, "a", "etcd")->status == WireStatus::running);
}

TEST_CASE("an origin's own stale record echoed back is refuted with a newer version") {
  auto clock = std::make_shared<TestClock>();
  Peer a("a", clock), b("b", clock);
  a.hs->set_local_probe(failed("etcd", "down"), 1000);
  deliver(a, {&b});
  // Clock of the restarted a went backwards: its fresh record has a lower version than b's.
  Peer a2("a", clock);
  clock->wall_us -= 3'600'000'000;  // one hour back
  a2.hs->set_local_probe(ok("etcd"), 2000);
  a2.outbox.clear();
  exchange(b, a2);
  // a2 keeps its own current verdict and re-issues it with a version above b's copy.
  CHECK(probe_of(*a2.hs, "a", "etcd")->status == WireStatus::running);
  REQUIRE(a2.outbox.size() == 1);
  CHECK(deliver(a2, {&b}) == 1);
  CHECK(probe_of(*b.hs, "a", "etcd")->status == WireStatus::running);
}

TEST_CASE("a checker removed from the config is buried with a tombstone") {
  auto clock = std::make_shared<TestClock>();
  Peer a("a", clock), b("b", clock);
  a.hs->set_local_probe(failed("old", "x"), 1000);
  deliver(a, {&b});
  Peer a2("a", clock);
  clock->advance(1s);
  a2.hs->set_local_checkers({"etcd"});
  exchange(a2, b);
  CHECK(probe_of(*a2.hs, "a", "old")->status == WireStatus::removed);
  deliver(a2, {&b});  // (the exchange's last answer may already have carried it)
  CHECK(probe_of(*b.hs, "a", "old")->status == WireStatus::removed);
  REQUIRE_FALSE(b.changes.empty());
  CHECK(b.changes.back().after.status == WireStatus::removed);
}

TEST_CASE("malformed bytes are rejected and counted, never crash") {
  auto clock = std::make_shared<TestClock>();
  Peer a("a", clock), b("b", clock);
  a.hs->set_local_probe(failed("etcd", "down"), 1000);
  const Bytes good = a.outbox.at(0).payload;
  REQUIRE(decode_record(good).has_value());

  // Every truncation, and every single-byte corruption, of a valid record.
  for (std::size_t n = 0; n < good.size(); ++n) {
    CHECK_FALSE(b.hs->notify_message("k", std::span(good.data(), n)));
  }
  std::mt19937 rng(7);
  int accepted = 0;
  for (int i = 0; i < 2000; ++i) {
    Bytes bad = good;
    bad[rng() % bad.size()] = static_cast<std::uint8_t>(rng());
    if (auto r = decode_record(bad)) {  // a corruption may still be a valid record
      ++accepted;
      CHECK(r->origin.size() <= kMaxOriginBytes);
    }
  }
  CHECK(accepted < 2000);
  // Trailing bytes, random garbage, wrong format, out-of-range enums.
  Bytes trailing = good;
  trailing.push_back(0);
  CHECK_FALSE(decode_record(trailing));
  for (int i = 0; i < 2000; ++i) {
    Bytes junk(rng() % 64);
    for (auto& x : junk) x = static_cast<std::uint8_t>(rng());
    (void)decode_record(junk);
    (void)decode_state(junk);
  }
  HealthRecord r = *decode_record(good);
  r.probe.status = static_cast<WireStatus>(3);
  CHECK_FALSE(decode_record(encode_record(r)));
  r.probe.status = WireStatus::failed;
  r.probe.error = std::string(kMaxTextBytes + 1, 'e');
  CHECK_FALSE(decode_record(encode_record(r)));
  r.probe.error.clear();
  r.origin.clear();
  CHECK_FALSE(decode_record(encode_record(r)));
  // A state with one bad record is rejected as a whole.
  Bytes state = a.hs->full_state();
  state.back() ^= 0xff;
  const auto errs = b.hs->decode_errors();
  b.hs->merge_remote_state(state, false);
  CHECK(b.hs->decode_errors() == errs + 1);
  CHECK(b.hs->find("a") == nullptr);
  // A nested bomb is refused by the depth limit.
  Bytes bomb(200, 0x91);  // [[[[...]]]]
  bomb.push_back(0x01);
  CHECK_FALSE(decode_state(bomb));
}

TEST_CASE("size bounds hold with 50 probes, long errors and many lossy peers") {
  auto clock = std::make_shared<TestClock>();
  const std::string long_name(kMaxOriginBytes, 'n');
  Peer a(long_name, clock), b("b", clock);
  const std::string huge(5000, 'x');
  std::string utf8;
  for (int i = 0; i < 400; ++i) utf8 += "\xC3\xA9";  // "é" x400: cut on a boundary
  for (int i = 0; i < 50; ++i) {
    checkers::Probe p =
        failed(std::string(kMaxCheckerBytes + 10, 'c') + std::to_string(i), i % 2 ? huge : utf8);
    p.checker = std::to_string(i) + std::string(100, 'c');
    p.type = std::string(100, 't');
    p.detail = huge;
    a.hs->set_local_probe(p, 1000);
  }
  // 100 peers with long names, all lossy.
  std::vector<checkers::PeerResult> peers;
  for (int i = 0; i < 100; ++i) {
    checkers::PeerResult pr;
    pr.peer = std::string(200, 'p') + std::to_string(i);
    pr.sent = 5;
    pr.lost = i % 5;
    pr.rtt = 1500us;
    peers.push_back(pr);
  }
  a.hs->add_peer_results(peers);
  REQUIRE(a.outbox.size() == 51);
  std::size_t total = 0;
  for (const Sent& s : a.outbox) {
    CHECK(s.payload.size() <= kMaxRecordBytes);
    // The gossip User message adds ~4 bytes of framing plus the 17-byte key.
    CHECK(s.payload.size() + s.key.size() + 8 <= 1400);
    total += s.payload.size();
  }
  MESSAGE("worst-case node (256-byte name, 50 probes, 100 lossy peers): " << total << " bytes");
  CHECK(total <= (kMaxProbesPerOrigin + 1) * kMaxRecordBytes);
  CHECK(deliver(a, {&b}) == 51);
  const NodeHealth* n = b.hs->find(long_name);
  REQUIRE(n);
  CHECK(n->probes.size() == 50);
  REQUIRE(n->reach);
  CHECK(n->reach->reach.size() >= 1);
  CHECK(n->reach->reach.size() <= kMaxReachPeers);
  CHECK(n->reach->reach.front().lost > 0);  // lossy peers first
  for (const auto& [name, r] : n->probes) {
    CHECK(r.probe.error.size() <= kMaxTextBytes);
    CHECK(r.probe.detail.size() <= kMaxTextBytes);
  }

  // Typical sizes: short names and errors.
  Peer t("node-17", clock);
  t.hs->set_local_probe(failed("etcd", "GET http://127.0.0.1:2379/health: 503"), 1000);
  MESSAGE("typical probe record: " << t.outbox.back().payload.size() << " bytes");
  CHECK(t.outbox.back().payload.size() < 120);
}

TEST_CASE("push-pull exchanges converge three nodes to identical states") {
  auto clock = std::make_shared<TestClock>();
  Peer a("a", clock), b("b", clock), c("c", clock);
  a.hs->set_local_probe(failed("etcd", "down"), 1000);
  a.hs->set_local_probe(ok("disk"), 1000);
  b.hs->set_local_probe(ok("docker"), 1000);
  c.hs->set_local_probe(failed("kubelet", "refused", checkers::Severity::warning), 1000);
  // No broadcasts delivered at all: anti-entropy alone.
  exchange(a, b);  // a+b on both
  CHECK(a.hs->full_state() == b.hs->full_state());
  exchange(c, a);  // c gets a+b, a gets c
  exchange(b, c);
  CHECK(a.hs->full_state() == b.hs->full_state());
  CHECK(b.hs->full_state() == c.hs->full_state());
  CHECK(a.hs->state_digest() == c.hs->state_digest());
  CHECK(a.hs->record_count() == 4);
  const auto rev = a.hs->revision();
  CHECK(a.hs->merge_remote_state(b.hs->local_state(false), false).empty());  // nothing new
  CHECK(a.hs->revision() == rev);
  c.hs->set_local_probe(ok("extra"), 2000);
  CHECK(a.hs->state_digest() != c.hs->state_digest());
  exchange(a, c);
  CHECK(a.hs->revision() > rev);
  CHECK(a.hs->state_digest() == c.hs->state_digest());
  CHECK(probe_of(*c.hs, "a", "etcd")->error == "down");
  CHECK(probe_of(*a.hs, "c", "kubelet")->severity == WireSeverity::warning);

  // A failed node's records stay (with their age) until forget().
  c.hs->forget("a");
  CHECK(c.hs->find("a") == nullptr);
  CHECK(c.hs->find("c") != nullptr);
  // A peer that has not reaped it yet does not hand its records back...
  exchange(c, b);
  CHECK(c.hs->find("a") == nullptr);
  // ...but the node itself, back with newer records, is heard again.
  clock->advance(2s);
  a.hs->set_local_probe(ok("etcd"), 5000);
  deliver(a, {&c});
  REQUIRE(c.hs->find("a") != nullptr);
  CHECK(probe_of(*c.hs, "a", "etcd")->status == WireStatus::running);
}

TEST_CASE("push-pull sends O(k) records for k differing origins, never the whole view") {
  auto clock = std::make_shared<TestClock>();
  Peer x("x", clock), y("y", clock);
  constexpr int kOrigins = 500;
  for (int i = 0; i < kOrigins; ++i) {  // 500 origins x 4 probes, known to both
    Peer o("node-" + std::to_string(i), clock);
    for (const char* ch : {"etcd", "disk", "kubelet", "dns"}) o.hs->set_local_probe(ok(ch), 1000);
    deliver(o, {&x, &y});
  }
  const std::size_t full = x.hs->full_state().size();
  CHECK(x.hs->state_digest() == y.hs->state_digest());
  // Converged: the whole summary would be 8 bytes per origin, but the gossip core compares the
  // digests first and sends nothing else (gossip/membership_ext_test.cpp measures that frame).
  CHECK(x.hs->local_state(false).size() <= 8 * kOrigins + 16);
  CHECK(x.hs->merge_remote_state(y.hs->local_state(false), false).empty());

  // k = 3 origins changed, each known newer on a different side.
  auto change = [&](const std::string& origin, Peer& holder) {
    HealthRecord r = x.hs->find(origin)->probes.at("etcd");
    clock->advance(1s);
    r.version += 1000;
    r.probe.status = WireStatus::failed;
    holder.hs->notify_message("k", encode_record(r));
  };
  change("node-7", x);
  change("node-100", y);
  change("node-333", y);
  HealthRecord fresh;  // an origin only y knows
  fresh.origin = "node-new";
  fresh.version = 5;
  fresh.probe.checker = "disk";
  y.hs->notify_message("k", encode_record(fresh));

  const Bytes opening = x.hs->local_state(false);
  const Bytes answer = y.hs->merge_remote_state(opening, false);
  auto ans = decode_state_message(answer);
  REQUIRE(ans);
  CHECK(ans->summary.size() == 4);
  CHECK(ans->records.size() == 3 * 4 + 1);  // 4 probes of 3 origins, 1 of node-new
  const Bytes last = x.hs->merge_remote_state(answer, false);
  auto fin = decode_state_message(last);
  REQUIRE(fin);
  CHECK(fin->records.size() == 1);  // only node-7's newer etcd
  CHECK(y.hs->merge_remote_state(last, false).empty());
  CHECK(x.hs->state_digest() == y.hs->state_digest());
  CHECK(x.hs->full_state() == y.hs->full_state());
  MESSAGE("view " << full << " B; summary " << opening.size() << " B; answer " << answer.size()
                  << " B; last " << last.size() << " B");
  CHECK(answer.size() + last.size() < full / 50);
}

TEST_CASE("a state from a node that predates the summary (fmt 1) is merged whole") {
  auto clock = std::make_shared<TestClock>();
  Peer a("a", clock), b("b", clock);
  a.hs->set_local_probe(failed("etcd", "down"), 1000);
  CHECK(b.hs->merge_remote_state(a.hs->full_state(), false).empty());
  CHECK(probe_of(*b.hs, "a", "etcd")->status == WireStatus::failed);
  auto m = decode_state_message(a.hs->full_state());
  REQUIRE(m);
  CHECK(m->stage == StateStage::last);
  // A summary out of order is malformed.
  Bytes bad = encode_state_message(StateStage::opening, {{5, 1}, {3, 1}}, {});
  CHECK_FALSE(decode_state_message(bad));
  const auto errs = b.hs->decode_errors();
  CHECK(b.hs->merge_remote_state(bad, false).empty());
  CHECK(b.hs->decode_errors() == errs + 1);
}

TEST_CASE("ack payload carries the wall clock; ping completion yields offset and RTT") {
  auto ca = std::make_shared<TestClock>();
  auto cb = std::make_shared<TestClock>();
  cb->wall_us += 1'500'000;  // b's clock is 1.5 s ahead
  Peer a("a", ca), b("b", cb);
  const Bytes ack = b.hs->ack_payload();
  // a sent its ping 10 ms ago; b stamped the ack 5 ms ago (the midpoint).
  cb->wall_us -= 5000;
  gossip::Member mb;
  mb.name = "b";
  a.hs->notify_ping_complete(mb, 10ms, b.hs->ack_payload());
  (void)ack;
  auto offsets = a.hs->peer_clock()->offsets();
  REQUIRE(offsets.size() == 1);
  CHECK(offsets[0].peer == "b");
  CHECK(offsets[0].offset == std::chrono::nanoseconds(1'500'000'000));
  CHECK(offsets[0].rtt == 10ms);
  CHECK(offsets[0].samples == 1);
  CHECK(clock_offset(std::chrono::microseconds(1000), std::chrono::microseconds(2000), 2ms) ==
        std::chrono::nanoseconds(0));
  // A bad payload gives no offset but still an RTT sample.
  mb.name = "c";
  const Bytes junk{1, 2, 3};
  a.hs->notify_ping_complete(mb, 3ms, junk);
  CHECK(a.hs->peer_clock()->offsets().size() == 1);
  ca->advance(31s);  // healthy peers are not news: our own copy shows them, peers do not
  a.hs->tick();
  const NodeHealth* self = a.hs->find("a");
  REQUIRE(self);
  REQUIRE(self->reach);
  CHECK(self->reach->reach.size() == 2);  // gossip samples of b and c
  CHECK(decode_clock(encode_clock(-42)) == -42);
  CHECK_FALSE(decode_clock(junk));
}

TEST_CASE("reachability summary: lossy first, broadcast only when it changes") {
  auto clock = std::make_shared<TestClock>();
  Peer a("a", clock);
  auto result = [](std::string peer, int sent, int lost) {
    checkers::PeerResult r;
    r.peer = std::move(peer);
    r.sent = sent;
    r.lost = lost;
    r.rtt = 2ms;
    return r;
  };
  a.hs->add_peer_results({result("b", 5, 0), result("c", 5, 5), result("d", 5, 1)});
  REQUIRE(a.outbox.size() == 1);
  auto rec = decode_record(a.outbox.back().payload);
  REQUIRE(rec);
  REQUIRE(rec->reach.size() == 3);
  CHECK(rec->reach[0].peer == "c");
  CHECK(rec->reach[1].peer == "d");
  CHECK(rec->reach[2].peer == "b");
  CHECK(rec->reach[2].rtt_us == 2000);
  CHECK(a.outbox.back().priority == HealthState::kReachPriority);
  // Same picture again: no new broadcast, ever; our own copy takes the new counts.
  clock->advance(1s);
  a.hs->add_peer_results({result("b", 5, 0), result("c", 5, 5), result("d", 5, 1)});
  CHECK(a.outbox.size() == 1);
  clock->advance(31s);
  a.hs->tick();
  CHECK(a.outbox.size() == 1);
  CHECK(a.hs->find("a")->reach->reach[0].sent == 10);
  // c recovers: each move of its loss by a tenth is broadcast at once.
  for (int i = 0; i < 10; ++i) a.hs->add_peer_results({result("c", 5, 0)});
  CHECK(a.outbox.size() > 3);
  rec = decode_record(a.outbox.back().payload);
  REQUIRE(rec);
  auto c_entry = std::find_if(rec->reach.begin(), rec->reach.end(),
                              [](const PeerReach& r) { return r.peer == "c"; });
  REQUIRE(c_entry != rec->reach.end());
  CHECK(c_entry->loss() < 0.2);  // 10 lost of the 50+ probes in the window
  CHECK(c_entry->sent >= 50);    // the last broadcast may predate the last sample
  // The window forgets old samples.
  clock->advance(61s);
  a.hs->tick();
  rec = decode_record(a.outbox.back().payload);
  REQUIRE(rec);
  CHECK(rec->reach.empty());
}

TEST_CASE("samples from before a healed fault do not carry over (restart_samples)") {
  auto clock = std::make_shared<TestClock>();
  Peer a("a", clock);
  checkers::PeerResult lost;
  lost.peer = "b";
  lost.protocol = "icmp";
  lost.sent = 5;
  lost.lost = 5;
  checkers::PeerResult fine = lost;
  fine.peer = "c";
  fine.lost = 0;
  a.hs->add_peer_results({lost, fine});
  REQUIRE(a.outbox.size() == 1);
  CHECK(decode_record(a.outbox.back().payload)->reach.front().lost == 5);
  a.hs->restart_samples("b");     // b failed and came back: its cut is over
  REQUIRE(a.outbox.size() == 2);  // the lossy entry is gone: news
  const auto rec = decode_record(a.outbox.back().payload);
  REQUIRE(rec);
  CHECK(std::none_of(rec->reach.begin(), rec->reach.end(),
                     [](const PeerReach& e) { return e.peer == "b"; }));
  a.hs->restart_samples("zz");  // a peer we never measured: nothing to say
  CHECK(a.outbox.size() == 2);
}

TEST_CASE("a summary that gains ICMP peers goes out at once (the first run knew only the seed)") {
  auto clock = std::make_shared<TestClock>();
  Peer a("a", clock);
  auto ok = [](std::string peer) {
    checkers::PeerResult r;
    r.peer = std::move(peer);
    r.protocol = "icmp";
    r.sent = 3;
    r.rtt = 1ms;
    return r;
  };
  a.hs->add_peer_results({ok("b")});
  REQUIRE(a.outbox.size() == 1);
  clock->advance(2s);
  a.hs->add_peer_results({ok("b"), ok("c"), ok("d")});
  REQUIRE(a.outbox.size() == 2);
  auto rec = decode_record(a.outbox.back().payload);
  REQUIRE(rec);
  CHECK(rec->reach.size() == 3);
  clock->advance(2s);
  a.hs->add_peer_results({ok("b"), ok("c"), ok("d")});  // the same peers: nothing new
  CHECK(a.outbox.size() == 2);
}

TEST_CASE("healthy gossip peers coming and going do not flood the mesh with summaries") {
  auto clock = std::make_shared<TestClock>();
  Peer a("a", clock);
  gossip::Member m;
  for (int i = 0; i < 300; ++i) {  // 5 minutes of 1 probe/s to random healthy peers
    m.name = "peer-" + std::to_string(i * 7919 % 1000);
    a.hs->notify_ping_complete(m, std::chrono::microseconds(200 + i % 300), a.hs->ack_payload());
    clock->advance(1s);
    if (i % 2 == 0) a.hs->tick();
  }
  MESSAGE("summaries broadcast in 300 s: " << a.outbox.size());
  CHECK(a.outbox.empty());  // gossip-probe entries are never gossiped: nothing is news
  CHECK(a.hs->find("a")->reach->reach.size() >= 20);  // our own copy is current
  CHECK(a.hs->find("a")->reach->version == 0);        // and local only
  CHECK(a.hs->summary().empty());                     // not in what push-pull compares
}

TEST_CASE("a first record that says all is well is background news; changes never are") {
  auto clock = std::make_shared<TestClock>();
  Peer a("a", clock), b("b", clock);
  a.hs->set_local_probe(ok("disk"), 1000);
  a.hs->set_local_probe(failed("etcd", "down"), 1000);
  REQUIRE(a.outbox.size() == 2);
  CHECK(a.outbox[0].priority == HealthState::kBackgroundPriority);  // first, running
  CHECK(a.outbox[1].priority == HealthState::kProbePriority);       // first, failed
  // A relay keeps the class: b relays the first `running` as background too.
  CHECK(b.hs->notify_message(a.outbox[0].key, a.outbox[0].payload));
  CHECK(b.hs->relay_priority() == HealthState::kBackgroundPriority);
  CHECK(b.hs->notify_message(a.outbox[1].key, a.outbox[1].payload));
  CHECK(b.hs->relay_priority() == HealthState::kProbePriority);
  a.outbox.clear();
  clock->advance(1s);
  a.hs->set_local_probe(failed("disk", "full"), 2000);  // a change: urgent
  REQUIRE(a.outbox.size() == 1);
  CHECK(a.outbox[0].priority == HealthState::kProbePriority);
  CHECK(b.hs->notify_message(a.outbox[0].key, a.outbox[0].payload));
  CHECK(b.hs->relay_priority() == HealthState::kProbePriority);
}

TEST_CASE("large echoes on the wire: appended to an entry only when carried; old and new mix") {
  HealthRecord r;
  r.kind = RecordKind::reach;
  r.origin = "a";
  r.version = 5;
  r.updated_ms = 6;
  PeerReach plain;
  plain.peer = "b";
  plain.protocol = "icmp";
  plain.sent = 5;
  plain.rtt_us = 1000;
  PeerReach mtu = plain;
  mtu.peer = "c";
  mtu.large_sent = 2;
  mtu.large_lost = 2;
  mtu.large_bytes = 9000;
  r.reach = {mtu, plain};
  const Bytes with = encode_record(r);
  auto back = decode_record(with);
  REQUIRE(back);
  CHECK(*back == r);  // round trip, large fields included
  r.reach = {plain};
  const Bytes without = encode_record(r);
  // An entry without large echoes is byte for byte what a node before them wrote: 5 fields
  // (fixarray 0x95), so every old node reads it, and it decodes here with zeros.
  const Bytes old_entry = {0x95, 0xa1, 'b', 0xa4, 'i', 'c', 'm', 'p', 0x05, 0x00, 0xcd, 0x03, 0xe8};
  CHECK(std::search(without.begin(), without.end(), old_entry.begin(), old_entry.end()) !=
        without.end());
  // A record from an old node, written by hand: [1, 1, "a", 5, 6, [[b, icmp, 5, 0, 1000]]].
  Bytes old = {0x96, 0x01, 0x01, 0xa1, 'a', 0x05, 0x06, 0x91};
  old.insert(old.end(), old_entry.begin(), old_entry.end());
  back = decode_record(old);
  REQUIRE(back);
  CHECK(back->reach.at(0).large_sent == 0);
  CHECK(back->reach.at(0).large_bytes == 0);
  CHECK(*back == r);
  // The new entry has 8 fields; what an old decoder does with them (reads 5, accepts longer
  // arrays) a new one does with a later version's 11: the extra fields are ignored.
  Bytes future = {0x96, 0x01, 0x01, 0xa1, 'a',  0x05, 0x06, 0x91, 0x9b, 0xa1,
                  'c',  0xa4, 'i',  'c',  'm',  'p',  0x05, 0x00, 0xcd, 0x03,
                  0xe8, 0x02, 0x01, 0xcd, 0x05, 0xdc, 0xc0, 0xa1, 'x',  0x07};
  back = decode_record(future);
  REQUIRE(back);
  CHECK(back->reach.at(0).large_sent == 2);
  CHECK(back->reach.at(0).large_lost == 1);
  CHECK(back->reach.at(0).large_bytes == 1500);
  // Out of range: more lost than sent, a size above 65535.
  r.reach = {mtu};
  r.reach[0].large_lost = 3;
  CHECK_FALSE(decode_record(encode_record(r)));
  r.reach[0].large_lost = 1;
  r.reach[0].large_bytes = 65536;
  CHECK_FALSE(decode_record(encode_record(r)));
}

TEST_CASE("large echoes are gossiped only while lost and the small probes pass") {
  auto clock = std::make_shared<TestClock>();
  Peer a("a", clock);
  std::vector<std::tuple<std::string, std::uint32_t, std::uint32_t>> large_seen;
  a.hs->set_large_sample_handler(
      [&](const std::string& peer, std::uint32_t sent, std::uint32_t lost, std::uint32_t bytes) {
        large_seen.emplace_back(peer, sent, lost);
        CHECK(bytes == 1500);
      });
  auto run = [](std::string peer, int small_lost, int large_sent, int large_lost) {
    checkers::PeerResult r;
    r.peer = std::move(peer);
    r.protocol = "icmp";
    r.sent = 5;
    r.lost = small_lost;
    r.rtt = 1ms;
    r.large_sent = large_sent;
    r.large_lost = large_lost;
    r.large_bytes = large_sent ? 1500 : 0;
    return r;
  };
  auto entry = [](const HealthRecord& rec, const std::string& peer) {
    auto it = std::find_if(rec.reach.begin(), rec.reach.end(),
                           [&](const PeerReach& e) { return e.peer == peer; });
    REQUIRE(it != rec.reach.end());
    return *it;
  };
  a.hs->add_peer_results({run("b", 0, 1, 0), run("c", 0, 1, 0)});
  REQUIRE(a.outbox.size() == 1);
  auto rec = decode_record(a.outbox.back().payload);
  REQUIRE(rec);
  CHECK(entry(*rec, "b").large_sent == 0);  // healthy large echoes: not carried
  a.hs->tick();                             // our own copy shows them
  CHECK(entry(*a.hs->find("a")->reach, "b").large_sent == 1);
  CHECK(large_seen.size() == 2);

  // c's large echo lost, small ones fine: news at once, carried.
  clock->advance(10s);
  a.hs->add_peer_results({run("b", 0, 0, 0), run("c", 0, 1, 1)});
  REQUIRE(a.outbox.size() == 2);
  CHECK(a.outbox.back().priority == HealthState::kReachPriority);
  rec = decode_record(a.outbox.back().payload);
  REQUIRE(rec);
  CHECK(rec->reach.front().peer == "c");  // listed with the lossy peers, first
  CHECK(entry(*rec, "c").large_sent == 2);
  CHECK(entry(*rec, "c").large_lost == 1);
  CHECK(entry(*rec, "c").large_bytes == 1500);
  CHECK(entry(*rec, "c").mtu_news());
  CHECK(entry(*rec, "b").large_sent == 0);
  // More of the same is no news (the counts are not re-gossiped).
  clock->advance(10s);
  a.hs->add_peer_results({run("c", 0, 1, 1)});
  CHECK(a.outbox.size() == 2);
  // The small probes are lost too: that is loss, the large counts say nothing more.
  clock->advance(10s);
  a.hs->add_peer_results({run("c", 5, 1, 1), run("c", 5, 0, 0), run("c", 5, 0, 0)});
  REQUIRE(a.outbox.size() >= 3);
  rec = decode_record(a.outbox.back().payload);
  REQUIRE(rec);
  CHECK(entry(*rec, "c").lost > 0);
  CHECK(entry(*rec, "c").large_sent == 0);
  // The window forgets it all: the news goes with it.
  clock->advance(61s);
  a.hs->add_peer_results({run("c", 0, 1, 0)});
  rec = decode_record(a.outbox.back().payload);
  REQUIRE(rec);
  CHECK(entry(*rec, "c").large_sent == 0);
  CHECK_FALSE(entry(*a.hs->find("a")->reach, "c").mtu_news());
}

TEST_CASE("a peer reporting large-echo loss to us gets our view of it (counter-evidence)") {
  auto clock = std::make_shared<TestClock>();
  Peer z("z", clock), b("b", clock);
  checkers::PeerResult r;
  r.protocol = "icmp";
  r.sent = 5;
  r.large_sent = 1;
  r.large_bytes = 1500;
  // b measures 10 healthy peers; z sorts last, beyond the 8 healthy entries gossiped.
  std::vector<checkers::PeerResult> mine;
  for (const char* p : {"p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9", "z"}) {
    r.peer = p;
    mine.push_back(r);
  }
  auto lists_z = [&] {
    const auto rec = decode_record(b.outbox.back().payload);
    REQUIRE(rec);
    return std::any_of(rec->reach.begin(), rec->reach.end(),
                       [](const PeerReach& e) { return e.peer == "z"; });
  };
  b.hs->add_peer_results(mine);
  REQUIRE_FALSE(b.outbox.empty());
  CHECK_FALSE(lists_z());
  r.peer = "b";
  r.large_lost = 1;  // z loses its large echo to b, small ones pass
  z.hs->add_peer_results({r});
  REQUIRE(z.outbox.size() == 1);
  deliver(z, {&b});
  clock->advance(1s);
  b.hs->add_peer_results(mine);
  CHECK(lists_z());  // b's healthy view of z goes out: the diagnosis can tell who is sick
}
