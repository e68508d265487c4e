#pragma once
// Private to gossip/udp: the state behind gossip::udp::Node, shared by node.cpp (UDP, timer,
// join, leave) and node_stream.cpp (TCP streams). Includes Asio: never include it elsewhere.

#include <asio.hpp>
#include <map>
#include <set>

#include "gossip/udp/node.hpp"

namespace vigil::gossip::udp {

/// An outbound stream exchange in flight.
struct OutStream {
  explicit OutStream(asio::io_context& io) : socket(io), timer(io) {}
  asio::ip::tcp::socket socket;
  asio::steady_timer timer;
  StreamRequest req;
  std::uint8_t header[4]{};
  Bytes frame;  // sealed request (with header) on the way out, reply body on the way in
  bool done = false;
};

/// An inbound stream connection.
struct InStream {
  explicit InStream(asio::io_context& io) : socket(io), timer(io) {}
  asio::ip::tcp::socket socket;
  asio::steady_timer timer;
  std::uint8_t header[4]{};
  Bytes frame;
  std::string from;
};

struct Node::Impl {
  Impl(asio::io_context& io, GossipConfig cfg, LocalNode self, NodeOptions opts, LogFn log)
      : io(io),
        cfg(std::move(cfg)),
        self(std::move(self)),
        opts(std::move(opts)),
        log_fn(std::move(log)),
        udp(io),
        acceptor(io),
        tick_timer(io),
        join_timer(io),
        leave_timer(io),
        resolver(io) {}

  asio::io_context& io;
  GossipConfig cfg;
  LocalNode self;
  NodeOptions opts;
  LogFn log_fn;
  Node* owner = nullptr;

  asio::ip::udp::socket udp;
  asio::ip::tcp::acceptor acceptor;
  asio::steady_timer tick_timer;
  asio::steady_timer join_timer;
  asio::steady_timer leave_timer;
  asio::ip::udp::resolver resolver;
  std::optional<TimePoint> armed_at;  // expiry of the pending tick_timer wait, if any

  std::unique_ptr<Membership> membership;
  std::function<void(const std::vector<Event>&)> on_events;
  TransportStats stats;
  bool started = false;
  bool stopped = false;

  std::vector<std::uint8_t> recv_buf;
  asio::ip::udp::endpoint recv_from;

  std::map<std::uint64_t, std::shared_ptr<OutStream>> out_streams;
  std::set<std::shared_ptr<InStream>> in_streams;

  // join state
  std::vector<std::string> join_seeds;
  std::set<std::uint64_t> join_pending;  // ids of StreamPurpose::join requests in flight
  Duration join_backoff{};
  bool join_active = false;
  std::shared_ptr<std::function<void()>> leave_poll;  // keeps leave()'s poll loop alive

  std::string bound;
  std::string advertise;

  void log(LogLevel lvl, std::string_view msg, std::initializer_list<LogField> f) {
    if (log_fn) log_fn(lvl, msg, f);
  }
  static TimePoint now() { return std::chrono::steady_clock::now(); }

  // node.cpp
  void bind_sockets();
  void do_receive();
  void after_input();
  void rearm_timer();
  void start_join_round();
  void finish_join_round_if_done();
  void schedule_join_retry();
  Bytes seal(std::span<const std::uint8_t> plain);
  std::optional<Bytes> open(std::span<const std::uint8_t> wire);

  // node_stream.cpp
  void do_accept();
  void serve(std::shared_ptr<InStream> s);
  void start_stream(StreamRequest req);
  void finish_stream(const std::shared_ptr<OutStream>& s, std::optional<Bytes> reply);
};

/// Resolves a numeric "ip:port" without DNS; nullopt if not numeric.
std::optional<asio::ip::address> parse_ip(std::string_view host);
/// "ip:port" / "[ip6]:port" for an endpoint (IPv4-mapped IPv6 printed as IPv4).
template <class Endpoint>
std::string format_endpoint(const Endpoint& ep) {
  auto addr = ep.address();
  if (addr.is_v6() && addr.to_v6().is_v4_mapped()) {
    addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
  }
  std::string host = addr.to_string();
  if (addr.is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(ep.port());
}

}  // namespace vigil::gossip::udp
