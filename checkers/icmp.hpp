#pragma once
// ICMP echo to many IPv4 targets at once from one socket, bounded by a deadline.
//
// Socket choice: first an unprivileged ICMP datagram socket (socket(AF_INET, SOCK_DGRAM,
// IPPROTO_ICMP): allowed when the process's group is inside the net.ipv4.ping_group_range
// sysctl, per network namespace; the kernel rewrites the echo id, filters replies to this
// socket and hands them over without IP header), then a raw socket (needs CAP_NET_RAW; sees
// every ICMP packet of the host, so replies are matched by id, sequence and source). When
// neither is allowed, the error says how to fix it.

#include <netinet/in.h>

#include <cstdint>
#include <string>
#include <vector>

#include "checkers/deadline.hpp"

namespace vigil::checkers {

/// Per-target outcome of one ping_all().
struct EchoResult {
  int sent = 0;                ///< echo requests sent
  int received = 0;            ///< matching replies received before the deadline
  std::vector<Duration> rtts;  ///< one per reply
  std::string error;           ///< a per-target send error (e.g. "Network is unreachable")
};

/// What ping_all() needs to know.
struct EchoPlan {
  int count = 5;                                      ///< echoes per target
  Duration spacing = std::chrono::milliseconds(100);  ///< between two rounds of echoes
  Duration reply_timeout = std::chrono::seconds(1);   ///< wait after the last send
  std::size_t payload = 16;                           ///< payload bytes after the header
};

/// An open ICMP socket (datagram or raw). Move-only.
class IcmpSocket {
 public:
  /// Opens a datagram socket, else a raw one. On failure fd() < 0 and error() says why.
  static IcmpSocket open();
  IcmpSocket(IcmpSocket&& o) noexcept;
  IcmpSocket& operator=(IcmpSocket&&) = delete;
  IcmpSocket(const IcmpSocket&) = delete;
  ~IcmpSocket();

  int fd() const { return fd_; }
  bool raw() const { return raw_; }
  /// "datagram" or "raw".
  const char* mode() const { return raw_ ? "raw" : "datagram"; }
  const std::string& error() const { return error_; }

 private:
  IcmpSocket() = default;
  int fd_ = -1;
  bool raw_ = false;
  std::string error_;
};

/// Sends plan.count echoes to every target (rounds spaced by plan.spacing), then waits for
/// replies until reply_timeout after the last send, every reply is in, or `deadline`.
/// Blocking. Results are indexed like `targets`.
std::vector<EchoResult> ping_all(IcmpSocket& sock, const std::vector<in_addr>& targets,
                                 const EchoPlan& plan, Deadline deadline);

/// The Internet checksum (RFC 1071) of `len` bytes.
std::uint16_t inet_checksum(const void* data, std::size_t len);

}  // namespace vigil::checkers
