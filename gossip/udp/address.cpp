#include "gossip/udp/address.hpp"

#include <arpa/inet.h>

#include <charconv>

namespace vigil::gossip::udp {

std::optional<HostPort> split_host_port(std::string_view text, std::uint16_t default_port) {
  HostPort hp;
  hp.port = default_port;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    hp.host = std::string(text.substr(1, close - 1));
    auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      port_text = rest.substr(1);
      if (port_text.empty()) return std::nullopt;
    }
  } else {
    auto first = text.find(':');
    if (first != std::string_view::npos && text.find(':', first + 1) != std::string_view::npos) {
      hp.host = std::string(text);  // bare IPv6 literal, no port
    } else if (first != std::string_view::npos) {
      hp.host = std::string(text.substr(0, first));
      port_text = text.substr(first + 1);
      if (port_text.empty()) return std::nullopt;
    } else {
      hp.host = std::string(text);
    }
  }
  if (hp.host.empty()) return std::nullopt;
  if (!port_text.empty()) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), v);
    if (ec != std::errc() || p != port_text.data() + port_text.size() || v > 65535) {
      return std::nullopt;
    }
    hp.port = static_cast<std::uint16_t>(v);
  }
  return hp;
}

std::string join_host_port(std::string_view host, std::uint16_t port) {
  std::string out;
  if (host.find(':') != std::string_view::npos) {
    out.append("[").append(host).append("]");
  } else {
    out.append(host);
  }
  out.append(":").append(std::to_string(port));
  return out;
}

bool is_ip_literal(std::string_view host) {
  std::string h(host);
  unsigned char buf[16];
  return inet_pton(AF_INET, h.c_str(), buf) == 1 || inet_pton(AF_INET6, h.c_str(), buf) == 1;
}

}  // namespace vigil::gossip::udp
