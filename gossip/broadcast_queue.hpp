#pragma once
// TransmitLimitedQueue (memberlist broadcast.go): pending broadcasts, each sent a bounded number
// of times, most urgent class first, then least-sent; a newer broadcast with the same key
// replaces an older one.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "gossip/types.hpp"

namespace vigil::gossip {

class BroadcastQueue {
 public:
  /// `max_items`: cap on queued broadcasts; the most-sent are dropped first beyond it.
  explicit BroadcastQueue(std::size_t max_items = 4096) : max_items_(max_items) {}

  /// Queues `msg` (an encoded message) under `key`, replacing any queued one with that key.
  /// `priority`: 0 is the most urgent; a broadcast of a lower class is taken before any of a
  /// higher one (e.g. verdict changes before measurement refreshes). Returns the number of
  /// broadcasts dropped (replaced or over the cap; the least urgent, most sent go first).
  std::size_t push(std::string key, Bytes msg, int priority = 0);

  /// Takes broadcasts that fit in `budget` bytes, charging `overhead` bytes per broadcast,
  /// most urgent class first, then least-transmitted, then newest. Each taken broadcast counts
  /// one transmit and is dropped once it reached `limit` transmits (`background_limit`, when
  /// positive, for priority kBackground and above). Appends copies of the messages to `out`.
  void take(std::size_t overhead, std::size_t budget, int limit, std::vector<Bytes>& out,
            int background_limit = 0);
  /// Priority of background broadcasts: news that says all is well (a checker's first
  /// `running`), sent fewer times; a node that misses one gets it by push-pull.
  static constexpr int kBackground = 2;

  std::size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  void set_max_items(std::size_t n) { max_items_ = n; }

 private:
  struct Item {
    std::string key;
    Bytes msg;
    int transmits = 0;
    std::uint64_t id = 0;  ///< insertion order: larger is newer
    int priority = 0;
  };
  struct Order {
    bool operator()(const Item* a, const Item* b) const {
      if (a->priority != b->priority) return a->priority < b->priority;
      if (a->transmits != b->transmits) return a->transmits < b->transmits;
      return a->id > b->id;
    }
  };
  std::size_t max_items_;
  std::uint64_t next_id_ = 0;
  std::unordered_map<std::string, std::unique_ptr<Item>> by_key_;
  std::set<Item*, Order> items_;
};

}  // namespace vigil::gossip
