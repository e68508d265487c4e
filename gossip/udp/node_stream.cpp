// TCP streams of gossip::udp::Node: the listener (push-pull, TCP ping served to peers) and
// outbound StreamRequests. One frame each way: u32 big-endian length, then the (sealed) bytes.

#include "gossip/udp/address.hpp"
#include "gossip/udp/node_impl.hpp"

namespace vigil::gossip::udp {
namespace {

std::uint32_t read_be32(const std::uint8_t* p) {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) |
         std::uint32_t(p[3]);
}

Bytes frame_of(const Bytes& body) {
  Bytes out(4 + body.size());
  const auto n = static_cast<std::uint32_t>(body.size());
  out[0] = std::uint8_t(n >> 24);
  out[1] = std::uint8_t(n >> 16);
  out[2] = std::uint8_t(n >> 8);
  out[3] = std::uint8_t(n);
  std::copy(body.begin(), body.end(), out.begin() + 4);
  return out;
}

// Reads a frame of `len` bytes into s->frame in chunks of at most 64 KiB, growing the buffer
// as bytes arrive: a connection that announces a large frame and sends little costs what it
// sent, not what it announced (else max_inbound_streams silent peers announcing
// max_frame_bytes each would make the agent allocate ~1 GiB). Then calls done(error).
template <class Done>
void read_frame(std::shared_ptr<InStream> s, std::size_t len, Done done) {
  constexpr std::size_t kChunk = 64 * 1024;
  const std::size_t have = s->frame.size();
  if (have >= len) return done(std::error_code{});
  const std::size_t want = std::min(len - have, kChunk);
  s->frame.resize(have + want);
  asio::async_read(s->socket, asio::buffer(s->frame.data() + have, want),
                   [s, len, done = std::move(done)](std::error_code e, std::size_t) mutable {
                     if (e) return done(e);
                     read_frame(std::move(s), len, std::move(done));
                   });
}

}  // namespace

// ---- inbound ----------------------------------------------------------------------------

void Node::Impl::do_accept() {
  auto s = std::make_shared<InStream>(io);
  acceptor.async_accept(s->socket, [this, s](std::error_code ec) {
    if (stopped || ec == asio::error::operation_aborted) return;
    if (ec) {
      // EMFILE and friends: back off briefly instead of spinning.
      log(LogLevel::warn, "gossip accept failed", {{"error", ec.message()}});
      auto t = std::make_shared<asio::steady_timer>(io, std::chrono::milliseconds(100));
      t->async_wait([this, t](std::error_code e) {
        if (!e && !stopped) do_accept();
      });
      return;
    }
    if (in_streams.size() >= opts.max_inbound_streams) {
      ++stats.streams_rejected;
      std::error_code e;
      s->socket.close(e);
      do_accept();
      return;
    }
    ++stats.streams_in;
    in_streams.insert(s);
    serve(s);
    do_accept();
  });
}

void Node::Impl::serve(std::shared_ptr<InStream> s) {
  std::error_code ec;
  auto remote = s->socket.remote_endpoint(ec);
  s->from = ec ? std::string("?") : format_endpoint(remote);
  auto close = [this](const std::shared_ptr<InStream>& st) {
    std::error_code e;
    st->timer.cancel();
    st->socket.close(e);
    in_streams.erase(st);
  };
  s->timer.expires_after(cfg.stream_timeout);
  s->timer.async_wait([s](std::error_code e) {
    if (!e) s->socket.close(e);  // the pending read/write then fails and cleans up
  });
  asio::async_read(s->socket, asio::buffer(s->header),
                   [this, s, close](std::error_code e, std::size_t) {
                     if (e || stopped) return close(s);
                     const std::uint32_t len = read_be32(s->header);
                     if (len > opts.max_frame_bytes) {
                       ++stats.oversize;
                       return close(s);
                     }
                     s->frame.clear();
                     read_frame(s, len, [this, s, close](std::error_code e2) {
                       if (e2 || stopped) return close(s);
                       stats.tcp_bytes_in += 4 + s->frame.size();
                       auto plain = open(s->frame);
                       if (!plain) {
                         ++stats.decrypt_errors;
                         return close(s);
                       }
                       Bytes reply = membership->on_stream(s->from, *plain, now());
                       after_input();
                       if (reply.empty() || stopped) return close(s);
                       Bytes sealed = seal(reply);
                       if (sealed.size() > opts.max_frame_bytes) {
                         ++stats.oversize;
                         return close(s);
                       }
                       s->frame = frame_of(sealed);
                       asio::async_write(s->socket, asio::buffer(s->frame),
                                         [this, s, close](std::error_code e3, std::size_t n3) {
                                           if (!e3) stats.tcp_bytes_out += n3;
                                           close(s);
                                         });
                     });
                   });
}

