// gossip::udp::Node in-process: two real nodes on 127.0.0.1 driven by one io_context.
#include "gossip/udp/node.hpp"

#include <doctest/doctest.h>

#include <asio.hpp>
#include <functional>

#include "test/skip.hpp"

using namespace vigil::gossip;
using namespace vigil::gossip::udp;
using namespace std::chrono_literals;

namespace {

GossipConfig fast() {
  GossipConfig c = GossipConfig::local();
  c.probe_interval = 200ms;
  c.probe_timeout = 80ms;
  c.gossip_interval = 50ms;
  c.stream_timeout = 1s;
  return c;
}

// Runs the loop until `pred` holds or 20 s pass.
bool run_until(asio::io_context& io, const std::function<bool()>& pred) {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    io.restart();
    io.run_for(10ms);
  }
  return true;
}

std::string state_of(const Node& n, const std::string& name) {
  const Member* m = n.membership().find(name);
  return m ? std::string(to_string(m->state)) : "";
}

NodeOptions opts(const std::optional<Keyring>& ring) {
  NodeOptions o;
  o.bind = "127.0.0.1:0";
  o.keyring = ring;
  o.join_retry_min = 100ms;
  o.seed = 1;
  return o;
}

}  // namespace

TEST_CASE("node: join, TCP garbage and oversize frames are counted, leave spreads") {
  asio::io_context io;
  Keyring ring({Keyring::generate_key()});
  std::vector<std::string> log_lines;
  LogFn log = [&](LogLevel, std::string_view msg, std::initializer_list<LogField>) {
    log_lines.emplace_back(msg);
  };
  Node a(io, fast(), LocalNode{"a", "", {}, 0}, opts(ring), log);
  Node b(io, fast(), LocalNode{"b", "", {}, 0}, opts(ring), log);
  std::vector<EventKind> b_events;
  b.set_event_handler([&](const std::vector<Event>& ev) {
    for (const auto& e : ev) b_events.push_back(e.kind);
  });
  a.start();
  b.start();
  CHECK(a.advertise_address() == a.bound_address());
  CHECK(a.advertise_address().rfind("127.0.0.1:", 0) == 0);
  b.join({a.advertise_address()});
  REQUIRE(
      run_until(io, [&] { return state_of(a, "b") == "alive" && state_of(b, "a") == "alive"; }));
  CHECK(b.joined());
  CHECK(std::find(b_events.begin(), b_events.end(), EventKind::joined) != b_events.end());

  // A raw TCP client: an oversize length prefix, then a frame no key opens.
  const auto port = static_cast<std::uint16_t>(std::stoi(a.bound_address().substr(10)));
  const auto oversize0 = a.transport_stats().oversize;
  const auto decrypt0 = a.transport_stats().decrypt_errors;
  {
    asio::ip::tcp::socket s(io);
    s.connect({asio::ip::make_address("127.0.0.1"), port});
    const std::uint8_t huge[4] = {0xff, 0xff, 0xff, 0xff};
    asio::write(s, asio::buffer(huge));
    REQUIRE(run_until(io, [&] { return a.transport_stats().oversize > oversize0; }));
  }
  {
    asio::ip::tcp::socket s(io);
    s.connect({asio::ip::make_address("127.0.0.1"), port});
    const std::uint8_t frame[4 + 40] = {0, 0, 0, 40, 1, 2, 3};
    asio::write(s, asio::buffer(frame));
    REQUIRE(run_until(io, [&] { return a.transport_stats().decrypt_errors > decrypt0; }));
  }
  CHECK(a.membership().size() == 2);
  CHECK(state_of(a, "b") == "alive");

  // Graceful leave: b sees a as left.
  bool left = false;
  a.leave(2s, [&] { left = true; });
  REQUIRE(run_until(io, [&] { return left; }));
  REQUIRE(run_until(io, [&] { return state_of(b, "a") == "left"; }));
  a.stop();
  b.stop();
}

TEST_CASE("node: a wrong key cannot join; join keeps retrying") {
  asio::io_context io;
  Node a(io, fast(), LocalNode{"a", "", {}, 0}, opts(Keyring({Keyring::generate_key()})), {});
  Node b(io, fast(), LocalNode{"b", "", {}, 0}, opts(Keyring({Keyring::generate_key()})), {});
  a.start();
  b.start();
  b.join({a.advertise_address()});
  REQUIRE(run_until(io, [&] {
    return b.transport_stats().join_attempts >= 3 && a.transport_stats().decrypt_errors >= 3;
  }));
  CHECK_FALSE(b.joined());
  CHECK_FALSE(a.joined());
  CHECK(a.membership().size() == 1);
  CHECK(b.membership().size() == 1);
}

TEST_CASE("node: bind errors are one-line exceptions") {
  asio::io_context io;
  NodeOptions o;
  o.bind = "not-an-ip:7946";
  Node n(io, fast(), LocalNode{"x", "", {}, 0}, o, {});
  CHECK_THROWS_AS(n.start(), std::runtime_error);

  Node a(io, fast(), LocalNode{"a", "", {}, 0}, opts(std::nullopt), {});
  a.start();
  NodeOptions same;
  same.bind = a.bound_address();
  Node clash(io, fast(), LocalNode{"c", "", {}, 0}, same, {});
  CHECK_THROWS_AS(clash.start(), std::runtime_error);
}

TEST_CASE("node: IPv6 loopback, and an IPv4 peer joining a dual-stack [::] node") {
  asio::io_context io;
  {
    std::error_code ec;
    asio::ip::udp::socket probe(io);
    probe.open(asio::ip::udp::v6(), ec);
    if (!ec) probe.bind({asio::ip::make_address("::1"), 0}, ec);
    if (ec) return vigil::test::skip("no IPv6 loopback here (" + ec.message() + ")");
  }
  NodeOptions o6 = opts(std::nullopt);
  o6.bind = "[::1]:0";
  Node a(io, fast(), LocalNode{"a6", "", {}, 0}, o6, {});
  Node b(io, fast(), LocalNode{"b6", "", {}, 0}, o6, {});
  a.start();
  b.start();
  CHECK(a.advertise_address().rfind("[::1]:", 0) == 0);
  b.join({a.advertise_address()});
  REQUIRE(
      run_until(io, [&] { return state_of(a, "b6") == "alive" && state_of(b, "a6") == "alive"; }));

  // Dual stack: bound on [::], advertised as 127.0.0.1; an IPv4-only peer joins it.
  NodeOptions dual = opts(std::nullopt);
  dual.bind = "[::]:0";
  dual.advertise = "127.0.0.1";  // port 0 = the bound port
  Node d(io, fast(), LocalNode{"dual", "", {}, 0}, dual, {});
  d.start();
  CHECK(d.advertise_address().rfind("127.0.0.1:", 0) == 0);
  Node v4(io, fast(), LocalNode{"v4", "", {}, 0}, opts(std::nullopt), {});
  v4.start();
  v4.join({d.advertise_address()});
  REQUIRE(run_until(
      io, [&] { return state_of(d, "v4") == "alive" && state_of(v4, "dual") == "alive"; }));
}
