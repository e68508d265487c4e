#pragma once
// The records of the cluster health view (HealthState) and their wire codec.
//
// A node ("origin") owns a few records: one per checker (its latest probe result) and one
// reachability summary (what it measures to its peers). Each record carries a version chosen
// by its origin, version = max(previous + 1, wall clock in ms), so a newer record always wins,
// a stale copy never overwrites it, and a restarted origin (which forgot its versions) still
// wins with its wall clock.
//
// Wire format (msgpack, compact, never JSON). Values are on the wire: append only.
//   record = [fmt=1, kind, origin, version, updated_ms, ...kind fields, ...future fields]
//     kind 0 (probe): checker, type, status (0 running, 1 failed, 2 removed), severity
//                     (0 critical, 1 warning), since_ms, error, detail
//     kind 1 (reach): [[peer, protocol, sent, lost, rtt_us, ...large], ...]
//                     large (optional, appended when the entry carries large echoes: issue 13,
//                     mtu-blackhole): large_sent, large_lost, large_bytes. A node that predates
//                     them reads the first five fields and ignores the rest; an entry without
//                     them decodes with zeros.
//   state  = [fmt=1, [record, ...]]   (every record: the full state; what nodes before the
//                                      per-origin summary sent on push-pull, still accepted)
//   state2 = [fmt=2, stage, summary, [record, ...]]   (push-pull, agent/health_state.hpp)
//     summary: bin, 8 bytes per origin sorted by origin hash: origin_hash (u32 BE), digest (u32
//     BE) = sum of the origin's record digests (kind, checker, version); colliding origin hashes
//     share one entry (their digests add up), so a collision costs records, never correctness.
//     stage 0 (opening): the whole summary, no records. stage 1 (answer): the entries that
//     differed (ours, 0 where we hold nothing) and our records of those origins. stage 2
//     (last): the records the other side's answer showed it lacks.
// Decoders accept longer arrays (fields a newer version appended) and reject everything
// else: wrong types, out-of-range enums, over-limit strings or counts, trailing bytes.
//
// Size bounds (asserted by test/agent/health_state_test.cpp):
//   - one record, encoded, is at most kMaxRecordBytes (1000): the caps below guarantee it for
//     probes (origin <= 256, checker <= 64, type <= 64, error/detail <= 256 each: <= 980) and
//     the reachability encoder drops the least interesting peers until it fits. A record
//     always fits one 1400-byte gossip datagram, and piggybacks on a ping beside it when node
//     names are short (<= 64 bytes: ping ~270 bytes + record <= ~740).
//   - one node's records: at most kMaxProbesPerOrigin probes + 1 summary, so <= 65 KB in the
//     worst case; typically ~100-300 bytes per probe (short errors) + ~25 bytes per peer.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::agent {

using Bytes = std::vector<std::uint8_t>;

inline constexpr std::uint8_t kHealthFormat = 1;          ///< fmt field written and accepted
inline constexpr std::size_t kMaxRecordBytes = 1000;      ///< one encoded record
inline constexpr std::size_t kMaxOriginBytes = 256;       ///< node name (gossip's limit too)
inline constexpr std::size_t kMaxCheckerBytes = 64;       ///< checker instance name
inline constexpr std::size_t kMaxTypeBytes = 64;          ///< checker type
inline constexpr std::size_t kMaxTextBytes = 256;         ///< error and detail, each
inline constexpr std::size_t kMaxReachPeers = 24;         ///< peers in one summary
inline constexpr std::size_t kMaxProtocolBytes = 16;      ///< "icmp", "gossip", "tcp"
inline constexpr std::uint32_t kMaxLargeBytes = 65535;    ///< a large echo's IP size
inline constexpr std::size_t kMaxProbesPerOrigin = 64;    ///< probe records kept per node
inline constexpr std::size_t kMaxStateRecords = 200000;   ///< records in one push-pull state
inline constexpr std::uint8_t kStateFormat = 2;           ///< push-pull state with a summary
inline constexpr std::size_t kMaxSummaryEntries = 65536;  ///< origins in one summary

enum class RecordKind : std::uint8_t { probe = 0, reach = 1 };
/// Probe status on the wire: the two of design.md plus a tombstone for a removed checker.
enum class WireStatus : std::uint8_t { running = 0, failed = 1, removed = 2 };
enum class WireSeverity : std::uint8_t { critical = 0, warning = 1 };

