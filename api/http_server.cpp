#include "api/http_server.hpp"

#include <httplib.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

#include "api/http_auth.hpp"
#include "api/http_tls.hpp"

namespace vigil::api {
namespace {

// httplib's ThreadPool queues without bound; this one blocks the accept thread when
// `max_queued` connections wait, so a flood of clients backs up in the kernel's listen queue.
class BoundedPool final : public httplib::TaskQueue {
 public:
  BoundedPool(std::size_t threads, std::size_t max_queued) : max_queued_(max_queued) {
    for (std::size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { work(); });
  }
  ~BoundedPool() override = default;

  void enqueue(std::function<void()> fn) override {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [&] { return jobs_.size() < max_queued_ || shutdown_; });
    jobs_.push_back(std::move(fn));
    not_empty_.notify_one();
  }

  void shutdown() override {
    {
      std::lock_guard lock(mu_);
      shutdown_ = true;
    }
    not_empty_.notify_all();
    not_full_.notify_all();
    for (auto& t : workers_) t.join();
  }

 private:
  void work() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock lock(mu_);
        not_empty_.wait(lock, [&] { return !jobs_.empty() || shutdown_; });
        if (jobs_.empty()) return;  // shutdown and drained
        fn = std::move(jobs_.front());
        jobs_.pop_front();
        not_full_.notify_one();
      }
      fn();
    }
  }

  std::size_t max_queued_;
  std::mutex mu_;
  std::condition_variable not_empty_, not_full_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> workers_;
  bool shutdown_ = false;
};

// Messages may quote the client's bytes (a path, a parameter name): invalid UTF-8 becomes
// U+FFFD instead of a type_error thrown out of httplib's error handler (which aborted the agent
// on GET /v1/%FF).
std::string error_json(std::string_view message) {
  return nlohmann::json{{"error", message}}.dump(-1, ' ', false,
                                                 nlohmann::json::error_handler_t::replace);
}

// A plain server, or an HTTPS one when the options name a certificate.
std::unique_ptr<httplib::Server> make_server(const HttpServer::Options& o) {
  if (o.tls_cert_file.empty() && o.tls_key_file.empty()) {
    return std::make_unique<httplib::Server>();
  }
  if (o.tls_cert_file.empty() || o.tls_key_file.empty()) {
    throw std::runtime_error("TLS needs both a certificate and a key file");
  }
  std::string error;
  auto s = std::make_unique<httplib::SSLServer>([&](SSL_CTX& ctx) {
    return configure_tls_context(&ctx, o.tls_cert_file, o.tls_key_file, error);
  });
  if (!s->is_valid()) throw std::runtime_error(error.empty() ? "TLS setup failed" : error);
  return s;
}

}  // namespace

std::string HttpRequest::param(const std::string& key, const std::string& fallback) const {
  auto it = params.find(key);
  return it == params.end() ? fallback : it->second;
}

HttpResponse HttpResponse::json(std::string body, int status) {
  return HttpResponse{status, std::move(body), "application/json"};
}
HttpResponse HttpResponse::shared_json(std::shared_ptr<const std::string> body, int status) {
  HttpResponse r{status, {}, "application/json"};
  r.shared_body = std::move(body);
  return r;
}
HttpResponse HttpResponse::error(int status, std::string_view message) {
  return HttpResponse{status, error_json(message), "application/json"};
}
HttpResponse HttpResponse::text(std::string body, std::string content_type) {
  return HttpResponse{200, std::move(body), std::move(content_type)};
}

struct HttpServer::Impl {
  explicit Impl(Options o) : options(std::move(o)), owned(make_server(options)), server(*owned) {}
  Options options;
  std::unique_ptr<httplib::Server> owned;  // httplib::SSLServer with TLS
  httplib::Server& server;
  std::thread thread;
  int port = -1;
  bool started = false;

