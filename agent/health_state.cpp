#include "agent/health_state.hpp"

#include <algorithm>
#include <unordered_map>

#include "gossip/broadcast_queue.hpp"

namespace vigil::agent {
static_assert(HealthState::kBackgroundPriority == gossip::BroadcastQueue::kBackground);
namespace {

WireStatus wire_status(checkers::ProbeStatus s) {
  return s == checkers::ProbeStatus::failed ? WireStatus::failed : WireStatus::running;
}
WireSeverity wire_severity(checkers::Severity s) {
  return s == checkers::Severity::warning ? WireSeverity::warning : WireSeverity::critical;
}
bool same_verdict(const ProbeFields& a, const ProbeFields& b) {
  return a.status == b.status && a.severity == b.severity;
}

}  // namespace

std::int64_t NodeHealth::updated_ms() const {
  std::int64_t t = reach ? reach->updated_ms : 0;
  for (const auto& [name, r] : probes) t = std::max(t, r.updated_ms);
  return t;
}

HealthState::HealthState(std::string self, HealthOptions options)
    : self_(std::move(self)),
      opt_(std::move(options)),
      wall_us_(opt_.wall_us),
      steady_(opt_.steady_now),
      tracker_(opt_.reach_window) {
  if (!wall_us_) {
    wall_us_ = [] {
      return std::chrono::duration_cast<std::chrono::microseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
  }
  if (!steady_) steady_ = [] { return std::chrono::steady_clock::now(); };
  opt_.max_text_bytes = std::min(opt_.max_text_bytes, kMaxTextBytes);
  opt_.max_reach_peers = std::min(opt_.max_reach_peers, kMaxReachPeers);
}

const NodeHealth* HealthState::find(const std::string& origin) const {
  auto it = nodes_.find(origin);
  return it == nodes_.end() ? nullptr : &it->second;
}

std::size_t HealthState::record_count() const {
  std::size_t n = 0;
  for (const auto& [name, h] : nodes_) n += h.probes.size() + (h.reach ? 1 : 0);
  return n;
}

std::uint64_t HealthState::next_version(const HealthRecord* prev) const {
  const std::uint64_t now = static_cast<std::uint64_t>(std::max<std::int64_t>(wall_ms(), 0));
  return prev ? std::max(prev->version + 1, now) : std::max<std::uint64_t>(now, 1);
}

// ---- local inputs -----------------------------------------------------------------------

void HealthState::on_probe_update(const checkers::ProbeUpdate& u) {
  const auto age = steady_() - u.since;
  const std::int64_t since_ms =
      wall_ms() - std::chrono::duration_cast<std::chrono::milliseconds>(age).count();
  set_local_probe(u.probe, since_ms);
  if (!u.raw.peers.empty()) add_peer_results(u.raw.peers);
}

bool HealthState::set_local_probe(const checkers::Probe& p, std::int64_t since_ms) {
  if (p.checker.empty()) return false;
  HealthRecord r;
  r.kind = RecordKind::probe;
  ProbeFields& f = r.probe;
  f.checker = cap_utf8(p.checker, kMaxCheckerBytes);
  f.type = cap_utf8(p.type, kMaxTypeBytes);
  f.status = wire_status(p.status);
  f.severity = p.failed() ? wire_severity(p.severity) : WireSeverity::critical;
  f.since_ms = since_ms;
  f.error = cap_utf8(p.error, opt_.max_text_bytes);
  f.detail = cap_utf8(p.detail, opt_.max_text_bytes);
  NodeHealth& mine = nodes_[self_];
  auto it = mine.probes.find(f.checker);
  if (it != mine.probes.end()) {
    const ProbeFields& old = it->second.probe;
    if (old.status == f.status) f.since_ms = old.since_ms;  // status unchanged: keep `since`
    const bool issued = issued_.count(record_key(it->second)) > 0;
    if (old == f && issued) return false;
    // Only the measurements in `detail` changed (an RTT, an offset, a count): the verdict's
    // record stands as it was gossiped; our own copy shows the new numbers (served here only).
    if (issued && same_verdict(old, f) && old.error == f.error) {
      it->second.probe.detail = std::move(f.detail);
      touched();
      return false;
    }
  } else if (mine.probes.size() >= kMaxProbesPerOrigin) {
    return false;
  }
  issue(std::move(r));
  return true;
}

void HealthState::remove_local_probe(const std::string& checker) {
  auto& mine = nodes_[self_];
  auto it = mine.probes.find(checker);
  if (it == mine.probes.end() || it->second.probe.status == WireStatus::removed) return;
  HealthRecord r = it->second;
  r.probe.status = WireStatus::removed;
  r.probe.since_ms = wall_ms();
  r.probe.error.clear();
  r.probe.detail.clear();
  issue(std::move(r));
}

void HealthState::add_peer_results(const std::vector<checkers::PeerResult>& peers) {
  const auto now = steady_();
  for (const checkers::PeerResult& pr : peers) {
    if (pr.sent <= 0) continue;
    tracker_.add(pr.peer, pr.protocol, static_cast<std::uint32_t>(pr.sent),
                 static_cast<std::uint32_t>(std::max(pr.lost, 0)),
                 std::chrono::duration_cast<std::chrono::microseconds>(pr.rtt), now);
    if (on_peer_sample_) {
      const auto lost = static_cast<std::uint32_t>(std::clamp(pr.lost, 0, pr.sent));
      std::vector<checkers::Duration> mean;  // a checker without per-packet RTTs: the mean
      if (pr.rtt_samples.empty()) mean.assign(static_cast<std::size_t>(pr.sent) - lost, pr.rtt);
      on_peer_sample_(pr.peer, pr.protocol, static_cast<std::uint32_t>(pr.sent), lost,
                      pr.rtt_samples.empty() ? mean : pr.rtt_samples);
    }
    if (pr.large_sent > 0) {
      const auto sent = static_cast<std::uint32_t>(pr.large_sent);
      const auto lost = static_cast<std::uint32_t>(std::clamp(pr.large_lost, 0, pr.large_sent));
      const auto bytes = static_cast<std::uint32_t>(std::max(pr.large_bytes, 0));
      tracker_.add_large(pr.peer, pr.protocol, sent, lost, bytes, now);
      if (on_large_sample_) on_large_sample_(pr.peer, sent, lost, bytes);
    }
  }
  refresh_reach(false);
}

void HealthState::tick() {
  refresh_reach(true);
}

void HealthState::forget(const std::string& node) {
  if (node == self_) return;
  // Peers reap a node seconds apart: until they all have, their push-pull answers still carry
  // its records. Remember the newest version we dropped, so those copies are not taken back
  // (a node that returns issues newer versions: wall-clock ms).
  const auto now = steady_();
  std::erase_if(forgotten_, [&](const auto& f) { return now - f.second.at > kForgetMemory; });
  if (auto it = nodes_.find(node); it != nodes_.end()) {
    std::uint64_t newest = it->second.reach ? it->second.reach->version : 0;
    for (const auto& [checker, r] : it->second.probes) newest = std::max(newest, r.version);
    forgotten_[node] = {newest, now};
  }
  nodes_.erase(node);
  tracker_.forget(node);
  clock_->forget(node);
  changed();
}

void HealthState::restart_samples(const std::string& peer) {
  if (peer == self_) return;
  tracker_.forget(peer);
  wanted_.erase(peer);
  // Our gossiped row may still name it (a healthy entry is not news, so nothing else would
  // re-issue the row): then it goes again, without it. Once per failure or return: O(faults).
  if (gossiped_peers_.count(peer)) reach_sig_.clear();
  refresh_reach(false);
}

void HealthState::restart_all_samples() {
  tracker_ = ReachTracker(opt_.reach_window);
  wanted_.clear();
  reach_sig_.clear();  // re-issue: the whole row measured the cut
  refresh_reach(false);
}

void HealthState::refresh_reach(bool in_place) {
  const auto now = steady_();
  HealthRecord r;
  r.kind = RecordKind::reach;
  r.origin = self_;
  std::set<std::string> wanted;
  for (auto it = wanted_.begin(); it != wanted_.end();) {
    if (now - it->second > opt_.reach_window) {
      it = wanted_.erase(it);
    } else {
      wanted.insert(it->first);
      ++it;
    }
  }
  // What we gossip: lossy peers, the peers that asked for our view, a few healthy ones; never
  // gossip-probe entries (RTT of random members, no loss). Our own copy has more (below).
  // Large echo counts go only with MTU news (lost while the small probes pass): a healthy
  // count is no news, and its absence tells the diagnosis "nothing lost" all the same.
  std::size_t healthy = 0;
  for (PeerReach& e : tracker_.summary(now, SIZE_MAX, wanted)) {
    if (r.reach.size() >= opt_.max_reach_peers) break;
    if (e.protocol == "gossip" || !udp_news(e)) continue;
    const bool mtu = e.mtu_news();
    if (!mtu) e.large_sent = e.large_lost = e.large_bytes = 0;
    if (e.lost == 0 && !mtu && !wanted.count(e.peer) && healthy++ >= opt_.max_healthy_reach)
      continue;
    r.reach.push_back(std::move(e));
  }
  const std::string sig = ReachTracker::signature(r.reach, opt_.max_healthy_reach, wanted);
  NodeHealth& mine = nodes_[self_];
  const bool have = mine.reach && issued_.count(record_key(r));
  // Nothing to gossip yet (no ICMP results, no loss): an empty summary would only add one
  // more record per node to the start-up storm (n records x L sends at every node). Our own
  // copy still shows what we measure (gossip RTTs): version 0, never sent (summary_cache).
  // (A summary of ours from before a restart, held by peers, is superseded by issuing.)
  if (!have && r.reach.empty() && (!mine.reach || mine.reach->version == 0)) {
    if (!in_place) return;
    r.reach = local_summary(now, wanted);
    fit(r);
    if (mine.reach && r.reach == mine.reach->reach) return;
    r.version = 0;
    r.updated_ms = wall_ms();
    mine.reach = std::move(r);
    touched();
    return;
  }
  if (!have || sig != reach_sig_) {
    reach_sig_ = sig;
    issue(std::move(r));
    return;
  }
  // Same picture (same lossy peers by 10% bucket, same protocols and ICMP peer count): the
  // gossiped record stands; our own copy takes the new counts and RTTs.
  if (!in_place) return;
  r.reach = local_summary(now, wanted);
  fit(r);
  if (r.reach == mine.reach->reach) return;
  mine.reach->reach = std::move(r.reach);
  touched();
}

bool HealthState::udp_news(const PeerReach& e) {
  // UDP evidence comes from gossip probes, ~1 per peer per n seconds: one rescued probe is
  // chance (a lost datagram); two, losing most of that peer's probes, are a pattern.
  return e.protocol != kUdpProtocol || (e.lost >= 2 && 2 * e.lost >= e.sent);
}

std::vector<PeerReach> HealthState::local_summary(std::chrono::steady_clock::time_point now,
                                                  const std::set<std::string>& wanted) {
  std::vector<PeerReach> out;
  for (PeerReach& e : tracker_.summary(now, SIZE_MAX, wanted)) {
    if (out.size() >= opt_.max_reach_peers) break;
    if (e.protocol == kUdpProtocol && e.lost == 0) continue;  // the gossip entry says it
    out.push_back(std::move(e));
  }
  return out;
}

int HealthState::priority_of(const HealthRecord& r, const HealthRecord* prev) {
  if (prev && prev->version == 0) prev = nullptr;  // our local-only copy was never gossiped
  if (prev) return r.kind == RecordKind::probe ? kProbePriority : kReachPriority;
  // An origin's first record: background when it says all is well (the start-up storm).
  const bool ok = r.kind == RecordKind::probe
                      ? r.probe.status == WireStatus::running
                      : std::none_of(r.reach.begin(), r.reach.end(),
                                     [](const PeerReach& e) { return e.lost > 0 || e.mtu_news(); });
  if (ok) return kBackgroundPriority;
  return r.kind == RecordKind::probe ? kProbePriority : kReachPriority;
}

void HealthState::fit(HealthRecord& r) const {
  // The reachability encoder drops the least interesting peers until the record fits.
  while (!r.reach.empty() && encode_record(r).size() > kMaxRecordBytes) r.reach.pop_back();
}

void HealthState::issue(HealthRecord r) {
  r.origin = self_;
  NodeHealth& mine = nodes_[self_];
  const HealthRecord* prev = nullptr;
  std::optional<ProbeFields> before;
  if (r.kind == RecordKind::probe) {
    auto it = mine.probes.find(r.probe.checker);
    if (it != mine.probes.end()) prev = &it->second, before = it->second.probe;
  } else if (mine.reach) {
    prev = &*mine.reach;
  }
  r.version = next_version(prev);
  r.updated_ms = wall_ms();
  fit(r);
  Bytes bytes = encode_record(r);
  const std::string key = record_key(r);
  const int priority = priority_of(r, prev);
  issued_.insert(key);
  changed();
  if (r.kind == RecordKind::probe) {
    ProbeChange change{self_, before, r.probe};
    mine.probes[r.probe.checker] = std::move(r);
    if (on_change_ && (!before || !same_verdict(*before, change.after))) on_change_(change);
  } else {
    gossiped_peers_.clear();
    for (const PeerReach& e : r.reach) gossiped_peers_.insert(e.peer);
    mine.reach = std::move(r);
  }
  if (broadcaster_) broadcaster_(key, std::move(bytes), priority);
}

// ---- merging ----------------------------------------------------------------------------

HealthState::Merge HealthState::merge(HealthRecord r) {
  if (auto f = forgotten_.find(r.origin); f != forgotten_.end() && r.version <= f->second.version)
    return Merge::stale;  // a copy of what we dropped when its node was reaped
  NodeHealth* node = nullptr;
  auto nit = nodes_.find(r.origin);
  if (nit != nodes_.end()) node = &nit->second;
  HealthRecord* cur = nullptr;
  if (node) {
    if (r.kind == RecordKind::reach) {
      if (node->reach) cur = &*node->reach;
    } else if (auto it = node->probes.find(r.probe.checker); it != node->probes.end()) {
      cur = &it->second;
    }
  }
  if (r.origin == self_) {
    // Our own record, echoed back (often from before a restart).
    const bool ours_now = cur && issued_.count(record_key(*cur));
    if (ours_now) {
      if (r.version <= cur->version) return Merge::stale;
      HealthRecord again = *cur;  // a copy of an older self wins again, with a newer version
      cur->version = std::max(cur->version, r.version);
      issue(std::move(again));
      return Merge::refuted;
    }
    if (r.kind == RecordKind::probe && local_checkers_ &&
        !local_checkers_->count(r.probe.checker)) {
      if (r.probe.status == WireStatus::removed) {
        if (cur && cur->version >= r.version) return Merge::stale;
      } else {
        HealthRecord tomb = r;  // a checker we no longer run: bury it
        tomb.probe.status = WireStatus::removed;
        tomb.probe.error.clear();
        tomb.probe.detail.clear();
        tomb.probe.since_ms = wall_ms();
        if (!cur || cur->version < r.version) {
          nodes_[self_].probes[r.probe.checker] = r;  // so the tombstone's version beats it
        }
        issue(std::move(tomb));
        return Merge::refuted;
      }
    }
  }
  if (cur && cur->version >= r.version) return Merge::stale;
  if (!node) node = &nodes_[r.origin];
  changed();
  if (r.kind == RecordKind::reach) {
    if (r.origin != self_) {
      const bool blames_us = std::any_of(r.reach.begin(), r.reach.end(), [&](const PeerReach& e) {
        return e.peer == self_ && (e.lost > 0 || e.mtu_news()) && e.protocol != "gossip";
      });
      if (blames_us) wanted_[r.origin] = steady_();
    }
    node->reach = std::move(r);
    return Merge::stored;
  }
  if (!cur && node->probes.size() >= kMaxProbesPerOrigin) return Merge::stale;
  std::optional<ProbeFields> before;
  if (cur) before = cur->probe;
  const std::string checker = r.probe.checker;
  ProbeChange change{r.origin, before, r.probe};
  node->probes[checker] = std::move(r);
  if (on_change_ && (!before || !same_verdict(*before, change.after))) on_change_(change);
  return Merge::stored;
}

// ---- gossip::Delegate --------------------------------------------------------------------

bool HealthState::notify_message(std::string_view key, std::span<const std::uint8_t> payload) {
  (void)key;  // the payload names its origin and checker; the key only deduplicates queues
  auto r = decode_record(payload);
  if (!r) {
    ++decode_errors_;
    return false;
  }
  const HealthRecord* prev = nullptr;
  if (auto n = nodes_.find(r->origin); n != nodes_.end()) {
    if (r->kind == RecordKind::reach) {
      if (n->second.reach) prev = &*n->second.reach;
    } else if (auto p = n->second.probes.find(r->probe.checker); p != n->second.probes.end()) {
      prev = &p->second;
    }
  }
  relay_priority_ = priority_of(*r, prev);
  return merge(std::move(*r)) == Merge::stored;
}

// ---- anti-entropy ------------------------------------------------------------------------

HealthState::Summary& HealthState::summary_cache() {
  if (summary_) return *summary_;
  Summary& s = summary_.emplace();
  std::map<std::uint32_t, std::uint32_t> by_hash;  // colliding origins share an entry
  for (const auto& [origin, h] : nodes_) {
    const bool reach = h.reach && h.reach->version > 0;  // version 0: our local-only copy
    std::uint32_t d = reach ? record_digest(*h.reach) : 0;
    for (const auto& [checker, r] : h.probes) d += record_digest(r);
    if (h.probes.empty() && !reach) continue;
    const std::uint32_t oh = origin_hash(origin);
    by_hash[oh] += d;
    s.origins.emplace(oh, &origin);
  }
  s.entries.reserve(by_hash.size());
  for (const auto& [oh, d] : by_hash) {
    s.entries.push_back({oh, d});
    std::uint64_t x = (std::uint64_t{oh} << 32 | d) + 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    s.root += x ^ (x >> 31);
  }
  return s;
}

std::uint64_t HealthState::state_digest() {
  return summary_cache().root;
}

Bytes HealthState::full_state() const {
  std::vector<const HealthRecord*> all;
  all.reserve(record_count());
  for (const auto& [origin, h] : nodes_) {
    for (const auto& [checker, r] : h.probes) all.push_back(&r);
    if (h.reach) all.push_back(&*h.reach);
  }
  return encode_state(all);
}

Bytes HealthState::local_state(bool join) {
  (void)join;
  return encode_state_message(StateStage::opening, summary_cache().entries, {});
}

std::vector<const HealthRecord*> HealthState::records_of(const std::vector<std::uint32_t>& hashes,
                                                         const std::vector<HealthRecord>* theirs) {
  std::vector<const HealthRecord*> out;
  const Summary& s = summary_cache();
  std::unordered_map<std::string, std::uint64_t> their_version;  // by record_key
  if (theirs) {
    their_version.reserve(theirs->size());
    for (const HealthRecord& t : *theirs) their_version[record_key(t)] = t.version;
  }
  auto newer = [&](const HealthRecord& r) {
    auto it = their_version.find(record_key(r));
    return it == their_version.end() || it->second < r.version;
  };
  for (std::uint32_t oh : hashes) {
    auto [lo, hi] = s.origins.equal_range(oh);
    for (auto it = lo; it != hi; ++it) {
      const NodeHealth& h = nodes_.at(*it->second);
      for (const auto& [checker, r] : h.probes)
        if (newer(r)) out.push_back(&r);
      if (h.reach && h.reach->version > 0 && newer(*h.reach)) out.push_back(&*h.reach);
    }
  }
  return out;
}

Bytes HealthState::merge_remote_state(std::span<const std::uint8_t> state, bool join) {
  (void)join;
  if (state.empty()) return {};
  auto m = decode_state_message(state);
  if (!m) {
    ++decode_errors_;
    return {};
  }
  for (const HealthRecord& r : m->records) merge(r);
  switch (m->stage) {
    case StateStage::opening: {
      // Their whole summary: answer with the entries that differ (ours; 0 where we hold
      // nothing) and our records of those origins.
      const std::vector<OriginDigest>& mine = summary_cache().entries;
      std::vector<OriginDigest> differ;
      std::vector<std::uint32_t> ours;
      auto a = mine.begin();
      auto b = m->summary.begin();
      while (a != mine.end() || b != m->summary.end()) {
        if (b == m->summary.end() || (a != mine.end() && a->origin_hash < b->origin_hash)) {
          differ.push_back(*a), ours.push_back(a->origin_hash), ++a;
        } else if (a == mine.end() || b->origin_hash < a->origin_hash) {
          differ.push_back({b->origin_hash, 0}), ++b;
        } else {
          if (a->digest != b->digest) differ.push_back(*a), ours.push_back(a->origin_hash);
          ++a, ++b;
        }
      }
      if (differ.empty()) return {};
      const auto records = records_of(ours, nullptr);
      return encode_state_message(StateStage::answer, differ, records);
    }
    case StateStage::answer: {
      // The entries that differed, as they hold them, and their records of those origins
      // (merged above): send back ours that are newer or that they lack.
      std::vector<std::uint32_t> hashes;
      hashes.reserve(m->summary.size());
      for (const OriginDigest& d : m->summary) hashes.push_back(d.origin_hash);
      const auto records = records_of(hashes, &m->records);
      if (records.empty()) return {};
      return encode_state_message(StateStage::last, {}, records);
    }
    case StateStage::last:
      break;
  }
  return {};
}

Bytes HealthState::ack_payload() {
  return encode_clock(wall_us_());
}

void HealthState::notify_ping_complete(const gossip::Member& peer, gossip::Duration rtt,
                                       std::span<const std::uint8_t> payload) {
  const auto now = steady_();
  const auto rtt_us = std::chrono::duration_cast<std::chrono::microseconds>(rtt);
  if (auto peer_us = decode_clock(payload)) {
    clock_->record(peer.name,
                   clock_offset(std::chrono::microseconds(*peer_us),
                                std::chrono::microseconds(wall_us_()), rtt),
                   rtt, now);
  }
  tracker_.add(peer.name, "gossip", 1, 0, rtt_us, now);
  tracker_.add(peer.name, kUdpProtocol, 1, 0, rtt_us, now);
  if (on_peer_sample_) on_peer_sample_(peer.name, "gossip", 1, 0, std::span(&rtt, 1));
  refresh_reach(false);
}

void HealthState::notify_ping_lost(const gossip::Member& peer) {
  // Metrics only: the reachability summary keeps gossip entries answer-only (ReachTracker).
  if (on_peer_sample_) on_peer_sample_(peer.name, "gossip", 1, 1, {});
}

void HealthState::notify_probe_rescue(const gossip::Member& peer, Rescue how) {
  // A probe whose direct UDP ping was lost but whose TCP fallback ping was answered: the peer
  // is up and reachable, UDP between us is not. A ping-req rescue alone is no such evidence:
  // a partition that a third zone bridges looks the same; so is a probe nobody answered.
  if (how != Rescue::tcp) return;
  tracker_.add(peer.name, kUdpProtocol, 1, 1, std::chrono::microseconds(0), steady_());
  refresh_reach(false);
}

}  // namespace vigil::agent
