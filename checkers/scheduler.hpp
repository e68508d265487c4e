#pragma once
// Scheduler: runs every configured checker, once for all of them (Envoy's
// health_checker_base_impl): per-checker interval with random jitter and an initial random
// stagger, a 1 s minimum interval, a timeout that really ends the run (the deadline is passed
// to Checker::run; a run that overruns is reported as a timeout and its late result dropped),
// consecutive-failure / consecutive-success thresholds before the reported status changes
// (flap damping), and a cap on error/detail size. Checkers run on the Executor's bounded pool;
// results come back to the loop thread, where all of the Scheduler's state lives (no mutexes).

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "checkers/check_spec.hpp"
#include "checkers/checker.hpp"
#include "checkers/executor.hpp"

namespace vigil::checkers {

/// What the owner learns after every completed (or timed-out) run of one checker.
struct ProbeUpdate {
  /// The damped probe to publish: its status changes only after the thresholds; its other
  /// fields come from the latest run whose status equals that damped status.
  Probe probe;
  /// This run's own result (capped), e.g. for duration metrics and per-peer results.
  Probe raw;
  bool changed = false;  ///< probe.status changed with this run (always true on `first`)
  bool first = false;    ///< the first result of this checker since start()
  ProbeStatus old_status = ProbeStatus::running;  ///< previous status, when changed && !first
  TimePoint since{};                              ///< when probe.status began (Scheduler clock)
  bool timed_out = false;                         ///< this run overran its timeout
  int consecutive_failures = 0;                   ///< failed runs in a row, including this one
  int consecutive_successes = 0;                  ///< running runs in a row, including this one
};

struct SchedulerOptions {
  /// Cap, in bytes, of each probe's `error` and `detail` (longer text is cut on a UTF-8
  /// boundary and marked "…[truncated]"). Default 4 KiB.
  std::size_t output_cap = 4096;
  /// Smallest interval honoured; shorter configured intervals are raised to it. Default 1 s.
  Duration min_interval = std::chrono::seconds(1);
  /// Each interval is multiplied by a random factor in [1 - jitter, 1 + jitter] so that
  /// checkers of many nodes do not fall into lockstep. Default 0.1 (±10%).
  double jitter = 0.1;
  /// The first run of each checker starts after a random delay in [0, interval * stagger)
  /// to spread startup load. Default 1.0 (anywhere within the first interval); 0 starts all now.
  double stagger = 1.0;
  /// How long after its deadline a run's own result is still accepted (a checker that
  /// honours its deadline returns a precise error such as "connect ...: timed out" right at
  /// it). Later, the run is reported as a generic timeout and its result dropped. Default 250ms.
  Duration timeout_grace = std::chrono::milliseconds(250);
  /// Seed of the jitter/stagger RNG; 0 picks a random seed.
  std::uint64_t seed = 0;
};

class Scheduler {
 public:
  /// Builds the per-run context on the loop thread right before each run (peer snapshot, ...).
  using ContextProvider = std::function<CheckContext()>;
  /// Receives every update on the loop thread. Must not block.
  using UpdateCallback = std::function<void(const ProbeUpdate&)>;

  /// `executor`, `time` must outlive the Scheduler. `time.now()` is also called from pool
  /// threads (to measure run durations), so it must be thread-safe.
  Scheduler(Executor& executor, const TimeSource& time, ContextProvider context,
            UpdateCallback on_update, SchedulerOptions options = {});
  /// Calls stop(). Loop thread only. Runs still on the pool finish in the background (they
  /// keep their checker alive) and their results are dropped.
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  /// Adds a checker with its spec (interval, timeout, thresholds, severity). Loop thread only.
  /// Returns false (and ignores it) when a checker of the same name exists. After start(),
  /// the new checker starts with its own stagger.
  bool add(std::unique_ptr<Checker> checker, const CheckSpec& spec);
  /// Removes a checker by name; a run in flight finishes and is dropped. Loop thread only.
  bool remove(const std::string& name);
  /// Schedules every checker's first run (after its stagger). Loop thread only.
  void start();
  /// Cancels all timers, raises the stop flag seen by running checkers through
  /// CheckContext::stopping(), drops in-flight results. Idempotent. Loop thread only.
  void stop();

  /// The latest published update of every checker that has produced one, sorted by name.
  std::vector<ProbeUpdate> snapshot() const;
  /// Number of configured checkers.
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry;
  void schedule(const std::shared_ptr<Entry>& e, TimePoint at);
  void do_run(const std::shared_ptr<Entry>& e);
  void on_result(const std::shared_ptr<Entry>& e, std::uint64_t run_id, Probe probe);
  void on_timeout(const std::shared_ptr<Entry>& e, std::uint64_t run_id);
  void publish(Entry& e, Probe raw, bool timed_out);
  Duration jittered(Duration interval);

  Executor& executor_;
  const TimeSource& time_;
  ContextProvider context_;
  UpdateCallback on_update_;
  SchedulerOptions options_;
  std::mt19937_64 rng_;
  std::map<std::string, std::shared_ptr<Entry>> entries_;
  std::shared_ptr<std::atomic<bool>> stop_flag_;
  std::shared_ptr<bool> alive_;  ///< reset on destruction; posted results check it
  bool started_ = false;
};

/// Cuts `text` to at most `cap` bytes on a UTF-8 boundary, marking the cut. Used for the
/// error/detail cap; exposed for the checkers that capture output (exec).
std::string cap_output(std::string text, std::size_t cap);

}  // namespace vigil::checkers
