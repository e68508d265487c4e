// systemd checker against python-dbusmock's systemd template on a private dbus-daemon started
// by the test (its address in DBUS_SYSTEM_BUS_ADDRESS), both tracked and stopped by PID.
#include <doctest/doctest.h>

#include <systemd/sd-bus.h>

#include <cstdlib>

#include "checkers/systemd.hpp"
#include "test/checkers/subprocess.hpp"
#include "test/skip.hpp"

using namespace vigil::checkers;
using namespace vigil::test;
using namespace std::chrono_literals;

namespace {

const std::string kSkip =
    skip_reason(false, {"dbus-daemon", "/usr/bin/python3"},
                {"/usr/lib/python3/dist-packages/dbusmock/templates/systemd.py"});

constexpr const char* kDest = "org.freedesktop.systemd1";
constexpr const char* kMock = "org.freedesktop.DBus.Mock";
constexpr const char* kManagerPath = "/org/freedesktop/systemd1";

// ListUnitsFiltered is not in dbusmock's systemd template: the test adds it (real systemd has
// it), computed from the mock's unit objects.
constexpr const char* kListUnitsFiltered =
    "ret = []\n"
    "for p, o in objects.items():\n"
    "    u = o.props.get('org.freedesktop.systemd1.Unit', {})\n"
    "    if p.startswith('/org/freedesktop/systemd1/unit/') and u.get('ActiveState') in args[0]:\n"
    "        ret.append((u['Id'], '', 'loaded', u['ActiveState'], '', '', dbus.ObjectPath(p),\n"
    "                    dbus.UInt32(0), '', dbus.ObjectPath('/')))\n";

struct MockSystemd {
  TempDir dir{"vigil-dbus-"};
  Process bus, mock;
  std::string address = "unix:path=" + (dir / "bus");
  sd_bus* client = nullptr;

  void start() {
    std::string err;
    REQUIRE_MESSAGE(
        bus.start({"dbus-daemon", "--session", "--nofork", "--nopidfile", "--address=" + address},
                  dir / "dbus.log", {}, &err),
        err);
    // A bus object that failed to start cannot be restarted: a fresh one per attempt.
    auto connect = [&] {
      if (client) sd_bus_flush_close_unref(client);
      client = nullptr;
      if (sd_bus_new(&client) < 0) return false;
      sd_bus_set_address(client, address.c_str());
      sd_bus_set_bus_client(client, 1);
      return sd_bus_start(client) >= 0;
    };
    REQUIRE_MESSAGE(wait_until(connect, 20s),
                    "dbus-daemon did not come up: " << file_tail(dir / "dbus.log"));
    REQUIRE(mock.start({"/usr/bin/python3", "-m", "dbusmock", "--system", "-t", "systemd"},
                       dir / "dbusmock.log", {{"DBUS_SYSTEM_BUS_ADDRESS", address}}, &err));
    bool named = wait_until(
        [&] {
          sd_bus_error e = SD_BUS_ERROR_NULL;
          sd_bus_message* reply = nullptr;
          int has = 0;
          int r =
              sd_bus_call_method(client, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                 "org.freedesktop.DBus", "NameHasOwner", &e, &reply, "s", kDest);
          if (r >= 0) sd_bus_message_read(reply, "b", &has);
          sd_bus_message_unref(reply);
          sd_bus_error_free(&e);
          return has != 0;
        },
        30s);
    REQUIRE_MESSAGE(named, "dbusmock did not claim org.freedesktop.systemd1: "
                               << file_tail(dir / "dbusmock.log"));
    call(kManagerPath, "AddMethod", "sssss", "org.freedesktop.systemd1.Manager",
         "ListUnitsFiltered", "as", "a(ssssssouso)", kListUnitsFiltered);
  }

