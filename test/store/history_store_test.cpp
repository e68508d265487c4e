// HistoryStore: round trip, filters, limit, retention, parameter binding, reopen, overflow.
#include <doctest/doctest.h>

#include <stdexcept>

#include "test/fakes/in_memory_history.hpp"
#include "test/store/store_test_util.hpp"

using namespace vigil::store;
using namespace vigil::store::test;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> details(const QueryResult& r) {
  std::vector<std::string> out;
  for (const auto& e : r.events) out.push_back(e.detail);
  return out;
}

}  // namespace

TEST_CASE("event type names round trip and unknown names are rejected") {
  for (int i = 0; i < 10; ++i) {
    const auto t = static_cast<EventType>(i);
    CHECK(parse_event_type(to_string(t)) == t);
  }
  CHECK(to_string(EventType::ProbeFailed) == "ProbeFailed");
  CHECK_FALSE(parse_event_type("probefailed"));
  CHECK_FALSE(parse_event_type(""));
}

TEST_CASE("invalid config throws at construction, listing the problem") {
  StoreConfig c;
  CHECK_THROWS_AS(HistoryStore{c}, std::invalid_argument);
  c.data_dir = "/tmp/x";
  c.max_batch = 0;
  CHECK(c.validate().size() == 1);
}

TEST_CASE("insert and query round trip with every filter") {
  TempDir dir;
  ManualClock clock;
  auto cfg = fast_config(dir.path());
  cfg.clock = clock.fn();
  HistoryStore store(cfg);
  store.start();
  const Timestamp t0 = clock.now();
  // 3 nodes x 2 checkers x 4 steps, 1 s apart.
  int n = 0;
  for (int step = 0; step < 4; ++step) {
    for (const char* node : {"node-1", "node-2", "node-3"}) {
      for (const char* checker : {"etcd", "disk"}) {
        const auto type = step % 2 == 0 ? EventType::ProbeFailed : EventType::ProbeSucceeded;
        store.append(
            make_event(t0 + std::chrono::seconds{n}, type, node, checker, "e" + std::to_string(n)));
        ++n;
      }
    }
  }
  store.append(make_event(t0 + 100s, EventType::ClusterDegraded, "", "", "cluster"));
  REQUIRE(store.flush());
  CHECK(store.health().ok);
  CHECK(store.stats().written_total == 25);

  EventFilter all;
  all.limit = 0;
  auto r = store.query(all);
  REQUIRE(r.events.size() == 25);
  CHECK_FALSE(r.memory_only);
  CHECK(r.events.front().detail == "e0");
  CHECK(r.events.back().detail == "cluster");
  for (std::size_t i = 1; i < r.events.size(); ++i) {
    CHECK(r.events[i - 1].timestamp <= r.events[i].timestamp);
    CHECK(r.events[i].id > 0);
  }
  // The whole row survives the trip.
  const Event& first = r.events.front();
  CHECK(first.type == EventType::ProbeFailed);
  CHECK(first.node == "node-1");
  CHECK(first.checker == "etcd");
  CHECK(first.old_state == "running");
  CHECK(first.new_state == "failed");
  CHECK(first.timestamp == t0);

  EventFilter f;
  f.node = "node-2";
  r = store.query(f);
  CHECK(r.events.size() == 8);
  for (const auto& e : r.events) CHECK(e.node == "node-2");

  f = {};
  f.checker = "disk";
  CHECK(store.query(f).events.size() == 12);

  f = {};
  f.type = EventType::ProbeSucceeded;
  CHECK(store.query(f).events.size() == 12);
  f.type = EventType::ClusterDegraded;
  CHECK(details(store.query(f)) == std::vector<std::string>{"cluster"});

  f = {};
  f.since = t0 + 6s;   // inclusive
  f.until = t0 + 12s;  // exclusive
  CHECK(details(store.query(f)) == std::vector<std::string>{"e6", "e7", "e8", "e9", "e10", "e11"});

  f = {};
  f.node = "node-3";
  f.checker = "etcd";
  f.type = EventType::ProbeFailed;
  f.since = t0 + 5s;
  CHECK(details(store.query(f)) == std::vector<std::string>{"e16"});

  f = {};
  f.node = "nobody";
  CHECK(store.query(f).events.empty());
}

TEST_CASE("limit keeps the newest matches, oldest first") {
  TempDir dir;
  ManualClock clock;
  auto cfg = fast_config(dir.path());
  cfg.clock = clock.fn();
  HistoryStore store(cfg);
  store.start();
  for (int i = 0; i < 50; ++i) {
    store.append(make_event(clock.now() + std::chrono::seconds{i}, EventType::NodeFailed, "n", "",
                            std::to_string(i)));
  }
  REQUIRE(store.flush());
  EventFilter f;
  f.limit = 3;
  CHECK(details(store.query(f)) == std::vector<std::string>{"47", "48", "49"});
  f.limit = 1;
  CHECK(details(store.query(f)) == std::vector<std::string>{"49"});
  f.limit = 0;
  CHECK(store.query(f).events.size() == 50);
  f.limit = 1000;
  CHECK(store.query(f).events.size() == 50);
  f.limit = 5;
  f.until = clock.now() + 10s;
  CHECK(details(store.query(f)) == std::vector<std::string>{"5", "6", "7", "8", "9"});
}

