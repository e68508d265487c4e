#include "checkers/net.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

namespace vigil::checkers::net {

Fd& Fd::operator=(Fd&& o) noexcept {
  if (this != &o) reset(o.release());
  return *this;
}

void Fd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

bool split_host_port(const std::string& in, std::string& host, std::string& port,
                     const std::string& default_port) {
  if (in.empty()) return false;
  if (in[0] == '[') {
    auto close = in.find(']');
    if (close == std::string::npos) return false;
    host = in.substr(1, close - 1);
    if (close + 1 == in.size()) {
      port = default_port;
    } else if (in[close + 1] == ':') {
      port = in.substr(close + 2);
    } else {
      return false;
    }
  } else {
    auto colon = in.rfind(':');
    if (colon != std::string::npos && in.find(':') != colon) {  // bare IPv6
      host = in;
      port = default_port;
    } else if (colon == std::string::npos) {
      host = in;
      port = default_port;
    } else {
      host = in.substr(0, colon);
      port = in.substr(colon + 1);
    }
  }
  return !host.empty() && !port.empty() && port.size() <= 5 &&
         port.find_first_not_of("0123456789") == std::string::npos && std::stoul(port) <= 65535;
}

std::string join_host_port(const std::string& host, const std::string& port) {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + port;
  return host + ":" + port;
}

bool wait_fd(int fd, short events, Deadline deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int ms = deadline.remaining_ms();
    if (ms <= 0) return false;
    int r = ::poll(&p, 1, ms);
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return true;  // let the following I/O call report the error
  }
}

namespace {

std::string errno_text(int e) {
  return std::strerror(e);
}

struct Lookup {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  int rc = 0;
  std::vector<ResolvedAddr> out;
};

std::string numeric(const sockaddr* sa) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (sa->sa_family == AF_INET)
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, buf, sizeof buf);
  else
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, buf, sizeof buf);
  return buf;
}

}  // namespace

std::vector<ResolvedAddr> resolve(const std::string& host, Deadline deadline, std::string& error,
                                  int family) {
  in6_addr a6{};
  in_addr a4{};
  if (::inet_pton(AF_INET, host.c_str(), &a4) == 1) return {{AF_INET, host}};
  if (::inet_pton(AF_INET6, host.c_str(), &a6) == 1) return {{AF_INET6, host}};
  auto st = std::make_shared<Lookup>();
  // getaddrinfo has no timeout: run it on a helper thread and abandon it at the deadline (the
  // thread finishes on its own and frees the shared state).
  std::thread([st, host, family] {
    addrinfo hints{};
    hints.ai_family = family;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res);
    std::vector<ResolvedAddr> out;
    for (addrinfo* p = res; rc == 0 && p; p = p->ai_next) {
      ResolvedAddr r{p->ai_family, numeric(p->ai_addr)};
      bool dup = false;
      for (auto& o : out) dup = dup || o.ip == r.ip;
      if (!dup) out.push_back(r);
    }
    if (res) ::freeaddrinfo(res);
    std::lock_guard lock(st->mu);
    st->rc = rc;
    st->out = std::move(out);
    st->done = true;
    st->cv.notify_all();
  }).detach();
  std::unique_lock lock(st->mu);
  if (!st->cv.wait_until(lock, deadline.at, [&] { return st->done; })) {
    error = "resolve " + host + ": timed out";
    return {};
  }
  if (st->rc != 0) {
    error = "resolve " + host + ": " + ::gai_strerror(st->rc);
    return {};
  }
  if (st->out.empty()) error = "resolve " + host + ": no addresses";
  return st->out;
}

Fd tcp_connect(const std::string& host, const std::string& port, Deadline deadline,
               std::string& error) {
  auto addrs = resolve(host, deadline, error);
  if (addrs.empty()) return {};
  std::string errors;
  for (const auto& a : addrs) {
    sockaddr_storage ss{};
    socklen_t len = 0;
    auto p = static_cast<std::uint16_t>(std::stoul(port));
    if (a.family == AF_INET) {
      auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
      s4->sin_family = AF_INET;
      s4->sin_port = htons(p);
      ::inet_pton(AF_INET, a.ip.c_str(), &s4->sin_addr);
      len = sizeof(sockaddr_in);
    } else {
      auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
      s6->sin6_family = AF_INET6;
      s6->sin6_port = htons(p);
      ::inet_pton(AF_INET6, a.ip.c_str(), &s6->sin6_addr);
      len = sizeof(sockaddr_in6);
    }
    std::string where = "connect " + join_host_port(a.ip, port) + ": ";
    Fd fd(::socket(a.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) {
      errors += (errors.empty() ? "" : "; ") + where + errno_text(errno);
      continue;
    }
    int rc = ::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len);
    if (rc != 0 && errno != EINPROGRESS) {
      errors += (errors.empty() ? "" : "; ") + where + errno_text(errno);
      continue;
    }
    if (rc != 0) {
      if (!wait_fd(fd.get(), POLLOUT, deadline)) {
        errors += (errors.empty() ? "" : "; ") + where + "timed out";
        break;
      }
      int soerr = 0;
      socklen_t sl = sizeof soerr;
      ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &soerr, &sl);
      if (soerr != 0) {
        errors += (errors.empty() ? "" : "; ") + where + errno_text(soerr);
        continue;
      }
    }
    error.clear();
    return fd;
  }
  error = errors;
  return {};
}

