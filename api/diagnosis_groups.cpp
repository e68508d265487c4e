#include "api/diagnosis_analyzer.hpp"

#include <set>
#include <utility>

// Zone and partition reasoning: the largest faults, judged first.
namespace vigil::api::detail {

std::map<std::string, std::vector<std::size_t>> Analyzer::zones() const {
  std::map<std::string, std::vector<std::size_t>> z;
  for (std::size_t i = 0; i < n_; ++i) {
    if (!zone_[i].empty() && status_[i] != PeerStatus::left) z[zone_[i]].push_back(i);
  }
  return z;
}

/// Members of `zone` that are not lost by most of their in-zone peers ("healthy core"), so
/// one dead node does not hide its zone's partition.
std::vector<std::size_t> Analyzer::core(const std::vector<std::size_t>& zone) const {
  std::vector<std::size_t> out;
  const std::vector<char> in_zone = mark(zone);
  for (std::size_t s : zone) {
    Count in;
    for (std::size_t o : ins_[s]) {
      if (!in_zone[o]) continue;
      const Link l = link(o, s);
      if (l == Link::none) continue;
      ++in.total;
      in.hit += l == Link::bad;
    }
    if (!most(in.hit, in.total)) out.push_back(s);
  }
  return out;
}

void Analyzer::zone_partitions() {
  const auto z = zones();
  for (auto a = z.begin(); a != z.end(); ++a) {
    for (auto b = std::next(a); b != z.end(); ++b) {
      const auto ca = core(a->second);
      const auto cb = core(b->second);
      Count cross;
      std::set<std::size_t> inv_a, inv_b;
      const std::vector<char> in_ca = mark(ca), in_cb = mark(cb);
      const auto count = [&](const std::vector<std::size_t>& from, const std::vector<char>& to,
                             bool from_a) {
        for (std::size_t f : from) {
          for (const Edge& e : outs_[f]) {
            const Link l = to[e.to] ? link(f, e.to) : Link::none;
            if (l == Link::none) continue;
            ++cross.total;
            if (l != Link::bad) continue;
            ++cross.hit;
            inv_a.insert(from_a ? f : e.to);
            inv_b.insert(from_a ? e.to : f);
          }
        }
      };
      count(ca, in_cb, true);
      count(cb, in_ca, false);
      if (cross.total < cfg_.min_witnesses || inv_a.size() < 2 || inv_b.size() < 2) continue;
      if (static_cast<double>(cross.hit) < cfg_.zone_cut * cross.total) continue;
      Count inside;
      bool fine = true;
      for (const auto* side : {&ca, &cb}) {
        const Count c = down_within(*side);  // lossy links do not cut a zone
        inside.hit += c.total - c.hit;
        inside.total += c.total;
        fine = fine && static_cast<double>(c.hit) <= cfg_.zone_internal_bad_max * c.total;
      }
      if (!fine || inside.total == 0) continue;
      std::vector<std::string> zs = {a->first, b->first};
      // The side that lost its gossip standing (failed members) is the one named "cut".
      const auto failed = [&](const std::vector<std::size_t>& v) {
        return std::count_if(v.begin(), v.end(), [&](std::size_t i) { return !fresh(i); });
      };
      if (failed(b->second) > failed(a->second)) std::swap(zs[0], zs[1]);
      std::vector<std::size_t> inv(inv_a.begin(), inv_a.end());
      inv.insert(inv.end(), inv_b.begin(), inv_b.end());
      add(DiagnosisKind::zone_partition, "", names_of(inv), zs,
          "zone " + zs[0] + " is cut from zone " + zs[1] + ": " + of(cross.hit, cross.total) +
              " cross-zone links lose > " + bad_pct() + " of probes" + win() + ", while " +
              of(inside.hit, inside.total) + " links inside the zones are fine",
          0.95 * (static_cast<double>(cross.hit) / cross.total) * weight(cross.total));
      const std::vector<char> in_b = mark(b->second);
      for (std::size_t x : a->second) {
        for (const Edge& e : outs_[x]) {
          if (in_b[e.to]) explain(x, e.to);
        }
        for (std::size_t o : ins_[x]) {
          if (in_b[o]) explain(o, x);
        }
      }
      for (std::size_t x : inv) covered_[x] = 1;
      // Members gossip gave up on are explained by the cut too, unless their own zone loses
      // them (not in the core: a fault of their own, judged per node below).
      for (const auto* side : {&ca, &cb}) {
        for (std::size_t x : *side) covered_[x] = covered_[x] || !fresh(x);
      }
    }
  }
}

void Analyzer::zone_membership() {
  const auto z = zones();
  for (const auto& [name, members] : z) {
    if (members.size() < 2) continue;
    const bool all_failed = std::all_of(members.begin(), members.end(), [&](std::size_t i) {
      return status_[i] == PeerStatus::failed && !covered_[i];
    });
    if (!all_failed) continue;
    std::vector<std::string> up;
    for (const auto& [other, om] : z) {
      if (other != name && std::any_of(om.begin(), om.end(), [&](auto i) { return fresh(i); })) {
        up.push_back(other);
      }
    }
    if (up.empty()) continue;
    Count in;  // probes towards the zone from outside
    for (std::size_t t : members) {
      for (std::size_t o : ins_[t]) {
        if (zone_[o] == name) continue;
        const Link l = link(o, t);
        if (l == Link::none) continue;
        ++in.total;
        in.hit += l == Link::bad;
      }
    }
    if (in.total > 0 && !most(in.hit, in.total)) continue;  // probes say they are reachable
    std::string ev = "all " + std::to_string(members.size()) + " nodes of zone " + name +
                     " are failed in gossip while zone " + up[0];
    for (std::size_t k = 1; k < up.size(); ++k) ev += ", " + up[k];
    ev += up.size() > 1 ? " are up" : " is up";
    ev += in.total > 0
              ? "; " + of(in.hit, in.total) + " links to them lose > " + bad_pct() + " of probes"
              : "; no recent probe results";
    std::vector<std::string> zs = {name};
    zs.insert(zs.end(), up.begin(), up.end());
    add(DiagnosisKind::zone_partition, "", names_of(members), zs, ev,
        in.total > 0 ? 0.8 * weight(in.total) : 0.6);
    for (std::size_t i : members) {
      covered_[i] = 1;
      explain_node(i);
    }
  }
}

/// A split that zones do not explain: the reporting nodes fall into >= 2 groups (of >= 2)
/// that reach each other inside and lose each other across. Reported as split-brain so that
/// no node of either side is blamed for it.
void Analyzer::partitions() {
  std::vector<std::size_t> group(n_, n_);
  std::vector<std::vector<std::size_t>> groups;
  for (std::size_t s = 0; s < n_; ++s) {
    if (!fresh(s) || group[s] != n_) continue;
    std::vector<std::size_t> members{s};
    group[s] = groups.size();
    for (std::size_t k = 0; k < members.size(); ++k) {  // BFS over reachable links
      const std::size_t x = members[k];
      std::vector<std::size_t> next = ins_[x];
      for (const Edge& e : outs_[x]) next.push_back(e.to);
      for (std::size_t y : next) {
        if (!fresh(y) || group[y] != n_) continue;
        const Link a = link(x, y), b = link(y, x);
        const bool reach =
            (a != Link::none && a != Link::bad) || (b != Link::none && b != Link::bad);
        if (!reach) continue;
        group[y] = groups.size();
        members.push_back(y);
      }
    }
    groups.push_back(std::move(members));
  }
  std::vector<std::size_t> big;  // groups of >= 2; singletons are node-level faults
  for (std::size_t g = 0; g < groups.size(); ++g) {
    if (groups[g].size() >= 2) big.push_back(g);
  }
  if (big.size() < 2) return;
  Count cross;
  for (std::size_t x = 0; x < n_; ++x) {
    for (const Edge& e : outs_[x]) {
      const std::size_t y = e.to;
      if (group[x] == n_ || group[y] == n_ || group[x] == group[y]) continue;
      if (groups[group[x]].size() < 2 || groups[group[y]].size() < 2) continue;
      const Link l = link(x, y);
      if (l == Link::none) continue;
      ++cross.total;
      cross.hit += l == Link::bad;
    }
  }
  if (cross.total < cfg_.min_witnesses) return;
  if (static_cast<double>(cross.hit) < cfg_.zone_cut * cross.total) return;
  std::string sides;
  std::vector<std::size_t> all;
  for (std::size_t g : big) {
    const auto names = names_of(groups[g]);
    std::string list;
    for (const auto& nm : names) list += (list.empty() ? "" : ", ") + nm;
    sides += (sides.empty() ? "{" : " | {") + list + "}";
    all.insert(all.end(), groups[g].begin(), groups[g].end());
  }
  add(DiagnosisKind::split_brain, "", names_of(all), {},
      "the cluster is split into " + std::to_string(big.size()) + " groups that lose > " +
          bad_pct() + " of probes to each other (" + of(cross.hit, cross.total) + " links" + win() +
          "): " + sides,
      0.9 * (static_cast<double>(cross.hit) / cross.total) * weight(cross.total));
  const std::vector<char> in_all = mark(all);
  for (std::size_t x : all) {
    for (const Edge& e : outs_[x]) {
      if (in_all[e.to] && group[x] != group[e.to]) explain(x, e.to);
    }
  }
}

}  // namespace vigil::api::detail
