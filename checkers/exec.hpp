#pragma once
// exec: runs a user's script. Exit 0: running; exit 1: warning failure; any other exit, a
// signal, or a timeout: critical failure (the Nagios/Consul convention). stdout and stderr are
// captured together, capped (the rest is read and discarded), and returned as the detail; the
// last output line is quoted in the error. The script runs in its own process group, which is
// killed (SIGKILL) when the run's deadline is near and after the script exits, so neither a
// hanging script nor its background children outlive the run.
//   {"type": "exec", "name": "ntp-sync", "command": ["/usr/local/bin/check-ntp", "-w", "100"],
//    "timeout": "10s", "interval": "60s", "env": {"LANG": "C"}}

#include <string>
#include <utility>
#include <vector>

#include "checkers/registry.hpp"

namespace vigil::checkers {

struct ExecConfig {
  /// The program and its arguments as an array (argv, no shell), or a string run with
  /// `/bin/sh -c`.
  /// Required. A relative program name is searched in $PATH.
  std::vector<std::string> argv;
  /// Extra environment variables, added to the agent's environment. Default none.
  std::vector<std::pair<std::string, std::string>> env;
  /// Working directory. Default "": the agent's.
  std::string workdir;
  /// Bytes of output kept. Default 4096.
  std::size_t output_limit = 4096;
};

/// Result of one script run (exposed for tests).
struct ExecResult {
  int pid = 0;             ///< the script's PID (= its process group)
  int exit_code = -1;      ///< exit status, -1 when killed by a signal or not started
  int signal = 0;          ///< terminating signal, 0 when it exited
  bool timed_out = false;  ///< killed at the deadline
  std::string output;      ///< stdout+stderr, capped
  std::string error;       ///< could not start (fork/exec failure)
};

/// Runs `cfg` until exit or `deadline` (then kills the whole process group).
ExecResult run_exec(const ExecConfig& cfg, Deadline deadline);

/// Factory of the `exec` type.
MakeResult make_exec_checker(const CheckSpec& spec, CheckerContext& ctx);

}  // namespace vigil::checkers