  httplib::Server::Handler wrap(HttpHandler h) {
    return [h = std::move(h)](const httplib::Request& req, httplib::Response& res) {
      HttpRequest r;
      r.method = req.method;
      r.path = req.path;
      r.body = req.body;
      for (const auto& [k, v] : req.params) r.params.emplace(k, v);
      for (const auto& m : req.matches) r.matches.push_back(m.str());
      HttpResponse out = h(r);
      res.status = out.status;
      for (const auto& [k, v] : out.headers) res.set_header(k, v);
      // Every body goes through a content provider, which httplib never compresses: with a
      // browser's "Accept-Encoding: br" it would brotli-compress at quality 11, ~3.4 s of CPU
      // for a 2 MB reachability answer (the web view found it); uncompressed JSON on the node
      // network is the cheaper trade.
      if (!out.shared_body && !out.body.empty())
        out.shared_body = std::make_shared<const std::string>(std::move(out.body));
      if (out.shared_body && !out.shared_body->empty()) {
        const std::size_t size = out.shared_body->size();
        res.set_content_provider(
            size, out.content_type,
            [b = std::move(out.shared_body)](std::size_t offset, std::size_t length,
                                             httplib::DataSink& sink) {
              return sink.write(b->data() + offset, std::min(length, b->size() - offset));
            });
      } else {
        res.set_content(out.body, out.content_type);
      }
    };
  }
};

HttpServer::HttpServer() : HttpServer(Options{}) {}

HttpServer::HttpServer(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {
  auto& s = impl_->server;
  const Options& opts = impl_->options;
  const std::size_t threads = opts.threads, queued = opts.max_queued;
  s.new_task_queue = [threads, queued] { return new BoundedPool(threads, queued); };
  // httplib's default also sets SO_REUSEPORT, which lets a second agent silently share the
  // port: keep only SO_REUSEADDR so a conflict fails at bind().
  s.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  s.set_read_timeout(opts.read_timeout);
  s.set_write_timeout(opts.write_timeout);
  // A response is written as headers then body: without TCP_NODELAY, Nagle holds the second
  // write until the client's delayed ACK, ~40 ms per request on a keep-alive connection.
  s.set_tcp_nodelay(true);
  if (!opts.bearer_token.empty()) {
    s.set_pre_routing_handler([&opts](const httplib::Request& req, httplib::Response& res) {
      const AuthResult a = check_auth(req.path, req.get_header_value("Authorization"),
                                      opts.bearer_token, opts.open_paths);
      if (a == AuthResult::ok) return httplib::Server::HandlerResponse::Unhandled;
      res.status = 401;
      res.set_header("WWW-Authenticate", kAuthChallenge);
      res.set_content(
          error_json(a == AuthResult::missing ? "authentication required" : "wrong credentials"),
          "application/json");
      return httplib::Server::HandlerResponse::Handled;
    });
  }
  s.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "internal error";
        try {
          if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = std::string("internal error: ") + e.what();
        } catch (...) {
        }
        res.status = 500;
        res.set_content(error_json(what), "application/json");
      });
  s.set_error_handler(
      httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty() || res.content_length_ > 0) {
          return httplib::Server::HandlerResponse::Unhandled;  // the handler's own body
        }
        std::string msg;
        switch (res.status) {
          case 400:
            msg = "bad request";
            break;
          case 404:
            msg = "not found: " + req.path;
            // Only GET (and HEAD) routes exist: the API is read-only.
            if (req.method != "GET" && req.method != "HEAD") {
              res.status = 405;
              res.set_header("Allow", "GET, HEAD");
              msg = "method not allowed: the API is read-only (GET)";
            }
            break;
          case 405:
            msg = "method not allowed";
            break;
          case 413:
            msg = "request too large";
            break;
          case 414:
            msg = "URI too long";
            break;
          case 503:
            msg = "unavailable";
            break;
          default:
            msg = "HTTP error " + std::to_string(res.status);
        }
        res.set_content(error_json(msg), "application/json");
        return httplib::Server::HandlerResponse::Handled;
      }));
}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::get(const std::string& pattern, HttpHandler handler) {
  impl_->server.Get(pattern, impl_->wrap(std::move(handler)));
}

int HttpServer::bind(const std::string& host, int port) {
  int p = port == 0 ? impl_->server.bind_to_any_port(host)
                    : (impl_->server.bind_to_port(host, port) ? port : -1);
  if (p < 0) {
    throw std::runtime_error("cannot bind HTTP " + host + ":" + std::to_string(port) +
                             " (address in use or not local)");
  }
  impl_->port = p;
  return p;
}

void HttpServer::start() {
  if (impl_->started || impl_->port < 0) return;
  impl_->started = true;
  impl_->thread = std::thread([this] { impl_->server.listen_after_bind(); });
  // stop() is a no-op until httplib marks itself running: wait for that (bounded) so a quick
  // stop() after start() cannot leave the listen thread running forever.
  for (int i = 0; i < 500 && !impl_->server.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void HttpServer::stop() {
  if (!impl_ || !impl_->started) return;
  impl_->started = false;
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

int HttpServer::port() const {
  return impl_->port;
}

}  // namespace vigil::api
