#include "checkers/run_once.hpp"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "checkers/scheduler.hpp"

namespace vigil::checkers {

SpecListResult parse_check_specs(const nlohmann::json& array) {
  SpecListResult out;
  if (!array.is_array()) {
    out.error = "checkers: must be an array of checker objects";
    return out;
  }
  std::set<std::string> names;
  for (std::size_t i = 0; i < array.size(); ++i) {
    auto r = parse_check_spec(array[i]);
    if (!r.error.empty()) {
      out.error = "checkers[" + std::to_string(i) + "]: " + r.error;
      return out;
    }
    if (!names.insert(r.spec.name).second) {
      out.error = "checkers[" + std::to_string(i) + "]: duplicate name \"" + r.spec.name +
                  "\" (set \"name\" to tell two checkers of one type apart)";
      return out;
    }
    out.specs.push_back(std::move(r.spec));
  }
  return out;
}

SpecListResult parse_check_specs(std::string_view json_array_text) {
  auto j = nlohmann::json::parse(json_array_text, nullptr, false);
  if (j.is_discarded()) {
    SpecListResult out;
    out.error = "checkers: invalid JSON";
    return out;
  }
  return parse_check_specs(j);
}

bool all_ok(const std::vector<Probe>& probes) {
  return std::none_of(probes.begin(), probes.end(), [](const Probe& p) {
    return p.failed() && p.severity == Severity::critical;
  });
}

namespace {

// Shared between the waiting caller and the run threads (which may outlive the call when a
// checker ignores its deadline: they are then detached and finish on their own).
struct Shared {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::optional<Probe>> results;
  std::size_t done = 0;
};

}  // namespace

RunOnceResult run_checkers_once(const std::vector<CheckSpec>& specs,
                                const CheckerRegistry& registry, CheckerContext& factory_ctx,
                                const RunOnceOptions& options) {
  RunOnceResult out;
  for (const auto& name : options.only) {
    if (std::none_of(specs.begin(), specs.end(), [&](const auto& s) { return s.name == name; })) {
      std::string known;
      for (const auto& s : specs) known += (known.empty() ? "" : ", ") + s.name;
      out.error = "no checker named \"" + name + "\" (configured: " + known + ")";
      return out;
    }
  }
  std::vector<const CheckSpec*> selected;
  std::vector<std::shared_ptr<Checker>> checkers;
  for (const auto& s : specs) {
    if (!options.only.empty() &&
        std::find(options.only.begin(), options.only.end(), s.name) == options.only.end())
      continue;
    auto made = registry.make(s, factory_ctx);
    if (!made.checker) {
      out.error += (out.error.empty() ? "" : "\n") + made.error;
      continue;
    }
    selected.push_back(&s);
    checkers.push_back(std::move(made.checker));
  }
  if (!out.error.empty()) return out;

  auto shared = std::make_shared<Shared>();
  shared->results.resize(selected.size());
  TimePoint start = Clock::now();
  TimePoint latest = start;
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < selected.size(); ++i) {
    Deadline deadline{start + selected[i]->timeout};
    latest = std::max(latest, deadline.at);
    Duration grace = options.grace;
    threads.emplace_back(
        [shared, i, checker = checkers[i], deadline, grace, ctx = options.context] {
          TimePoint t0 = Clock::now();
          Probe p;
          try {
            p = checker->run(ctx, deadline);
          } catch (const std::exception& e) {
            p = Probe::fail(Severity::critical, std::string("checker threw: ") + e.what());
          }
          if (p.duration == Duration::zero()) p.duration = Clock::now() - t0;
          bool overran = Clock::now() > deadline.at + grace;
          std::lock_guard lock(shared->mu);
          if (!overran) shared->results[i] = std::move(p);  // an overrun is reported as a timeout
          ++shared->done;
          shared->cv.notify_all();
        });
  }
  {
    std::unique_lock lock(shared->mu);
    shared->cv.wait_until(lock, latest + options.grace,
                          [&] { return shared->done == selected.size(); });
  }
  for (auto& t : threads) t.detach();  // finished ones exit at once; laggards on their own
  std::lock_guard lock(shared->mu);
  for (std::size_t i = 0; i < selected.size(); ++i) {
    const CheckSpec& s = *selected[i];
    auto& r = shared->results[i];
    Probe p;
    if (!r) {
      p = Probe::fail(Severity::critical,
                      s.type + " check timed out after " + format_duration(s.timeout));
      p.duration = s.timeout;
    } else {
      p = std::move(*r);
    }
    p.checker = s.name;
    p.type = s.type;
    p.error = cap_output(std::move(p.error), options.output_cap);
    p.detail = cap_output(std::move(p.detail), options.output_cap);
    if (s.severity == Severity::warning) p.severity = Severity::warning;
    out.probes.push_back(std::move(p));
  }
  return out;
}

}  // namespace vigil::checkers
