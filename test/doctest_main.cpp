// The main of every doctest binary without its own: doctest's run, then test/skip.hpp's exit
// code (77 when a test was skipped and none failed).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "test/skip.hpp"

int main(int argc, char** argv) {
  doctest::Context ctx(argc, argv);
  return vigil::test::exit_code(ctx.run());
}
