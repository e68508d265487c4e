#pragma once
// Internal to api/diagnosis*.cpp: the analyzer state (matrix, verdict bookkeeping) shared by
// the zone/partition reasoning (diagnosis_groups.cpp) and the node/link reasoning
// (diagnosis.cpp). Not part of the public API: include api/diagnosis.hpp instead.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "api/diagnosis.hpp"

namespace vigil::api::detail {

enum class Link : std::uint8_t { none, good, lossy, bad };

/// One measured direction observer -> peer, pooled over the samples given for it.
struct Edge {
  std::size_t to = 0;
  double lost = 0.0;       // probes lost (loss * probes, summed over samples)
  double probes = 0.0;     // probes sent
  bool explained = false;  // a larger fault already accounts for this link
};

/// Weight of k agreeing observations: 1/2, 2/3, 3/4, ... (more witnesses, more confidence).
inline double weight(std::size_t k) {
  return static_cast<double>(k) / static_cast<double>(k + 1);
}

inline std::string pct(double fraction) {
  return std::to_string(static_cast<int>(std::lround(fraction * 100.0))) + "%";
}

inline std::string of(std::size_t a, std::size_t b) {
  return std::to_string(a) + " of " + std::to_string(b);
}

struct Count {
  std::size_t hit = 0;    // links with the property looked for
  std::size_t total = 0;  // measured links
};

/// One diagnose() call: pools the samples into a matrix, then runs the stages largest fault
/// first; each stage marks the links and nodes it explains so later stages skip them.
class Analyzer {
 public:
  Analyzer(const DiagnosisInput& in, const DiagnosisConfig& cfg);
  /// Every stage in order of fault size; the entries sorted by confidence.
  std::vector<DiagnosisEntry> run();

 private:
  // ------------------------------------------------------------------ matrix helpers
  bool fresh(std::size_t i) const {
    return status_[i] == PeerStatus::alive || status_[i] == PeerStatus::suspect;
  }
  // The matrix is sparse (adjacency lists sorted by peer), so a pass costs O(links), not
  // O(nodes^2): a 1000-node mesh where each node probes a few dozen peers stays cheap.
  const Edge* edge(std::size_t i, std::size_t j) const {
    const auto& v = outs_[i];
    const auto it = std::lower_bound(v.begin(), v.end(), j,
                                     [](const Edge& e, std::size_t to) { return e.to < to; });
    return it != v.end() && it->to == j ? &*it : nullptr;
  }
  Edge* edge(std::size_t i, std::size_t j) {
    return const_cast<Edge*>(static_cast<const Analyzer*>(this)->edge(i, j));
  }
  double loss(std::size_t i, std::size_t j) const {
    const Edge* e = edge(i, j);
    return e && e->probes > 0 ? e->lost / e->probes : 0.0;
  }
  std::uint32_t probes(std::size_t i, std::size_t j) const {
    const Edge* e = edge(i, j);
    return e ? static_cast<std::uint32_t>(e->probes) : 0;
  }
  Link link(std::size_t i, std::size_t j) const {
    const Edge* e = i == j ? nullptr : edge(i, j);
    if (!e || e->explained || e->probes < cfg_.min_probes) return Link::none;
    const double l = e->lost / e->probes;
    if (l > cfg_.bad_loss) return Link::bad;
    return l >= cfg_.lossy_loss ? Link::lossy : Link::good;
  }
  void explain(std::size_t i, std::size_t j) {
    if (Edge* e = edge(i, j)) e->explained = true;
    if (Edge* e = edge(j, i)) e->explained = true;
  }
  void explain_node(std::size_t i) {
    for (Edge& e : outs_[i]) e.explained = true;
    for (std::size_t o : ins_[i]) explain(o, i);
  }
  /// Membership flags of `set` over all nodes.
  std::vector<char> mark(const std::vector<std::size_t>& set) const {
    std::vector<char> m(n_, 0);
    for (std::size_t x : set) m[x] = 1;
    return m;
  }
  /// Among the measured links between members of `set` (`skip` excluded): how many are fine
  /// (good) when `fine` is true, else how many are down (bad).
  Count within(const std::vector<std::size_t>& set, std::size_t skip, bool fine) const {
    std::vector<char> m = mark(set);
    if (skip < n_) m[skip] = 0;
    Count c;
    for (std::size_t x = 0; x < n_; ++x) {
      if (!m[x]) continue;
      for (const Edge& e : outs_[x]) {
        if (!m[e.to]) continue;
        const Link l = link(x, e.to);
        if (l == Link::none) continue;
        ++c.total;
        c.hit += fine ? l == Link::good : l == Link::bad;
      }
    }
    return c;
  }
  /// The witnesses' control: how many of their mutual links are fine.
  Count control(const std::vector<std::size_t>& set, std::size_t skip) const {
    return within(set, skip, true);
  }
  /// How many links inside `set` are down.
  Count down_within(const std::vector<std::size_t>& set) const { return within(set, n_, false); }
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

