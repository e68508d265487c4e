#pragma once
// Parsing and formatting of "host:port" transport addresses ("10.0.0.1:7946",
// "[fd00::1]:7946", "node-1.vigil.svc:7946"). No I/O; no Asio in this header.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::gossip::udp {

struct HostPort {
  std::string host;  ///< without brackets ("::1", "10.0.0.1", "vigil.kube-system.svc")
  std::uint16_t port = 0;
};

/// Splits "host:port", "[v6]:port", "host", "[v6]" or a bare IPv6 literal ("fd00::1").
/// A missing port becomes `default_port`. nullopt on an empty host or a bad port.
std::optional<HostPort> split_host_port(std::string_view text, std::uint16_t default_port);

/// "host:port", with brackets around an IPv6 host: "[::1]:7946".
std::string join_host_port(std::string_view host, std::uint16_t port);

/// True when `host` is a numeric IPv4 or IPv6 address (no DNS needed).
bool is_ip_literal(std::string_view host);

}  // namespace vigil::gossip::udp
