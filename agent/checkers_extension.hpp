#pragma once
// CheckersExtension: runs the configured checkers (the agent config's `checkers` array, or the
// default set detected on this host) on the checkers::Scheduler, off the loop thread, and
// feeds every result into the status layer's HealthState (which gossips it), together with
// the peer list (ping) and the gossip peer clock (time-drift).

#include <memory>

#include "agent/agent.hpp"
#include "agent/config.hpp"
#include "agent/logger.hpp"

namespace vigil::agent {

class StatusExtension;

/// Builds the checkers of `config` (validated here: a bad `checkers` section throws
/// ConfigError with one line, before anything starts). `status` and `log` must outlive it.
std::unique_ptr<AgentExtension> make_checkers_extension(const AgentConfig& config,
                                                        StatusExtension& status, Logger& log);

}  // namespace vigil::agent
