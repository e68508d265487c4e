#pragma once
// Fixture for end-to-end tests with real `vigil agent` processes on 127.0.0.1: spawns them
// with posix_spawn (stdout+stderr to a log file in a temp dir), tracks every PID, kills and
// reaps them by PID in the destructor, removes the temp dir. Polls with bounded deadlines.

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "gossip/config.hpp"
#include "test/ports.hpp"

namespace vigil::e2e {

using namespace std::chrono_literals;

/// A port on 127.0.0.1 reserved for this test process (test/ports.hpp: no other test process
/// is handed it, UDP and TCP free when handed out).
using vigil::test::free_port;

/// The gossip settings of the shared config file (Cluster::config_path, write_config): the
/// local profile with faster probes. Tests derive their waits and margins from it, or from the
/// GossipConfig they write themselves with gossip_json().
gossip::GossipConfig fixture_gossip();
/// The `"gossip": {...}` object of a config file that gives an agent started with the local
/// profile exactly the timings of `g` (every timing field is written).
std::string gossip_json(const gossip::GossipConfig& g);
/// The longest suspicion timeout in a mesh of n members, reached when nobody confirms the
/// suspicion: suspicion_max_timeout_mult x suspicion_min_timeout(g, n).
gossip::Duration suspicion_max(const gossip::GossipConfig& g, std::size_t n);

/// Why agents started by this process cannot ping ("" when they can): neither an unprivileged
/// ICMP datagram socket (net.ipv4.ping_group_range) nor a raw socket (CAP_NET_RAW) opens. Tests
/// whose agents run the ping checker pass it to vigil::test::skip().
std::string icmp_unavailable();

/// Polls `pred` every 50 ms until it holds or `timeout` passes. Returns its last value.
bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 30s);

/// The probe of `checker` in a /v1/status node entry, or null.
nlohmann::json probe_of(const nlohmann::json& node, const std::string& checker);

struct ProcResult {
  int exit_code = -1;  ///< -1: killed by a signal or timed out
  std::string output;  ///< stdout + stderr
};

/// Runs the vigil binary with `args` to completion (bounded by `timeout`).
ProcResult run_vigil(const std::vector<std::string>& args,
                     const std::map<std::string, std::string>& env = {},
                     std::chrono::milliseconds timeout = 20s);

struct AgentSpec {
  std::string name{};
  /// 0: the fixture picks one with free_port(), and starts the agent again on new ports when
  /// it exits at start-up because one was taken (test::address_in_use, test::kPortAttempts).
  /// A port the test gives is used as is (take it from free_port()).
  int gossip_port = 0;
  int http_port = 0;
  std::vector<std::string> join{};
  std::string keyring{};                     ///< path, empty = plaintext
  std::vector<std::string> extra{};          ///< more flags
  std::map<std::string, std::string> env{};  ///< extra environment
  bool flags_via_env = false;  ///< pass name/bind/http/join/config as VIGIL_* env instead
  std::string config{};        ///< a config file instead of the shared one (write_config)
};

class Cluster {
 public:
  Cluster();
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  /// The temp dir (removed by the destructor).
  const std::string& dir() const { return dir_; }
  /// Path of a config file with fast gossip timings, shared by every agent.
  const std::string& config_path() const { return config_; }
  /// Writes a config file with the shared fast timings plus `checkers` (a JSON array; "" =
  /// hermetic_checkers()) and returns its path.
  std::string write_config(const std::string& file, const std::string& checkers_json);
  /// The checkers an agent gets when a test names none: disk on the test's dir, ping to the
  /// peers, time drift; nothing of the host (no sockets, ports or buses it may have).
  std::string hermetic_checkers() const;
  /// Writes a keyring file holding `keys` (base64) and returns its path.
  std::string write_keyring(const std::string& file, const std::vector<std::string>& keys);

  /// Starts an agent and waits (bounded) until it logged "agent started" (both ports bound) or
  /// exited; returns its index. Ports in `spec` are filled in when 0.
  int start(AgentSpec spec);
  /// Restarts agent `i` (after it exited) with the same spec and ports.
  void restart(int i);
  /// Sends `sig` to agent `i` by PID.
  void signal(int i, int sig);
  /// Waits (bounded) for agent `i` to exit; returns its exit code, -1 on signal/timeout.
  int wait_exit(int i, std::chrono::milliseconds timeout = 20s);
  bool running(int i) const;

  const AgentSpec& spec(int i) const { return agents_.at(i).spec; }
  std::string gossip_addr(int i) const;
  /// GET /v1/members of agent i, or nullopt when unreachable/not 200.
  std::optional<nlohmann::json> members(int i) const;
  /// Status of `name` as agent i sees it ("alive", ...), or "" when absent/unreachable.
  std::string status_of(int i, const std::string& name) const;
  /// Incarnation of `name` as agent i sees it, or -1.
  long incarnation_of(int i, const std::string& name) const;
  /// GET `path` of agent i: {status, body}; status 0 when unreachable.
  std::pair<int, std::string> http_get(int i, const std::string& path) const;
  /// The value of an unlabeled metric sample in agent i's /metrics, or -1.
  double metric(int i, const std::string& sample) const;
  /// The agent's log so far (for failure messages).
  std::string log(int i) const;

 private:
  struct Agent {
    AgentSpec spec;
    pid_t pid = -1;
    std::string log_path;
  };
  void spawn(Agent& a);
  /// After spawn: true when the agent exited at start-up because an address was in use (not
  /// reaped); false once it logged "agent started", exited otherwise, or `timeout` passed.
  /// Reads its log from byte `log_from` on (this start's output).
  bool exited_address_in_use(Agent& a, std::size_t log_from, std::chrono::milliseconds timeout);

  std::string dir_, config_;
  std::vector<Agent> agents_;
};

}  // namespace vigil::e2e
