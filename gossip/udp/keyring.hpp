#pragma once
// Keyring: AES-256-GCM encryption of every gossip datagram and stream frame (OpenSSL EVP).
//
// The primary key (the first) encrypts; every key is tried to decrypt. That makes rotation
// possible without downtime: add the new key on every node, make it primary everywhere, then
// remove the old one (serf's keyring model).
//
// Wire format of one sealed message:
//   1 byte version (kKeyringWireVersion) | 12-byte random nonce | ciphertext | 16-byte GCM tag
// Keyring file: a JSON array of base64-encoded 32-byte keys, the first is the primary:
//   ["kZ3Y...=", "q1Xc...="]
//
// Threading: a const Keyring may be used from several threads at once (each call builds its
// own EVP context). Mutations (add/use/remove) are not synchronized.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::gossip::udp {

inline constexpr std::uint8_t kKeyringWireVersion = 1;
inline constexpr std::size_t kKeySize = 32;    ///< AES-256
inline constexpr std::size_t kNonceSize = 12;  ///< GCM standard nonce
inline constexpr std::size_t kTagSize = 16;    ///< GCM tag
/// Bytes added to every message by seal(): version + nonce + tag.
inline constexpr std::size_t kSealOverhead = 1 + kNonceSize + kTagSize;

using Key = std::array<std::uint8_t, kKeySize>;

class Keyring {
 public:
  /// A keyring with `keys`; keys[0] is the primary. Must not be empty.
  explicit Keyring(std::vector<Key> keys);

  /// Parses a keyring file's text (JSON array of base64 keys). Throws std::runtime_error with
  /// a one-line reason on any problem (empty array, bad base64, key not 32 bytes, duplicates).
  static Keyring parse(std::string_view json_text);
  /// Reads and parses a keyring file. Throws std::runtime_error (unreadable or invalid).
  static Keyring load_file(const std::string& path);
  /// A fresh random key (RAND_bytes). Throws std::runtime_error if the RNG fails.
  static Key generate_key();

  /// Encrypts `plain` with the primary key. Empty result only if OpenSSL fails.
  std::vector<std::uint8_t> seal(std::span<const std::uint8_t> plain) const;
  /// Decrypts with each key in turn; nullopt when the version byte is unknown, the message is
  /// too short, or no key authenticates it (wrong key or tampered bytes).
  std::optional<std::vector<std::uint8_t>> open(std::span<const std::uint8_t> sealed) const;

  /// Adds `key` (no-op when present) as a secondary key.
  void add(const Key& key);
  /// Makes `key` the primary; returns false when it is not in the ring.
  bool use(const Key& key);
  /// Removes a secondary key; returns false when absent or when it is the primary.
  bool remove(const Key& key);

  const std::vector<Key>& keys() const { return keys_; }
  const Key& primary() const { return keys_.front(); }
  /// The keyring file text for these keys (primary first).
  std::string to_json() const;

 private:
  std::vector<Key> keys_;
};

/// A short public name of a key for logs and metrics: the first 8 hex digits of its SHA-256
/// (reveals nothing usable about the key; tells operators which key is primary where).
std::string key_id(const Key& key);

/// Standard base64 (with padding) of `bytes`.
std::string base64_encode(std::span<const std::uint8_t> bytes);
/// Decodes standard base64; nullopt on any invalid character or length.
std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text);

}  // namespace vigil::gossip::udp