  struct NodeVerdict {
    DiagnosisKind kind = DiagnosisKind::node_unreachable;
    std::size_t node = 0;
    std::size_t score = 0;
    std::string evidence;
    double confidence = 0.0;
  };

  std::map<std::string, std::vector<std::size_t>> zones() const;
  /// Members of `zone` that are not lost by most of their in-zone peers ("healthy core"), so
  /// one dead node does not hide its zone's partition.
  std::vector<std::size_t> core(const std::vector<std::size_t>& zone) const;
  void zone_partitions();
  void zone_membership();
  /// A split that zones do not explain: the reporting nodes fall into >= 2 groups (of >= 2)
  /// that reach each other inside and lose each other across. Reported as split-brain so that
  /// no node of either side is blamed for it.
  void partitions();
  bool judge(std::size_t n, NodeVerdict* v) const;
  void nodes_from_matrix();
  void nodes_from_membership();
  void links();
  void lossy_nodes();
  void udp_blocked();    // diagnosis_udp.cpp
  void mtu_blackhole();  // diagnosis_mtu.cpp
  void investigating();  // diagnosis_investigating.cpp: transitional shapes, after every stage
  /// Loss of the measured link i -> j even when a larger verdict explained it; -1 when the
  /// link has fewer than min_probes probes.
  double raw_loss(std::size_t i, std::size_t j) const;
  /// Whether node t's own row (what t measured, e.g. "t reaches f fine") is worth believing
  /// about peer f: t is alive in gossip and fewer than min_witnesses peers other than f lose
  /// their probes to t (a node in trouble may not get its news out: its row predates the fault).
  bool credible_row(std::size_t t, std::size_t f) const;

  const DiagnosisConfig& cfg_;
  std::unordered_map<std::string, std::size_t> index_;
  std::vector<std::string> names_;
  std::vector<PeerStatus> status_;
  std::vector<std::string> zone_;
  std::size_t n_ = 0;
  std::size_t non_left_ = 0;
  std::string observer_;
  std::chrono::seconds window_{0};
  std::vector<std::vector<Edge>> outs_;        // [from]: measured links, sorted by `to`
  std::vector<std::vector<std::size_t>> ins_;  // [to]: observers with a link to it, sorted
  std::vector<char> blamed_;                   // n: a node-level verdict was given
  std::vector<char> covered_;                  // n: explained by a zone partition
  std::vector<DiagnosisEntry> out_;
  /// One-way losses links() could not call asymmetric (the far end's row is not credible):
  /// (from, to) pairs, for investigating().
  std::vector<std::pair<std::size_t, std::size_t>> pending_;
  /// UDP-path evidence per unordered pair {a < b}, both directions pooled.
  struct UdpPair {
    double lost = 0.0, probes = 0.0;
  };
  std::map<std::pair<std::size_t, std::size_t>, UdpPair> udp_;
  /// Large-echo evidence per unordered pair {a < b}, both directions pooled.
  struct MtuPair {
    double lost = 0.0, sent = 0.0;
    std::uint32_t min_bytes = UINT32_MAX, max_bytes = 0;
  };
  std::map<std::pair<std::size_t, std::size_t>, MtuPair> mtu_;
};

}  // namespace vigil::api::detail
