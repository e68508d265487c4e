// register_builtin_checkers: the plain list of builtin checker types. Add a line per type;
// each factory is declared in its checker's header.
#include "checkers/registry.hpp"

#include "checkers/apiserver.hpp"
#include "checkers/containerd.hpp"
#include "checkers/disk.hpp"
#include "checkers/dns.hpp"
#include "checkers/docker.hpp"
#include "checkers/etcd.hpp"
#include "checkers/exec.hpp"
#include "checkers/http.hpp"
#include "checkers/kubelet.hpp"
#include "checkers/ping.hpp"
#include "checkers/systemd.hpp"
#include "checkers/tcp.hpp"
#include "checkers/time_drift.hpp"

namespace vigil::checkers {

void register_builtin_checkers(CheckerRegistry& registry) {
  registry.add("etcd", make_etcd_checker);
  registry.add("apiserver", make_apiserver_checker);
  registry.add("kubelet", make_kubelet_checker);
  registry.add("tcp", make_tcp_checker);
  registry.add("http", make_http_checker);
  registry.add("dns", make_dns_checker);
  registry.add("disk", make_disk_checker);
  registry.add("exec", make_exec_checker);
  registry.add("docker", make_docker_checker);
  registry.add("containerd", make_containerd_checker);
  registry.add("systemd", make_systemd_checker);
  registry.add("ping", make_ping_checker);
  registry.add("time-drift", make_time_drift_checker);
}

}  // namespace vigil::checkers
