#pragma once
// LargeEchoSchedule: which targets of a ping run also get a large echo, the probe behind the
// `mtu-blackhole` diagnosis (issue 13). A large echo is one ICMP echo with DF set (IPv4
// IP_PMTUDISC_DO, IPv6 IPV6_DONTFRAG), sized so that its IP packet is exactly the configured
// MTU (echo_payload_for_mtu, checkers/icmp.hpp). A path that passes small packets but silently
// drops large ones (a lowered MTU on one veth, bridge or tunnel; an overlay that forgot its
// encapsulation overhead; a filter eating "fragmentation needed") loses it while the small
// echoes of the same run pass. A stack that knows the smaller MTU (our own interface, or a
// PMTU learned from a router's "fragmentation needed") refuses to send it (EMSGSIZE): that is
// no blackhole, the sender is told, and it is reported apart, never as loss.
//
// Rate: one large echo per target per `interval` (ping `mtu_interval`, default 30 s; a run up
// to a tenth early still sends it), with the run's first round, so it adds no time to a run.
// Time-based rather than "1 in N runs" on purpose: the cost and the evidence per link then stay
// the same whatever the checker's interval and rotation (a 2 s interval does not send 5x more;
// a peer that a large mesh's rotation visits only every few minutes still gets one at every
// visit). Cost: two MTU-sized packets per probed peer per interval, ~100 B/s per peer at 1,500
// bytes (~600 B/s at 9,000), and at most max_peers_per_round per run. Evidence: the 60 s reach
// window holds ~2 large echoes per direction of a link, ~4 per pair: a pair's blackhole shows
// within one interval after the fault, a node's (pooled over all its peers) too.
//
// Pure logic, no I/O. Not thread-safe: owned by one checker, used by its runs in turn.

#include <map>
#include <string>
#include <vector>

#include "checkers/probe.hpp"

namespace vigil::checkers {

class LargeEchoSchedule {
 public:
  /// `interval` between two large echoes to the same target; zero or less: never.
  explicit LargeEchoSchedule(Duration interval) : interval_(interval) {}

  /// Indices into `targets` (names, unique) due for a large echo at `now`; they count as sent.
  /// A target is due when it never had one or its last was at least 9/10 of `interval` ago:
  /// runs come a little early or late (the scheduler's jitter), and without that slack an
  /// interval that is a multiple of the run period would skip to the next run half the time.
  std::vector<std::size_t> due(const std::vector<std::string>& targets, TimePoint now);

  /// Targets with a large echo less than `interval` ago (the memory is bounded by them).
  std::size_t remembered() const { return last_.size(); }

 private:
  Duration interval_;
  std::map<std::string, TimePoint> last_;  ///< target -> time of its last large echo
};

}  // namespace vigil::checkers
