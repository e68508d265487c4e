#include "checkers/time_drift.hpp"

#include <algorithm>
#include <cstdio>

#include "checkers/spec_reader.hpp"

namespace vigil::checkers {

std::string format_offset(std::chrono::nanoseconds offset) {
  const char sign = offset.count() < 0 ? '-' : '+';
  const double ms = std::abs(static_cast<double>(offset.count())) / 1e6;
  char buf[48];
  if (ms >= 1000)
    std::snprintf(buf, sizeof(buf), "%c%.2fs", sign, ms / 1000);
  else
    std::snprintf(buf, sizeof(buf), "%c%.0fms", sign, ms);
  return buf;
}

TimeDriftChecker::TimeDriftChecker(std::string name, TimeDriftConfig config)
    : Checker("time-drift", std::move(name)), config_(config) {}

Probe TimeDriftChecker::run(const CheckContext& ctx, Deadline /*deadline*/) {
  if (!ctx.peer_clock) return Probe::ok("no peer clock source (not running inside an agent)");
  const TimePoint now = Clock::now();
  struct Drift {
    std::string peer;
    std::chrono::nanoseconds offset;
    std::chrono::nanoseconds drift;
  };
  std::vector<Drift> drifts;
  for (const auto& o : ctx.peer_clock->offsets()) {
    if (o.samples <= 0 || now - o.measured_at > config_.max_age) continue;
    auto half_rtt = std::chrono::duration_cast<std::chrono::nanoseconds>(o.rtt) / 2;
    auto drift = std::max(std::chrono::nanoseconds::zero(), std::chrono::abs(o.offset) - half_rtt);
    drifts.push_back({o.peer, o.offset, drift});
  }
  if (drifts.empty()) return Probe::ok("no peer clock offsets measured yet");

  std::sort(drifts.begin(), drifts.end(),
            [](const Drift& a, const Drift& b) { return a.drift > b.drift; });
  std::vector<std::chrono::nanoseconds> offsets;
  for (const auto& d : drifts) offsets.push_back(d.offset);
  std::nth_element(offsets.begin(), offsets.begin() + offsets.size() / 2, offsets.end());
  const auto median = offsets[offsets.size() / 2];

  std::string detail = std::to_string(drifts.size()) + " peer" + (drifts.size() == 1 ? "" : "s") +
                       " measured, median offset " + format_offset(median) + ", worst " +
                       drifts.front().peer + " " + format_offset(drifts.front().offset);
  if (drifts.size() >= 3 && std::chrono::abs(median) > config_.warning)
    detail += "; most peers disagree with this node: its own clock is the likely culprit";

  auto over = [&](Duration limit) {
    std::string names;
    int n = 0;
    for (const auto& d : drifts) {
      if (d.drift <= limit) break;
      if (++n <= 5) names += (names.empty() ? "" : ", ") + d.peer + " " + format_offset(d.offset);
    }
    if (n > 5) names += ", ...";
    return std::pair{n, names};
  };
  if (auto [n, names] = over(config_.critical); n > 0)
    return Probe::fail(Severity::critical,
                       "clock offset beyond " + format_duration(config_.critical) + " to " +
                           std::to_string(n) + " peer" + (n == 1 ? "" : "s") + ": " + names,
                       detail);
  if (auto [n, names] = over(config_.warning); n > 0)
    return Probe::fail(Severity::warning,
                       "clock offset beyond " + format_duration(config_.warning) + " to " +
                           std::to_string(n) + " peer" + (n == 1 ? "" : "s") + ": " + names,
                       detail);
  return Probe::ok(detail);
}

MakeResult make_time_drift_checker(const CheckSpec& spec, CheckerContext& /*ctx*/) {
  SpecReader r(spec);
  TimeDriftConfig c;
  c.warning = r.duration("warning", c.warning);
  c.critical = r.duration("critical", c.critical);
  c.max_age = r.duration("max_age", c.max_age);
  if (c.warning <= Duration::zero()) r.error("warning", "must be > 0");
  if (c.critical < c.warning) r.error("critical", "must be >= warning");
  if (c.max_age <= Duration::zero()) r.error("max_age", "must be > 0");
  if (auto err = r.finish(); !err.empty()) return MakeResult::fail(err);
  return MakeResult::ok(std::make_unique<TimeDriftChecker>(spec.name, c));
}

}  // namespace vigil::checkers
