#pragma once
// FakeChecker: a scripted Checker for Scheduler/registry tests. Each run pops the next
// scripted probe (repeating the last one), records the deadline and context it saw, and can
// advance a ManualClock to pretend the run took time.

#include <deque>
#include <memory>
#include <vector>

#include "checkers/checker.hpp"
#include "test/fakes/fake_executor.hpp"

namespace vigil::test {

struct FakeCheckerLog {
  int runs = 0;
  std::vector<checkers::Deadline> deadlines;
  std::vector<bool> stopping;  ///< ctx.stopping() seen by each run
  std::vector<std::string> node_names;
};

class FakeChecker final : public checkers::Checker {
 public:
  FakeChecker(std::string name, std::shared_ptr<FakeCheckerLog> log,
              std::deque<checkers::Probe> script = {checkers::Probe::ok()},
              ManualClock* clock = nullptr, checkers::Duration takes = {})
      : Checker("fake", std::move(name)),
        log_(std::move(log)),
        script_(std::move(script)),
        clock_(clock),
        takes_(takes) {}

  /// Appends results to the script.
  void push(checkers::Probe p) { script_.push_back(std::move(p)); }

  // Checker
  checkers::Probe run(const checkers::CheckContext& ctx, checkers::Deadline deadline) override {
    ++log_->runs;
    log_->deadlines.push_back(deadline);
    log_->stopping.push_back(ctx.stopping());
    log_->node_names.push_back(ctx.node_name);
    if (clock_ && takes_ > checkers::Duration::zero()) clock_->advance(takes_);
    checkers::Probe p = script_.empty() ? checkers::Probe::ok() : script_.front();
    if (script_.size() > 1) script_.pop_front();
    return p;
  }

 private:
  std::shared_ptr<FakeCheckerLog> log_;
  std::deque<checkers::Probe> script_;
  ManualClock* clock_;
  checkers::Duration takes_;
};

}  // namespace vigil::test
