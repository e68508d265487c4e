// Scheduler: stagger, jitter, minimum interval, thresholds, timeouts, late results, caps, stop.
// Time moves only through the ManualClock (FakeExecutor::advance).
#include <doctest/doctest.h>

#include "checkers/scheduler.hpp"
#include "test/fakes/fake_checker.hpp"
#include "test/fakes/fake_executor.hpp"

using namespace vigil::checkers;
using std::chrono::milliseconds;
using std::chrono::seconds;
using vigil::test::FakeChecker;
using vigil::test::FakeCheckerLog;
using vigil::test::FakeExecutor;
using vigil::test::ManualClock;

namespace {

CheckSpec spec_of(std::string name, Duration interval = seconds(10), Duration timeout = seconds(2),
                  int fail_thr = 1, int ok_thr = 1) {
  CheckSpec s;
  s.type = "fake";
  s.name = std::move(name);
  s.interval = interval;
  s.timeout = timeout;
  s.failure_threshold = fail_thr;
  s.success_threshold = ok_thr;
  return s;
}

struct Harness {
  ManualClock clock;
  FakeExecutor ex{clock};
  std::vector<ProbeUpdate> updates;
  SchedulerOptions opts;
  std::unique_ptr<Scheduler> sched;

  explicit Harness(SchedulerOptions o = {}) : opts(o) {
    if (!opts.seed) opts.seed = 42;
    sched = std::make_unique<Scheduler>(
        ex, clock,
        [] {
          CheckContext c;
          c.node_name = "node-1";
          return c;
        },
        [this](const ProbeUpdate& u) { updates.push_back(u); }, opts);
  }
  std::shared_ptr<FakeCheckerLog> add(CheckSpec s, std::deque<Probe> script = {Probe::ok()},
                                      Duration takes = {}) {
    auto log = std::make_shared<FakeCheckerLog>();
    REQUIRE(sched->add(std::make_unique<FakeChecker>(s.name, log, std::move(script), &clock, takes),
                       s));
    return log;
  }
};

Probe failing(std::string err = "boom") {
  return Probe::fail(Severity::critical, std::move(err));
}

}  // namespace

TEST_CASE("first runs are staggered within one interval, then follow the interval with jitter") {
  Harness h;
  std::vector<std::shared_ptr<FakeCheckerLog>> logs;
  for (int i = 0; i < 20; ++i) logs.push_back(h.add(spec_of("c" + std::to_string(i))));
  h.sched->start();
  h.ex.advance(milliseconds(0));
  int ran_at_zero = 0;
  for (auto& l : logs) ran_at_zero += l->runs;
  CHECK(ran_at_zero <= 2);  // stagger spreads the starts
  h.ex.advance(seconds(10));
  for (auto& l : logs) {
    CHECK(l->runs >= 1);  // everybody started within the first interval
    CHECK(l->runs <= 2);
  }
  h.ex.advance(seconds(90));  // 100 s in total: 10 +- 1 runs at a 10 s +-10% interval
  for (auto& l : logs) {
    CHECK(l->runs >= 9);
    CHECK(l->runs <= 11);
    CHECK(l->node_names.back() == "node-1");
  }
  CHECK(h.updates.size() >= 20 * 9);
  CHECK(h.updates.front().probe.checker.rfind("c", 0) == 0);
  CHECK(h.updates.front().probe.type == "fake");
}

TEST_CASE("intervals below the 1 s minimum are raised to it") {
  Harness h;
  auto log = h.add(spec_of("fast", milliseconds(100), milliseconds(50)));
  h.sched->start();
  h.ex.advance(seconds(20));
  CHECK(log->runs >= 17);
  CHECK(log->runs <= 23);
}

TEST_CASE("the deadline passed to run is the start plus the timeout") {
  SchedulerOptions o;
  o.stagger = 0;
  Harness h(o);
  auto log = h.add(spec_of("d", seconds(10), seconds(3)));
  TimePoint t0 = h.clock.now();
  h.sched->start();
  h.ex.advance(milliseconds(1));
  REQUIRE(log->runs == 1);
  CHECK(log->deadlines[0].at == t0 + seconds(3));
}

