// The zone of a node from the Kubernetes API, against an HTTPS kube-apiserver stand-in that
// speaks the real protocol (bearer token, metav1.Status errors 401/403/404, a v1 Node object
// with its labels), with certificates made by openssl at test time. Then two in-process
// agents: the one without a zone tag gets its zone from the stand-in (after retries while the
// API answers 503), spreads it as a tag, and the peer metrics of both carry it.
#include <doctest/doctest.h>
#include <httplib.h>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "agent/agent.hpp"
#include "agent/kube_node.hpp"
#include "agent/kube_node_zone.hpp"
#include "agent/status_extension.hpp"
#include "test/checkers/real_support.hpp"
#include "test/checkers/subprocess.hpp"

using namespace vigil;
using namespace vigil::agent;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// kube-apiserver's GET /api/v1/nodes/{name}: 401 without the token, 403 when RBAC denies,
// 404 for an unknown node, 503 while `unavailable` > 0 (counted down per request).
struct NodesApiStandIn {
  explicit NodesApiStandIn(const test::TestPki& pki) : stub(pki.server_cert, pki.server_key) {
    stub.get(R"(/api/v1/nodes/([^/]+))", [this](const httplib::Request& req,
                                                httplib::Response& res) {
      ++requests;
      const std::string name = req.matches[1];
      auto status = [&](int code, const std::string& reason, const std::string& msg) {
        res.status = code;
        res.set_content(json{{"kind", "Status"},
                             {"apiVersion", "v1"},
                             {"metadata", json::object()},
                             {"status", "Failure"},
                             {"message", msg},
                             {"reason", reason},
                             {"details", {{"name", name}, {"kind", "nodes"}}},
                             {"code", code}}
                            .dump(),
                        "application/json");
      };
      if (req.get_header_value("Authorization") != "Bearer " + token)
        return status(401, "Unauthorized", "Unauthorized");
      if (forbidden)
        return status(403, "Forbidden",
                      "nodes \"" + name +
                          "\" is forbidden: User \"system:serviceaccount:kube-system:vigil\" "
                          "cannot get resource \"nodes\" in API group \"\" at the cluster scope");
      if (unavailable > 0) {
        --unavailable;
        res.status = 503;
        res.set_content("Service Unavailable", "text/plain");
        return;
      }
      auto it = zones.find(name);
      if (it == zones.end()) return status(404, "NotFound", "nodes \"" + name + "\" not found");
      json labels = {{"kubernetes.io/hostname", name},
                     {"kubernetes.io/os", "linux"},
                     {"node.kubernetes.io/instance-type", "m5.large"}};
      if (!it->second.empty()) labels["topology.kubernetes.io/zone"] = it->second;
      json node = {
          {"kind", "Node"},
          {"apiVersion", "v1"},
          {"metadata",
           {{"name", name},
            {"uid", "5f0e4c2a-8d7e-4f5e-9b1a-3c2d1e0f9a8b"},
            {"resourceVersion", "123456"},
            {"creationTimestamp", "2026-11-01T10:00:00Z"},
            {"labels", labels},
            {"annotations", {{"node.alpha.kubernetes.io/ttl", "0"}}}}},
          {"spec", {{"podCIDR", "10.244.1.0/24"}, {"providerID", "aws:///eu-1a/i-0abc"}}},
          {"status",
           {{"conditions",
             json::array({{{"type", "Ready"}, {"status", "True"}, {"reason", "KubeletReady"}}})},
            {"addresses", json::array({{{"type", "InternalIP"}, {"address", "10.0.0.11"}}})}}}};
      res.set_content(node.dump(), "application/json");
    });
  }
  test::HttpStub stub;
  std::string token = "sa-token-123";
  std::map<std::string, std::string> zones;  // node -> zone label ("" = no label)
  std::atomic<bool> forbidden{false};
  std::atomic<int> unavailable{0};
  std::atomic<int> requests{0};
};

