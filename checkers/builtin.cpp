// register_builtin_checkers: the plain list of builtin checker types. Add a line per type;
// each factory is declared in its checker's header.
#include "checkers/registry.hpp"

#include "checkers/containerd.hpp"
#include "checkers/docker.hpp"
#include "checkers/ping.hpp"
#include "checkers/systemd.hpp"
#include "checkers/time_drift.hpp"

namespace vigil::checkers {

void register_builtin_checkers(CheckerRegistry& registry) {
  (void)registry;
  // One line per builtin checker type, e.g.:
  // registry.add("etcd", make_etcd_checker);
  registry.add("docker", make_docker_checker);
  registry.add("containerd", make_containerd_checker);
  registry.add("systemd", make_systemd_checker);
  registry.add("ping", make_ping_checker);
  registry.add("time-drift", make_time_drift_checker);
}

}  // namespace vigil::checkers
