// Transitional evidence (issue 13: "while the evidence is still ambiguous, say investigating
// rather than name a wrong culprit"). Right after a fault, the reachability matrix is
// re-measured one ping run at a time (a run probes a rotating subset of peers), so for a few
// runs only some of the links the fault breaks show it, and the ones that do look like smaller
// faults: a zone cut first shows as a few one-way links, nodes "unreachable" from the other
// zones and nodes "isolated" from them; a node whose own network broke first shows as a lossy
// node. This pass, run after every stage, replaces such shapes with `investigating` entries
// that say what is known and name no culprit the evidence cannot support:
//   1. zone-shaped node verdicts: node-unreachable from probes alone (gossip does not have the
//      node failed) whose witnesses are all outside its zone, while a zone-mate still reaches
//      it or gossip has it alive; node-isolated (from the matrix, not the observer's own
//      evidence) whose lost peers are all outside its zone; udp-blocked for one node whose UDP
//      partners are all outside its zone. Grouped by the zones involved: that zone's cut forming,
//      not the node's fault;
//   2. link entries (asymmetric-link, link-down) between different zones: two or more between
//      the same zones, or any between zones (1) already flagged, are one fault forming;
//   3. one-way losses links() could not call asymmetric because the far end's own row is not
//      credible (pending_): grouped with (1) by zones when they cross zones, else by the node;
//   4. membership ramping through a zone cut: node-unreachable from gossip alone for a node of
//      another zone while a zone-mate is suspect or failed too, and split-brain whose failed
//      members are all in other zones (the observer's zone intact): that zone cut forming,
//      before every member of the zone is failed and zone-partition holds;
//   5. lossy-node with at least min_witnesses peers that lose ALL their recent probes to or
//      from it, as many as lose some: loss rising on every link of the node, not steady loss.
// Links and nodes of a larger verdict never reach this pass (explained/blamed), so a settled
// zone-partition, node-isolated or node-unreachable confirmed by gossip is never downgraded.
#include <algorithm>
#include <map>
#include <set>

#include "api/diagnosis_analyzer.hpp"

