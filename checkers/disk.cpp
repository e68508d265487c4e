#include "checkers/disk.hpp"

#include <sys/statvfs.h>

#include <cerrno>
#include <cmath>
#include <cstring>

#include "checkers/spec_reader.hpp"

namespace vigil::checkers {

DiskUsage disk_usage(const std::string& path) {
  DiskUsage u;
  struct statvfs st {};
  if (::statvfs(path.c_str(), &st) != 0) {
    u.error = "statvfs " + path + ": " + std::strerror(errno);
    return u;
  }
  double used = static_cast<double>(st.f_blocks - st.f_bfree);
  double avail = static_cast<double>(st.f_bavail);
  u.used_pct = used + avail > 0 ? 100.0 * used / (used + avail) : 0;
  if (st.f_files > 0) {
    u.has_inodes = true;
    double iused = static_cast<double>(st.f_files - st.f_ffree);
    u.inodes_used_pct = 100.0 * iused / static_cast<double>(st.f_files);
  }
  return u;
}

namespace {

std::string pct(double v) {
  return std::to_string(static_cast<int>(std::ceil(v))) + "%";
}

class DiskChecker final : public Checker {
 public:
  DiskChecker(const CheckSpec& spec, DiskConfig cfg)
      : Checker(spec.type, spec.name), cfg_(std::move(cfg)) {}

  // Checker
  // statvfs has no timeout: on a hung network mount the run overruns and the Scheduler
  // reports the timeout (it never starts a second run while this one is stuck).
  Probe run(const CheckContext&, Deadline) override {
    std::string details, crit, warn;
    auto add = [](std::string& s, const std::string& v) { s += (s.empty() ? "" : "; ") + v; };
    for (const auto& path : cfg_.paths) {
      DiskUsage u = disk_usage(path);
      if (!u.error.empty()) {
        add(crit, u.error);
        continue;
      }
      std::string line = path + ": " + pct(u.used_pct) + " used (warn " + pct(cfg_.warning) +
                         ", crit " + pct(cfg_.critical) + ")";
      if (u.has_inodes) line += ", inodes " + pct(u.inodes_used_pct) + " used";
      add(details, line);
      if (u.used_pct >= cfg_.critical)
        add(crit, path + ": " + pct(u.used_pct) + " used (crit " + pct(cfg_.critical) + ")");
      else if (u.used_pct >= cfg_.warning)
        add(warn, path + ": " + pct(u.used_pct) + " used (warn " + pct(cfg_.warning) + ")");
      if (u.has_inodes && u.inodes_used_pct >= cfg_.inodes_critical)
        add(crit, path + ": inodes " + pct(u.inodes_used_pct) + " used (crit " +
                      pct(cfg_.inodes_critical) + ")");
      else if (u.has_inodes && u.inodes_used_pct >= cfg_.inodes_warning)
        add(warn, path + ": inodes " + pct(u.inodes_used_pct) + " used (warn " +
                      pct(cfg_.inodes_warning) + ")");
    }
    if (!crit.empty()) {
      if (!warn.empty()) add(crit, warn);
      return Probe::fail(Severity::critical, crit, details);
    }
    if (!warn.empty()) return Probe::fail(Severity::warning, warn, details);
    return Probe::ok(details);
  }

 private:
  DiskConfig cfg_;
};

}  // namespace

MakeResult make_disk_checker(const CheckSpec& spec, CheckerContext&) {
  SpecReader r(spec);
  DiskConfig cfg;
  cfg.paths = r.strings("paths", cfg.paths);
  cfg.warning = r.number("warning", cfg.warning, 0, 100);
  cfg.critical = r.number("critical", cfg.critical, 0, 100);
  cfg.inodes_warning = r.number("inodes_warning", cfg.inodes_warning, 0, 100);
  cfg.inodes_critical = r.number("inodes_critical", cfg.inodes_critical, 0, 100);
  if (cfg.paths.empty()) r.error("paths", "must not be empty");
  if (cfg.warning > cfg.critical) r.error("warning", "must be <= critical");
  if (cfg.inodes_warning > cfg.inodes_critical)
    r.error("inodes_warning", "must be <= inodes_critical");
  if (auto e = r.finish(); !e.empty()) return MakeResult::fail(e);
  return MakeResult::ok(std::make_unique<DiskChecker>(spec, std::move(cfg)));
}

}  // namespace vigil::checkers
