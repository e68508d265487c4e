#pragma once
// systemd: the state of listed units and the number of failed units, through sd-bus on the
// system bus (sd_bus_open_system honours DBUS_SYSTEM_BUS_ADDRESS). Unit object paths come from
// Manager.GetUnit (or Manager.LoadUnit when the unit is not loaded), never built by hand.
//   - a listed unit whose ActiveState is not in `ok_states` -> critical, naming unit and state
//     (the common `severity` key turns it into a warning);
//   - more than `max_failed_units` units in state failed (Manager.ListUnitsFiltered, falling
//     back to ListUnits) -> warning naming them.
//
// Config (CheckSpec keys besides the common ones):
//   units             unit names to watch, e.g. ["kubelet.service", "containerd.service"].
//                     Default [] (only the failed-unit count).
//   ok_states         ActiveStates that count as healthy. Default ["active", "reloading"].
//   count_failed      report failed units at all. Default true.
//   max_failed_units  failed units tolerated before the warning. Default 0.
//   bus               D-Bus address to use instead of the system bus (e.g.
//                     "unix:path=/run/dbus/system_bus_socket"). Default "" = the system bus.

#include <string>
#include <vector>

#include "checkers/checker.hpp"
#include "checkers/registry.hpp"

namespace vigil::checkers {

struct SystemdConfig {
  std::vector<std::string> units;                                ///< units to watch
  std::vector<std::string> ok_states = {"active", "reloading"};  ///< healthy ActiveStates
  bool count_failed = true;                                      ///< warn about failed units
  int max_failed_units = 0;                                      ///< tolerated failed units
  std::string bus;                                               ///< "" = system bus
};

class SystemdChecker final : public Checker {
 public:
  SystemdChecker(std::string name, SystemdConfig config);

  // Checker
  Probe run(const CheckContext& ctx, Deadline deadline) override;

 private:
  SystemdConfig config_;
};

/// Factory for the registry (type "systemd").
MakeResult make_systemd_checker(const CheckSpec& spec, CheckerContext& ctx);

}  // namespace vigil::checkers
