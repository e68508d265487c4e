#pragma once
// ICMP echo to many IPv4 and IPv6 targets at once (one socket per family), bounded by a
// deadline.
//
// Socket choice, per family: first an unprivileged ICMP datagram socket (socket(AF_INET,
// SOCK_DGRAM, IPPROTO_ICMP) / AF_INET6 + IPPROTO_ICMPV6: allowed when the process's group is
// inside the net.ipv4.ping_group_range sysctl, which is per network namespace and covers both
// families; the kernel rewrites the echo id, fills the checksum, delivers only this socket's
// replies, without IP header), then a raw socket (needs CAP_NET_RAW; sees every ICMP packet of
// the namespace, so replies are matched by id, sequence and source). When neither is allowed,
// the error says how to fix it.

#include <netinet/in.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "checkers/deadline.hpp"

namespace vigil::checkers {

/// An IPv4 or IPv6 address (no port, no zone index).
struct IpAddr {
  int family = AF_INET;  ///< AF_INET or AF_INET6
  in_addr v4{};
  in6_addr v6{};

  /// Parses "10.0.0.1" or "fd00::3"; nullopt for anything else (names are not resolved).
  static std::optional<IpAddr> parse(const std::string& text);
  bool operator==(const IpAddr& o) const;
};

/// Per-target outcome of one ping_all().
struct EchoResult {
  int sent = 0;                ///< echo requests sent
  int received = 0;            ///< matching replies received before the deadline
  std::vector<Duration> rtts;  ///< one per reply
  std::string error;           ///< a per-target send error (e.g. "Network is unreachable")
  // The large echo (EchoPlan::large), when this target had one: counted apart from the above.
  int large_sent = 0;          ///< 0 or 1 (a send error other than EMSGSIZE counts as sent, lost)
  int large_received = 0;      ///< its reply came back in time
  bool large_too_big = false;  ///< EMSGSIZE: the local stack knows a smaller path MTU (our own
                               ///< interface's, or a PMTU a router signalled): not sent, not lost
};

/// What ping_all() needs to know.
struct EchoPlan {
  int count = 5;                                      ///< echoes per target
  Duration spacing = std::chrono::milliseconds(100);  ///< between two rounds of echoes
  Duration reply_timeout = std::chrono::seconds(1);   ///< wait after the last send
  std::size_t payload = 16;                           ///< payload bytes after the header
  /// Targets (indices) that also get one large echo, with the first round: DF set (the
  /// sockets get IcmpSocket::set_dont_fragment; the small echoes then carry DF too, harmless
  /// at their size), `large_mtu` bytes as an IP packet (echo_payload_for_mtu). Replies are
  /// matched like the small ones and counted in EchoResult::large_*.
  std::vector<std::size_t> large;
  int large_mtu = 1500;
};

/// Payload bytes after the 8-byte echo header for an IP packet of exactly `mtu` bytes:
/// mtu - 28 for IPv4 (20-byte header, no options), mtu - 48 for IPv6 (40-byte header, no
/// extension headers); 0 when `mtu` is smaller than the headers.
std::size_t echo_payload_for_mtu(int family, int mtu);

/// An open ICMP socket of one family (datagram or raw). Move-only.
class IcmpSocket {
 public:
  /// Opens a datagram socket, else a raw one. On failure fd() < 0 and error() says why.
  static IcmpSocket open(int family = AF_INET);
  IcmpSocket(IcmpSocket&& o) noexcept;
  IcmpSocket& operator=(IcmpSocket&&) = delete;
  IcmpSocket(const IcmpSocket&) = delete;
  ~IcmpSocket();

  int fd() const { return fd_; }
  int family() const { return family_; }
  bool raw() const { return raw_; }
  /// "datagram" or "raw".
  const char* mode() const { return raw_ ? "raw" : "datagram"; }
  const std::string& error() const { return error_; }
  /// Sets DF on what this socket sends and forbids local fragmentation (IPv4 IP_MTU_DISCOVER =
  /// IP_PMTUDISC_DO; IPv6 IPV6_DONTFRAG and IPV6_MTU_DISCOVER = IPV6_PMTUDISC_DO): a packet
  /// larger than the path MTU the stack knows fails with EMSGSIZE. "" or the error.
  std::string set_dont_fragment();

 private:
  IcmpSocket() = default;
  int fd_ = -1;
  int family_ = AF_INET;
  bool raw_ = false;
  std::string error_;
};

/// Sends plan.count echoes to every target (rounds spaced by plan.spacing), then waits for
/// replies until reply_timeout after the last send, every reply is in, or `deadline`.
/// IPv4 targets go through `v4`, IPv6 ones through `v6`; a target whose socket is null or not
/// open counts as all lost with that socket's error. Blocking. Results are indexed like
/// `targets`.
std::vector<EchoResult> ping_all(IcmpSocket* v4, IcmpSocket* v6, const std::vector<IpAddr>& targets,
                                 const EchoPlan& plan, Deadline deadline);

/// The Internet checksum (RFC 1071) of `len` bytes, in network byte order.
std::uint16_t inet_checksum(const void* data, std::size_t len);

}  // namespace vigil::checkers
