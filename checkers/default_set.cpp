#include "checkers/default_set.hpp"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "checkers/net.hpp"

namespace vigil::checkers {

namespace {

using nlohmann::json;

#ifdef VIGIL_NO_CRI_HELPER
constexpr bool kHaveCriHelper = false;  // built with VIGIL_CRI=OFF: no vigil-cri next to vigil
#else
constexpr bool kHaveCriHelper = true;
#endif

bool is_socket(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
}
bool is_file(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}
bool is_dir(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}
bool port_open(int port, Duration timeout) {
  std::string err;
  return static_cast<bool>(
      net::tcp_connect("127.0.0.1", std::to_string(port), Deadline::in(timeout), err));
}
std::string read_file(const std::string& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

DefaultSet default_checkers(const DefaultSetOptions& o) {
  DefaultSet out;
  const std::string& root = o.host_root;
  auto add = [&](json spec, std::string reason) {
    auto r = parse_check_spec(spec);
    if (!r.error.empty()) return;  // cannot happen for the literals below
    out.reasons.push_back(r.spec.name + ": enabled: " + reason);
    out.specs.push_back(std::move(r.spec));
  };
  auto skip = [&](const std::string& type, const std::string& reason) {
    out.reasons.push_back(type + ": skipped: " + reason);
  };

  // Container runtimes.
  std::string docker = root + "/var/run/docker.sock";
  if (is_socket(docker))
    add({{"type", "docker"}, {"socket", docker}}, docker + " is a socket");
  else
    skip("docker", "no socket at " + docker);
  std::string cri;
  for (const char* p : {"/run/containerd/containerd.sock", "/var/run/containerd/containerd.sock",
                        "/run/crio/crio.sock", "/var/run/crio/crio.sock"})
    if (cri.empty() && is_socket(root + p)) cri = root + p;
  if (!cri.empty() && !kHaveCriHelper)
    skip("containerd",
         "CRI socket " + cri +
             ", but this vigil was built without the vigil-cri helper (VIGIL_CRI=OFF)");
  else if (!cri.empty())
    add({{"type", "containerd"}, {"socket", cri}}, "CRI socket " + cri);
  else
    skip("containerd", "no CRI socket (containerd, cri-o) under /run");

  // Kubernetes control plane and node agent.
  std::string token = root + "/var/run/secrets/kubernetes.io/serviceaccount/token";
  if (is_file(token)) {
    json spec = {{"type", "apiserver"},
                 {"token_file", token},
                 {"ca_file", root + "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"}};
    add(spec, "service-account token " + token);
  } else {
    skip("apiserver", "no service-account token at " + token);
  }
  if (port_open(o.kubelet_port, o.probe_timeout))
    add({{"type", "kubelet"},
         {"url", "http://127.0.0.1:" + std::to_string(o.kubelet_port) + "/healthz"}},
        "127.0.0.1:" + std::to_string(o.kubelet_port) + " answers");
  else
    skip("kubelet", "nothing answers on 127.0.0.1:" + std::to_string(o.kubelet_port));
  std::string etcd_pki = root + "/etc/kubernetes/pki/etcd";
  std::string etcd_ep = "127.0.0.1:" + std::to_string(o.etcd_port);
  if (is_file(etcd_pki + "/healthcheck-client.crt")) {
    add({{"type", "etcd"},
         {"endpoints", json::array({"https://" + etcd_ep})},
         {"ca_file", etcd_pki + "/ca.crt"},
         {"cert_file", etcd_pki + "/healthcheck-client.crt"},
         {"key_file", etcd_pki + "/healthcheck-client.key"}},
        "kubeadm etcd client certificate in " + etcd_pki);
  } else if (port_open(o.etcd_port, o.probe_timeout)) {
    add({{"type", "etcd"}, {"endpoints", json::array({"http://" + etcd_ep})}},
        etcd_ep + " answers");
  } else {
    skip("etcd", "no kubeadm etcd certificate and nothing answers on " + etcd_ep);
  }

  // Cluster DNS, when this host resolves cluster names (a pod, or a hostNetwork pod with
  // dnsPolicy ClusterFirstWithHostNet).
  std::string resolv = read_file(root + "/etc/resolv.conf");
  if (resolv.find("svc.cluster.local") != std::string::npos)
    add({{"type", "dns"}, {"query", "kubernetes.default.svc.cluster.local"}},
        "/etc/resolv.conf searches svc.cluster.local");
  else
    skip("dns", "/etc/resolv.conf does not search svc.cluster.local");

  // systemd over the system bus.
  const char* bus_env = std::getenv("DBUS_SYSTEM_BUS_ADDRESS");
  std::string bus = root + "/run/dbus/system_bus_socket";
  if (bus_env && *bus_env)
    add({{"type", "systemd"}}, std::string("DBUS_SYSTEM_BUS_ADDRESS=") + bus_env);
  else if (is_socket(bus))
    add({{"type", "systemd"}}, "system bus socket " + bus);
  else
    skip("systemd", "no system bus socket at " + bus);

  // Disks.
  // "/" always, "/var" (images, logs, etcd data) when it is a separate filesystem.
  std::string slash = root.empty() ? "/" : root;
  json paths = json::array({slash});
  struct stat s_root {
  }, s_var{};
  if (is_dir(root + "/var") && ::stat(slash.c_str(), &s_root) == 0 &&
      ::stat((root + "/var").c_str(), &s_var) == 0 && s_root.st_dev != s_var.st_dev)
    paths.push_back(root + "/var");
  add({{"type", "disk"}, {"paths", paths}}, "always (" + paths.dump() + ")");

  if (o.mesh) {
    add({{"type", "ping"}}, "mesh member");
    add({{"type", "time-drift"}}, "mesh member");
  } else {
    skip("ping", "no mesh (vigil check)");
    skip("time-drift", "no mesh (vigil check)");
  }
  return out;
}

}  // namespace vigil::checkers
