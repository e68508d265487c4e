#pragma once
// Agent: the composition root of `vigil agent`. Wires one io_context loop thread (gossip
// transport + Membership, signals), the HTTP server (its own bounded pool) and the snapshot
// hand-off between them. HTTP handlers never touch loop state: they read the MembersSnapshot
// the loop publishes after every membership change, or post a read to the loop and wait
// (bounded) for its copy.
//
// Lifecycle: construct with a validated AgentConfig, run() until SIGTERM/SIGINT, which
// broadcasts a graceful leave, waits a bounded time for it to spread, then returns 0.

#include <chrono>
#include <memory>

#include "agent/config.hpp"
#include "agent/logger.hpp"

namespace vigil::agent {

struct AgentOptions {
  /// Upper bound on the wait for the leave broadcast to spread after SIGTERM.
  std::chrono::milliseconds leave_timeout{2000};
  /// How long an HTTP handler waits for the loop to answer a read (e.g. /metrics).
  std::chrono::milliseconds loop_query_timeout{2000};
};

class Agent {
 public:
  /// `log` must outlive the Agent.
  Agent(AgentConfig config, Logger& log, AgentOptions options = {});
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  /// Binds gossip and HTTP, joins, runs the loop on the calling thread until a signal and
  /// the graceful leave. Returns the exit code (0). Throws std::runtime_error (one line)
  /// when binding fails, before anything is served.
  int run();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::agent
