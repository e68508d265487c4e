// Precedence rules of SWIM as memberlist implements them (state.go aliveNode / suspectNode /
// deadNode / refute / mergeState). Higher incarnation wins; at equal incarnation
// dead > suspect > alive; a node hearing it is suspected or dead refutes with a higher
// incarnation.

#include <cmath>

#include "gossip/membership_impl.hpp"

namespace vigil::gossip {

void Membership::Impl::on_alive(const codec::Alive& a, bool bootstrap) {
  const bool is_self = a.node == self_name;
  if (is_self && leaving) return;  // we are going away: do not resurrect ourselves
  if (a.node.empty() || a.addr.empty() || !codec::tags_problem(a.tags, cfg.max_tags_bytes).empty())
    return;

  Member* m = find(a.node);
  if (!m) {
    Member fresh{a.node, a.addr, a.tags, a.incarnation, MemberState::alive, now};
    add_member(std::move(fresh));
    broadcast(a.node, a);
    emit(EventKind::joined, *find(a.node));
    return;
  }

  const bool gone = m->state == MemberState::dead || m->state == MemberState::left;
  bool reclaim = false;  // a failed/left name taken over by a new address (a pod restarted)
  if (m->addr != a.addr) {
    if (!gone) return;  // two live nodes claim one name: keep the one we know
    reclaim = true;
  }
  if (!is_self) {
    if (a.incarnation <= m->incarnation && !reclaim) return;
  } else {
    if (a.incarnation < m->incarnation) return;
  }
  suspicions.erase(a.node);

  if (!bootstrap && is_self) {
    // Someone holds an alive view of us at >= our incarnation. Same incarnation and same
    // content is just our own update coming back; anything else (another incarnation or
    // other content, e.g. we restarted with new tags) must be refuted.
    if (a.incarnation == m->incarnation && a.tags == m->tags && a.addr == m->addr) return;
    refute(a.incarnation);
    return;
  }

  broadcast(a.node, a);
  const MemberState old = m->state;
  const bool changed = m->tags != a.tags || m->addr != a.addr;
  m->incarnation = a.incarnation;
  m->tags = a.tags;
  m->addr = a.addr;
  if (old != MemberState::alive) set_state(*m, MemberState::alive);
  if (is_self) return;
  if (old != MemberState::alive) {
    if (cfg.doubt_returnee_verdicts) returned[a.node] = now;
    emit(EventKind::recovered, *m);
  } else if (changed) {
    emit(EventKind::updated, *m);
  }
}

void Membership::Impl::on_suspect(const codec::Suspect& s) {
  Member* m = find(s.node);
  if (!m || s.incarnation < m->incarnation) return;

  // Already suspected: count an independent confirmation and re-gossip it when new, so
  // confirmations flow even when several nodes probe the same suspect.
  if (auto it = suspicions.find(s.node); it != suspicions.end()) {
    if (it->second.confirm(s.from)) broadcast(s.node, s);
    return;
  }
  if (m->state != MemberState::alive) return;

  if (s.node == self_name) {
    if (!leaving) refute(s.incarnation);
    return;
  }
  broadcast(s.node, s);
  m->incarnation = s.incarnation;
  set_state(*m, MemberState::suspect);
  ++stats.suspicions;

  // Expect k independent confirmations, so the nominal timeout is hit two probe intervals
  // before what suspicion_mult alone would give. Not counting the suspect and ourselves.
  const std::size_t n = live_count;
  int k = cfg.suspicion_mult - 2;
  if (static_cast<int>(n) - 2 < k) k = 0;
  const Duration min = suspicion_min_timeout(cfg, n);
  const Duration max = min * cfg.suspicion_max_timeout_mult;
  suspicions.emplace(s.node, Suspicion(s.from, k, min, max, now));
  emit(EventKind::suspect, *m);
}

void Membership::Impl::on_dead(const codec::Dead& d) {
  Member* m = find(d.node);
  if (!m || d.incarnation < m->incarnation) return;
  if (m->state == MemberState::dead || m->state == MemberState::left) {
    suspicions.erase(d.node);
    return;
  }
  if (d.node != self_name && d.node != d.from && doubtful_verdict_source(d.from)) {
    // Before anything else: a running suspicion must keep its timer (this only confirms it).
    ++stats.doubted_verdicts;
    on_suspect(codec::Suspect{d.incarnation, d.node, d.from});
    return;
  }
  suspicions.erase(d.node);
  if (d.node == self_name && !leaving) {
    refute(d.incarnation);
    return;
  }
  broadcast(d.node, d);
  m->incarnation = d.incarnation;
  const bool left = d.node == d.from;
  set_state(*m, left ? MemberState::left : MemberState::dead);
  if (d.node != self_name) emit(left ? EventKind::left : EventKind::failed, *m);
}

Duration Membership::Impl::suspicion_max_timeout() const {
  return suspicion_min_timeout(cfg, live_count) * cfg.suspicion_max_timeout_mult;
}

// A member we cannot reach now (suspect, failed), or that came back from either moments ago,
// formed its view of the others while it was cut off from us: its death notices say that *it*
// lost them. The longest such a notice can still be in flight after it comes back is one of
// its suspicions started just before the heal running out, hence the window.
bool Membership::Impl::doubtful_verdict_source(const std::string& from) {
  if (!cfg.doubt_returnee_verdicts || from == self_name) return false;
  const Member* f = find(from);
  if (!f) return false;  // a sender we do not know yet: no view of it to go by
  if (f->state == MemberState::suspect || f->state == MemberState::dead) return true;
  if (f->state == MemberState::left) return false;  // its last words, formed while in touch
  const auto it = returned.find(from);
  if (it == returned.end()) return false;
  if (now - it->second < suspicion_max_timeout()) return true;
  returned.erase(it);
  return false;
}

// A peer still spreads a suspect/dead about us that we already refuted (an older incarnation):
// it missed our alive, e.g. right after a partition healed, and ignoring it lets that peer's
// suspicion timer declare us failed. Send our current alive straight to it, at most once per
// probe interval per sender.
void Membership::Impl::answer_stale_accusation(const Address& from, std::uint32_t accused) {
  if (leaving || from.empty() || !index.count(self_name)) return;
  const Member& me = self();
  if (accused >= me.incarnation) return;  // not stale: on_suspect/on_dead refute it
  auto [it, fresh] = stale_refuted.try_emplace(from, now);
  if (!fresh && now - it->second < cfg.probe_interval) return;
  it->second = now;
  if (stale_refuted.size() > 1024) stale_refuted.clear();  // bounded: any sender, any address
  std::vector<Bytes> parts{
      codec::encode_message(codec::Alive{me.incarnation, self_name, me.addr, me.tags})};
  emit_packet(from, parts);
}

void Membership::Impl::refute(std::uint32_t accused) {
  Member& me = self();
  // Saturate instead of wrapping to 0: at UINT32_MAX we can only tie, never go backwards.
  constexpr std::uint32_t kMax = UINT32_MAX;
  std::uint32_t inc = me.incarnation == kMax ? kMax : me.incarnation + 1;
  if (accused >= inc) inc = accused == kMax ? kMax : accused + 1;
  me.incarnation = inc;
  ++stats.refutations;
  awareness.apply_delta(1);  // being accused is a hint that we are the slow one
  broadcast(self_name, codec::Alive{inc, self_name, me.addr, me.tags});
}

void Membership::Impl::suspicion_tick() {
  std::vector<std::string> expired;
  for (const auto& [name, s] : suspicions)
    if (s.deadline() <= now) expired.push_back(name);
  for (const auto& name : expired) {
    Member* m = find(name);
    suspicions.erase(name);
    if (m && m->state == MemberState::suspect)
      on_dead(codec::Dead{m->incarnation, name, self_name});
  }
}

Bytes Membership::Impl::merge_push_pull(const codec::PushPull& pp) {
  for (const auto& r : pp.nodes) {
    switch (r.state) {
      case MemberState::alive:
        on_alive(codec::Alive{r.incarnation, r.name, r.addr, r.tags}, false);
        break;
      case MemberState::left:  // an unknown departed node stays unknown
        on_dead(codec::Dead{r.incarnation, r.name, r.name});
        break;
      case MemberState::dead:  // prefer suspecting to declaring dead on hearsay
      case MemberState::suspect:
        on_suspect(codec::Suspect{r.incarnation, r.name, self_name});
        break;
    }
  }
  if (delegate && (!pp.user_state.empty() || pp.join))
    return delegate->merge_remote_state(pp.user_state, pp.join);
  return {};
}

}  // namespace vigil::gossip
