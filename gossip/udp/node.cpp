#include "gossip/udp/node.hpp"

#include <ifaddrs.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "gossip/udp/address.hpp"
#include "gossip/udp/node_impl.hpp"

namespace vigil::gossip::udp {

std::optional<asio::ip::address> parse_ip(std::string_view host) {
  std::error_code ec;
  auto a = asio::ip::make_address(std::string(host), ec);
  if (ec) return std::nullopt;
  return a;
}

std::optional<std::pair<std::string, std::uint16_t>> parse_numeric_address(std::string_view s) {
  auto hp = split_host_port(s, kDefaultGossipPort);
  if (!hp || !parse_ip(hp->host)) return std::nullopt;
  return std::make_pair(hp->host, hp->port);
}

std::optional<std::string> guess_advertise_ip(bool ipv6) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return std::nullopt;
  std::optional<std::string> priv, global;
  for (ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr) continue;
    std::optional<asio::ip::address> a;
    if (!ipv6 && i->ifa_addr->sa_family == AF_INET) {
      asio::ip::address_v4::bytes_type b;
      std::memcpy(b.data(), &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, 4);
      a = asio::ip::address_v4(b);
    } else if (ipv6 && i->ifa_addr->sa_family == AF_INET6) {
      asio::ip::address_v6::bytes_type b;
      std::memcpy(b.data(), &reinterpret_cast<sockaddr_in6*>(i->ifa_addr)->sin6_addr, 16);
      a = asio::ip::address_v6(b);
    }
    if (!a || a->is_loopback() || a->is_unspecified() || a->is_multicast()) continue;
    bool is_private = false;
    if (a->is_v4()) {
      auto b = a->to_v4().to_bytes();
      if (b[0] == 169 && b[1] == 254) continue;  // link-local
      is_private = b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) ||
                   (b[0] == 192 && b[1] == 168) || (b[0] == 100 && (b[1] & 0xc0) == 64);
    } else {
      if (a->to_v6().is_link_local()) continue;
      is_private = (a->to_v6().to_bytes()[0] & 0xfe) == 0xfc;  // ULA fc00::/7
    }
    if (is_private && !priv) priv = a->to_string();
    if (!is_private && !global) global = a->to_string();
  }
  freeifaddrs(list);
  return priv ? priv : global;
}

// ---- Node -------------------------------------------------------------------------------

Node::Node(asio::io_context& io, GossipConfig config, LocalNode self, NodeOptions options,
           LogFn log)
    : impl_(std::make_unique<Impl>(io, std::move(config), std::move(self), std::move(options),
                                   std::move(log))) {
  impl_->owner = this;
}

Node::~Node() {
  stop();
}

void Node::start() {
  Impl& d = *impl_;
  if (d.started) throw std::runtime_error("gossip node already started");
  // Never drop what a peer with the same settings may legitimately send.
  d.opts.max_datagram_bytes =
      std::max(d.opts.max_datagram_bytes, d.cfg.udp_buffer_size + kSealOverhead + 64);
  d.bind_sockets();
  d.self.addr = d.advertise;
  d.membership =
      std::make_unique<Membership>(d.cfg, d.self, d.opts.seed, Impl::now(), d.opts.delegate);
  d.started = true;
  d.recv_buf.resize(65536);
  d.do_receive();
  d.do_accept();
  if (!d.opts.keyring) {
    d.log(LogLevel::warn, "gossip encryption disabled: no keyring, packets are plaintext", {});
  }
  d.log(LogLevel::info, "gossip listening",
        {{"bind", d.bound},
         {"advertise", d.advertise},
         {"encrypted", d.opts.keyring ? "true" : "false"}});
  d.after_input();
}

void Node::join(std::vector<std::string> seeds) {
  Impl& d = *impl_;
  if (!d.started || d.stopped || seeds.empty()) return;
  d.join_seeds = std::move(seeds);
  d.join_backoff = d.opts.join_retry_min;
  if (d.join_active) return;  // a round is in flight; it will use the new seeds on retry
  d.join_active = true;
  d.start_join_round();
}

