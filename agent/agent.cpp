#include "agent/agent.hpp"

#include <algorithm>
#include <asio.hpp>
#include <future>
#include <random>

#include "agent/duration.hpp"
#include "agent/keyring_watch.hpp"
#include "api/http_server.hpp"
#include "api/members_routes.hpp"
#include "api/metrics_text.hpp"
#include "api/query_params.hpp"
#include "gossip/membership.hpp"
#include "gossip/udp/address.hpp"
#include "gossip/udp/node.hpp"

namespace vigil::agent {
namespace {

// Runs `f` on the loop thread and waits (bounded) for its result. Called from HTTP threads.
template <class F>
auto query_loop(asio::io_context& io, F f, std::chrono::milliseconds timeout)
    -> std::optional<decltype(f())> {
  using R = decltype(f());
  auto promise = std::make_shared<std::promise<R>>();
  auto future = promise->get_future();
  asio::post(io, [promise, f = std::move(f)]() mutable { promise->set_value(f()); });
  if (future.wait_for(timeout) != std::future_status::ready) return std::nullopt;
  return future.get();
}

api::HttpServer::Options http_options(const AgentConfig& cfg) {
  api::HttpServer::Options o;
  o.bearer_token = cfg.http_token;
  o.tls_cert_file = cfg.http_tls_cert;
  o.tls_key_file = cfg.http_tls_key;
  return o;
}

}  // namespace

struct Agent::Impl {
  Impl(AgentConfig c, Logger& l, AgentOptions o)
      : cfg(std::move(c)), log(l), opts(o), signals(io, SIGINT, SIGTERM), hup(io, SIGHUP) {}

  AgentConfig cfg;
  Logger& log;
  AgentOptions opts;
  asio::io_context io;
  asio::signal_set signals;
  asio::signal_set hup;  // SIGHUP: re-read the keyring now
  // Destroyed in reverse: the HTTP server (whose handlers read the cell and extensions)
  // first, then the node (which holds an extension's delegate), then the extensions.
  std::vector<std::unique_ptr<AgentExtension>> extensions;
  std::unique_ptr<gossip::udp::Node> node;
  std::unique_ptr<AgentContext> ctx;
  // Read by HTTP handlers: declared before `http`, so it outlives the server's threads.
  api::SnapshotCell<api::MembersSnapshot> members_cell;
  api::HttpServer http{http_options(cfg)};
  bool leaving = false;
  // Keyring rotation (when a keyring file is configured). Stopped before `io` goes away.
  std::unique_ptr<KeyringWatch> keyring_watch;
  std::uint64_t keyring_reloads = 0, keyring_rejects = 0;  // loop thread only

  // Loop thread only: a keyring file's new content, read by keyring_watch.
  void on_keyring(KeyringWatch::Outcome out) {
    if (!out.keyring) {
      ++keyring_rejects;
      log.warn("keyring reload rejected: keeping the keys in use", {{"error", out.error}});
      return;
    }
    const gossip::udp::Keyring* cur = node->keyring();
    if (cur && cur->keys() == out.keyring->keys()) {
      if (out.forced) log.info("keyring unchanged", {{"path", cfg.keyring_path}});
      return;
    }
    const std::string keys = std::to_string(out.keyring->keys().size());
    const std::string primary = gossip::udp::key_id(out.keyring->primary());
    // Rotation order is add, switch, remove: a primary the old ring did not hold is likely a
    // skipped step, and peers that do not have the key yet cannot read this node.
    const bool new_primary = cur && std::find(cur->keys().begin(), cur->keys().end(),
                                              out.keyring->primary()) == cur->keys().end();
    if (!node->set_keyring(std::move(*out.keyring))) {
      ++keyring_rejects;
      log.warn("keyring reload ignored: the agent started without encryption (restart it)");
      return;
    }
    ++keyring_reloads;
    log.info("keyring reloaded", {{"keys", keys}, {"primary", primary}});
    if (new_primary) {
      log.warn(
          "the new primary key was not in the previous keyring: peers without it cannot "
          "read this node until they have it (rotate by adding the key everywhere first)",
          {{"primary", primary}});
    }
  }

