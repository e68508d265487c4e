#pragma once
// time-drift: this node's clock offset to its peers, from the CheckContext's PeerClock (gossip
// acks carry the sender's wall clock; no extra service). No NTP query, no peer traffic of its own.
//
// Drift of one peer = |offset| - rtt/2, floored at 0: the offset of a one-way timestamp is only
// known to within half the round trip of the exchange it came from, so a slow link never looks
// like a skewed clock. Samples older than `max_age` are ignored.
//   - worst drift > critical -> failed critical; > warning -> failed warning; naming the peers;
//   - no PeerClock or no fresh sample yet -> running, with a detail saying so;
//   - when the median offset over >= 3 peers is itself beyond the warning threshold, the detail
//     says it is most likely *this* node's clock that is off.
//
// Config (CheckSpec keys besides the common ones):
//   warning   drift that fails the probe as a warning. Default 100ms.
//   critical  drift that fails the probe as critical. Default 1s.
//   max_age   ignore offsets measured longer ago than this. Default 5m.

#include <string>

#include "checkers/checker.hpp"
#include "checkers/registry.hpp"

namespace vigil::checkers {

struct TimeDriftConfig {
  Duration warning = std::chrono::milliseconds(100);  ///< warning threshold
  Duration critical = std::chrono::seconds(1);        ///< critical threshold
  Duration max_age = std::chrono::minutes(5);         ///< freshness of samples
};

class TimeDriftChecker final : public Checker {
 public:
  TimeDriftChecker(std::string name, TimeDriftConfig config);

  // Checker
  Probe run(const CheckContext& ctx, Deadline deadline) override;

 private:
  TimeDriftConfig config_;
};

/// Factory for the registry (type "time-drift").
MakeResult make_time_drift_checker(const CheckSpec& spec, CheckerContext& ctx);

/// "+1.52s", "-250ms", "+0ms": a signed offset for details and errors.
std::string format_offset(std::chrono::nanoseconds offset);

}  // namespace vigil::checkers
