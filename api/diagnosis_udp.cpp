// udp-blocked: UDP lost while TCP and ICMP pass (a broken VXLAN/Geneve overlay, a firewall
// rule). Evidence: gossip probes whose direct UDP ping was lost although the peer answered a
// ping-req helper or the TCP fallback ping (DiagnosisInput::udp_links). Largest first: two
// zones, two untagged groups, then one node (to and from most of its peers), then single
// pairs; a pair whose ICMP link is down belongs to the other stages (a cut, not a UDP fault).
#include <set>

#include "api/diagnosis_analyzer.hpp"

namespace vigil::api::detail {
namespace {

/// A pair with a pattern, not chance: at least 2 probes rescued, at least half of them.
bool udp_bad(double lost, double probes) {
  return lost >= 2.0 && 2.0 * lost >= probes;
}

}  // namespace

void Analyzer::udp_blocked() {
  using Pair = std::pair<std::size_t, std::size_t>;
  std::vector<Pair> bad;
  for (const auto& [p, u] : udp_) {
    const auto [a, b] = p;
    if (!udp_bad(u.lost, u.probes) || blamed_[a] || blamed_[b] || covered_[a] || covered_[b])
      continue;
    if (link(a, b) == Link::bad || link(b, a) == Link::bad) continue;  // ICMP is down too
    bad.push_back(p);
  }
  if (bad.empty()) return;
  std::set<Pair> left(bad.begin(), bad.end());
  auto sum = [&](const std::vector<Pair>& pairs) {
    UdpPair t;
    for (const Pair& p : pairs) t.lost += udp_.at(p).lost, t.probes += udp_.at(p).probes;
    return t;
  };
  auto evidence = [&](const std::vector<Pair>& pairs) {
    const UdpPair t = sum(pairs);
    return std::to_string(static_cast<long>(t.lost)) + " of " +
           std::to_string(static_cast<long>(t.probes)) + " gossip probes between " +
           std::to_string(pairs.size()) + (pairs.size() == 1 ? " pair" : " node pairs") +
           " reached the peer only through TCP or a ping-req helper" + win() +
           ", while TCP (and ICMP where measured) pass";
  };

  // 1. Two zones: UDP lost across them from >= 2 nodes on each side (or the whole zone).
  const auto zs = zones();
  for (auto za = zs.begin(); za != zs.end(); ++za) {
    for (auto zb = std::next(za); zb != zs.end(); ++zb) {
      std::vector<Pair> across;
      std::set<std::size_t> side_a, side_b;
      for (const Pair& p : left) {
        const auto [x, y] = p;
        const bool xa = zone_[x] == za->first, xb = zone_[x] == zb->first;
        const bool ya = zone_[y] == za->first, yb = zone_[y] == zb->first;
        if (!((xa && yb) || (xb && ya))) continue;
        across.push_back(p);
        side_a.insert(xa ? x : y);
        side_b.insert(xa ? y : x);
      }
      const std::size_t need_a = std::min<std::size_t>(2, za->second.size());
      const std::size_t need_b = std::min<std::size_t>(2, zb->second.size());
      if (across.size() < 2 || side_a.size() < need_a || side_b.size() < need_b) continue;
      std::vector<std::size_t> all(side_a.begin(), side_a.end());
      all.insert(all.end(), side_b.begin(), side_b.end());
      add(DiagnosisKind::udp_blocked, "", names_of(all), {za->first, zb->first},
          "UDP lost between zone " + za->first + " and zone " + zb->first + ": " + evidence(across),
          0.85 * weight(across.size()));
      for (const Pair& p : across) left.erase(p);
    }
  }

  // 1b. Two groups the zone tags do not name: a connected set of lossy pairs that splits into
  // two sides of >= 2 nodes each with every pair across (2-colouring), covering at least half
  // of the pairs across. One node against the rest is a node-level fault (below).
  {
    std::map<std::size_t, std::vector<std::size_t>> adj;
    for (const Pair& p : left) adj[p.first].push_back(p.second), adj[p.second].push_back(p.first);
    std::map<std::size_t, int> side;
    for (const auto& [start, unused] : adj) {
      if (side.count(start)) continue;
      std::vector<std::size_t> comp{start}, todo{start};
      side[start] = 0;
      bool bipartite = true;
      while (!todo.empty()) {
        const std::size_t x = todo.back();
        todo.pop_back();
        for (std::size_t y : adj[x]) {
          if (!side.count(y)) {
            side[y] = 1 - side[x];
            comp.push_back(y);
            todo.push_back(y);
          } else if (side[y] == side[x]) {
            bipartite = false;
          }
        }
      }
      std::vector<std::size_t> s0, s1;
      for (std::size_t x : comp) (side[x] ? s1 : s0).push_back(x);
      const std::set<std::size_t> in_comp(comp.begin(), comp.end());
      std::vector<Pair> across;
      for (const Pair& p : left)
        if (in_comp.count(p.first)) across.push_back(p);
      if (!bipartite || s0.size() < 2 || s1.size() < 2 || 2 * across.size() < s0.size() * s1.size())
        continue;
      std::vector<std::string> n0 = names_of(s0), n1 = names_of(s1);
      auto list = [](const std::vector<std::string>& v) {
        std::string out;
        for (const auto& n : v) out += (out.empty() ? "" : ", ") + n;
        return "{" + out + "}";
      };
      add(DiagnosisKind::udp_blocked, "", names_of(comp), {},
          "UDP lost between " + list(n0) + " and " + list(n1) + ": " + evidence(across),
          0.8 * weight(across.size()));
      for (const Pair& p : across) left.erase(p);
    }
  }

  // 2. One node: UDP lost to and from >= 2 of its peers (greedy, most partners first).
  for (;;) {
    std::map<std::size_t, std::vector<Pair>> by_node;
    for (const Pair& p : left) by_node[p.first].push_back(p), by_node[p.second].push_back(p);
    std::size_t best = n_;
    for (const auto& [node, pairs] : by_node) {
      if (pairs.size() >= cfg_.min_witnesses &&
          (best == n_ || pairs.size() > by_node.at(best).size()))
        best = node;
    }
    if (best == n_) break;
    const std::vector<Pair> pairs = by_node.at(best);
    add(DiagnosisKind::udp_blocked, names_[best], {names_[best]}, {},
        "UDP to and from " + names_[best] + " is lost: " + evidence(pairs),
        0.8 * weight(pairs.size()));
    for (const Pair& p : pairs) left.erase(p);
  }

  // 3. Single pairs, with at least min_probes probes (one pair is the smallest claim: it needs
  // the most evidence of its own).
  for (const Pair& p : left) {
    if (udp_.at(p).probes < cfg_.min_probes) continue;
    add(DiagnosisKind::udp_blocked, "", names_of({p.first, p.second}), {},
        "UDP lost between " + names_[p.first] + " and " + names_[p.second] + ": " + evidence({p}),
        0.6);
  }
}

}  // namespace vigil::api::detail
