#include "api/diagnosis.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

namespace vigil::api {
namespace {

enum class Link : std::uint8_t { none, good, lossy, bad };

struct Cell {
  double lost = 0.0;    // probes lost (loss * probes, pooled over samples)
  double probes = 0.0;  // probes sent
};

/// Weight of k agreeing observations: 1/2, 2/3, 3/4, ... (more witnesses, more confidence).
double weight(std::size_t k) {
  return static_cast<double>(k) / static_cast<double>(k + 1);
}

std::string pct(double fraction) {
  return std::to_string(static_cast<int>(std::lround(fraction * 100.0))) + "%";
}

std::string of(std::size_t a, std::size_t b) {
  return std::to_string(a) + " of " + std::to_string(b);
}

struct Count {
  std::size_t hit = 0;    // links with the property looked for
  std::size_t total = 0;  // measured links
};

class Analyzer {
 public:
  Analyzer(const DiagnosisInput& in, const DiagnosisConfig& cfg) : cfg_(cfg) {
    std::vector<const DiagnosisNode*> sorted;
    for (const auto& n : in.nodes) sorted.push_back(&n);
    std::sort(sorted.begin(), sorted.end(),
              [](const auto* a, const auto* b) { return a->name < b->name; });
    for (const auto* n : sorted) {
      if (!index_.emplace(n->name, names_.size()).second) continue;  // duplicate name
      names_.push_back(n->name);
      status_.push_back(n->status);
      zone_.push_back(n->zone);
    }
    n_ = names_.size();
    cells_.assign(n_ * n_, Cell{});
    explained_.assign(n_ * n_, 0);
    blamed_.assign(n_, 0);
    covered_.assign(n_, 0);
    for (const auto& s : in.links) {
      const auto f = index_.find(s.from);
      const auto t = index_.find(s.to);
      if (f == index_.end() || t == index_.end() || f->second == t->second) continue;
      if (!fresh(f->second) || s.probes == 0) continue;
      Cell& c = cells_[f->second * n_ + t->second];
      c.lost += std::clamp(s.loss, 0.0, 1.0) * s.probes;
      c.probes += s.probes;
    }
    observer_ = in.observer;
    window_ = in.window;
    for (std::size_t i = 0; i < n_; ++i) non_left_ += status_[i] != PeerStatus::left;
  }

  std::vector<DiagnosisEntry> run() {
    zone_partitions();
    zone_membership();
    partitions();
    nodes_from_matrix();
    nodes_from_membership();
    links();
    lossy_nodes();
    std::stable_sort(out_.begin(), out_.end(), [](const auto& a, const auto& b) {
      return std::tie(b.confidence, a.kind, a.node) < std::tie(a.confidence, b.kind, b.node);
    });
    return std::move(out_);
  }

 private:
  // ------------------------------------------------------------------ matrix helpers
  bool fresh(std::size_t i) const {
    return status_[i] == PeerStatus::alive || status_[i] == PeerStatus::suspect;
  }
  double loss(std::size_t i, std::size_t j) const {
    const Cell& c = cells_[i * n_ + j];
    return c.probes > 0 ? c.lost / c.probes : 0.0;
  }
  std::uint32_t probes(std::size_t i, std::size_t j) const {
    return static_cast<std::uint32_t>(cells_[i * n_ + j].probes);
  }
  Link link(std::size_t i, std::size_t j) const {
    if (i == j || explained_[i * n_ + j] || cells_[i * n_ + j].probes < cfg_.min_probes) {
      return Link::none;
    }
    const double l = loss(i, j);
    if (l > cfg_.bad_loss) return Link::bad;
    return l >= cfg_.lossy_loss ? Link::lossy : Link::good;
  }
  void explain(std::size_t i, std::size_t j) {
    explained_[i * n_ + j] = 1;
    explained_[j * n_ + i] = 1;
  }
  void explain_node(std::size_t i) {
    for (std::size_t j = 0; j < n_; ++j) explain(i, j);
  }
  /// Among the measured links between members of `set` (ordered pairs, `skip` excluded): how
  /// many are fine (good).
  Count control(const std::vector<std::size_t>& set, std::size_t skip) const {
    Count c;
    for (std::size_t x : set) {
      for (std::size_t y : set) {
        if (x == y || x == skip || y == skip) continue;
        const Link l = link(x, y);
        if (l == Link::none) continue;
        ++c.total;
        c.hit += l == Link::good;
      }
    }
    return c;
  }
  /// Among the measured links between members of `set`: how many are down (bad).
  Count down_within(const std::vector<std::size_t>& set) const {
    Count c;
    for (std::size_t x : set) {
      for (std::size_t y : set) {
        const Link l = x == y ? Link::none : link(x, y);
        if (l == Link::none) continue;
        ++c.total;
        c.hit += l == Link::bad;
      }
    }
    return c;
  }
  bool control_ok(const Count& c) const {
    return c.total > 0 && static_cast<double>(c.hit) >= cfg_.control_good * c.total;
  }
  bool most(std::size_t hit, std::size_t total) const {
    return total > 0 && static_cast<double>(hit) > cfg_.most * static_cast<double>(total);
  }
  std::string bad_pct() const { return pct(cfg_.bad_loss); }
  /// " for 60s" when the input names its window, else "".
  std::string win() const {
    return window_.count() > 0 ? " for " + std::to_string(window_.count()) + "s" : "";
  }

