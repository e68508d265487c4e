#include "checkers/icmp.hpp"

#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <unordered_map>

namespace vigil::checkers {
namespace {

std::string ping_group_range() {
  std::ifstream f("/proc/sys/net/ipv4/ping_group_range");
  std::string a, b;
  if (!(f >> a >> b)) return "?";
  return a + " " + b;
}

}  // namespace

std::uint16_t inet_checksum(const void* data, std::size_t len) {
  const auto* p = static_cast<const std::uint8_t*>(data);
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < len; i += 2)
    sum += static_cast<std::uint32_t>(p[i] << 8 | p[i + 1]);
  if (len & 1) sum += static_cast<std::uint32_t>(p[len - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return htons(static_cast<std::uint16_t>(~sum));
}

IcmpSocket IcmpSocket::open() {
  IcmpSocket s;
  s.fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
  if (s.fd_ >= 0) return s;
  const int dgram_err = errno;
  s.fd_ = ::socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
  if (s.fd_ >= 0) {
    s.raw_ = true;
    return s;
  }
  const int raw_err = errno;
  s.error_ =
      "cannot open an ICMP socket: datagram socket: " + std::string(std::strerror(dgram_err)) +
      " (net.ipv4.ping_group_range is \"" + ping_group_range() + "\", gid " +
      std::to_string(::getgid()) + "); raw socket: " + std::strerror(raw_err) +
      " (needs CAP_NET_RAW). Fix: sysctl -w net.ipv4.ping_group_range=\"0 2147483647\" "
      "in the node's network namespace, or grant the agent CAP_NET_RAW";
  return s;
}

IcmpSocket::IcmpSocket(IcmpSocket&& o) noexcept
    : fd_(o.fd_), raw_(o.raw_), error_(std::move(o.error_)) {
  o.fd_ = -1;
}

IcmpSocket::~IcmpSocket() {
  if (fd_ >= 0) ::close(fd_);
}

std::vector<EchoResult> ping_all(IcmpSocket& sock, const std::vector<in_addr>& targets,
                                 const EchoPlan& plan, Deadline deadline) {
  std::vector<EchoResult> results(targets.size());
  if (sock.fd() < 0 || targets.empty() || plan.count <= 0) return results;

  std::random_device rd;
  // Raw sockets see everyone's ICMP: our id and sequence numbers tell our replies apart.
  // Datagram sockets get their id rewritten by the kernel and only see their own replies.
  const auto ident = static_cast<std::uint16_t>(rd());
  const auto seq_base = static_cast<std::uint16_t>(rd());
  struct Pending {
    std::size_t target;
    TimePoint sent_at;
  };
  std::unordered_map<std::uint16_t, Pending> pending;  // sequence -> echo
  std::uint16_t next_seq = seq_base;
  std::size_t outstanding = 0;

  std::vector<std::uint8_t> pkt(sizeof(icmphdr) + plan.payload);
  auto send_round = [&] {
    for (std::size_t t = 0; t < targets.size(); ++t) {
      std::uint16_t seq = next_seq++;
      std::memset(pkt.data(), 0, pkt.size());
      auto* h = reinterpret_cast<icmphdr*>(pkt.data());
      h->type = ICMP_ECHO;
      h->code = 0;
      h->un.echo.id = htons(ident);
      h->un.echo.sequence = htons(seq);
      for (std::size_t i = sizeof(icmphdr); i < pkt.size(); ++i)
        pkt[i] = static_cast<std::uint8_t>(i);
      h->checksum = inet_checksum(pkt.data(), pkt.size());  // the kernel redoes it for datagram
      sockaddr_in to{};
      to.sin_family = AF_INET;
      to.sin_addr = targets[t];
      TimePoint at = Clock::now();
      ssize_t n = ::sendto(sock.fd(), pkt.data(), pkt.size(), 0, reinterpret_cast<sockaddr*>(&to),
                           sizeof(to));
      results[t].sent++;
      if (n < 0) {
        results[t].error = std::strerror(errno);
        continue;  // counts as lost
      }
      pending[seq] = Pending{t, at};
      ++outstanding;
    }
  };

  auto receive = [&] {
    std::uint8_t buf[1500];
    for (;;) {
      sockaddr_in from{};
      socklen_t fromlen = sizeof(from);
      ssize_t n =
          ::recvfrom(sock.fd(), buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &fromlen);
      if (n < 0) return;  // EAGAIN: drained
      const TimePoint at = Clock::now();
      std::size_t off = 0;
      if (sock.raw()) {
        if (n < static_cast<ssize_t>(sizeof(iphdr))) continue;
        off = static_cast<std::size_t>(reinterpret_cast<const iphdr*>(buf)->ihl) * 4;
      }
      if (static_cast<std::size_t>(n) < off + sizeof(icmphdr)) continue;
      const auto* h = reinterpret_cast<const icmphdr*>(buf + off);
      if (h->type != ICMP_ECHOREPLY) continue;
      if (sock.raw() && ntohs(h->un.echo.id) != ident) continue;
      auto it = pending.find(ntohs(h->un.echo.sequence));
      if (it == pending.end()) continue;
      const std::size_t t = it->second.target;
      if (from.sin_addr.s_addr != targets[t].s_addr) continue;  // not from whom we asked
      results[t].received++;
      results[t].rtts.push_back(at - it->second.sent_at);
      pending.erase(it);
      --outstanding;
    }
  };

  const TimePoint start = Clock::now();
  int rounds_sent = 0;
  TimePoint last_send = start;
  for (;;) {
    TimePoint now = Clock::now();
    if (rounds_sent < plan.count && now >= start + rounds_sent * plan.spacing) {
      send_round();
      last_send = now;
      ++rounds_sent;
      continue;
    }
    if (rounds_sent == plan.count && (outstanding == 0 || now >= last_send + plan.reply_timeout))
      break;
    if (deadline.expired()) break;
    TimePoint wake = rounds_sent < plan.count ? start + rounds_sent * plan.spacing
                                              : last_send + plan.reply_timeout;
    wake = std::min(wake, deadline.at);
    auto ms = std::chrono::ceil<std::chrono::milliseconds>(wake - now).count();
    pollfd p{sock.fd(), POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(std::max<long long>(0, ms)));
    if (r > 0) receive();
  }
  return results;
}

}  // namespace vigil::checkers
