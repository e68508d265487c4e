// Membership: public wrappers, timers, dissemination (gossip rounds and piggybacking) and
// push-pull anti-entropy. See membership_impl.hpp for how the implementation is split.

#include "gossip/membership.hpp"

#include <algorithm>

#include "gossip/membership_impl.hpp"

namespace vigil::gossip {

namespace {

// FNV-1a: a stable hash (the same on every node and every build) for the state digest.
std::uint64_t fnv(std::string_view s, std::uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}
std::uint64_t mix(std::uint64_t x) {  // splitmix64 finaliser
  x ^= x >> 30, x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27, x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}
codec::PushPull in_sync_reply(std::uint64_t digest, Bytes answer = {}) {
  codec::PushPull pp;
  pp.digest = digest;
  pp.in_sync = true;
  pp.user_state = std::move(answer);
  return pp;
}
Duration uniform(std::mt19937_64& rng, Duration max) {
  if (max <= Duration::zero()) return Duration::zero();
  return Duration(std::uniform_int_distribution<Duration::rep>(0, max.count() - 1)(rng));
}

}  // namespace

// ---- Impl: members -------------------------------------------------------------------------

Membership::Impl::Impl(GossipConfig c, LocalNode me, std::uint64_t seed, TimePoint t, Delegate* d)
    : cfg(std::move(c)),
      delegate(d),
      rng(seed),
      self_name(me.name),
      awareness(cfg.awareness_max_multiplier),
      now(t) {
  // Like memberlist's setAlive: we start one incarnation above what we were given.
  const std::uint32_t inc = me.incarnation == UINT32_MAX ? UINT32_MAX : me.incarnation + 1;
  add_member(Member{me.name, me.addr, me.tags, inc, MemberState::alive, t});
  next_probe = t + uniform(rng, cfg.probe_interval);
  next_gossip = t + uniform(rng, cfg.gossip_interval);
  next_push_pull = t + uniform(rng, cfg.push_pull_interval) + cfg.push_pull_interval / 2;
  next_reap = t + cfg.probe_interval;
  next_reconnect = t + cfg.reconnect_interval;
}

Member* Membership::Impl::find(const std::string& name) {
  auto it = index.find(name);
  return it == index.end() ? nullptr : &nodes[it->second];
}

void Membership::Impl::set_state(Member& m, MemberState s) {
  auto live = [](MemberState x) { return x == MemberState::alive || x == MemberState::suspect; };
  if (live(m.state) != live(s)) {
    if (live(s))
      ++live_count, --gone_count;
    else
      --live_count, ++gone_count;
  }
  m.state = s;
  m.state_change = now;
}

void Membership::Impl::add_member(Member m) {
  const bool live = m.state == MemberState::alive || m.state == MemberState::suspect;
  live ? ++live_count : ++gone_count;
  const std::size_t slot = nodes.size();
  index.emplace(m.name, slot);
  nodes.push_back(std::move(m));
  // Insert at a random position so new members are not probed in join order.
  const std::size_t other = std::uniform_int_distribution<std::size_t>(0, slot)(rng);
  if (other != slot) {
    std::swap(nodes[other], nodes[slot]);
    index[nodes[other].name] = other;
    index[nodes[slot].name] = slot;
  }
  broadcasts.set_max_items(std::max<std::size_t>(4096, 2 * nodes.size()));
}

void Membership::Impl::reset_nodes() {
  std::shuffle(nodes.begin(), nodes.end(), rng);
  for (std::size_t i = 0; i < nodes.size(); ++i) index[nodes[i].name] = i;
  probe_pos = 0;
}

void Membership::Impl::reap() {
  if (gone_count == 0) return;
  std::vector<Member> reaped;
  auto expired = [&](const Member& m) {
    if (m.name == self_name) return false;
    if (m.state == MemberState::dead) return now - m.state_change >= cfg.dead_reap_timeout;
    if (m.state == MemberState::left) return now - m.state_change >= cfg.left_reap_timeout;
    return false;
  };
  auto keep = std::stable_partition(nodes.begin(), nodes.end(),
                                    [&](const Member& m) { return !expired(m); });
  for (auto it = keep; it != nodes.end(); ++it) reaped.push_back(std::move(*it));
  if (reaped.empty()) return;
  nodes.erase(keep, nodes.end());
  index.clear();
  for (std::size_t i = 0; i < nodes.size(); ++i) index.emplace(nodes[i].name, i);
  probe_pos = std::min(probe_pos, nodes.size());
  gone_count -= reaped.size();
  for (auto& m : reaped) emit(EventKind::reaped, m);
}

std::vector<std::size_t> Membership::Impl::random_nodes(int k, bool include_recent_dead) {
  std::vector<std::size_t> picked;
  const std::size_t n = nodes.size();
  if (n <= 1 || k <= 0) return picked;
  std::uniform_int_distribution<std::size_t> pick(0, n - 1);
  for (std::size_t i = 0; i < 3 * n && picked.size() < static_cast<std::size_t>(k); ++i) {
    const std::size_t idx = pick(rng);
    const Member& m = nodes[idx];
    if (m.name == self_name) continue;
    bool ok = m.state == MemberState::alive || m.state == MemberState::suspect;
    if (!ok && include_recent_dead && m.state == MemberState::dead)
      ok = now - m.state_change <= cfg.gossip_to_the_dead_time;
    if (!ok || std::find(picked.begin(), picked.end(), idx) != picked.end()) continue;
    picked.push_back(idx);
  }
  return picked;
}

void Membership::Impl::emit(EventKind kind, const Member& m) {
  out.events.push_back(Event{kind, m});
}

// ---- Impl: sending and dissemination -------------------------------------------------------

void Membership::Impl::send(const Address& to, const codec::Message& msg) {
  send_compound(to, std::span<const codec::Message>(&msg, 1));
}

void Membership::Impl::send_compound(const Address& to, std::span<const codec::Message> msgs) {
  std::vector<Bytes> parts;
  std::size_t used = codec::kPacketOverhead;
  for (const auto& m : msgs) {
    parts.push_back(codec::encode_message(m));
    used += parts.back().size();
  }
  piggyback(parts, cfg.udp_buffer_size > used ? cfg.udp_buffer_size - used : 0);
  emit_packet(to, parts);
}

void Membership::Impl::piggyback(std::vector<Bytes>& parts, std::size_t budget) {
  // Membership updates first, then the extension channel, up to the packet budget.
  const int limit = retransmit_limit(cfg.retransmit_mult, live_count);
  const std::size_t before = parts.size();
  broadcasts.take(0, budget, limit, parts);
  std::size_t taken = 0;
  for (std::size_t i = before; i < parts.size(); ++i) taken += parts[i].size();
  const int user_limit = user_retransmit_limit(cfg, live_count);
  user_broadcasts.take(0, std::min(budget - taken, cfg.max_user_bytes_per_packet), user_limit,
                       parts, retransmit_limit(cfg.background_retransmit_mult, live_count));
}

void Membership::Impl::emit_packet(const Address& to, std::vector<Bytes>& parts) {
  if (parts.size() > codec::kMaxPartsPerPacket) parts.resize(codec::kMaxPartsPerPacket);
  std::vector<std::span<const std::uint8_t>> views(parts.begin(), parts.end());
  Bytes packet = codec::encode_packet(views);
  for (const auto& p : parts) {
    ++stats.msgs_out[p[1] < kMsgTypeCount ? p[1] : 0];
    if (p[1] == static_cast<std::uint8_t>(MsgType::user)) stats.user_bytes_out += p.size();
  }
  ++stats.packets_out;
  stats.bytes_out += packet.size();
  out.datagrams.push_back(Datagram{to, std::move(packet)});
}

void Membership::Impl::broadcast(const std::string& node, const codec::Message& msg) {
  stats.broadcasts_dropped += broadcasts.push(node, codec::encode_message(msg));
}

void Membership::Impl::gossip() {
  if (broadcasts.empty() && user_broadcasts.empty()) return;
  for (std::size_t idx : random_nodes(cfg.gossip_nodes, true)) {
    std::vector<Bytes> parts;
    piggyback(parts, cfg.udp_buffer_size - codec::kPacketOverhead);
    if (parts.empty()) return;
    emit_packet(nodes[idx].addr, parts);
  }
}

// ---- Impl: push-pull ----------------------------------------------------------------------

std::uint64_t Membership::Impl::digest() {
  // Order-independent: a sum of per-member hashes, so no sorting is needed. Member states
  // only: the extension has its own digest (user_digest), so a health change in flight does
  // not make two nodes exchange their member lists.
  std::uint64_t sum = 0;
  for (const Member& m : nodes) {
    std::uint64_t h = fnv(m.name);
    h = fnv(m.addr, h);
    for (const auto& [k, v] : m.tags) h = fnv(v, fnv(k, h));
    sum += mix(h ^ (std::uint64_t{m.incarnation} << 8) ^ static_cast<std::uint64_t>(m.state));
  }
  return sum;
}

codec::PushPull Membership::Impl::digest_message() {
  codec::PushPull pp;
  pp.digest = digest();
  pp.user_digest = delegate ? delegate->state_digest() : 0;
  pp.digest_only = true;
  return pp;
}

codec::PushPull Membership::Impl::local_state(bool join, bool with_nodes, bool with_user) {
  codec::PushPull pp;
  pp.join = join;
  pp.digest = digest();
  pp.user_digest = delegate ? delegate->state_digest() : 0;
  if (with_nodes) {
    pp.nodes.reserve(nodes.size());
    for (const Member& m : nodes)
      pp.nodes.push_back(codec::PushNode{m.name, m.addr, m.incarnation, m.state, m.tags});
  }
  if (delegate && with_user) pp.user_state = delegate->local_state(join);
  return pp;
}

void Membership::Impl::open_stream(const Address& to, const codec::Message& msg, Duration timeout,
                                   PendingStream pending) {
  StreamRequest req{++next_stream_id, to, codec::encode_frame(msg), timeout, pending.purpose};
  ++stats.msgs_out[static_cast<std::size_t>(codec::type_of(msg))];
  stats.bytes_out += req.bytes.size();
  if (const auto* pp = std::get_if<codec::PushPull>(&msg)) {
    stats.push_pull_bytes_out += req.bytes.size();
    stats.user_bytes_out += pp->user_state.size();
    if (!pp->in_sync) ++stats.push_pulls_started;
  }
  pending.sent_bytes = req.bytes.size();
  streams.emplace(req.id, std::move(pending));
  out.streams.push_back(std::move(req));
}

void Membership::Impl::start_push_pull() {
  // Steady state: send only our digests; states flow only for the part whose digests differ.
  auto peers = random_nodes(1, false);
  if (peers.empty()) return;
  const Address& to = nodes[peers.front()].addr;
  open_stream(to, digest_message(), cfg.stream_timeout,
              PendingStream{StreamPurpose::push_pull, 0, true, to});
}

void Membership::Impl::reconnect() {
  std::size_t dead = 0;
  for (const Member& m : nodes) dead += m.state == MemberState::dead;
  if (dead == 0) return;
  const double p =
      static_cast<double>(dead) / static_cast<double>(std::max<std::size_t>(1, live_count));
  if (std::uniform_real_distribution<double>(0, 1)(rng) > p) return;
  std::size_t pick = std::uniform_int_distribution<std::size_t>(0, dead - 1)(rng);
  for (const Member& m : nodes) {
    if (m.state != MemberState::dead || pick--) continue;
    open_stream(m.addr, local_state(false, true, true), cfg.stream_timeout,
                PendingStream{StreamPurpose::push_pull, 0, false, m.addr});
    return;
  }
}

// ---- Impl: inbound -------------------------------------------------------------------------

void Membership::Impl::handle(const Address& from, codec::Message& msg) {
  ++stats.msgs_in[msg.index()];
  std::visit(
      [&](auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, codec::Ping>)
          on_ping(from, m);
        else if constexpr (std::is_same_v<T, codec::IndirectPing>)
          on_indirect_ping(from, m);
        else if constexpr (std::is_same_v<T, codec::Ack>)
          on_ack(from, m);
        else if constexpr (std::is_same_v<T, codec::Nack>)
          on_nack(m);
        else if constexpr (std::is_same_v<T, codec::Suspect>) {
          answer_stale_accusation(from, m.node == self_name ? m.incarnation : UINT32_MAX);
          on_suspect(m);
        } else if constexpr (std::is_same_v<T, codec::Alive>)
          on_alive(m, false);
        else if constexpr (std::is_same_v<T, codec::Dead>) {
          if (m.node != m.from)  // a leave is not an accusation
            answer_stale_accusation(from, m.node == self_name ? m.incarnation : UINT32_MAX);
          on_dead(m);
        } else if constexpr (std::is_same_v<T, codec::User>) {
          if (delegate && delegate->notify_message(m.key, m.payload))
            stats.broadcasts_dropped += user_broadcasts.push("u:" + m.key, codec::encode_message(m),
                                                             delegate->relay_priority());
        }
        // push_pull never arrives in a datagram (the decoder rejects it)
      },
      msg);
}

