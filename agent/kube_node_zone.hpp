#pragma once
// KubeNodeZone: an AgentExtension that fills in this node's `zone` tag from its Kubernetes
// Node (kube_node.hpp) when no zone tag is configured. The lookup runs on its own thread (it
// blocks on HTTPS); the result is posted to the loop, which sets the tag
// (Membership::set_tags: it spreads to every peer with the next gossip, and the peer and zone
// metrics use it from then on). While the API server cannot be reached it retries with
// backoff (2 s doubling to 60 s); an answer that retrying cannot change (403, 404, a Node
// without the label) ends it with one warning. A failure is never fatal: the agent runs on
// without a zone.
//
// Lifecycle: start() spawns the thread; stop() wakes it (without waiting), the destructor
// joins it (at most one request timeout).

#include <chrono>
#include <memory>
#include <optional>

#include "agent/agent.hpp"
#include "agent/config.hpp"
#include "agent/kube_node.hpp"
#include "agent/logger.hpp"

namespace vigil::agent {

struct KubeNodeZoneOptions {
  KubeApiOptions api;
  /// First retry delay after an unreachable API server; doubles up to max_backoff.
  std::chrono::milliseconds min_backoff{2000};
  std::chrono::milliseconds max_backoff{60000};
};

/// The extension for `config`, or nullptr when it has nothing to do: the config sets a zone
/// tag, or `options` is nullopt (not in a pod; the caller passes
/// KubeApiOptions::in_cluster()). `log` must outlive it.
std::unique_ptr<AgentExtension> make_kube_node_zone(const AgentConfig& config, Logger& log,
                                                    std::optional<KubeNodeZoneOptions> options);
/// The same with the in-cluster API (KubeApiOptions::in_cluster()).
std::unique_ptr<AgentExtension> make_kube_node_zone(const AgentConfig& config, Logger& log);

}  // namespace vigil::agent
