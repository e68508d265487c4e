#pragma once
// The wire codec: msgpack messages inside a versioned, size-limited envelope.
//
// Datagram (UDP) = 1 version byte + a msgpack array16 of messages (a compound packet: a probe
// plus piggybacked broadcasts). Stream frame (TCP) = 1 version byte + one msgpack message.
// Every message is a msgpack array whose first element is its MsgType; trailing elements a
// decoder does not know are ignored, so a newer peer may append fields.
//
// decode_*() accept any bytes: they return the messages or an error, never crash, and never
// allocate more than a small multiple of the input (msgpack unpack limits below).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "gossip/msg_type.hpp"
#include "gossip/types.hpp"

namespace vigil::gossip::codec {

inline constexpr std::uint8_t kVersion = 1;     ///< what we send
inline constexpr std::uint8_t kMinVersion = 1;  ///< oldest we accept
inline constexpr std::uint8_t kMaxVersion = 1;  ///< newest we accept
inline constexpr std::size_t kMaxDatagram = 65535;
/// A push-pull of ~100k members. msgpack-c builds ~24 bytes per element before we validate,
/// so the worst case costs ~24x this in memory while decoding: keep it modest.
inline constexpr std::size_t kMaxStreamFrame = 8u << 20;
inline constexpr std::size_t kMaxPartsPerPacket = 255;
inline constexpr std::size_t kMaxNameBytes = 256;
inline constexpr std::size_t kMaxAddrBytes = 128;
inline constexpr std::size_t kMaxTags = 64;
inline constexpr std::size_t kMaxMembersPerPushPull = 100000;
/// Why `tags` cannot be carried ("" when they can): at most kMaxTags entries, each key and
/// value at most kMaxNameBytes (what decoders accept), all of them together at most
/// `max_total_bytes` (GossipConfig::max_tags_bytes). Tags set locally must pass this, or
/// every peer would drop our messages as malformed.
std::string tags_problem(const Tags& tags, std::size_t max_total_bytes);
/// Bytes before the first message of a datagram: version byte + array16 header.
inline constexpr std::size_t kPacketOverhead = 4;

struct Ping {
  std::uint32_t seq = 0;
  std::string target;  ///< name of the node meant (a ping for another name is dropped)
  std::string source;
  Address source_addr;
};
struct IndirectPing {
  std::uint32_t seq = 0;
  std::string target;
  Address target_addr;
  std::string source;
  Address source_addr;
  bool nack = true;  ///< the requester wants a nack when the target does not answer
};
struct Ack {
  std::uint32_t seq = 0;
  Bytes payload;  ///< Delegate::ack_payload()
};
struct Nack {
  std::uint32_t seq = 0;
};
struct Suspect {
  std::uint32_t incarnation = 0;
  std::string node;
  std::string from;
};
struct Alive {
  std::uint32_t incarnation = 0;
  std::string node;
  Address addr;
  Tags tags;
};
struct Dead {
  std::uint32_t incarnation = 0;
  std::string node;
  std::string from;  ///< == node: the node left gracefully
};
struct PushNode {
  std::string name;
  Address addr;
  std::uint32_t incarnation = 0;
  MemberState state = MemberState::alive;
  Tags tags;
};
struct PushPull {
  bool join = false;
  /// Order-independent digest of the sender's member states. A reply that carries `in_sync`
  /// and nothing else means "both digests equal yours: nothing to merge".
  std::uint64_t digest = 0;
  /// The extension's digest of its state (Delegate::state_digest); 0 from a peer that predates it.
  std::uint64_t user_digest = 0;
  bool digest_only = false;  ///< the sender sent only its digest (steady-state anti-entropy)
  bool in_sync = false;
  std::vector<PushNode> nodes;
  Bytes user_state;
};
struct User {
  std::string key;
  Bytes payload;
};

/// Alternatives in MsgType order: index() == static_cast<size_t>(type).
using Message = std::variant<Ping, IndirectPing, Ack, Nack, Suspect, Alive, Dead, PushPull, User>;
static_assert(std::variant_size_v<Message> == kMsgTypeCount);

inline MsgType type_of(const Message& m) {
  return static_cast<MsgType>(m.index());
}

enum class DecodeError : std::uint8_t {
  empty,
  too_large,
  bad_version,
  malformed,     ///< not msgpack, or not the shape of a message
  unknown_type,  ///< a message type this version does not know
  limits,        ///< a field over its size limit
};
std::string_view to_string(DecodeError e);

template <class T>
struct Decoded {
  std::optional<T> value;
  DecodeError error = DecodeError::malformed;
  explicit operator bool() const { return value.has_value(); }
};

/// One message as msgpack (no envelope): what a broadcast queue stores.
Bytes encode_message(const Message& m);
/// A datagram of already-encoded messages (at most kMaxPartsPerPacket).
Bytes encode_packet(std::span<const std::span<const std::uint8_t>> parts);
/// A datagram holding one message.
Bytes encode_packet(const Message& m);
/// A stream frame holding one message.
Bytes encode_frame(const Message& m);

Decoded<std::vector<Message>> decode_packet(std::span<const std::uint8_t> bytes);
Decoded<Message> decode_frame(std::span<const std::uint8_t> bytes);

}  // namespace vigil::gossip::codec
