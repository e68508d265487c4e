#pragma once
// The default checker set of a Kubernetes node: enables only what it finds on this host and
// says why, so the agent can log every decision ("docker: enabled: /var/run/docker.sock is a
// socket"; "etcd: skipped: nothing answers on 127.0.0.1:2379").

#include <string>
#include <vector>

#include "checkers/check_spec.hpp"

namespace vigil::checkers {

struct DefaultSetOptions {
  /// Prefix of every host path looked at ("" in production; a temp dir in tests).
  std::string host_root;
  /// Include the mesh checkers (ping, time-drift): true in the agent, false for `vigil check`
  /// (no peers there).
  bool mesh = true;
  /// How long to wait for a local TCP port (kubelet 10248, etcd 2379) to accept a connection.
  Duration probe_timeout = std::chrono::milliseconds(300);
  /// Loopback ports probed for kubelet and etcd (tests move them).
  int kubelet_port = 10248;
  int etcd_port = 2379;
};

struct DefaultSet {
  std::vector<CheckSpec> specs;  ///< the enabled checkers, default configuration
  std::vector<std::string>
      reasons;  ///< one line per considered type: "<type>: enabled|skipped: why"
};

/// Looks at the host (sockets, files, loopback ports) and builds the default set.
DefaultSet default_checkers(const DefaultSetOptions& options = {});

}  // namespace vigil::checkers
