#include "checkers/systemd.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "checkers/sd_bus_lib.hpp"
#include "checkers/spec_reader.hpp"

namespace vigil::checkers {
namespace {

constexpr const char* kDest = "org.freedesktop.systemd1";
constexpr const char* kPath = "/org/freedesktop/systemd1";
constexpr const char* kManager = "org.freedesktop.systemd1.Manager";
constexpr const char* kUnit = "org.freedesktop.systemd1.Unit";

// RAII holders for sd-bus objects.
// Every call goes through the dlopen'ed library; run() checks it loaded before anything else.
const SdBusLib* lib() {
  std::string ignored;
  return sd_bus_lib(ignored);
}

struct Bus {
  sd_bus* p = nullptr;
  ~Bus() {
    if (p) lib()->flush_close_unref(p);
  }
};
struct Msg {
  sd_bus_message* p = nullptr;
  ~Msg() {
    if (p) lib()->message_unref(p);
  }
};
struct Err {
  sd_bus_error e = SD_BUS_ERROR_NULL;
  ~Err() { lib()->error_free(&e); }
  std::string text(int r) const {
    if (lib()->error_is_set(&e))
      return std::string(e.name) + (e.message ? std::string(": ") + e.message : "");
    return std::strerror(-r);
  }
};

std::string bus_address(const std::string& configured) {
  if (!configured.empty()) return configured;
  const char* env = std::getenv("DBUS_SYSTEM_BUS_ADDRESS");
  return env ? env : "unix:path=/run/dbus/system_bus_socket";
}

// Applies what is left of the deadline to the next method call (sd-bus wants microseconds).
void arm(sd_bus* bus, Deadline deadline) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(deadline.remaining()).count();
  lib()->set_method_call_timeout(bus, static_cast<std::uint64_t>(std::max<long long>(us, 1)));
}

// The unit's object path through GetUnit (loaded units) or LoadUnit; "" plus `error` otherwise.
std::string unit_path(sd_bus* bus, const std::string& unit, Deadline deadline, std::string& error) {
  for (const char* method : {"GetUnit", "LoadUnit"}) {
    Err err;
    Msg reply;
    arm(bus, deadline);
    int r = lib()->call_method(bus, kDest, kPath, kManager, method, &err.e, &reply.p, "s",
                               unit.c_str());
    if (r >= 0) {
      const char* path = nullptr;
      if (lib()->message_read(reply.p, "o", &path) >= 0 && path) return path;
      error = std::string(method) + ": unexpected reply";
      return {};
    }
    error = std::string(method) + "(" + unit + "): " + err.text(r);
    // Only "not loaded" deserves a LoadUnit; anything else (timeout, no systemd) is final.
    if (!lib()->error_has_name(&err.e, "org.freedesktop.systemd1.NoSuchUnit")) return {};
  }
  return {};
}

std::string unit_property(sd_bus* bus, const std::string& path, const char* name, Deadline deadline,
                          std::string* error) {
  Err err;
  char* value = nullptr;
  arm(bus, deadline);
  int r = lib()->get_property_string(bus, kDest, path.c_str(), kUnit, name, &err.e, &value);
  if (r < 0) {
    if (error) *error = std::string("Get ") + name + ": " + err.text(r);
    return {};
  }
  std::string out = value ? value : "";
  std::free(value);
  return out;
}

// Names of units in state failed. Returns false (and sets error) when the manager won't say.
bool failed_units(sd_bus* bus, Deadline deadline, std::vector<std::string>& out,
                  std::string& error) {
  Err err;
  Msg reply;
  arm(bus, deadline);
  int r = lib()->call_method(bus, kDest, kPath, kManager, "ListUnitsFiltered", &err.e, &reply.p,
                             "as", 1, "failed");
  bool filtered = r >= 0;
  if (!filtered) {
    if (!lib()->error_has_name(&err.e, SD_BUS_ERROR_UNKNOWN_METHOD)) {
      error = "ListUnitsFiltered: " + err.text(r);
      return false;
    }
    Err err2;
    arm(bus, deadline);
    r = lib()->call_method(bus, kDest, kPath, kManager, "ListUnits", &err2.e, &reply.p, "");
    if (r < 0) {
      error = "ListUnits: " + err2.text(r);
      return false;
    }
  }
  r = lib()->message_enter_container(reply.p, 'a', "(ssssssouso)");
  if (r < 0) {
    error = "ListUnits: unexpected reply";
    return false;
  }
  for (;;) {
    const char *id, *desc, *load, *active, *sub, *follow, *path, *jtype, *jpath;
    std::uint32_t jid;
    r = lib()->message_read(reply.p, "(ssssssouso)", &id, &desc, &load, &active, &sub, &follow,
                            &path, &jid, &jtype, &jpath);
    if (r < 0) {
      error = "ListUnits: malformed reply";
      return false;
    }
    if (r == 0) break;
    if (std::strcmp(active, "failed") == 0) out.emplace_back(id);
  }
  return true;
}

}  // namespace

