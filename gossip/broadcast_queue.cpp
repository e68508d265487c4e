#include "gossip/broadcast_queue.hpp"

#include <memory>

namespace vigil::gossip {

std::size_t BroadcastQueue::push(std::string key, Bytes msg, int priority) {
  std::size_t dropped = 0;
  auto it = by_key_.find(key);
  if (it != by_key_.end()) {
    items_.erase(it->second.get());
    by_key_.erase(it);
    ++dropped;
  }
  auto item = std::make_unique<Item>(Item{key, std::move(msg), 0, next_id_++, priority});
  items_.insert(item.get());
  by_key_.emplace(std::move(key), std::move(item));
  while (items_.size() > max_items_) {  // drop the least urgent, most transmitted, oldest
    Item* victim = *std::prev(items_.end());
    items_.erase(std::prev(items_.end()));
    by_key_.erase(victim->key);
    ++dropped;
  }
  return dropped;
}

void BroadcastQueue::take(std::size_t overhead, std::size_t budget, int limit,
                          std::vector<Bytes>& out, int background_limit) {
  // Skip at most this many broadcasts that do not fit before giving up: bounds the scan
  // when the queue is long and the packet nearly full.
  constexpr int kMaxSkips = 64;
  constexpr std::size_t kSmallestMessage = 8;
  std::vector<Item*> taken;
  int skips = 0;
  for (auto it = items_.begin(); it != items_.end(); ++it) {
    if (budget < overhead + kSmallestMessage || skips > kMaxSkips) break;
    Item* item = *it;
    const std::size_t need = overhead + item->msg.size();
    if (need > budget) {
      ++skips;
      continue;
    }
    budget -= need;
    taken.push_back(item);
  }
  for (Item* item : taken) {
    items_.erase(item);
    out.push_back(item->msg);
    const int lim =
        item->priority >= kBackground && background_limit > 0 ? background_limit : limit;
    if (++item->transmits >= lim) {
      by_key_.erase(item->key);  // frees item
    } else {
      items_.insert(item);
    }
  }
}

}  // namespace vigil::gossip
