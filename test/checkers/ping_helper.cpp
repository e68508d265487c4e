// vigil_ping_helper: runs the ping checker inside whatever network namespace it is started in
// (`ip netns exec NS vigil_ping_helper ...`), one run per --rounds, one JSON line per run.
//   vigil_ping_helper --node n1 --peer n2=10.200.7.2 [--peer ...] [--rounds R]
//                     [--drop-privileges] --spec '{"type":"ping",...}'
#include <grp.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "checkers/ping.hpp"

using namespace vigil::checkers;

int main(int argc, char** argv) {
  std::string node = "self", spec_text = R"({"type":"ping"})";
  auto peers = std::make_shared<std::vector<PeerInfo>>();
  int rounds = 1;
  bool drop = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--node") {
      node = next();
    } else if (a == "--peer") {
      std::string p = next();
      auto eq = p.find('=');
      peers->push_back(PeerInfo{p.substr(0, eq), p.substr(eq + 1), "zone-a", {}});
    } else if (a == "--rounds") {
      rounds = std::atoi(next().c_str());
    } else if (a == "--spec") {
      spec_text = next();
    } else if (a == "--drop-privileges") {
      drop = true;
    } else {
      std::fprintf(stderr, "unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  if (drop && (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0)) {
    std::perror("drop privileges");
    return 2;
  }
  auto spec = parse_check_spec(std::string_view(spec_text));
  if (!spec.error.empty()) {
    std::fprintf(stderr, "%s\n", spec.error.c_str());
    return 2;
  }
  CheckerContext cc;
  cc.node_name = node;
  auto made = make_ping_checker(spec.spec, cc);
  if (!made.checker) {
    std::fprintf(stderr, "%s\n", made.error.c_str());
    return 2;
  }
  CheckContext ctx;
  ctx.node_name = node;
  ctx.peers = peers;
  for (int r = 0; r < rounds; ++r) {
    Probe p = made.checker->run(ctx, Deadline::in(spec.spec.timeout));
    nlohmann::json j = {{"status", to_string(p.status)},
                        {"severity", to_string(p.severity)},
                        {"error", p.error},
                        {"detail", p.detail}};
    j["peers"] = nlohmann::json::array();
    for (const auto& pr : p.peers)
      j["peers"].push_back({{"peer", pr.peer},
                            {"addr", pr.addr},
                            {"zone", pr.zone},
                            {"sent", pr.sent},
                            {"lost", pr.lost},
                            {"samples", pr.rtt_samples.size()},
                            {"rtt_ms", std::chrono::duration<double, std::milli>(pr.rtt).count()},
                            {"large_sent", pr.large_sent},
                            {"large_lost", pr.large_lost},
                            {"large_bytes", pr.large_bytes},
                            {"large_too_big", pr.large_too_big}});
    std::printf("%s\n", j.dump().c_str());
  }
  return 0;
}
