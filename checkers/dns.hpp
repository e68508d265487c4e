#pragma once
// dns: resolves a name through the node's resolver (getaddrinfo, i.e. /etc/resolv.conf and
// nsswitch) or directly through a given server over UDP (a minimal DNS client: A/AAAA query,
// retransmitted every second until the deadline). NXDOMAIN, SERVFAIL, no answer, a refused
// or silent server, or a missing expected address are critical.
//   {"type": "dns", "query": "kubernetes.default.svc.cluster.local", "server": "10.96.0.10:53"}

#include <string>
#include <vector>

#include "checkers/registry.hpp"

namespace vigil::checkers {

struct DnsConfig {
  /// The name to resolve. Default "kubernetes.default.svc.cluster.local".
  std::string query = "kubernetes.default.svc.cluster.local";
  /// "ip[:port]" of the DNS server to ask directly (port 53 by default). Default "": the
  /// node's resolver.
  std::string server;
  /// "A" or "AAAA". Default "A".
  std::string record_type = "A";
  /// Addresses that must all be among the answers. Default none.
  std::vector<std::string> expect;
  /// An answer slower than this is a warning failure. Default 0: no latency check.
  Duration warn_latency{};
};

/// Result of one direct query (exposed for tests).
struct DnsAnswer {
  int rcode = -1;                  ///< 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, 5 REFUSED; -1 none
  std::vector<std::string> addrs;  ///< A/AAAA answers, numeric
  std::string error;               ///< transport error ("timed out", "Connection refused")
};

/// Sends one query for `name` (qtype 1 = A, 28 = AAAA) to `ip`:`port` over UDP until the
/// deadline.
DnsAnswer dns_query(const std::string& ip, int port, const std::string& name, int qtype,
                    Deadline deadline);

/// "NOERROR", "NXDOMAIN", ... for a response code.
std::string dns_rcode_name(int rcode);

/// Factory of the `dns` type.
MakeResult make_dns_checker(const CheckSpec& spec, CheckerContext& ctx);

}  // namespace vigil::checkers
