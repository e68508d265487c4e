#pragma once
// Plain value types shared by the gossip core and its users. No I/O, no clocks.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vigil::gossip {

/// Monotonic time as the core sees it: always passed in by the caller (never read inside).
using TimePoint = std::chrono::steady_clock::time_point;
using Duration = std::chrono::steady_clock::duration;
using Bytes = std::vector<std::uint8_t>;

/// A transport address, "host:port" ("10.0.0.1:7946", "[::1]:7946"). Opaque to the core:
/// only the transport parses it. The simulator uses any unique string.
using Address = std::string;

/// Node metadata (role, zone, ...): sorted by key, unique keys. Size-limited on the wire
/// (GossipConfig::max_tags_bytes).
using Tags = std::vector<std::pair<std::string, std::string>>;

/// Sets `key` to `value` keeping Tags sorted. Returns the tags for chaining.
Tags& set_tag(Tags& tags, std::string key, std::string value);
/// The value of `key`, or empty when absent.
std::string_view tag_value(const Tags& tags, std::string_view key);

/// Membership state of a node, as SWIM knows it. `dead` is the SWIM name for what the product
/// calls `failed`; `left` is a graceful departure (dead by its own announcement).
enum class MemberState : std::uint8_t { alive = 0, suspect = 1, dead = 2, left = 3 };

/// "alive", "suspect", "failed" or "left": the product's names (design.md).
std::string_view to_string(MemberState s);

/// One member as seen by the local node.
struct Member {
  std::string name;
  Address addr;
  Tags tags;
  std::uint32_t incarnation = 0;
  MemberState state = MemberState::alive;
  TimePoint state_change{};  ///< when `state` last changed (local time)
};

}  // namespace vigil::gossip
