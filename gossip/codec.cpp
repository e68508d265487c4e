#include "gossip/codec.hpp"

#include <algorithm>
#include <exception>
#include <msgpack.hpp>

namespace vigil::gossip::codec {
namespace {

// ---- encoding ----------------------------------------------------------------------------

struct VecBuf {
  Bytes* out;
  void write(const char* d, std::size_t n) {
    out->insert(out->end(), reinterpret_cast<const std::uint8_t*>(d),
                reinterpret_cast<const std::uint8_t*>(d) + n);
  }
};
using Packer = msgpack::packer<VecBuf>;

void put_str(Packer& pk, const std::string& s) {
  pk.pack_str(static_cast<std::uint32_t>(s.size()));
  pk.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
}
void put_bin(Packer& pk, const Bytes& b) {
  pk.pack_bin(static_cast<std::uint32_t>(b.size()));
  pk.pack_bin_body(reinterpret_cast<const char*>(b.data()), static_cast<std::uint32_t>(b.size()));
}
void put_tags(Packer& pk, const Tags& t) {
  pk.pack_map(static_cast<std::uint32_t>(t.size()));
  for (const auto& [k, v] : t) put_str(pk, k), put_str(pk, v);
}
void put_type(Packer& pk, MsgType t, std::uint32_t fields) {
  pk.pack_array(fields + 1);
  pk.pack_uint8(static_cast<std::uint8_t>(t));
}

struct Encoder {
  Packer& pk;
  void operator()(const Ping& m) {
    put_type(pk, MsgType::ping, 4);
    pk.pack_uint32(m.seq), put_str(pk, m.target), put_str(pk, m.source), put_str(pk, m.source_addr);
  }
  void operator()(const IndirectPing& m) {
    put_type(pk, MsgType::indirect_ping, 6);
    pk.pack_uint32(m.seq), put_str(pk, m.target), put_str(pk, m.target_addr);
    put_str(pk, m.source), put_str(pk, m.source_addr);
    m.nack ? pk.pack_true() : pk.pack_false();
  }
  void operator()(const Ack& m) {
    put_type(pk, MsgType::ack, 2);
    pk.pack_uint32(m.seq), put_bin(pk, m.payload);
  }
  void operator()(const Nack& m) {
    put_type(pk, MsgType::nack, 1);
    pk.pack_uint32(m.seq);
  }
  void operator()(const Suspect& m) {
    put_type(pk, MsgType::suspect, 3);
    pk.pack_uint32(m.incarnation), put_str(pk, m.node), put_str(pk, m.from);
  }
  void operator()(const Alive& m) {
    put_type(pk, MsgType::alive, 4);
    pk.pack_uint32(m.incarnation), put_str(pk, m.node), put_str(pk, m.addr), put_tags(pk, m.tags);
  }
  void operator()(const Dead& m) {
    put_type(pk, MsgType::dead, 3);
    pk.pack_uint32(m.incarnation), put_str(pk, m.node), put_str(pk, m.from);
  }
  void operator()(const PushPull& m) {
    put_type(pk, MsgType::push_pull, 7);
    m.join ? pk.pack_true() : pk.pack_false();
    pk.pack_uint64(m.digest);
    m.digest_only ? pk.pack_true() : pk.pack_false();
    m.in_sync ? pk.pack_true() : pk.pack_false();
    pk.pack_array(static_cast<std::uint32_t>(m.nodes.size()));
    for (const auto& n : m.nodes) {
      pk.pack_array(5);
      put_str(pk, n.name), put_str(pk, n.addr), pk.pack_uint32(n.incarnation);
      pk.pack_uint8(static_cast<std::uint8_t>(n.state)), put_tags(pk, n.tags);
    }
    put_bin(pk, m.user_state);
    pk.pack_uint64(m.user_digest);
  }
  void operator()(const User& m) {
    put_type(pk, MsgType::user, 2);
    put_str(pk, m.key), put_bin(pk, m.payload);
  }
};

// ---- decoding ----------------------------------------------------------------------------

using msgpack::object;
namespace mt = msgpack::type;

bool get_u64(const object& o, std::uint64_t& out) {
  if (o.type != mt::POSITIVE_INTEGER) return false;
  out = o.via.u64;
  return true;
}
bool get_u32(const object& o, std::uint32_t& out) {
  std::uint64_t v = 0;
  if (!get_u64(o, v) || v > UINT32_MAX) return false;
  out = static_cast<std::uint32_t>(v);
  return true;
}
bool get_bool(const object& o, bool& out) {
  if (o.type != mt::BOOLEAN) return false;
  out = o.via.boolean;
  return true;
}
bool get_str(const object& o, std::string& out, std::size_t max, DecodeError& err) {
  if (o.type != mt::STR) return false;
  if (o.via.str.size > max) return err = DecodeError::limits, false;
  out.assign(o.via.str.ptr, o.via.str.size);
  return true;
}
bool get_bin(const object& o, Bytes& out) {
  if (o.type != mt::BIN) return false;
  auto p = reinterpret_cast<const std::uint8_t*>(o.via.bin.ptr);
  out.assign(p, p + o.via.bin.size);
  return true;
}
bool get_tags(const object& o, Tags& out, DecodeError& err) {
  if (o.type != mt::MAP) return false;
  if (o.via.map.size > kMaxTags) return err = DecodeError::limits, false;
  out.clear();
  out.reserve(o.via.map.size);
  for (std::uint32_t i = 0; i < o.via.map.size; ++i) {
    std::string k, v;
    if (!get_str(o.via.map.ptr[i].key, k, kMaxNameBytes, err) ||
        !get_str(o.via.map.ptr[i].val, v, kMaxNameBytes, err))
      return false;
    out.emplace_back(std::move(k), std::move(v));
  }
  std::sort(out.begin(), out.end());
  auto dup = std::adjacent_find(out.begin(), out.end(),
                                [](const auto& a, const auto& b) { return a.first == b.first; });
  return dup == out.end();
}

// Field accessor over a message array: f(i) is element i (element 0 is the type).
struct Fields {
  const object* p;
  std::uint32_t n;
  const object& operator()(std::uint32_t i) const { return p[i]; }
};

std::optional<Message> parse_message(const object& o, DecodeError& err) {
  err = DecodeError::malformed;
  if (o.type != mt::ARRAY || o.via.array.size < 1) return std::nullopt;
  Fields f{o.via.array.ptr, o.via.array.size};
  std::uint64_t type = 0;
  if (!get_u64(f(0), type)) return std::nullopt;
  // Checked before the cast: MsgType is 8 bits wide, so 256 would otherwise read as ping.
  if (type >= kMsgTypeCount) return err = DecodeError::unknown_type, std::nullopt;
  auto need = [&](std::uint32_t fields) { return f.n >= fields + 1; };
  constexpr auto N = kMaxNameBytes;
  constexpr auto A = kMaxAddrBytes;
  switch (static_cast<MsgType>(type)) {
    case MsgType::ping: {
      Ping m;
      if (need(4) && get_u32(f(1), m.seq) && get_str(f(2), m.target, N, err) &&
          get_str(f(3), m.source, N, err) && get_str(f(4), m.source_addr, A, err))
        return m;
      break;
    }
    case MsgType::indirect_ping: {
      IndirectPing m;
      if (need(6) && get_u32(f(1), m.seq) && get_str(f(2), m.target, N, err) &&
          get_str(f(3), m.target_addr, A, err) && get_str(f(4), m.source, N, err) &&
          get_str(f(5), m.source_addr, A, err) && get_bool(f(6), m.nack))
        return m;
      break;
    }
    case MsgType::ack: {
      Ack m;
      if (need(2) && get_u32(f(1), m.seq) && get_bin(f(2), m.payload)) return m;
      break;
    }
    case MsgType::nack: {
      Nack m;
      if (need(1) && get_u32(f(1), m.seq)) return m;
      break;
    }
    case MsgType::suspect: {
      Suspect m;
      if (need(3) && get_u32(f(1), m.incarnation) && get_str(f(2), m.node, N, err) &&
          get_str(f(3), m.from, N, err))
        return m;
      break;
    }
    case MsgType::alive: {
      Alive m;
      if (need(4) && get_u32(f(1), m.incarnation) && get_str(f(2), m.node, N, err) &&
          get_str(f(3), m.addr, A, err) && get_tags(f(4), m.tags, err))
        return m;
      break;
    }
    case MsgType::dead: {
      Dead m;
      if (need(3) && get_u32(f(1), m.incarnation) && get_str(f(2), m.node, N, err) &&
          get_str(f(3), m.from, N, err))
        return m;
      break;
    }
    case MsgType::push_pull: {
      PushPull m;
      if (!need(6) || !get_bool(f(1), m.join) || !get_u64(f(2), m.digest) ||
          !get_bool(f(3), m.digest_only) || !get_bool(f(4), m.in_sync) || f(5).type != mt::ARRAY ||
          !get_bin(f(6), m.user_state))
        break;
      // Field 7 (user_digest) is newer: a peer that does not send it has digest 0 (differs).
      if (f.n >= 8 && !get_u64(f(7), m.user_digest)) break;
      const auto& arr = f(5).via.array;
      if (arr.size > kMaxMembersPerPushPull) return err = DecodeError::limits, std::nullopt;
      m.nodes.resize(arr.size);
      for (std::uint32_t i = 0; i < arr.size; ++i) {
        const object& e = arr.ptr[i];
        if (e.type != mt::ARRAY || e.via.array.size < 5) return std::nullopt;
        Fields g{e.via.array.ptr, e.via.array.size};
        auto& n = m.nodes[i];
        std::uint32_t st = 0;
        if (!get_str(g(0), n.name, N, err) || !get_str(g(1), n.addr, A, err) ||
            !get_u32(g(2), n.incarnation) || !get_u32(g(3), st) || st > 3 ||
            !get_tags(g(4), n.tags, err))
          return std::nullopt;
        n.state = static_cast<MemberState>(st);
      }
      return m;
    }
    case MsgType::user: {
      User m;
      if (need(2) && get_str(f(1), m.key, N, err) && get_bin(f(2), m.payload)) return m;
      break;
    }
    default:
      err = DecodeError::unknown_type;
      break;
  }
  return std::nullopt;
}

// Unpacks exactly one msgpack object spanning all of `body`, within the given limits.
std::optional<msgpack::object_handle> unpack_all(std::span<const std::uint8_t> body,
                                                 const msgpack::unpack_limit& lim,
                                                 DecodeError& err) {
  err = DecodeError::malformed;
  try {
    std::size_t off = 0;
    auto oh = msgpack::unpack(reinterpret_cast<const char*>(body.data()), body.size(), off, nullptr,
                              nullptr, lim);
    if (off != body.size()) return std::nullopt;  // trailing bytes
    return oh;
  } catch (const msgpack::size_overflow&) {
    err = DecodeError::limits;
  } catch (const std::exception&) {
    // parse_error, insufficient_bytes, depth errors, bad_alloc: all malformed input
  }
  return std::nullopt;
}

std::optional<DecodeError> check_envelope(std::span<const std::uint8_t> bytes, std::size_t max) {
  if (bytes.size() < 2) return DecodeError::empty;
  if (bytes.size() > max) return DecodeError::too_large;
  if (bytes[0] < kMinVersion || bytes[0] > kMaxVersion) return DecodeError::bad_version;
  return std::nullopt;
}

}  // namespace

std::string_view to_string(DecodeError e) {
  switch (e) {
    case DecodeError::empty:
      return "empty";
    case DecodeError::too_large:
      return "too_large";
    case DecodeError::bad_version:
      return "bad_version";
    case DecodeError::malformed:
      return "malformed";
    case DecodeError::unknown_type:
      return "unknown_type";
    case DecodeError::limits:
      return "limits";
  }
  return "unknown";
}

Bytes encode_message(const Message& m) {
  Bytes out;
  out.reserve(64);
  VecBuf buf{&out};
  Packer pk(buf);
  std::visit(Encoder{pk}, m);
  return out;
}

Bytes encode_packet(std::span<const std::span<const std::uint8_t>> parts) {
  std::size_t total = kPacketOverhead;
  for (auto p : parts) total += p.size();
  Bytes out;
  out.reserve(total);
  const auto n = static_cast<std::uint16_t>(std::min(parts.size(), kMaxPartsPerPacket));
  out.push_back(kVersion);
  out.push_back(0xdc);  // msgpack array16: a fixed 3-byte header whatever the count
  out.push_back(static_cast<std::uint8_t>(n >> 8));
  out.push_back(static_cast<std::uint8_t>(n & 0xff));
  for (std::size_t i = 0; i < n; ++i) out.insert(out.end(), parts[i].begin(), parts[i].end());
  return out;
}

Bytes encode_packet(const Message& m) {
  Bytes body = encode_message(m);
  std::span<const std::uint8_t> one[] = {body};
  return encode_packet(one);
}

Bytes encode_frame(const Message& m) {
  Bytes out{kVersion};
  VecBuf buf{&out};
  Packer pk(buf);
  std::visit(Encoder{pk}, m);
  return out;
}

Decoded<std::vector<Message>> decode_packet(std::span<const std::uint8_t> bytes) {
  Decoded<std::vector<Message>> r;
  if (auto e = check_envelope(bytes, kMaxDatagram)) return r.error = *e, r;
  // A datagram holds at most 255 small messages; no field may be longer than the datagram.
  msgpack::unpack_limit lim(/*array*/ kMaxPartsPerPacket, /*map*/ kMaxTags,
                            /*str*/ kMaxDatagram, /*bin*/ kMaxDatagram, /*ext*/ 0, /*depth*/ 4);
  auto oh = unpack_all(bytes.subspan(1), lim, r.error);
  if (!oh) return r;
  const object& root = oh->get();
  if (root.type != mt::ARRAY || root.via.array.size == 0)
    return r.error = DecodeError::malformed, r;
  std::vector<Message> msgs;
  msgs.reserve(root.via.array.size);
  for (std::uint32_t i = 0; i < root.via.array.size; ++i) {
    auto m = parse_message(root.via.array.ptr[i], r.error);
    // A part of a type appended by a newer version is skipped (as memberlist does); any
    // other malformed part makes the whole packet suspect.
    if (!m && r.error == DecodeError::unknown_type) continue;
    if (!m) return r;
    if (type_of(*m) == MsgType::push_pull) return r.error = DecodeError::malformed, r;
    msgs.push_back(std::move(*m));
  }
  if (msgs.empty()) return r.error = DecodeError::unknown_type, r;
  r.value = std::move(msgs);
  return r;
}

Decoded<Message> decode_frame(std::span<const std::uint8_t> bytes) {
  Decoded<Message> r;
  if (auto e = check_envelope(bytes, kMaxStreamFrame)) return r.error = *e, r;
  msgpack::unpack_limit lim(/*array*/ kMaxMembersPerPushPull, /*map*/ kMaxTags,
                            /*str*/ kMaxStreamFrame, /*bin*/ kMaxStreamFrame, /*ext*/ 0,
                            /*depth*/ 5);
  auto oh = unpack_all(bytes.subspan(1), lim, r.error);
  if (!oh) return r;
  r.value = parse_message(oh->get(), r.error);
  return r;
}

std::string tags_problem(const Tags& tags, std::size_t max_total_bytes) {
  if (tags.size() > kMaxTags)
    return std::to_string(tags.size()) + " tags, more than " + std::to_string(kMaxTags);
  std::size_t total = 0;
  for (const auto& [k, v] : tags) {
    if (k.size() > kMaxNameBytes || v.size() > kMaxNameBytes)
      return "tag \"" + k.substr(0, 64) + "\" has a key or value over " +
             std::to_string(kMaxNameBytes) + " bytes";
    total += k.size() + v.size();
  }
  if (total > max_total_bytes)
    return "tags take " + std::to_string(total) + " bytes, more than max_tags_bytes (" +
           std::to_string(max_total_bytes) + ")";
  return "";
}

}  // namespace vigil::gossip::codec
