#pragma once
// tcp: connects to host:port and reports the connect time.
//   {"type": "tcp", "name": "kube-proxy", "address": "127.0.0.1:10256", "warn_latency": "200ms"}

#include <string>

#include "checkers/registry.hpp"

namespace vigil::checkers {

struct TcpConfig {
  /// "host:port" or "[v6]:port" to connect to. Required. Names resolve through the system
  /// resolver within the timeout.
  std::string address;
  /// A connect slower than this is a warning failure. Default 0: no latency check.
  Duration warn_latency{};
};

/// Factory of the `tcp` type.
MakeResult make_tcp_checker(const CheckSpec& spec, CheckerContext& ctx);

}  // namespace vigil::checkers
