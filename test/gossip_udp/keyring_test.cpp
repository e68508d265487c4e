#include "gossip/udp/keyring.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

using namespace vigil::gossip::udp;

namespace {
std::vector<std::uint8_t> bytes_of(std::string_view s) {
  return {s.begin(), s.end()};
}
}  // namespace

TEST_CASE("keyring: seal/open round trip, fresh nonce each time") {
  Keyring k({Keyring::generate_key()});
  auto plain = bytes_of("ping from node-1");
  auto a = k.seal(plain);
  auto b = k.seal(plain);
  CHECK(a.size() == plain.size() + kSealOverhead);
  CHECK(a[0] == kKeyringWireVersion);
  CHECK(a != b);  // random nonce
  auto opened = k.open(a);
  REQUIRE(opened);
  CHECK(*opened == plain);
  CHECK(k.open(b) == plain);
  // Empty payload also round-trips.
  auto e = k.seal({});
  REQUIRE(k.open(e));
  CHECK(k.open(e)->empty());
}

TEST_CASE("keyring: wrong key and tampering are rejected") {
  Keyring k1({Keyring::generate_key()});
  Keyring k2({Keyring::generate_key()});
  auto sealed = k1.seal(bytes_of("secret"));
  CHECK_FALSE(k2.open(sealed));
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    auto t = sealed;
    t[i] ^= 0x01;
    CHECK_MESSAGE(!k1.open(t), "flipped byte " << i << " still opened");
  }
  CHECK_FALSE(k1.open({}));
  CHECK_FALSE(k1.open(std::vector<std::uint8_t>(kSealOverhead - 1, 1)));
  auto truncated = sealed;
  truncated.pop_back();
  CHECK_FALSE(k1.open(truncated));
  auto plaintext = bytes_of("not encrypted at all, just a plaintext gossip message");
  CHECK_FALSE(k1.open(plaintext));
}

TEST_CASE("keyring: rotation add -> use -> remove without losing messages") {
  const Key old_key = Keyring::generate_key();
  const Key new_key = Keyring::generate_key();
  Keyring a({old_key}), b({old_key});
  // Step 1: add the new key everywhere. Old primary still encrypts; both decrypt.
  a.add(new_key);
  b.add(new_key);
  CHECK(a.keys().size() == 2);
  CHECK(b.open(a.seal(bytes_of("x"))));
  // Step 2: a switches primary first; b (old primary) still reads a, a still reads b.
  CHECK(a.use(new_key));
  CHECK(a.primary() == new_key);
  CHECK(b.open(a.seal(bytes_of("from a"))) == bytes_of("from a"));
  CHECK(a.open(b.seal(bytes_of("from b"))) == bytes_of("from b"));
  CHECK(b.use(new_key));
  // Step 3: remove the old key; the primary cannot be removed.
  CHECK_FALSE(a.remove(new_key));
  CHECK(a.remove(old_key));
  CHECK(b.remove(old_key));
  CHECK_FALSE(a.remove(old_key));
  CHECK(a.open(b.seal(bytes_of("done"))) == bytes_of("done"));
  // A node still on the old key alone is now cut off.
  Keyring stale({old_key});
  CHECK_FALSE(a.open(stale.seal(bytes_of("late"))));
  CHECK_FALSE(a.use(old_key));
}

TEST_CASE("keyring: file format parse and errors") {
  const Key k1 = Keyring::generate_key(), k2 = Keyring::generate_key();
  Keyring ring({k1, k2});
  Keyring back = Keyring::parse(ring.to_json());
  CHECK(back.keys() == ring.keys());
  CHECK(back.primary() == k1);

  CHECK_THROWS_WITH_AS(Keyring::parse("[]"), "keyring has no keys", std::runtime_error);
  CHECK_THROWS_AS(Keyring::parse("{"), std::runtime_error);
  CHECK_THROWS_AS(Keyring::parse("{\"a\":1}"), std::runtime_error);
  CHECK_THROWS_AS(Keyring::parse("[1]"), std::runtime_error);
  CHECK_THROWS_AS(Keyring::parse("[\"not base64!\"]"), std::runtime_error);
  // 16 bytes of base64: a valid string but the wrong key size.
  CHECK_THROWS_WITH_AS(Keyring::parse("[\"AAAAAAAAAAAAAAAAAAAAAA==\"]"),
                       "keyring entry 0 is 16 bytes, want 32 (AES-256)", std::runtime_error);
  std::string dup = "[\"" + base64_encode(k1) + "\",\"" + base64_encode(k1) + "\"]";
  CHECK_THROWS_AS(Keyring::parse(dup), std::runtime_error);

  CHECK_THROWS_AS(Keyring::load_file("/nonexistent/vigil-keyring.json"), std::runtime_error);
  const std::string path = "/tmp/vigil-keyring-test-" + std::to_string(::getpid()) + ".json";
  { std::ofstream(path) << ring.to_json() << "\n"; }
  CHECK(Keyring::load_file(path).keys() == ring.keys());
  std::remove(path.c_str());
}

TEST_CASE("base64 round trip and strictness") {
  for (std::size_t n = 0; n < 40; ++n) {
    std::vector<std::uint8_t> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(i * 37 + 11);
    auto enc = base64_encode(v);
    CAPTURE(enc);
    auto dec = base64_decode(enc);
    if (n == 0) {
      CHECK_FALSE(dec);  // empty text is not a key
    } else {
      REQUIRE(dec);
      CHECK(*dec == v);
    }
  }
  CHECK(base64_encode(bytes_of("foobar")) == "Zm9vYmFy");
  CHECK(base64_decode("Zm9vYg==") == bytes_of("foob"));
  CHECK(base64_decode(" Zm9vYg==\n") == bytes_of("foob"));
  CHECK_FALSE(base64_decode("Zm9vYg="));
  CHECK_FALSE(base64_decode("Zm=vYmFy"));
  CHECK_FALSE(base64_decode("Zm9v*mFy"));
}
