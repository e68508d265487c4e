#include "checkers/cri/cri_client.hpp"

#include <grpcpp/grpcpp.h>

#include "checkers/cri/runtime_v1.grpc.pb.h"

namespace vigil::checkers::cri {
namespace {

const char* code_name(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "UNKNOWN_CODE";
  }
}

std::string describe(const char* rpc, const grpc::Status& s) {
  std::string out = std::string(rpc) + ": " + code_name(s.error_code());
  if (!s.error_message().empty()) out += ": " + s.error_message();
  if (s.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
    out +=
        " (the runtime does not serve CRI runtime.v1; containerd >= 1.6 with the cri plugin does)";
  }
  return out;
}

// gRPC deadlines are wall-clock; map the monotonic deadline through the time left.
void set_deadline(grpc::ClientContext& ctx, std::chrono::steady_clock::time_point deadline) {
  auto left = deadline - std::chrono::steady_clock::now();
  if (left < std::chrono::steady_clock::duration::zero()) left = {};
  ctx.set_deadline(std::chrono::system_clock::now() +
                   std::chrono::duration_cast<std::chrono::system_clock::duration>(left));
}

}  // namespace

StatusResult query_status(const std::string& socket_path,
                          std::chrono::steady_clock::time_point deadline) {
  StatusResult result;
  // "unix:" + absolute path gives "unix:/run/...", the form gRPC documents for absolute paths.
  auto channel = grpc::CreateChannel("unix:" + socket_path, grpc::InsecureChannelCredentials());
  auto stub = runtime::v1::RuntimeService::NewStub(channel);

  {
    grpc::ClientContext ctx;
    set_deadline(ctx, deadline);
    runtime::v1::VersionRequest req;
    req.set_version("v1");
    runtime::v1::VersionResponse resp;
    grpc::Status s = stub->Version(&ctx, req, &resp);
    if (!s.ok()) {
      result.error = describe("Version", s);
      return result;
    }
    result.runtime_name = resp.runtime_name();
    result.runtime_version = resp.runtime_version();
  }
  {
    grpc::ClientContext ctx;
    set_deadline(ctx, deadline);
    runtime::v1::StatusRequest req;
    runtime::v1::StatusResponse resp;
    grpc::Status s = stub->Status(&ctx, req, &resp);
    if (!s.ok()) {
      result.error = describe("Status", s);
      return result;
    }
    for (const auto& c : resp.status().conditions()) {
      result.conditions.push_back(Condition{c.type(), c.status(), c.reason(), c.message()});
    }
  }
  result.ok = true;
  return result;
}

}  // namespace vigil::checkers::cri
