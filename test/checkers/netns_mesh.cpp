#include "test/checkers/netns_mesh.hpp"

#include <unistd.h>

#include "test/checkers/subprocess.hpp"

namespace vigil::test {

NetnsMesh::NetnsMesh(int nodes) : nodes_(nodes) {
  prefix_ = "vgck" + std::to_string(::getpid());
  subnet_ = "10.200." + std::to_string(100 + ::getpid() % 100);
  subnet6_ = "fd00:200:" + std::to_string(100 + ::getpid() % 100) + ":";
  auto step = [&](const std::vector<std::string>& argv) {
    if (error_.empty()) error_ = run(argv);
  };
  step({"ip", "route", "replace", "blackhole", subnet_ + ".0/24"});  // the guards
  step({"ip", "-6", "route", "replace", "blackhole", subnet6_ + ":/64"});
  step({"ip", "netns", "add", prefix_ + "-sw"});
  step({"ip", "-n", prefix_ + "-sw", "link", "set", "lo", "up"});
  step({"ip", "-n", prefix_ + "-sw", "link", "add", "br0", "type", "bridge"});
  step({"ip", "-n", prefix_ + "-sw", "link", "set", "br0", "up"});
  for (int i = 1; i <= nodes_; ++i) {
    const std::string n = ns(i), v = "v" + std::to_string(i);
    step({"ip", "netns", "add", n});
    step({"ip", "-n", n, "link", "set", "lo", "up"});
    step({"ip", "-n", n, "link", "add", "eth0", "type", "veth", "peer", "name", v, "netns",
          prefix_ + "-sw"});
    step({"ip", "-n", prefix_ + "-sw", "link", "set", v, "master", "br0", "up"});
    step({"ip", "-n", n, "addr", "add", ip(i) + "/24", "dev", "eth0"});
    step({"ip", "-n", n, "addr", "add", ip6(i) + "/64", "dev", "eth0", "nodad"});
    step({"ip", "-n", n, "link", "set", "eth0", "up"});
    // Per namespace, default "1 0": unprivileged ICMP sockets denied even to root.
    step({"ip", "netns", "exec", n, "sysctl", "-qw", "net.ipv4.ping_group_range=0 2147483647"});
  }
}

NetnsMesh::~NetnsMesh() {
  for (int i = 1; i <= nodes_; ++i) run({"ip", "netns", "del", ns(i)});
  run({"ip", "netns", "del", prefix_ + "-sw"});
  run({"ip", "route", "del", "blackhole", subnet_ + ".0/24"});
  run({"ip", "-6", "route", "del", "blackhole", subnet6_ + ":/64"});
}

std::string NetnsMesh::ns(int i) const {
  return prefix_ + "-n" + std::to_string(i);
}
std::string NetnsMesh::ip(int i) const {
  return subnet_ + "." + std::to_string(i);
}
std::string NetnsMesh::ip6(int i) const {
  return subnet6_ + ":" + std::to_string(i);
}

std::string NetnsMesh::exec(int i, const std::vector<std::string>& argv) const {
  std::vector<std::string> full = {"ip", "netns", "exec", ns(i)};
  full.insert(full.end(), argv.begin(), argv.end());
  return run(full);
}

std::string NetnsMesh::cut(int i, bool down) const {
  return run(
      {"ip", "-n", prefix_ + "-sw", "link", "set", "v" + std::to_string(i), down ? "down" : "up"});
}

std::string NetnsMesh::set_bridge_mtu(int i, int mtu) const {
  return run({"ip", "-n", prefix_ + "-sw", "link", "set", "v" + std::to_string(i), "mtu",
              std::to_string(mtu)});
}

std::string NetnsMesh::run(const std::vector<std::string>& argv) const {
  RunResult r = run_cmd(argv, std::chrono::seconds(20));
  if (r.exit_code == 0) return {};
  std::string cmd;
  for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
  return cmd + ": exit " + std::to_string(r.exit_code) + ": " + r.output;
}

}  // namespace vigil::test