// ---- Membership ----------------------------------------------------------------------------

std::uint64_t Delegate::state_digest() {
  const Bytes state = local_state(false);
  return mix(fnv(std::string_view(reinterpret_cast<const char*>(state.data()), state.size())));
}

Membership::Membership(GossipConfig config, LocalNode self, std::uint64_t seed, TimePoint now,
                       Delegate* delegate)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(self), seed, now, delegate)) {}

Membership::~Membership() = default;

void Membership::on_datagram(const Address& from, std::span<const std::uint8_t> bytes,
                             TimePoint now) {
  Impl& s = *impl_;
  s.now = now;
  ++s.stats.packets_in;
  s.stats.bytes_in += bytes.size();
  auto decoded = codec::decode_packet(bytes);
  if (!decoded) {
    ++s.stats.decode_errors;
    return;
  }
  s.has_peers = true;
  s.last_heard = now;
  for (auto& msg : *decoded.value) s.handle(from, msg);
}

Bytes Membership::on_stream(const Address& from, std::span<const std::uint8_t> bytes,
                            TimePoint now) {
  Impl& s = *impl_;
  s.now = now;
  s.stats.bytes_in += bytes.size();
  auto decoded = codec::decode_frame(bytes);
  if (!decoded) {
    ++s.stats.decode_errors;
    return {};
  }
  ++s.stats.msgs_in[decoded.value->index()];
  s.last_heard = now;
  Bytes reply;
  if (auto* ping = std::get_if<codec::Ping>(&*decoded.value)) {
    if (!ping->target.empty() && ping->target != s.self_name) {
      ++s.stats.misdirected;
      return {};
    }
    reply = codec::encode_frame(
        codec::Ack{ping->seq, s.delegate ? s.delegate->ack_payload() : Bytes{}});
    ++s.stats.msgs_out[static_cast<std::size_t>(MsgType::ack)];
  } else if (auto* pp = std::get_if<codec::PushPull>(&*decoded.value)) {
    s.has_peers = true;
    ++s.stats.push_pulls;
    codec::PushPull answer;
    if (pp->digest_only) {
      // Answer with the part(s) whose digest differs: our member list, our opening user state.
      const std::uint64_t mine = s.digest();
      const bool same_nodes = mine == pp->digest;
      const bool same_user = !s.delegate || s.delegate->state_digest() == pp->user_digest;
      answer = same_nodes && same_user ? in_sync_reply(mine)
                                       : s.local_state(false, !same_nodes, !same_user);
    } else {
      // Merge first, then reply: if the sender thought us dead, the reply already carries
      // our refutation. A sender that already merged our state (in_sync) gets a short ack,
      // with the extension's last answer if it has one.
      Bytes user_answer = s.merge_push_pull(*pp);
      if (pp->in_sync) {
        answer = in_sync_reply(0, std::move(user_answer));
      } else {
        answer = s.local_state(pp->join, true, false);
        answer.user_state = std::move(user_answer);
      }
    }
    reply = codec::encode_frame(answer);
    ++s.stats.msgs_out[static_cast<std::size_t>(MsgType::push_pull)];
    s.stats.push_pull_bytes_out += reply.size();
    s.stats.user_bytes_out += answer.user_state.size();
  } else {
    (void)from;
    ++s.stats.decode_errors;  // only ping and push-pull are valid on a stream
    return {};
  }
  s.stats.bytes_out += reply.size();
  return reply;
}