  template <typename... Args>
  void call(const char* path, const char* method, const char* sig, Args... args) {
    sd_bus_error e = SD_BUS_ERROR_NULL;
    int r = sd_bus_call_method(client, kDest, path, kMock, method, &e, nullptr, sig, args...);
    INFO("Mock." << method << ": " << (e.message ? e.message : ""));
    CHECK(r >= 0);
    sd_bus_error_free(&e);
  }
  std::string unit_path(const std::string& unit) {
    sd_bus_error e = SD_BUS_ERROR_NULL;
    sd_bus_message* reply = nullptr;
    std::string out;
    if (sd_bus_call_method(client, kDest, kManagerPath, "org.freedesktop.systemd1.Manager",
                           "GetUnit", &e, &reply, "s", unit.c_str()) >= 0) {
      const char* p = nullptr;
      if (sd_bus_message_read(reply, "o", &p) >= 0 && p) out = p;
    }
    sd_bus_message_unref(reply);
    sd_bus_error_free(&e);
    return out;
  }
  void add_unit(const std::string& unit, const char* active, const char* sub) {
    call(kManagerPath, "AddMockUnit", "s", unit.c_str());
    std::string path = unit_path(unit);
    REQUIRE(!path.empty());
    call(path.c_str(), "AddProperty", "ssv", "org.freedesktop.systemd1.Unit", "SubState", "s", sub);
    set_state(unit, active, sub);
  }
  void set_state(const std::string& unit, const char* active, const char* sub) {
    call(unit_path(unit).c_str(), "UpdateProperties", "sa{sv}", "org.freedesktop.systemd1.Unit", 2,
         "ActiveState", "s", active, "SubState", "s", sub);
  }
  ~MockSystemd() {
    if (client) sd_bus_flush_close_unref(client);
    mock.stop(10s);
    bus.stop(10s);
  }
};

Probe check(const std::string& json) {
  auto spec = parse_check_spec(std::string_view(json));
  REQUIRE_MESSAGE(spec.error.empty(), spec.error);
  CheckerContext cc;
  auto made = make_systemd_checker(spec.spec, cc);
  REQUIRE_MESSAGE(made.checker, made.error);
  CheckContext ctx;
  return made.checker->run(ctx, Deadline::in(5s));
}

}  // namespace

TEST_CASE("systemd: units active -> running; one failed -> failed naming it") {
  if (!kSkip.empty()) return skip(kSkip);
  MockSystemd sd;
  sd.start();
  sd.add_unit("kubelet.service", "active", "running");
  sd.add_unit("containerd.service", "active", "running");
  ::setenv("DBUS_SYSTEM_BUS_ADDRESS", sd.address.c_str(), 1);  // what sd_bus_open_system reads
  const std::string cfg =
      R"({"type": "systemd", "units": ["kubelet.service", "containerd.service"]})";

  Probe p = check(cfg);
  CHECK_MESSAGE(p.running(), p.error);
  CHECK_MESSAGE(p.detail.find("kubelet.service active/running") != std::string::npos, p.detail);
  CHECK_MESSAGE(p.detail.find("0 failed units") != std::string::npos, p.detail);

  sd.set_state("kubelet.service", "failed", "failed");
  p = check(cfg);
  CHECK(p.failed());
  CHECK(p.severity == Severity::critical);
  CHECK_MESSAGE(p.error == "kubelet.service is failed/failed", p.error);
  CHECK_MESSAGE(p.detail.find("1 failed unit: kubelet.service") != std::string::npos, p.detail);

  // Not listed, but failed: the failed-unit count is a warning naming it.
  p = check(R"({"type": "systemd", "units": ["containerd.service"]})");
  CHECK(p.failed());
  CHECK(p.severity == Severity::warning);
  CHECK_MESSAGE(p.error == "1 failed unit: kubelet.service", p.error);
  p = check(R"({"type": "systemd", "units": ["containerd.service"], "max_failed_units": 1})");
  CHECK_MESSAGE(p.running(), p.error);

  sd.set_state("kubelet.service", "active", "running");
  p = check(cfg);
  CHECK_MESSAGE(p.running(), p.error);

  // An unknown unit is reported with the manager's own error (GetUnit, then LoadUnit).
  p = check(R"({"type": "systemd", "units": ["nope.service"], "count_failed": false})");
  CHECK(p.failed());
  CHECK_MESSAGE(p.error.find("nope.service: GetUnit(nope.service): ") != std::string::npos,
                p.error);

  // Explicit bus address instead of the environment.
  ::unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
  p = check(R"({"type": "systemd", "units": ["kubelet.service"], "bus": ")" + sd.address + "\"}");
  CHECK_MESSAGE(p.running(), p.error);
}

TEST_CASE("systemd: no bus -> critical naming the address") {
  ::setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/vigil/bus", 1);
  Probe p = check(R"({"type": "systemd", "units": ["kubelet.service"]})");
  ::unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
  CHECK(p.failed());
  CHECK(p.severity == Severity::critical);
  CHECK_MESSAGE(p.error.find("unix:path=/nonexistent/vigil/bus") != std::string::npos, p.error);
}
