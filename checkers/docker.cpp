#include "checkers/docker.hpp"

#include <nlohmann/json.hpp>

#include "checkers/spec_reader.hpp"
#include "checkers/unix_http.hpp"

namespace vigil::checkers {
namespace {

std::string trimmed(std::string s, std::size_t max = 300) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  if (s.size() > max) s = s.substr(0, max) + "...";
  return s;
}

// "GET /_ping on unix:///var/run/docker.sock: connect: No such file or directory (...)"
std::string request_error(const std::string& socket, const std::string& target,
                          const UnixHttpResponse& r) {
  std::string out = "GET " + target + " on unix://" + socket + ": ";
  if (!r.ok) {
    out += r.error;
    if (r.error.find("No such file") != std::string::npos ||
        r.error.find("Connection refused") != std::string::npos)
      out += " (is dockerd running? set `socket` if it listens elsewhere)";
    else if (r.error.find("Permission denied") != std::string::npos)
      out += " (the agent needs read-write access to the socket: root or the docker group)";
    return out;
  }
  return out + std::to_string(r.status) + " " + trimmed(r.body);
}

std::int64_t int_field(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return (it != j.end() && it->is_number_integer()) ? it->get<std::int64_t>() : 0;
}

std::string str_field(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return (it != j.end() && it->is_string()) ? it->get<std::string>() : std::string();
}

}  // namespace

DockerChecker::DockerChecker(std::string name, DockerConfig config)
    : Checker("docker", std::move(name)), config_(std::move(config)) {}

Probe DockerChecker::run(const CheckContext& /*ctx*/, Deadline deadline) {
  const std::string& sock = config_.socket;
  auto ping = unix_http_get(sock, "/_ping", deadline, 4096);
  if (!ping.ok || ping.status != 200)
    return Probe::fail(Severity::critical, request_error(sock, "/_ping", ping));

  auto info = unix_http_get(sock, "/info", deadline);
  if (!info.ok || info.status != 200)
    return Probe::fail(Severity::critical, request_error(sock, "/info", info));
  auto j = nlohmann::json::parse(info.body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object())
    return Probe::fail(Severity::critical, "GET /info on unix://" + sock +
                                               ": not a JSON object: " + trimmed(info.body));
  std::string detail = "Docker " + str_field(j, "ServerVersion") + ": " +
                       std::to_string(int_field(j, "ContainersRunning")) + " running, " +
                       std::to_string(int_field(j, "ContainersPaused")) + " paused, " +
                       std::to_string(int_field(j, "ContainersStopped")) +
                       " stopped containers; storage driver " + str_field(j, "Driver");
  if (!config_.check_health) return Probe::ok(detail);

  const std::string target =
      "/containers/json?filters=" + url_encode(R"({"health":["unhealthy"]})");
  auto list = unix_http_get(sock, target, deadline);
  if (!list.ok || list.status != 200)
    return Probe::fail(Severity::critical, request_error(sock, target, list), detail);
  auto arr = nlohmann::json::parse(list.body, nullptr, false);
  if (!arr.is_array())
    return Probe::fail(Severity::critical, "GET " + target + ": not a JSON array", detail);
  if (arr.empty()) return Probe::ok(detail + "; no unhealthy containers");

  std::string names;
  for (const auto& c : arr) {
    std::string n;
    if (auto it = c.find("Names");
        it != c.end() && it->is_array() && !it->empty() && (*it)[0].is_string())
      n = (*it)[0].get<std::string>();
    if (!n.empty() && n[0] == '/') n.erase(0, 1);
    if (n.empty()) n = str_field(c, "Id").substr(0, 12);
    names += (names.empty() ? "" : ", ") + n;
  }
  return Probe::fail(Severity::warning,
                     std::to_string(arr.size()) + " unhealthy container" +
                         (arr.size() == 1 ? "" : "s") + ": " + names,
                     detail);
}

MakeResult make_docker_checker(const CheckSpec& spec, CheckerContext& ctx) {
  SpecReader r(spec);
  DockerConfig c;
  c.socket = r.str("socket", ctx.host_root + c.socket);
  c.check_health = r.boolean("check_health", c.check_health);
  if (c.socket.empty()) r.error("socket", "must not be empty");
  if (auto err = r.finish(); !err.empty()) return MakeResult::fail(err);
  return MakeResult::ok(std::make_unique<DockerChecker>(spec.name, std::move(c)));
}

}  // namespace vigil::checkers
