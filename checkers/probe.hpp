#pragma once
// Probe: the result of one checker run, as design.md names it (status running|failed,
// severity critical|warning, error, detail, duration), plus optional per-peer results for
// ping-like checkers. Plain values, no I/O.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::checkers {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = Clock::duration;

/// Probe status (design.md): `running` (healthy) or `failed`.
enum class ProbeStatus : std::uint8_t { running = 0, failed = 1 };
/// How bad a failed probe is: a failed `critical` probe makes its node `degraded`.
enum class Severity : std::uint8_t { critical = 0, warning = 1 };

/// "running" / "failed".
std::string_view to_string(ProbeStatus s);
/// "critical" / "warning".
std::string_view to_string(Severity s);
/// Parses "running"/"failed"; nullopt otherwise.
std::optional<ProbeStatus> parse_probe_status(std::string_view s);
/// Parses "critical"/"warning"; nullopt otherwise.
std::optional<Severity> parse_severity(std::string_view s);

/// One peer's result in a ping-like checker (feeds vigil_peer_* metrics and the reachability
/// matrix). `rtt` is the mean round-trip time of the answered packets (zero when all lost).
struct PeerResult {
  std::string peer;                   ///< peer node name (or the configured external target name)
  std::string addr;                   ///< address probed, e.g. "10.0.0.12"
  std::string zone;                   ///< peer's zone tag, empty when unknown
  std::string protocol = "icmp";      ///< label value of the peer metrics ("icmp", "tcp", ...)
  int sent = 0;                       ///< packets sent this run
  int lost = 0;                       ///< packets without an answer before the deadline
  Duration rtt{};                     ///< mean RTT of answered packets
  std::vector<Duration> rtt_samples;  ///< every answered packet's RTT (for the histogram)
  // The large echo of this run (ping `mtu`, checkers/large_echo.hpp), apart from the small
  // ones above: small echoes passing while large ones are lost is an MTU blackhole.
  int large_sent = 0;          ///< large echoes sent this run (0 when none was due)
  int large_lost = 0;          ///< of them without an answer
  int large_bytes = 0;         ///< their IP packet size (the configured MTU); 0 = none
  bool large_too_big = false;  ///< the local stack refused it (EMSGSIZE): not sent, not lost
};

/// The result of one checker run. A checker fills status/severity/error/detail (and peers);
/// the caller (Scheduler or run_once) stamps checker, type and duration.
struct Probe {
  std::string checker;  ///< instance name (CheckSpec::name), e.g. "etcd" or "etcd-main"
  std::string type;     ///< checker type, e.g. "etcd"
  ProbeStatus status = ProbeStatus::running;
  Severity severity = Severity::critical;  ///< meaningful when failed
  std::string error;    ///< what failed, actionable: `GET http://...: 503 {"health":"false"}`
  std::string detail;   ///< extra human-readable context (also for running probes)
  Duration duration{};  ///< wall time the run took
  std::vector<PeerResult> peers;  ///< per-peer results (ping-like checkers only)

  /// A running probe with an optional detail.
  static Probe ok(std::string detail = {});
  /// A failed probe.
  static Probe fail(Severity severity, std::string error, std::string detail = {});
  bool failed() const { return status == ProbeStatus::failed; }
  bool running() const { return status == ProbeStatus::running; }
};

}  // namespace vigil::checkers