// A stand-in with its PKI and a service-account directory (token, ca.crt).
struct Fixture {
  test::TempDir dir{"vigil-kube-node"};
  test::TestPki pki = test::make_test_pki(dir.path());
  std::unique_ptr<NodesApiStandIn> api;
  KubeApiOptions opt;
  Fixture() {
    REQUIRE_MESSAGE(pki.error.empty(), pki.error);
    api = std::make_unique<NodesApiStandIn>(pki);
    REQUIRE(api->stub.start());
    REQUIRE(test::write_file(dir / "token", api->token + "\n"));
    opt.url = api->stub.url("https");
    opt.token_file = dir / "token";
    opt.ca_file = pki.ca_cert;
    opt.timeout = 5000ms;
  }
};

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("kube node: the zone label of a Node object") {
  CHECK(zone_of_node_json(
            R"({"kind":"Node","metadata":{"labels":{"topology.kubernetes.io/zone":"eu-1a"}}})") ==
        "eu-1a");
  CHECK(
      zone_of_node_json(
          R"({"kind":"Node","metadata":{"labels":{"failure-domain.beta.kubernetes.io/zone":"old"}}})") ==
      "old");
  CHECK(zone_of_node_json(R"({"kind":"Node","metadata":{"labels":{}}})") == "");
  CHECK(zone_of_node_json(R"({"kind":"Node","metadata":{}})") == "");
  CHECK(zone_of_node_json(
            R"({"kind":"Node","metadata":{"labels":{"topology.kubernetes.io/zone":7}}})") == "");
  CHECK_FALSE(zone_of_node_json(R"({"kind":"Status","code":404})"));
  CHECK_FALSE(zone_of_node_json("not json"));
  CHECK_FALSE(zone_of_node_json("[]"));
}

TEST_CASE("kube node: GET /api/v1/nodes/<name> against the apiserver stand-in") {
  Fixture f;
  f.api->zones = {{"n1", "eu-1a"}, {"bare", ""}};

  NodeZone r = fetch_node_zone(f.opt, "n1");
  CHECK_MESSAGE(r.error.empty(), r.error);
  CHECK(r.zone == "eu-1a");
  CHECK(r.final);

  r = fetch_node_zone(f.opt, "bare");  // a Node without the label: no zone, no retry
  CHECK(r.error.empty());
  CHECK(r.zone.empty());
  CHECK(r.final);

  r = fetch_node_zone(f.opt, "ghost");
  CHECK(
      contains(r.error, "GET " + f.opt.url + "/api/v1/nodes/ghost: 404 nodes \"ghost\" not found"));
  CHECK(r.final);

  f.api->forbidden = true;
  r = fetch_node_zone(f.opt, "n1");
  CHECK(contains(r.error, ": 403 nodes \"n1\" is forbidden: User"));
  CHECK(contains(r.error, "(the ClusterRole needs get on nodes)"));
  CHECK(r.final);
  f.api->forbidden = false;

  REQUIRE(test::write_file(f.opt.token_file, "stale"));
  r = fetch_node_zone(f.opt, "n1");
  CHECK(contains(r.error, ": 401 Unauthorized"));
  CHECK_FALSE(r.final);  // projected tokens rotate: the next try may work
  REQUIRE(test::write_file(f.opt.token_file, f.api->token));

  f.api->unavailable = 1;
  r = fetch_node_zone(f.opt, "n1");
  CHECK(contains(r.error, ": 503 Service Unavailable"));
  CHECK_FALSE(r.final);
  CHECK(fetch_node_zone(f.opt, "n1").zone == "eu-1a");

  KubeApiOptions o = f.opt;
  o.token_file = f.dir / "missing";
  r = fetch_node_zone(o, "n1");
  CHECK(contains(r.error, "read service-account token " + o.token_file));

  test::TempDir other("vigil-kube-node-other");
  test::TestPki wrong = test::make_test_pki(other.path());
  REQUIRE(wrong.error.empty());
  o = f.opt;
  o.ca_file = wrong.ca_cert;
  r = fetch_node_zone(o, "n1");
  CHECK(contains(r.error, "certificate verify failed"));
  CHECK_FALSE(r.final);

  o = f.opt;
  o.url = "https://127.0.0.1:" + std::to_string(test::free_port());
  r = fetch_node_zone(o, "n1");
  CHECK(contains(r.error, "GET " + o.url + "/api/v1/nodes/n1: "));
  CHECK_FALSE(r.final);
}

TEST_CASE("kube node: in-cluster defaults from the service environment") {
  ::setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
  ::setenv("KUBERNETES_SERVICE_PORT", "6443", 1);
  auto o = KubeApiOptions::in_cluster();
  REQUIRE(o);
  CHECK(o->url == "https://10.96.0.1:6443");
  CHECK(o->token_file == "/var/run/secrets/kubernetes.io/serviceaccount/token");
  CHECK(o->ca_file == "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt");
  ::setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
  ::unsetenv("KUBERNETES_SERVICE_PORT");
  CHECK(KubeApiOptions::in_cluster()->url == "https://[fd00::1]:443");
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  CHECK_FALSE(KubeApiOptions::in_cluster());
  // Not in a pod, or a zone tag given: nothing to look up.
  Logger log(LogLevel::error);
  AgentConfig c;
  c.name = "n1";
  CHECK(make_kube_node_zone(c, log) == nullptr);
  KubeNodeZoneOptions zo;
  gossip::set_tag(c.tags, "zone", "given");
  CHECK(make_kube_node_zone(c, log, zo) == nullptr);
  c.tags.clear();
  CHECK(make_kube_node_zone(c, log, zo) != nullptr);
}

