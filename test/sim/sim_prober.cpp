#include "sim_prober.hpp"

#include <string>

namespace vigil::sim {

SimIcmpProber::SimIcmpProber(SimNetwork& net, std::uint64_t seed, ProberOptions options)
    : net_(net), opt_(options), rng_(seed), large_rng_(seed ^ 0x6c61726765ULL) {}

void SimIcmpProber::drop_requests(std::size_t from, std::size_t to, double p) {
  if (p > 0) {
    request_drop_[{from, to}] = p;
  } else {
    request_drop_.erase({from, to});
  }
}

void SimIcmpProber::set_node_mtu(std::size_t node, int bytes) {
  if (bytes > 0) {
    node_mtu_[node] = bytes;
  } else {
    node_mtu_.erase(node);
  }
}

void SimIcmpProber::step(const Sink& sink) {
  const auto interval_ticks = opt_.interval.count();
  while (rotation_.size() < net_.size()) {  // nodes added since the last step
    const std::size_t i = rotation_.size();
    rotation_.emplace_back(net_.name(i), opt_.max_peers_per_round);
    large_.emplace_back(opt_.mtu_interval);
    const Duration stagger{std::uniform_int_distribution<Duration::rep>(0, interval_ticks)(rng_)};
    next_run_.push_back(net_.now() + stagger);
  }
  for (std::size_t i = 0; i < net_.size(); ++i) {
    if (net_.now() < next_run_[i]) continue;
    next_run_[i] += opt_.interval;
    if (next_run_[i] <= net_.now()) next_run_[i] = net_.now() + opt_.interval;
    if (!net_.up(i)) continue;
    const std::vector<checkers::PeerResult> results = run(i);
    if (!results.empty()) sink(i, results);
  }
}

std::vector<checkers::PeerResult> SimIcmpProber::run(std::size_t node) {
  // The ping checker's peer list: every member alive or suspect in this node's view.
  std::vector<std::string> names;
  for (const gossip::Member& m : net_.node(node).members()) {
    if (m.name == net_.name(node)) continue;
    if (m.state != gossip::MemberState::alive && m.state != gossip::MemberState::suspect) continue;
    names.push_back(m.name);
  }
  std::vector<std::string> round;
  for (std::size_t k : rotation_[node].next_round(names)) round.push_back(names[k]);
  std::vector<char> large(round.size(), 0);
  for (std::size_t k : large_[node].due(round, net_.now())) large[k] = 1;
  std::vector<checkers::PeerResult> out;
  for (std::size_t k = 0; k < round.size(); ++k)
    out.push_back(ping(node, net_.index_of(round[k]), large[k] != 0));
  return out;
}

checkers::PeerResult SimIcmpProber::ping(std::size_t from, std::size_t to, bool large) {
  checkers::PeerResult r;
  r.peer = net_.name(to);
  r.protocol = "icmp";
  r.sent = opt_.count;
  double request_ok = net_.delivery(from, to);
  if (auto it = request_drop_.find({from, to}); it != request_drop_.end())
    request_ok *= 1 - it->second;
  const double reply_ok = net_.delivery(to, from);
  std::uniform_real_distribution<double> coin(0, 1);
  Duration rtt_sum{};
  for (int e = 0; e < opt_.count; ++e) {
    const bool answered = coin(rng_) < request_ok && coin(rng_) < reply_ok;
    if (!answered) {
      ++r.lost;
      continue;
    }
    const Duration rtt = net_.sample_latency(rng_) + net_.sample_latency(rng_);
    r.rtt_samples.push_back(rtt);
    rtt_sum += rtt;
  }
  if (r.lost < r.sent) r.rtt = rtt_sum / (r.sent - r.lost);
  if (large) {
    // The path's MTU: the smallest of the two ends' (the rest of the network passes anything).
    bool fits = true;
    for (std::size_t n : {from, to})
      if (auto it = node_mtu_.find(n); it != node_mtu_.end()) fits = fits && opt_.mtu <= it->second;
    r.large_sent = 1;
    r.large_bytes = opt_.mtu;
    const bool answered = fits && coin(large_rng_) < request_ok && coin(large_rng_) < reply_ok;
    r.large_lost = answered ? 0 : 1;
  }
  return r;
}

}  // namespace vigil::sim
