#include "sim_prober.hpp"

#include <string>

namespace vigil::sim {

SimIcmpProber::SimIcmpProber(SimNetwork& net, std::uint64_t seed, ProberOptions options)
    : net_(net), opt_(options), rng_(seed) {}

void SimIcmpProber::drop_requests(std::size_t from, std::size_t to, double p) {
  if (p > 0) {
    request_drop_[{from, to}] = p;
  } else {
    request_drop_.erase({from, to});
  }
}

void SimIcmpProber::step(const Sink& sink) {
  const auto interval_ticks = opt_.interval.count();
  while (rotation_.size() < net_.size()) {  // nodes added since the last step
    const std::size_t i = rotation_.size();
    rotation_.emplace_back(net_.name(i), opt_.max_peers_per_round);
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
  std::vector<checkers::PeerResult> out;
  for (std::size_t k : rotation_[node].next_round(names)) {
    out.push_back(ping(node, net_.index_of(names[k])));
  }
  return out;
}

checkers::PeerResult SimIcmpProber::ping(std::size_t from, std::size_t to) {
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
  return r;
}

}  // namespace vigil::sim
