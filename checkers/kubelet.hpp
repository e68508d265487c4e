#pragma once
// kubelet: GET /healthz on the kubelet's healthz port (127.0.0.1:10248 by default); anything
// but 200 "ok" is critical.
//   {"type": "kubelet", "url": "http://127.0.0.1:10248/healthz"}

#include <string>

#include "checkers/registry.hpp"

namespace vigil::checkers {

struct KubeletConfig {
  /// The kubelet healthz URL. Default "http://127.0.0.1:10248/healthz" (kubelet's
  /// --healthz-bind-address / --healthz-port defaults).
  std::string url = "http://127.0.0.1:10248/healthz";
};

/// Factory of the `kubelet` type.
MakeResult make_kubelet_checker(const CheckSpec& spec, CheckerContext& ctx);

}  // namespace vigil::checkers