namespace vigil::api::detail {

bool Analyzer::credible_row(std::size_t t, std::size_t f) const {
  if (status_[t] != PeerStatus::alive) return false;
  std::size_t losing = 0;
  for (std::size_t p : ins_[t]) losing += p != f && raw_loss(p, t) > cfg_.bad_loss;
  return losing < cfg_.min_witnesses;
}

double Analyzer::raw_loss(std::size_t i, std::size_t j) const {
  const Edge* e = edge(i, j);
  return e && e->probes >= cfg_.min_probes ? e->lost / e->probes : -1.0;
}

namespace {

struct Group {
  std::set<std::string> nodes;
  std::vector<std::string> what;  // the entries it replaces, for the evidence
  std::size_t links = 0, shaped = 0;
};

std::string listing(const std::vector<std::string>& what) {
  std::string list;
  for (std::size_t i = 0; i < what.size() && i < 4; ++i) list += (i ? ", " : "") + what[i];
  if (what.size() > 4) list += ", ...";
  return list;
}

std::string joined(const std::set<std::string>& zones) {
  std::string s;
  for (const auto& z : zones) s += (s.empty() ? "" : ", ") + z;
  return s;
}

}  // namespace

void Analyzer::investigating() {
  using Zones = std::set<std::string>;
  std::map<Zones, Group> groups;
  // The zones, other than n's own, of the peers `pick` selects; {} when one of them has no zone
  // or n has none; `mate_fine` whether a zone-mate of n is still measured fine.
  const auto outside = [&](std::size_t n, auto pick, bool* mate_fine) {
    Zones zs;
    *mate_fine = false;
    if (zone_[n].empty()) return zs;
    bool untagged = false;
    for (std::size_t p = 0; p < n_; ++p) {
      if (p == n) continue;
      const int sel = pick(p);  // 1 = selected (losing), 0 = fine, -1 = not measured
      if (sel == 0 && zone_[p] == zone_[n]) *mate_fine = true;
      if (sel != 1) continue;
      if (zone_[p].empty() || zone_[p] == zone_[n]) untagged = true;
      zs.insert(zone_[p]);
    }
    if (untagged) zs.clear();
    return zs;
  };
  // Lost from (or losing) two or more other zones is the zone's cut only when another node of
  // the zone is lost from outside too, or loses outside peers itself; else it is this node's
  // own uplink.
  const auto zone_wide = [&](std::size_t n, const Zones& zs) {
    if (zs.size() < 2) return true;
    for (std::size_t m = 0; m < n_; ++m) {
      if (m == n || zone_[m] != zone_[n]) continue;
      for (std::size_t p : ins_[m])
        if (zone_[p] != zone_[n] && raw_loss(p, m) > cfg_.bad_loss) return true;
      for (const Edge& x : outs_[m])  // inside the cut zone, only the zone's own rows are fresh
        if (zone_[x.to] != zone_[n] && raw_loss(m, x.to) > cfg_.bad_loss) return true;
    }
    return false;
  };
  const auto shaped = [&](std::size_t n, Zones lost, std::string what) {
    lost.insert(zone_[n]);
    Group& g = groups[lost];
    g.nodes.insert(names_[n]);
    g.what.push_back(std::move(what));
    ++g.shaped;
  };
  std::vector<DiagnosisEntry> keep, links;
  for (DiagnosisEntry& e : out_) {
    const auto it = index_.find(e.node);
    const std::size_t n = it == index_.end() ? n_ : it->second;
    bool mate_fine = false;
    if (e.kind == DiagnosisKind::node_unreachable && n < n_ && status_[n] != PeerStatus::failed) {
      const Zones zs = outside(
          n,
          [&](std::size_t p) {
            const double l = raw_loss(p, n);
            return l < 0 ? -1 : l > cfg_.bad_loss ? 1 : l < cfg_.lossy_loss ? 0 : -1;
          },
          &mate_fine);
      // Gossip still has it alive: a node really down or cut off is suspected within a probe
      // period or two, by members of every zone.
      if (!zs.empty() && (mate_fine || status_[n] == PeerStatus::alive) && zone_wide(n, zs)) {
        shaped(n, zs, e.node + " unreachable from zone " + joined(zs) + " only");
        continue;
      }
    }
    // Membership ramping through a zone cut: the cut zone's members are failed one at a time
    // (or, seen from inside, the far side is), so the first ones look like single nodes down
    // or a minority split before zone-partition holds.
    const auto obs = index_.find(observer_);
    const std::string own_zone = obs == index_.end() ? std::string() : zone_[obs->second];
    if (e.kind == DiagnosisKind::node_unreachable && n < n_ && status_[n] == PeerStatus::failed &&
        !zone_[n].empty() && zone_[n] != own_zone) {
      std::size_t mates_down = 0;
      for (std::size_t m = 0; m < n_; ++m)
        mates_down += m != n && zone_[m] == zone_[n] && status_[m] != PeerStatus::alive &&
                      status_[m] != PeerStatus::left;
      if (mates_down >= 1) {
        Zones zs{zone_[n]};
        if (!own_zone.empty()) zs.insert(own_zone);
        Group& g = groups[zs];
        g.nodes.insert(e.node);
        g.what.push_back(e.node + " failed with " + std::to_string(mates_down) + " more of zone " +
                         zone_[n] + " suspect or failed");
        ++g.shaped;
        continue;
      }
    }
    if (e.kind == DiagnosisKind::split_brain && !own_zone.empty()) {
      Zones zs{own_zone};
      bool outside_only = true;
      for (const std::string& name : e.nodes) {
        const auto f = index_.find(name);
        if (f == index_.end() || zone_[f->second].empty() || zone_[f->second] == own_zone) {
          outside_only = false;
          break;
        }
        zs.insert(zone_[f->second]);
      }
      if (outside_only && !e.nodes.empty()) {
        Group& g = groups[zs];
        g.nodes.insert(e.nodes.begin(), e.nodes.end());
        g.what.push_back(observer_ + " sees " + std::to_string(e.nodes.size()) +
                         " members of other zones failed");
        ++g.shaped;
        continue;
      }
    }
    if (e.kind == DiagnosisKind::node_isolated && n < n_) {
      const Zones zs = outside(
          n,
          [&](std::size_t p) {
            const double l = raw_loss(n, p);
            return l < 0 ? -1 : l > cfg_.bad_loss ? 1 : l < cfg_.lossy_loss ? 0 : -1;
          },
          &mate_fine);
      // (Its row lists zone-mates only when they lose probes or fit its healthy entries: a
      // mate it loses would be listed, which rules the zone out.)
      if (!zs.empty() && zone_wide(n, zs)) {
        shaped(n, zs, e.node + " loses zone " + joined(zs) + " only");
        continue;
      }
    }
    if (e.kind == DiagnosisKind::udp_blocked && n < n_) {
      const Zones zs = outside(
          n,
          [&](std::size_t p) {
            const auto u = udp_.find({std::min(n, p), std::max(n, p)});
            if (u == udp_.end()) return -1;
            return u->second.lost >= 2.0 && 2.0 * u->second.lost >= u->second.probes ? 1 : -1;
          },
          &mate_fine);
      if (!zs.empty()) {
        shaped(n, zs, "UDP to " + e.node + " lost from zone " + joined(zs) + " only");
        continue;
      }
    }
    if ((e.kind == DiagnosisKind::asymmetric_link || e.kind == DiagnosisKind::link_down) &&
        e.nodes.size() == 2 && non_left_ > 2) {
      const auto a = index_.find(e.nodes[0]), b = index_.find(e.nodes[1]);
      if (a != index_.end() && b != index_.end() && !zone_[a->second].empty() &&
          !zone_[b->second].empty() && zone_[a->second] != zone_[b->second]) {
        links.push_back(std::move(e));  // decided below, once every group is known
        continue;
      }
    }
    if (e.kind == DiagnosisKind::lossy_node && n < n_) {
      std::size_t down = 0, some = 0;
      std::set<std::size_t> peers(ins_[n].begin(), ins_[n].end());
      for (const Edge& x : outs_[n]) peers.insert(x.to);
      for (std::size_t p : peers) {
        if (raw_loss(p, n) >= 1.0 || raw_loss(n, p) >= 1.0) {
          ++down;
        } else if (std::max(raw_loss(p, n), raw_loss(n, p)) >= cfg_.lossy_loss) {
          ++some;
        }
      }
      if (down >= cfg_.min_witnesses && down >= some) {
        DiagnosisEntry r;
        r.kind = DiagnosisKind::investigating;
        r.node = e.node;
        r.nodes = {e.node};
        r.evidence = "loss to/from " + e.node + " rising: " + std::to_string(down) +
                     " peers lose all their recent probes, " + std::to_string(some) +
                     " lose some; the other links have not been re-measured since";
        r.confidence = 0.3;
        keep.push_back(std::move(r));
        continue;
      }
    }
    keep.push_back(std::move(e));
  }
  // One-way losses toward a node in trouble (links()): by zones when they cross zones, else by
  // the node they point at.
  std::map<std::size_t, Group> by_node;
  for (const auto& [f, t] : pending_) {
    if (blamed_[f] || blamed_[t] || covered_[f] || covered_[t]) continue;
    const bool across = !zone_[f].empty() && !zone_[t].empty() && zone_[f] != zone_[t];
    Group& g = across ? groups[Zones{zone_[f], zone_[t]}] : by_node[t];
    g.nodes.insert(names_[f]);
    g.nodes.insert(names_[t]);
    g.what.push_back(names_[f] + " loses " + names_[t]);
    ++g.shaped;
  }
  std::vector<Zones> link_zones;
  for (const DiagnosisEntry& e : links)
    link_zones.push_back({zone_[index_.at(e.nodes[0])], zone_[index_.at(e.nodes[1])]});
  for (std::size_t k = 0; k < links.size(); ++k) {
    DiagnosisEntry& e = links[k];
    const Zones& zs = link_zones[k];
    const auto g = std::find_if(groups.begin(), groups.end(), [&](const auto& kv) {
      return std::includes(kv.first.begin(), kv.first.end(), zs.begin(), zs.end());
    });
    const auto same = std::count(link_zones.begin(), link_zones.end(), zs);
    if (g == groups.end() && same < 2) {
      keep.push_back(std::move(e));  // one link between two zones: its own fault
      continue;
    }
    Group& into = g != groups.end() ? g->second : groups[zs];
    into.nodes.insert(e.nodes.begin(), e.nodes.end());
    into.what.push_back(std::string(to_string(e.kind)) + " " + e.nodes[0] + "-" + e.nodes[1]);
    ++into.links;
  }
  for (auto& [zs, g] : groups) {
    DiagnosisEntry r;
    r.kind = DiagnosisKind::investigating;
    r.nodes.assign(g.nodes.begin(), g.nodes.end());
    r.zones.assign(zs.begin(), zs.end());
    r.evidence = "probes between zones " + joined(zs) + " start failing (" + listing(g.what) +
                 "); the other links between them have not been re-measured since";
    r.confidence = 0.3;
    keep.push_back(std::move(r));
  }
  for (auto& [t, g] : by_node) {
    DiagnosisEntry r;
    r.kind = DiagnosisKind::investigating;
    r.node = names_[t];
    r.nodes.assign(g.nodes.begin(), g.nodes.end());
    const std::string why = status_[t] == PeerStatus::suspect  ? "gossip suspects it"
                            : status_[t] == PeerStatus::failed ? "gossip marks it failed"
                                                               : "other peers lose it too";
    r.evidence = "probes to " + names_[t] + " start failing (" + listing(g.what) + "); " + why +
                 ", so its own report of these links may predate the fault";
    r.confidence = 0.3;
    keep.push_back(std::move(r));
  }
  out_ = std::move(keep);
}

}  // namespace vigil::api::detail
