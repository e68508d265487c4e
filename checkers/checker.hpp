#pragma once
// The one checker interface. A Checker is a one-shot, blocking probe of one thing (a socket, an
// endpoint, a path, a script) that returns a Probe. Interval, stagger, timeout enforcement,
// thresholds and output caps live once, in the Scheduler (checkers/scheduler.hpp).

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "checkers/deadline.hpp"
#include "checkers/probe.hpp"

namespace vigil::checkers {

/// One peer of the mesh as the checkers see it (a snapshot taken on the loop thread).
struct PeerInfo {
  std::string name;  ///< node name
  std::string ip;    ///< IP address of the node (no port), e.g. "10.0.0.12" or "fd00::3"
  std::string zone;  ///< value of the `zone` tag, empty when untagged
  std::vector<std::pair<std::string, std::string>> tags;  ///< all tags, sorted by key
};

/// One peer's clock offset as measured by gossip (timestamps carried on probe acks).
struct PeerClockOffset {
  std::string peer;                   ///< node name
  std::chrono::nanoseconds offset{};  ///< peer clock minus local clock (positive: peer ahead)
  Duration rtt{};                     ///< RTT of the exchange the offset came from (error bound)
  int samples = 0;                    ///< number of samples behind `offset`
  TimePoint measured_at{};            ///< local steady time of the latest sample
};

/// Source of per-peer clock offsets (implemented by the agent on top of gossip).
/// Thread-safety: offsets() is called from pool threads while the loop runs, so an
/// implementation must be thread-safe (e.g. return a copy of a snapshot published by the loop).
class PeerClock {
 public:
  virtual ~PeerClock() = default;
  /// The latest known offset of every peer that has one.
  virtual std::vector<PeerClockOffset> offsets() const = 0;
};

/// What a checker may know about the agent for one run. Built on the loop thread right before
/// a run and passed by const reference to the pool thread: every member is an immutable
/// snapshot (or thread-safe), so a checker never touches shared mutable state.
struct CheckContext {
  using PeerList = std::shared_ptr<const std::vector<PeerInfo>>;

  std::string node_name;                          ///< the local node's name
  PeerList peers;                                 ///< other members (alive/suspect); may be null
  std::shared_ptr<const PeerClock> peer_clock;    ///< may be null (no gossip, `vigil check`)
  std::shared_ptr<const std::atomic<bool>> stop;  ///< set when the agent shuts down; may be null

  /// The peer list, empty when there is none.
  const std::vector<PeerInfo>& peer_list() const {
    static const std::vector<PeerInfo> empty;
    return peers ? *peers : empty;
  }
  /// True once the owner asked everything to stop: a checker should return promptly.
  bool stopping() const { return stop && stop->load(std::memory_order_relaxed); }
};

/// A configured checker instance. Lifecycle: built by a factory (CheckerRegistry) on the loop
/// thread, then run() is called on a pool thread, never concurrently with itself (the
/// Scheduler does not overlap runs of one checker), and destroyed on the loop thread after its
/// last run returned.
class Checker {
 public:
  Checker(std::string type, std::string name) : type_(std::move(type)), name_(std::move(name)) {}
  virtual ~Checker() = default;
  Checker(const Checker&) = delete;
  Checker& operator=(const Checker&) = delete;

  /// The checker type, e.g. "etcd" (the key in the registry).
  const std::string& type() const { return type_; }
  /// The instance name (CheckSpec::name; defaults to the type), unique within one agent.
  const std::string& name() const { return name_; }

  /// Runs one probe. Blocking; called on a pool thread. Must return by `deadline` (socket
  /// timeouts, poll() with deadline.remaining_ms(), killing children...) and must not touch
  /// state shared with other threads. A failure is data (a failed Probe), never an exception.
  virtual Probe run(const CheckContext& ctx, Deadline deadline) = 0;

 private:
  std::string type_;
  std::string name_;
};

}  // namespace vigil::checkers
