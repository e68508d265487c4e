#include "gossip/udp/keyring.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

namespace vigil::gossip::udp {
namespace {

struct CtxDeleter {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CtxDeleter>;

// Decrypts `sealed` (already checked for length and version) with one key.
bool open_with(const Key& key, std::span<const std::uint8_t> sealed,
               std::vector<std::uint8_t>& out) {
  const std::uint8_t* nonce = sealed.data() + 1;
  const std::size_t ct_len = sealed.size() - kSealOverhead;
  const std::uint8_t* ct = nonce + kNonceSize;
  const std::uint8_t* tag = ct + ct_len;
  CtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return false;
  if (EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1)
    return false;
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceSize, nullptr) != 1)
    return false;
  if (EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key.data(), nonce) != 1) return false;
  // The version byte is authenticated as additional data.
  int len = 0;
  if (EVP_DecryptUpdate(ctx.get(), nullptr, &len, sealed.data(), 1) != 1) return false;
  out.resize(ct_len);
  if (ct_len > 0 &&
      EVP_DecryptUpdate(ctx.get(), out.data(), &len, ct, static_cast<int>(ct_len)) != 1) {
    return false;
  }
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagSize,
                          const_cast<std::uint8_t*>(tag)) != 1) {
    return false;
  }
  std::uint8_t final_buf[16];
  return EVP_DecryptFinal_ex(ctx.get(), final_buf, &len) == 1;
}

}  // namespace

Keyring::Keyring(std::vector<Key> keys) : keys_(std::move(keys)) {
  if (keys_.empty()) throw std::invalid_argument("keyring: no keys");
}

Keyring Keyring::parse(std::string_view json_text) {
  nlohmann::json j = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw std::runtime_error("keyring is not valid JSON");
  if (!j.is_array()) throw std::runtime_error("keyring must be a JSON array of base64 keys");
  if (j.empty()) throw std::runtime_error("keyring has no keys");
  std::vector<Key> keys;
  for (std::size_t i = 0; i < j.size(); ++i) {
    if (!j[i].is_string()) {
      throw std::runtime_error("keyring entry " + std::to_string(i) + " is not a string");
    }
    auto raw = base64_decode(j[i].get<std::string>());
    if (!raw) throw std::runtime_error("keyring entry " + std::to_string(i) + " is not base64");
    if (raw->size() != kKeySize) {
      throw std::runtime_error("keyring entry " + std::to_string(i) + " is " +
                               std::to_string(raw->size()) + " bytes, want 32 (AES-256)");
    }
    Key k;
    std::copy(raw->begin(), raw->end(), k.begin());
    if (std::find(keys.begin(), keys.end(), k) != keys.end()) {
      throw std::runtime_error("keyring entry " + std::to_string(i) + " is a duplicate");
    }
    keys.push_back(k);
  }
  return Keyring(std::move(keys));
}

Keyring Keyring::load_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read keyring file " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  try {
    return parse(ss.str());
  } catch (const std::exception& e) {
    throw std::runtime_error("keyring file " + path + ": " + e.what());
  }
}

Key Keyring::generate_key() {
  Key k;
  if (RAND_bytes(k.data(), static_cast<int>(k.size())) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  return k;
}

std::vector<std::uint8_t> Keyring::seal(std::span<const std::uint8_t> plain) const {
  std::vector<std::uint8_t> out(kSealOverhead + plain.size());
  out[0] = kKeyringWireVersion;
  std::uint8_t* nonce = out.data() + 1;
  std::uint8_t* ct = nonce + kNonceSize;
  std::uint8_t* tag = ct + plain.size();
  if (RAND_bytes(nonce, kNonceSize) != 1) return {};
  CtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return {};
  int len = 0;
  if (EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceSize, nullptr) != 1 ||
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, primary().data(), nonce) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, out.data(), 1) != 1) {
    return {};
  }
  if (!plain.empty() &&
      EVP_EncryptUpdate(ctx.get(), ct, &len, plain.data(), static_cast<int>(plain.size())) != 1) {
    return {};
  }
  std::uint8_t final_buf[16];
  if (EVP_EncryptFinal_ex(ctx.get(), final_buf, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagSize, tag) != 1) {
    return {};
  }
  return out;
}

std::optional<std::vector<std::uint8_t>> Keyring::open(std::span<const std::uint8_t> sealed) const {
  if (sealed.size() < kSealOverhead || sealed[0] != kKeyringWireVersion) return std::nullopt;
  std::vector<std::uint8_t> out;
  for (const Key& k : keys_) {
    if (open_with(k, sealed, out)) return out;
  }
  return std::nullopt;
}

void Keyring::add(const Key& key) {
  if (std::find(keys_.begin(), keys_.end(), key) == keys_.end()) keys_.push_back(key);
}

bool Keyring::use(const Key& key) {
  auto it = std::find(keys_.begin(), keys_.end(), key);
  if (it == keys_.end()) return false;
  std::rotate(keys_.begin(), it, it + 1);
  return true;
}

bool Keyring::remove(const Key& key) {
  auto it = std::find(keys_.begin(), keys_.end(), key);
  if (it == keys_.end() || it == keys_.begin()) return false;
  keys_.erase(it);
  return true;
}

std::string Keyring::to_json() const {
  nlohmann::json j = nlohmann::json::array();
  for (const Key& k : keys_) j.push_back(base64_encode(k));
  return j.dump();
}

std::string key_id(const Key& key) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(key.data(), key.size(), digest, &len, EVP_sha256(), nullptr) != 1 || len < 4) {
    return "unknown";
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < 4; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xF]);
  }
  return out;
}

std::string base64_encode(std::span<const std::uint8_t> bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(),
                          static_cast<int>(bytes.size()));
  out.resize(n < 0 ? 0 : static_cast<std::size_t>(n));
  return out;
}

std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text) {
  // Strip surrounding whitespace (a key pasted from a terminal).
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  for (char c : text) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '=')) {
      return std::nullopt;
    }
  }
  std::vector<std::uint8_t> out(3 * text.size() / 4);
  int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock keeps the padding bytes as zeros: drop one per '='.
  std::size_t pad = 0;
  if (text.back() == '=') ++pad;
  if (text.size() >= 2 && text[text.size() - 2] == '=') ++pad;
  // '=' anywhere but the last two positions is invalid.
  if (text.substr(0, text.size() - pad).find('=') != std::string_view::npos) return std::nullopt;
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

}  // namespace vigil::gossip::udp