void Membership::on_stream_reply(std::uint64_t id,
                                 std::optional<std::span<const std::uint8_t>> reply,
                                 TimePoint now) {
  Impl& s = *impl_;
  s.now = now;
  auto it = s.streams.find(id);
  if (it == s.streams.end()) return;
  const Impl::PendingStream pending = std::move(it->second);
  s.streams.erase(it);
  if (!reply) return;
  s.stats.bytes_in += reply->size();
  auto decoded = codec::decode_frame(*reply);
  if (!decoded) {
    ++s.stats.decode_errors;
    return;
  }
  ++s.stats.msgs_in[decoded.value->index()];
  s.last_heard = now;
  if (pending.purpose == StreamPurpose::ping) {
    auto* ack = std::get_if<codec::Ack>(&*decoded.value);
    if (ack && s.probe.active && ack->seq == pending.seq && ack->seq == s.probe.seq)
      s.probe.tcp_acked = true;
    if (ack && ack->seq == pending.seq && ack->seq == s.rescued_seq && s.delegate) {
      s.rescued_seq = 0;  // a ping-req saved the probe first; TCP reached the peer too
      if (const Member* peer = s.find(s.rescued_target))
        s.delegate->notify_probe_rescue(*peer, Delegate::Rescue::tcp);
    }
    return;
  }
  auto* pp = std::get_if<codec::PushPull>(&*decoded.value);
  if (!pp) return;
  s.has_peers = true;
  ++s.stats.push_pulls;
  if (pp->in_sync) {
    // The end of an exchange: "nothing to merge", or the extension's last answer.
    if (pending.digest_only) {
      ++s.stats.push_pulls_in_sync;
      s.stats.push_pull_sync_bytes += pending.sent_bytes + reply->size();
    }
    if (s.delegate && !pp->user_state.empty())
      s.delegate->merge_remote_state(pp->user_state, false);
    return;
  }
  const std::uint32_t inc_before = s.self().incarnation;
  Bytes user_answer = s.merge_push_pull(*pp);
  if (s.self().incarnation != inc_before) {
    // The peer held us suspect or dead: tell it first-hand (it may see us as dead and not
    // gossip to us), then the broadcast spreads it to everyone else.
    const Member& me = s.self();
    s.send(pending.to, codec::Alive{me.incarnation, s.self_name, me.addr, me.tags});
  }
  // Push back what the other side lacks: our member list when the digests still differ after
  // the merge (only after a digest-only opening: a join or reconnect already sent it) and the
  // extension's answer. The reply is an in_sync, with the extension's last answer if any.
  const bool send_nodes = pending.digest_only && !pp->nodes.empty() && s.digest() != pp->digest;
  if (send_nodes || !user_answer.empty()) {
    codec::PushPull back = s.local_state(false, send_nodes, false);
    back.user_state = std::move(user_answer);
    back.in_sync = true;
    s.open_stream(pending.to, back, s.cfg.stream_timeout,
                  Impl::PendingStream{StreamPurpose::push_pull, 0, false, pending.to});
  }
}