  void write_keyring_metrics(api::MetricsText& out) const {
    const gossip::udp::Keyring* k = node->keyring();
    out.family("vigil_keyring_keys", "gauge", "Keys in the gossip keyring (0: plaintext gossip).");
    out.sample("vigil_keyring_keys", {}, static_cast<std::uint64_t>(k ? k->keys().size() : 0));
    if (k) {
      out.family("vigil_keyring_primary_info", "gauge",
                 "The primary gossip key's id (first 8 hex digits of its SHA-256), always 1.");
      const std::string id = gossip::udp::key_id(k->primary());
      out.sample("vigil_keyring_primary_info", {{"key_id", id}}, std::uint64_t{1});
    }
    out.family("vigil_keyring_reloads_total", "counter",
               "Keyring file contents read at run time, by result (applied or rejected).");
    out.sample("vigil_keyring_reloads_total", {{"result", "applied"}}, keyring_reloads);
    out.sample("vigil_keyring_reloads_total", {{"result", "rejected"}}, keyring_rejects);
  }

  void wait_hup() {
    hup.async_wait([this](std::error_code ec, int) {
      if (ec) return;
      if (keyring_watch) {
        log.info("SIGHUP: re-reading the keyring", {{"path", cfg.keyring_path}});
        keyring_watch->reload_now();
      } else {
        log.info("SIGHUP: nothing to reload (no keyring file)");
      }
      wait_hup();
    });
  }

