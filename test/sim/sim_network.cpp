#include "sim_network.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace vigil::sim {

struct SimNetwork::Node {
  std::string name, addr;
  gossip::Tags tags;
  bool host_down = false;                 ///< power_off(): not even ICMP answers
  std::unique_ptr<gossip::Membership> m;  ///< null while crashed
  std::uint32_t epoch = 0;                ///< bumps on restart: stale replies are dropped
  double loss = 0;
  Duration offset{};
  TimePoint stalled_until{};
  TimePoint scheduled_tick = TimePoint::max();
};

enum class Kind : std::uint8_t { tick, datagram, stream_request, stream_reply, stop };

struct SimNetwork::Item {
  TimePoint at{};
  std::uint64_t seq = 0;
  Kind kind = Kind::tick;
  std::size_t to = 0, from = 0;
  std::uint32_t epoch = 0;  ///< epoch of `to` when sent (replies) / of `from` (requests)
  std::uint64_t stream_id = 0;
  TimePoint deadline{};  ///< streams: when the requester gives up
  bool failed = false;   ///< stream_reply: the exchange failed
  gossip::Bytes bytes;
};

namespace {
std::unique_ptr<SimNetwork::Item> new_item(TimePoint at, Kind kind) {
  auto item = std::make_unique<SimNetwork::Item>();
  item->at = at;
  item->kind = kind;
  return item;
}
}  // namespace

bool SimNetwork::Later::operator()(const Item* a, const Item* b) const {
  return a->at != b->at ? a->at > b->at : a->seq > b->seq;
}

SimNetwork::SimNetwork(std::uint64_t seed, gossip::GossipConfig config, LinkModel link)
    : seed_(seed), config_(std::move(config)), link_(link), rng_(seed) {
  start_ = now_ = TimePoint{} + std::chrono::hours(1);
}

SimNetwork::~SimNetwork() {
  while (!queue_.empty()) {
    delete queue_.top();
    queue_.pop();
  }
}

double SimNetwork::seconds_since_start() const {
  return std::chrono::duration<double>(now_ - start_).count();
}

std::size_t SimNetwork::add_node(gossip::Tags tags) {
  const std::size_t i = nodes_.size();
  auto n = std::make_unique<Node>();
  n->name = "node-" + std::to_string(i);
  n->tags = std::move(tags);
  n->addr = "10." + std::to_string((i >> 16) & 255) + "." + std::to_string((i >> 8) & 255) + "." +
            std::to_string(i & 255) + ":7946";
  n->m = std::make_unique<gossip::Membership>(
      config_, gossip::LocalNode{n->name, n->addr, n->tags, 0}, rng_(), now_ + n->offset,
      delegate_for ? delegate_for(i) : nullptr);
  by_addr_.emplace(n->addr, i);
  nodes_.push_back(std::move(n));
  group_.push_back(0);
  reschedule_tick(i);
  return i;
}

void SimNetwork::join(std::size_t i, std::size_t seed) {
  Node& n = *nodes_[i];
  if (!n.m) return;
  n.m->join({nodes_[seed]->addr}, local_now(i));
  drain(i);
}

void SimNetwork::warm_start() {
  std::vector<gossip::Member> all;
  all.reserve(nodes_.size());
  for (const auto& n : nodes_)
    all.push_back(gossip::Member{n->name, n->addr, n->tags, 1, gossip::MemberState::alive, now_});
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (!nodes_[i]->m) continue;
    nodes_[i]->m->restore(all, local_now(i));
    drain(i);
  }
}

bool SimNetwork::up(std::size_t i) const {
  return nodes_[i]->m != nullptr;
}
gossip::Membership& SimNetwork::node(std::size_t i) {
  return *nodes_[i]->m;
}
const std::string& SimNetwork::name(std::size_t i) const {
  return nodes_[i]->name;
}
const gossip::Tags& SimNetwork::tags(std::size_t i) const {
  return nodes_[i]->tags;
}
bool SimNetwork::host_up(std::size_t i) const {
  return !nodes_[i]->host_down;
}

