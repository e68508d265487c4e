#pragma once
// NetnsCluster: N real `vigil agent` processes, each in its own network namespace
// (<prefix>-n<i>, eth0 = <subnet>.<i>/24) on a bridge inside <prefix>-sw whose own address
// <subnet>.254 plays the gateway; each agent has its own data dir and config file. Agents are
// started with `ip netns exec`, tracked and killed by PID. The test reaches an agent's HTTP API
// at its namespace address from a thread that entered that namespace (setns), and runs CLI
// clients with `ip netns exec`. The only change to the root namespace is a blackhole route for
// the subnet, so a client started outside the namespaces by mistake fails locally. Faults:
// link cut, gossip partition (nft in the bridge namespace), random loss (iptables statistic in a
// node's namespace), a lower MTU on a node's bridge port. Everything is removed by the destructor.
// Root only.
//
// Timings: the `local` gossip profile with shorter intervals (netns_timings()); the bounds the
// tests assert are computed from them (detect_bound(), converge_bound()).

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gossip/config.hpp"

namespace vigil::e2e {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Seconds = std::chrono::duration<double>;

/// The gossip timings every agent of a NetnsCluster runs with (the `local` profile + these).
gossip::GossipConfig netns_timings();

/// The default checkers' ping (NetnsCluster::default_checkers): its run interval and timeout,
/// and how often each peer gets a large echo (ping `mtu_interval`; the agent's default is 30 s,
/// short here so an MTU fault shows within seconds). Bounds derive from them.
struct NetnsPing {
  static constexpr std::chrono::milliseconds interval{2000};
  static constexpr std::chrono::milliseconds timeout{1500};
  static constexpr std::chrono::milliseconds mtu_interval{2000};
  static constexpr int mtu = 1500;
};

/// Milliseconds since the epoch (the agents' history timestamps use the same clock).
std::int64_t wall_ms();
/// "2026-11-23T14:05:00.123Z" for a wall time in ms, and back (-1 when unparsable).
std::string rfc3339(std::int64_t ms);
std::int64_t parse_rfc3339(const std::string& text);

class NetnsCluster {
 public:
  /// `tag` (<= 4 chars) names the namespaces "<tag><pid>-...", so two runs never collide.
  /// Every agent runs with `timings` (written into its config; the bounds derive from them).
  NetnsCluster(int nodes, const std::string& vigil_bin, const std::string& tag = "vgnc",
               gossip::GossipConfig timings = netns_timings());
  ~NetnsCluster();
  NetnsCluster(const NetnsCluster&) = delete;
  NetnsCluster& operator=(const NetnsCluster&) = delete;

  /// True when the namespaces are up; error() says which step failed.
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  int size() const { return n_; }
  const gossip::GossipConfig& timings() const { return timings_; }

  // --- topology ----------------------------------------------------------------------------
  std::string ns(int i) const;    ///< "vgnc1234-n3" (1-based)
  std::string sw_ns() const;      ///< the bridge's namespace, "vgnc1234-sw"
  std::string ip(int i) const;    ///< "10.200.134.3"
  std::string name(int i) const;  ///< agent name "n3"
  std::string gateway() const;    ///< the bridge's address, "10.200.134.254"
  const std::string& dir() const { return dir_; }
  std::string data_dir(int i) const;
  /// Runs argv inside node i's namespace (`ip netns exec`); "" on success, else the error.
  std::string exec(int i, const std::vector<std::string>& argv) const;
  /// Runs argv inside the bridge namespace.
  std::string exec_sw(const std::vector<std::string>& argv) const;

  // --- agents -----------------------------------------------------------------------------
  /// Sets node i's `checkers` array (JSON text); "" keeps the default list (ping + flag).
  void set_checkers(int i, const std::string& checkers_json);
  /// The default checkers of node i: ping (peers + the gateway) and an exec "flag" probe that
  /// fails (warning) while flag_path(i) exists.
  std::string default_checkers(int i) const;
  std::string flag_path(int i) const;
  /// Starts agent i (writes its config; joins every other node). False when already running.
  bool start(int i);
  /// Sends `sig` to agent i's PID (no-op when it is not running).
  void signal(int i, int sig);
  /// Waits (bounded) for agent i to exit; its exit code, -1 for a signal or the timeout (then
  /// it is SIGKILLed).
  int wait_exit(int i, std::chrono::milliseconds timeout = 20s);
  /// kill -9 and reap.
  void kill9(int i);
  /// True while agent i runs. An exit the test did not cause is counted in crashes().
  bool running(int i);
  pid_t pid(int i) const;
  /// Unexpected exits seen so far ("n3: exit 1", "n2: signal 11"), with their log tails.
  const std::vector<std::string>& crashes() const { return crashes_; }
  /// VmRSS of agent i in KiB, -1 when not running.
  long rss_kib(int i) const;
  /// The tail of agent i's log (every run appends to it).
  std::string log_tail(int i, std::size_t max = 3000) const;

