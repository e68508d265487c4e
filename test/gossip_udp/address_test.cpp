#include "gossip/udp/address.hpp"

#include <doctest/doctest.h>

using namespace vigil::gossip::udp;

TEST_CASE("split_host_port table") {
  struct Row {
    const char* in;
    bool ok;
    const char* host;
    int port;
  } rows[] = {
      {"10.0.0.1:7000", true, "10.0.0.1", 7000},
      {"10.0.0.1", true, "10.0.0.1", 7946},
      {"[::1]:8000", true, "::1", 8000},
      {"[fd00::5]", true, "fd00::5", 7946},
      {"fd00::5", true, "fd00::5", 7946},
      {"vigil.kube-system.svc:7946", true, "vigil.kube-system.svc", 7946},
      {"node-1", true, "node-1", 7946},
      {"", false, "", 0},
      {":7946", false, "", 0},
      {"host:", false, "", 0},
      {"host:99999", false, "", 0},
      {"host:12ab", false, "", 0},
      {"[::1", false, "", 0},
      {"[::1]x", false, "", 0},
  };
  for (const Row& r : rows) {
    CAPTURE(r.in);
    auto hp = split_host_port(r.in, 7946);
    REQUIRE(hp.has_value() == r.ok);
    if (r.ok) {
      CHECK(hp->host == r.host);
      CHECK(hp->port == r.port);
    }
  }
}

TEST_CASE("join_host_port brackets IPv6") {
  CHECK(join_host_port("10.0.0.1", 7946) == "10.0.0.1:7946");
  CHECK(join_host_port("::1", 7946) == "[::1]:7946");
  CHECK(is_ip_literal("::1"));
  CHECK(is_ip_literal("127.0.0.1"));
  CHECK_FALSE(is_ip_literal("localhost"));
}
