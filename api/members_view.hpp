#pragma once
// Read-only views of the gossip membership, as the agent publishes them for the HTTP API.
// Plain values: api/ does not depend on gossip/.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace vigil::api {

struct MemberInfo {
  std::string name;
  std::string addr;    ///< "ip:port" of its gossip endpoint
  std::string status;  ///< "alive", "suspect", "failed" or "left"
  std::uint32_t incarnation = 0;
  std::vector<std::pair<std::string, std::string>> tags;  ///< sorted by key
};

/// Published by the loop after every membership change.
struct MembersSnapshot {
  std::string self;                 ///< this node's name
  std::vector<MemberInfo> members;  ///< sorted by name, self included
  bool ready = false;               ///< joined a mesh, or alone by configuration
  bool leaving = false;             ///< a graceful leave is in progress
};

/// Gossip counters for /metrics, copied on the loop thread at scrape time.
struct GossipMetrics {
  /// (message type, count) per direction; message types are the wire names ("ping", ...).
  std::vector<std::pair<std::string, std::uint64_t>> messages_in, messages_out;
  std::uint64_t bytes_in = 0, bytes_out = 0;                             ///< on the wire, UDP + TCP
  std::vector<std::pair<std::string, std::uint64_t>> members_by_status;  ///< all 4 statuses
  int health_awareness = 0;          ///< Lifeguard local health score
  std::uint64_t suspicions = 0;      ///< members this node started suspecting
  std::uint64_t decode_errors = 0;   ///< malformed datagrams/frames, oversize included
  std::uint64_t decrypt_errors = 0;  ///< datagrams/frames no key could open
};

}  // namespace vigil::api
