// gossip::udp::Node's stream frames read in chunks: a push-pull frame far larger than one
// read chunk (64 KiB), written by a raw client in pieces with pauses, is read whole, merged
// and answered. (A frame is no longer allocated at its announced size up front: see
// read_frame in node_stream.cpp and test/e2e/flood_test.cpp.)
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <asio.hpp>
#include <atomic>
#include <functional>
#include <thread>

#include "gossip/codec.hpp"
#include "gossip/udp/node.hpp"

using namespace vigil::gossip;
using namespace vigil::gossip::udp;
using namespace std::chrono_literals;

TEST_CASE("node: a push-pull frame of several read chunks, sent in pieces, is merged") {
  asio::io_context io;
  GossipConfig cfg = GossipConfig::local();
  cfg.stream_timeout = 10s;
  NodeOptions o;
  o.bind = "127.0.0.1:0";
  o.seed = 1;
  Node a(io, cfg, LocalNode{"a", "", {}, 0}, o, {});
  a.start();
  const int port = std::stoi(a.bound_address().substr(10));

  codec::PushPull pp;
  pp.join = true;
  constexpr int kNodes = 5000;
  for (int i = 0; i < kNodes; ++i) {
    const std::string name = "peer-" + std::to_string(i);
    pp.nodes.push_back({name,
                        "10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ":7946",
                        1,
                        MemberState::alive,
                        {{"role", "worker"}, {"zone", "zone-a"}}});
  }
  const Bytes body = codec::encode_frame(pp);
  REQUIRE(body.size() > 3 * 64 * 1024);  // several read chunks
  Bytes wire = {std::uint8_t(body.size() >> 24), std::uint8_t(body.size() >> 16),
                std::uint8_t(body.size() >> 8), std::uint8_t(body.size())};
  wire.insert(wire.end(), body.begin(), body.end());

  std::atomic<bool> done{false};
  std::atomic<long> reply_len{-1};
  std::thread client([&] {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    timeval tv{10, 0};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
      // Uneven pieces: a split header, then pieces that straddle the chunk boundaries.
      std::size_t off = 0;
      for (std::size_t piece : {std::size_t{2}, std::size_t{5}, std::size_t{70000}}) {
        off += static_cast<std::size_t>(send(s, wire.data() + off, piece, MSG_NOSIGNAL));
        std::this_thread::sleep_for(50ms);
      }
      while (off < wire.size()) {
        const ssize_t n = send(s, wire.data() + off,
                               std::min<std::size_t>(wire.size() - off, 50000), MSG_NOSIGNAL);
        if (n <= 0) break;
        off += static_cast<std::size_t>(n);
        std::this_thread::sleep_for(10ms);
      }
      std::uint8_t h[4];
      if (recv(s, h, 4, MSG_WAITALL) == 4) {
        reply_len = (long(h[0]) << 24) | (long(h[1]) << 16) | (long(h[2]) << 8) | long(h[3]);
      }
    }
    close(s);
    done = true;
  });
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!done && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.run_for(10ms);
  }
  client.join();
  CHECK(reply_len > 0);
  CHECK(a.membership().size() == kNodes + 1);
  CHECK(a.transport_stats().oversize == 0);
  a.stop();
}
