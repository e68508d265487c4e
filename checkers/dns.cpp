#include "checkers/dns.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>

#include "checkers/net.hpp"
#include "checkers/spec_reader.hpp"

namespace vigil::checkers {

namespace {

using Bytes = std::vector<std::uint8_t>;

bool encode_query(std::uint16_t id, const std::string& name, int qtype, Bytes& out) {
  out = {static_cast<std::uint8_t>(id >> 8),
         static_cast<std::uint8_t>(id),
         0x01,
         0x00,  // RD
         0,
         1,
         0,
         0,
         0,
         0,
         0,
         0};
  std::size_t start = 0;
  std::string n = name;
  if (!n.empty() && n.back() == '.') n.pop_back();
  if (n.empty() || n.size() > 253) return false;
  while (start <= n.size()) {
    auto dot = n.find('.', start);
    if (dot == std::string::npos) dot = n.size();
    std::size_t len = dot - start;
    if (len == 0 || len > 63) return false;
    out.push_back(static_cast<std::uint8_t>(len));
    out.insert(out.end(), n.begin() + static_cast<long>(start), n.begin() + static_cast<long>(dot));
    start = dot + 1;
  }
  out.push_back(0);
  out.push_back(static_cast<std::uint8_t>(qtype >> 8));
  out.push_back(static_cast<std::uint8_t>(qtype));
  out.push_back(0);
  out.push_back(1);  // IN
  return true;
}

// Skips a (possibly compressed) name at `pos`; false when malformed.
bool skip_name(const Bytes& m, std::size_t& pos) {
  for (int guard = 0; guard < 128; ++guard) {
    if (pos >= m.size()) return false;
    std::uint8_t len = m[pos];
    if ((len & 0xC0) == 0xC0) {
      pos += 2;
      return pos <= m.size();
    }
    pos += 1;
    if (len == 0) return true;
    pos += len;
  }
  return false;
}

std::uint16_t u16(const Bytes& m, std::size_t p) {
  return static_cast<std::uint16_t>((m[p] << 8) | m[p + 1]);
}

bool decode_answer(const Bytes& m, std::uint16_t id, int qtype, DnsAnswer& out) {
  if (m.size() < 12 || u16(m, 0) != id || !(m[2] & 0x80)) return false;
  out.rcode = m[3] & 0x0F;
  std::uint16_t qd = u16(m, 4), an = u16(m, 6);
  std::size_t pos = 12;
  for (int i = 0; i < qd; ++i) {
    if (!skip_name(m, pos) || pos + 4 > m.size()) return false;
    pos += 4;
  }
  for (int i = 0; i < an; ++i) {
    if (!skip_name(m, pos) || pos + 10 > m.size()) return false;
    std::uint16_t type = u16(m, pos), rdlen = u16(m, pos + 8);
    pos += 10;
    if (pos + rdlen > m.size()) return false;
    char buf[INET6_ADDRSTRLEN] = {};
    if (type == qtype && type == 1 && rdlen == 4)
      out.addrs.push_back(::inet_ntop(AF_INET, &m[pos], buf, sizeof buf));
    else if (type == qtype && type == 28 && rdlen == 16)
      out.addrs.push_back(::inet_ntop(AF_INET6, &m[pos], buf, sizeof buf));
    pos += rdlen;
  }
  return true;
}

}  // namespace

std::string dns_rcode_name(int rcode) {
  switch (rcode) {
    case 0:
      return "NOERROR";
    case 1:
      return "FORMERR";
    case 2:
      return "SERVFAIL";
    case 3:
      return "NXDOMAIN";
    case 4:
      return "NOTIMP";
    case 5:
      return "REFUSED";
    default:
      return "RCODE" + std::to_string(rcode);
  }
}

DnsAnswer dns_query(const std::string& ip, int port, const std::string& name, int qtype,
                    Deadline deadline) {
  DnsAnswer ans;
  sockaddr_storage ss{};
  socklen_t len = 0;
  int family = AF_INET;
  if (auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
      ::inet_pton(AF_INET, ip.c_str(), &s4->sin_addr) == 1) {
    s4->sin_family = AF_INET;
    s4->sin_port = htons(static_cast<std::uint16_t>(port));
    len = sizeof(sockaddr_in);
  } else if (auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
             ::inet_pton(AF_INET6, ip.c_str(), &s6->sin6_addr) == 1) {
    family = AF_INET6;
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(static_cast<std::uint16_t>(port));
    len = sizeof(sockaddr_in6);
  } else {
    ans.error = "server must be a numeric IP address";
    return ans;
  }
  thread_local std::mt19937 rng{std::random_device{}()};
  auto id = static_cast<std::uint16_t>(rng());
  Bytes query;
  if (!encode_query(id, name, qtype, query)) {
    ans.error = "invalid name";
    return ans;
  }
  net::Fd fd(::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    ans.error = std::strerror(errno);
    return ans;
  }
  while (!deadline.expired()) {
    if (::send(fd.get(), query.data(), query.size(), 0) < 0 && errno != ECONNREFUSED) {
      ans.error = std::strerror(errno);
      return ans;
    }
    Deadline retry = deadline.capped(std::chrono::seconds(1));
    while (net::wait_fd(fd.get(), POLLIN, retry)) {
      Bytes buf(4096);
      ssize_t n = ::recv(fd.get(), buf.data(), buf.size(), 0);
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) continue;
        ans.error = std::strerror(errno);  // e.g. ICMP port unreachable: Connection refused
        return ans;
      }
      buf.resize(static_cast<std::size_t>(n));
      DnsAnswer a;
      if (decode_answer(buf, id, qtype, a)) return a;  // else: stray or malformed, keep waiting
    }
  }
  ans.error = "timed out";
  return ans;
}

