// Wire codec of the health records (agent/health_record.hpp). Pure: no I/O, no clock.
#include <exception>
#include <msgpack.hpp>

#include "agent/health_record.hpp"

namespace vigil::agent {
namespace {

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

void put_record(Packer& pk, const HealthRecord& r) {
  const bool probe = r.kind == RecordKind::probe;
  pk.pack_array(probe ? 12 : 6);
  pk.pack_uint8(kHealthFormat);
  pk.pack_uint8(static_cast<std::uint8_t>(r.kind));
  put_str(pk, r.origin);
  pk.pack_uint64(r.version);
  pk.pack_int64(r.updated_ms);
  if (probe) {
    const ProbeFields& p = r.probe;
    put_str(pk, p.checker);
    put_str(pk, p.type);
    pk.pack_uint8(static_cast<std::uint8_t>(p.status));
    pk.pack_uint8(static_cast<std::uint8_t>(p.severity));
    pk.pack_int64(p.since_ms);
    put_str(pk, p.error);
    put_str(pk, p.detail);
    return;
  }
  pk.pack_array(static_cast<std::uint32_t>(r.reach.size()));
  for (const PeerReach& e : r.reach) {
    const bool large = e.large_sent > 0;  // appended fields: only when there is something
    pk.pack_array(large ? 8 : 5);
    put_str(pk, e.peer);
    put_str(pk, e.protocol);
    pk.pack_uint32(e.sent);
    pk.pack_uint32(e.lost);
    pk.pack_uint32(e.rtt_us);
    if (large) {
      pk.pack_uint32(e.large_sent);
      pk.pack_uint32(e.large_lost);
      pk.pack_uint32(e.large_bytes);
    }
  }
}

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
bool get_i64(const object& o, std::int64_t& out) {
  if (o.type == mt::NEGATIVE_INTEGER) return out = o.via.i64, true;
  if (o.type != mt::POSITIVE_INTEGER || o.via.u64 > static_cast<std::uint64_t>(INT64_MAX)) {
    return false;
  }
  out = static_cast<std::int64_t>(o.via.u64);
  return true;
}
bool get_str(const object& o, std::string& out, std::size_t max, bool non_empty = false) {
  if (o.type != mt::STR || o.via.str.size > max) return false;
  if (non_empty && o.via.str.size == 0) return false;
  out.assign(o.via.str.ptr, o.via.str.size);
  return true;
}

bool get_record(const object& o, HealthRecord& r) {
  if (o.type != mt::ARRAY || o.via.array.size < 6) return false;
  const object* f = o.via.array.ptr;
  std::uint32_t fmt = 0, kind = 0;
  if (!get_u32(f[0], fmt) || fmt != kHealthFormat) return false;
  if (!get_u32(f[1], kind) || kind > 1) return false;
  r.kind = static_cast<RecordKind>(kind);
  if (!get_str(f[2], r.origin, kMaxOriginBytes, true)) return false;
  if (!get_u64(f[3], r.version) || !get_i64(f[4], r.updated_ms)) return false;
  if (r.kind == RecordKind::probe) {
    if (o.via.array.size < 12) return false;
    ProbeFields& p = r.probe;
    std::uint32_t status = 0, severity = 0;
    if (!get_str(f[5], p.checker, kMaxCheckerBytes, true) ||
        !get_str(f[6], p.type, kMaxTypeBytes) || !get_u32(f[7], status) || status > 2 ||
        !get_u32(f[8], severity) || severity > 1 || !get_i64(f[9], p.since_ms) ||
        !get_str(f[10], p.error, kMaxTextBytes) || !get_str(f[11], p.detail, kMaxTextBytes)) {
      return false;
    }
    p.status = static_cast<WireStatus>(status);
    p.severity = static_cast<WireSeverity>(severity);
    return true;
  }
  const object& list = f[5];
  if (list.type != mt::ARRAY || list.via.array.size > kMaxReachPeers) return false;
  r.reach.resize(list.via.array.size);
  for (std::uint32_t i = 0; i < list.via.array.size; ++i) {
    const object& e = list.via.array.ptr[i];
    if (e.type != mt::ARRAY || e.via.array.size < 5) return false;
    const object* g = e.via.array.ptr;
    PeerReach& pr = r.reach[i];
    if (!get_str(g[0], pr.peer, kMaxOriginBytes, true) ||
        !get_str(g[1], pr.protocol, kMaxProtocolBytes) || !get_u32(g[2], pr.sent) ||
        !get_u32(g[3], pr.lost) || !get_u32(g[4], pr.rtt_us) || pr.lost > pr.sent) {
      return false;
    }
    // Large echoes (appended later): absent in entries of older nodes and healthy ones.
    if (e.via.array.size >= 8 && (!get_u32(g[5], pr.large_sent) || !get_u32(g[6], pr.large_lost) ||
                                  !get_u32(g[7], pr.large_bytes) || pr.large_lost > pr.large_sent ||
                                  pr.large_bytes > kMaxLargeBytes)) {
      return false;
    }
  }
  return true;
}

// Unpacks exactly one msgpack object spanning all of `bytes`. msgpack-c reports malformed
// input by throwing: this is the edge where that is turned into a value.
std::optional<msgpack::object_handle> unpack_all(std::span<const std::uint8_t> bytes,
                                                 std::size_t max_array) {
  if (bytes.empty()) return std::nullopt;
  const msgpack::unpack_limit lim(/*array*/ max_array, /*map*/ 0, /*str*/ kMaxOriginBytes,
                                  /*bin*/ 8 * kMaxSummaryEntries, /*ext*/ 0, /*depth*/ 5);
  try {
    std::size_t off = 0;
    auto oh = msgpack::unpack(reinterpret_cast<const char*>(bytes.data()), bytes.size(), off,
                              nullptr, nullptr, lim);
    if (off != bytes.size()) return std::nullopt;
    return oh;
  } catch (const std::exception&) {
    return std::nullopt;  // parse_error, insufficient_bytes, size_overflow, depth, bad_alloc
  }
}

std::uint64_t fnv(std::string_view s, std::uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

}  // namespace

std::string record_key(const HealthRecord& r) {
  std::uint64_t h = fnv(r.origin);
  h = fnv(std::string_view("\0", 1), h);
  if (r.kind == RecordKind::probe) h = fnv(r.probe.checker, h);
  static const char* hex = "0123456789abcdef";
  std::string key(1, r.kind == RecordKind::probe ? 'p' : 'r');
  for (int i = 15; i >= 0; --i) key.push_back(hex[(h >> (i * 4)) & 0xf]);
  return key;
}

Bytes encode_record(const HealthRecord& r) {
  Bytes out;
  VecBuf buf{&out};
  Packer pk(buf);
  put_record(pk, r);
  return out;
}

std::optional<HealthRecord> decode_record(std::span<const std::uint8_t> bytes) {
  if (bytes.size() > 4 * kMaxRecordBytes) return std::nullopt;
  auto oh = unpack_all(bytes, 64);
  if (!oh) return std::nullopt;
  HealthRecord r;
  if (!get_record(oh->get(), r)) return std::nullopt;
  return r;
}

Bytes encode_state(const std::vector<const HealthRecord*>& records) {
  Bytes out;
  VecBuf buf{&out};
  Packer pk(buf);
  pk.pack_array(2);
  pk.pack_uint8(kHealthFormat);
  pk.pack_array(static_cast<std::uint32_t>(records.size()));
  for (const HealthRecord* r : records) put_record(pk, *r);
  return out;
}

std::optional<std::vector<HealthRecord>> decode_state(std::span<const std::uint8_t> bytes) {
  auto oh = unpack_all(bytes, kMaxStateRecords);
  if (!oh) return std::nullopt;
  const object& o = oh->get();
  std::uint32_t fmt = 0;
  if (o.type != mt::ARRAY || o.via.array.size < 2 || !get_u32(o.via.array.ptr[0], fmt) ||
      fmt != kHealthFormat) {
    return std::nullopt;
  }
  const object& list = o.via.array.ptr[1];
  if (list.type != mt::ARRAY) return std::nullopt;
  std::vector<HealthRecord> out(list.via.array.size);
  for (std::uint32_t i = 0; i < list.via.array.size; ++i) {
    if (!get_record(list.via.array.ptr[i], out[i])) return std::nullopt;
  }
  return out;
}

std::uint32_t origin_hash(std::string_view origin) {
  const std::uint64_t h = fnv(origin);
  return static_cast<std::uint32_t>(h ^ (h >> 32));
}

std::uint32_t record_digest(const HealthRecord& r) {
  std::uint64_t h = fnv(r.kind == RecordKind::probe ? r.probe.checker : std::string_view{},
                        1469598103934665603ull ^ static_cast<std::uint64_t>(r.kind));
  h ^= r.version + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;  // splitmix64 finaliser
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
  return static_cast<std::uint32_t>(h ^ (h >> 31));
}

Bytes encode_state_message(StateStage stage, const std::vector<OriginDigest>& summary,
                           const std::vector<const HealthRecord*>& records) {
  Bytes out;
  VecBuf buf{&out};
  Packer pk(buf);
  pk.pack_array(4);
  pk.pack_uint8(kStateFormat);
  pk.pack_uint8(static_cast<std::uint8_t>(stage));
  Bytes bin;
  bin.reserve(summary.size() * 8);
  for (const OriginDigest& d : summary) {
    for (std::uint32_t v : {d.origin_hash, d.digest})
      for (int i = 3; i >= 0; --i) bin.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  pk.pack_bin(static_cast<std::uint32_t>(bin.size()));
  pk.pack_bin_body(reinterpret_cast<const char*>(bin.data()),
                   static_cast<std::uint32_t>(bin.size()));
  pk.pack_array(static_cast<std::uint32_t>(records.size()));
  for (const HealthRecord* r : records) put_record(pk, *r);
  return out;
}

std::optional<StateMessage> decode_state_message(std::span<const std::uint8_t> bytes) {
  auto oh = unpack_all(bytes, kMaxStateRecords);
  if (!oh) return std::nullopt;
  const object& o = oh->get();
  std::uint32_t fmt = 0;
  if (o.type != mt::ARRAY || o.via.array.size < 2 || !get_u32(o.via.array.ptr[0], fmt))
    return std::nullopt;
  const object* f = o.via.array.ptr;
  StateMessage m;
  const object* list = nullptr;
  if (fmt == kHealthFormat) {  // a full state from a node that predates the summary
    m.stage = StateStage::last;
    list = &f[1];
  } else if (fmt == kStateFormat) {
    std::uint32_t stage = 0;
    if (o.via.array.size < 4 || !get_u32(f[1], stage) || stage > 2 || f[2].type != mt::BIN)
      return std::nullopt;
    m.stage = static_cast<StateStage>(stage);
    const auto& bin = f[2].via.bin;
    if (bin.size % 8 || bin.size / 8 > kMaxSummaryEntries) return std::nullopt;
    m.summary.resize(bin.size / 8);
    const auto* p = reinterpret_cast<const std::uint8_t*>(bin.ptr);
    auto u32 = [&](std::size_t at) {
      return std::uint32_t{p[at]} << 24 | std::uint32_t{p[at + 1]} << 16 |
             std::uint32_t{p[at + 2]} << 8 | std::uint32_t{p[at + 3]};
    };
    for (std::size_t i = 0; i < m.summary.size(); ++i) {
      m.summary[i] = {u32(8 * i), u32(8 * i + 4)};
      if (i && m.summary[i - 1].origin_hash >= m.summary[i].origin_hash) return std::nullopt;
    }
    list = &f[3];
  } else {
    return std::nullopt;
  }
  if (list->type != mt::ARRAY) return std::nullopt;
  m.records.resize(list->via.array.size);
  for (std::uint32_t i = 0; i < list->via.array.size; ++i) {
    if (!get_record(list->via.array.ptr[i], m.records[i])) return std::nullopt;
  }
  return m;
}

std::string cap_utf8(std::string s, std::size_t cap) {
  if (s.size() <= cap) return s;
  static const std::string mark = "\xE2\x80\xA6";  // "…"
  std::size_t cut = cap >= mark.size() + 1 ? cap - mark.size() : cap;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  if (cap >= mark.size() + 1) s += mark;
  return s;
}

Bytes encode_clock(std::int64_t wall_us) {
  Bytes out(9);
  out[0] = 1;
  for (int i = 0; i < 8; ++i) {
    out[1 + i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(wall_us) >> (56 - 8 * i));
  }
  return out;
}

std::optional<std::int64_t> decode_clock(std::span<const std::uint8_t> bytes) {
  if (bytes.size() != 9 || bytes[0] != 1) return std::nullopt;
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | bytes[1 + i];
  return static_cast<std::int64_t>(v);
}

}  // namespace vigil::agent