SystemdChecker::SystemdChecker(std::string name, SystemdConfig config)
    : Checker("systemd", std::move(name)), config_(std::move(config)) {}

Probe SystemdChecker::run(const CheckContext& /*ctx*/, Deadline deadline) {
  std::string load_error;
  if (!sd_bus_lib(load_error)) return Probe::fail(Severity::critical, load_error);
  Bus bus;
  int r = 0;
  if (config_.bus.empty()) {
    r = lib()->open_system(&bus.p);
  } else if ((r = lib()->new_bus(&bus.p)) >= 0) {
    lib()->set_address(bus.p, config_.bus.c_str());
    lib()->set_bus_client(bus.p, 1);
    r = lib()->start(bus.p);
  }
  if (r < 0)
    return Probe::fail(Severity::critical, "cannot connect to the system bus (" +
                                               bus_address(config_.bus) +
                                               "): " + std::strerror(-r));

  std::string bad, detail;
  for (const auto& unit : config_.units) {
    std::string error;
    std::string path = unit_path(bus.p, unit, deadline, error);
    std::string active, sub, load;
    if (!path.empty()) {
      active = unit_property(bus.p, path, "ActiveState", deadline, &error);
      sub = unit_property(bus.p, path, "SubState", deadline, nullptr);    // optional
      load = unit_property(bus.p, path, "LoadState", deadline, nullptr);  // optional
    }
    if (active.empty()) {
      bad += (bad.empty() ? "" : "; ") + unit + ": " + error;
      continue;
    }
    std::string state = active + (sub.empty() ? "" : "/" + sub);
    if (load == "not-found") state += " (unit not found)";
    detail += (detail.empty() ? "" : ", ") + unit + " " + state;
    if (std::find(config_.ok_states.begin(), config_.ok_states.end(), active) ==
        config_.ok_states.end())
      bad += (bad.empty() ? "" : "; ") + unit + " is " + state;
  }

  std::string failed_msg;
  if (config_.count_failed) {
    std::vector<std::string> failed;
    std::string error;
    if (!failed_units(bus.p, deadline, failed, error)) {
      detail += (detail.empty() ? "" : "; ") + std::string("failed units unknown: ") + error;
    } else {
      detail += (detail.empty() ? "" : "; ") + std::to_string(failed.size()) + " failed units";
      if (static_cast<int>(failed.size()) > config_.max_failed_units) {
        failed_msg =
            std::to_string(failed.size()) + " failed unit" + (failed.size() == 1 ? "" : "s") + ":";
        for (std::size_t i = 0; i < failed.size() && i < 10; ++i) failed_msg += " " + failed[i];
        if (failed.size() > 10) failed_msg += " ...";
      }
    }
  }
  if (!bad.empty()) {
    if (!failed_msg.empty()) detail += "; " + failed_msg;
    return Probe::fail(Severity::critical, bad, detail);
  }
  if (!failed_msg.empty()) return Probe::fail(Severity::warning, failed_msg, detail);
  return Probe::ok(detail);
}

MakeResult make_systemd_checker(const CheckSpec& spec, CheckerContext& /*ctx*/) {
  SpecReader r(spec);
  SystemdConfig c;
  c.units = r.strings("units", c.units);
  c.ok_states = r.strings("ok_states", c.ok_states);
  c.count_failed = r.boolean("count_failed", c.count_failed);
  c.max_failed_units = static_cast<int>(r.integer("max_failed_units", 0, 0, 100000));
  c.bus = r.str("bus", "");
  if (c.units.empty() && !c.count_failed)
    r.error("units", "nothing to check: list units or keep count_failed");
  if (auto err = r.finish(); !err.empty()) return MakeResult::fail(err);
  return MakeResult::ok(std::make_unique<SystemdChecker>(spec.name, std::move(c)));
}

}  // namespace vigil::checkers
