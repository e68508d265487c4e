#include "api/http_tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <stdexcept>

namespace vigil::api {
namespace {

// The oldest queued OpenSSL error as text (and the queue cleared), or `fallback`.
std::string openssl_error(const char* fallback) {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return fallback;
  const char* reason = ERR_reason_error_string(e);
  return reason ? reason : fallback;
}

// "" when `path` opens for reading, else the reason.
std::string unreadable(const std::string& path) {
  std::ifstream in(path);
  if (in) return {};
  return std::strerror(errno);
}

// A private key passphrase would be asked on the terminal: refuse instead.
int no_passphrase(char*, int, int, void*) {
  return 0;
}

}  // namespace

bool configure_tls_context(ssl_ctx_st* ctx, const std::string& cert_file,
                           const std::string& key_file, std::string& error) {
  ERR_clear_error();
  if (std::string why = unreadable(cert_file); !why.empty()) {
    error = "cannot read TLS certificate file " + cert_file + ": " + why;
    return false;
  }
  if (std::string why = unreadable(key_file); !why.empty()) {
    error = "cannot read TLS key file " + key_file + ": " + why;
    return false;
  }
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION);
  SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
  // The key first: loading it after the certificate would fail a mismatch with OpenSSL's
  // terse "key values mismatch"; this way the check below names it.
  if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    error = "TLS key file " + key_file +
            " is not an unencrypted PEM private key: " + openssl_error("unknown error");
    return false;
  }
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) {
    error = "TLS certificate file " + cert_file +
            " is not a PEM certificate: " + openssl_error("unknown error");
    return false;
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    error = "TLS key file " + key_file + " does not match the certificate in " + cert_file;
    ERR_clear_error();
    return false;
  }
  return true;
}

void check_tls_files(const std::string& cert_file, const std::string& key_file) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_server_method()),
                                                        &SSL_CTX_free);
  if (!ctx) throw std::runtime_error("TLS: " + openssl_error("cannot create an OpenSSL context"));
  std::string error;
  if (!configure_tls_context(ctx.get(), cert_file, key_file, error)) {
    throw std::runtime_error(error);
  }
}

}  // namespace vigil::api
