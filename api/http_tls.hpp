#pragma once
// TLS for the HTTP API: loads a PEM certificate (chain) and its private key into an OpenSSL
// context, TLS 1.2 or newer. Used by HttpServer (through cpp-httplib's SSLServer) and, before
// anything starts, by the agent's config check so a bad file is one clear line and exit 2.

#include <string>

struct ssl_ctx_st;  // OpenSSL's SSL_CTX, kept out of this header

namespace vigil::api {

/// Sets up `ctx` for serving: minimum TLS 1.2, no compression, the certificate chain of
/// `cert_file` (PEM, leaf first) and the unencrypted PEM private key of `key_file`, which must
/// match the certificate. Returns false with a one-line `error` naming the file and the reason.
bool configure_tls_context(ssl_ctx_st* ctx, const std::string& cert_file,
                           const std::string& key_file, std::string& error);

/// Loads both files into a scratch context; throws std::runtime_error (one line) on any
/// problem: unreadable file, not PEM, encrypted key, key not matching the certificate.
void check_tls_files(const std::string& cert_file, const std::string& key_file);

}  // namespace vigil::api