namespace {

class DnsChecker final : public Checker {
 public:
  DnsChecker(const CheckSpec& spec, DnsConfig cfg)
      : Checker(spec.type, spec.name), cfg_(std::move(cfg)) {
    if (!cfg_.server.empty()) net::split_host_port(cfg_.server, ip_, port_, "53");
  }

  // Checker
  Probe run(const CheckContext&, Deadline deadline) override {
    TimePoint t0 = Clock::now();
    int qtype = cfg_.record_type == "AAAA" ? 28 : 1;
    std::string via = cfg_.server.empty() ? "node resolver" : net::join_host_port(ip_, port_);
    std::string what = "resolve " + cfg_.record_type + " " + cfg_.query + " via " + via;
    std::vector<std::string> addrs;
    if (cfg_.server.empty()) {
      std::string err;
      auto res = net::resolve(cfg_.query, deadline, err, qtype == 28 ? AF_INET6 : AF_INET);
      if (res.empty()) return Probe::fail(Severity::critical, what + ": " + err);
      for (auto& r : res) addrs.push_back(r.ip);
    } else {
      auto a = dns_query(ip_, std::stoi(port_), cfg_.query, qtype, deadline);
      if (!a.error.empty()) return Probe::fail(Severity::critical, what + ": " + a.error);
      if (a.rcode != 0)
        return Probe::fail(Severity::critical, what + ": " + dns_rcode_name(a.rcode));
      if (a.addrs.empty())
        return Probe::fail(Severity::critical,
                           what + ": NOERROR but no " + cfg_.record_type + " records");
      addrs = std::move(a.addrs);
    }
    Duration took = Clock::now() - t0;
    std::string list;
    for (auto& a : addrs) list += (list.empty() ? "" : ", ") + a;
    std::string detail = cfg_.query + " -> " + list + " in " + format_duration(took);
    for (const auto& want : cfg_.expect)
      if (std::find(addrs.begin(), addrs.end(), want) == addrs.end())
        return Probe::fail(Severity::critical, what + ": expected " + want + ", got " + list,
                           detail);
    if (cfg_.warn_latency > Duration::zero() && took > cfg_.warn_latency)
      return Probe::fail(Severity::warning, what + ": took " + format_duration(took), detail);
    return Probe::ok(detail);
  }

 private:
  DnsConfig cfg_;
  std::string ip_, port_;
};

}  // namespace

MakeResult make_dns_checker(const CheckSpec& spec, CheckerContext&) {
  SpecReader r(spec);
  DnsConfig cfg;
  cfg.query = r.str("query", cfg.query);
  cfg.server = r.str("server");
  cfg.record_type = r.str("record_type", "A");
  cfg.expect = r.strings("expect");
  cfg.warn_latency = r.duration("warn_latency", {});
  if (cfg.record_type != "A" && cfg.record_type != "AAAA")
    r.error("record_type", "must be \"A\" or \"AAAA\"");
  Bytes probe;
  if (!encode_query(0, cfg.query, 1, probe)) r.error("query", "must be a valid DNS name");
  if (!cfg.server.empty()) {
    std::string ip, port;
    in6_addr a6{};
    if (!net::split_host_port(cfg.server, ip, port, "53") ||
        ::inet_pton(ip.find(':') == std::string::npos ? AF_INET : AF_INET6, ip.c_str(), &a6) != 1)
      r.error("server", "must be a numeric \"ip[:port]\"");
  }
  if (auto e = r.finish(); !e.empty()) return MakeResult::fail(e);
  return MakeResult::ok(std::make_unique<DnsChecker>(spec, std::move(cfg)));
}

}  // namespace vigil::checkers