void Membership::tick(TimePoint now) {
  Impl& s = *impl_;
  s.now = now;
  s.probe_tick();
  if (now >= s.next_probe) s.start_probe();
  if (now >= s.next_gossip) {
    s.gossip();
    s.next_gossip += s.cfg.gossip_interval;
    if (s.next_gossip <= now) s.next_gossip = now + s.cfg.gossip_interval;
  }
  if (!s.suspicions.empty()) s.suspicion_tick();
  if (!s.returned.empty()) {  // at most one entry per member
    const Duration window = s.suspicion_max_timeout();
    std::erase_if(s.returned, [&](const auto& r) { return now - r.second >= window; });
  }
  if (!s.relays.empty()) s.relay_tick();
  if (s.cfg.push_pull_interval > Duration::zero() && now >= s.next_push_pull) {
    if (!s.leaving) s.start_push_pull();
    s.next_push_pull = now + push_pull_scaled(s.cfg.push_pull_interval, s.live_count);
  }
  if (s.cfg.reconnect_interval > Duration::zero() && now >= s.next_reconnect) {
    if (!s.leaving) s.reconnect();
    s.next_reconnect = now + s.cfg.reconnect_interval;
  }
  if (now >= s.next_reap) {
    s.reap();
    const Duration shortest = std::min(s.cfg.dead_reap_timeout, s.cfg.left_reap_timeout);
    s.next_reap = now + std::max(s.cfg.probe_interval, shortest / 10);
  }
}