  // --- faults -----------------------------------------------------------------------------
  /// Node i's port on the bridge down (true) or up (false).
  std::string cut(int i, bool down);
  /// Drops gossip between the two groups (UDP and TCP, both ways) in the bridge; ICMP passes.
  /// UDP alone is not enough: the TCP fallback probe keeps every member alive then.
  /// `protocols`: what the cut drops ("udp, tcp"; "udp" alone is a broken overlay or a firewall
  /// rule: TCP and ICMP still pass).
  std::string partition(const std::vector<int>& a, const std::vector<int>& b,
                        const std::string& protocols = "udp, tcp");
  std::string heal_partition();
  /// MTU of node i's port on the bridge (the bridge-side end of its veth): frames above it are
  /// dropped silently both ways while node i's own eth0 keeps 1500, so nobody is told (no
  /// "fragmentation needed"): an MTU blackhole. 1500 restores it.
  std::string set_bridge_mtu(int i, int mtu);
  /// Random loss of `fraction` of the packets on node i's eth0, both directions
  /// (iptables statistic; the kernel here has no netem). 0 removes it.
  std::string set_loss(int i, double fraction);

  // --- clients (from inside the node's namespace) ------------------------------------------
  /// GET `path` of agent i's API: {status, body}; status 0 when unreachable.
  std::pair<int, std::string> get(int i, const std::string& path) const;
  /// Parsed JSON body of a 200/503 answer, or null.
  nlohmann::json get_json(int i, const std::string& path) const;
  /// Status of agent `j`'s name in agent i's /v1/members ("alive", ...); "" when absent.
  std::string member_status(int i, int j) const;
  /// Agent i's /v1/members as name -> status (empty when unreachable).
  std::vector<std::pair<std::string, std::string>> members(int i) const;
  /// A metric sample's value in agent i's /metrics (exact series text, e.g.
  /// `vigil_members{status="alive"}`), nullopt when absent.
  std::optional<double> metric(int i, const std::string& series) const;
  /// Whether agent i's /metrics has any sample of this family.
  bool has_metric_family(int i, const std::string& family) const;
  /// Runs the vigil CLI inside node i's namespace with --addr pointing at agent i.
  std::pair<int, std::string> cli(int i, const std::vector<std::string>& args) const;

  // --- bounds computed from the timings -----------------------------------------------------
  /// Kill -> every survivor sees `failed`: a prober's full pass over the members, the probe
  /// round, the largest suspicion timeout, one push-pull interval, plus `slack`.
  Seconds detect_bound() const;
  /// Heal / restart -> every node sees every other alive: the largest suspicion timeout (a
  /// suspicion raised just before the heal), 5 reconnect intervals, one push-pull, `slack`.
  Seconds converge_bound() const;
  /// The same for a node that fails every probe (isolated, or alone on its side): Lifeguard
  /// stretches its probe interval up to awareness_max_multiplier times.
  Seconds isolated_detect_bound() const;
  /// Scheduling slack for a shared 2-core machine (3 s).
  Seconds slack() const { return 3s; }

  /// True when every running agent sees every running agent alive and every stopped one as
  /// `want_stopped` (e.g. "failed"; "" = not checked).
  bool converged(const std::string& want_stopped = "") const;
  /// Polls `pred` every 100 ms until it holds or `timeout` passes.
  static bool eventually(const std::function<bool()>& pred, Seconds timeout);

 private:
  struct Agent {
    pid_t pid = -1;
    bool expect_exit = false;  ///< the test signalled it
    std::string checkers;
  };
  std::string run(const std::vector<std::string>& argv) const;
  void write_config(int i) const;
  void note_exit(int i, int status);

  int n_;
  gossip::GossipConfig timings_;
  std::string bin_, ip_bin_, prefix_, subnet_, dir_, error_;
  std::vector<Agent> agents_;
  std::vector<std::string> crashes_;
  std::vector<int> lossy_;  ///< nodes with a loss rule installed
  bool partitioned_ = false;

 public:
  /// start(i) with `extra_args` appended to the agent's command line (e.g. {"--tag",
  /// "zone=a"}, used by test/e2e/diagnosis_suite.cpp). False when already running.
  bool start_with(int i, const std::vector<std::string>& extra_args);
};

}  // namespace vigil::e2e