namespace {

class PlainStream final : public Stream {
 public:
  explicit PlainStream(Fd fd) : fd_(std::move(fd)) {}
  bool write_all(const std::string& data, Deadline deadline, std::string& error) override {
    std::size_t off = 0;
    while (off < data.size()) {
      ssize_t n = ::send(fd_.get(), data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n > 0) {
        off += static_cast<std::size_t>(n);
      } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        if (!wait_fd(fd_.get(), POLLOUT, deadline)) return error = "write: timed out", false;
      } else {
        return error = "write: " + errno_text(errno), false;
      }
    }
    return true;
  }
  long read_some(std::string& out, std::size_t max, Deadline deadline,
                 std::string& error) override {
    std::string buf(max, '\0');
    for (;;) {
      ssize_t n = ::recv(fd_.get(), buf.data(), max, 0);
      if (n >= 0) {
        out.append(buf.data(), static_cast<std::size_t>(n));
        return static_cast<long>(n);
      }
      if (errno != EAGAIN && errno != EINTR) return error = "read: " + errno_text(errno), -1;
      if (!wait_fd(fd_.get(), POLLIN, deadline)) return error = "read: timed out", -1;
    }
  }

 private:
  Fd fd_;
};

std::string ssl_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += (out.empty() ? "" : "; ") + std::string(buf);
  }
  return out.empty() ? "unknown TLS error" : out;
}

class TlsStream final : public Stream {
 public:
  TlsStream(Fd fd, SSL_CTX* ctx, SSL* ssl) : fd_(std::move(fd)), ctx_(ctx), ssl_(ssl) {}
  ~TlsStream() override {
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
  }
  /// Drives one SSL call to completion: returns its result, or -1 with `error`.
  template <class F>
  int drive(F op, const char* what, Deadline deadline, std::string& error, bool eof_ok = false) {
    for (;;) {
      ERR_clear_error();
      int r = op();
      if (r > 0) return r;
      int e = SSL_get_error(ssl_, r);
      if (e == SSL_ERROR_WANT_READ) {
        if (!wait_fd(fd_.get(), POLLIN, deadline))
          return error = std::string(what) + ": timed out", -1;
      } else if (e == SSL_ERROR_WANT_WRITE) {
        if (!wait_fd(fd_.get(), POLLOUT, deadline))
          return error = std::string(what) + ": timed out", -1;
      } else if (eof_ok && (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && errno == 0))) {
        return 0;
      } else {
        long v = SSL_get_verify_result(ssl_);
        if (v != X509_V_OK)
          error = std::string(what) +
                  ": certificate verify failed: " + X509_verify_cert_error_string(v);
        else if (e == SSL_ERROR_SYSCALL)
          error = std::string(what) + ": " + (errno ? errno_text(errno) : "connection closed");
        else
          error = std::string(what) + ": " + ssl_errors();
        return -1;
      }
    }
  }
  bool handshake(Deadline deadline, std::string& error) {
    return drive([&] { return SSL_connect(ssl_); }, "TLS handshake", deadline, error) > 0;
  }
  bool write_all(const std::string& data, Deadline deadline, std::string& error) override {
    std::size_t off = 0;
    while (off < data.size()) {
      int n = drive(
          [&] { return SSL_write(ssl_, data.data() + off, static_cast<int>(data.size() - off)); },
          "write", deadline, error);
      if (n < 0) return false;
      off += static_cast<std::size_t>(n);
    }
    return true;
  }
  long read_some(std::string& out, std::size_t max, Deadline deadline,
                 std::string& error) override {
    std::string buf(max, '\0');
    int n = drive([&] { return SSL_read(ssl_, buf.data(), static_cast<int>(max)); }, "read",
                  deadline, error, true);
    if (n > 0) out.append(buf.data(), static_cast<std::size_t>(n));
    return n;
  }

 private:
  Fd fd_;
  SSL_CTX* ctx_;
  SSL* ssl_;
};

}  // namespace

std::unique_ptr<Stream> open_stream(const std::string& host, const std::string& port,
                                    const TlsOptions& tls, Deadline deadline, std::string& error) {
  Fd fd = tcp_connect(host, port, deadline, error);
  if (!fd) return nullptr;
  if (!tls.enabled) return std::make_unique<PlainStream>(std::move(fd));

  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) return error = "TLS: " + ssl_errors(), nullptr;
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  auto fail = [&](std::string e) -> std::unique_ptr<Stream> {
    SSL_CTX_free(ctx);
    error = std::move(e);
    return nullptr;
  };
  if (!tls.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, tls.ca_file.c_str(), nullptr) != 1)
      return fail("TLS: cannot load CA file " + tls.ca_file + ": " + ssl_errors());
  } else {
    SSL_CTX_set_default_verify_paths(ctx);
  }
  if (!tls.cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx, tls.cert_file.c_str()) != 1)
      return fail("TLS: cannot load client certificate " + tls.cert_file + ": " + ssl_errors());
    const std::string& key = tls.key_file.empty() ? tls.cert_file : tls.key_file;
    if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1)
      return fail("TLS: cannot load client key " + key + ": " + ssl_errors());
  }
  SSL_CTX_set_verify(ctx, tls.insecure_skip_verify ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, nullptr);
  SSL* ssl = SSL_new(ctx);
  if (!ssl) return fail("TLS: " + ssl_errors());
  const std::string& name = tls.server_name.empty() ? host : tls.server_name;
  in6_addr a6{};
  in_addr a4{};
  bool is_ip =
      ::inet_pton(AF_INET, name.c_str(), &a4) == 1 || ::inet_pton(AF_INET6, name.c_str(), &a6) == 1;
  if (!tls.insecure_skip_verify) {
    if (is_ip)
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str());
    else
      SSL_set1_host(ssl, name.c_str());
  }
  if (!is_ip) SSL_set_tlsext_host_name(ssl, name.c_str());
  SSL_set_fd(ssl, fd.get());
  auto stream = std::make_unique<TlsStream>(std::move(fd), ctx, ssl);
  if (!stream->handshake(deadline, error)) return nullptr;
  return stream;
}

}  // namespace vigil::checkers::net