TEST_CASE("failure and success thresholds damp flapping") {
  SchedulerOptions o;
  o.stagger = 0;
  o.jitter = 0;
  Harness h(o);
  h.add(spec_of("flappy", seconds(1), milliseconds(500), 3, 2),
        {Probe::ok("fine"), failing(), failing(), Probe::ok(), failing(), failing(), failing(),
         Probe::ok(), failing(), Probe::ok(), Probe::ok()});
  h.sched->start();
  h.ex.advance(milliseconds(1));
  for (int i = 0; i < 10; ++i) h.ex.advance(seconds(1));
  REQUIRE(h.updates.size() == 11);
  std::vector<ProbeStatus> published;
  std::vector<bool> changed;
  for (auto& u : h.updates) {
    published.push_back(u.probe.status);
    changed.push_back(u.changed);
  }
  using S = ProbeStatus;
  std::vector<S> want = {S::running, S::running, S::running, S::running, S::running, S::running,
                         S::failed,  S::failed,  S::failed,  S::failed,  S::running};
  CHECK(published == want);
  CHECK(changed == std::vector<bool>{true, false, false, false, false, false, true, false, false,
                                     false, true});
  CHECK(h.updates[0].first);
  // While damped, the published probe is the last running one, the raw one says what happened.
  CHECK(h.updates[1].probe.detail == "fine");
  CHECK(h.updates[1].raw.error == "boom");
  CHECK(h.updates[1].consecutive_failures == 1);
  CHECK(h.updates[6].probe.error == "boom");
  CHECK(h.updates[6].old_status == S::running);
  CHECK(h.updates[7].probe.status == S::failed);  // one success is not enough (threshold 2)
  CHECK(h.updates[10].old_status == S::failed);
}

TEST_CASE("an overrunning run is reported as a timeout and its late result is dropped") {
  SchedulerOptions o;
  o.stagger = 0;
  o.jitter = 0;
  Harness h(o);
  h.ex.auto_pool = false;
  auto log = h.add(spec_of("slow", seconds(5), seconds(2)), {Probe::ok("late but fine")});
  h.sched->start();
  h.ex.advance(milliseconds(1));
  REQUIRE(h.ex.pending_pool() == 1);  // dispatched, not yet run
  h.ex.advance(seconds(2));           // at the deadline the run gets its grace period...
  CHECK(h.updates.empty());
  h.ex.advance(milliseconds(300));  // ...then it is reported with the run still on the pool
  REQUIRE(h.updates.size() == 1);
  CHECK(h.updates[0].timed_out);
  CHECK(h.updates[0].probe.status == ProbeStatus::failed);
  CHECK(h.updates[0].probe.error == "fake check timed out after 2s");

  h.ex.advance(seconds(3));  // next interval (t=5s) while the first run is still stuck: no overlap
  CHECK(h.ex.pending_pool() == 1);
  REQUIRE(h.updates.size() == 2);
  CHECK(h.updates[1].raw.error.find("still running") != std::string::npos);

  h.ex.run_pool_one();  // the stuck task finally gets a thread: past its deadline, it does not
  h.ex.settle();        // even call run(), and its result is dropped
  CHECK(log->runs == 0);
  CHECK(h.updates.size() == 2);

  h.ex.auto_pool = true;
  h.ex.advance(seconds(5));  // the next round runs normally again
  CHECK(log->runs == 1);
  REQUIRE(h.updates.size() == 3);
  CHECK(h.updates[2].probe.status == ProbeStatus::running);
  CHECK(h.updates[2].probe.detail == "late but fine");
}

TEST_CASE("a run that returns after its deadline counts as a timeout") {
  SchedulerOptions o;
  o.stagger = 0;
  Harness h(o);
  h.add(spec_of("overrun", seconds(10), seconds(1)), {Probe::ok()}, seconds(3));
  h.sched->start();
  h.ex.advance(milliseconds(1));
  REQUIRE(h.updates.size() == 1);
  CHECK(h.updates[0].timed_out);
  CHECK(h.updates[0].probe.failed());
}

