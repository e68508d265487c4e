#include "checkers/ping.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

#include "checkers/spec_reader.hpp"

namespace vigil::checkers {
namespace {

std::string percent(int lost, int sent) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%.0f%%", sent ? 100.0 * lost / sent : 0.0);
  return buf;
}

std::string millis(Duration d) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%.2fms", std::chrono::duration<double, std::milli>(d).count());
  return buf;
}

}  // namespace

PingChecker::PingChecker(std::string name, std::string node_name, PingConfig config)
    : Checker("ping", std::move(name)),
      config_(std::move(config)),
      rotation_(std::move(node_name), config_.max_peers_per_round),
      large_(config_.mtu_interval) {}

Probe PingChecker::run(const CheckContext& ctx, Deadline deadline) {
  std::vector<PeerResult> results;
  std::vector<IpAddr> addrs;
  std::string skipped;
  auto add = [&](const std::string& name, const std::string& ip, const std::string& zone) {
    auto a = IpAddr::parse(ip);
    if (!a) {
      skipped +=
          (skipped.empty() ? "" : ", ") + name + " (" + (ip.empty() ? "no address" : ip) + ")";
      return;
    }
    PeerResult r;
    r.peer = name;
    r.addr = ip;
    r.zone = zone;
    results.push_back(std::move(r));
    addrs.push_back(*a);
  };

  const auto& peers = ctx.peer_list();
  std::size_t mesh_targets = 0;
  if (config_.peers && !peers.empty()) {
    std::vector<std::string> names;
    for (const auto& p : peers) names.push_back(p.name);
    for (std::size_t i : rotation_.next_round(names))
      add(peers[i].name, peers[i].ip, peers[i].zone);
    mesh_targets = results.size();
  }
  for (const auto& t : config_.targets) add(t.name, t.addr, "");
  if (results.empty())
    return Probe::ok(skipped.empty() ? "no peers to ping yet"
                                     : "no IPv4 peers; skipped " + skipped);

  // One socket per family in use; both failing (or the only one) is a critical error.
  bool want4 = false, want6 = false;
  for (const auto& a : addrs) (a.family == AF_INET6 ? want6 : want4) = true;
  std::optional<IcmpSocket> s4, s6;
  if (want4) s4.emplace(IcmpSocket::open(AF_INET));
  if (want6) s6.emplace(IcmpSocket::open(AF_INET6));
  const bool ok4 = s4 && s4->fd() >= 0, ok6 = s6 && s6->fd() >= 0;
  if (!ok4 && !ok6) return Probe::fail(Severity::critical, (s4 ? *s4 : *s6).error());
  EchoPlan plan;
  plan.count = config_.count;
  plan.spacing = config_.packet_interval;
  plan.reply_timeout = config_.reply_timeout;
  {
    std::vector<std::string> names;
    for (const auto& r : results) names.push_back(r.peer);
    plan.large = large_.due(names, Clock::now());
    plan.large_mtu = config_.mtu;
  }
  auto echoes = ping_all(s4 ? &*s4 : nullptr, s6 ? &*s6 : nullptr, addrs, plan, deadline);
  std::string mode = (ok4 ? *s4 : *s6).mode();

  std::size_t all_lost = 0;
  std::string lossy, detail, large_lost, too_big;
  for (std::size_t i = 0; i < results.size(); ++i) {
    PeerResult& r = results[i];
    const EchoResult& e = echoes[i];
    r.sent = e.sent;
    r.lost = e.sent - e.received;
    r.rtt_samples = e.rtts;
    Duration sum{};
    for (auto d : e.rtts) sum += d;
    if (!e.rtts.empty()) r.rtt = sum / static_cast<long>(e.rtts.size());
    r.large_sent = e.large_sent;
    r.large_lost = e.large_sent - std::min(e.large_received, e.large_sent);
    r.large_too_big = e.large_too_big;
    if (r.large_sent > 0 || r.large_too_big) r.large_bytes = config_.mtu;
    if (r.large_lost > 0) large_lost += (large_lost.empty() ? "" : ", ") + r.peer;
    if (r.large_too_big) too_big += (too_big.empty() ? "" : ", ") + r.peer;
    if (r.sent > 0 && r.lost == r.sent) ++all_lost;
    std::string line = r.peer + " " + percent(r.lost, r.sent) + " loss";
    if (!e.rtts.empty()) line += " rtt " + millis(r.rtt);
    if (!e.error.empty()) line += " (" + e.error + ")";
    if (i < 10) detail += (detail.empty() ? "" : ", ") + line;
    if (r.sent > 0 && static_cast<double>(r.lost) / r.sent > config_.loss_threshold)
      lossy += (lossy.empty() ? "" : ", ") + line;
  }
  if (results.size() > 10) detail += ", ...";
  std::string head = "pinged " + std::to_string(mesh_targets) + " of " +
                     std::to_string(config_.peers ? peers.size() : 0) + " peers";
  if (!config_.targets.empty())
    head += " and " + std::to_string(config_.targets.size()) + " external targets";
  head += " (" + mode + " ICMP socket, " + std::to_string(config_.count) + " echoes each): ";
  detail = head + detail;
  const std::string large = std::to_string(config_.mtu) + "-byte echo (DF)";
  if (!large_lost.empty()) detail += "; " + large + " lost: " + large_lost;
  if (!too_big.empty())
    detail +=
        "; " + large + " refused by this node's stack (a smaller MTU on its path): " + too_big;
  if (!skipped.empty()) detail += "; skipped " + skipped;

  for (auto& r : results) r.protocol = "icmp";
  Probe probe;
  if (all_lost == results.size()) {
    probe = Probe::fail(Severity::critical,
                        "all " + std::to_string(results.size()) +
                            " ping targets lost every echo: this node looks isolated",
                        detail);
  } else if (!lossy.empty()) {
    probe =
        Probe::fail(Severity::warning,
                    "loss above " + percent(static_cast<int>(config_.loss_threshold * 1000), 1000) +
                        ": " + lossy,
                    detail);
  } else {
    probe = Probe::ok(detail);
  }
  probe.peers = std::move(results);
  return probe;
}

