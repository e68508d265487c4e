// register_builtin_checkers: the plain list of builtin checker types. Add a line per type;
// each factory is declared in its checker's header.
#include "checkers/registry.hpp"

namespace vigil::checkers {

void register_builtin_checkers(CheckerRegistry& registry) {
  (void)registry;
  // One line per builtin checker type, e.g.:
  // registry.add("etcd", make_etcd_checker);
}

}  // namespace vigil::checkers