TEST_CASE("retention evicts old events on the injected clock") {
  TempDir dir;
  ManualClock clock;
  auto cfg = fast_config(dir.path());
  cfg.clock = clock.fn();
  cfg.retention = 24h;
  cfg.eviction_interval = 1h;
  HistoryStore store(cfg);
  store.start();
  const Timestamp t0 = clock.now();
  for (int i = 0; i < 10; ++i) {
    store.append(make_event(t0 - 30h + std::chrono::hours{i}, EventType::NodeFailed, "old"));
  }
  for (int i = 0; i < 5; ++i) {
    store.append(make_event(t0 - std::chrono::hours{i}, EventType::NodeRecovered, "new"));
  }
  REQUIRE(store.flush());
  EventFilter all;
  all.limit = 0;
  // Nothing is due yet: the eviction ran at start, before these existed.
  CHECK(store.query(all).events.size() == 15);

  clock.advance(2h);  // eviction due; cutoff = t0 + 2h - 24h = t0 - 22h
  REQUIRE(eventually([&] { return store.stats().evicted_total == 8; }));
  auto r = store.query(all);
  REQUIRE(r.events.size() == 7);
  CHECK(r.events.front().node == "old");
  CHECK(r.events.front().timestamp == t0 - 22h);  // exactly at the cutoff: kept
  CHECK(r.events.back().node == "new");

  clock.advance(48h);
  // The rows go before the counter moves (the writer counts after its DELETE commits): wait
  // for the counter, then look at the rows.
  REQUIRE(eventually([&] { return store.stats().evicted_total == 15; }));
  CHECK(store.query(all).events.empty());
  CHECK(sql_value(store.path(), "SELECT count(*) FROM events") == "0");
}

TEST_CASE("retention: the configured value is the cutoff, applied to old rows at start") {
  // One database, reopened under different retentions (the agent's history.retention): the
  // first eviction runs as soon as the store starts, before any new event, so what expired
  // while the agent was down, or under a shortened retention, goes at once.
  TempDir dir;
  ManualClock clock;
  const Timestamp t0 = clock.now();
  {
    auto cfg = fast_config(dir.path());
    cfg.clock = clock.fn();  // default retention: 7 days
    HistoryStore store(cfg);
    store.start();
    using std::chrono::minutes;
    for (minutes age : {minutes(9 * 24h), minutes(6 * 24h), minutes(3h), minutes(2h), 30min}) {
      store.append(
          make_event(t0 - age, EventType::NodeFailed, "n", "", std::to_string(age.count())));
    }
    REQUIRE(store.flush());
    EventFilter all;
    all.limit = 0;
    CHECK(store.query(all).events.size() == 5);
  }
  EventFilter all;
  all.limit = 0;
  // Default 7 days: the 9-day-old event went at the reopening; the rest are inside.
  {
    auto cfg = fast_config(dir.path());
    cfg.clock = clock.fn();
    HistoryStore store(cfg);
    store.start();
    REQUIRE(eventually([&] { return store.stats().evicted_total == 1; }));
    CHECK(details(store.query(all)) == std::vector<std::string>{"8640", "180", "120", "30"});
  }
  // Each shorter retention keeps exactly the events younger than it (at the cutoff: kept).
  const std::pair<std::chrono::milliseconds, std::vector<std::string>> steps[] = {
      {72h, {"180", "120", "30"}}, {150min, {"120", "30"}}, {1h, {"30"}}};
  for (const auto& [retention, kept] : steps) {
    CAPTURE(retention.count());
    auto cfg = fast_config(dir.path());
    cfg.clock = clock.fn();
    cfg.retention = retention;
    HistoryStore store(cfg);
    store.start();
    REQUIRE(eventually([&] { return store.query(all).events.size() == kept.size(); }));
    CHECK(details(store.query(all)) == kept);
    CHECK(store.stats().evicted_total == 1);  // one event per step crosses the cutoff
  }
}

