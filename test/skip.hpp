#pragma once
// Skipped, never passed. A test that cannot run here (not root, a component missing) calls
// skip(reason) and returns: the reason is printed at once ("SKIPPED <test case>: <reason>"), and
// the binary's main ends with exit_code(), which turns "something was skipped, nothing failed"
// into exit 77. Every doctest binary is registered with SKIP_RETURN_CODE 77 (vigil_add_doctest
// in test/CMakeLists.txt), so ctest reports it Skipped. A failure anywhere in the binary wins
// over a skip. Not doctest::skip: doctest counts those but exits 0, which ctest calls Passed.

#include <string>

namespace vigil::test {

/// Records that (part of) the running test case could not run here and prints why. Returns
/// void, so a test case can `return skip("...");`. Outside a test case (a custom main that gives
/// up before running anything) the program's name stands in for the case's.
void skip(const std::string& reason);

/// The exit code for a doctest run that returned `doctest_rc`: `doctest_rc` when it is non-zero
/// (a failure wins), else 77 when skip() was called, else 0.
int exit_code(int doctest_rc);

}  // namespace vigil::test