  // Loop thread only.
  void publish() {
    auto snap = std::make_shared<api::MembersSnapshot>();
    const auto& m = node->membership();
    snap->self = cfg.name;
    for (const gossip::Member& mem : m.members()) {
      snap->members.push_back({mem.name, mem.addr, std::string(gossip::to_string(mem.state)),
                               mem.incarnation, mem.tags});
    }
    std::sort(snap->members.begin(), snap->members.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
    snap->ready = node->joined() || cfg.join.empty();
    snap->leaving = leaving;
    members_cell.publish(std::move(snap));
    for (auto& e : extensions) e->on_publish();
  }

  // Loop thread only.
  api::GossipMetrics gossip_metrics() const {
    api::GossipMetrics g;
    const auto& m = node->membership();
    const gossip::Stats& s = m.stats();
    for (std::size_t i = 0; i < gossip::kMsgTypeCount; ++i) {
      const std::string type(gossip::to_string(static_cast<gossip::MsgType>(i)));
      g.messages_in.emplace_back(type, s.msgs_in[i]);
      g.messages_out.emplace_back(type, s.msgs_out[i]);
    }
    const auto& t = node->transport_stats();
    g.bytes_in = t.udp_bytes_in + t.tcp_bytes_in;
    g.bytes_out = t.udp_bytes_out + t.tcp_bytes_out;
    std::uint64_t by_state[4] = {};
    for (const gossip::Member& mem : m.members()) ++by_state[static_cast<int>(mem.state)];
    for (int i = 0; i < 4; ++i) {
      g.members_by_status.emplace_back(
          std::string(gossip::to_string(static_cast<gossip::MemberState>(i))), by_state[i]);
    }
    g.health_awareness = m.health_score();
    g.suspicions = s.suspicions;
    g.decode_errors = s.decode_errors + t.oversize;
    g.decrypt_errors = t.decrypt_errors;
    return g;
  }

  void on_events(const std::vector<gossip::Event>& events) {
    for (const gossip::Event& e : events) {
      if (e.member.name == cfg.name) continue;  // our own refutations are not news
      log.info("member " + std::string(gossip::to_string(e.kind)),
               {{"node", e.member.name},
                {"addr", e.member.addr},
                {"status", std::string(gossip::to_string(e.member.state))},
                {"incarnation", std::to_string(e.member.incarnation)}});
    }
    for (auto& x : extensions) x->on_events(events);
    publish();
  }

  void register_routes() {
    api::add_members_routes(http, members_cell);
    http.get("/metrics", [this](const api::HttpRequest& req) {
      if (auto bad = api::reject_query_params(req.params); !bad.empty()) {
        return api::HttpResponse::error(400, bad);
      }
      // The whole exposition is written on the loop thread, which owns every counter.
      auto text = query_loop(
          io,
          [this] {
            api::MetricsText out;
            api::write_gossip_metrics(out, gossip_metrics());
            write_keyring_metrics(out);
            for (auto& e : extensions) e->write_metrics(out);
            return out.take();
          },
          opts.loop_query_timeout);
      if (!text) return api::HttpResponse::error(503, "agent loop busy or shutting down");
      return api::HttpResponse::text(std::move(*text), api::kMetricsContentType);
    });
  }

  void wait_signal() {
    signals.async_wait([this](std::error_code ec, int signo) {
      if (ec) return;
      if (leaving) {
        log.warn("second signal: exiting without waiting", {{"signal", std::to_string(signo)}});
        io.stop();
        return;
      }
      leaving = true;
      log.info("shutting down: leaving the mesh", {{"signal", std::to_string(signo)}});
      for (auto& e : extensions) e->stop();
      publish();
      node->leave(opts.leave_timeout, [this] {
        node->stop();
        signals.cancel();
        hup.cancel();
        io.stop();
      });
      wait_signal();
    });
  }
};

Agent::Agent(AgentConfig config, Logger& log, AgentOptions options)
    : impl_(std::make_unique<Impl>(std::move(config), log, options)) {}

Agent::~Agent() = default;

void Agent::add_extension(std::unique_ptr<AgentExtension> ext) {
  impl_->extensions.push_back(std::move(ext));
}

int Agent::run() {
  Impl& d = *impl_;
  gossip::udp::NodeOptions no;
  no.bind = d.cfg.bind;
  no.advertise = d.cfg.advertise;
  no.keyring = d.cfg.keyring;
  no.seed = std::random_device{}();
  for (auto& e : d.extensions) {
    if (gossip::Delegate* del = e->delegate()) {
      if (no.delegate) throw std::runtime_error("two agent extensions provide a gossip delegate");
      no.delegate = del;
    }
  }
  gossip::LocalNode self{d.cfg.name, "", d.cfg.tags, 0};
  d.node = std::make_unique<gossip::udp::Node>(d.io, d.cfg.gossip, self, no, d.log.as_log_fn());
  d.node->set_event_handler([&d](const std::vector<gossip::Event>& ev) { d.on_events(ev); });
  d.node->start();  // throws on bind failure

  auto hp = gossip::udp::split_host_port(d.cfg.http, 7947);
  d.register_routes();
  for (auto& e : d.extensions) e->register_routes(d.http);
  const int http_port = d.http.bind(hp->host, hp->port);  // throws on bind failure
  d.ctx = std::make_unique<AgentContext>(
      AgentContext{d.io, *d.node, d.cfg, d.log, [&d] { d.publish(); }});
  for (auto& e : d.extensions) e->start(*d.ctx);
  d.publish();
  d.http.start();
  if (!d.cfg.keyring_path.empty()) {
    d.keyring_watch = std::make_unique<KeyringWatch>(
        d.io, d.cfg.keyring_path, d.cfg.keyring_poll_interval,
        [&d](KeyringWatch::Outcome out) { d.on_keyring(std::move(out)); });
    d.keyring_watch->start();
  }
  d.log.info(
      "agent started",
      {{"name", d.cfg.name},
       {"gossip", d.node->advertise_address()},
       {"http", gossip::udp::join_host_port(hp->host, static_cast<std::uint16_t>(http_port))},
       {"http_tls", d.cfg.http_tls_cert.empty() ? "off" : "on"},
       {"http_auth", d.cfg.http_token.empty() ? "none" : "bearer"},
       {"profile", d.cfg.profile},
       {"history_retention", format_duration(d.cfg.history_retention)}});
  if (!d.cfg.join.empty()) d.node->join(d.cfg.join);
  d.wait_signal();
  d.wait_hup();
  d.io.run();
  if (d.keyring_watch) d.keyring_watch->stop();
  d.http.stop();
  d.node->stop();
  d.log.info("agent stopped");
  return 0;
}

}  // namespace vigil::agent
