#pragma once
// NetnsMesh: N network namespaces <prefix>-n1..nN with eth0 = <subnet>.i/24, all on a bridge
// inside namespace <prefix>-sw; the pattern of scripts/netns-mesh.sh, owned by one test.
// Each node also has <subnet6>::i/64 (fd00:200:<x>::i, no DAD so it is usable at once).
// The only changes to the root namespace are blackhole routes for both subnets, so a client
// started outside the namespaces by mistake fails locally instead of leaving the machine.
// Everything is removed in the destructor. Root only.

#include <string>
#include <vector>

namespace vigil::test {

class NetnsMesh {
 public:
  /// Names derive from our PID; the subnet is 10.200.<100 + pid % 100>.0/24.
  explicit NetnsMesh(int nodes);
  ~NetnsMesh();
  NetnsMesh(const NetnsMesh&) = delete;
  NetnsMesh& operator=(const NetnsMesh&) = delete;

  /// True when every step of the setup worked; error() says which did not.
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  /// Namespace of node i (1-based), e.g. "vgck1234-n2".
  std::string ns(int i) const;
  /// Address of node i, e.g. "10.200.134.2".
  std::string ip(int i) const;
  /// IPv6 address of node i, e.g. "fd00:200:134::2".
  std::string ip6(int i) const;
  /// Runs a command inside node i's namespace (`ip netns exec`); returns "" or the error output.
  std::string exec(int i, const std::vector<std::string>& argv) const;
  /// Takes node i's link on the bridge down (true) or up (false).
  std::string cut(int i, bool down) const;
  /// MTU of node i's port on the bridge (its veth's bridge-side end): frames larger than it
  /// are dropped silently both ways, while node i's own eth0 keeps its MTU (an MTU blackhole).
  std::string set_bridge_mtu(int i, int mtu) const;

 private:
  std::string run(const std::vector<std::string>& argv) const;

  std::string prefix_;
  std::string subnet_;   ///< "10.200.134"
  std::string subnet6_;  ///< "fd00:200:134:"
  int nodes_;
  std::string error_;
};

}  // namespace vigil::test
