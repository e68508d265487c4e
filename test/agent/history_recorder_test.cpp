// HistoryRecorder with an in-memory sink: membership events and probe changes of any origin
// become the change-only events of design.md; the ClusterView builder and the store adapters.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "agent/history_recorder.hpp"
#include "agent/status_glue.hpp"
#include "api/status_json.hpp"
#include "store/history_store.hpp"

using namespace vigil;
using namespace vigil::agent;
using store::EventType;

namespace {

struct MemorySink final : HistorySink {
  std::vector<store::Event> events;
  void append(store::Event e) override { events.push_back(std::move(e)); }
  std::vector<EventType> types() const {
    std::vector<EventType> t;
    for (const auto& e : events) t.push_back(e.type);
    return t;
  }
};

gossip::Event member_event(gossip::EventKind kind, std::string name,
                           gossip::MemberState state = gossip::MemberState::alive) {
  gossip::Event e{kind, {}};
  e.member.name = std::move(name);
  e.member.addr = "10.0.0.9:7946";
  e.member.state = state;
  e.member.incarnation = 2;
  return e;
}

ProbeChange change(std::string origin, std::optional<ProbeFields> before, WireStatus status,
                   WireSeverity sev = WireSeverity::critical, std::string error = "") {
  ProbeFields after;
  after.checker = "etcd";
  after.type = "etcd";
  after.status = status;
  after.severity = sev;
  after.since_ms = 1'700'000'000'500;
  after.error = std::move(error);
  return {std::move(origin), std::move(before), after};
}

struct Fixture {
  MemorySink sink;
  std::int64_t now = 1'700'000'000'000;
  HistoryRecorder rec{sink, "self", [this] { return now; }};
};

}  // namespace

TEST_CASE("membership lifecycle: added, failed, recovered, removed, with node/cluster verdicts") {
  using K = gossip::EventKind;
  using S = gossip::MemberState;
  Fixture f;
  f.rec.on_member_events({member_event(K::joined, "n1"), member_event(K::joined, "self")});
  CHECK(f.sink.types() == std::vector{EventType::NodeAdded});  // self is never "added"
  CHECK(f.sink.events[0].node == "n1");
  CHECK(f.sink.events[0].new_state == "alive");
  CHECK(store::to_unix_ms(f.sink.events[0].timestamp) == f.now);

  f.sink.events.clear();
  f.rec.on_member_event(member_event(K::suspect, "n1", S::suspect));
  f.rec.on_member_event(member_event(K::failed, "n1", S::dead));
  CHECK(f.sink.types() ==
        std::vector{EventType::NodeDegraded, EventType::ClusterDegraded, EventType::NodeFailed});
  CHECK(f.sink.events[0].detail == "member suspect");
  CHECK(f.sink.events[2].old_state == "suspect");
  CHECK(f.sink.events[2].new_state == "failed");
  CHECK(f.rec.cluster_degraded());

  f.sink.events.clear();
  f.rec.on_member_event(member_event(K::recovered, "n1"));
  CHECK(f.sink.types() ==
        std::vector{EventType::NodeRecovered, EventType::NodeHealthy, EventType::ClusterHealthy});
  CHECK(f.sink.events[0].old_state == "failed");
  CHECK(f.sink.events[2].detail == "all 2 nodes running");

  // A suspicion refuted: degraded and healthy again, but no NodeRecovered.
  f.sink.events.clear();
  f.rec.on_member_event(member_event(K::suspect, "n1", S::suspect));
  f.rec.on_member_event(member_event(K::recovered, "n1"));
  CHECK(f.sink.types() == std::vector{EventType::NodeDegraded, EventType::ClusterDegraded,
                                      EventType::NodeHealthy, EventType::ClusterHealthy});

  // Leaving is not a degradation; reaping a left member records nothing more.
  f.sink.events.clear();
  f.rec.on_member_event(member_event(K::left, "n1", S::left));
  f.rec.on_member_event(member_event(K::reaped, "n1", S::left));
  CHECK(f.sink.types() == std::vector{EventType::NodeRemoved});
  CHECK(f.sink.events[0].new_state == "left");
  CHECK_FALSE(f.rec.cluster_degraded());

  // A failed member that is reaped: removed, and the cluster is healthy again.
  f.sink.events.clear();
  f.rec.on_member_event(member_event(K::joined, "n2"));
  f.rec.on_member_event(member_event(K::failed, "n2", S::dead));
  f.rec.on_member_event(member_event(K::reaped, "n2", S::dead));
  CHECK(f.sink.types() == std::vector{EventType::NodeAdded, EventType::NodeFailed,
                                      EventType::NodeDegraded, EventType::ClusterDegraded,
                                      EventType::NodeRemoved, EventType::ClusterHealthy});
}

