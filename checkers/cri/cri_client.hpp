#pragma once
// A minimal CRI (Kubernetes Container Runtime Interface) client: RuntimeService.Version and
// RuntimeService.Status of package runtime.v1 over the runtime's unix socket. No gRPC or
// protobuf header leaks out of this file; the containerd checker sees plain structs only.

#include <chrono>
#include <string>
#include <vector>

namespace vigil::checkers::cri {

/// One RuntimeCondition of CRI StatusResponse (e.g. RuntimeReady, NetworkReady).
struct Condition {
  std::string type;     ///< "RuntimeReady", "NetworkReady", or runtime specific
  bool status = false;  ///< true when the condition holds
  std::string reason;   ///< CamelCase reason of the last transition ("NetworkPluginNotReady")
  std::string message;  ///< human-readable detail of the last transition
};

/// The answer of one Version + Status exchange, or the error that prevented it.
struct StatusResult {
  bool ok = false;                    ///< both calls answered (conditions may still be false)
  std::string error;                  ///< when !ok: "Status: UNAVAILABLE: <grpc message>"
  std::string runtime_name;           ///< from Version (empty when Version failed)
  std::string runtime_version;        ///< from Version
  std::vector<Condition> conditions;  ///< from Status, in the runtime's order
};

/// Asks the CRI endpoint at `socket_path` (a unix socket path, "/run/containerd/containerd.sock")
/// for its version and status. Blocks the calling thread; both calls carry `deadline`, so it
/// returns by then (plus scheduling slack) whether the runtime answers or not. Thread-safe:
/// each call uses its own channel. Never throws.
StatusResult query_status(const std::string& socket_path,
                          std::chrono::steady_clock::time_point deadline);

}  // namespace vigil::checkers::cri
