#include "api/diagnosis.hpp"

#include <set>
#include <tuple>

#include "api/diagnosis_analyzer.hpp"

namespace vigil::api {
namespace detail {

Analyzer::Analyzer(const DiagnosisInput& in, const DiagnosisConfig& cfg) : cfg_(cfg) {
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
  blamed_.assign(n_, 0);
  covered_.assign(n_, 0);
  outs_.assign(n_, {});
  ins_.assign(n_, {});
  for (const auto& s : in.links) {
    const auto f = index_.find(s.from);
    const auto t = index_.find(s.to);
    if (f == index_.end() || t == index_.end() || f->second == t->second) continue;
    if (!fresh(f->second) || s.probes == 0) continue;
    outs_[f->second].push_back(
        Edge{t->second, std::clamp(s.loss, 0.0, 1.0) * s.probes, double(s.probes), false});
  }
  for (std::size_t i = 0; i < n_; ++i) {  // sort by peer and pool repeated samples
    auto& v = outs_[i];
    std::sort(v.begin(), v.end(), [](const Edge& a, const Edge& b) { return a.to < b.to; });
    std::vector<Edge> pooled;
    for (const Edge& e : v) {
      if (!pooled.empty() && pooled.back().to == e.to) {
        pooled.back().lost += e.lost;
        pooled.back().probes += e.probes;
      } else {
        pooled.push_back(e);
      }
    }
    v = std::move(pooled);
    for (const Edge& e : v) ins_[e.to].push_back(i);  // i ascending: ins_ stays sorted
  }
  for (const auto& s : in.udp_links) {
    const auto f = index_.find(s.from);
    const auto t = index_.find(s.to);
    if (f == index_.end() || t == index_.end() || f->second == t->second) continue;
    if (!fresh(f->second) || !fresh(t->second) || s.probes == 0) continue;
    auto& u = udp_[{std::min(f->second, t->second), std::max(f->second, t->second)}];
    u.lost += std::clamp(s.loss, 0.0, 1.0) * s.probes;
    u.probes += s.probes;
  }
  for (const auto& s : in.large_echoes) {
    const auto f = index_.find(s.from);
    const auto t = index_.find(s.to);
    if (f == index_.end() || t == index_.end() || f->second == t->second) continue;
    if (!fresh(f->second) || !fresh(t->second) || s.sent == 0) continue;
    auto& m = mtu_[{std::min(f->second, t->second), std::max(f->second, t->second)}];
    m.lost += std::min(s.lost, s.sent);
    m.sent += s.sent;
    if (s.bytes > 0) {
      m.min_bytes = std::min(m.min_bytes, s.bytes);
      m.max_bytes = std::max(m.max_bytes, s.bytes);
    }
  }
  observer_ = in.observer;
  window_ = in.window;
  for (std::size_t i = 0; i < n_; ++i) non_left_ += status_[i] != PeerStatus::left;
}

std::vector<DiagnosisEntry> Analyzer::run() {
  zone_partitions();
  zone_membership();
  partitions();
  nodes_from_matrix();
  nodes_from_membership();
  lossy_nodes();  // before links(): a lossy node's noisiest link must not pass for a link fault
  udp_blocked();
  mtu_blackhole();
  links();
  investigating();
  std::stable_sort(out_.begin(), out_.end(), [](const auto& a, const auto& b) {
    return std::tie(b.confidence, a.kind, a.node) < std::tie(a.confidence, b.kind, b.node);
  });
  return std::move(out_);
}

bool Analyzer::judge(std::size_t n, NodeVerdict* v) const {
  std::vector<std::size_t> in_bad_w, out_bad_t;
  Count in, out;
  for (std::size_t p : ins_[n]) {
    if (const Link l = blamed_[p] ? Link::none : link(p, n); l != Link::none) {
      ++in.total;
      if (l == Link::bad) in_bad_w.push_back(p);
    }
  }
  for (const Edge& e : outs_[n]) {
    if (const Link l = blamed_[e.to] ? Link::none : link(n, e.to); l != Link::none) {
      ++out.total;
      if (l == Link::bad) out_bad_t.push_back(e.to);
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
            name + " loses > " + bad_pct() + " of probes to " + of(out.hit, out.total) + " peers" +
                win() + ", which reach each other (" + of(ctl.hit, ctl.total) + " links fine)",
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

void Analyzer::nodes_from_matrix() {
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

void Analyzer::nodes_from_membership() {
  std::vector<std::size_t> failed;
  std::size_t failed_total = 0;
  for (std::size_t i = 0; i < n_; ++i) {
    if (status_[i] != PeerStatus::failed || covered_[i]) continue;
    ++failed_total;
    if (!blamed_[i]) failed.push_back(i);
  }
  // An observer diagnosed node-isolated (its own row: it loses most peers, who reach each
  // other) cannot trust its own gossip view either: the members it marked failed are what
  // its isolation looks like from inside, not culprits.
  if (const auto self = index_.find(observer_); self != index_.end() && blamed_[self->second]) {
    for (const DiagnosisEntry& e : out_) {
      if (e.kind == DiagnosisKind::node_isolated && e.node == observer_) return;
    }
  }
  if (non_left_ >= 3 && failed_total * 2 >= non_left_) {
    const std::string who = observer_.empty() ? "this node" : observer_;
    std::vector<std::size_t> all;
    for (std::size_t i = 0; i < n_; ++i) {
      if (status_[i] == PeerStatus::failed && !covered_[i]) all.push_back(i);
    }
    // Alone: every other member failed at once is far likelier this node's own network than
    // a cluster-wide outage; a side of one is an isolated node, not a split.
    if (!observer_.empty() && index_.count(observer_) && failed_total + 1 == non_left_) {
      add(DiagnosisKind::node_isolated, observer_, {observer_}, {},
          who + " sees all " + std::to_string(failed_total) +
              " other members failed: most likely " + who +
              " is cut off from the network, or all of them are down",
          0.5);
      return;
    }
    add(DiagnosisKind::split_brain, observer_, names_of(all), {},
        who + " sees " + of(failed_total, non_left_) + " members failed: either they are down or " +
            who + " is on the minority side of a partition",
        0.5);
    return;
  }
  for (std::size_t n : failed) {
    Count in;
    std::size_t good = 0;
    for (std::size_t p : ins_[n]) {
      if (blamed_[p]) continue;
      const Link l = link(p, n);
      if (l == Link::none) continue;
      ++in.total;
      in.hit += l == Link::bad;
      good += l == Link::good;
    }
    // Probes contradict gossip when most peers reach it fine and too few lose any probes to
    // it. Right after a failure, the window still pools the answered probes from before it
    // (and peers that did not probe it since): a few witnesses losing it then confirm gossip.
    const std::size_t losing = in.total - good;
    if (in.total > 0 && most(good, in.total) && losing < cfg_.min_witnesses) continue;
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
      if (in.total == 0) {
        ev += "; no recent probe results";
      } else {
        const std::size_t lossy = losing - in.hit;
        if (in.hit > 0 || lossy == 0) {
          ev += "; " + of(in.hit, in.total) + " peers lose > " + bad_pct() + " of probes to it";
          if (lossy > 0) ev += ", " + std::to_string(lossy) + " more lose some";
        } else {
          ev += "; " + of(lossy, in.total) + " peers lose some of their probes to it";
        }
      }
      add(DiagnosisKind::node_unreachable, names_[n], {names_[n]}, {}, ev,
          in.total > 0 ? 0.5 + 0.1 * weight(in.hit) : 0.45);
    }
    blamed_[n] = 1;
    explain_node(n);
  }
}

void Analyzer::links() {
  for (std::size_t x = 0; x < n_; ++x) {
    for (const Edge& edge_xy : outs_[x]) {
      const std::size_t y = edge_xy.to;
      if (x > y && edge(y, x)) continue;  // the pair is handled from y's list
      const std::size_t a = std::min(x, y), b = std::max(x, y);
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
        // "t reaches f fine" is t's own row: worthless when t is in trouble itself (suspected
        // by gossip, or lost by other peers too), as its summary may predate the fault (a cut
        // node cannot send its news). The link is then part of t's fault, not its own.
        if (!credible_row(t, f)) {
          pending_.emplace_back(f, t);  // investigating() says what is known
          continue;
        }
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

void Analyzer::lossy_nodes() {
  for (std::size_t round = 0; round < n_; ++round) {
    std::size_t best = n_, best_hit = 0;
    std::string best_ev;
    double best_conf = 0.0;
    for (std::size_t n = 0; n < n_; ++n) {
      if (blamed_[n] || status_[n] == PeerStatus::left) continue;
      std::vector<std::size_t> lossy;
      std::size_t total = 0;
      double sum = 0.0;
      std::vector<std::size_t> peers = ins_[n];
      for (const Edge& e : outs_[n]) peers.push_back(e.to);
      std::sort(peers.begin(), peers.end());
      peers.erase(std::unique(peers.begin(), peers.end()), peers.end());
      for (std::size_t p : peers) {
        if (blamed_[p]) continue;
        const Link in = link(p, n), out = link(n, p);
        if (in == Link::none && out == Link::none) continue;
        ++total;
        if (in == Link::lossy || out == Link::lossy) {
          lossy.push_back(p);
          const double l =
              std::max(in == Link::lossy ? loss(p, n) : 0.0, out == Link::lossy ? loss(n, p) : 0.0);
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

}  // namespace detail

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
    case DiagnosisKind::udp_blocked:
      return "udp-blocked";
    case DiagnosisKind::mtu_blackhole:
      return "mtu-blackhole";
    case DiagnosisKind::investigating:
      return "investigating";
  }
  return "unknown";
}

std::vector<DiagnosisEntry> diagnose(const DiagnosisInput& in, const DiagnosisConfig& cfg) {
  if (!in.observer_cut_off.empty() && !in.observer.empty()) {
    // Local evidence first: a node that hears from no one cannot tell who else is broken.
    const std::size_t others = in.nodes.size() - (in.nodes.empty() ? 0 : 1);
    return {DiagnosisEntry{DiagnosisKind::node_isolated,
                           in.observer,
                           {in.observer},
                           {},
                           in.observer + " is cut off: " + in.observer_cut_off + " (" +
                               std::to_string(others) + " other members)",
                           0.95}};
  }
  return detail::Analyzer(in, cfg).run();
}

}  // namespace vigil::api
