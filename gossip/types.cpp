#include <algorithm>

#include "gossip/events.hpp"
#include "gossip/msg_type.hpp"
#include "gossip/types.hpp"

namespace vigil::gossip {

Tags& set_tag(Tags& tags, std::string key, std::string value) {
  auto it = std::lower_bound(tags.begin(), tags.end(), key,
                             [](const auto& kv, const std::string& k) { return kv.first < k; });
  if (it != tags.end() && it->first == key) {
    it->second = std::move(value);
  } else {
    tags.emplace(it, std::move(key), std::move(value));
  }
  return tags;
}

std::string_view tag_value(const Tags& tags, std::string_view key) {
  for (const auto& [k, v] : tags)
    if (k == key) return v;
  return {};
}

std::string_view to_string(MemberState s) {
  switch (s) {
    case MemberState::alive:
      return "alive";
    case MemberState::suspect:
      return "suspect";
    case MemberState::dead:
      return "failed";
    case MemberState::left:
      return "left";
  }
  return "unknown";
}

std::string_view to_string(EventKind k) {
  switch (k) {
    case EventKind::joined:
      return "joined";
    case EventKind::updated:
      return "updated";
    case EventKind::suspect:
      return "suspect";
    case EventKind::recovered:
      return "recovered";
    case EventKind::failed:
      return "failed";
    case EventKind::left:
      return "left";
    case EventKind::reaped:
      return "reaped";
  }
  return "unknown";
}

std::string_view to_string(MsgType t) {
  switch (t) {
    case MsgType::ping:
      return "ping";
    case MsgType::indirect_ping:
      return "indirect_ping";
    case MsgType::ack:
      return "ack";
    case MsgType::nack:
      return "nack";
    case MsgType::suspect:
      return "suspect";
    case MsgType::alive:
      return "alive";
    case MsgType::dead:
      return "dead";
    case MsgType::push_pull:
      return "push_pull";
    case MsgType::user:
      return "user";
  }
  return "unknown";
}

}  // namespace vigil::gossip
