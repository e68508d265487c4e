#pragma once
// docker: the Docker Engine API over its unix socket.
//   GET /_ping                                         -> the daemon answers (else critical)
//   GET /info                                          -> version, containers, storage driver
//   GET /containers/json?filters={"health":["unhealthy"]} -> unhealthy containers (warning)
//
// Config (CheckSpec keys besides the common ones):
//   socket        path of the Engine API unix socket. Default "/var/run/docker.sock" (under
//                 CheckerContext::host_root).
//   check_health  report containers whose healthcheck says `unhealthy` as a warning naming
//                 them. Default true.

#include <memory>
#include <string>

#include "checkers/checker.hpp"
#include "checkers/registry.hpp"

namespace vigil::checkers {

struct DockerConfig {
  std::string socket = "/var/run/docker.sock";  ///< Engine API unix socket
  bool check_health = true;                     ///< warn about unhealthy containers
};

class DockerChecker final : public Checker {
 public:
  DockerChecker(std::string name, DockerConfig config);

  // Checker
  Probe run(const CheckContext& ctx, Deadline deadline) override;

 private:
  DockerConfig config_;
};

/// Factory for the registry (type "docker").
MakeResult make_docker_checker(const CheckSpec& spec, CheckerContext& ctx);

}  // namespace vigil::checkers