TEST_CASE("probe changes of any origin: failed, severity change, succeeded, removed") {
  using K = gossip::EventKind;
  Fixture f;
  f.rec.on_member_event(member_event(K::joined, "n1"));
  f.sink.events.clear();

  // First sighting of a running probe: nothing to record.
  auto c = change("n1", std::nullopt, WireStatus::running);
  f.rec.on_probe_change(c);
  CHECK(f.sink.events.empty());

  // Warning failure: ProbeFailed, but the node stays running.
  auto w = change("n1", c.after, WireStatus::failed, WireSeverity::warning, "slow");
  f.rec.on_probe_change(w);
  CHECK(f.sink.types() == std::vector{EventType::ProbeFailed});
  CHECK(f.sink.events[0].checker == "etcd");
  CHECK(f.sink.events[0].old_state == "running");
  CHECK(f.sink.events[0].detail == "warning: slow");
  CHECK(store::to_unix_ms(f.sink.events[0].timestamp) == 1'700'000'000'500);  // origin time
  CHECK_FALSE(f.rec.node_degraded("n1"));

  // Escalates to critical: ProbeFailed again (severity), node and cluster degraded.
  f.sink.events.clear();
  auto k = change("n1", w.after, WireStatus::failed, WireSeverity::critical, "GET /health: 503");
  f.rec.on_probe_change(k);
  CHECK(f.sink.types() ==
        std::vector{EventType::ProbeFailed, EventType::NodeDegraded, EventType::ClusterDegraded});
  CHECK(f.sink.events[0].old_state == "failed");
  CHECK(f.sink.events[0].detail == "critical (was warning): GET /health: 503");
  CHECK(f.sink.events[1].detail == "etcd failed: GET /health: 503");
  CHECK(f.sink.events[2].detail == "1 of 2 nodes degraded: n1");

  f.sink.events.clear();
  f.rec.on_probe_change(change("n1", k.after, WireStatus::running));
  CHECK(f.sink.types() ==
        std::vector{EventType::ProbeSucceeded, EventType::NodeHealthy, EventType::ClusterHealthy});

  // Our own probes count too; a removed failing checker clears the verdict silently.
  f.sink.events.clear();
  auto own = change("self", std::nullopt, WireStatus::failed, WireSeverity::critical, "x");
  f.rec.on_probe_change(own);
  CHECK(f.rec.node_degraded("self"));
  f.rec.on_probe_change(change("self", own.after, WireStatus::removed));
  CHECK_FALSE(f.rec.node_degraded("self"));
  CHECK(f.sink.types() == std::vector{EventType::ProbeFailed, EventType::NodeDegraded,
                                      EventType::ClusterDegraded, EventType::NodeHealthy,
                                      EventType::ClusterHealthy});

  // Health of a node the membership does not know yet: probe events, verdict once it joins.
  f.sink.events.clear();
  f.rec.on_probe_change(change("n9", std::nullopt, WireStatus::failed, WireSeverity::critical));
  CHECK(f.sink.types() == std::vector{EventType::ProbeFailed});
  f.rec.on_member_event(member_event(K::joined, "n9"));
  CHECK(f.sink.types() == std::vector{EventType::ProbeFailed, EventType::NodeAdded,
                                      EventType::NodeDegraded, EventType::ClusterDegraded});
}

