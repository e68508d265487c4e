#pragma once
// containerd: the CRI RuntimeService over gRPC on the runtime's unix socket (Version, then
// Status). Each required condition (RuntimeReady, NetworkReady) that is false fails the probe
// (critical) with the runtime's reason and message; a missing or broken CNI config shows up
// here as NetworkReady=false (NetworkPluginNotReady: cni plugin not initialized).
// Works with any CRI runtime that serves runtime.v1 (containerd >= 1.6, CRI-O).
// The gRPC exchange runs in the `vigil-cri` helper process (checkers/cri_process.hpp), so the
// agent itself does not load gRPC, protobuf and abseil (~6 MiB resident) for one checker.
//
// Config (CheckSpec keys besides the common ones):
//   socket      CRI unix socket. Default "/run/containerd/containerd.sock" (under
//               CheckerContext::host_root).
//   conditions  condition types that must be true. Default ["RuntimeReady", "NetworkReady"].
//               A condition the runtime does not report counts as failed.

#include <string>
#include <vector>

#include "checkers/checker.hpp"
#include "checkers/registry.hpp"

namespace vigil::checkers {

struct ContainerdConfig {
  std::string socket = "/run/containerd/containerd.sock";                  ///< CRI unix socket
  std::vector<std::string> conditions = {"RuntimeReady", "NetworkReady"};  ///< must be true
};

class ContainerdChecker final : public Checker {
 public:
  ContainerdChecker(std::string name, ContainerdConfig config);

  // Checker
  Probe run(const CheckContext& ctx, Deadline deadline) override;

 private:
  ContainerdConfig config_;
};

/// Factory for the registry (type "containerd").
MakeResult make_containerd_checker(const CheckSpec& spec, CheckerContext& ctx);

}  // namespace vigil::checkers
