#pragma once
// ManualClock + FakeExecutor: a deterministic, single-threaded Executor for Scheduler tests.
// Time moves only through advance(); "pool" tasks run on the test thread when the test says so
// (run_pool) or automatically (auto_pool), so overruns and late results can be staged exactly.

#include <atomic>
#include <deque>
#include <map>
#include <utility>

#include "checkers/executor.hpp"

namespace vigil::test {

class ManualClock final : public checkers::TimeSource {
 public:
  checkers::TimePoint now() const override {
    return checkers::TimePoint(checkers::Duration(ticks_.load()));
  }
  void set(checkers::TimePoint t) { ticks_.store(t.time_since_epoch().count()); }
  void advance(checkers::Duration d) { ticks_.fetch_add(d.count()); }

 private:
  std::atomic<checkers::Duration::rep> ticks_{checkers::Duration(std::chrono::hours(1)).count()};
};

class FakeExecutor final : public checkers::Executor {
 public:
  explicit FakeExecutor(ManualClock& clock) : clock_(clock) {}

  /// When true (default), pool tasks run as soon as the loop is drained (an idle pool).
  bool auto_pool = true;

  void post(Task t) override { loop_.push_back(std::move(t)); }
  void run_blocking(Task t) override { pool_.push_back(std::move(t)); }
  TimerId schedule_at(checkers::TimePoint at, Task t) override {
    TimerId id = ++next_id_;
    timers_.emplace(std::make_pair(at, id), std::move(t));
    return id;
  }
  void cancel(TimerId id) override {
    for (auto it = timers_.begin(); it != timers_.end(); ++it)
      if (it->first.second == id) {
        timers_.erase(it);
        return;
      }
  }

  /// Runs posted loop tasks (and, with auto_pool, pool tasks) until both queues are empty.
  void settle() {
    for (int guard = 0; guard < 100000; ++guard) {
      if (!loop_.empty()) {
        auto t = std::move(loop_.front());
        loop_.pop_front();
        t();
      } else if (auto_pool && !pool_.empty()) {
        run_pool_one();
      } else {
        return;
      }
    }
  }
  /// Runs the oldest pool task on this thread. Returns false when none is queued.
  bool run_pool_one() {
    if (pool_.empty()) return false;
    auto t = std::move(pool_.front());
    pool_.pop_front();
    t();
    return true;
  }
  /// Moves time forward by `d`, firing due timers in order (the clock stops at each timer's
  /// time while it runs) and settling after each.
  void advance(checkers::Duration d) {
    checkers::TimePoint target = clock_.now() + d;
    settle();
    while (!timers_.empty() && timers_.begin()->first.first <= target) {
      auto it = timers_.begin();
      if (it->first.first > clock_.now()) clock_.set(it->first.first);
      auto t = std::move(it->second);
      timers_.erase(it);
      t();
      settle();
    }
    clock_.set(target);
  }
  std::size_t pending_pool() const { return pool_.size(); }
  std::size_t pending_timers() const { return timers_.size(); }

 private:
  ManualClock& clock_;
  std::deque<Task> loop_;
  std::deque<Task> pool_;
  std::map<std::pair<checkers::TimePoint, TimerId>, Task> timers_;
  TimerId next_id_ = 0;
};

}  // namespace vigil::test