struct ProbeFields {
  std::string checker;  ///< instance name
  std::string type;     ///< checker type
  WireStatus status = WireStatus::running;
  WireSeverity severity = WireSeverity::critical;
  std::int64_t since_ms = 0;  ///< origin wall time (ms) when `status` last changed
  std::string error;          ///< <= kMaxTextBytes
  std::string detail;         ///< <= kMaxTextBytes
  friend bool operator==(const ProbeFields&, const ProbeFields&) = default;
};

/// One peer (and protocol) in a reachability summary, over the origin's recent window.
struct PeerReach {
  std::string peer;      ///< peer node name
  std::string protocol;  ///< "icmp", "gossip", ...
  std::uint32_t sent = 0;
  std::uint32_t lost = 0;
  std::uint32_t rtt_us = 0;  ///< mean RTT of answered probes, microseconds
  // Large echoes (ping `mtu`: DF, sized to the MTU), apart from the small probes above. The
  // gossiped summary carries them only when they are news (mtu_news()); 0 = none carried.
  std::uint32_t large_sent = 0;
  std::uint32_t large_lost = 0;
  std::uint32_t large_bytes = 0;  ///< their IP packet size (<= 65535)
  double loss() const { return sent ? static_cast<double>(lost) / sent : 0.0; }
  /// Large echoes lost while the small probes pass: at least one and at least half of them
  /// lost, small loss under 10% (what an MTU blackhole looks like; worse small loss is loss).
  bool mtu_news() const {
    return large_lost >= 1 && 2 * static_cast<std::uint64_t>(large_lost) >= large_sent &&
           sent > 0 && 10 * static_cast<std::uint64_t>(lost) < sent;
  }
  friend bool operator==(const PeerReach&, const PeerReach&) = default;
};

struct HealthRecord {
  RecordKind kind = RecordKind::probe;
  std::string origin;
  std::uint64_t version = 0;
  std::int64_t updated_ms = 0;   ///< origin wall time (ms) the record was produced
  ProbeFields probe;             ///< kind == probe
  std::vector<PeerReach> reach;  ///< kind == reach
  friend bool operator==(const HealthRecord&, const HealthRecord&) = default;
};

/// The broadcast key of a record: short and unique per (origin, kind, checker) (a hash, so
/// the key does not eat into the datagram budget; the payload carries the real names).
std::string record_key(const HealthRecord& r);

/// Encodes one record (a broadcast payload).
Bytes encode_record(const HealthRecord& r);
/// Decodes one record; nullopt on any malformed, over-limit or trailing byte.
std::optional<HealthRecord> decode_record(std::span<const std::uint8_t> bytes);
/// Encodes a full state (push-pull), in the given order.
Bytes encode_state(const std::vector<const HealthRecord*>& records);
/// Decodes a full state; nullopt when any part is malformed.
std::optional<std::vector<HealthRecord>> decode_state(std::span<const std::uint8_t> bytes);

/// One origin's line of a push-pull summary.
struct OriginDigest {
  std::uint32_t origin_hash = 0;  ///< origin_hash(origin)
  std::uint32_t digest = 0;       ///< sum of record_digest() over the origin's records
  friend bool operator==(const OriginDigest&, const OriginDigest&) = default;
};
enum class StateStage : std::uint8_t { opening = 0, answer = 1, last = 2 };
/// A decoded push-pull state (fmt 2; a fmt-1 full state decodes as stage `last`).
struct StateMessage {
  StateStage stage = StateStage::opening;
  std::vector<OriginDigest> summary;  ///< sorted by origin_hash
  std::vector<HealthRecord> records;
};
std::uint32_t origin_hash(std::string_view origin);
/// Changes whenever the record's version does (and differs between checkers).
std::uint32_t record_digest(const HealthRecord& r);
Bytes encode_state_message(StateStage stage, const std::vector<OriginDigest>& summary,
                           const std::vector<const HealthRecord*>& records);
/// nullopt on anything malformed (unsorted summary included).
std::optional<StateMessage> decode_state_message(std::span<const std::uint8_t> bytes);

/// Cuts `s` to at most `cap` bytes on a UTF-8 boundary ("…" marks a cut when room allows).
std::string cap_utf8(std::string s, std::size_t cap);

/// Ack payload: this node's wall clock in microseconds since the Unix epoch.
Bytes encode_clock(std::int64_t wall_us);
std::optional<std::int64_t> decode_clock(std::span<const std::uint8_t> bytes);

}  // namespace vigil::agent
