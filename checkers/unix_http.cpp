#include "checkers/unix_http.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace vigil::checkers {
namespace {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string errno_text(const char* what, int err) {
  return std::string(what) + ": " + std::strerror(err);
}

// Waits for `events` on fd until the deadline. Returns an empty string when ready.
std::string wait_fd(int fd, short events, Deadline deadline, const char* what) {
  for (;;) {
    pollfd p{fd, events, 0};
    int ms = deadline.remaining_ms();
    if (ms <= 0) return std::string("timed out ") + what;
    int r = ::poll(&p, 1, ms);
    if (r > 0) return {};
    if (r == 0) return std::string("timed out ") + what;
    if (errno != EINTR) return errno_text("poll", errno);
  }
}

// Parses a chunked body; returns false when it is incomplete or malformed.
bool dechunk(const std::string& in, std::string& out, std::size_t max_body) {
  std::size_t pos = 0;
  for (;;) {
    std::size_t eol = in.find("\r\n", pos);
    if (eol == std::string::npos) return false;
    std::size_t size = 0;
    std::size_t i = pos;
    for (; i < eol && std::isxdigit(static_cast<unsigned char>(in[i])); ++i) {
      char c = static_cast<char>(std::tolower(static_cast<unsigned char>(in[i])));
      size = size * 16 + static_cast<std::size_t>(c <= '9' ? c - '0' : c - 'a' + 10);
      if (size > max_body) return false;
    }
    if (i == pos) return false;
    pos = eol + 2;
    if (size == 0) return true;
    if (in.size() < pos + size + 2) return false;
    out.append(in, pos, size);
    if (out.size() > max_body) return false;
    pos += size + 2;
  }
}

}  // namespace

UnixHttpResponse unix_http_get(const std::string& socket_path, const std::string& target,
                               Deadline deadline, std::size_t max_body) {
  UnixHttpResponse res;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof(addr.sun_path)) {
    res.error = "socket path too long";
    return res;
  }
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) {
    res.error = errno_text("socket", errno);
    return res;
  }
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (errno != EINPROGRESS && errno != EAGAIN) {
      res.error = errno_text("connect", errno);
      return res;
    }
    if (auto e = wait_fd(fd.get(), POLLOUT, deadline, "connecting"); !e.empty()) {
      res.error = e;
      return res;
    }
    int err = 0;
    socklen_t len = sizeof(err);
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      res.error = errno_text("connect", err);
      return res;
    }
  }

  const std::string req = "GET " + target +
                          " HTTP/1.1\r\nHost: localhost\r\nUser-Agent: vigil\r\n"
                          "Accept: application/json\r\nConnection: close\r\n\r\n";
  std::size_t sent = 0;
  while (sent < req.size()) {
    ssize_t n = ::send(fd.get(), req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (auto e = wait_fd(fd.get(), POLLOUT, deadline, "sending"); !e.empty()) {
        res.error = e;
        return res;
      }
    } else {
      res.error = errno_text("send", errno);
      return res;
    }
  }

  // Read until the server closes (Connection: close) or the framing says we are done.
  std::string raw;
  std::size_t header_end = std::string::npos;
  long content_length = -1;
  bool chunked = false;
  char buf[16384];
  for (;;) {
    if (header_end != std::string::npos) {
      std::string body = raw.substr(header_end);
      if (content_length >= 0 && body.size() >= static_cast<std::size_t>(content_length)) break;
      if (chunked) {
        std::string decoded;
        if (dechunk(body, decoded, max_body)) break;
      }
    }
    if (raw.size() > max_body + 65536) {
      res.error = "response larger than " + std::to_string(max_body) + " bytes";
      return res;
    }
    if (auto e = wait_fd(fd.get(), POLLIN, deadline, "waiting for the response"); !e.empty()) {
      res.error = e;
      return res;
    }
    ssize_t n = ::recv(fd.get(), buf, sizeof(buf), 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      res.error = errno_text("recv", errno);
      return res;
    }
    if (n == 0) break;  // closed by the server
    raw.append(buf, static_cast<std::size_t>(n));
    if (header_end == std::string::npos) {
      auto pos = raw.find("\r\n\r\n");
      if (pos == std::string::npos) continue;
      header_end = pos + 4;
      // Status line and the two framing headers we need (case-insensitive names).
      std::string head = raw.substr(0, pos);
      for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (head.rfind("http/1.", 0) != 0 || head.size() < 12) {
        res.error = "not an HTTP response";
        return res;
      }
      res.status = std::atoi(head.c_str() + 9);
      if (auto cl = head.find("\r\ncontent-length:"); cl != std::string::npos)
        content_length = std::atol(head.c_str() + cl + 17);
      if (auto te = head.find("\r\ntransfer-encoding:"); te != std::string::npos)
        chunked = head.find("chunked", te) != std::string::npos;
    }
  }
  if (header_end == std::string::npos) {
    res.error = raw.empty() ? "connection closed without a response" : "truncated response header";
    return res;
  }
  std::string body = raw.substr(header_end);
  if (chunked) {
    if (!dechunk(body, res.body, max_body)) {
      res.error = "malformed or truncated chunked body";
      return res;
    }
  } else {
    if (content_length >= 0) {
      if (body.size() < static_cast<std::size_t>(content_length)) {
        res.error = "truncated body";
        return res;
      }
      body.resize(static_cast<std::size_t>(content_length));
    }
    res.body = std::move(body);
  }
  if (res.body.size() > max_body) res.body.resize(max_body);
  res.ok = true;
  return res;
}

std::string url_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace vigil::checkers
