#include "checkers/http_client.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace vigil::checkers::http {

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// Decodes a complete chunked body; false while incomplete, `bad` on malformed input.
bool dechunk(const std::string& in, std::string& out, bool& bad) {
  std::size_t pos = 0;
  out.clear();
  for (;;) {
    auto eol = in.find("\r\n", pos);
    if (eol == std::string::npos) return false;
    std::string len_text = in.substr(pos, eol - pos);
    len_text = len_text.substr(0, len_text.find(';'));
    char* end = nullptr;
    unsigned long len = std::strtoul(len_text.c_str(), &end, 16);
    if (len_text.empty() || end == len_text.c_str()) return bad = true, false;
    pos = eol + 2;
    if (len == 0) return true;
    if (in.size() < pos + len + 2) return false;
    out.append(in, pos, len);
    pos += len + 2;
  }
}

}  // namespace

bool parse_url(const std::string& text, Url& out) {
  auto sep = text.find("://");
  if (sep == std::string::npos) return false;
  out.scheme = lower(text.substr(0, sep));
  if (out.scheme != "http" && out.scheme != "https") return false;
  std::string rest = text.substr(sep + 3);
  auto slash = rest.find_first_of("/?");
  std::string authority = rest.substr(0, slash);
  out.target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (out.target[0] == '?') out.target = "/" + out.target;
  if (authority.find('@') != std::string::npos) return false;
  return net::split_host_port(authority, out.host, out.port, out.scheme == "https" ? "443" : "80");
}

std::string Response::header(const std::string& name) const {
  for (const auto& [k, v] : headers)
    if (k == name) return v;
  return {};
}

std::string describe(const Request& r) {
  return r.method + " " + r.url;
}

std::string snippet(const std::string& body, std::size_t max) {
  std::string s = trim(body);
  for (auto& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  if (s.size() > max) s = s.substr(0, max) + "...";
  return s;
}

Result fetch(const Request& req, Deadline deadline) {
  Result res;
  TimePoint t0 = Clock::now();
  Url url;
  if (!parse_url(req.url, url)) {
    res.error = "invalid URL";
    return res;
  }
  net::TlsOptions tls = req.tls;
  tls.enabled = url.scheme == "https";
  auto stream = net::open_stream(url.host, url.port, tls, deadline, res.error);
  if (!stream) return res;
  res.response.connect_time = Clock::now() - t0;

  bool default_port =
      (url.scheme == "https" && url.port == "443") || (url.scheme == "http" && url.port == "80");
  std::string host_hdr =
      default_port ? (url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host)
                   : net::join_host_port(url.host, url.port);
  std::string head = req.method + " " + url.target + " HTTP/1.1\r\nHost: " + host_hdr +
                     "\r\nUser-Agent: vigil\r\nAccept: */*\r\nConnection: close\r\n";
  for (const auto& [k, v] : req.headers) head += k + ": " + v + "\r\n";
  if (!req.body.empty() || req.method == "POST" || req.method == "PUT")
    head += "Content-Length: " + std::to_string(req.body.size()) + "\r\n";
  head += "\r\n" + req.body;
  if (!stream->write_all(head, deadline, res.error)) return res;

  std::string data;
  std::size_t header_end = std::string::npos;
  const std::size_t max_head = 64 * 1024;
  long content_length = -1;
  bool chunked = false;
  Response& rsp = res.response;
  for (;;) {
    std::string err;
    long n = stream->read_some(data, 16 * 1024, deadline, err);
    if (n < 0) {
      res.error = err;
      return res;
    }
    if (header_end == std::string::npos) {
      header_end = data.find("\r\n\r\n");
      if (header_end == std::string::npos) {
        if (n == 0) return res.error = "connection closed before the response header", res;
        if (data.size() > max_head) return res.error = "response header too large", res;
        continue;
      }
      // Status line and headers.
      std::string head_text = data.substr(0, header_end);
      std::size_t eol = head_text.find("\r\n");
      std::string status_line = head_text.substr(0, eol);
      if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12)
        return res.error = "not an HTTP response: " + snippet(status_line, 80), res;
      rsp.status = std::atoi(status_line.c_str() + 9);
      rsp.reason = status_line.size() > 13 ? status_line.substr(13) : "";
      std::size_t pos = eol == std::string::npos ? head_text.size() : eol + 2;
      while (pos < head_text.size()) {
        auto next = head_text.find("\r\n", pos);
        if (next == std::string::npos) next = head_text.size();
        std::string line = head_text.substr(pos, next - pos);
        auto colon = line.find(':');
        if (colon != std::string::npos)
          rsp.headers.emplace_back(lower(trim(line.substr(0, colon))),
                                   trim(line.substr(colon + 1)));
        pos = next + 2;
      }
      std::string cl = rsp.header("content-length");
      if (!cl.empty()) content_length = std::atol(cl.c_str());
      chunked = lower(rsp.header("transfer-encoding")).find("chunked") != std::string::npos;
      data.erase(0, header_end + 4);
      if (req.method == "HEAD" || rsp.status == 204 || rsp.status == 304) break;
    }
    // Body.
    if (chunked) {
      bool bad = false;
      if (dechunk(data, rsp.body, bad)) break;
      if (bad) return res.error = "malformed chunked body", res;
      if (data.size() > req.max_body + 64) {
        rsp.body = data.substr(0, req.max_body);
        rsp.body_truncated = true;
        break;
      }
    } else if (content_length >= 0 && data.size() >= static_cast<std::size_t>(content_length)) {
      rsp.body = data.substr(0, static_cast<std::size_t>(content_length));
      break;
    } else if (data.size() > req.max_body) {
      rsp.body = data;
      rsp.body_truncated = true;
      break;
    }
    if (n == 0) {
      if (chunked || content_length >= 0)
        return res.error = "connection closed in the middle of the body", res;
      rsp.body = data;
      break;
    }
  }
  if (rsp.body.size() > req.max_body) {
    rsp.body.resize(req.max_body);
    rsp.body_truncated = true;
  }
  rsp.total_time = Clock::now() - t0;
  res.ok = true;
  return res;
}

}  // namespace vigil::checkers::http
