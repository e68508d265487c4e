#pragma once
// libsystemd's sd-bus, loaded with dlopen the first time the systemd checker runs. An agent
// without a systemd checker then never maps libsystemd and the compression and crypto
// libraries it pulls in (~0.75 MiB resident); a host without libsystemd.so.0 gets a probe error
// that says so instead of an agent that cannot start.

#include <systemd/sd-bus.h>

#include <string>

namespace vigil::checkers {

/// The sd-bus functions the systemd checker calls, resolved from libsystemd.so.0.
struct SdBusLib {
  decltype(&::sd_bus_open_system) open_system;
  decltype(&::sd_bus_new) new_bus;
  decltype(&::sd_bus_set_address) set_address;
  decltype(&::sd_bus_set_bus_client) set_bus_client;
  decltype(&::sd_bus_start) start;
  decltype(&::sd_bus_flush_close_unref) flush_close_unref;
  decltype(&::sd_bus_set_method_call_timeout) set_method_call_timeout;
  decltype(&::sd_bus_call_method) call_method;
  decltype(&::sd_bus_get_property_string) get_property_string;
  decltype(&::sd_bus_message_read) message_read;
  decltype(&::sd_bus_message_enter_container) message_enter_container;
  decltype(&::sd_bus_message_unref) message_unref;
  decltype(&::sd_bus_error_free) error_free;
  decltype(&::sd_bus_error_is_set) error_is_set;
  decltype(&::sd_bus_error_has_name) error_has_name;
};

/// The loaded library (loaded once, thread-safe, never unloaded), or nullptr with `error` set.
const SdBusLib* sd_bus_lib(std::string& error);

}  // namespace vigil::checkers
