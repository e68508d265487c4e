#pragma once
// gossip::udp::Node: the real-network driver of one gossip::Membership.
//
// One UDP socket carries datagrams (probes, acks, gossip), one TCP listener on the same port
// serves streams (push-pull, join, TCP fallback ping). Every datagram and stream frame is
// sealed with the Keyring when one is given (AES-256-GCM), plaintext otherwise. Stream frames
// are a u32 big-endian length followed by that many bytes, capped at max_frame_bytes.
// A steady_timer is re-armed at Membership::next_deadline(); after every input the output is
// pumped to the sockets. Bytes that fail to decrypt, oversize datagrams and bad frames are
// dropped and counted (TransportStats); they never reach the Membership.
//
// Threading: every method, and every callback it makes, runs on the thread that runs the
// io_context (the loop thread). Lifecycle: construct, start(), run the io_context; stop()
// closes everything. Destroy the Node before the io_context and while it is not running.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gossip/config.hpp"
#include "gossip/membership.hpp"
#include "gossip/transport.hpp"
#include "gossip/udp/keyring.hpp"
#include "gossip/udp/log.hpp"

namespace asio {
class io_context;
}

namespace vigil::gossip::udp {

inline constexpr std::uint16_t kDefaultGossipPort = 7946;

struct NodeOptions {
  /// Local address to bind, UDP and TCP, numeric "ip:port" ("0.0.0.0:7946", "[::]:7946").
  /// Port 0 picks a free port (the same one for UDP and TCP).
  std::string bind = "0.0.0.0:7946";
  /// Address peers use to reach us, numeric "ip:port". Empty: the bound address (which must
  /// then not be a wildcard). A port of 0 means "the bound port".
  std::string advertise;
  /// Encryption. nullopt: plaintext (a warning is logged at start).
  std::optional<Keyring> keyring;
  /// Largest accepted datagram (after decryption overhead is added). Bigger ones are dropped
  /// and counted in TransportStats::oversize. Default: a jumbo frame; never below
  /// GossipConfig::udp_buffer_size + kSealOverhead (what a peer may legitimately send).
  std::size_t max_datagram_bytes = 9000;
  /// Largest stream frame accepted or sent (push-pull of a large cluster). Default 8 MiB.
  std::size_t max_frame_bytes = 8u << 20;
  /// Inbound stream connections served at once; more are closed at accept (and counted in
  /// TransportStats::streams_rejected) so a connection flood cannot exhaust descriptors.
  std::size_t max_inbound_streams = 128;
  /// Join retry backoff: first wait, doubled after each failed round, capped at the max.
  Duration join_retry_min = std::chrono::seconds(1);
  Duration join_retry_max = std::chrono::seconds(30);
  /// Extension channel handed to the Membership (not owned; must outlive the Node). May be null.
  Delegate* delegate = nullptr;
  /// Seed of the Membership's RNG (random probe order, gossip targets).
  std::uint64_t seed = 0;
};

/// Counters of the transport itself (the Membership keeps its own gossip::Stats).
struct TransportStats {
  std::uint64_t udp_packets_in = 0, udp_packets_out = 0;
  std::uint64_t udp_bytes_in = 0, udp_bytes_out = 0;  ///< on the wire (sealed)
  std::uint64_t tcp_bytes_in = 0, tcp_bytes_out = 0;  ///< on the wire, frames + headers
  std::uint64_t streams_in = 0, streams_out = 0;      ///< stream exchanges accepted/started
  std::uint64_t streams_rejected = 0;  ///< inbound connections over max_inbound_streams
  std::uint64_t stream_failures = 0;   ///< outbound exchanges that ended without a reply
  std::uint64_t decrypt_errors = 0;    ///< datagrams/frames no key could open
  std::uint64_t oversize = 0;          ///< datagrams over max_datagram_bytes, frames over max
  std::uint64_t send_errors = 0;       ///< datagrams the kernel refused
  std::uint64_t join_attempts = 0;     ///< join rounds started (first try + retries)
};

class Node final : public Transport {
 public:
  /// `log` may be empty. Nothing is bound until start().
  Node(asio::io_context& io, GossipConfig config, LocalNode self, NodeOptions options, LogFn log);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  /// Binds UDP and TCP, creates the Membership (self.addr = the advertise address) and starts
  /// receiving and ticking. Throws std::runtime_error (one line) when binding fails or the
  /// advertise address cannot be determined. Call once, on the loop thread.
  void start();
  /// Joins the mesh through `seeds` (HOST[:PORT], DNS names allowed; default port 7946).
  /// Names are resolved off the loop thread (Asio's resolver runs getaddrinfo on its own
  /// thread); every A/AAAA address is a seed. Retries with capped exponential backoff until
  /// one seed answers or a peer contacts us.
  void join(std::vector<std::string> seeds);
  /// Graceful leave: broadcasts it, then keeps the loop alive until the leave was
  /// retransmitted its full count, no peer is alive, or `max_wait` passed; then calls `done`.
  void leave(Duration max_wait, std::function<void()> done);
  /// Closes the sockets and cancels every timer and exchange. Idempotent.
  void stop();

  /// Called on the loop thread with the membership events of each input (never empty).
  void set_event_handler(std::function<void(const std::vector<Event>&)> handler);

  /// Swaps in a rotated keyring: its primary seals from now on, every key of it opens. Frames
  /// already sealed keep the old primary (peers still hold it during a rotation). Returns
  /// false, changing nothing, when the node runs in plaintext: switching encryption on or off
  /// while running would split the mesh, so that needs a restart. Loop thread only.
  bool set_keyring(Keyring keyring);
  /// The keyring in use; null in plaintext mode. Loop thread only.
  const Keyring* keyring() const;

  /// The driven Membership (after start()). Loop thread only.
  Membership& membership();
  const Membership& membership() const;
  const TransportStats& transport_stats() const;
  /// The bound address, "ip:port" (after start()).
  std::string bound_address() const;
  /// The advertised address peers use, "ip:port" (after start()).
  std::string advertise_address() const;
  /// True once a join got an answer or a peer contacted us (Membership::has_peers()).
  bool joined() const;

  // Transport
  void send_datagram(const Address& to, std::span<const std::uint8_t> bytes) override;
  void send_stream(StreamRequest req) override;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

/// Parses a numeric "ip:port" into its parts for bind/advertise validation; nullopt when the
/// host is not an IP literal or the port is invalid.
std::optional<std::pair<std::string, std::uint16_t>> parse_numeric_address(std::string_view s);

/// The first private (RFC 1918 / ULA) or else global unicast address of this host, for an
/// advertise address when binding a wildcard (memberlist's GetPrivateIP). nullopt if none.
std::optional<std::string> guess_advertise_ip(bool ipv6);

}  // namespace vigil::gossip::udp