// ---- outbound ---------------------------------------------------------------------------

void Node::Impl::start_stream(StreamRequest req) {
  if (stopped) return;
  ++stats.streams_out;
  if (req.purpose == StreamPurpose::join) join_pending.insert(req.id);
  auto s = std::make_shared<OutStream>(io);
  s->req = std::move(req);
  out_streams[s->req.id] = s;

  auto hp = split_host_port(s->req.to, kDefaultGossipPort);
  auto ip = hp ? parse_ip(hp->host) : std::nullopt;
  Bytes sealed = seal(s->req.bytes);
  if (!ip || sealed.size() > opts.max_frame_bytes) {
    if (ip) ++stats.oversize;
    // Never call back into the Membership from inside pump(): complete on the next turn.
    asio::post(io, [this, s]() { finish_stream(s, std::nullopt); });
    return;
  }
  s->frame = frame_of(sealed);
  s->timer.expires_after(s->req.timeout);
  s->timer.async_wait([this, s](std::error_code ec) {
    if (!ec) finish_stream(s, std::nullopt);
  });
  s->socket.async_connect(asio::ip::tcp::endpoint(*ip, hp->port), [this, s](std::error_code ec) {
    if (s->done) return;
    if (ec) return finish_stream(s, std::nullopt);
    asio::async_write(
        s->socket, asio::buffer(s->frame), [this, s](std::error_code e, std::size_t n) {
          if (s->done) return;
          if (e) return finish_stream(s, std::nullopt);
          stats.tcp_bytes_out += n;
          asio::async_read(s->socket, asio::buffer(s->header),
                           [this, s](std::error_code e2, std::size_t) {
                             if (s->done) return;
                             if (e2) return finish_stream(s, std::nullopt);
                             const std::uint32_t len = read_be32(s->header);
                             if (len > opts.max_frame_bytes) {
                               ++stats.oversize;
                               return finish_stream(s, std::nullopt);
                             }
                             s->frame.resize(len);
                             asio::async_read(s->socket, asio::buffer(s->frame),
                                              [this, s](std::error_code e3, std::size_t n3) {
                                                if (s->done) return;
                                                if (e3) return finish_stream(s, std::nullopt);
                                                stats.tcp_bytes_in += 4 + n3;
                                                auto plain = open(s->frame);
                                                if (!plain) ++stats.decrypt_errors;
                                                finish_stream(s, std::move(plain));
                                              });
                           });
        });
  });
}

void Node::Impl::finish_stream(const std::shared_ptr<OutStream>& s, std::optional<Bytes> reply) {
  if (s->done) return;
  s->done = true;
  std::error_code ec;
  s->timer.cancel();
  s->socket.close(ec);
  out_streams.erase(s->req.id);
  const bool was_join = join_pending.erase(s->req.id) > 0;
  if (!reply) ++stats.stream_failures;
  if (stopped) return;
  if (reply) {
    membership->on_stream_reply(s->req.id, std::span<const std::uint8_t>(*reply), now());
  } else {
    membership->on_stream_reply(s->req.id, std::nullopt, now());
  }
  after_input();
  if (was_join) {
    if (!reply) {
      log(LogLevel::debug, "join: seed did not answer", {{"seed", s->req.to}});
    }
    finish_join_round_if_done();
  }
}

}  // namespace vigil::gossip::udp