double SimNetwork::delivery(std::size_t from, std::size_t to) const {
  if (!host_up(from) || !host_up(to) || !can_talk(from, to)) return 0.0;
  double p = (1 - link_.loss) * (1 - nodes_[from]->loss) * (1 - nodes_[to]->loss);
  if (auto it = link_loss_.find((static_cast<std::uint64_t>(from) << 32) | to);
      it != link_loss_.end()) {
    p *= 1 - it->second;
  }
  return p;
}
std::size_t SimNetwork::index_of(const std::string& name) const {
  return static_cast<std::size_t>(std::stoul(name.substr(5)));
}
TimePoint SimNetwork::local_now(std::size_t i) const {
  return now_ + nodes_[i]->offset;
}

void SimNetwork::crash(std::size_t i) {
  nodes_[i]->m.reset();
  nodes_[i]->scheduled_tick = TimePoint::max();
}

void SimNetwork::restart(std::size_t i) {
  Node& n = *nodes_[i];
  n.m = std::make_unique<gossip::Membership>(config_, gossip::LocalNode{n.name, n.addr, n.tags, 0},
                                             rng_(), local_now(i),
                                             delegate_for ? delegate_for(i) : nullptr);
  ++n.epoch;
  n.host_down = false;
  n.stalled_until = TimePoint{};
  n.scheduled_tick = TimePoint::max();
  reschedule_tick(i);
}

void SimNetwork::power_off(std::size_t i) {
  crash(i);
  nodes_[i]->host_down = true;
}

void SimNetwork::leave(std::size_t i) {
  if (!nodes_[i]->m) return;
  nodes_[i]->m->leave(local_now(i));
  drain(i);
  auto stop = new_item(now_ + 2s, Kind::stop);
  stop->to = i;
  stop->epoch = nodes_[i]->epoch;
  schedule(std::move(stop));
}

void SimNetwork::set_node_loss(std::size_t i, double p) {
  nodes_[i]->loss = p;
}
void SimNetwork::set_link_loss(std::size_t from, std::size_t to, double p) {
  const std::uint64_t key = (static_cast<std::uint64_t>(from) << 32) | to;
  if (p > 0) {
    link_loss_[key] = p;
  } else {
    link_loss_.erase(key);
  }
}
void SimNetwork::block_udp(std::size_t a, std::size_t b, bool blocked) {
  const std::uint64_t key = static_cast<std::uint64_t>(std::min(a, b)) << 32 | std::max(a, b);
  if (blocked) {
    udp_blocked_[key] = true;
  } else {
    udp_blocked_.erase(key);
  }
}
void SimNetwork::set_partition(const std::vector<int>& g) {
  group_ = g;
  group_.resize(nodes_.size(), 0);
}
void SimNetwork::stall(std::size_t i, Duration d) {
  nodes_[i]->stalled_until = now_ + d;
}
void SimNetwork::set_clock_offset(std::size_t i, Duration o) {
  nodes_[i]->offset = o;
}

bool SimNetwork::can_talk(std::size_t a, std::size_t b) const {
  return group_[a] == 0 || group_[b] == 0 || group_[a] == group_[b];
}

Duration SimNetwork::sample_latency(std::mt19937_64& rng) const {
  const double mean = std::chrono::duration<double>(link_.jitter).count();
  double extra = mean > 0 ? std::exponential_distribution<double>(1.0 / mean)(rng) : 0.0;
  extra = std::min(extra, 20 * mean);
  return link_.base_latency +
         std::chrono::duration_cast<Duration>(std::chrono::duration<double>(extra));
}

void SimNetwork::schedule(std::unique_ptr<Item> item) {
  item->seq = next_seq_++;
  queue_.push(item.release());
}

void SimNetwork::reschedule_tick(std::size_t i) {
  Node& n = *nodes_[i];
  if (!n.m) return;
  TimePoint t = n.m->next_deadline() - n.offset;
  if (t < now_) t = now_;
  if (t >= n.scheduled_tick) return;
  n.scheduled_tick = t;
  auto item = new_item(t, Kind::tick);
  item->to = i;
  schedule(std::move(item));
}

