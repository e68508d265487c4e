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
#include <functional>
#include <memory>
#include <vector>

#include "agent/config.hpp"
#include "agent/logger.hpp"
#include "gossip/delegate.hpp"
#include "gossip/events.hpp"

namespace asio {
class io_context;
}
namespace vigil::api {
class HttpServer;
class MetricsText;
}  // namespace vigil::api
namespace vigil::gossip::udp {
class Node;
}

namespace vigil::agent {

/// What an extension may use. References stay valid until the Agent is destroyed.
struct AgentContext {
  asio::io_context& io;     ///< the loop; post work here from other threads
  gossip::udp::Node& node;  ///< loop thread only (membership(), queue_broadcast...)
  const AgentConfig& config;
  Logger& log;
  /// Call on the loop thread after changing state an HTTP snapshot is built from.
  std::function<void()> publish;
};

/// A module wired into the agent (status layer, checkers, history...). Every method is called
/// on the loop thread unless stated, must not block, and must not throw once running.
class AgentExtension {
 public:
  virtual ~AgentExtension() = default;
  /// Before the gossip node exists: the Membership's delegate. At most one extension may
  /// return non-null. Not owned: the extension outlives the node. Main thread.
  virtual gossip::Delegate* delegate() { return nullptr; }
  /// Registers HTTP routes before the server starts. Handlers run on HTTP threads: they must
  /// read published snapshots only. Main thread; may throw (startup).
  virtual void register_routes(api::HttpServer& http) { (void)http; }
  /// The node is up (bound, joined in the background): start timers, schedulers. May throw.
  virtual void start(AgentContext& ctx) { (void)ctx; }
  /// Membership events of one input, after the agent logged them.
  virtual void on_events(const std::vector<gossip::Event>& events) { (void)events; }
  /// A fresh snapshot is being published (after events, on publish()): publish yours too.
  virtual void on_publish() {}
  /// Appends metric families to a /metrics scrape (runs on the loop thread per scrape).
  virtual void write_metrics(api::MetricsText& out) { (void)out; }
  /// Shutdown began (SIGTERM): stop scheduling work; the leave broadcast follows.
  virtual void stop() {}
};

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

  /// Adds a module (before run()). Extensions are started in the order added.
  void add_extension(std::unique_ptr<AgentExtension> ext);

  /// Binds gossip and HTTP, joins, runs the loop on the calling thread until a signal and
  /// the graceful leave. Returns the exit code (0). Throws std::runtime_error (one line)
  /// when binding fails, before anything is served.
  int run();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::agent
