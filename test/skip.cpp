#include "test/skip.hpp"

#include <doctest/doctest.h>

#include <cerrno>  // program_invocation_short_name
#include <iostream>
#include <mutex>

namespace vigil::test {
namespace {

std::mutex g_mu;
std::string g_case;  // the running test case, "" between cases
int g_skips = 0;

// A doctest listener that only remembers which test case is running, for the SKIPPED line.
struct CurrentCase : doctest::IReporter {
  explicit CurrentCase(const doctest::ContextOptions&) {}
  static void set(const char* name) {
    std::lock_guard lock(g_mu);
    g_case = name;
  }
  void test_case_start(const doctest::TestCaseData& tc) override { set(tc.m_name); }
  void test_case_end(const doctest::CurrentTestCaseStats&) override { set(""); }
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats&) override {}
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
};
REGISTER_LISTENER("vigil_current_case", 1, CurrentCase);

}  // namespace

void skip(const std::string& reason) {
  std::lock_guard lock(g_mu);
  ++g_skips;
  std::cout << "SKIPPED " << (g_case.empty() ? program_invocation_short_name : g_case) << ": "
            << reason << std::endl;
}

int exit_code(int doctest_rc) {
  if (doctest_rc != 0) return doctest_rc;
  std::lock_guard lock(g_mu);
  if (g_skips == 0) return 0;
  std::cout << "[vigil] " << g_skips << " skip(s), no failure: exit 77 (ctest: Skipped)"
            << std::endl;
  return 77;
}

}  // namespace vigil::test
