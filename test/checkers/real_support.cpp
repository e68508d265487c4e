#include "test/checkers/real_support.hpp"

#include <httplib.h>

#include "checkers/run_once.hpp"
#include "test/checkers/subprocess.hpp"

namespace vigil::test {

TestPki make_test_pki(const std::string& dir) {
  TestPki p;
  p.ca_cert = dir + "/ca.crt";
  p.ca_key = dir + "/ca.key";
  p.server_cert = dir + "/server.crt";
  p.server_key = dir + "/server.key";
  p.client_cert = dir + "/client.crt";
  p.client_key = dir + "/client.key";
  std::string ext = dir + "/server.ext";
  write_file(ext,
             "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\n"
             "extendedKeyUsage=serverAuth,clientAuth\n");  // etcd's gateway dials itself with it
  std::string cext = dir + "/client.ext";
  write_file(cext, "extendedKeyUsage=clientAuth\n");
  auto ec = std::vector<std::string>{"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                                     "-nodes"};
  auto run = [&](std::vector<std::string> argv) {
    if (!p.error.empty()) return;
    auto r = run_cmd(argv, std::chrono::seconds(30));
    if (r.exit_code != 0) p.error = argv[1] + ": " + r.output;
  };
  auto req = [&](std::vector<std::string> tail) {
    std::vector<std::string> a = {"openssl", "req"};
    a.insert(a.end(), ec.begin(), ec.end());
    a.insert(a.end(), tail.begin(), tail.end());
    run(a);
  };
  req({"-x509", "-days", "2", "-subj", "/CN=vigil-test-ca", "-keyout", p.ca_key, "-out",
       p.ca_cert});
  req({"-subj", "/CN=kube-apiserver", "-keyout", p.server_key, "-out", dir + "/server.csr"});
  run({"openssl", "x509", "-req", "-in", dir + "/server.csr", "-CA", p.ca_cert, "-CAkey", p.ca_key,
       "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", p.server_cert});
  req({"-subj", "/CN=vigil-client", "-keyout", p.client_key, "-out", dir + "/client.csr"});
  run({"openssl", "x509", "-req", "-in", dir + "/client.csr", "-CA", p.ca_cert, "-CAkey", p.ca_key,
       "-CAcreateserial", "-days", "2", "-extfile", cext, "-out", p.client_cert});
  return p;
}

HttpStub::HttpStub(const std::string& cert, const std::string& key) {
  if (cert.empty())
    server_ = std::make_unique<httplib::Server>();
  else
    server_ = std::make_unique<httplib::SSLServer>(cert.c_str(), key.c_str());
  server_->new_task_queue = [] { return new httplib::ThreadPool(2); };
}

HttpStub::~HttpStub() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

void HttpStub::get(const std::string& path, Handler h) {
  server_->Get(path, std::move(h));
}
void HttpStub::post(const std::string& path, Handler h) {
  server_->Post(path, std::move(h));
}

bool HttpStub::start() {
  port_ = server_->bind_to_any_port("127.0.0.1");
  if (port_ <= 0) return false;
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return wait_until([this] { return server_->is_running(); }, std::chrono::seconds(10));
}

std::string HttpStub::url(const std::string& scheme) const {
  return scheme + "://127.0.0.1:" + std::to_string(port_);
}

checkers::Probe run_checker_json(const std::string& json_spec, const std::string& host_root) {
  auto parsed = checkers::parse_check_specs("[" + json_spec + "]");
  if (!parsed.error.empty())
    return checkers::Probe::fail(checkers::Severity::critical, "CONFIG: " + parsed.error);
  checkers::CheckerRegistry reg;
  checkers::register_builtin_checkers(reg);
  checkers::CheckerContext ctx;
  ctx.host_root = host_root;
  auto r = checkers::run_checkers_once(parsed.specs, reg, ctx);
  if (!r.error.empty() || r.probes.size() != 1)
    return checkers::Probe::fail(checkers::Severity::critical, "CONFIG: " + r.error);
  return r.probes[0];
}

}  // namespace vigil::test