void SimNetwork::drain(std::size_t i) {
  Node& n = *nodes_[i];
  if (!n.m) return;
  gossip::Output out = n.m->take_output();
  std::uniform_real_distribution<double> coin(0, 1);
  for (auto& d : out.datagrams) {
    ++traffic_.datagrams;
    traffic_.datagram_bytes += d.bytes.size();
    auto it = by_addr_.find(d.to);
    if (it == by_addr_.end()) continue;
    const std::size_t j = it->second;
    if (!can_talk(i, j)) continue;
    if (link_.loss > 0 && coin(rng_) < link_.loss) continue;
    if (n.loss > 0 && coin(rng_) < n.loss) continue;
    if (nodes_[j]->loss > 0 && coin(rng_) < nodes_[j]->loss) continue;
    if (!link_loss_.empty()) {
      auto ll = link_loss_.find((static_cast<std::uint64_t>(i) << 32) | j);
      if (ll != link_loss_.end() && coin(rng_) < ll->second) continue;
    }
    if (!udp_blocked_.empty() &&
        udp_blocked_.count(static_cast<std::uint64_t>(std::min(i, j)) << 32 | std::max(i, j)))
      continue;
    auto item = new_item(now_ + latency(), Kind::datagram);
    item->to = j, item->from = i, item->bytes = std::move(d.bytes);
    schedule(std::move(item));
  }
  for (auto& s : out.streams) {
    ++traffic_.streams;
    traffic_.stream_bytes += s.bytes.size();
    auto it = by_addr_.find(s.to);
    const bool reachable = it != by_addr_.end() && can_talk(i, it->second) && host_up(it->second);
    auto item = new_item(now_, Kind::stream_request);
    item->from = i, item->epoch = n.epoch, item->stream_id = s.id;
    item->deadline = now_ + s.timeout;
    if (!reachable) {  // no route: the connect times out
      item->kind = Kind::stream_reply, item->to = i, item->failed = true;
      item->at = item->deadline;
    } else {
      item->to = it->second, item->at = now_ + latency(), item->bytes = std::move(s.bytes);
    }
    schedule(std::move(item));
  }
  for (const auto& ev : out.events)
    if (on_event) on_event(i, ev, now_);
  reschedule_tick(i);
}

void SimNetwork::dispatch(Item& item) {
  Node& n = *nodes_[item.to];
  if (item.kind == Kind::stop) {
    if (n.epoch == item.epoch) crash(item.to);
    return;
  }
  if (item.kind == Kind::tick && item.at != n.scheduled_tick) return;  // superseded
  if (!n.m) {
    if (item.kind == Kind::stream_request) {  // host up, process dead: connection refused
      auto reply = new_item(now_ + latency(), Kind::stream_reply);
      reply->to = item.from, reply->epoch = item.epoch, reply->stream_id = item.stream_id;
      reply->failed = true;
      schedule(std::move(reply));
    }
    return;
  }
  if (now_ < n.stalled_until) {  // a stalled process handles its backlog when it resumes
    auto later = std::make_unique<Item>(std::move(item));
    later->at = n.stalled_until;
    if (later->kind == Kind::tick) n.scheduled_tick = later->at;
    schedule(std::move(later));
    return;
  }
  const TimePoint local = local_now(item.to);
  switch (item.kind) {
    case Kind::tick:
      n.scheduled_tick = TimePoint::max();
      n.m->tick(local);
      break;
    case Kind::datagram:
      n.m->on_datagram(nodes_[item.from]->addr, item.bytes, local);
      break;
    case Kind::stream_request: {
      gossip::Bytes reply = n.m->on_stream(nodes_[item.from]->addr, item.bytes, local);
      traffic_.stream_bytes += reply.size();
      auto back = new_item(now_ + latency(), Kind::stream_reply);
      back->to = item.from, back->epoch = item.epoch, back->stream_id = item.stream_id;
      back->deadline = item.deadline;
      back->failed = reply.empty() || !can_talk(item.to, item.from);
      back->bytes = std::move(reply);
      schedule(std::move(back));
      break;
    }
    case Kind::stream_reply: {
      if (n.epoch != item.epoch) return;  // the requester restarted meanwhile
      const bool ok = !item.failed && now_ <= item.deadline;
      if (ok) {
        n.m->on_stream_reply(item.stream_id, std::span<const std::uint8_t>(item.bytes), local);
      } else {
        n.m->on_stream_reply(item.stream_id, std::nullopt, local);
      }
      break;
    }
    case Kind::stop:
      break;
  }
  drain(item.to);
}

void SimNetwork::run_until(TimePoint t) {
  while (!queue_.empty() && queue_.top()->at <= t) {
    std::unique_ptr<Item> item(queue_.top());
    queue_.pop();
    now_ = item->at;
    dispatch(*item);
  }
  now_ = std::max(now_, t);
}

void SimNetwork::run_for(Duration d) {
  run_until(now_ + d);
}

}  // namespace vigil::sim
