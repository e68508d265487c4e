// The wire codec: round trips of every message type, compound packets and frames; every
// DecodeError for hostile input; forward compatibility (trailing fields are ignored).
#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "gossip/codec.hpp"

using namespace vigil::gossip;
using namespace vigil::gossip::codec;

namespace {

Bytes bytes_of(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

// One sample of every message type with non-trivial values (extremes, binary zeros, tags).
std::vector<Message> samples() {
  Tags tags;
  set_tag(tags, "zone", "eu-1a");
  set_tag(tags, "role", "control-plane");
  PushPull pp;
  pp.join = true;
  pp.digest = 0xfedcba9876543210ull;
  pp.digest_only = false;
  pp.in_sync = true;
  pp.nodes.push_back(PushNode{"n1", "10.0.0.1:7946", 7, MemberState::alive, tags});
  pp.nodes.push_back(PushNode{"n2", "[::1]:7946", 0, MemberState::suspect, {}});
  pp.nodes.push_back(PushNode{"n3", "10.0.0.3:7946", UINT32_MAX, MemberState::dead, {}});
  pp.nodes.push_back(PushNode{"n4", "10.0.0.4:7946", 1, MemberState::left, {}});
  pp.user_state = Bytes{0, 1, 2, 0, 255};
  return {
      Ping{UINT32_MAX, "target-node", "source-node", "10.0.0.1:7946"},
      IndirectPing{42, "t", "10.0.0.2:7946", "s", "10.0.0.1:7946", false},
      Ack{7, Bytes{0, 0, 1, 2, 3}},
      Nack{123456},
      Suspect{3, "n2", "n1"},
      Alive{9,
            "n\xc3\xa9"
            "1",
            "[2001:db8::1]:7946", tags},
      Dead{11, "n1", "n1"},
      pp,
      User{"health/n1", bytes_of("opaque payload")},
  };
}

Bytes reencode(const Message& m) {
  return encode_message(m);
}

// The message array of `encoded` (fixarray) with one extra trailing field appended.
Bytes with_trailing_field(Bytes encoded, Bytes field) {
  REQUIRE((encoded[0] & 0xf0) == 0x90);  // fixarray: all our messages have <= 15 fields
  REQUIRE((encoded[0] & 0x0f) < 15);
  encoded[0] += 1;
  encoded.insert(encoded.end(), field.begin(), field.end());
  return encoded;
}

Bytes packet_of_raw(std::vector<Bytes> parts) {
  std::vector<std::span<const std::uint8_t>> views(parts.begin(), parts.end());
  return encode_packet(views);
}

}  // namespace

TEST_CASE("every message type round-trips through a frame") {
  for (const Message& m : samples()) {
    CAPTURE(to_string(type_of(m)));
    Bytes frame = encode_frame(m);
    CHECK(frame[0] == kVersion);
    auto d = decode_frame(frame);
    REQUIRE(d);
    CHECK(type_of(*d.value) == type_of(m));
    CHECK(reencode(*d.value) == reencode(m));
  }
}

TEST_CASE("every datagram message type round-trips through a single-message packet") {
  for (const Message& m : samples()) {
    if (type_of(m) == MsgType::push_pull) continue;  // stream only
    CAPTURE(to_string(type_of(m)));
    Bytes p = encode_packet(m);
    CHECK(p.size() == kPacketOverhead + encode_message(m).size());
    auto d = decode_packet(p);
    REQUIRE(d);
    REQUIRE(d.value->size() == 1);
    CHECK(reencode(d.value->front()) == reencode(m));
  }
}

TEST_CASE("decoded fields equal the encoded ones") {
  auto d = decode_frame(encode_frame(samples()[7]));
  REQUIRE(d);
  const auto& pp = std::get<PushPull>(*d.value);
  CHECK(pp.join);
  CHECK(pp.in_sync);
  CHECK_FALSE(pp.digest_only);
  CHECK(pp.digest == 0xfedcba9876543210ull);
  REQUIRE(pp.nodes.size() == 4);
  CHECK(pp.nodes[0].name == "n1");
  CHECK(tag_value(pp.nodes[0].tags, "role") == "control-plane");
  CHECK(pp.nodes[1].state == MemberState::suspect);
  CHECK(pp.nodes[2].incarnation == UINT32_MAX);
  CHECK(pp.nodes[3].state == MemberState::left);
  CHECK(pp.user_state == Bytes{0, 1, 2, 0, 255});

  auto p = decode_packet(encode_packet(samples()[1]));
  REQUIRE(p);
  const auto& ip = std::get<IndirectPing>(p.value->front());
  CHECK(ip.seq == 42);
  CHECK(ip.target_addr == "10.0.0.2:7946");
  CHECK_FALSE(ip.nack);
  auto a = decode_packet(encode_packet(samples()[2]));
  REQUIRE(a);
  CHECK(std::get<Ack>(a.value->front()).payload == Bytes{0, 0, 1, 2, 3});
}

TEST_CASE("compound packet keeps every part in order") {
  std::vector<Bytes> parts;
  std::vector<MsgType> types;
  for (const Message& m : samples()) {
    if (type_of(m) == MsgType::push_pull) continue;
    parts.push_back(encode_message(m));
    types.push_back(type_of(m));
  }
  auto d = decode_packet(packet_of_raw(parts));
  REQUIRE(d);
  REQUIRE(d.value->size() == parts.size());
  for (std::size_t i = 0; i < parts.size(); ++i) {
    CHECK(type_of((*d.value)[i]) == types[i]);
    CHECK(reencode((*d.value)[i]) == parts[i]);
  }
}

TEST_CASE("a compound packet holds at most kMaxPartsPerPacket parts") {
  std::vector<Bytes> parts(300, encode_message(Nack{1}));
  Bytes p = packet_of_raw(parts);
  auto d = decode_packet(p);
  REQUIRE(d);
  CHECK(d.value->size() == kMaxPartsPerPacket);
}

TEST_CASE("envelope errors: empty, too large, bad version") {
  Bytes good = encode_packet(Nack{1});
  CHECK(decode_packet({}).error == DecodeError::empty);
  CHECK(decode_packet(Bytes{kVersion}).error == DecodeError::empty);
  CHECK(decode_frame(Bytes{}).error == DecodeError::empty);

  Bytes huge(kMaxDatagram + 1, 0x90);
  huge[0] = kVersion;
  CHECK(decode_packet(huge).error == DecodeError::too_large);
  Bytes huge_frame(kMaxStreamFrame + 1, 0xc0);
  huge_frame[0] = kVersion;
  CHECK(decode_frame(huge_frame).error == DecodeError::too_large);

  for (std::uint8_t v : {std::uint8_t{0}, std::uint8_t{kMaxVersion + 1}, std::uint8_t{255}}) {
    Bytes bad = good;
    bad[0] = v;
    CHECK(decode_packet(bad).error == DecodeError::bad_version);
    Bytes frame = encode_frame(Nack{1});
    frame[0] = v;
    CHECK(decode_frame(frame).error == DecodeError::bad_version);
  }
}

TEST_CASE("every truncation of a valid packet or frame is rejected as malformed") {
  for (const Message& m : samples()) {
    CAPTURE(to_string(type_of(m)));
    const bool stream = type_of(m) == MsgType::push_pull;
    Bytes full = stream ? encode_frame(m) : encode_packet(m);
    for (std::size_t n = 2; n < full.size(); ++n) {
      CAPTURE(n);
      std::span<const std::uint8_t> prefix(full.data(), n);
      auto e = stream ? decode_frame(prefix).error : decode_packet(prefix).error;
      if (stream)
        CHECK_FALSE(decode_frame(prefix));
      else
        CHECK_FALSE(decode_packet(prefix));
      CHECK(e == DecodeError::malformed);
    }
  }
}

TEST_CASE("trailing bytes after the message are malformed") {
  Bytes p = encode_packet(Nack{1});
  p.push_back(0xc0);
  CHECK(decode_packet(p).error == DecodeError::malformed);
  Bytes f = encode_frame(Nack{1});
  f.push_back(0x01);
  CHECK(decode_frame(f).error == DecodeError::malformed);
}

TEST_CASE("wrong shapes are malformed") {
  auto pkt = [](Bytes body) {
    body.insert(body.begin(), kVersion);
    return decode_packet(body).error;
  };
  auto frm = [](Bytes body) {
    body.insert(body.begin(), kVersion);
    return decode_frame(body).error;
  };
  CHECK(pkt({0xc0}) == DecodeError::malformed);                         // nil, not an array
  CHECK(pkt({0x90}) == DecodeError::malformed);                         // empty compound
  CHECK(pkt({0x91, 0x90}) == DecodeError::malformed);                   // empty message
  CHECK(pkt({0x91, 0x91, 0xa1, 'x'}) == DecodeError::malformed);        // type is a string
  CHECK(pkt({0x91, 0x92, 0x03, 0xa1, 'x'}) == DecodeError::malformed);  // nack seq is a string
  CHECK(pkt({0x91, 0x91, 0x03}) == DecodeError::malformed);             // nack without its seq
  CHECK(pkt({0x91, 0x92, 0x03, 0xff}) == DecodeError::malformed);       // negative seq
  // seq above UINT32_MAX
  CHECK(pkt({0x91, 0x92, 0x03, 0xcf, 0, 0, 0, 1, 0, 0, 0, 0}) == DecodeError::malformed);
  // a push-pull is stream-only: rejected inside a datagram
  CHECK(decode_packet(encode_packet(PushPull{})).error == DecodeError::malformed);
  // a frame holds one message, not a compound
  CHECK(frm({0x91, 0x92, 0x03, 0x01}) == DecodeError::malformed);
  // push-pull member with a state out of range, and one with too few fields
  PushPull pp;
  pp.nodes.push_back(PushNode{"n", "a", 1, MemberState::alive, {}});
  Bytes f = encode_frame(pp);
  auto st = std::find(f.begin(), f.end(), std::uint8_t{0x95});  // the member's fixarray(5)
  REQUIRE(st != f.end());
  Bytes bad_state = f;
  // fixarray(5), name "n" (2 bytes), addr "a" (2 bytes), incarnation 1 (fixint), state
  const auto state_at = static_cast<std::size_t>(st - f.begin()) + 1 + 2 + 2 + 1;
  REQUIRE(bad_state[state_at] == 0);
  bad_state[state_at] = 4;
  CHECK(decode_frame(bad_state).error == DecodeError::malformed);
  bad_state[state_at] = 3;
  CHECK(decode_frame(bad_state));  // left: the largest valid state
  // duplicate tag keys
  Bytes dup = encode_message(Alive{1, "n", "a", {{"k", "1"}, {"k", "2"}}});
  CHECK(decode_packet(packet_of_raw({dup})).error == DecodeError::malformed);
}

TEST_CASE("unknown message types are reported as unknown_type") {
  auto raw = [](std::vector<std::uint8_t> msg) {
    Bytes body{0x91};
    body.insert(body.end(), msg.begin(), msg.end());
    body.insert(body.begin(), kVersion);
    return body;
  };
  CHECK(decode_packet(raw({0x91, 0x09})).error == DecodeError::unknown_type);
  CHECK(decode_packet(raw({0x91, 0x7f})).error == DecodeError::unknown_type);
  CHECK(decode_packet(raw({0x91, 0xcc, 0xff})).error == DecodeError::unknown_type);
  // Values that truncate to a known type when narrowed to 8 bits are still unknown.
  CHECK(decode_packet(raw({0x92, 0xcd, 0x01, 0x03, 0x01})).error == DecodeError::unknown_type);
  CHECK(decode_packet(raw({0x92, 0xce, 0x00, 0x01, 0x00, 0x03, 0x01})).error ==
        DecodeError::unknown_type);
  Bytes frame{kVersion, 0x92, 0xcd, 0x01, 0x00, 0x01};  // 256 == ping after narrowing
  CHECK(decode_frame(frame).error == DecodeError::unknown_type);
  // An unknown part next to known ones is skipped: a newer peer may append message types.
  Bytes known = encode_message(Nack{5});
  Bytes unknown{0x92, 0x2a, 0x01};
  auto mixed = decode_packet(packet_of_raw({known, unknown}));
  REQUIRE(mixed);
  REQUIRE(mixed.value->size() == 1);
  CHECK(std::get<Nack>(mixed.value->front()).seq == 5);
  CHECK(decode_packet(packet_of_raw({unknown, unknown})).error == DecodeError::unknown_type);
}

TEST_CASE("size limits are reported as limits") {
  // A compound with more parts than kMaxPartsPerPacket (array16 header says 256).
  Bytes many{kVersion, 0xdc, 0x01, 0x00};
  for (int i = 0; i < 256; ++i) many.insert(many.end(), {0x92, 0x03, 0x01});
  CHECK(decode_packet(many).error == DecodeError::limits);
  // More tags than kMaxTags.
  Tags tags;
  for (std::size_t i = 0; i <= kMaxTags; ++i) set_tag(tags, "k" + std::to_string(i), "v");
  CHECK(decode_packet(encode_packet(Alive{1, "n", "a", tags})).error == DecodeError::limits);
  CHECK(decode_frame(encode_frame(Alive{1, "n", "a", tags})).error == DecodeError::limits);
  // An ext object anywhere (no ext is allowed).
  Bytes ext = with_trailing_field(encode_message(Nack{1}), {0xd4, 0x01, 0x00});
  CHECK(decode_packet(packet_of_raw({ext})).error == DecodeError::limits);
  // A name or address longer than its limit.
  CHECK(decode_packet(encode_packet(Suspect{1, std::string(kMaxNameBytes + 1, 'x'), "a"})).error ==
        DecodeError::limits);
  CHECK(
      decode_packet(encode_packet(Ping{1, "t", "s", std::string(kMaxAddrBytes + 1, '1')})).error ==
      DecodeError::limits);
  // ... while exactly the limit is fine.
  CHECK(decode_packet(encode_packet(Suspect{1, std::string(kMaxNameBytes, 'x'), "a"})));
  CHECK(decode_packet(encode_packet(Ping{1, "t", "s", std::string(kMaxAddrBytes, '1')})));
}

TEST_CASE("forward compatibility: trailing fields a newer peer appends are ignored") {
  const std::vector<Bytes> extras = {
      {0xc0},                   // nil
      {0x2a},                   // int
      {0xa3, 'n', 'e', 'w'},    // str
      {0x92, 0x01, 0xa1, 'x'},  // array
      {0x81, 0xa1, 'k', 0x01},  // map
  };
  for (const Message& m : samples()) {
    CAPTURE(to_string(type_of(m)));
    for (const Bytes& extra : extras) {
      Bytes ext = with_trailing_field(encode_message(m), extra);
      if (type_of(m) == MsgType::push_pull) {
        Bytes frame{kVersion};
        frame.insert(frame.end(), ext.begin(), ext.end());
        auto d = decode_frame(frame);
        REQUIRE(d);
        CHECK(reencode(*d.value) == reencode(m));
      } else {
        auto d = decode_packet(packet_of_raw({ext}));
        REQUIRE(d);
        CHECK(reencode(d.value->front()) == reencode(m));
      }
    }
  }
  // A push-pull member with a sixth field.
  PushPull pp;
  pp.nodes.push_back(PushNode{"n", "a", 1, MemberState::alive, {}});
  Bytes f = encode_frame(pp);
  auto st = std::find(f.begin(), f.end(), std::uint8_t{0x95});
  REQUIRE(st != f.end());
  const auto at = static_cast<std::size_t>(st - f.begin());
  f[at] = 0x96;
  f.insert(f.begin() + static_cast<std::ptrdiff_t>(at + 1 + 2 + 2 + 1 + 1 + 1), 0x07);
  auto d = decode_frame(f);
  REQUIRE(d);
  REQUIRE(std::get<PushPull>(*d.value).nodes.size() == 1);
  CHECK(std::get<PushPull>(*d.value).nodes[0].name == "n");
}

TEST_CASE("random garbage never crashes and never decodes into a push-pull datagram") {
  std::mt19937_64 rng(1234);
  std::uniform_int_distribution<int> byte(0, 255), len(0, 300);
  Bytes seed = encode_packet(samples()[5]);
  int decoded = 0;
  for (int i = 0; i < 20000; ++i) {
    Bytes b;
    if (i % 2) {
      b.resize(static_cast<std::size_t>(len(rng)));
      for (auto& x : b) x = static_cast<std::uint8_t>(byte(rng));
      if (!b.empty()) b[0] = kVersion;
    } else {  // mutate a valid packet
      b = seed;
      for (int k = 0; k < 1 + i % 4; ++k)
        b[1 + static_cast<std::size_t>(byte(rng)) % (b.size() - 1)] =
            static_cast<std::uint8_t>(byte(rng));
    }
    auto d = decode_packet(b);
    if (d) {
      ++decoded;
      for (const auto& m : *d.value) CHECK(type_of(m) != MsgType::push_pull);
    }
    (void)decode_frame(b);
  }
  CHECK(decoded < 20000);
}

TEST_CASE("DecodeError names") {
  CHECK(to_string(DecodeError::empty) == "empty");
  CHECK(to_string(DecodeError::too_large) == "too_large");
  CHECK(to_string(DecodeError::bad_version) == "bad_version");
  CHECK(to_string(DecodeError::malformed) == "malformed");
  CHECK(to_string(DecodeError::unknown_type) == "unknown_type");
  CHECK(to_string(DecodeError::limits) == "limits");
}
