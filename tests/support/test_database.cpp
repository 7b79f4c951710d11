#include "tests/support/test_database.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <stdexcept>

#include <pqxx/pqxx>

namespace hie::testing {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') {
    throw std::runtime_error(std::string(name) +
                             " is not set: run the integration tests through scripts/test, which starts the "
                             "throwaway PostgreSQL");
  }
  return v;
}

}  // namespace

std::string testClusterUri(const std::string& name) {
  return "postgresql://postgres@/" + name + "?host=" + env("HIE_TEST_PG_HOST") + "&port=" + env("HIE_TEST_PG_PORT");
}

TestDatabase::TestDatabase() {
  static std::atomic<int> counter{0};
  name_ = "hie_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
  pqxx::connection admin(testClusterUri("postgres"));
  pqxx::nontransaction tx(admin);
  tx.exec("DROP DATABASE IF EXISTS " + name_);
  tx.exec("CREATE DATABASE " + name_);
  uri_ = testClusterUri(name_);
}

TestDatabase::~TestDatabase() {
  try {
    pqxx::connection admin(testClusterUri("postgres"));
    pqxx::nontransaction tx(admin);
    tx.exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  } catch (const std::exception&) {
    // The cluster is thrown away after the run anyway.
  }
}

void TestDatabase::exec(const std::string& sql) const {
  pqxx::connection c(uri_);
  pqxx::nontransaction tx(c);
  tx.exec(sql);
}

}  // namespace hie::testing