TEST_CASE("HealthState change handler feeds the recorder end to end") {
  MemorySink sink;
  HistoryRecorder rec(sink, "b");
  HealthState a("a"), b("b");
  std::vector<std::pair<std::string, Bytes>> out;
  a.set_broadcaster([&out](std::string k, Bytes p, int) { out.emplace_back(k, std::move(p)); });
  b.set_change_handler([&rec](const ProbeChange& c) { rec.on_probe_change(c); });
  rec.on_member_event(member_event(gossip::EventKind::joined, "a"));
  checkers::Probe p = checkers::Probe::fail(checkers::Severity::critical, "etcd down");
  p.checker = p.type = "etcd";
  a.set_local_probe(p, 1'700'000'000'000);
  for (const auto& [k, bytes] : out) CHECK(b.notify_message(k, bytes));
  REQUIRE(sink.events.size() == 4);  // NodeAdded, ProbeFailed, NodeDegraded, ClusterDegraded
  CHECK(sink.events[1].type == EventType::ProbeFailed);
  CHECK(sink.events[1].node == "a");
  CHECK(sink.events[1].detail == "critical: etcd down");
  CHECK(sink.events[3].type == EventType::ClusterDegraded);
}

TEST_CASE("ClusterView from members + health: left members hidden, tombstones dropped") {
  HealthState hs("n1");
  checkers::Probe bad = checkers::Probe::fail(checkers::Severity::critical, "down");
  bad.checker = bad.type = "etcd";
  hs.set_local_probe(bad, 1'700'000'000'000);
  checkers::Probe gone = checkers::Probe::ok();
  gone.checker = gone.type = "old";
  hs.set_local_probe(gone, 1'700'000'000'000);
  hs.remove_local_probe("old");
  checkers::PeerResult pr;
  pr.peer = "n2";
  pr.sent = 10;
  pr.lost = 10;
  hs.add_peer_results({pr});
  std::vector<gossip::Member> members(3);
  members[0].name = "n2";
  members[0].state = gossip::MemberState::dead;
  members[1].name = "n1";
  gossip::set_tag(members[1].tags, "zone", "z1");
  members[2].name = "n3";
  members[2].state = gossip::MemberState::left;
  api::ClusterView v = build_cluster_view("n1", 1'700'000'001'000, members, hs);
  REQUIRE(v.nodes.size() == 2);
  CHECK(v.nodes[0].member.name == "n1");
  CHECK(v.nodes[0].member.tags.at(0).second == "z1");
  REQUIRE(v.nodes[0].probes.size() == 1);
  CHECK(v.nodes[0].probes[0].checker == "etcd");
  CHECK(v.nodes[0].probes[0].critical());
  REQUIRE(v.nodes[0].reach.size() == 1);
  CHECK(v.nodes[0].reach[0].lost == 10);
  CHECK(v.nodes[0].updated_ms > 0);
  CHECK(v.nodes[1].member.status == "failed");
  CHECK(v.nodes[1].updated_ms == 0);
  auto j = nlohmann::json::parse(api::status_json(v));
  CHECK(j["status"] == "degraded");
  CHECK(j["summary"] == "2 of 2 nodes degraded");
}

TEST_CASE("HistoryStore adapters: the recorder's events come back through the query function") {
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("vigil-rec-" + std::to_string(::getpid())))
          .string();
  std::filesystem::create_directories(dir);
  {
    store::StoreConfig cfg;
    cfg.data_dir = dir;
    store::HistoryStore hs(cfg);
    hs.start();
    std::int64_t now = 1'700'000'000'000;
    HistoryRecorder rec(hs, "self", [&now] { return now; });
    rec.on_member_event(member_event(gossip::EventKind::joined, "n1"));
    now += 1000;
    rec.on_member_event(member_event(gossip::EventKind::failed, "n1", gossip::MemberState::dead));
    REQUIRE(hs.flush());
    api::HistoryQueryFn q = make_history_query(hs);
    api::HistoryQuery all;
    auto a = q(all);
    CHECK(a.error.empty());
    REQUIRE(a.events.size() == 4);
    CHECK(a.events[0].type == "NodeAdded");
    CHECK(a.events[0].timestamp_ms == 1'700'000'000'000);
    CHECK(a.events[1].type == "NodeFailed");
    api::HistoryQuery only;
    only.type = "ClusterDegraded";
    a = q(only);
    REQUIRE(a.events.size() == 1);
    CHECK(a.events[0].node.empty());
    api::HistoryQuery later;
    later.since_ms = 1'700'000'000'500;
    later.limit = 2;
    a = q(later);
    CHECK(a.events.size() == 2);
    hs.stop();
  }
  std::filesystem::remove_all(dir);
}
