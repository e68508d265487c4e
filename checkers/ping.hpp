#pragma once
// ping: ICMP echo from this node to its mesh peers (CheckContext::peers) and to configured
// external targets. Per-target loss and RTT go into Probe::peers (they feed the reachability
// matrix, the diagnosis and the vigil_peer_* metrics).
//   - each run sends `count` echoes to every selected target, `packet_interval` apart, and
//     waits `reply_timeout` after the last one;
//   - a large mesh is probed a bounded, rotating subset at a time (PeerRotation): at most
//     `max_peers_per_round` peers per run, every peer covered within
//     ceil(peers / max_peers_per_round) runs; external targets are probed every run;
//   - some target losing more than `loss_threshold` of its echoes -> failed warning naming it;
//     every target losing everything -> failed critical ("this node looks isolated");
//   - no ICMP socket allowed (no ping_group_range, no CAP_NET_RAW) -> failed critical with the fix.
// IPv4 and IPv6 (one socket per family); a peer without a usable IP literal is listed as skipped.
//
// Config (CheckSpec keys besides the common ones):
//   count                echoes per target per run. Default 5 (1..1000).
//   packet_interval      time between two echoes to the same target. Default 100ms.
//   reply_timeout        wait for replies after the last echo. Default 1s.
//                        (count-1)*packet_interval + reply_timeout must fit in `timeout`.
//   max_peers_per_round  peers probed per run. Default 8.
//   peers                probe the mesh peers. Default true.
//   targets              external targets by IP literal: "10.0.0.1", "fd00::1" or
//                        "gateway=10.0.0.1" (names are not resolved). Default [].
//   loss_threshold       loss fraction above which a target fails the probe. Default 0.2.
//   mtu                  IP packet size of the large echo, bytes: besides the small echoes, one
//                        echo with DF set, exactly this big, goes to each target once every
//                        `mtu_interval` (checkers/large_echo.hpp says why and what it costs).
//                        Small packets passing while large ones are lost is an MTU blackhole
//                        (diagnosis `mtu-blackhole`). Set it to the MTU the pods rely on: 1500
//                        on plain Ethernet, 9000 on a jumbo-frame network, the overlay's MTU
//                        for what crosses it. Default 1500 (576..65535).
//   mtu_interval         time between two large echoes to the same target. Default 30s;
//                        "0s" sends none. Large echoes never fail the probe: they are evidence
//                        for the diagnosis, listed in the detail when lost or refused.

#include <string>
#include <vector>

#include "checkers/checker.hpp"
#include "checkers/icmp.hpp"
#include "checkers/large_echo.hpp"
#include "checkers/peer_rotation.hpp"
#include "checkers/registry.hpp"

namespace vigil::checkers {

struct PingTarget {
  std::string name;  ///< shown as PeerResult::peer
  std::string addr;  ///< IPv4 or IPv6 literal
};

struct PingConfig {
  int count = 5;                                              ///< echoes per target per run
  Duration packet_interval = std::chrono::milliseconds(100);  ///< spacing of echoes
  Duration reply_timeout = std::chrono::seconds(1);           ///< wait after the last echo
  std::size_t max_peers_per_round = 8;                        ///< rotation width
  bool peers = true;                                          ///< probe mesh peers
  std::vector<PingTarget> targets;                            ///< external targets
  double loss_threshold = 0.2;                                ///< loss fraction that fails
  int mtu = 1500;                                             ///< large echo, IP bytes
  Duration mtu_interval = std::chrono::seconds(30);           ///< per target; 0 = none
};

class PingChecker final : public Checker {
 public:
  PingChecker(std::string name, std::string node_name, PingConfig config);

  // Checker
  Probe run(const CheckContext& ctx, Deadline deadline) override;

 private:
  PingConfig config_;
  PeerRotation rotation_;    ///< touched by run() only (never concurrent with itself)
  LargeEchoSchedule large_;  ///< likewise
};

/// Factory for the registry (type "ping").
MakeResult make_ping_checker(const CheckSpec& spec, CheckerContext& ctx);

}  // namespace vigil::checkers
