// vigil-cri: asks a CRI runtime socket for Version + Status and prints the result as one JSON
// object (checkers/cri/cri_result_json.hpp). The containerd checker runs it per check so the
// agent itself never loads gRPC/protobuf/abseil (about 8 MiB of resident memory).
//   vigil-cri SOCKET TIMEOUT_MS
// Exit 0 when a JSON answer was printed (including a failed one), 2 on bad arguments.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "checkers/cri/cri_result_json.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: vigil-cri SOCKET TIMEOUT_MS\n");
    return 2;
  }
  char* end = nullptr;
  long ms = std::strtol(argv[2], &end, 10);
  if (end == argv[2] || *end != '\0' || ms <= 0 || ms > 600000) {
    std::fprintf(stderr, "vigil-cri: TIMEOUT_MS must be 1..600000, got %s\n", argv[2]);
    return 2;
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  auto result = vigil::checkers::cri::query_status(argv[1], deadline);
  std::cout << vigil::checkers::cri::to_json(result).dump() << "\n";
  return 0;
}
