// mtu-blackhole: large packets lost while small ones pass (a lowered MTU on one veth, bridge or
// tunnel; an overlay that forgot its encapsulation overhead; a filter eating the ICMP
// "fragmentation needed" that path MTU discovery relies on). Evidence: the ping checker's large
// echoes (DF set, sized to its `mtu`; DiagnosisInput::large_echoes) lost on pairs whose small
// echoes pass. Two zones first, then one node (to and from most of its peers, which reach
// each other with large packets), then what no node explains: the whole cluster when it spans
// most measured pairs (the MTU configured is above the network's), else single pairs. (The
// whole cluster comes after the nodes so that two sick nodes are two nodes.) A pair whose small
// echoes are lost too belongs to the other stages (loss, a cut), and so does a node a larger
// fault already explains.
#include <set>

#include "api/diagnosis_analyzer.hpp"

namespace vigil::api::detail {
namespace {

/// A pair's large echoes (both directions pooled) mostly lost: at least one, at least half.
bool mostly_lost(double lost, double sent) {
  return lost >= 1.0 && 2.0 * lost >= sent;
}

/// "1500-byte", "1500-9000-byte" (observers configured differently), "large" (unknown).
std::string size_text(std::uint32_t lo, std::uint32_t hi) {
  if (hi == 0) return "large";
  if (lo == hi || lo == UINT32_MAX) return std::to_string(hi) + "-byte";
  return std::to_string(lo) + "-" + std::to_string(hi) + "-byte";
}

}  // namespace

void Analyzer::mtu_blackhole() {
  using Pair = std::pair<std::size_t, std::size_t>;
  // Small echoes pass between a and b: fine in at least one measured direction, lossy or down
  // in neither (otherwise it is loss or a cut, judged by the other stages).
  auto small_pass = [&](std::size_t a, std::size_t b) {
    const Link ab = link(a, b), ba = link(b, a);
    const auto ok = [](Link l) { return l == Link::good || l == Link::none; };
    return ok(ab) && ok(ba) && (ab == Link::good || ba == Link::good);
  };
  auto usable = [&](std::size_t x) { return fresh(x) && !blamed_[x] && !covered_[x]; };
  std::set<Pair> bad;
  for (const auto& [p, m] : mtu_) {
    if (mostly_lost(m.lost, m.sent) && usable(p.first) && usable(p.second) &&
        small_pass(p.first, p.second))
      bad.insert(p);
  }
  if (bad.empty()) return;
  // The pairs a large echo could have shown lost on: usable, small echoes passing. A pair no
  // observer reports large loss on lost none (peers gossip large echoes only when lost).
  std::set<Pair> measured;
  for (std::size_t x = 0; x < n_; ++x) {
    if (!usable(x)) continue;
    for (const Edge& e : outs_[x]) {
      const Pair p{std::min(x, e.to), std::max(x, e.to)};
      if (usable(e.to) && small_pass(p.first, p.second)) measured.insert(p);
    }
  }
  auto evidence = [&](const std::vector<Pair>& pairs) {
    MtuPair t;
    for (const Pair& p : pairs) {
      const MtuPair& m = mtu_.at(p);
      t.lost += m.lost;
      t.sent += m.sent;
      t.min_bytes = std::min(t.min_bytes, m.min_bytes);
      t.max_bytes = std::max(t.max_bytes, m.max_bytes);
    }
    return t;
  };
  auto echoes = [&](const MtuPair& t) {
    return std::to_string(static_cast<long>(t.lost)) + " of " +
           std::to_string(static_cast<long>(t.sent)) + " large echoes (DF set) lost" + win();
  };
  // Per node: its measured pairs (adjacency) and how many of them lose large echoes.
  std::vector<std::vector<std::size_t>> peers_of(n_);
  std::vector<std::size_t> lost_with(n_, 0);
  for (const Pair& p : measured)
    peers_of[p.first].push_back(p.second), peers_of[p.second].push_back(p.first);
  for (const Pair& p : bad) ++lost_with[p.first], ++lost_with[p.second];

  std::set<Pair> left = bad;

  // 1. Two zones: most measured pairs across lose large echoes, from >= 2 nodes on each side
  // (or the whole zone), while large echoes pass inside each zone.
  const auto zs = zones();
  for (auto za = zs.begin(); za != zs.end(); ++za) {
    for (auto zb = std::next(za); zb != zs.end(); ++zb) {
      auto in = [&](std::size_t x, const std::string& z) { return zone_[x] == z; };
      auto across = [&](const Pair& p) {
        return (in(p.first, za->first) && in(p.second, zb->first)) ||
               (in(p.first, zb->first) && in(p.second, za->first));
      };
      std::vector<Pair> lost;
      std::set<std::size_t> side_a, side_b;
      for (const Pair& p : left) {
        if (!across(p)) continue;
        lost.push_back(p);
        side_a.insert(in(p.first, za->first) ? p.first : p.second);
        side_b.insert(in(p.first, za->first) ? p.second : p.first);
      }
      const std::size_t need_a = std::min<std::size_t>(2, za->second.size());
      const std::size_t need_b = std::min<std::size_t>(2, zb->second.size());
      if (lost.size() < 2 || side_a.size() < need_a || side_b.size() < need_b) continue;
      Count cross, inside;
      for (const Pair& p : measured) {
        if (across(p)) {
          ++cross.total;
          cross.hit += bad.count(p);
        } else if (zone_[p.first] == zone_[p.second] &&
                   (in(p.first, za->first) || in(p.first, zb->first))) {
          ++inside.total;
          inside.hit += bad.count(p);
        }
      }
      if (static_cast<double>(cross.hit) < cfg_.zone_cut * cross.total) continue;
      if (static_cast<double>(inside.hit) > cfg_.zone_internal_bad_max * inside.total) continue;
      std::vector<std::size_t> all(side_a.begin(), side_a.end());
      all.insert(all.end(), side_b.begin(), side_b.end());
      const MtuPair t = evidence(lost);
      std::string ev = size_text(t.min_bytes, t.max_bytes) + " packets are lost between zone " +
                       za->first + " and zone " + zb->first + ": " + of(cross.hit, cross.total) +
                       " node pairs across (" + echoes(t) + "), while small packets pass";
      if (inside.total > 0)
        ev += " and large ones pass inside the zones (" +
              of(inside.total - inside.hit, inside.total) + " pairs)";
      add(DiagnosisKind::mtu_blackhole, "", names_of(all), {za->first, zb->first}, ev,
          0.85 * weight(lost.size()));
      for (const Pair& p : lost) left.erase(p);
    }
  }

  // 2. One node: large echoes to and from most of its measured peers lost (>= 2), while those
  // peers' large echoes to each other pass (greedy, most partners first). Partners that lose
  // most of their own peers too are left out of that control: two sick nodes must not hide
  // each other.
  std::vector<char> sick(n_, 0);
  for (std::size_t x = 0; x < n_; ++x) sick[x] = most(lost_with[x], peers_of[x].size());
  for (;;) {
    std::map<std::size_t, std::vector<Pair>> by_node;
    for (const Pair& p : left) by_node[p.first].push_back(p), by_node[p.second].push_back(p);
    std::size_t best = n_;
    Count best_ctl;
    for (const auto& [x, pairs] : by_node) {
      if (pairs.size() < cfg_.min_witnesses || !most(pairs.size(), peers_of[x].size())) continue;
      std::vector<char> partner(n_, 0);
      for (const Pair& p : pairs) {
        const std::size_t y = p.first == x ? p.second : p.first;
        partner[y] = !sick[y];
      }
      Count ctl;  // the partners' own pairs: large echoes pass between them
      for (std::size_t y = 0; y < n_; ++y) {
        if (!partner[y]) continue;
        for (std::size_t z : peers_of[y]) {
          if (z < y || !partner[z]) continue;
          ++ctl.total;
          ctl.hit += !bad.count({y, z});
        }
      }
      if (!control_ok(ctl)) continue;
      if (best == n_ || pairs.size() > by_node.at(best).size()) best = x, best_ctl = ctl;
    }
    if (best == n_) break;
    const std::vector<Pair> pairs = by_node.at(best);
    const MtuPair t = evidence(pairs);
    add(DiagnosisKind::mtu_blackhole, names_[best], {names_[best]}, {},
        size_text(t.min_bytes, t.max_bytes) + " packets to and from " + names_[best] +
            " are lost: " + of(pairs.size(), peers_of[best].size()) + " peers (" + echoes(t) +
            "), while small packets pass and its peers' large packets reach each other (" +
            of(best_ctl.hit, best_ctl.total) + " pairs)",
        0.8 * weight(pairs.size()) * static_cast<double>(pairs.size()) /
            static_cast<double>(peers_of[best].size()));
    for (const Pair& p : pairs) left.erase(p);
  }

  // 3. The whole cluster: what no node explains spans most measured pairs (no node's peers
  // reach each other with large packets): the MTU configured is above the network's.
  {
    std::set<std::size_t> involved;
    for (const Pair& p : left) involved.insert(p.first), involved.insert(p.second);
    if (involved.size() >= 3 && left.size() >= 3 && most(left.size(), measured.size())) {
      const MtuPair t = evidence({left.begin(), left.end()});
      add(DiagnosisKind::mtu_blackhole, "", names_of({involved.begin(), involved.end()}), {},
          size_text(t.min_bytes, t.max_bytes) + " packets are lost between " +
              of(left.size(), measured.size()) + " node pairs whose small packets pass (" +
              echoes(t) + "): the network's MTU is below the ping checker's `mtu`, or every " +
              "path drops large packets",
          0.7 * weight(left.size()) * static_cast<double>(left.size()) / measured.size());
      return;
    }
  }

  // 4. Single pairs, with a pattern (>= 2 large echoes lost), not one unlucky echo.
  for (const Pair& p : left) {
    const MtuPair& m = mtu_.at(p);
    if (m.lost < 2.0) continue;
    add(DiagnosisKind::mtu_blackhole, "", names_of({p.first, p.second}), {},
        size_text(m.min_bytes, m.max_bytes) + " packets between " + names_[p.first] + " and " +
            names_[p.second] + " are lost (" + echoes(m) + "), while small packets pass",
        0.6);
  }
}

}  // namespace vigil::api::detail