namespace {

// One in-process agent (StatusExtension + optional zone lookup) on 127.0.0.1.
struct Node {
  std::string dir;
  int http = test::free_port();
  int gossip = test::free_port();
  std::FILE* log_file = std::tmpfile();
  Logger log{LogLevel::info, LogFormat::text, log_file};
  std::unique_ptr<Agent> agent;
  std::thread runner;

  Node(const std::string& name, std::vector<std::string> tags, std::optional<int> join,
       std::optional<KubeNodeZoneOptions> kube) {
    dir = (std::filesystem::temp_directory_path() /
           ("vigil-kz-" + name + "-" + std::to_string(::getpid())))
              .string();
    std::filesystem::create_directories(dir);
    AgentFlags f;
    f.name = name;
    f.bind = "127.0.0.1:" + std::to_string(gossip);
    f.http = "127.0.0.1:" + std::to_string(http);
    f.profile = "local";
    f.data_dir = dir;
    if (!tags.empty()) f.tags = tags;
    if (join) f.join = std::vector<std::string>{"127.0.0.1:" + std::to_string(*join)};
    AgentConfig cfg = resolve_config(f);
    auto zone = make_kube_node_zone(cfg, log, kube);
    agent = std::make_unique<Agent>(cfg, log);
    agent->add_extension(std::make_unique<StatusExtension>(name, dir));
    if (zone) agent->add_extension(std::move(zone));
    runner = std::thread([this] { agent->run(); });
  }
  ~Node() {
    if (runner.joinable()) runner.join();
    agent.reset();
    std::fclose(log_file);
    std::filesystem::remove_all(dir);
  }
  std::string get(const std::string& path) const {
    httplib::Client c("127.0.0.1", http);
    c.set_read_timeout(5s);
    auto r = c.Get(path);
    return r && r->status == 200 ? r->body : std::string();
  }
  std::string log_text() const {
    std::fflush(log_file);
    std::rewind(log_file);
    std::string s;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, log_file)) > 0) s.append(buf, n);
    return s;
  }
};

bool eventually(const std::function<bool()>& f, std::chrono::seconds limit = 30s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (f()) return true;
    std::this_thread::sleep_for(100ms);
  }
  return f();
}

std::string zone_tag(const std::string& members_json, const std::string& name) {
  json j = json::parse(members_json, nullptr, false);
  if (!j.is_array()) return "?";
  for (const auto& m : j) {
    if (m.value("name", "") == name) return m["tags"].value("zone", "");
  }
  return "?";
}

}  // namespace

TEST_CASE("kube node zone: an agent without a zone tag takes its Node's, peers see it") {
  Fixture f;
  f.api->zones = {{"kz-a", "eu-1a"}};
  f.api->unavailable = 2;  // the API server is not there yet: the lookup retries
  KubeNodeZoneOptions zo;
  zo.api = f.opt;
  zo.min_backoff = 100ms;
  zo.max_backoff = 200ms;
  auto a = std::make_unique<Node>("kz-a", std::vector<std::string>{}, std::nullopt, zo);
  auto b = std::make_unique<Node>("kz-b", std::vector<std::string>{"zone=eu-1b"}, a->gossip, zo);
  struct StopAgents {  // destroyed first: SIGTERM ends both agents' loops (their signal_sets)
    ~StopAgents() { ::kill(::getpid(), SIGTERM); }
  } stop_agents;
  CHECK(eventually([&] { return zone_tag(a->get("/v1/members"), "kz-a") == "eu-1a"; }));
  CHECK(eventually([&] { return zone_tag(b->get("/v1/members"), "kz-a") == "eu-1a"; }));
  CHECK(f.api->requests == 3);  // two 503s, then the answer; b had a zone tag: no lookup
  // The peer metrics of both carry the zones.
  CHECK(eventually([&] {
    return contains(b->get("/metrics"),
                    R"(vigil_peer_packets_sent_total{source_node="kz-b",source_zone="eu-1b",)"
                    R"(destination_node="kz-a",destination_zone="eu-1a",protocol="gossip"})");
  }));
  CHECK(eventually([&] {
    return contains(a->get("/metrics"),
                    R"(vigil_zone_packets_sent_total{source_zone="eu-1a",destination_zone="eu-1b",)"
                    R"(protocol="gossip"})");
  }));
  CHECK(contains(a->log_text(), "zone lookup failed"));
  CHECK(contains(a->log_text(), "zone from the kubernetes node"));
}