void Node::leave(Duration max_wait, std::function<void()> done) {
  Impl& d = *impl_;
  if (!d.started || d.stopped) {
    if (done) done();
    return;
  }
  d.join_active = false;
  d.join_timer.cancel();
  const auto dead = static_cast<std::size_t>(MsgType::dead);
  const std::uint64_t base = d.membership->stats().msgs_out[dead];
  const int target = retransmit_limit(d.cfg.retransmit_mult, d.membership->size());
  d.membership->leave(Impl::now());
  d.after_input();
  const TimePoint deadline = Impl::now() + max_wait;
  auto poll = std::make_shared<std::function<void()>>();
  *poll = [&d, base, target, deadline, done, poll_weak = std::weak_ptr(poll)]() {
    bool any_peer = false;
    for (const Member& m : d.membership->members()) {
      if (m.name != d.self.name &&
          (m.state == MemberState::alive || m.state == MemberState::suspect)) {
        any_peer = true;
      }
    }
    const std::uint64_t sent = d.membership->stats().msgs_out[dead] - base;
    // Spread: the leave was sent its full retransmit count or left the broadcast queue.
    const bool spread = sent >= static_cast<std::uint64_t>(target) ||
                        (sent > 0 && d.membership->pending_broadcasts() == 0);
    if (d.stopped || !any_peer || spread || Impl::now() >= deadline) {
      d.log(LogLevel::info, "left the mesh",
            {{"leave_msgs_sent", std::to_string(sent)}, {"peers_alive", any_peer ? "yes" : "no"}});
      if (done) done();
      return;
    }
    d.leave_timer.expires_after(std::chrono::milliseconds(20));
    d.leave_timer.async_wait([poll_weak](std::error_code ec) {
      auto p = poll_weak.lock();
      if (!ec && p) (*p)();
    });
  };
  d.leave_poll = poll;  // keeps the poll function alive
  (*poll)();
}

void Node::stop() {
  Impl& d = *impl_;
  if (d.stopped) return;
  d.stopped = true;
  std::error_code ec;
  d.udp.close(ec);
  d.acceptor.close(ec);
  d.tick_timer.cancel();
  d.join_timer.cancel();
  d.leave_timer.cancel();
  d.resolver.cancel();
  for (auto& [id, s] : d.out_streams) {
    s->done = true;
    s->timer.cancel();
    s->socket.close(ec);
  }
  d.out_streams.clear();
  for (auto& s : d.in_streams) {
    s->timer.cancel();
    s->socket.close(ec);
  }
  d.in_streams.clear();
}

void Node::set_event_handler(std::function<void(const std::vector<Event>&)> handler) {
  impl_->on_events = std::move(handler);
}
bool Node::set_keyring(Keyring keyring) {
  if (!impl_->opts.keyring) return false;
  impl_->opts.keyring = std::move(keyring);
  return true;
}

const Keyring* Node::keyring() const {
  return impl_->opts.keyring ? &*impl_->opts.keyring : nullptr;
}

Membership& Node::membership() {
  return *impl_->membership;
}
const Membership& Node::membership() const {
  return *impl_->membership;
}
const TransportStats& Node::transport_stats() const {
  return impl_->stats;
}
std::string Node::bound_address() const {
  return impl_->bound;
}
std::string Node::advertise_address() const {
  return impl_->advertise;
}
bool Node::joined() const {
  return impl_->membership && impl_->membership->has_peers();
}

