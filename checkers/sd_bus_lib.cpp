#include "checkers/sd_bus_lib.hpp"

#include <dlfcn.h>

#include <mutex>

namespace vigil::checkers {
namespace {

struct Loaded {
  SdBusLib lib{};
  std::string error;
};

template <typename F>
bool resolve(void* handle, const char* name, F& out, std::string& error) {
  out = reinterpret_cast<F>(::dlsym(handle, name));
  if (!out && error.empty()) error = std::string("libsystemd.so.0 has no ") + name;
  return out != nullptr;
}

Loaded load() {
  Loaded l;
  void* h = ::dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char* why = ::dlerror();
    l.error = std::string("cannot load libsystemd.so.0 (") + (why ? why : "unknown") + ")";
    return l;
  }
  SdBusLib& b = l.lib;
  std::string& e = l.error;
  resolve(h, "sd_bus_open_system", b.open_system, e);
  resolve(h, "sd_bus_new", b.new_bus, e);
  resolve(h, "sd_bus_set_address", b.set_address, e);
  resolve(h, "sd_bus_set_bus_client", b.set_bus_client, e);
  resolve(h, "sd_bus_start", b.start, e);
  resolve(h, "sd_bus_flush_close_unref", b.flush_close_unref, e);
  resolve(h, "sd_bus_set_method_call_timeout", b.set_method_call_timeout, e);
  resolve(h, "sd_bus_call_method", b.call_method, e);
  resolve(h, "sd_bus_get_property_string", b.get_property_string, e);
  resolve(h, "sd_bus_message_read", b.message_read, e);
  resolve(h, "sd_bus_message_enter_container", b.message_enter_container, e);
  resolve(h, "sd_bus_message_unref", b.message_unref, e);
  resolve(h, "sd_bus_error_free", b.error_free, e);
  resolve(h, "sd_bus_error_is_set", b.error_is_set, e);
  resolve(h, "sd_bus_error_has_name", b.error_has_name, e);
  return l;  // the handle stays open for the life of the process
}

}  // namespace

const SdBusLib* sd_bus_lib(std::string& error) {
  static std::once_flag once;
  static Loaded loaded;
  std::call_once(once, [] { loaded = load(); });
  error = loaded.error;
  return loaded.error.empty() ? &loaded.lib : nullptr;
}

}  // namespace vigil::checkers