TimePoint Membership::next_deadline() const {
  const Impl& s = *impl_;
  TimePoint t = std::min({s.next_probe, s.next_gossip, s.next_reap});
  if (s.cfg.push_pull_interval > Duration::zero()) t = std::min(t, s.next_push_pull);
  if (s.cfg.reconnect_interval > Duration::zero()) t = std::min(t, s.next_reconnect);
  if (s.probe.active) {
    t = std::min(t, s.probe.deadline);
    if (!s.probe.indirect_sent) t = std::min(t, s.probe.direct_deadline);
  }
  for (const auto& [name, sus] : s.suspicions) t = std::min(t, sus.deadline());
  for (const auto& [seq, r] : s.relays) t = std::min(t, r.nack_deadline);
  return t;
}

void Membership::join(const std::vector<Address>& seeds, TimePoint now) {
  Impl& s = *impl_;
  s.now = now;
  for (const auto& seed : seeds) {
    if (seed == s.self().addr) continue;
    s.open_stream(seed, s.local_state(true, true, true), s.cfg.stream_timeout,
                  Impl::PendingStream{StreamPurpose::join, 0, false, seed});
  }
}

void Membership::restore(const std::vector<Member>& members, TimePoint now) {
  Impl& s = *impl_;
  s.now = now;
  for (const Member& m : members) {
    if (m.name.empty() || m.addr.empty() || s.find(m.name)) continue;
    Member copy = m;
    copy.state_change = now;
    s.add_member(std::move(copy));
  }
}