void Node::send_datagram(const Address& to, std::span<const std::uint8_t> bytes) {
  Impl& d = *impl_;
  if (d.stopped) return;
  auto hp = split_host_port(to, kDefaultGossipPort);
  auto ip = hp ? parse_ip(hp->host) : std::nullopt;
  if (!ip) {
    ++d.stats.send_errors;
    return;
  }
  if (d.udp.local_endpoint().protocol() == asio::ip::udp::v6() && ip->is_v4()) {
    ip = asio::ip::make_address_v6(asio::ip::v4_mapped, ip->to_v4());
  }
  Bytes wire = d.seal(bytes);
  std::error_code ec;
  d.udp.send_to(asio::buffer(wire), asio::ip::udp::endpoint(*ip, hp->port), 0, ec);
  if (ec) {
    ++d.stats.send_errors;
    return;
  }
  ++d.stats.udp_packets_out;
  d.stats.udp_bytes_out += wire.size();
}

void Node::send_stream(StreamRequest req) {
  impl_->start_stream(std::move(req));
}

// ---- Impl: sockets, timer, join --------------------------------------------------------

void Node::Impl::bind_sockets() {
  auto hp = split_host_port(opts.bind, kDefaultGossipPort);
  auto ip = hp ? parse_ip(hp->host) : std::nullopt;
  if (!ip) throw std::runtime_error("bind address must be IP:PORT, got '" + opts.bind + "'");
  std::error_code ec;
  for (int attempt = 0;; ++attempt) {
    asio::ip::udp::endpoint uep(*ip, hp->port);
    udp.open(uep.protocol());
    if (ip->is_v6()) udp.set_option(asio::ip::v6_only(false), ec);
    udp.bind(uep, ec);
    if (ec) {
      udp.close();
      throw std::runtime_error("cannot bind UDP " + opts.bind + ": " + ec.message());
    }
    const std::uint16_t port = udp.local_endpoint().port();
    asio::ip::tcp::endpoint tep(*ip, port);
    acceptor.open(tep.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    if (ip->is_v6()) acceptor.set_option(asio::ip::v6_only(false), ec);
    acceptor.bind(tep, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (!ec) break;
    acceptor.close();
    udp.close();
    // With port 0 the UDP port may be taken over TCP: try another free port.
    if (hp->port != 0 || attempt >= 10) {
      throw std::runtime_error("cannot bind TCP " + join_host_port(hp->host, port) + ": " +
                               ec.message());
    }
  }
  udp.non_blocking(true);
  bound = format_endpoint(udp.local_endpoint());
  const std::uint16_t port = udp.local_endpoint().port();

  std::string adv_host;
  std::uint16_t adv_port = port;
  if (!opts.advertise.empty()) {
    auto a = split_host_port(opts.advertise, 0);
    if (!a || !parse_ip(a->host)) {
      throw std::runtime_error("advertise address must be IP[:PORT], got '" + opts.advertise + "'");
    }
    adv_host = a->host;
    if (a->port != 0) adv_port = a->port;
  } else if (ip->is_unspecified()) {
    auto g = guess_advertise_ip(ip->is_v6());
    if (!g && ip->is_v6()) g = guess_advertise_ip(false);
    if (!g) throw std::runtime_error("no address to advertise: set --advertise");
    adv_host = *g;
  } else {
    adv_host = ip->to_string();
  }
  advertise = join_host_port(adv_host, adv_port);
}

void Node::Impl::do_receive() {
  udp.async_receive_from(asio::buffer(recv_buf), recv_from,
                         [this](std::error_code ec, std::size_t n) {
                           if (stopped || ec == asio::error::operation_aborted) return;
                           if (!ec) {
                             ++stats.udp_packets_in;
                             stats.udp_bytes_in += n;
                             if (n > opts.max_datagram_bytes) {
                               ++stats.oversize;
                             } else if (auto plain = open(std::span(recv_buf.data(), n))) {
                               membership->on_datagram(format_endpoint(recv_from), *plain, now());
                               after_input();
                             } else {
                               ++stats.decrypt_errors;
                             }
                           }
                           do_receive();
                         });
}

void Node::Impl::after_input() {
  if (!membership || stopped) return;
  std::vector<Event> events = pump(*membership, *owner);
  if (!events.empty() && on_events) on_events(events);
  if (join_active && membership->has_peers()) {
    join_active = false;
    join_timer.cancel();
    log(LogLevel::info, "joined the mesh", {{"members", std::to_string(membership->size())}});
  }
  rearm_timer();
}

void Node::Impl::rearm_timer() {
  const TimePoint deadline = membership->next_deadline();
  if (armed_at && *armed_at <= deadline) return;
  armed_at = deadline;
  tick_timer.expires_at(deadline);
  tick_timer.async_wait([this](std::error_code ec) {
    if (ec == asio::error::operation_aborted || stopped) return;
    armed_at.reset();
    membership->tick(now());
    after_input();
  });
}

Bytes Node::Impl::seal(std::span<const std::uint8_t> plain) {
  if (opts.keyring) return opts.keyring->seal(plain);
  return Bytes(plain.begin(), plain.end());
}

std::optional<Bytes> Node::Impl::open(std::span<const std::uint8_t> wire) {
  if (opts.keyring) return opts.keyring->open(wire);
  return Bytes(wire.begin(), wire.end());
}

void Node::Impl::start_join_round() {
  if (!join_active || stopped) return;
  if (membership->has_peers()) {
    join_active = false;
    return;
  }
  ++stats.join_attempts;
  struct Round {
    std::size_t pending = 0;
    std::vector<Address> addrs;
  };
  auto round = std::make_shared<Round>();
  auto finish = [this, round]() {
    if (--round->pending > 0 || stopped || !join_active) return;
    auto& a = round->addrs;
    std::sort(a.begin(), a.end());
    a.erase(std::unique(a.begin(), a.end()), a.end());
    std::erase(a, advertise);
    if (a.empty()) {
      schedule_join_retry();
      return;
    }
    std::string list;
    for (auto& s : a) list += (list.empty() ? "" : ",") + s;
    log(LogLevel::debug, "joining", {{"seeds", list}});
    membership->join(a, now());
    after_input();
    if (join_active && join_pending.empty()) schedule_join_retry();
  };
  round->pending = join_seeds.size() + 1;  // +1: released below, after every resolve started
  for (const std::string& seed : join_seeds) {
    auto hp = split_host_port(seed, kDefaultGossipPort);
    if (!hp) {
      log(LogLevel::warn, "ignoring invalid join address", {{"seed", seed}});
      finish();
      continue;
    }
    if (parse_ip(hp->host)) {
      round->addrs.push_back(join_host_port(parse_ip(hp->host)->to_string(), hp->port));
      finish();
      continue;
    }
    resolver.async_resolve(hp->host, std::to_string(hp->port),
                           [this, round, finish, seed](
                               std::error_code ec, asio::ip::udp::resolver::results_type results) {
                             if (ec == asio::error::operation_aborted) return;
                             if (ec) {
                               log(LogLevel::warn, "cannot resolve join address",
                                   {{"seed", seed}, {"error", ec.message()}});
                             }
                             for (const auto& r : results)
                               round->addrs.push_back(format_endpoint(r.endpoint()));
                             finish();
                           });
  }
  finish();
}

void Node::Impl::finish_join_round_if_done() {
  if (!join_active) return;
  if (membership->has_peers()) {
    join_active = false;
    join_timer.cancel();
    log(LogLevel::info, "joined the mesh", {{"members", std::to_string(membership->size())}});
    return;
  }
  if (join_pending.empty()) schedule_join_retry();
}

void Node::Impl::schedule_join_retry() {
  if (!join_active || stopped) return;
  const Duration wait = join_backoff;
  join_backoff = std::min<Duration>(join_backoff * 2, opts.join_retry_max);
  log(LogLevel::info, "join: no seed answered, retrying",
      {{"in_ms",
        std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(wait).count())}});
  join_timer.expires_after(wait);
  join_timer.async_wait([this](std::error_code ec) {
    if (!ec) start_join_round();
  });
}

}  // namespace vigil::gossip::udp
