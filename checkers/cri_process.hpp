#pragma once
// The CRI client as seen by the agent: runs the `vigil-cri` helper (checkers/cri/) for one
// Version + Status exchange. gRPC stays in that helper's process, so an agent that never
// checks containerd pays nothing for it, and one that does pays a short-lived process per run.

#include <string>

#include "checkers/cri/cri_client.hpp"
#include "checkers/deadline.hpp"

namespace vigil::checkers::cri {

/// The helper binary: $VIGIL_CRI_HELPER if set, else `vigil-cri` next to the running executable.
std::string helper_path();

/// Same contract as query_status() (blocks until an answer or `deadline`, never throws), through
/// the helper process; a missing helper or a helper that dies is a failed result that says so.
StatusResult query_status_via_helper(const std::string& socket_path, Deadline deadline);

}  // namespace vigil::checkers::cri