  void add(DiagnosisKind kind, std::string node, std::vector<std::string> nodes,
           std::vector<std::string> zones, std::string evidence, double confidence) {
    out_.push_back(DiagnosisEntry{kind, std::move(node), std::move(nodes), std::move(zones),
                                  std::move(evidence), std::clamp(confidence, 0.0, 1.0)});
  }
  std::vector<std::string> names_of(const std::vector<std::size_t>& ids) const {
    std::vector<std::string> out;
    for (std::size_t i : ids) out.push_back(names_[i]);
    std::sort(out.begin(), out.end());
    return out;
  }

  // ------------------------------------------------------------------ 1. zones
  std::map<std::string, std::vector<std::size_t>> zones() const {
    std::map<std::string, std::vector<std::size_t>> z;
    for (std::size_t i = 0; i < n_; ++i) {
      if (!zone_[i].empty() && status_[i] != PeerStatus::left) z[zone_[i]].push_back(i);
    }
    return z;
  }

  /// Members of `zone` that are not lost by most of their in-zone peers ("healthy core"), so
  /// one dead node does not hide its zone's partition.
  std::vector<std::size_t> core(const std::vector<std::size_t>& zone) const {
    std::vector<std::size_t> out;
    for (std::size_t s : zone) {
      Count in;
      for (std::size_t o : zone) {
        const Link l = link(o, s);
        if (l == Link::none) continue;
        ++in.total;
        in.hit += l == Link::bad;
      }
      if (!most(in.hit, in.total)) out.push_back(s);
    }
    return out;
  }

