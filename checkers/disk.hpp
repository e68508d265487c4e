#pragma once
// disk: used space and used inodes of each path's filesystem (statvfs), against warning and
// critical watermarks. Used % counts like df: used / (used + available to unprivileged users).
//   {"type": "disk", "paths": ["/", "/var"], "warning": 80, "critical": 90}
// Detail: "/var: 84% used (warn 80%, crit 90%), inodes 3% used".

#include <string>
#include <vector>

#include "checkers/registry.hpp"

namespace vigil::checkers {

struct DiskConfig {
  /// Paths whose filesystems are checked. Default ["/"]. A missing path is critical.
  std::vector<std::string> paths = {"/"};
  /// Space used (%) at or above which the probe is a warning failure. Default 80.
  double warning = 80;
  /// Space used (%) at or above which the probe is a critical failure. Default 90.
  double critical = 90;
  /// Inodes used (%) for a warning failure. Default 80. Filesystems without inode
  /// accounting (btrfs, some overlays report 0 inodes) are skipped.
  double inodes_warning = 80;
  /// Inodes used (%) for a critical failure. Default 90.
  double inodes_critical = 90;
};

/// One filesystem's usage (exposed for tests).
struct DiskUsage {
  double used_pct = 0;
  double inodes_used_pct = 0;
  bool has_inodes = false;
  std::string error;  ///< statvfs failure, empty on success
};

/// statvfs(path) turned into percentages.
DiskUsage disk_usage(const std::string& path);

/// Factory of the `disk` type.
MakeResult make_disk_checker(const CheckSpec& spec, CheckerContext& ctx);

}  // namespace vigil::checkers
