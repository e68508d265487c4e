#include "checkers/icmp.hpp"

#include <arpa/inet.h>
#include <netinet/icmp6.h>
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

// Echo header, identical in ICMP and ICMPv6 (type, code, checksum, id, sequence).
struct Echo {
  std::uint8_t type;
  std::uint8_t code;
  std::uint16_t checksum;
  std::uint16_t id;
  std::uint16_t seq;
};
static_assert(sizeof(Echo) == 8);

}  // namespace

std::optional<IpAddr> IpAddr::parse(const std::string& text) {
  IpAddr a;
  if (inet_pton(AF_INET, text.c_str(), &a.v4) == 1) return a;
  a.family = AF_INET6;
  if (inet_pton(AF_INET6, text.c_str(), &a.v6) == 1) return a;
  return std::nullopt;
}

bool IpAddr::operator==(const IpAddr& o) const {
  if (family != o.family) return false;
  return family == AF_INET ? v4.s_addr == o.v4.s_addr : std::memcmp(&v6, &o.v6, sizeof(v6)) == 0;
}

std::uint16_t inet_checksum(const void* data, std::size_t len) {
  const auto* p = static_cast<const std::uint8_t*>(data);
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < len; i += 2)
    sum += static_cast<std::uint32_t>(p[i] << 8 | p[i + 1]);
  if (len & 1) sum += static_cast<std::uint32_t>(p[len - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return htons(static_cast<std::uint16_t>(~sum));
}

IcmpSocket IcmpSocket::open(int family) {
  IcmpSocket s;
  s.family_ = family;
  const int proto =
      family == AF_INET6 ? static_cast<int>(IPPROTO_ICMPV6) : static_cast<int>(IPPROTO_ICMP);
  s.fd_ = ::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
  if (s.fd_ >= 0) return s;
  const int dgram_err = errno;
  s.fd_ = ::socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
  if (s.fd_ >= 0) {
    s.raw_ = true;
    return s;
  }
  const int raw_err = errno;
  s.error_ = std::string("cannot open an ") + (family == AF_INET6 ? "ICMPv6" : "ICMP") +
             " socket: datagram socket: " + std::strerror(dgram_err) +
             " (net.ipv4.ping_group_range is \"" + ping_group_range() + "\", gid " +
             std::to_string(::getgid()) + "); raw socket: " + std::strerror(raw_err) +
             " (needs CAP_NET_RAW). Fix: sysctl -w net.ipv4.ping_group_range=\"0 2147483647\" "
             "in the node's network namespace, or grant the agent CAP_NET_RAW";
  return s;
}

std::size_t echo_payload_for_mtu(int family, int mtu) {
  const int headers = (family == AF_INET6 ? 40 : 20) + static_cast<int>(sizeof(Echo));
  return mtu > headers ? static_cast<std::size_t>(mtu - headers) : 0;
}

std::string IcmpSocket::set_dont_fragment() {
  if (fd_ < 0) return error_;
  auto set = [&](int level, int name, int value, const char* what) -> std::string {
    if (::setsockopt(fd_, level, name, &value, sizeof(value)) == 0) return {};
    return std::string("setsockopt ") + what + ": " + std::strerror(errno);
  };
  if (family_ == AF_INET)
    return set(IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO, "IP_MTU_DISCOVER");
  std::string err = set(IPPROTO_IPV6, IPV6_DONTFRAG, 1, "IPV6_DONTFRAG");
  if (err.empty())
    err = set(IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_DO, "IPV6_MTU_DISCOVER");
  return err;
}

IcmpSocket::IcmpSocket(IcmpSocket&& o) noexcept
    : fd_(o.fd_), family_(o.family_), raw_(o.raw_), error_(std::move(o.error_)) {
  o.fd_ = -1;
}

IcmpSocket::~IcmpSocket() {
  if (fd_ >= 0) ::close(fd_);
}

std::vector<EchoResult> ping_all(IcmpSocket* v4, IcmpSocket* v6, const std::vector<IpAddr>& targets,
                                 const EchoPlan& plan, Deadline deadline) {
  std::vector<EchoResult> results(targets.size());
  if (targets.empty() || plan.count <= 0) return results;
  auto sock_for = [&](const IpAddr& a) -> IcmpSocket* {
    IcmpSocket* s = a.family == AF_INET6 ? v6 : v4;
    return s && s->fd() >= 0 ? s : nullptr;
  };

  std::random_device rd;
  // Raw sockets see everyone's ICMP: our id and sequence numbers tell our replies apart.
  // Datagram sockets get their id rewritten by the kernel and only see their own replies.
  const auto ident = static_cast<std::uint16_t>(rd());
  struct Pending {
    std::size_t target;
    TimePoint sent_at;
    bool large;  // the large echo (EchoPlan::large), counted apart
  };
  std::unordered_map<std::uint16_t, Pending> pending;  // sequence -> echo
  auto next_seq = static_cast<std::uint16_t>(rd());
  std::size_t outstanding = 0;

  // Large echoes need DF on their family's socket; a socket that refuses it sends none (the
  // error is theirs, they count as sent and lost like any other send error).
  std::string df_error4, df_error6;
  if (!plan.large.empty()) {
    bool want4 = false, want6 = false;
    for (std::size_t t : plan.large)
      if (t < targets.size()) (targets[t].family == AF_INET6 ? want6 : want4) = true;
    if (want4 && v4 && v4->fd() >= 0) df_error4 = v4->set_dont_fragment();
    if (want6 && v6 && v6->fd() >= 0) df_error6 = v6->set_dont_fragment();
  }

  std::vector<std::uint8_t> pkt;
  // One echo to target t (`payload` bytes after the header): false when it was not sent, with
  // the reason in `err` (errno in `err_no`).
  auto send_one = [&](std::size_t t, std::size_t payload, bool large, std::string& err,
                      int& err_no) {
    err_no = 0;
    IcmpSocket* s = sock_for(targets[t]);
    if (!s) {
      IcmpSocket* want = targets[t].family == AF_INET6 ? v6 : v4;
      err = want ? want->error() : "no socket for this address family";
      return false;
    }
    const bool six = targets[t].family == AF_INET6;
    if (large && !(six ? df_error6 : df_error4).empty()) {
      err = six ? df_error6 : df_error4;
      return false;
    }
    pkt.assign(sizeof(Echo) + payload, 0);
    const std::uint16_t seq = next_seq++;
    for (std::size_t i = sizeof(Echo); i < pkt.size(); ++i) pkt[i] = static_cast<std::uint8_t>(i);
    Echo e{static_cast<std::uint8_t>(six ? ICMP6_ECHO_REQUEST : ICMP_ECHO), 0, 0, htons(ident),
           htons(seq)};
    std::memcpy(pkt.data(), &e, sizeof(e));
    // IPv4 raw sockets need our checksum; the kernel computes it for ICMPv6 and datagram.
    if (!six) {
      e.checksum = inet_checksum(pkt.data(), pkt.size());
      std::memcpy(pkt.data(), &e, sizeof(e));
    }
    sockaddr_storage to{};
    socklen_t tolen;
    if (six) {
      auto* a = reinterpret_cast<sockaddr_in6*>(&to);
      a->sin6_family = AF_INET6;
      a->sin6_addr = targets[t].v6;
      tolen = sizeof(sockaddr_in6);
    } else {
      auto* a = reinterpret_cast<sockaddr_in*>(&to);
      a->sin_family = AF_INET;
      a->sin_addr = targets[t].v4;
      tolen = sizeof(sockaddr_in);
    }
    const TimePoint at = Clock::now();
    if (::sendto(s->fd(), pkt.data(), pkt.size(), 0, reinterpret_cast<sockaddr*>(&to), tolen) < 0) {
      err_no = errno;
      err = std::strerror(err_no);
      return false;
    }
    pending[seq] = Pending{t, at, large};
    ++outstanding;
    return true;
  };
  auto send_round = [&] {
    int err_no = 0;
    for (std::size_t t = 0; t < targets.size(); ++t) {
      results[t].sent++;
      send_one(t, plan.payload, false, results[t].error, err_no);  // not sent: counts as lost
    }
  };
  auto send_large = [&] {
    for (std::size_t t : plan.large) {
      if (t >= targets.size()) continue;
      EchoResult& r = results[t];
      std::string err;
      int err_no = 0;
      const std::size_t payload = echo_payload_for_mtu(targets[t].family, plan.large_mtu);
      if (send_one(t, payload, true, err, err_no)) {
        r.large_sent = 1;
      } else if (err_no == EMSGSIZE) {
        r.large_too_big = true;  // the stack knows a smaller MTU: not a blackhole
      } else {
        r.large_sent = 1;  // lost, like a small echo that could not be sent
        if (r.error.empty()) r.error = "large echo: " + err;
      }
    }
  };

  auto receive = [&](IcmpSocket& s) {
    std::uint8_t buf[1500];  // a larger reply (a large echo) is truncated: its header is enough
    for (;;) {
      sockaddr_storage from{};
      socklen_t fromlen = sizeof(from);
      ssize_t n =
          ::recvfrom(s.fd(), buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &fromlen);
      if (n < 0) return;  // EAGAIN: drained
      const TimePoint at = Clock::now();
      const bool six = s.family() == AF_INET6;
      std::size_t off = 0;
      if (s.raw() && !six) {  // raw IPv4 includes the IP header; raw IPv6 never does
        if (n < static_cast<ssize_t>(sizeof(iphdr))) continue;
        off = static_cast<std::size_t>(reinterpret_cast<const iphdr*>(buf)->ihl) * 4;
      }
      if (static_cast<std::size_t>(n) < off + sizeof(Echo)) continue;
      Echo e;
      std::memcpy(&e, buf + off, sizeof(e));
      if (e.type != (six ? ICMP6_ECHO_REPLY : ICMP_ECHOREPLY)) continue;
      if (s.raw() && ntohs(e.id) != ident) continue;
      auto it = pending.find(ntohs(e.seq));
      if (it == pending.end()) continue;
      const std::size_t t = it->second.target;
      const bool large = it->second.large;
      IpAddr src;
      src.family = from.ss_family;
      if (six)
        src.v6 = reinterpret_cast<const sockaddr_in6*>(&from)->sin6_addr;
      else
        src.v4 = reinterpret_cast<const sockaddr_in*>(&from)->sin_addr;
      if (!(src == targets[t])) continue;  // not from whom we asked
      if (large) {
        results[t].large_received++;  // its RTT is no sample of the small echoes
      } else {
        results[t].received++;
        results[t].rtts.push_back(at - it->second.sent_at);
      }
      pending.erase(it);
      --outstanding;
    }
  };

  std::vector<pollfd> fds;
  std::vector<IcmpSocket*> socks;
  for (IcmpSocket* s : {v4, v6}) {
    if (s && s->fd() >= 0) {
      fds.push_back(pollfd{s->fd(), POLLIN, 0});
      socks.push_back(s);
    }
  }
  const TimePoint start = Clock::now();
  int rounds_sent = 0;
  TimePoint last_send = start;
  for (;;) {
    const TimePoint now = Clock::now();
    if (rounds_sent < plan.count && now >= start + rounds_sent * plan.spacing) {
      send_round();
      if (rounds_sent == 0) send_large();
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
    for (auto& p : fds) p.revents = 0;
    int r = ::poll(fds.data(), fds.size(), static_cast<int>(std::max<long long>(0, ms)));
    if (r > 0)
      for (std::size_t i = 0; i < fds.size(); ++i)
        if (fds[i].revents) receive(*socks[i]);
  }
  return results;
}

}  // namespace vigil::checkers