  void zone_partitions() {
    const auto z = zones();
    for (auto a = z.begin(); a != z.end(); ++a) {
      for (auto b = std::next(a); b != z.end(); ++b) {
        const auto ca = core(a->second);
        const auto cb = core(b->second);
        Count cross;
        std::set<std::size_t> inv_a, inv_b;
        for (std::size_t x : ca) {
          for (std::size_t y : cb) {
            for (auto [f, t] : {std::pair{x, y}, std::pair{y, x}}) {
              const Link l = link(f, t);
              if (l == Link::none) continue;
              ++cross.total;
              if (l == Link::bad) {
                ++cross.hit;
                inv_a.insert(x);
                inv_b.insert(y);
              }
            }
          }
        }
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
        for (std::size_t x : a->second) {
          for (std::size_t y : b->second) explain(x, y);
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

  void zone_membership() {
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
        for (std::size_t o = 0; o < n_; ++o) {
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
  void partitions() {
    std::vector<std::size_t> group(n_, n_);
    std::vector<std::vector<std::size_t>> groups;
    for (std::size_t s = 0; s < n_; ++s) {
      if (!fresh(s) || group[s] != n_) continue;
      std::vector<std::size_t> members{s};
      group[s] = groups.size();
      for (std::size_t k = 0; k < members.size(); ++k) {  // BFS over reachable links
        const std::size_t x = members[k];
        for (std::size_t y = 0; y < n_; ++y) {
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
      for (std::size_t y = 0; y < n_; ++y) {
        if (x == y || group[x] == n_ || group[y] == n_ || group[x] == group[y]) continue;
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
            bad_pct() + " of probes to each other (" + of(cross.hit, cross.total) + " links" +
            win() + "): " + sides,
        0.9 * (static_cast<double>(cross.hit) / cross.total) * weight(cross.total));
    for (std::size_t x : all) {
      for (std::size_t y : all) {
        if (group[x] != group[y]) explain(x, y);
      }
    }
  }

  // ------------------------------------------------------------------ 2. nodes
  struct NodeVerdict {
    DiagnosisKind kind = DiagnosisKind::node_unreachable;
    std::size_t node = 0;
    std::size_t score = 0;
    std::string evidence;
    double confidence = 0.0;
  };

  bool judge(std::size_t n, NodeVerdict* v) const {
    std::vector<std::size_t> in_bad_w, out_bad_t;
    Count in, out;
    for (std::size_t p = 0; p < n_; ++p) {
      if (p == n || blamed_[p]) continue;
      if (const Link l = link(p, n); l != Link::none) {
        ++in.total;
        if (l == Link::bad) in_bad_w.push_back(p);
      }
      if (const Link l = link(n, p); l != Link::none) {
        ++out.total;
        if (l == Link::bad) out_bad_t.push_back(p);
      }
    }
    in.hit = in_bad_w.size();
    out.hit = out_bad_t.size();
    const std::string& name = names_[n];
    if (fresh(n) && out.hit >= cfg_.min_witnesses && most(out.hit, out.total)) {
      std::vector<std::size_t> peers = out_bad_t;
      peers.insert(peers.end(), in_bad_w.begin(), in_bad_w.end());
      std::sort(peers.begin(), peers.end());
      peers.erase(std::unique(peers.begin(), peers.end()), peers.end());
      const Count ctl = control(peers, n);
      if (control_ok(ctl)) {
        *v = {DiagnosisKind::node_isolated, n, out.hit + in.hit,
              name + " loses > " + bad_pct() + " of probes to " + of(out.hit, out.total) +
                  " peers" + win() + ", which reach each other (" + of(ctl.hit, ctl.total) +
                  " links fine)",
              0.95 * (static_cast<double>(out.hit) / out.total) * weight(out.hit) *
                  (static_cast<double>(ctl.hit) / ctl.total)};
        return true;
      }
    }
    if (in.hit >= cfg_.min_witnesses && most(in.hit, in.total)) {
      const Count ctl = control(in_bad_w, n);
      if (control_ok(ctl)) {
        std::string ev =
            of(in.hit, in.total) + " peers lose > " + bad_pct() + " of probes to " + name + win();
        if (status_[n] == PeerStatus::failed) ev += "; gossip marks it failed";
        if (status_[n] == PeerStatus::suspect) ev += "; gossip suspects it";
        *v = {DiagnosisKind::node_unreachable, n, in.hit, std::move(ev),
              0.95 * (static_cast<double>(in.hit) / in.total) * weight(in.hit) *
                  (static_cast<double>(ctl.hit) / ctl.total)};
        return true;
      }
    }
    return false;
  }

  void nodes_from_matrix() {
    for (std::size_t round = 0; round < n_; ++round) {
      bool found = false;
      NodeVerdict best;
      for (std::size_t n = 0; n < n_; ++n) {
        NodeVerdict v;
        if (blamed_[n] || covered_[n] || status_[n] == PeerStatus::left || !judge(n, &v)) {
          continue;
        }
        // Most witnesses first; an isolated verdict beats an unreachable one of equal weight.
        if (!found || v.score > best.score || (v.score == best.score && v.kind < best.kind)) {
          best = std::move(v);
          found = true;
        }
      }
      if (!found) return;
      add(best.kind, names_[best.node], {names_[best.node]}, {}, best.evidence, best.confidence);
      blamed_[best.node] = 1;
      explain_node(best.node);
    }
  }

  void nodes_from_membership() {
    std::vector<std::size_t> failed;
    std::size_t failed_total = 0;
    for (std::size_t i = 0; i < n_; ++i) {
      if (status_[i] != PeerStatus::failed || covered_[i]) continue;
      ++failed_total;
      if (!blamed_[i]) failed.push_back(i);
    }
    if (non_left_ >= 3 && failed_total * 2 >= non_left_) {
      const std::string who = observer_.empty() ? "this node" : observer_;
      std::vector<std::size_t> all;
      for (std::size_t i = 0; i < n_; ++i) {
        if (status_[i] == PeerStatus::failed && !covered_[i]) all.push_back(i);
      }
      add(DiagnosisKind::split_brain, observer_, names_of(all), {},
          who + " sees " + of(failed_total, non_left_) +
              " members failed: either they are down or " + who +
              " is on the minority side of a partition",
          0.5);
      return;
    }
    for (std::size_t n : failed) {
      Count in;
      for (std::size_t p = 0; p < n_; ++p) {
        if (p == n || blamed_[p]) continue;
        const Link l = link(p, n);
        if (l == Link::none) continue;
        ++in.total;
        in.hit += l == Link::bad;
      }
      if (in.total > 0 && !most(in.hit, in.total)) continue;  // probes contradict gossip
      if (non_left_ == 2) {
        std::size_t other = n_;
        for (std::size_t p = 0; p < n_; ++p) {
          if (p != n && status_[p] != PeerStatus::left) other = p;
        }
        if (other == n_) continue;
        add(DiagnosisKind::link_down, "", {names_[other], names_[n]}, {},
            names_[other] + " and " + names_[n] + " cannot reach each other (gossip marks " +
                names_[n] + " failed); with 2 nodes it cannot be told which one is cut off",
            0.4);
      } else {
        std::string ev = "gossip marks " + names_[n] + " failed";
        ev += in.total > 0
                  ? "; " + of(in.hit, in.total) + " peers lose > " + bad_pct() + " of probes to it"
                  : "; no recent probe results";
        add(DiagnosisKind::node_unreachable, names_[n], {names_[n]}, {}, ev,
            in.total > 0 ? 0.5 + 0.1 * weight(in.hit) : 0.45);
      }
      blamed_[n] = 1;
      explain_node(n);
    }
  }

  // ------------------------------------------------------------------ 3. links
  void links() {
    for (std::size_t a = 0; a < n_; ++a) {
      for (std::size_t b = a + 1; b < n_; ++b) {
        if (blamed_[a] || blamed_[b] || !fresh(a) || !fresh(b)) continue;
        const Link ab = link(a, b);
        const Link ba = link(b, a);
        if (ab == Link::bad && ba == Link::bad) {
          std::string ev = names_[a] + " and " + names_[b] + " lose " + pct(loss(a, b)) + " and " +
                           pct(loss(b, a)) + " of probes to each other";
          ev += non_left_ == 2 ? "; with 2 nodes it cannot be told which one is cut off"
                               : " while both reach other peers";
          add(DiagnosisKind::link_down, "", {names_[a], names_[b]}, {}, ev,
              non_left_ == 2 ? 0.4 : 0.6);
          explain(a, b);
        } else if ((ab == Link::bad && ba == Link::good) || (ba == Link::bad && ab == Link::good)) {
          const std::size_t f = ab == Link::bad ? a : b;
          const std::size_t t = f == a ? b : a;
          add(DiagnosisKind::asymmetric_link, names_[f], {names_[f], names_[t]}, {},
              names_[f] + " loses " + pct(loss(f, t)) + " of probes to " + names_[t] + " (" +
                  std::to_string(probes(f, t)) + " probes) while " + names_[t] + " loses " +
                  pct(loss(t, f)) + " to " + names_[f] + " (" + std::to_string(probes(t, f)) +
                  " probes)",
              0.7 * weight(std::min(probes(f, t), probes(t, f)) / std::max(1u, cfg_.min_probes)));
          explain(a, b);
        }
      }
    }
  }

  // ------------------------------------------------------------------ 4. lossy nodes
  void lossy_nodes() {
    for (std::size_t round = 0; round < n_; ++round) {
      std::size_t best = n_, best_hit = 0;
      std::string best_ev;
      double best_conf = 0.0;
      for (std::size_t n = 0; n < n_; ++n) {
        if (blamed_[n] || status_[n] == PeerStatus::left) continue;
        std::vector<std::size_t> lossy;
        std::size_t total = 0;
        double sum = 0.0;
        for (std::size_t p = 0; p < n_; ++p) {
          if (p == n || blamed_[p]) continue;
          const Link in = link(p, n), out = link(n, p);
          if (in == Link::none && out == Link::none) continue;
          ++total;
          if (in == Link::lossy || out == Link::lossy) {
            lossy.push_back(p);
            const double l = std::max(in == Link::lossy ? loss(p, n) : 0.0,
                                      out == Link::lossy ? loss(n, p) : 0.0);
            sum += l;
          }
        }
        if (lossy.size() < cfg_.min_witnesses || !most(lossy.size(), total)) continue;
        const Count ctl = control(lossy, n);
        if (!control_ok(ctl) || lossy.size() <= best_hit) continue;
        best = n;
        best_hit = lossy.size();
        best_ev = of(lossy.size(), total) + " peers see " + pct(cfg_.lossy_loss) + "-" + bad_pct() +
                  " loss to/from " + names_[n] + win() + " (average " +
                  pct(sum / static_cast<double>(lossy.size())) + ") while they see little loss" +
                  " among themselves (" + of(ctl.hit, ctl.total) + " links fine)";
        best_conf = 0.6 * weight(lossy.size()) * static_cast<double>(lossy.size()) / total;
      }
      if (best == n_) return;
      add(DiagnosisKind::lossy_node, names_[best], {names_[best]}, {}, best_ev, best_conf);
      blamed_[best] = 1;
      explain_node(best);
    }
  }

  const DiagnosisConfig& cfg_;
  std::map<std::string, std::size_t> index_;
  std::vector<std::string> names_;
  std::vector<PeerStatus> status_;
  std::vector<std::string> zone_;
  std::size_t n_ = 0;
  std::size_t non_left_ = 0;
  std::string observer_;
  std::chrono::seconds window_{0};
  std::vector<Cell> cells_;      // n*n, [from * n + to]
  std::vector<char> explained_;  // n*n: a larger fault already accounts for this link
  std::vector<char> blamed_;     // n: a node-level verdict was given
  std::vector<char> covered_;    // n: explained by a zone partition
  std::vector<DiagnosisEntry> out_;
};

}  // namespace

std::vector<std::string> DiagnosisConfig::validate() const {
  std::vector<std::string> errors;
  const auto fraction = [&](double v, const char* name) {
    if (!(v >= 0.0 && v <= 1.0))
      errors.push_back(std::string("diagnosis: ") + name + " must be within 0..1");
  };
  fraction(bad_loss, "bad_loss");
  fraction(lossy_loss, "lossy_loss");
  fraction(most, "most");
  fraction(control_good, "control_good");
  fraction(zone_cut, "zone_cut");
  fraction(zone_internal_bad_max, "zone_internal_bad_max");
  if (lossy_loss > bad_loss) errors.emplace_back("diagnosis: lossy_loss must be <= bad_loss");
  if (min_probes == 0) errors.emplace_back("diagnosis: min_probes must be >= 1");
  if (min_witnesses < 2) errors.emplace_back("diagnosis: min_witnesses must be >= 2");
  return errors;
}

std::string_view to_string(DiagnosisKind k) {
  switch (k) {
    case DiagnosisKind::zone_partition:
      return "zone-partition";
    case DiagnosisKind::split_brain:
      return "split-brain";
    case DiagnosisKind::node_isolated:
      return "node-isolated";
    case DiagnosisKind::node_unreachable:
      return "node-unreachable";
    case DiagnosisKind::link_down:
      return "link-down";
    case DiagnosisKind::asymmetric_link:
      return "asymmetric-link";
    case DiagnosisKind::lossy_node:
      return "lossy-node";
  }
  return "unknown";
}

std::vector<DiagnosisEntry> diagnose(const DiagnosisInput& in, const DiagnosisConfig& cfg) {
  return Analyzer(in, cfg).run();
}

}  // namespace vigil::api