TEST_CASE("a result within the timeout grace keeps the checker's own error") {
  SchedulerOptions o;
  o.stagger = 0;
  Harness h(o);
  h.add(spec_of("precise", seconds(10), seconds(1)),
        {Probe::fail(Severity::critical, "connect 10.0.0.1:2379: timed out")}, milliseconds(1100));
  h.sched->start();
  h.ex.advance(milliseconds(1));
  REQUIRE(h.updates.size() == 1);
  CHECK_FALSE(h.updates[0].timed_out);
  CHECK(h.updates[0].probe.error == "connect 10.0.0.1:2379: timed out");
}

TEST_CASE("error and detail are capped at 4 KiB without splitting UTF-8") {
  SchedulerOptions o;
  o.stagger = 0;
  Harness h(o);
  std::string big;
  for (int i = 0; i < 5000; ++i) big += "é";  // 2 bytes each
  h.add(spec_of("chatty"), {Probe::fail(Severity::critical, big, big)});
  h.sched->start();
  h.ex.advance(milliseconds(1));
  REQUIRE(h.updates.size() == 1);
  const auto& p = h.updates[0].probe;
  CHECK(p.error.size() <= 4096);
  CHECK(p.detail.size() <= 4096);
  CHECK(p.error.size() > 4000);
  CHECK(p.error.find("[truncated]") != std::string::npos);
  std::string body = p.error.substr(0, p.error.find("…"));
  CHECK(body.size() % 2 == 0);  // whole characters only
  CHECK(cap_output("short", 4096) == "short");
}

TEST_CASE("severity warning caps the checker's critical failures") {
  SchedulerOptions o;
  o.stagger = 0;
  Harness h(o);
  auto s = spec_of("soft");
  s.severity = Severity::warning;
  h.add(s, {failing()});
  h.sched->start();
  h.ex.advance(milliseconds(1));
  REQUIRE(h.updates.size() == 1);
  CHECK(h.updates[0].probe.severity == Severity::warning);
}

TEST_CASE("stop raises the stop flag, cancels timers and drops in-flight results") {
  SchedulerOptions o;
  o.stagger = 0;
  Harness h(o);
  h.ex.auto_pool = false;
  auto log = h.add(spec_of("s"));
  h.sched->start();
  h.ex.advance(milliseconds(1));
  REQUIRE(h.ex.pending_pool() == 1);
  h.sched->stop();
  CHECK(h.ex.pending_timers() == 0);
  h.ex.run_pool_one();
  h.ex.settle();
  CHECK(log->runs == 1);
  CHECK(log->stopping[0]);  // the run saw the stop flag
  CHECK(h.updates.empty());
  h.ex.advance(seconds(60));
  CHECK(log->runs == 1);
}

TEST_CASE("destroying the scheduler with a run in flight is safe") {
  SchedulerOptions o;
  o.stagger = 0;
  Harness h(o);
  h.ex.auto_pool = false;
  auto log = h.add(spec_of("gone"));
  h.sched->start();
  h.ex.advance(milliseconds(1));
  h.sched.reset();
  h.ex.run_pool_one();  // the checker is still alive (shared by the pool task)
  h.ex.settle();        // the posted result finds no scheduler and is dropped
  CHECK(log->runs == 1);
  CHECK(h.updates.empty());
}

TEST_CASE("add, duplicate names, remove and snapshot") {
  SchedulerOptions o;
  o.stagger = 0;
  Harness h(o);
  h.add(spec_of("a"), {failing("a broke")});
  auto dup = std::make_shared<FakeCheckerLog>();
  CHECK_FALSE(h.sched->add(std::make_unique<FakeChecker>("a", dup), spec_of("a")));
  h.sched->start();
  auto b = h.add(spec_of("b"));  // added after start: runs too
  h.ex.advance(seconds(10));
  CHECK(b->runs >= 1);
  auto snap = h.sched->snapshot();
  REQUIRE(snap.size() == 2);
  CHECK(snap[0].probe.checker == "a");
  CHECK(snap[0].probe.error == "a broke");
  CHECK(h.sched->remove("b"));
  CHECK_FALSE(h.sched->remove("b"));
  int before = b->runs;
  h.ex.advance(seconds(60));
  CHECK(b->runs == before);
  CHECK(h.sched->size() == 1);
}