MakeResult make_ping_checker(const CheckSpec& spec, CheckerContext& ctx) {
  SpecReader r(spec);
  PingConfig c;
  c.count = static_cast<int>(r.integer("count", c.count, 1, 1000));
  c.packet_interval = r.duration("packet_interval", c.packet_interval);
  c.reply_timeout = r.duration("reply_timeout", c.reply_timeout);
  c.max_peers_per_round = static_cast<std::size_t>(r.integer("max_peers_per_round", 8, 1, 10000));
  c.peers = r.boolean("peers", c.peers);
  c.loss_threshold = r.number("loss_threshold", c.loss_threshold, 0.0, 1.0);
  c.mtu = static_cast<int>(r.integer("mtu", c.mtu, 576, 65535));
  c.mtu_interval = r.duration("mtu_interval", c.mtu_interval);
  if (c.mtu_interval > Duration::zero() && c.mtu_interval < std::chrono::seconds(1))
    r.error("mtu_interval", "must be 0s (no large echoes) or >= 1s");
  for (const auto& t : r.strings("targets", {})) {
    PingTarget pt;
    auto eq = t.find('=');
    pt.name = eq == std::string::npos ? t : t.substr(0, eq);
    pt.addr = eq == std::string::npos ? t : t.substr(eq + 1);
    if (!IpAddr::parse(pt.addr))
      r.error("targets", "\"" + t + "\": expected an IP address or name=IP");
    c.targets.push_back(std::move(pt));
  }
  if (c.packet_interval < std::chrono::milliseconds(1))
    r.error("packet_interval", "must be >= 1ms");
  if (c.reply_timeout <= Duration::zero()) r.error("reply_timeout", "must be > 0");
  const Duration run_time = (c.count - 1) * c.packet_interval + c.reply_timeout;
  if (run_time >= spec.timeout)
    r.error("timeout",
            "must exceed (count-1)*packet_interval + reply_timeout = " + format_duration(run_time));
  if (!c.peers && c.targets.empty()) r.error("targets", "nothing to ping: peers off, no targets");
  if (auto err = r.finish(); !err.empty()) return MakeResult::fail(err);
  return MakeResult::ok(std::make_unique<PingChecker>(spec.name, ctx.node_name, std::move(c)));
}

}  // namespace vigil::checkers
