#include "tests/support/test_database.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <sstream>
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

// The database roles of docs/operations.md: scripts/lib/database-roles.sql, the one
// copy, which the scripts feed to psql (pg_roles in scripts/lib/pg.sh). Read once.
const std::string& databaseRolesSql() {
  static const std::string sql = [] {
    std::ifstream in(HIE_DATABASE_ROLES_SQL);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in || text.str().empty()) {
      throw std::runtime_error(std::string("cannot read the database roles from ") + HIE_DATABASE_ROLES_SQL);
    }
    return text.str();
  }();
  return sql;
}

}  // namespace

std::string testClusterUri(const std::string& name, const std::string& user) {
  return "postgresql://" + user + "@/" + name + "?host=" + env("HIE_TEST_PG_HOST") + "&port=" + env("HIE_TEST_PG_PORT");
}

TestDatabase::TestDatabase() : TestDatabase(env("HIE_TEST_PG_HOST"), env("HIE_TEST_PG_PORT")) {}

TestDatabase::TestDatabase(std::string host, std::string port) : host_(std::move(host)), port_(std::move(port)) {
  create();
}

std::string TestDatabase::uriFor(const std::string& db, const std::string& user) const {
  return "postgresql://" + user + "@/" + db + "?host=" + host_ + "&port=" + port_;
}

void TestDatabase::create() {
  static std::atomic<int> counter{0};
  name_ = "hie_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
  pqxx::connection admin(uriFor("postgres", "postgres"));
  pqxx::nontransaction tx(admin);
  // Test processes may race to create the roles: the SQL allows for that.
  tx.exec(databaseRolesSql());
  tx.exec("DROP DATABASE IF EXISTS " + name_);
  tx.exec("CREATE DATABASE " + name_ + " OWNER hie_owner");
  uri_ = uriFor(name_, "hie_app");
  ownerUri_ = uriFor(name_, "hie_owner");
}

TestDatabase::~TestDatabase() {
  try {
    pqxx::connection admin(uriFor("postgres", "postgres"));
    pqxx::nontransaction tx(admin);
    tx.exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  } catch (const std::exception&) {
    // The cluster is thrown away after the run anyway.
  }
}

void TestDatabase::exec(const std::string& sql) const {
  pqxx::connection c(uriFor(name_, "postgres"));
  pqxx::nontransaction tx(c);
  tx.exec(sql);
}

}  // namespace hie::testing
