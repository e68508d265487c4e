#pragma once
// Test helper: a fresh self-signed certificate (P-256, SAN IP:127.0.0.1 and DNS:localhost,
// valid for a day) and its key, written as PEM files, made with the OpenSSL API so the tests
// need no openssl CLI. The certificate is its own CA: clients trust it with --ca cert.pem.

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>

namespace vigil::testcert {

struct CertFiles {
  std::string cert, key;
};

/// Writes `<prefix>.crt` and `<prefix>.key`; throws std::runtime_error on any OpenSSL failure.
inline CertFiles make_self_signed(const std::string& prefix, const std::string& cn = "vigil") {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), &EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> x(X509_new(), &X509_free);
  if (!key || !x) throw std::runtime_error("OpenSSL: key or certificate allocation failed");
  static long serial = 1;
  X509_set_version(x.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), serial++);
  X509_gmtime_adj(X509_getm_notBefore(x.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(x.get()), 24 * 3600);
  X509_set_pubkey(x.get(), key.get());
  X509_NAME* name = X509_get_subject_name(x.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(x.get(), name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x.get(), x.get(), nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost"},
                            std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    if (!ext) throw std::runtime_error("OpenSSL: bad certificate extension");
    X509_add_ext(x.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(x.get(), key.get(), EVP_sha256()) == 0) {
    throw std::runtime_error("OpenSSL: signing failed");
  }
  CertFiles out{prefix + ".crt", prefix + ".key"};
  std::FILE* f = std::fopen(out.cert.c_str(), "w");
  if (!f || PEM_write_X509(f, x.get()) != 1) throw std::runtime_error("cannot write " + out.cert);
  std::fclose(f);
  f = std::fopen(out.key.c_str(), "w");
  if (!f || PEM_write_PrivateKey(f, key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    throw std::runtime_error("cannot write " + out.key);
  }
  std::fclose(f);
  return out;
}

}  // namespace vigil::testcert