TEST_CASE("filter values are bound, never pasted into SQL") {
  TempDir dir;
  HistoryStore store(fast_config(dir.path()));
  store.start();
  const std::string evil = "x'); DROP TABLE events; --";
  const std::string quoted = "it's \"node\" %_ \\";
  store.append(make_event({}, EventType::NodeAdded, evil, evil, evil));
  store.append(make_event({}, EventType::NodeAdded, quoted, "c"));
  store.append(make_event({}, EventType::NodeAdded, "plain"));
  REQUIRE(store.flush());
  EventFilter f;
  f.node = evil;
  auto r = store.query(f);
  REQUIRE(r.events.size() == 1);
  CHECK(r.events[0].node == evil);
  CHECK(r.events[0].checker == evil);
  CHECK(r.events[0].detail == evil);
  f.node = quoted;
  REQUIRE(store.query(f).events.size() == 1);
  f.node = "' OR '1'='1";
  CHECK(store.query(f).events.empty());
  f.node = "%";  // LIKE wildcards mean nothing to '='
  CHECK(store.query(f).events.empty());
  CHECK(sql_value(store.path(), "SELECT count(*) FROM events") == "3");
}

TEST_CASE("reopening after close keeps the data; zero timestamps become now") {
  TempDir dir;
  ManualClock clock;
  auto cfg = fast_config(dir.path());
  cfg.clock = clock.fn();
  {
    HistoryStore store(cfg);
    store.start();
    for (int i = 0; i < 100; ++i) {
      store.append(make_event({}, EventType::NodeDegraded, "n" + std::to_string(i % 7)));
    }
    store.stop();  // stop() writes what is queued, no flush() needed
  }
  HistoryStore again(cfg);
  again.start();
  EventFilter all;
  all.limit = 0;
  auto r = again.query(all);
  REQUIRE(r.events.size() == 100);
  CHECK(r.events[0].timestamp == clock.now());
  CHECK(r.events[99].id == 100);
  CHECK(sql_value(again.path(), "PRAGMA journal_mode") == "wal");
  CHECK(sql_value(again.path(), "PRAGMA integrity_check") == "ok");
  // The indices exist.
  CHECK(sql_value(again.path(),
                  "SELECT count(*) FROM sqlite_master WHERE type='index' AND tbl_name='events'") ==
        "3");
}

TEST_CASE("a full queue drops the oldest events and counts them; append never blocks") {
  TempDir dir;
  auto cfg = fast_config(dir.path());
  cfg.queue_capacity = 10;
  HistoryStore store(cfg);
  // Not started: nothing drains the queue.
  for (int i = 0; i < 25; ++i) {
    store.append(make_event({}, EventType::NodeAdded, "n", "", std::to_string(i)));
  }
  CHECK(store.dropped_total() == 15);
  CHECK(store.stats().queued == 10);
  store.start();
  REQUIRE(store.flush());
  EventFilter all;
  all.limit = 0;
  const auto d = details(store.query(all));
  REQUIRE(d.size() == 10);
  CHECK(d.front() == "15");
  CHECK(d.back() == "24");
}

TEST_CASE("queries run concurrently with the writer") {
  TempDir dir;
  HistoryStore store(fast_config(dir.path()));
  store.start();
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  std::thread reader([&] {
    std::size_t last = 0;
    for (int i = 0; i < 100000 && !done; ++i) {
      EventFilter f;
      f.limit = 0;
      auto r = store.query(f);
      if (r.memory_only || r.events.size() < last) ++bad;
      last = r.events.size();
    }
  });
  for (int i = 0; i < 2000; ++i) store.append(make_event({}, EventType::ProbeFailed, "n"));
  REQUIRE(store.flush());
  done = true;
  reader.join();
  CHECK(bad == 0);
  CHECK(store.query(EventFilter{.limit = 0}).events.size() == 2000);
  CHECK(store.errors_total() == 0);
}

TEST_CASE("the in-memory fake answers like the real store") {
  TempDir dir;
  ManualClock clock;
  auto cfg = fast_config(dir.path());
  cfg.clock = clock.fn();
  HistoryStore real(cfg);
  real.start();
  vigil::test::InMemoryHistory fake;
  fake.now = clock.now();
  HistoryWriter* writers[] = {&real, &fake};
  for (int i = 0; i < 60; ++i) {
    // Out-of-order timestamps and ties on purpose.
    const auto ts = clock.now() + std::chrono::seconds{(i * 7) % 20};
    for (HistoryWriter* w : writers) {
      w->append(make_event(ts, static_cast<EventType>(i % 10), "n" + std::to_string(i % 4),
                           i % 3 ? "etcd" : "disk", std::to_string(i)));
    }
  }
  REQUIRE(real.flush());
  std::vector<EventFilter> filters(6);
  filters[0].limit = 0;
  filters[1].node = "n2";
  filters[2].checker = "disk";
  filters[2].limit = 7;
  filters[3].type = EventType::ProbeFailed;
  filters[4].since = clock.now() + 5s;
  filters[4].until = clock.now() + 9s;
  filters[5].limit = 13;
  for (const auto& f : filters) {
    const auto a = details(real.query(f));
    const auto b = details(static_cast<const HistoryReader&>(fake).query(f));
    CHECK(a == b);
  }
  CHECK(fake.health().ok);
}
