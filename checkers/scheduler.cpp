#include "checkers/scheduler.hpp"

#include <algorithm>
#include <exception>

namespace vigil::checkers {

struct Scheduler::Entry {
  std::shared_ptr<Checker> checker;
  CheckSpec spec;
  Duration interval{};
  std::optional<Executor::TimerId> next_timer;
  std::optional<Executor::TimerId> timeout_timer;
  std::uint64_t run_id = 0;
  bool in_flight = false;  ///< the latest run is still on the pool (maybe abandoned)
  bool awaiting = false;   ///< the latest run is neither reported nor timed out
  TimePoint run_start{};
  TimePoint run_deadline{};
  bool removed = false;
  // Damping state.
  bool has_state = false;
  ProbeStatus state = ProbeStatus::running;
  TimePoint since{};
  int failures = 0;
  int successes = 0;
  std::optional<ProbeUpdate> last;
};

std::string cap_output(std::string text, std::size_t cap) {
  static constexpr std::string_view mark = "…[truncated]";
  if (text.size() <= cap) return text;
  std::size_t keep = cap > mark.size() ? cap - mark.size() : 0;
  // Step back over UTF-8 continuation bytes so a multi-byte character is never split.
  while (keep > 0 && (static_cast<unsigned char>(text[keep]) & 0xC0) == 0x80) --keep;
  text.resize(keep);
  if (cap >= mark.size()) text += mark;
  return text;
}

Scheduler::Scheduler(Executor& executor, const TimeSource& time, ContextProvider context,
                     UpdateCallback on_update, SchedulerOptions options)
    : executor_(executor),
      time_(time),
      context_(std::move(context)),
      on_update_(std::move(on_update)),
      options_(options),
      rng_(options.seed ? options.seed : std::random_device{}()),
      stop_flag_(std::make_shared<std::atomic<bool>>(false)),
      alive_(std::make_shared<bool>(true)) {}

Scheduler::~Scheduler() {
  stop();
  alive_.reset();
}

bool Scheduler::add(std::unique_ptr<Checker> checker, const CheckSpec& spec) {
  if (!checker || entries_.count(checker->name())) return false;
  auto e = std::make_shared<Entry>();
  e->spec = spec;
  e->interval = std::max(spec.interval, options_.min_interval);
  if (e->spec.timeout <= Duration::zero() || e->spec.timeout > e->interval)
    e->spec.timeout = e->interval;
  e->spec.failure_threshold = std::max(1, spec.failure_threshold);
  e->spec.success_threshold = std::max(1, spec.success_threshold);
  e->checker = std::move(checker);
  auto name = e->checker->name();
  entries_.emplace(name, e);
  if (started_) {
    std::uniform_real_distribution<double> u(0.0, options_.stagger);
    schedule(e, time_.now() + std::chrono::duration_cast<Duration>(e->interval * u(rng_)));
  }
  return true;
}

bool Scheduler::remove(const std::string& name) {
  auto it = entries_.find(name);
  if (it == entries_.end()) return false;
  auto& e = *it->second;
  if (e.next_timer) executor_.cancel(*e.next_timer);
  if (e.timeout_timer) executor_.cancel(*e.timeout_timer);
  e.removed = true;
  entries_.erase(it);
  return true;
}

void Scheduler::start() {
  if (started_) return;
  started_ = true;
  stop_flag_ = std::make_shared<std::atomic<bool>>(false);
  std::uniform_real_distribution<double> u(0.0, options_.stagger);
  TimePoint now = time_.now();
  for (auto& [name, e] : entries_) {
    double f = options_.stagger > 0 ? u(rng_) : 0.0;
    schedule(e, now + std::chrono::duration_cast<Duration>(e->interval * f));
  }
}

void Scheduler::stop() {
  if (!started_) return;
  started_ = false;
  stop_flag_->store(true, std::memory_order_relaxed);
  for (auto& [name, e] : entries_) {
    if (e->next_timer) executor_.cancel(*e->next_timer);
    if (e->timeout_timer) executor_.cancel(*e->timeout_timer);
    e->next_timer.reset();
    e->timeout_timer.reset();
    e->awaiting = false;
  }
}

std::vector<ProbeUpdate> Scheduler::snapshot() const {
  std::vector<ProbeUpdate> out;
  for (const auto& [name, e] : entries_)
    if (e->last) out.push_back(*e->last);
  return out;
}

Duration Scheduler::jittered(Duration interval) {
  double j = std::clamp(options_.jitter, 0.0, 0.9);
  std::uniform_real_distribution<double> u(1.0 - j, 1.0 + j);
  auto d = std::chrono::duration_cast<Duration>(interval * u(rng_));
  return std::max(d, options_.min_interval);
}

void Scheduler::schedule(const std::shared_ptr<Entry>& e, TimePoint at) {
  std::weak_ptr<bool> alive = alive_;
  e->next_timer = executor_.schedule_at(at, [this, alive, e] {
    if (alive.expired() || e->removed) return;
    e->next_timer.reset();
    do_run(e);
  });
}

void Scheduler::do_run(const std::shared_ptr<Entry>& e) {
  if (!started_) return;
  TimePoint now = time_.now();
  schedule(e, now + jittered(e->interval));
  if (e->in_flight) {
    // The previous run overran its timeout (already reported) and still has not returned:
    // never overlap runs of one checker; count this round as another failure.
    auto stuck = std::chrono::duration_cast<std::chrono::seconds>(now - e->run_start);
    publish(*e,
            Probe::fail(Severity::critical, e->spec.type + " check still running after " +
                                                format_duration(stuck) + "; run skipped"),
            true);
    return;
  }
  std::uint64_t id = ++e->run_id;
  e->in_flight = true;
  e->awaiting = true;
  e->run_start = now;
  e->run_deadline = now + e->spec.timeout;
  std::weak_ptr<bool> alive = alive_;
  e->timeout_timer =
      executor_.schedule_at(e->run_deadline + options_.timeout_grace, [this, alive, e, id] {
        if (alive.expired() || e->removed) return;
        e->timeout_timer.reset();
        on_timeout(e, id);
      });

  CheckContext ctx = context_ ? context_() : CheckContext{};
  ctx.stop = stop_flag_;
  Deadline deadline{e->run_deadline};
  Executor& ex = executor_;
  const TimeSource& time = time_;
  std::shared_ptr<Checker> checker = e->checker;
  executor_.run_blocking([this, alive, e, id, checker, ctx = std::move(ctx), deadline, &ex, &time] {
    Probe p;
    TimePoint t0 = time.now();
    if (t0 >= deadline.at) {
      p = Probe::fail(Severity::critical, "did not start before its timeout (worker pool busy)");
    } else {
      try {
        p = checker->run(ctx, deadline);
      } catch (const std::exception& ex_) {
        p = Probe::fail(Severity::critical, std::string("checker threw: ") + ex_.what());
      } catch (...) {
        p = Probe::fail(Severity::critical, "checker threw an unknown exception");
      }
    }
    if (p.duration == Duration::zero()) p.duration = time.now() - t0;
    ex.post([this, alive, e, id, p = std::move(p)]() mutable {
      if (alive.expired()) return;
      on_result(e, id, std::move(p));
    });
  });
}

void Scheduler::on_result(const std::shared_ptr<Entry>& e, std::uint64_t run_id, Probe probe) {
  if (run_id == e->run_id) e->in_flight = false;
  if (e->removed || !started_ || run_id != e->run_id || !e->awaiting) return;  // late: dropped
  if (e->timeout_timer) executor_.cancel(*e->timeout_timer);
  e->timeout_timer.reset();
  if (time_.now() > e->run_deadline + options_.timeout_grace) {
    on_timeout(e, run_id);
    return;
  }
  e->awaiting = false;
  publish(*e, std::move(probe), false);
}

void Scheduler::on_timeout(const std::shared_ptr<Entry>& e, std::uint64_t run_id) {
  if (run_id != e->run_id || !e->awaiting || !started_) return;
  e->awaiting = false;
  Probe p = Probe::fail(Severity::critical, e->spec.type + " check timed out after " +
                                                format_duration(e->spec.timeout));
  p.duration = e->spec.timeout;
  publish(*e, std::move(p), true);
}

void Scheduler::publish(Entry& e, Probe raw, bool timed_out) {
  raw.checker = e.checker->name();
  raw.type = e.checker->type();
  raw.error = cap_output(std::move(raw.error), options_.output_cap);
  raw.detail = cap_output(std::move(raw.detail), options_.output_cap);
  if (e.spec.severity == Severity::warning) raw.severity = Severity::warning;
  if (raw.running()) raw.severity = e.spec.severity;

  ProbeUpdate u;
  TimePoint now = time_.now();
  if (raw.failed()) {
    ++e.failures;
    e.successes = 0;
  } else {
    ++e.successes;
    e.failures = 0;
  }
  if (!e.has_state) {
    e.has_state = true;
    e.state = raw.status;
    e.since = now;
    u.first = u.changed = true;
  } else if (e.state == ProbeStatus::running && e.failures >= e.spec.failure_threshold) {
    u.changed = true;
    u.old_status = e.state;
    e.state = ProbeStatus::failed;
    e.since = now;
  } else if (e.state == ProbeStatus::failed && e.successes >= e.spec.success_threshold) {
    u.changed = true;
    u.old_status = e.state;
    e.state = ProbeStatus::running;
    e.since = now;
  }
  if (raw.status == e.state || !e.last)
    u.probe = raw;
  else
    u.probe = e.last->probe;
  u.probe.status = e.state;
  u.raw = std::move(raw);
  u.since = e.since;
  u.timed_out = timed_out;
  u.consecutive_failures = e.failures;
  u.consecutive_successes = e.successes;
  e.last = u;
  if (on_update_) on_update_(u);
}

}  // namespace vigil::checkers
