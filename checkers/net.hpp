#pragma once
// Deadline-bounded blocking network primitives for checkers: name resolution, TCP connect,
// and a byte stream over plain TCP or TLS (OpenSSL). Every call returns by the deadline.
// Errors are strings a person can act on ("connect 127.0.0.1:2379: Connection refused").

#include <memory>
#include <string>
#include <vector>

#include "checkers/deadline.hpp"

namespace vigil::checkers::net {

/// Owns a file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept;
  int get() const { return fd_; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }
  void reset(int fd = -1);
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

/// Splits "host:port", "[v6]:port" or "host" (then `default_port`). False on malformed input.
bool split_host_port(const std::string& in, std::string& host, std::string& port,
                     const std::string& default_port = {});
/// Formats host and port as "host:port" or "[v6]:port".
std::string join_host_port(const std::string& host, const std::string& port);

/// One resolved address, numeric ("127.0.0.1", "::1").
struct ResolvedAddr {
  int family = 0;
  std::string ip;
};

/// Resolves `host` through the system resolver (getaddrinfo), bounded by `deadline`: a numeric
/// host returns at once; otherwise the lookup runs on a helper thread that is abandoned at
/// the deadline. Returns addresses, or an empty list and `error`.
std::vector<ResolvedAddr> resolve(const std::string& host, Deadline deadline, std::string& error,
                                  int family = 0);

/// Connects a TCP socket to host:port (resolving it, trying each address). Non-blocking
/// internally, blocking semantics for the caller. On failure: empty Fd and `error`.
Fd tcp_connect(const std::string& host, const std::string& port, Deadline deadline,
               std::string& error);

/// TLS settings of a client connection.
struct TlsOptions {
  bool enabled = false;               ///< https:// URLs turn it on
  std::string ca_file;                ///< PEM CA bundle; empty: the system's default trust store
  std::string cert_file;              ///< PEM client certificate (mutual TLS), optional
  std::string key_file;               ///< PEM client key, required with cert_file
  std::string server_name;            ///< name to verify and send as SNI; default: the URL's host
  bool insecure_skip_verify = false;  ///< do not verify the server certificate (tests only)
};

/// A connected byte stream, plain or TLS. Not thread-safe; one user at a time.
class Stream {
 public:
  virtual ~Stream() = default;
  /// Writes all of `data` or fails. False and `error` on failure or at the deadline.
  virtual bool write_all(const std::string& data, Deadline deadline, std::string& error) = 0;
  /// Reads up to `max` bytes and appends them to `out`. Returns bytes read; 0 at EOF; -1 on
  /// error or at the deadline (with `error`).
  virtual long read_some(std::string& out, std::size_t max, Deadline deadline,
                         std::string& error) = 0;
};

/// Opens a TCP (and, when tls.enabled, TLS) stream to host:port. nullptr and `error` on failure.
std::unique_ptr<Stream> open_stream(const std::string& host, const std::string& port,
                                    const TlsOptions& tls, Deadline deadline, std::string& error);

/// Waits for `events` (POLLIN/POLLOUT) on `fd` until the deadline. Returns false on timeout.
bool wait_fd(int fd, short events, Deadline deadline);

}  // namespace vigil::checkers::net