void Membership::leave(TimePoint now) {
  Impl& s = *impl_;
  s.now = now;
  if (s.leaving) return;
  s.leaving = true;
  s.probe.active = false;
  Member& me = s.self();
  s.on_dead(codec::Dead{me.incarnation, s.self_name, s.self_name});
}

bool Membership::set_tags(Tags tags, TimePoint now) {
  Impl& s = *impl_;
  s.now = now;
  if (!codec::tags_problem(tags, s.cfg.max_tags_bytes).empty()) return false;
  std::sort(tags.begin(), tags.end());
  Member& me = s.self();
  me.tags = std::move(tags);
  if (me.incarnation != UINT32_MAX) me.incarnation += 1;
  s.broadcast(s.self_name, codec::Alive{me.incarnation, s.self_name, me.addr, me.tags});
  return true;
}

void Membership::queue_broadcast(std::string key, Bytes payload, int priority) {
  Impl& s = *impl_;
  Bytes msg = codec::encode_message(codec::User{key, std::move(payload)});
  s.stats.broadcasts_dropped += s.user_broadcasts.push("u:" + key, std::move(msg), priority);
}

Output Membership::take_output() {
  return std::exchange(impl_->out, Output{});
}

const Member& Membership::self() const {
  return impl_->self();
}
std::vector<Member> Membership::members() const {
  return impl_->nodes;
}
const Member* Membership::find(std::string_view name) const {
  return impl_->find(std::string(name));
}
std::size_t Membership::size() const {
  return impl_->nodes.size();
}
std::size_t Membership::num_alive() const {
  return impl_->live_count;
}
int Membership::health_score() const {
  return impl_->awareness.score();
}
const Stats& Membership::stats() const {
  return impl_->stats;
}
const GossipConfig& Membership::config() const {
  return impl_->cfg;
}
bool Membership::has_peers() const {
  return impl_->has_peers;
}
std::size_t Membership::pending_broadcasts() const {
  return impl_->broadcasts.size() + impl_->user_broadcasts.size();
}

Membership::LocalEvidence Membership::local_evidence() const {
  return {impl_->failed_probes_in_a_row, impl_->last_heard};
}

}  // namespace vigil::gossip
