// The SWIM failure detector with Lifeguard's refinements (memberlist state.go probeNode,
// net.go handlePing/handleIndirectPing/handleAck/handleNack): one probe at a time, round robin
// over the shuffled member list; a direct ping, then ping-req through `indirect_checks` peers
// (which nack when the target stays silent) plus an optional TCP ping; no ack by the end of the
// (awareness-scaled) probe interval makes the target suspect.

#include "gossip/membership_impl.hpp"

namespace vigil::gossip {

void Membership::Impl::start_probe() {
  const Duration interval = awareness.scale(cfg.probe_interval);
  next_probe = now + interval;
  if (leaving) return;
  // Find the next live member other than ourselves; reshuffle at the end of each pass.
  Member* target = nullptr;
  for (std::size_t tries = 0; tries <= nodes.size() && !target; ++tries) {
    if (probe_pos >= nodes.size()) reset_nodes();
    Member& m = nodes[probe_pos++];
    if (m.name == self_name) continue;
    if (m.state == MemberState::alive || m.state == MemberState::suspect) target = &m;
  }
  if (!target) return;

  probe = Probe{};
  probe.active = true;
  probe.target = target->name;
  probe.seq = ++next_seq;
  probe.indirect_seq = ++next_seq;
  probe.start = now;
  probe.direct_deadline = now + awareness.scale(cfg.probe_timeout);
  probe.deadline = next_probe;
  ++stats.probes;

  const Member& me = self();
  codec::Ping ping{probe.seq, target->name, self_name, me.addr};
  if (target->state == MemberState::suspect) {
    // Tell a suspect it is suspected, so it can refute even if gossip about it was lost.
    codec::Message msgs[] = {ping, codec::Suspect{target->incarnation, target->name, self_name}};
    send_compound(target->addr, msgs);
  } else {
    send(target->addr, ping);
  }
}

void Membership::Impl::probe_tick() {
  if (!probe.active) return;
  if (!probe.indirect_sent && now >= probe.direct_deadline) {
    probe.indirect_sent = true;
    Member* target = find(probe.target);
    if (!target) {  // reaped meanwhile: nothing left to probe
      probe.active = false;
      return;
    }
    const Member& me = self();
    codec::IndirectPing req{probe.indirect_seq, target->name, target->addr,
                            self_name,          me.addr,      true};
    // Ask k random live peers, never the target itself.
    for (std::size_t i : random_nodes(cfg.indirect_checks + 1, false)) {
      if (probe.expected_nacks >= cfg.indirect_checks) break;
      if (nodes[i].name == probe.target) continue;
      send(nodes[i].addr, req);
      ++probe.expected_nacks;
    }
    if (cfg.tcp_fallback_probe && probe.deadline > now) {
      codec::Ping ping{probe.seq, target->name, self_name, me.addr};
      open_stream(target->addr, ping, probe.deadline - now,
                  PendingStream{StreamPurpose::ping, probe.seq, false, target->addr});
    }
  }
  if (now >= probe.deadline) finish_probe(probe.tcp_acked);
}

void Membership::Impl::report_ping_lost(Delegate::Rescue how) {
  if (!delegate) return;
  if (const Member* peer = find(probe.target)) {
    delegate->notify_ping_lost(*peer);
    delegate->notify_probe_rescue(*peer, how);
  }
}

void Membership::Impl::finish_probe(bool ok) {
  probe.active = false;
  report_ping_lost(ok ? Delegate::Rescue::tcp : Delegate::Rescue::none);
  failed_probes_in_a_row = ok ? 0 : failed_probes_in_a_row + 1;
  if (ok) {  // only reached through the TCP fallback: UDP is broken towards the target
    ++stats.tcp_fallback_acks;
    awareness.apply_delta(-1);
    return;
  }
  ++stats.probe_failures;
  // Lifeguard: missing nacks mean *we* may be the problem; no helpers: plain failure.
  int delta = 1;
  if (probe.expected_nacks > 0) delta = std::max(0, probe.expected_nacks - probe.nacks);
  awareness.apply_delta(delta);
  Member* target = find(probe.target);
  if (target && (target->state == MemberState::alive || target->state == MemberState::suspect))
    on_suspect(codec::Suspect{target->incarnation, target->name, self_name});
}

void Membership::Impl::on_ping(const Address& from, const codec::Ping& m) {
  if (!m.target.empty() && m.target != self_name) {
    ++stats.misdirected;  // meant for a node that used to have this address
    return;
  }
  codec::Ack ack{m.seq, delegate ? delegate->ack_payload() : Bytes{}};
  send(m.source_addr.empty() ? from : m.source_addr, ack);
}

void Membership::Impl::on_indirect_ping(const Address& from, const codec::IndirectPing& m) {
  const std::uint32_t seq = ++next_seq;
  // Lifeguard: nack after 80% of the probe timeout, so the nack reaches the requester
  // before its probe deadline (a full probe_timeout would land just after it).
  relays[seq] = Relay{m.source_addr.empty() ? from : m.source_addr, m.seq, m.nack,
                      now + cfg.probe_timeout * 4 / 5};
  send(m.target_addr, codec::Ping{seq, m.target, self_name, self().addr});
}

void Membership::Impl::on_ack(const Address& from, codec::Ack& m) {
  (void)from;
  if (probe.active && m.seq == probe.seq) {
    probe.active = false;
    failed_probes_in_a_row = 0;
    awareness.apply_delta(-1);
    if (delegate) {
      if (const Member* peer = find(probe.target))
        delegate->notify_ping_complete(*peer, now - probe.start, m.payload);
    }
    return;
  }
  if (probe.active && m.seq == probe.indirect_seq) {
    probe.active = false;
    failed_probes_in_a_row = 0;
    ++stats.indirect_acks;
    awareness.apply_delta(-1);
    report_ping_lost(Delegate::Rescue::indirect);
    rescued_seq = probe.seq, rescued_target = probe.target;
    return;
  }
  if (auto it = relays.find(m.seq); it != relays.end()) {
    Relay r = std::move(it->second);
    relays.erase(it);
    send(r.requester, codec::Ack{r.orig_seq, std::move(m.payload)});
  }
}

void Membership::Impl::on_nack(const codec::Nack& m) {
  ++stats.nacks_in;
  if (probe.active && m.seq == probe.indirect_seq) ++probe.nacks;
}

void Membership::Impl::relay_tick() {
  for (auto it = relays.begin(); it != relays.end();) {
    if (it->second.nack_deadline > now) {
      ++it;
      continue;
    }
    if (it->second.nack) send(it->second.requester, codec::Nack{it->second.orig_seq});
    it = relays.erase(it);
  }
}

}  // namespace vigil::gossip
